/**
 * Learned absolute position embedding: `y[f, t, c] = x[f, t, c] + table[t, c]` for every frame
 * f (SigLIP's `position_embedding`, model-reference.md §2, added after the patch embedding).
 * Element-wise, f32.
 *
 * @module
 */

import { type Batch, type GpuTensor, numel } from "./device.ts";
import { checkTensor, grid, need, u32s } from "./_wgsl.ts";

const THREADS = 256;

/** WGSL source of the position-embedding add. *
 * @example
 * ```ts
 * if (!posEmbedWgsl().includes("x[i] + table[i % p.period]")) throw new Error();
 * ```
 */
export function posEmbedWgsl(): string {
  return /* wgsl */ `
struct P { n: u32, period: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let i = (wg.y * nw.x + wg.x) * ${THREADS}u + t;
  if (i < p.n) { y[i] = x[i] + table[i % p.period]; }
}`;
}

/**
 * Records `x` `[F, T, C]` plus `table` `[T, C]` (the same table for every frame) into a new
 * tensor.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const x = b.upload(new Float32Array([1, 2, 3, 4]), [2, 1, 2]);
 * const [y] = await b.read([await addPositionEmbedding(b, x, b.upload(new Float32Array([10, 20]), [1, 2]))]);
 * if (y.join() !== "11,22,13,24") throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function addPositionEmbedding(
  batch: Batch,
  x: GpuTensor,
  table: GpuTensor,
): Promise<GpuTensor> {
  const k = "pos_embed";
  need(x.shape.length === 3 && x.dtype === "f32", k, `x: expected f32 [F, T, C], got [${x.shape}]`);
  checkTensor(k, "table", table, x.shape.slice(1), "f32");
  const n = numel(x);
  const y = batch.alloc(x.shape);
  const pipeline = await batch.gpu.pipeline(k, posEmbedWgsl());
  batch.dispatch(
    k,
    pipeline,
    [x.buffer, table.buffer, y.buffer],
    u32s(n, numel(table)),
    grid(Math.ceil(n / THREADS)),
  );
  return y;
}

/**
 * Float64 reference of {@link addPositionEmbedding}.
 *
 * @example
 * ```ts
 * if (addPositionEmbeddingRef([1, 2, 3, 4], [10, 20]).join() !== "11,22,13,24") throw new Error();
 * ```
 */
export function addPositionEmbeddingRef(
  x: ArrayLike<number>,
  table: ArrayLike<number>,
): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => x[i] + table[i % table.length]);
}
