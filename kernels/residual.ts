/**
 * Residual add `y = a + b`, element-wise over two tensors of one shape (f32).
 *
 * @module
 */

import { type Batch, type GpuTensor, numel } from "./device.ts";
import { checkTensor, grid, need, u32s } from "./_wgsl.ts";

const THREADS = 256;

/** WGSL source of the residual-add kernel. *
 * @example
 * ```ts
 * if (!residualWgsl().includes("a[i] + b[i]")) throw new Error();
 * ```
 */
export function residualWgsl(): string {
  return /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let i = (wg.y * nw.x + wg.x) * ${THREADS}u + t;
  if (i < p.n) { y[i] = a[i] + b[i]; }
}`;
}

/**
 * Records `a + b` into a new tensor.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const bt = gpu.batch();
 * const a = bt.upload(new Float32Array([1, 2]), [2]), b = bt.upload(new Float32Array([3, 4]), [2]);
 * const [y] = await bt.read([await residualAdd(bt, a, b)]);
 * if (y.join() !== "4,6") throw new Error();
 * gpu.destroy();
 * ```
 */
export async function residualAdd(batch: Batch, a: GpuTensor, b: GpuTensor): Promise<GpuTensor> {
  const k = "residual_add";
  need(a.dtype === "f32", k, `a: expected f32, got ${a.dtype}`);
  checkTensor(k, "b", b, a.shape, "f32");
  const n = numel(a);
  const y = batch.alloc(a.shape);
  const pipeline = await batch.gpu.pipeline(k, residualWgsl());
  batch.dispatch(
    k,
    pipeline,
    [a.buffer, b.buffer, y.buffer],
    u32s(n),
    grid(Math.ceil(n / THREADS)),
  );
  return y;
}

/**
 * Float64 reference of {@link residualAdd}.
 *
 * @example
 * ```ts
 * if (residualAddRef([1, 2], [3, 4]).join() !== "4,6") throw new Error();
 * ```
 */
export function residualAddRef(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: a.length }, (_, i) => a[i] + b[i]);
}
