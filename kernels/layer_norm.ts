/**
 * Layer norm over the last axis, `y = (x - mean) / sqrt(var + eps) * gamma + beta` (biased
 * variance, as `nn.LayerNorm`). One workgroup per row, two-pass mean and variance in f32.
 *
 * @module
 */

import { type Batch, type GpuTensor, numel } from "./device.ts";
import { checkTensor, grid, need } from "./_wgsl.ts";

const THREADS = 128;

/** WGSL source of the layer-norm kernel (f32 in and out). *
 * @example
 * ```ts
 * if (!layerNormWgsl().includes("@compute")) throw new Error();
 * ```
 */
export function layerNormWgsl(): string {
  return /* wgsl */ `
struct P { rows: u32, cols: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
var<workgroup> part: array<f32, ${THREADS}>;

fn reduce(t: u32, v: f32) -> f32 {
  part[t] = v;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (t < s) { part[t] += part[t + s]; }
    workgroupBarrier();
  }
  let r = part[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let row = wg.y * nw.x + wg.x;
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var s = 0.0;
  for (var i = t; i < p.cols; i += ${THREADS}u) { s += x[base + i]; }
  let mean = reduce(t, s) / f32(p.cols);
  var v = 0.0;
  for (var i = t; i < p.cols; i += ${THREADS}u) { let d = x[base + i] - mean; v += d * d; }
  let inv = inverseSqrt(reduce(t, v) / f32(p.cols) + p.eps);
  for (var i = t; i < p.cols; i += ${THREADS}u) {
    y[base + i] = (x[base + i] - mean) * inv * gamma[i] + beta[i];
  }
}`;
}

/**
 * Records a layer norm of `x` ([..., cols], f32) into a new tensor of the same shape.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const x = b.upload(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * const one = b.upload(new Float32Array([1, 1, 1]), [3]), zero = b.upload(new Float32Array(3), [3]);
 * const [y] = await b.read([await layerNorm(b, x, one, zero)]);
 * if (Math.abs(y[3] + Math.sqrt(1.5)) > 1e-3) throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function layerNorm(
  batch: Batch,
  x: GpuTensor,
  gamma: GpuTensor,
  beta: GpuTensor,
  eps = 1e-5,
): Promise<GpuTensor> {
  const k = "layer_norm";
  const cols = x.shape[x.shape.length - 1];
  const rows = numel(x) / cols;
  need(x.dtype === "f32", k, `x: expected f32, got ${x.dtype}`);
  checkTensor(k, "gamma", gamma, [cols], "f32");
  checkTensor(k, "beta", beta, [cols], "f32");
  const y = batch.alloc(x.shape);
  const u = new ArrayBuffer(12);
  new Uint32Array(u, 0, 2).set([rows, cols]);
  new Float32Array(u, 8, 1)[0] = eps;
  const pipeline = await batch.gpu.pipeline(k, layerNormWgsl());
  batch.dispatch(k, pipeline, [x.buffer, gamma.buffer, beta.buffer, y.buffer], u, grid(rows));
  return y;
}

/**
 * Float64 reference of {@link layerNorm}: `x` is `rows x cols` row-major.
 *
 * @example
 * ```ts
 * const y = layerNormRef(new Float32Array([1, 3]), 2, [1, 1], [0, 0], 0);
 * if (y[0] !== -1 || y[1] !== 1) throw new Error();
 * ```
 */
export function layerNormRef(
  x: ArrayLike<number>,
  cols: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps = 1e-5,
): Float64Array {
  const rows = x.length / cols;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let i = 0; i < cols; i++) s += x[o + i];
    const mean = s / cols;
    let v = 0;
    for (let i = 0; i < cols; i++) v += (x[o + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / cols + eps);
    for (let i = 0; i < cols; i++) y[o + i] = (x[o + i] - mean) * inv * gamma[i] + beta[i];
  }
  return y;
}
