/**
 * Mean over the token axis: `[B, T, C]` to `[B, 1, C]` (CUT3R's image-level feature
 * `g_t = mean_t F_t`, the pose memory's query and key, model-reference.md §3.4). One invocation
 * per output channel sums its column in f32.
 *
 * @module
 */

import type { Batch, GpuTensor } from "./device.ts";
import { grid, need, u32s } from "./_wgsl.ts";

const THREADS = 64;

/** WGSL source of the token-mean kernel (f32). *
 * @example
 * ```ts
 * if (!tokenMeanWgsl().includes("/ f32(p.tokens)")) throw new Error();
 * ```
 */
export function tokenMeanWgsl(): string {
  return /* wgsl */ `
struct P { batch: u32, tokens: u32, c: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let i = (wg.y * nw.x + wg.x) * ${THREADS}u + t;
  if (i >= p.batch * p.c) { return; }
  let b = i / p.c;
  let ch = i % p.c;
  var s = 0.0;
  for (var j = 0u; j < p.tokens; j++) { s += x[(b * p.tokens + j) * p.c + ch]; }
  y[i] = s / f32(p.tokens);
}`;
}

/**
 * Records the mean of `x` `[B, T, C]` (f32) over its T tokens: a new `[B, 1, C]` tensor.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const x = b.upload(new Float32Array([1, 10, 3, 30]), [1, 2, 2]);
 * const [y] = await b.read([await tokenMean(b, x)]);
 * if (y.join() !== "2,20") throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function tokenMean(batch: Batch, x: GpuTensor): Promise<GpuTensor> {
  const k = "token_mean";
  need(x.shape.length === 3 && x.dtype === "f32", k, `x: expected f32 [B, T, C], got [${x.shape}]`);
  const [b, t, c] = x.shape;
  need(t > 0, k, "x: no tokens");
  const y = batch.alloc([b, 1, c]);
  const pipeline = await batch.gpu.pipeline(k, tokenMeanWgsl());
  batch.dispatch(
    k,
    pipeline,
    [x.buffer, y.buffer],
    u32s(b, t, c),
    grid(Math.ceil(b * c / THREADS)),
  );
  return y;
}

/**
 * Float64 reference of {@link tokenMean}: `x` is `batch x tokens x channels`.
 *
 * @example
 * ```ts
 * if (tokenMeanRef([1, 10, 3, 30], 2, 2).join() !== "2,20") throw new Error();
 * ```
 */
export function tokenMeanRef(x: ArrayLike<number>, tokens: number, channels: number): Float64Array {
  const b = x.length / (tokens * channels);
  const y = new Float64Array(b * channels);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < tokens; j++) {
      for (let c = 0; c < channels; c++) y[i * channels + c] += x[(i * tokens + j) * channels + c];
    }
  }
  return y.map((v) => v / tokens);
}
