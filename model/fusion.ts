/**
 * VLM-3R's Spatial-Visual-View fusion block and `mlp2x_gelu` projector (model-reference.md §4,
 * §5), with the 2x2 bilinear pooling and row newlines of §1.5, composed from the WGSL kernels.
 *
 * Per frame: `H' = H + LN_out(out_proj(MHA(Wq LN_clip(H), Wk LN_sp(Z), Wv LN_sp(Z))))`, then
 * `Linear -> GELU -> Linear`, then pooling `27x27 -> 14x14` and a newline after each row.
 * Two exact rewrites are options: folding stacked linears into one, and pooling before the
 * second projector layer.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import { attention, attentionRef } from "../kernels/attention.ts";
import type { DType, Gpu, GpuTensor } from "../kernels/device.ts";
import { layerNorm, layerNormRef } from "../kernels/layer_norm.ts";
import { linear, linearRef } from "../kernels/linear.ts";
import { poolNewline, poolNewlineRef } from "../kernels/pool.ts";
import { residualAdd } from "../kernels/residual.ts";
import type { HostTensor } from "./weights/safetensors.ts";

/** `nn.LayerNorm` eps of all three norms (model-reference.md §4: the PyTorch default). */
export const LAYER_NORM_EPS = 1e-5;
/** Head dimension of the fusion attention (1152 / 18 heads, model-reference.md §4). */
export const HEAD_DIM = 64;

/** A linear layer `y = x W^T + b`, W `[out, in]` row-major. */
export interface LinearWeights {
  /** `[out, in]` row-major. */
  weight: Float32Array;
  /** `[out]`. */
  bias: Float32Array;
  /** Output width. */
  out: number;
  /** Input width. */
  in: number;
}

/** Affine layer-norm parameters. */
export interface NormWeights {
  /** Gamma. */
  weight: Float32Array;
  /** Beta. */
  bias: Float32Array;
}

/** Every tensor of the fusion block, projector and image newline, by role. */
export interface FusionProjectorWeights {
  /** `clip_norm`. */
  clipNorm: NormWeights;
  /** `spatial_encoder_norm`. */
  spatialNorm: NormWeights;
  /** `clip_query_proj`. */
  clipQuery: LinearWeights;
  /** `spatial_encoder_key_proj`. */
  spatialKey: LinearWeights;
  /** `spatial_encoder_value_proj`. */
  spatialValue: LinearWeights;
  /** Rows 0..d of `cross_attention.in_proj_{weight,bias}`. */
  inQ: LinearWeights;
  /** Rows d..2d. */
  inK: LinearWeights;
  /** Rows 2d..3d. */
  inV: LinearWeights;
  /** `cross_attention.out_proj`. */
  attnOut: LinearWeights;
  /** `out_proj`. */
  outProj: LinearWeights;
  /** `out_norm`. */
  outNorm: NormWeights;
  /** `mm_projector.0`. */
  proj1: LinearWeights;
  /** `mm_projector.2`. */
  proj2: LinearWeights;
  /** `model.image_newline`. */
  newline: Float32Array;
}

/**
 * Picks the fusion, projector and newline tensors out of a checkpoint by VLM-3R's key names
 * (`model.fusion_block.*`, `model.mm_projector.{0,2}.*`, `model.image_newline`); the
 * `base_model.model.` prefix of the raw LoRA file is accepted too. Shapes are checked.
 *
 * @example
 * ```ts
 * import { DataError } from "../io/errors.ts";
 * try {
 *   fusionProjectorWeights(new Map(), "w.safetensors");
 *   throw new Error("no error");
 * } catch (e) {
 *   if (!(e instanceof DataError) || !e.message.startsWith("w.safetensors: model.fusion_block.")) throw e;
 * }
 * ```
 */
export function fusionProjectorWeights(
  tensors: Map<string, HostTensor>,
  file: string,
): FusionProjectorWeights {
  const get = (key: string, shape: (number | null)[]): HostTensor => {
    const t = tensors.get(`model.${key}`) ?? tensors.get(`base_model.model.model.${key}`);
    const want = `a tensor [${shape.map((d) => d ?? "n")}]`;
    if (!t) throw new DataError(file, `model.${key}`, want, "none");
    if (t.shape.length !== shape.length || shape.some((d, i) => d !== null && d !== t.shape[i])) {
      throw new DataError(file, `model.${key}`, want, `[${t.shape}]`);
    }
    return t;
  };
  const fb = "fusion_block.";
  const norm = (key: string, d: number | null): NormWeights => {
    const weight = get(`${key}.weight`, [d]).data;
    return { weight, bias: get(`${key}.bias`, [weight.length]).data };
  };
  const lin = (key: string, out: number | null, inp: number | null): LinearWeights => {
    const w = get(`${key}.weight`, [out, inp]);
    const [o, i] = w.shape;
    return { weight: w.data, bias: get(`${key}.bias`, [o]).data, out: o, in: i };
  };
  const clipNorm = norm(`${fb}clip_norm`, null);
  const d = clipNorm.weight.length;
  const spatialNorm = norm(`${fb}spatial_encoder_norm`, null);
  const ds = spatialNorm.weight.length;
  const inW = get(`${fb}cross_attention.in_proj_weight`, [3 * d, d]).data;
  const inB = get(`${fb}cross_attention.in_proj_bias`, [3 * d]).data;
  const split = (i: number): LinearWeights => ({
    weight: inW.subarray(i * d * d, (i + 1) * d * d),
    bias: inB.subarray(i * d, (i + 1) * d),
    out: d,
    in: d,
  });
  const proj1 = lin("mm_projector.0", null, d);
  return {
    clipNorm,
    spatialNorm,
    clipQuery: lin(`${fb}clip_query_proj`, d, d),
    spatialKey: lin(`${fb}spatial_encoder_key_proj`, d, ds),
    spatialValue: lin(`${fb}spatial_encoder_value_proj`, d, ds),
    inQ: split(0),
    inK: split(1),
    inV: split(2),
    attnOut: lin(`${fb}cross_attention.out_proj`, d, d),
    outProj: lin(`${fb}out_proj`, d, d),
    outNorm: norm(`${fb}out_norm`, d),
    proj1,
    proj2: lin("mm_projector.2", proj1.out, proj1.out),
    newline: get("image_newline", [proj1.out]).data,
  };
}

/**
 * `outer(inner(x))` as one linear layer: `W = Wo Wi`, `b = Wo bi + bo`, in float64.
 *
 * @example
 * ```ts
 * const inner = { weight: new Float32Array([2]), bias: new Float32Array([1]), out: 1, in: 1 };
 * const outer = { weight: new Float32Array([3]), bias: new Float32Array([4]), out: 1, in: 1 };
 * const f = foldLinear(outer, inner); // 3 (2x + 1) + 4
 * if (f.weight[0] !== 6 || f.bias[0] !== 7) throw new Error();
 * ```
 */
export function foldLinear(outer: LinearWeights, inner: LinearWeights): LinearWeights {
  // Folding the real block costs ~6 G multiply-adds in float64; do each pair once.
  const known = foldCache.get(outer)?.get(inner);
  if (known) return known;
  const folded = fold(outer, inner);
  if (!foldCache.has(outer)) foldCache.set(outer, new WeakMap());
  foldCache.get(outer)!.set(inner, folded);
  return folded;
}

const foldCache = new WeakMap<LinearWeights, WeakMap<LinearWeights, LinearWeights>>();

function fold(outer: LinearWeights, inner: LinearWeights): LinearWeights {
  const { out, in: mid } = outer;
  const inp = inner.in;
  const w = new Float64Array(out * inp);
  const bias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const row = w.subarray(o * inp, (o + 1) * inp);
    let b = outer.bias[o];
    for (let m = 0; m < mid; m++) {
      const a = outer.weight[o * mid + m];
      b += a * inner.bias[m];
      const src = inner.weight.subarray(m * inp, (m + 1) * inp);
      for (let i = 0; i < inp; i++) row[i] += a * src[i];
    }
    bias[o] = b;
  }
  return { weight: Float32Array.from(w), bias, out, in: inp };
}

/** Options of {@link FusionProjector}. */
export interface FusionOptions {
  /** Attention heads (default: width / 64, i.e. 18 for VLM-3R). */
  heads?: number;
  /** Fold stacked linears (query/key/value and the two output projections) into one each. */
  fold?: boolean;
  /** Pool after GELU and before the second projector layer (exact: pooling is convex). */
  poolFirst?: boolean;
  /** Storage of weights, q/k/v and attention output; "f16" needs `shader-f16`. */
  precision?: DType;
}

/** Which tensors {@link FusionProjector.run} returns. */
export type FusionOutput = "fused" | "projected" | "pooled" | "sequence";

/** Results of {@link FusionProjector.run}: `[F, T, d]`, `[F, T, D]`, `[F, P*P, D]`, `[F*P*(P+1), D]`. */
export type FusionResults = Partial<Record<FusionOutput, Float32Array>>;

interface GpuLinear {
  w: GpuTensor;
  b: GpuTensor;
}

interface GpuNorm {
  g: GpuTensor;
  b: GpuTensor;
}

/** The fusion block and projector on the GPU: weights uploaded once, frames run in chunks. */
export class FusionProjector {
  /** Width of the SigLIP tokens (1152). */
  readonly dClip: number;
  /** Width of the CUT3R tokens (768). */
  readonly dSpatial: number;
  /** Width of the language model (3584). */
  readonly dLlm: number;
  /** Attention heads. */
  readonly heads: number;
  readonly #gpu: Gpu;
  readonly #opt: Required<FusionOptions>;
  readonly #lin: Record<string, GpuLinear> = {};
  readonly #norm: Record<string, GpuNorm> = {};
  readonly #newline: GpuTensor;

  /**
   * Uploads `weights` (folding them first when asked).
   *
   * @example
   * ```ts
   * import { acquireGpu } from "../kernels/device.ts";
   * import { readSafetensors } from "./weights/safetensors.ts";
   * const dir = "tests/fixtures/fusion-tiny"; // 2 frames of 7x7 tokens, 6 heads
   * const w = fusionProjectorWeights(await readSafetensors(`${dir}/weights.safetensors`), "w");
   * const x = await readSafetensors(`${dir}/inputs.safetensors`);
   * const gpu = await acquireGpu();
   * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
   * const fp = new FusionProjector(gpu, w, { heads: 6, fold: true, poolFirst: true });
   * const { sequence } = await fp.run(x.get("hv")!.data, x.get("z3d")!.data, 2);
   * if (sequence!.length !== 2 * 4 * 5 * 128) throw new Error();
   * gpu.destroy();
   * ```
   */
  constructor(gpu: Gpu, weights: FusionProjectorWeights, options: FusionOptions = {}) {
    this.#gpu = gpu;
    this.dClip = weights.clipNorm.weight.length;
    this.dSpatial = weights.spatialNorm.weight.length;
    this.dLlm = weights.proj1.out;
    this.heads = options.heads ?? this.dClip / HEAD_DIM;
    this.#opt = {
      heads: this.heads,
      fold: options.fold ?? false,
      poolFirst: options.poolFirst ?? false,
      precision: options.precision ?? "f32",
    };
    const p = this.#opt.precision;
    const up = (name: string, l: LinearWeights) => {
      this.#lin[name] = {
        w: gpu.tensor(l.weight, [l.out, l.in], p),
        b: gpu.tensor(l.bias, [l.out]),
      };
    };
    const w = weights;
    if (this.#opt.fold) {
      up("q", foldLinear(w.inQ, w.clipQuery));
      up("k", foldLinear(w.inK, w.spatialKey));
      up("v", foldLinear(w.inV, w.spatialValue));
      up("o", foldLinear(w.outProj, w.attnOut));
    } else {
      for (
        const [n, l] of Object.entries({
          cq: w.clipQuery,
          sk: w.spatialKey,
          sv: w.spatialValue,
          q: w.inQ,
          k: w.inK,
          v: w.inV,
          mo: w.attnOut,
          o: w.outProj,
        })
      ) up(n, l);
    }
    up("p1", w.proj1);
    up("p2", w.proj2);
    for (const [n, nw] of Object.entries({ clip: w.clipNorm, sp: w.spatialNorm, out: w.outNorm })) {
      this.#norm[n] = {
        g: gpu.tensor(nw.weight, [nw.weight.length]),
        b: gpu.tensor(nw.bias, [nw.bias.length]),
      };
    }
    this.#newline = gpu.tensor(w.newline, [w.newline.length]);
  }

  /** Frees the weights on the device. */
  destroy(): void {
    for (const l of Object.values(this.#lin)) {
      l.w.buffer.destroy();
      l.b.buffer.destroy();
    }
    for (const n of Object.values(this.#norm)) {
      n.g.buffer.destroy();
      n.b.buffer.destroy();
    }
    this.#newline.buffer.destroy();
  }

  /**
   * Runs `frames` frames: `hv` `[F, T, dClip]` SigLIP tokens (T a square grid), `z3d`
   * `[F, Tz, dSpatial]` CUT3R tokens. Returns the requested outputs after one readback.
   * (`projected` is not computed when pooling comes first.)
   */
  async run(
    hv: Float32Array,
    z3d: Float32Array,
    frames: number,
    outputs: readonly FusionOutput[] = ["sequence"],
  ): Promise<FusionResults> {
    const { dClip, dSpatial, dLlm } = this;
    const t = hv.length / (frames * dClip), tz = z3d.length / (frames * dSpatial);
    if (!Number.isInteger(t) || !Number.isInteger(tz)) {
      throw new RangeError(
        `fusion: hv or z3d does not hold ${frames} frames of ${dClip}/${dSpatial}`,
      );
    }
    if (this.#opt.poolFirst && outputs.includes("projected")) {
      throw new RangeError("fusion: `projected` is not computed with poolFirst");
    }
    const g = Math.round(Math.sqrt(t)), p = Math.ceil(g / 2);
    const gpu = this.#gpu;
    // Frames per chunk: the widest activation must fit one storage binding.
    const widest = Math.max(t, tz) * Math.max(dLlm, dClip, dSpatial) * 4;
    const chunk = Math.max(1, Math.floor(gpu.limits.maxStorageBufferBindingSize / widest));
    const shapes: Record<FusionOutput, number[]> = {
      fused: [frames, t, dClip],
      projected: [frames, t, dLlm],
      pooled: [frames, p * p, dLlm],
      sequence: [frames * p * (p + 1), dLlm],
    };
    const results = outputs.map((o) => gpu.output(shapes[o]));
    try {
      for (let f0 = 0; f0 < frames; f0 += chunk) {
        const n = Math.min(chunk, frames - f0);
        const b = gpu.batch();
        const h = b.upload(hv.subarray(f0 * t * dClip, (f0 + n) * t * dClip), [n, t, dClip]);
        const z = b.upload(z3d.subarray(f0 * tz * dSpatial, (f0 + n) * tz * dSpatial), [
          n,
          tz,
          dSpatial,
        ]);
        const got = await this.#chunk(b, h, z, outputs);
        outputs.forEach((o, i) => {
          const bytes = got[o]!.buffer.size;
          b.copy(
            got[o]!.buffer,
            0,
            results[i].buffer,
            f0 * (results[i].buffer.size / frames),
            bytes,
          );
        });
        if (f0 + n < frames) await b.submit();
        else {
          const data = await b.read(results);
          return Object.fromEntries(outputs.map((o, i) => [o, data[i]]));
        }
      }
      return {};
    } finally {
      for (const r of results) r.buffer.destroy();
    }
  }

  async #chunk(
    b: ReturnType<Gpu["batch"]>,
    h: GpuTensor,
    z: GpuTensor,
    outputs: readonly FusionOutput[],
  ): Promise<Partial<Record<FusionOutput, GpuTensor>>> {
    const L = this.#lin, N = this.#norm, act = this.#opt.precision;
    const lin = (x: GpuTensor, l: GpuLinear, out: DType = "f32", gelu = false) =>
      linear(b, x, l.w, l.b, { out, gelu });
    const hn = await layerNorm(b, h, N.clip.g, N.clip.b, LAYER_NORM_EPS);
    const zn = await layerNorm(b, z, N.sp.g, N.sp.b, LAYER_NORM_EPS);
    let q: GpuTensor, k: GpuTensor, v: GpuTensor;
    if (this.#opt.fold) {
      q = await lin(hn, L.q, act);
      k = await lin(zn, L.k, act);
      v = await lin(zn, L.v, act);
    } else {
      q = await lin(await lin(hn, L.cq, act), L.q, act);
      k = await lin(await lin(zn, L.sk, act), L.k, act);
      v = await lin(await lin(zn, L.sv, act), L.v, act);
    }
    const a = await attention(b, q, k, v, { heads: this.heads });
    const o2 = this.#opt.fold ? await lin(a, L.o) : await lin(await lin(a, L.mo, act), L.o);
    const fused = await residualAdd(b, h, await layerNorm(b, o2, N.out.g, N.out.b, LAYER_NORM_EPS));
    const res: Partial<Record<FusionOutput, GpuTensor>> = { fused };
    if (outputs.every((o) => o === "fused")) return res;
    const hidden = await lin(fused, L.p1, "f32", true);
    if (this.#opt.poolFirst) {
      res.pooled = await lin(await poolNewline(b, hidden), L.p2);
    } else {
      res.projected = await lin(hidden, L.p2);
      res.pooled = await poolNewline(b, res.projected);
    }
    if (outputs.includes("sequence")) {
      const side = Math.round(Math.sqrt(res.pooled.shape[1]));
      res.sequence = await poolNewline(b, res.pooled, { size: side, newline: this.#newline });
    }
    return res;
  }
}

/**
 * The float64 CPU reference of the whole block, straight from the formulas of §4, §5 and §1.5
 * (no folding, pooling after the projector). Slow: for tests and the benchmark's naive row.
 *
 * @example
 * ```ts
 * import { readSafetensors } from "./weights/safetensors.ts";
 * const dir = "tests/fixtures/fusion-tiny";
 * const w = fusionProjectorWeights(await readSafetensors(`${dir}/weights.safetensors`), "w");
 * const x = await readSafetensors(`${dir}/inputs.safetensors`);
 * const r = fusionProjectorRef(w, x.get("hv")!.data, x.get("z3d")!.data, 2, 6);
 * if (r.sequence.length !== 40 * 128 || r.fused.length !== 2 * 49 * 96) throw new Error();
 * ```
 */
export function fusionProjectorRef(
  w: FusionProjectorWeights,
  hv: Float32Array,
  z3d: Float32Array,
  frames: number,
  heads = w.clipNorm.weight.length / HEAD_DIM,
): Required<FusionResults> {
  const d = w.clipNorm.weight.length, ds = w.spatialNorm.weight.length;
  const t = hv.length / (frames * d), tz = z3d.length / (frames * ds);
  const lin = (x: ArrayLike<number>, l: LinearWeights, gelu = false) =>
    linearRef(x, l.weight, l.bias, l.in, { gelu });
  const hn = layerNormRef(hv, d, w.clipNorm.weight, w.clipNorm.bias, LAYER_NORM_EPS);
  const zn = layerNormRef(z3d, ds, w.spatialNorm.weight, w.spatialNorm.bias, LAYER_NORM_EPS);
  const q = lin(lin(hn, w.clipQuery), w.inQ);
  const k = lin(lin(zn, w.spatialKey), w.inK);
  const v = lin(lin(zn, w.spatialValue), w.inV);
  const a = attentionRef(q, k, v, { batch: frames, nq: t, nk: tz, heads });
  const o2 = lin(lin(a, w.attnOut), w.outProj);
  const y = layerNormRef(o2, d, w.outNorm.weight, w.outNorm.bias, LAYER_NORM_EPS);
  const fused = Float64Array.from(hv, (x, i) => x + y[i]);
  const projected = lin(lin(fused, w.proj1, true), w.proj2);
  const channels = w.proj1.out;
  const pooled = poolNewlineRef(projected, { frames, channels });
  const sequence = poolNewlineRef(projected, { frames, channels, newline: w.newline });
  const f32 = (x: Float64Array) => Float32Array.from(x);
  return {
    fused: f32(fused),
    projected: f32(projected),
    pooled: f32(pooled),
    sequence: f32(sequence),
  };
}
