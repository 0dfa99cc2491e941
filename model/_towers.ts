/**
 * What the two vision towers share: reading weights by name from a {@link TensorSource} with
 * their shapes checked once, uploading them, the pre-norm transformer pieces both towers are
 * made of, and recording layer after layer into command batches of bounded size.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import type { Batch, DType, Gpu, GpuTensor } from "../kernels/device.ts";
import { attention } from "../kernels/attention.ts";
import { layerNorm } from "../kernels/layer_norm.ts";
import { linear } from "../kernels/linear.ts";
import { residualAdd } from "../kernels/residual.ts";
import { rope2d } from "../kernels/rope2d.ts";
import type { LinearWeights, NormWeights } from "./fusion.ts";
import type { TensorSource } from "./weights/source.ts";

/** Reads tensors `prefix + key` from a source, checking their shapes. */
export class WeightReader {
  /** `label` names the source in errors (a file or folder). */
  constructor(
    readonly source: TensorSource,
    readonly prefix: string,
    readonly label: string,
  ) {}

  /** Whether the source has `prefix + key`. */
  has(key: string): boolean {
    return this.source.info(this.prefix + key) !== undefined;
  }

  /** The tensor `prefix + key` as float32; `null` dimensions match any size. */
  async tensor(key: string, shape: readonly (number | null)[]): Promise<Float32Array> {
    const name = this.prefix + key;
    const info = this.source.info(name);
    const want = `a tensor [${shape.map((d) => d ?? "n")}]`;
    if (!info) throw new DataError(this.label, name, want, "none");
    const ok = info.shape.length === shape.length &&
      shape.every((d, i) => d === null || d === info.shape[i]);
    if (!ok) throw new DataError(this.label, name, want, `[${info.shape}]`);
    return (await this.source.read(name)).data;
  }

  /** Shape of `prefix + key` (a missing tensor is a `DataError`). */
  shape(key: string): readonly number[] {
    const info = this.source.info(this.prefix + key);
    if (!info) throw new DataError(this.label, this.prefix + key, "a tensor", "none");
    return info.shape;
  }

  /** `key.weight` `[out, in]` and `key.bias` `[out]`. */
  async linear(key: string, out: number, inp: number): Promise<LinearWeights> {
    return {
      weight: await this.tensor(`${key}.weight`, [out, inp]),
      bias: await this.tensor(`${key}.bias`, [out]),
      out,
      in: inp,
    };
  }

  /** `key.weight` and `key.bias`, both `[d]`. */
  async norm(key: string, d: number): Promise<NormWeights> {
    return {
      weight: await this.tensor(`${key}.weight`, [d]),
      bias: await this.tensor(`${key}.bias`, [d]),
    };
  }
}

/** Rows `[i*n, (i+1)*n)` of a linear layer (the q, k or v part of a fused qkv projection). */
export function rowsOf(l: LinearWeights, i: number, n: number): LinearWeights {
  return {
    weight: l.weight.subarray(i * n * l.in, (i + 1) * n * l.in),
    bias: l.bias.subarray(i * n, (i + 1) * n),
    out: n,
    in: l.in,
  };
}

/**
 * An MLP's two layers with the hidden width padded to a multiple of `multiple`: zero rows (and
 * biases) appended to `fc1`, zero columns to `fc2`. Exact for any activation with `f(0) = 0`:
 * the extra units are 0 and contribute 0. SigLIP's 4304 becomes 4320, which lets CPU adapters
 * take the uniform-window linear kernel (it needs N a multiple of 32); GPUs pay 0.4% more work.
 *
 * @example
 * ```ts
 * const fc1 = { weight: new Float32Array([1, 2]), bias: new Float32Array([3]), out: 1, in: 2 };
 * const fc2 = { weight: new Float32Array([4, 5]), bias: new Float32Array([6, 7]), out: 2, in: 1 };
 * const [a, b] = padHidden(fc1, fc2, 4);
 * if (a.out !== 4 || a.weight.join() !== "1,2,0,0,0,0,0,0" || b.weight.join() !== "4,0,0,0,5,0,0,0") {
 *   throw new Error();
 * }
 * ```
 */
export function padHidden(
  fc1: LinearWeights,
  fc2: LinearWeights,
  multiple = 32,
): [LinearWeights, LinearWeights] {
  const h = fc1.out, p = Math.ceil(h / multiple) * multiple;
  if (p === h) return [fc1, fc2];
  const w1 = new Float32Array(p * fc1.in), b1 = new Float32Array(p);
  w1.set(fc1.weight);
  b1.set(fc1.bias);
  const w2 = new Float32Array(fc2.out * p);
  for (let o = 0; o < fc2.out; o++) w2.set(fc2.weight.subarray(o * h, (o + 1) * h), o * p);
  return [
    { weight: w1, bias: b1, out: p, in: fc1.in },
    { weight: w2, bias: fc2.bias, out: fc2.out, in: p },
  ];
}

/** A linear layer on the GPU. */
export interface GpuLinear {
  /** `[out, in]`, f32 or f16. */
  w: GpuTensor;
  /** `[out]`, f32. */
  b: GpuTensor;
}

/** Affine layer-norm parameters on the GPU. */
export interface GpuNorm {
  g: GpuTensor;
  b: GpuTensor;
}

/** Uploads a linear layer with its weight in `precision`. */
export function uploadLinear(gpu: Gpu, l: LinearWeights, precision: DType): GpuLinear {
  return { w: gpu.tensor(l.weight, [l.out, l.in], precision), b: gpu.tensor(l.bias, [l.out]) };
}

/** Uploads layer-norm parameters. */
export function uploadNorm(gpu: Gpu, n: NormWeights): GpuNorm {
  const d = n.weight.length;
  return { g: gpu.tensor(n.weight, [d]), b: gpu.tensor(n.bias, [d]) };
}

/** Frees every GPU tensor found in `value` (objects and arrays of them, walked deeply). */
export function destroyAll(value: unknown): void {
  if (!value || typeof value !== "object" || ArrayBuffer.isView(value)) return;
  if ("buffer" in value && value.buffer instanceof GPUBuffer) {
    value.buffer.destroy();
    return;
  }
  for (const v of Object.values(value)) destroyAll(v);
}

/** Storage of the activations a tower keeps in f16 when asked (q, k, v, attention output). */
export interface TowerOptions {
  /** Weights and attention operands in "f16" (needs `shader-f16`) or "f32" (default). */
  precision?: DType;
  /**
   * Bytes of temporaries one command batch may hold before it is submitted (default 512 MiB;
   * two more batches may be in flight meanwhile): smaller batches need less memory and start the
   * GPU sooner, bigger ones cost fewer submissions.
   */
  batchBytes?: number;
}

/** Checks that `precision` can run on `gpu`. */
export function checkPrecision(gpu: Gpu, precision: DType, tower: string): void {
  if (precision === "f16" && !gpu.f16) {
    throw new Error(`${tower}: precision f16 needs shader-f16, which ${gpu.adapter} lacks`);
  }
}

/**
 * Records steps into command batches, submitting one whenever the temporaries of the next step
 * would take it over `budget` bytes. A submitted batch runs while the next one is recorded (the
 * queue keeps their order); at most `depth` batches are in flight before recording waits for
 * the oldest, so temporaries stay within about `(depth + 1) * budget`. Anything that must outlive
 * a step lives in persistent tensors (`gpu.empty`) and is copied there with {@link copyRows}.
 */
export class BatchChain {
  #batch: Batch;
  #bytes = 0;
  readonly #inflight: Promise<void>[] = [];

  constructor(readonly gpu: Gpu, readonly budget: number, readonly depth = 2) {
    this.#batch = gpu.batch();
  }

  /** The batch to record the next step into, after making room for `bytes` of temporaries. */
  async next(bytes: number): Promise<Batch> {
    if (this.#bytes > 0 && this.#bytes + bytes > this.budget) {
      // Submitted now (synchronously); awaited later, errors included.
      const done = this.#batch.submit();
      done.catch(() => {});
      this.#inflight.push(done);
      this.#batch = this.gpu.batch();
      this.#bytes = 0;
      while (this.#inflight.length > this.depth) await this.#inflight.shift();
    }
    this.#bytes += bytes;
    return this.#batch;
  }

  /** Submits what is recorded, waits for every batch, and reads `tensors` back. */
  async read(tensors: readonly GpuTensor[]): Promise<Float32Array[]> {
    const out = this.#batch.read(tensors);
    this.#batch = this.gpu.batch();
    this.#bytes = 0;
    const earlier = this.#inflight.splice(0);
    try {
      for (const p of earlier) await p;
    } finally {
      await out.catch(() => {});
    }
    return await out;
  }
}

/**
 * Records a copy of `rows` rows of `width` f32 values from `src` (starting at row `srcRow`) to
 * `dst` (at row `dstRow`).
 */
export function copyRows(
  batch: Batch,
  src: GpuTensor,
  srcRow: number,
  dst: GpuTensor,
  dstRow: number,
  rows: number,
  width: number,
): void {
  batch.copy(src.buffer, srcRow * width * 4, dst.buffer, dstRow * width * 4, rows * width * 4);
}

/** The projections of one attention, on the GPU. */
export interface GpuAttention {
  q: GpuLinear;
  k: GpuLinear;
  v: GpuLinear;
  o: GpuLinear;
  heads: number;
}

/** RoPE tables `[N, D]` for the queries and the keys of an attention (none: no RoPE). */
export interface RopeTables {
  q?: GpuTensor;
  k?: GpuTensor;
}

/**
 * Records `o(attention(q(x), k(y), v(y)))` with RoPE on q and k when tables are given; `x`
 * `[B, Nq, D]`, `y` `[B, Nk, D]` (normalised inputs, f32). Result `[B, Nq, D]` in f32.
 */
export async function attend(
  b: Batch,
  x: GpuTensor,
  y: GpuTensor,
  a: GpuAttention,
  rope: RopeTables,
  act: DType,
): Promise<GpuTensor> {
  let q = await linear(b, x, a.q.w, a.q.b, { out: act });
  let k = await linear(b, y, a.k.w, a.k.b, { out: act });
  const v = await linear(b, y, a.v.w, a.v.b, { out: act });
  if (rope.q) q = await rope2d(b, q, rope.q, a.heads);
  if (rope.k) k = await rope2d(b, k, rope.k, a.heads);
  const o = await attention(b, q, k, v, { heads: a.heads });
  return await linear(b, o, a.o.w, a.o.b);
}

/** `x + f(LN(x))`: a pre-norm residual branch. */
export async function residual(
  b: Batch,
  x: GpuTensor,
  norm: GpuNorm,
  eps: number,
  f: (h: GpuTensor) => Promise<GpuTensor>,
): Promise<GpuTensor> {
  return await residualAdd(b, x, await f(await layerNorm(b, x, norm.g, norm.b, eps)));
}
