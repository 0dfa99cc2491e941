/**
 * The Qwen2 decoder on WebGPU (model-reference.md §6, §8, §10): weights loaded once through a
 * {@link TensorSource} (f32 or f16 storage, or the int8/int4 linears of a converted model), a KV
 * cache in GPU memory sized up front, chunked prefill, and decode steps that read back nothing
 * but the chosen token id.
 *
 * A layer is `h += o_proj(attn(rope(q), rope(k), v))`, `h += down(silu(gate) * up)` with pre
 * RMSNorms; per layer the kernels are: RMSNorm (with the previous residual add fused), three
 * linears, RoPE of q and of k straight into the cache, v into the cache, causal attention over
 * the cache, o_proj, RMSNorm, one linear over the concatenated `[gate; up]`, SwiGLU, down.
 * After the last layer only the last position goes through the final norm and the lm_head
 * (1.1 GFLOP instead of HF's 7.5 TFLOP over every prompt position), and the argmax with the
 * repetition penalty runs on the GPU.
 *
 * Matrices over the device's binding limit (the 152,064 x 3,584 embedding and lm_head) are split
 * by rows at load time; only the first `vocab` rows (`len(tokenizer)`, §11.1) are kept.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import { argmax } from "../kernels/argmax.ts";
import { causalAttention } from "../kernels/causal_attention.ts";
import {
  type DType,
  dtypeSize,
  type Gpu,
  type GpuTensor,
  KernelError,
  numel,
  toF16Bytes,
} from "../kernels/device.ts";
import { embedding, type TablePart } from "../kernels/embedding.ts";
import { linear } from "../kernels/linear.ts";
import {
  destroyWeight,
  INT4_GROUP,
  uploadQuant,
  type Weight,
  weightBytes,
} from "../kernels/linear_q.ts";
import { matvec } from "../kernels/matvec.ts";
import { rmsNorm } from "../kernels/rms_norm.ts";
import { rope, ropeInvFreq, storeRows } from "../kernels/rope.ts";
import { swiglu } from "../kernels/swiglu.ts";
import { GLOBAL_NAMES, layerNames, type Qwen2Config } from "./qwen2_config.ts";
import type { RawTensor, TensorSource } from "./weights/source.ts";

/** Options of {@link Qwen2.load}. */
export interface Qwen2Options {
  /**
   * Storage of float weights (linears, embedding, lm_head): "f16" needs `shader-f16`. Linears
   * the source stores quantised (`.qweight` + `.scales`) stay int8/int4 whatever this says.
   * Default "f32".
   */
  dtype?: "f32" | "f16";
  /** Storage of the KV cache (default f16 when weights are f16 or quantised and the device has it). */
  kvDtype?: "f32" | "f16";
  /** Embedding and lm_head rows to keep: the tokenizer's length (default all). */
  vocab?: number;
  /** Prompt tokens per prefill chunk, bounding the MLP intermediate (default 512). */
  chunk?: number;
  /** Largest weight buffer in bytes (default the device's binding limit; tests lower it). */
  maxPartBytes?: number;
}

/** Row parts of one linear layer `[N, K]`, each with its bias slice. */
interface Linear {
  parts: { w: Weight; b: GpuTensor; col: number }[];
  n: number;
  k: number;
}

interface Layer {
  inNorm: GpuTensor;
  postNorm: GpuTensor;
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  gateUp: Linear;
  down: Linear;
}

/** Activations of `m` rows, allocated once per prefill call or per cache (decode). */
interface Workspace {
  m: number;
  x: GpuTensor;
  a: GpuTensor;
  q: GpuTensor;
  qr: GpuTensor;
  k: GpuTensor;
  v: GpuTensor;
  o: GpuTensor;
  ao: GpuTensor;
  gu: GpuTensor;
  act: GpuTensor;
  dn: GpuTensor;
  pos: GpuTensor;
  ids: GpuTensor;
}

/**
 * A generation's state on the GPU: per-layer keys and values for up to `capacity` tokens, the
 * last logits, the chosen id, the bitset of generated ids (for the penalty) and the decode
 * step's activations. Create with {@link Qwen2.cache}; `destroy()` frees it.
 */
export class KvCache {
  /** Tokens in the cache. */
  length = 0;
  /** Ids chosen so far (host copy of what the GPU chose or was forced to take). */
  readonly generated: number[] = [];
  /** @internal */
  constructor(
    readonly capacity: number,
    readonly k: GpuTensor[],
    readonly v: GpuTensor[],
    readonly logits: GpuTensor,
    readonly id: GpuTensor,
    readonly seen: GpuTensor,
    readonly fin: GpuTensor,
    readonly step: Workspace,
  ) {}

  /** Bytes of GPU memory held (KV cache plus decode buffers). */
  get bytes(): number {
    const all = [...this.k, ...this.v, this.logits, this.id, this.seen, this.fin];
    return all.concat(Object.values(this.step).filter((t) => typeof t === "object"))
      .reduce((s, t) => s + t.buffer.size, 0);
  }

  /** Frees the GPU buffers. */
  destroy(): void {
    for (const t of [...this.k, ...this.v, this.logits, this.id, this.seen, this.fin]) {
      t.buffer.destroy();
    }
    destroyWorkspace(this.step);
  }
}

/**
 * The keys and values of a cache's first `length` tokens, as stored (f16 or f32 bytes), for
 * reusing a prompt prefix: {@link Qwen2.saveKv} takes one, {@link Qwen2.restoreKv} puts it
 * into a new cache.
 */
export interface KvSnapshot {
  /** Tokens held. */
  length: number;
  /** Element type of the stored rows. */
  dtype: DType;
  /** Per layer, `[length, kvHeads * headDim]` keys then values, raw bytes. */
  k: Uint8Array[];
  v: Uint8Array[];
}

/** What {@link Qwen2.prefill} and {@link Qwen2.decode} read back besides the chosen id. */
export interface ReadOptions {
  /** Read the raw logits: of the last position, or of every prompt position (prefill only). */
  logits?: "last" | "all";
  /** Read the final hidden states after `model.norm` (prefill only, every position). */
  hidden?: boolean;
}

/** Result of a prefill or decode step. */
export interface StepResult {
  /** The greedy choice from the last position's logits (after the penalty). */
  id: number;
  /** Raw logits, when asked: `[V]` or `[T, V]`. */
  logits?: Float32Array;
  /** Final hidden states `[T, hidden]`, when asked. */
  hidden?: Float32Array;
}

/** Options of the choice made at the end of a step. */
export interface ChooseOptions {
  /** HF repetition penalty over the ids generated in this cache (1 = none; default 1). */
  penalty?: number;
}

/** The decoder on the GPU. Create with {@link Qwen2.load}. */
export class Qwen2 {
  readonly #gpu: Gpu;
  readonly #layers: Layer[];
  readonly #embed: TablePart[];
  readonly #norm: GpuTensor;
  readonly #lmHead: Linear;
  readonly #invFreq: GpuTensor;
  readonly #kvDtype: DType;
  readonly #chunk: number;

  private constructor(
    gpu: Gpu,
    readonly config: Qwen2Config,
    readonly vocab: number,
    parts: {
      layers: Layer[];
      embed: TablePart[];
      norm: GpuTensor;
      lmHead: Linear;
      kvDtype: DType;
      chunk: number;
    },
  ) {
    this.#gpu = gpu;
    this.#layers = parts.layers;
    this.#embed = parts.embed;
    this.#norm = parts.norm;
    this.#lmHead = parts.lmHead;
    this.#kvDtype = parts.kvDtype;
    this.#chunk = parts.chunk;
    this.#invFreq = gpu.tensor(ropeInvFreq(config.headDim, config.ropeTheta), [
      config.headDim / 2,
    ]);
  }

  /**
   * Loads the decoder from `source` (HF names: `model.layers.{i}.self_attn.q_proj.weight`, ...;
   * see qwen2_config.ts). Shapes are checked against `config` once, here.
   *
   * @example
   * ```ts ignore
   * const src = mapSource(await readSafetensors("model.safetensors"));
   * const model = await Qwen2.load(gpu, src, qwen2Config(config), { dtype: "f16", vocab: 151647 });
   * ```
   */
  static async load(
    gpu: Gpu,
    source: TensorSource,
    config: Qwen2Config,
    options: Qwen2Options = {},
  ): Promise<Qwen2> {
    const dtype = options.dtype ?? "f32";
    if (dtype === "f16" && !gpu.f16) {
      throw new KernelError("qwen2", `f16 weights need shader-f16, which ${gpu.adapter} lacks`);
    }
    const vocab = options.vocab ?? config.vocab;
    if (!(vocab > 0 && vocab <= config.vocab)) {
      throw new DataError("config", "vocab", `1..${config.vocab} rows`, String(vocab));
    }
    const maxPart = options.maxPartBytes ?? gpu.limits.maxStorageBufferBindingSize;
    const loader = new Loader(gpu, source, dtype, maxPart);
    const c = config, hd = c.headDim;
    const layers: Layer[] = [];
    for (let i = 0; i < c.layers; i++) {
      const n = layerNames(i);
      layers.push({
        inNorm: await loader.vector(n.inNorm, c.hidden),
        postNorm: await loader.vector(n.postNorm, c.hidden),
        q: await loader.linear([n.q], c.heads * hd, c.hidden),
        k: await loader.linear([n.k], c.kvHeads * hd, c.hidden),
        v: await loader.linear([n.v], c.kvHeads * hd, c.hidden),
        o: await loader.linear([n.o], c.hidden, c.heads * hd),
        gateUp: await loader.linear([n.gate, n.up], 2 * c.intermediate, c.hidden),
        down: await loader.linear([n.down], c.hidden, c.intermediate),
      });
    }
    const embed = await loader.table(GLOBAL_NAMES.embed, vocab, c.hidden);
    const norm = await loader.vector(GLOBAL_NAMES.norm, c.hidden);
    const lmHead = await loader.linear([GLOBAL_NAMES.lmHead], vocab, c.hidden, config.vocab);
    const kvDtype = options.kvDtype ??
      (gpu.f16 && (dtype === "f16" || loader.quantised) ? "f16" : "f32");
    if (kvDtype === "f16" && !gpu.f16) {
      throw new KernelError(
        "qwen2",
        `an f16 KV cache needs shader-f16, which ${gpu.adapter} lacks`,
      );
    }
    return new Qwen2(gpu, config, vocab, {
      layers,
      embed,
      norm,
      lmHead,
      kvDtype,
      chunk: options.chunk ?? 512,
    });
  }

  /** Bytes of weights a decode step streams: every linear, the lm_head, one embedding row. */
  get decodeWeightBytes(): number {
    const lin = (l: Linear) => l.parts.reduce((s, p) => s + weightBytes(p.w), 0);
    const layers = this.#layers.reduce(
      (s, l) => s + lin(l.q) + lin(l.k) + lin(l.v) + lin(l.o) + lin(l.gateUp) + lin(l.down),
      0,
    );
    return layers + lin(this.#lmHead) +
      this.config.hidden * dtypeSize(this.#embed[0].table.dtype);
  }

  /** Bytes of GPU memory the weights take. */
  get weightMemory(): number {
    const lin = (l: Linear) => l.parts.reduce((s, p) => s + weightBytes(p.w) + p.b.buffer.size, 0);
    return this.#layers.reduce(
      (s, l) =>
        s + lin(l.q) + lin(l.k) + lin(l.v) + lin(l.o) + lin(l.gateUp) + lin(l.down) +
        l.inNorm.buffer.size + l.postNorm.buffer.size,
      0,
    ) + lin(this.#lmHead) + this.#embed.reduce((s, p) => s + p.table.buffer.size, 0);
  }

  /** Element type of the KV cache. */
  get kvDtype(): DType {
    return this.#kvDtype;
  }

  /** A cache for up to `capacity` tokens (prompt plus new tokens). */
  cache(capacity: number): KvCache {
    const g = this.#gpu, c = this.config, kw = c.kvHeads * c.headDim;
    const k = this.#layers.map(() => g.empty([capacity, kw], this.#kvDtype));
    const v = this.#layers.map(() => g.empty([capacity, kw], this.#kvDtype));
    const seen = g.tensor(new Uint32Array(Math.ceil(this.vocab / 32)), [
      Math.ceil(this.vocab / 32),
    ]);
    return new KvCache(
      capacity,
      k,
      v,
      g.empty([this.vocab]),
      g.tensor(new Uint32Array(1), [1]),
      seen,
      g.empty([1, c.hidden]),
      this.#workspace(1),
    );
  }

  /**
   * Rows of the embedding table for `ids` (to splice text and visual embeddings, §1.6).
   *
   * @example
   * ```ts ignore
   * const text = await model.embed(Uint32Array.from([151644, 8948]));
   * ```
   */
  async embed(ids: Uint32Array): Promise<Float32Array> {
    this.#checkIds(ids);
    const b = this.#gpu.batch();
    const y = await embedding(b, this.#embed, b.upload(ids, [ids.length]));
    return (await b.read([y]))[0];
  }

  /**
   * Runs a prompt (`embeds` `[T, hidden]`, or token `ids`) into `cache` after what it holds,
   * in chunks, then chooses the first new token from the last position's logits. `positions`
   * (default: continuing the cache) are the RoPE positions of the prompt tokens. With
   * `choose: false` nothing is chosen (the result's `id` is -1): the prompt only extends the
   * cache, as a prefix that later prompts continue.
   */
  async prefill(
    cache: KvCache,
    input: { embeds: Float32Array } | { ids: Uint32Array },
    options: ReadOptions & ChooseOptions & { positions?: Uint32Array; choose?: boolean } = {},
  ): Promise<StepResult> {
    const c = this.config, d = c.hidden;
    const t = "embeds" in input ? input.embeds.length / d : input.ids.length;
    if (!Number.isInteger(t) || t < 1) {
      throw new KernelError("qwen2", `prompt: expected [T, ${d}] embeddings, got ${t} rows`);
    }
    if ("ids" in input) this.#checkIds(input.ids);
    if (cache.length + t > cache.capacity) {
      throw new KernelError(
        "qwen2",
        `cache of ${cache.capacity} tokens cannot take ${t} more after ${cache.length}`,
      );
    }
    const pos = options.positions ??
      Uint32Array.from({ length: t }, (_, i) => cache.length + i);
    if (pos.length !== t) {
      throw new KernelError("qwen2", `positions: expected ${t}, got ${pos.length}`);
    }
    const chunk = Math.min(this.#chunk, t);
    const ws = this.#workspace(chunk);
    const hidden = options.hidden ? new Float32Array(t * d) : undefined;
    const allLogits = options.logits === "all" ? new Float32Array(t * this.vocab) : undefined;
    try {
      for (let s = 0; s < t; s += chunk) {
        const m = Math.min(chunk, t - s);
        const w = m === chunk ? ws : this.#view(ws, m);
        const g = this.#gpu;
        if ("embeds" in input) g.write(w.x, input.embeds.subarray(s * d, (s + m) * d));
        else g.write(w.ids, input.ids.subarray(s, s + m));
        g.write(w.pos, pos.subarray(s, s + m));
        let b = g.batch();
        if ("ids" in input) await embedding(b, this.#embed, w.ids, { count: m, out: w.x });
        // One submit per layer, each batch's temporaries freed when it is done. A GPU runs
        // them back to back while the next layer is recorded; a CPU adapter (whose linear
        // kernels repack X into large temporaries) finishes each before the next.
        let failure: unknown;
        const inFlight: Promise<void>[] = [];
        for (let i = 0; i < this.#layers.length; i++) {
          await this.#layer(b, i, w, cache, i > 0);
          inFlight.push(b.submit().catch((e) => void (failure ??= e)));
          if (g.cpu) await inFlight.pop();
          b = g.batch();
        }
        await Promise.all(inFlight);
        if (failure) throw failure;
        cache.length += m;
        const last = s + m === t;
        const reads: GpuTensor[] = [];
        if (hidden || allLogits) {
          const hAll = b.alloc([m, d]);
          await rmsNorm(b, w.x, this.#norm, c.rmsEps, { residual: w.dn, out: hAll });
          if (hidden) reads.push(hAll);
          if (allLogits) {
            reads.push(await this.#linear(b, hAll, this.#lmHead, b.alloc([m, this.vocab])));
          }
          if (last) b.copy(hAll.buffer, (m - 1) * d * 4, cache.fin.buffer, 0, d * 4);
        }
        if (last && options.choose === false) {
          // A prompt prefix to reuse: its keys and values are all that is wanted; nothing is
          // chosen, so the penalty's record of generated ids stays empty.
          const got = reads.length ? await b.read(reads) : (await b.submit(), []);
          if (hidden) hidden.set(got[0], s * d);
          if (allLogits) allLogits.set(got[got.length - 1], s * this.vocab);
          return {
            id: -1,
            ...(allLogits ? { logits: allLogits } : {}),
            ...(hidden ? { hidden } : {}),
          };
        }
        if (!last) {
          if (!reads.length) continue;
          const got = await b.read(reads);
          if (hidden) hidden.set(got[0], s * d);
          if (allLogits) allLogits.set(got[got.length - 1], s * this.vocab);
          continue;
        }
        if (!(hidden || allLogits)) {
          await rmsNorm(b, w.x, this.#norm, c.rmsEps, {
            residual: w.dn,
            rows: { start: m - 1, count: 1 },
            out: cache.fin,
          });
        }
        const out = await this.#finish(b, cache, options, reads);
        if (hidden) hidden.set(out.rest[0], s * d);
        if (allLogits) allLogits.set(out.rest[reads.length - 1], s * this.vocab);
        return {
          id: out.id,
          ...(options.logits === "last" ? { logits: out.logits } : {}),
          ...(allLogits ? { logits: allLogits } : {}),
          ...(hidden ? { hidden } : {}),
        };
      }
      throw new Error("unreachable");
    } finally {
      if (ws !== cache.step) destroyWorkspace(ws);
    }
  }

  /**
   * The keys and values of the first `length` tokens of `cache` (default all it holds), read
   * back as stored.
   */
  async saveKv(cache: KvCache, length = cache.length): Promise<KvSnapshot> {
    if (!(Number.isInteger(length) && length >= 0 && length <= cache.length)) {
      throw new KernelError("qwen2", `saveKv: ${length} tokens of a cache holding ${cache.length}`);
    }
    const row = this.config.kvHeads * this.config.headDim * dtypeSize(this.#kvDtype);
    const parts = [...cache.k, ...cache.v].map((t) => ({
      buffer: t.buffer,
      offset: 0,
      size: align4(length * row),
    }));
    const got = await this.#gpu.readBytes(parts);
    const n = cache.k.length;
    const cut = (b: Uint8Array) => b.subarray(0, length * row);
    return {
      length,
      dtype: this.#kvDtype,
      k: got.slice(0, n).map(cut),
      v: got.slice(n).map(cut),
    };
  }

  /**
   * A new cache of `capacity` tokens holding `snapshot`'s keys and values: a prompt prefill
   * then continues after them as after a prefill of the same prefix.
   */
  restoreKv(snapshot: KvSnapshot, capacity: number): KvCache {
    const c = this.config, row = c.kvHeads * c.headDim * dtypeSize(this.#kvDtype);
    const ok = snapshot.dtype === this.#kvDtype && snapshot.k.length === c.layers &&
      snapshot.v.length === c.layers &&
      [...snapshot.k, ...snapshot.v].every((b) => b.byteLength === snapshot.length * row);
    if (!ok) {
      throw new KernelError(
        "qwen2",
        `restoreKv: the snapshot does not match this model (${c.layers} layers of ${row}-byte ${this.#kvDtype} rows)`,
      );
    }
    if (snapshot.length > capacity) {
      throw new KernelError("qwen2", `restoreKv: ${snapshot.length} tokens exceed ${capacity}`);
    }
    const cache = this.cache(capacity);
    const put = (t: GpuTensor, bytes: Uint8Array) => {
      if (!bytes.byteLength) return;
      const padded = bytes.byteLength % 4 ? new Uint8Array(align4(bytes.byteLength)) : bytes;
      if (padded !== bytes) padded.set(bytes);
      this.#gpu.writeBytes(t.buffer, 0, padded);
    };
    snapshot.k.forEach((b, i) => put(cache.k[i], b));
    snapshot.v.forEach((b, i) => put(cache.v[i], b));
    cache.length = snapshot.length;
    return cache;
  }

  /**
   * One decode step: feeds the last chosen token (or `forced`, for forced decoding) at the
   * next position and chooses the next token. One submit; the only readback is the id (and
   * the logits when asked).
   */
  async decode(
    cache: KvCache,
    options: ChooseOptions & { forced?: number; logits?: "last" } = {},
  ): Promise<StepResult> {
    if (!cache.generated.length) throw new KernelError("qwen2", "decode before prefill");
    if (cache.length + 1 > cache.capacity) {
      throw new KernelError("qwen2", `cache of ${cache.capacity} tokens is full`);
    }
    const g = this.#gpu, w = cache.step;
    if (options.forced !== undefined) {
      this.#checkIds([options.forced]);
      cache.generated[cache.generated.length - 1] = options.forced;
      g.write(cache.id, Uint32Array.of(options.forced));
      const bits = new Uint32Array(Math.ceil(this.vocab / 32));
      for (const id of cache.generated) bits[id >> 5] |= 1 << (id & 31);
      g.write(cache.seen, bits);
    }
    g.write(w.pos, Uint32Array.of(cache.length));
    const b = g.batch();
    await embedding(b, this.#embed, cache.id, { out: w.x });
    for (let i = 0; i < this.#layers.length; i++) await this.#layer(b, i, w, cache, i > 0);
    cache.length += 1;
    await rmsNorm(b, w.x, this.#norm, this.config.rmsEps, { residual: w.dn, out: cache.fin });
    const out = await this.#finish(b, cache, { ...options, logits: options.logits }, []);
    return { id: out.id, ...(options.logits ? { logits: out.logits } : {}) };
  }

  /** Frees the weights. */
  destroy(): void {
    const lin = (l: Linear) => l.parts.forEach((p) => (destroyWeight(p.w), p.b.buffer.destroy()));
    for (const l of this.#layers) {
      for (const x of [l.q, l.k, l.v, l.o, l.gateUp, l.down]) lin(x);
      l.inNorm.buffer.destroy();
      l.postNorm.buffer.destroy();
    }
    lin(this.#lmHead);
    for (const p of this.#embed) p.table.buffer.destroy();
    this.#norm.buffer.destroy();
    this.#invFreq.buffer.destroy();
  }

  // lm_head of the final-normed last row into cache.logits, argmax with the penalty, one read.
  async #finish(
    b: ReturnType<Gpu["batch"]>,
    cache: KvCache,
    options: ChooseOptions & { logits?: "last" | "all" },
    reads: GpuTensor[],
  ): Promise<{ id: number; logits?: Float32Array; rest: Float32Array[] }> {
    await this.#linear(b, cache.fin, this.#lmHead, cache.logits);
    await argmax(b, cache.logits, {
      n: this.vocab,
      penalty: options.penalty ?? 1,
      seen: cache.seen,
      out: cache.id,
    });
    const wantLogits = options.logits === "last";
    const got = await b.read([cache.id, ...(wantLogits ? [cache.logits] : []), ...reads]);
    const id = got[0][0];
    cache.generated.push(id);
    return { id, logits: wantLogits ? got[1] : undefined, rest: got.slice(wantLogits ? 2 : 1) };
  }

  async #layer(
    b: ReturnType<Gpu["batch"]>,
    i: number,
    w: Workspace,
    cache: KvCache,
    pending: boolean,
  ): Promise<void> {
    const c = this.config, L = this.#layers[i], past = cache.length;
    await rmsNorm(b, w.x, L.inNorm, c.rmsEps, { residual: pending ? w.dn : undefined, out: w.a });
    await this.#linear(b, w.a, L.q, w.q);
    await this.#linear(b, w.a, L.k, w.k);
    await this.#linear(b, w.a, L.v, w.v);
    await rope(b, w.q, w.pos, {
      heads: c.heads,
      invFreq: this.#invFreq,
      into: { y: w.qr, row: 0 },
    });
    await rope(b, w.k, w.pos, {
      heads: c.kvHeads,
      invFreq: this.#invFreq,
      into: { y: cache.k[i], row: past },
    });
    await storeRows(b, w.v, { y: cache.v[i], row: past });
    await causalAttention(b, w.qr, cache.k[i], cache.v[i], {
      heads: c.heads,
      kvHeads: c.kvHeads,
      past,
      out: w.o,
    });
    await this.#linear(b, w.o, L.o, w.ao);
    await rmsNorm(b, w.x, L.postNorm, c.rmsEps, { residual: w.ao, out: w.a });
    await this.#linear(b, w.a, L.gateUp, w.gu);
    await swiglu(b, w.gu, { out: w.act });
    await this.#linear(b, w.act, L.down, w.dn);
  }

  async #linear(
    b: ReturnType<Gpu["batch"]>,
    x: GpuTensor,
    l: Linear,
    y: GpuTensor,
  ): Promise<GpuTensor> {
    const m = numel(x) / l.k;
    for (const p of l.parts) {
      const into = { y, col: p.col };
      if (m === 1 && l.k % 8 === 0) await matvec(b, x, p.w, p.b, { into });
      else await linear(b, x, p.w, p.b, { into });
    }
    return y;
  }

  #workspace(m: number): Workspace {
    const g = this.#gpu, c = this.config, hd = c.headDim;
    const f = (w: number) => g.empty([m, w]);
    return {
      m,
      x: f(c.hidden),
      a: f(c.hidden),
      q: f(c.heads * hd),
      qr: f(c.heads * hd),
      k: f(c.kvHeads * hd),
      v: f(c.kvHeads * hd),
      o: f(c.heads * hd),
      ao: f(c.hidden),
      gu: f(2 * c.intermediate),
      act: f(c.intermediate),
      dn: f(c.hidden),
      pos: g.empty([m], "u32"),
      ids: g.empty([m], "u32"),
    };
  }

  // The first m rows of a workspace (the last, shorter chunk of a prefill).
  #view(ws: Workspace, m: number): Workspace {
    const out = { m } as Workspace;
    for (const [key, t] of Object.entries(ws)) {
      if (key === "m") continue;
      const tensor = t as GpuTensor;
      const shape = tensor.shape.length === 1 ? [m] : [m, tensor.shape[1]];
      (out as unknown as Record<string, GpuTensor>)[key] = { ...tensor, shape };
    }
    return out;
  }

  #checkIds(ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; i++) {
      if (!(ids[i] >= 0 && ids[i] < this.vocab)) {
        throw new DataError("prompt", `token ${i}`, `an id below ${this.vocab}`, String(ids[i]));
      }
    }
  }
}

function destroyWorkspace(ws: Workspace): void {
  for (const t of Object.values(ws)) if (typeof t === "object") t.buffer.destroy();
}

/** Reads and uploads weights, splitting matrices over the binding limit by rows. */
class Loader {
  quantised = false;
  constructor(
    readonly gpu: Gpu,
    readonly source: TensorSource,
    readonly dtype: "f32" | "f16",
    readonly maxPart: number,
  ) {}

  async vector(name: string, n: number): Promise<GpuTensor> {
    const t = await this.source.read(name);
    if (t.data.length !== n) throw new DataError("weights", name, `[${n}]`, `[${t.shape}]`);
    return this.gpu.tensor(t.data, [n]);
  }

  /** The embedding table's first `rows` rows, in parts of at most maxPart bytes. */
  async table(name: string, rows: number, d: number): Promise<TablePart[]> {
    const info = this.source.info(name);
    if (!info || info.shape.length !== 2 || info.shape[1] !== d || info.shape[0] < rows) {
      throw new DataError("weights", name, `[>= ${rows}, ${d}]`, info ? `[${info.shape}]` : "none");
    }
    const per = this.#rowsPerPart(d * (this.dtype === "f16" ? 2 : 4));
    const parts: TablePart[] = [];
    for (let r = 0; r < rows; r += per) {
      const count = Math.min(per, rows - r);
      const t = await this.source.read(name, { start: r, count });
      parts.push({ table: this.gpu.tensor(t.data, [count, d], this.dtype), row0: r });
    }
    return parts;
  }

  /**
   * The linear over the row-concatenation of `prefixes` (gate and up), `[n, k]` in all, keeping
   * the first `n` rows of a source with `stored` rows (the lm_head's vocabulary cut).
   */
  async linear(prefixes: string[], n: number, k: number, stored = n): Promise<Linear> {
    const each = n / prefixes.length, storedEach = stored / prefixes.length;
    const first = prefixes[0];
    const quant = this.source.info(`${first}.qweight`);
    let format: "f32" | "f16" | "int8" | "int4" = this.dtype;
    if (quant) {
      format = this.source.info(`${first}.scales`)?.shape.length === 1 ? "int8" : "int4";
      this.quantised = true;
    }
    const bytesPerRow = format === "int8"
      ? k + 2
      : format === "int4"
      ? k / 2 + 2 * Math.ceil(k / INT4_GROUP)
      : k * (format === "f16" ? 2 : 4);
    const per = this.#rowsPerPart(bytesPerRow);
    const parts: Linear["parts"] = [];
    // Bias of the whole (concatenated) layer: zeros where the source has none.
    const bias = new Float32Array(n);
    for (const [j, p] of prefixes.entries()) {
      const info = this.source.info(`${p}.bias`);
      if (!info) continue;
      const b = await this.source.read(`${p}.bias`, { start: 0, count: each });
      bias.set(b.data, j * each);
    }
    for (let r = 0; r < n; r += per) {
      const count = Math.min(per, n - r);
      // The rows r .. r+count of the concatenation, gathered from each prefix they touch.
      const pieces: { p: string; start: number; count: number }[] = [];
      for (let j = 0; j < prefixes.length; j++) {
        const lo = Math.max(r, j * each), hi = Math.min(r + count, (j + 1) * each);
        if (lo < hi) pieces.push({ p: prefixes[j], start: lo - j * each, count: hi - lo });
      }
      let w: Weight;
      if (format === "int8" || format === "int4") {
        const codes: Uint8Array[] = [], scales: Uint16Array[] = [];
        for (const pc of pieces) {
          const q = await this.#read(
            `${pc.p}.qweight`,
            pc,
            storedEach,
            format === "int8" ? k : k / 2,
          );
          const s = await this.#read(
            `${pc.p}.scales`,
            pc,
            storedEach,
            format === "int8" ? 1 : Math.ceil(k / INT4_GROUP),
          );
          codes.push(rawCodes(q, `${pc.p}.qweight`, format === "int8" ? "I8" : "U8"));
          scales.push(rawF16(s, `${pc.p}.scales`));
        }
        w = uploadQuant(this.gpu, format, [count, k], cat(codes), cat16(scales));
      } else {
        const data = new Float32Array(count * k);
        let at = 0;
        for (const pc of pieces) {
          const info = this.source.info(`${pc.p}.weight`);
          if (
            !info || info.shape.length !== 2 || info.shape[0] !== storedEach || info.shape[1] !== k
          ) {
            throw new DataError(
              "weights",
              `${pc.p}.weight`,
              `[${storedEach}, ${k}]`,
              info ? `[${info.shape}]` : "none",
            );
          }
          const t = await this.source.read(`${pc.p}.weight`, { start: pc.start, count: pc.count });
          data.set(t.data, at);
          at += t.data.length;
        }
        w = this.gpu.tensor(data, [count, k], format);
      }
      parts.push({ w, b: this.gpu.tensor(bias.slice(r, r + count), [count]), col: r });
    }
    return { parts, n, k };
  }

  async #read(
    name: string,
    rows: { start: number; count: number },
    storedRows: number,
    width: number,
  ): Promise<RawTensor> {
    const info = this.source.info(name);
    const w = info ? info.shape.slice(1).reduce((a, b) => a * b, 1) : -1;
    if (!info || info.shape[0] !== storedRows || w !== width) {
      throw new DataError(
        "weights",
        name,
        `[${storedRows}, ${width}]`,
        info ? `[${info.shape}]` : "none",
      );
    }
    return await this.source.readRaw(name, { start: rows.start, count: rows.count });
  }

  #rowsPerPart(bytesPerRow: number): number {
    const rows = Math.floor(this.maxPart / bytesPerRow);
    // Multiples of 64 rows keep every part's first output column vec4-aligned.
    const aligned = rows >= 64 ? rows - (rows % 64) : rows;
    if (aligned < 1) {
      throw new KernelError("qwen2", `a ${bytesPerRow}-byte row exceeds the binding limit`);
    }
    return aligned;
  }
}

/** Codes as bytes, from their stored dtype or from F32 values (an in-memory source). */
function rawCodes(t: RawTensor, name: string, want: "I8" | "U8"): Uint8Array {
  if (t.dtype === want) return t.bytes;
  if (t.dtype === "F32") {
    const v = new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 4);
    return Uint8Array.from(v, (x) => x & 0xff);
  }
  throw new DataError("weights", name, want, t.dtype);
}

/** Scales as f16 bits, from F16, BF16 or F32 storage. */
function rawF16(t: RawTensor, name: string): Uint16Array {
  const b = t.bytes;
  if (t.dtype === "F16") return new Uint16Array(b.slice().buffer);
  if (t.dtype === "F32") {
    return new Uint16Array(toF16Bytes(new Float32Array(b.slice().buffer)).buffer);
  }
  if (t.dtype === "BF16") {
    const h = new Uint16Array(b.slice().buffer);
    const f = new Float32Array(new Uint32Array(Array.from(h, (x) => x << 16)).buffer);
    return new Uint16Array(toF16Bytes(f).buffer);
  }
  throw new DataError("weights", name, "F16 scales", t.dtype);
}

function cat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

function cat16(parts: Uint16Array[]): Uint16Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint16Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
