/**
 * RMSNorm `y = x / sqrt(mean(x^2) + eps) * g` over the last axis, statistics in f32 (Qwen2's
 * `Qwen2RMSNorm`), optionally first adding a residual into x in place (`x += r`): the decoder's
 * `h = h + attn; a = norm(h)` in one pass. One workgroup per row.
 *
 * @module
 */

import { type Batch, type DType, type GpuTensor, numel } from "./device.ts";
import { checkTensor, enables, grid, need, u32s } from "./_wgsl.ts";

const THREADS = 64;

/**
 * WGSL of the RMSNorm kernel; `residual` adds binding `r` into `x` first.
 *
 * @example
 * ```ts
 * if (!rmsNormWgsl(true, "f32").includes("x[o + c] = v")) throw new Error();
 * ```
 */
export function rmsNormWgsl(residual: boolean, out: DType): string {
  return /* wgsl */ `${enables(out)}
struct P { d: u32, r0: u32, eps: f32, gx: u32 }
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<${out}>;
${
    residual
      ? "@group(0) @binding(3) var<storage, read> r: array<f32>;\n@group(0) @binding(4) var<uniform> p: P;"
      : "@group(0) @binding(3) var<uniform> p: P;"
  }
var<workgroup> red: array<f32, ${THREADS}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = wg.y * p.gx + wg.x;
  let o = (p.r0 + row) * p.d;
  var s = 0.0;
  for (var c = t; c < p.d; c += ${THREADS}u) {
    ${residual ? "let v = x[o + c] + r[o + c];\n    x[o + c] = v;" : "let v = x[o + c];"}
    s = fma(v, v, s);
  }
  red[t] = s;
  workgroupBarrier();
  for (var h = ${THREADS / 2}u; h > 0u; h >>= 1u) {
    if (t < h) { red[t] += red[t + h]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(red[0] / f32(p.d) + p.eps);
  for (var c = t; c < p.d; c += ${THREADS}u) {
    y[row * p.d + c] = ${out}(x[o + c] * inv * g[c]);
  }
}`;
}

/** Options of {@link rmsNorm}. */
export interface RmsNormOptions {
  /** Add this tensor (x's shape) into x in place before normalising. */
  residual?: GpuTensor;
  /** Normalise only rows `start .. start + count - 1` of x (the result has `count` rows). */
  rows?: { start: number; count: number };
  /** Write the result here instead of a new tensor. */
  out?: GpuTensor;
  /** Element type of a new result (default f32). */
  dtype?: DType;
}

/**
 * Records RMSNorm of x `[..., D]` f32 with gain g `[D]`.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const x = b.upload(new Float32Array([3, 4]), [1, 2]);
 * const [y] = await b.read([await rmsNorm(b, x, b.upload(new Float32Array([1, 2]), [2]), 0)]);
 * const s = Math.sqrt(12.5); // rms of (3, 4)
 * if (Math.abs(y[0] - 3 / s) > 1e-6 || Math.abs(y[1] - 8 / s) > 1e-6) throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function rmsNorm(
  batch: Batch,
  x: GpuTensor,
  g: GpuTensor,
  eps: number,
  options: RmsNormOptions = {},
): Promise<GpuTensor> {
  const kn = "rms_norm";
  need(x.dtype === "f32", kn, `x: expected f32, got ${x.dtype}`);
  const d = x.shape[x.shape.length - 1];
  checkTensor(kn, "g", g, [d], "f32");
  const m = numel(x) / d;
  const { start, count } = options.rows ?? { start: 0, count: m };
  need(start >= 0 && count > 0 && start + count <= m, kn, `rows ${start}+${count} outside ${m}`);
  if (options.residual) checkTensor(kn, "residual", options.residual, x.shape, "f32");
  const y = options.out ?? batch.alloc([count, d], options.dtype ?? "f32");
  need(numel(y) === count * d, kn, `out: expected ${count} x ${d}, got [${y.shape}]`);
  const res = !!options.residual;
  const pipeline = await batch.gpu.pipeline(`${kn}${res ? "_res" : ""}`, rmsNormWgsl(res, y.dtype));
  const u = u32s(d, start, 0, 0);
  const [gx, gy] = grid(count);
  new Float32Array(u, 8, 1)[0] = eps;
  new Uint32Array(u, 12, 1)[0] = gx;
  const bindings = [x.buffer, g.buffer, y.buffer, ...(res ? [options.residual!.buffer] : [])];
  batch.dispatch(kn, pipeline, bindings, u, [gx, gy]);
  return y;
}

/**
 * Float64 reference of {@link rmsNorm} (rows of width `d`).
 *
 * @example
 * ```ts
 * const y = rmsNormRef([3, 4], 2, [1, 1], 0);
 * if (Math.abs(y[1] - 4 / Math.sqrt(12.5)) > 1e-12) throw new Error();
 * ```
 */
export function rmsNormRef(
  x: ArrayLike<number>,
  d: number,
  g: ArrayLike<number>,
  eps: number,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += d) {
    let s = 0;
    for (let c = 0; c < d; c++) s += x[o + c] * x[o + c];
    const inv = 1 / Math.sqrt(s / d + eps);
    for (let c = 0; c < d; c++) y[o + c] = x[o + c] * inv * g[c];
  }
  return y;
}
