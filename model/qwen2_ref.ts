/**
 * The CPU reference of the Qwen2 decoder in plain TypeScript (float64 arithmetic on the stored
 * weights), composed from the kernels' float64 references: the oracle the WebGPU engine is
 * tested against, and the "CPU match" of forced decoding. Slow by design.
 *
 * @module
 */

import { argmaxRef } from "../kernels/argmax.ts";
import { causalAttentionRef } from "../kernels/causal_attention.ts";
import { linearRef } from "../kernels/linear.ts";
import { dequantizeRef } from "../kernels/linear_q.ts";
import { rmsNormRef } from "../kernels/rms_norm.ts";
import { ropeInvFreq, ropeRef } from "../kernels/rope.ts";
import { swigluRef } from "../kernels/swiglu.ts";
import { DataError } from "../io/errors.ts";
import { GLOBAL_NAMES, layerNames, type Qwen2Config } from "./qwen2_config.ts";
import type { TensorSource } from "./weights/source.ts";

interface RefLinear {
  w: Float32Array | Float64Array;
  b: ArrayLike<number>;
  n: number;
  k: number;
}

interface RefLayer {
  q: RefLinear;
  k: RefLinear;
  v: RefLinear;
  o: RefLinear;
  gate: RefLinear;
  up: RefLinear;
  down: RefLinear;
  inNorm: Float32Array;
  postNorm: Float32Array;
}

/** Keys and values of the tokens seen so far, per layer (grows as tokens are added). */
export interface RefCache {
  k: Float64Array[];
  v: Float64Array[];
  /** Tokens in the cache. */
  length: number;
}

/**
 * Reads the linear `<prefix>` from `source` as float32 values `[n, k]`: `.weight`, or
 * `.qweight` + `.scales` dequantised (int8 when the codes are `[n, k]`, int4 when `[n, k/2]`);
 * its `.bias` or zeros.
 */
export async function readLinear(source: TensorSource, prefix: string): Promise<RefLinear> {
  let w: Float32Array | Float64Array, n: number, k: number;
  if (source.info(`${prefix}.weight`)) {
    const t = await source.read(`${prefix}.weight`);
    [n, k] = t.shape;
    w = t.data;
  } else {
    const codes = await source.read(`${prefix}.qweight`);
    const scales = await source.read(`${prefix}.scales`);
    n = codes.shape[0];
    const int8 = scales.shape.length === 1;
    k = int8 ? codes.shape[1] : codes.shape[1] * 2;
    const bytes = int8 ? Uint8Array.from(codes.data, (x) => x & 0xff) : codes.data;
    w = dequantizeRef(int8 ? "int8" : "int4", bytes, scales.data, n, k);
  }
  const b = source.info(`${prefix}.bias`)
    ? (await source.read(`${prefix}.bias`)).data
    : new Float32Array(n);
  if (b.length !== n) {
    throw new DataError("weights", `${prefix}.bias`, `${n} values`, `${b.length}`);
  }
  return { w, b, n, k };
}

/** The Qwen2 decoder on the CPU. Create with {@link Qwen2Ref.load}. */
export class Qwen2Ref {
  private constructor(
    readonly config: Qwen2Config,
    readonly vocab: number,
    private readonly layers: RefLayer[],
    private readonly embed: Float32Array,
    private readonly norm: Float32Array,
    private readonly lmHead: RefLinear,
  ) {}

  /**
   * Reads the decoder from `source`; `vocab` keeps the first rows of the embedding and lm_head
   * (the tokenizer's length, model-reference.md §11.1; default all).
   */
  static async load(
    source: TensorSource,
    config: Qwen2Config,
    vocab = config.vocab,
  ): Promise<Qwen2Ref> {
    const layers: RefLayer[] = [];
    for (let i = 0; i < config.layers; i++) {
      const n = layerNames(i);
      layers.push({
        q: await readLinear(source, n.q),
        k: await readLinear(source, n.k),
        v: await readLinear(source, n.v),
        o: await readLinear(source, n.o),
        gate: await readLinear(source, n.gate),
        up: await readLinear(source, n.up),
        down: await readLinear(source, n.down),
        inNorm: (await source.read(n.inNorm)).data,
        postNorm: (await source.read(n.postNorm)).data,
      });
    }
    const rows = { start: 0, count: vocab };
    const embed = (await source.read(GLOBAL_NAMES.embed, rows)).data;
    const head = await readLinear(source, GLOBAL_NAMES.lmHead);
    const lmHead = { ...head, w: head.w.subarray(0, vocab * head.k), n: vocab };
    return new Qwen2Ref(
      config,
      vocab,
      layers,
      embed,
      (await source.read(GLOBAL_NAMES.norm)).data,
      lmHead,
    );
  }

  /** An empty cache. */
  cache(): RefCache {
    return {
      k: this.layers.map(() => new Float64Array(0)),
      v: this.layers.map(() => new Float64Array(0)),
      length: 0,
    };
  }

  /** The embedding row of token `id`. */
  embedding(id: number): Float32Array {
    const d = this.config.hidden;
    return this.embed.slice(id * d, (id + 1) * d);
  }

  /**
   * Runs `x` (`[T, hidden]`) at `positions` (default: continuing the cache), appending to the
   * cache; returns the final hidden states after `model.norm`, `[T, hidden]`.
   */
  forward(cache: RefCache, x: ArrayLike<number>, positions?: ArrayLike<number>): Float64Array {
    const c = this.config, d = c.hidden, t = x.length / d;
    const pos = positions ?? Array.from({ length: t }, (_, i) => cache.length + i);
    const invFreq = ropeInvFreq(c.headDim, c.ropeTheta);
    let h: Float64Array = Float64Array.from(x);
    const lin = (a: ArrayLike<number>, l: RefLinear) => linearRef(a, l.w, l.b, l.k);
    this.layers.forEach((L, i) => {
      const a = rmsNormRef(h, d, L.inNorm, c.rmsEps);
      const q = ropeRef(lin(a, L.q), pos, { heads: c.heads, invFreq });
      const k = ropeRef(lin(a, L.k), pos, { heads: c.kvHeads, invFreq });
      cache.k[i] = concat(cache.k[i], k);
      cache.v[i] = concat(cache.v[i], lin(a, L.v));
      const o = causalAttentionRef(q, cache.k[i], cache.v[i], {
        heads: c.heads,
        kvHeads: c.kvHeads,
        past: cache.length,
        d: c.headDim,
      });
      h = add(h, lin(o, L.o));
      const a2 = rmsNormRef(h, d, L.postNorm, c.rmsEps);
      h = add(h, lin(swigluRef(lin(a2, L.gate), lin(a2, L.up)), L.down));
    });
    cache.length += t;
    return rmsNormRef(h, d, this.norm, c.rmsEps);
  }

  /** Logits `[vocab]` of one final hidden row. */
  logits(hidden: ArrayLike<number>): Float64Array {
    return linearRef(hidden, this.lmHead.w, this.lmHead.b, this.lmHead.k);
  }

  /**
   * Greedy decoding from a prompt of embeddings `[T, hidden]` with the repetition penalty on the
   * generated ids (1 = none), stopping at `eos` or `maxNewTokens`; also returns the raw logits
   * of each step.
   */
  generate(
    prompt: ArrayLike<number>,
    options: { maxNewTokens: number; penalty?: number; eos?: readonly number[] },
  ): { ids: number[]; logits: Float64Array[] } {
    const cache = this.cache();
    const d = this.config.hidden;
    let hidden: Float64Array = this.forward(cache, prompt);
    let last: Float64Array = hidden.subarray(hidden.length - d);
    const ids: number[] = [], all: Float64Array[] = [];
    for (let s = 0; s < options.maxNewTokens; s++) {
      const logits = this.logits(last);
      all.push(logits);
      const id = argmaxRef(logits, { penalty: options.penalty, generated: ids });
      ids.push(id);
      if (options.eos?.includes(id) || s + 1 === options.maxNewTokens) break;
      hidden = this.forward(cache, this.embedding(id));
      last = hidden;
    }
    return { ids, logits: all };
  }
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
  return a;
}
