/**
 * The SiLU-gated unit of Qwen2's MLP, `silu(gate) * up`, from the output of one linear over the
 * concatenated `[gate; up]` weight (`[M, 2I]`: gate in columns 0..I-1, up in I..2I-1), so gate
 * and up read the activations in one pass.
 *
 * @module
 */

import { type Batch, type GpuTensor, numel } from "./device.ts";
import { grid, need, u32s } from "./_wgsl.ts";

const THREADS = 256;

/** WGSL of the SwiGLU kernel. *
 * @example
 * ```ts
 * if (!swigluWgsl().includes("exp(-g)")) throw new Error();
 * ```
 */
export function swigluWgsl(): string {
  return /* wgsl */ `
struct P { i: u32, total: u32, gx: u32 }
@group(0) @binding(0) var<storage, read> gu: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let e = (wg.y * p.gx + wg.x) * ${THREADS}u + t;
  if (e >= p.total) { return; }
  let m = e / p.i;
  let c = e % p.i;
  let g = gu[m * 2u * p.i + c];
  y[e] = g / (1.0 + exp(-g)) * gu[m * 2u * p.i + p.i + c];
}`;
}

/**
 * Records `silu(gu[:, :I]) * gu[:, I:]` for gu `[M, 2I]` f32; the result is `[M, I]`.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const [y] = await b.read([await swiglu(b, b.upload(new Float32Array([1, 2]), [1, 2]))]);
 * if (Math.abs(y[0] - 2 / (1 + Math.exp(-1))) > 1e-6) throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function swiglu(
  batch: Batch,
  gu: GpuTensor,
  options: { out?: GpuTensor } = {},
): Promise<GpuTensor> {
  const kn = "swiglu";
  need(gu.dtype === "f32", kn, `gu: expected f32, got ${gu.dtype}`);
  const w = gu.shape[gu.shape.length - 1];
  need(w % 2 === 0, kn, `gu: last axis ${w} is not even`);
  const i = w / 2, total = numel(gu) / 2;
  const y = options.out ?? batch.alloc([...gu.shape.slice(0, -1), i]);
  need(y.dtype === "f32" && numel(y) === total, kn, `out: expected ${total} f32 values`);
  const [gx, gy] = grid(Math.ceil(total / THREADS));
  const pipeline = await batch.gpu.pipeline(kn, swigluWgsl());
  batch.dispatch(kn, pipeline, [gu.buffer, y.buffer], u32s(i, total, gx), [gx, gy]);
  return y;
}

/**
 * Float64 reference of {@link swiglu}: `silu(gate) * up` element-wise.
 *
 * @example
 * ```ts
 * if (swigluRef([0], [5])[0] !== 0) throw new Error();
 * ```
 */
export function swigluRef(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  return Float64Array.from(
    { length: gate.length },
    (_, i) => gate[i] / (1 + Math.exp(-gate[i])) * up[i],
  );
}
