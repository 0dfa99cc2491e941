/**
 * Matrix-vector product `y = x W^T + b` for a few rows of x (decode: one token), reading W in
 * any {@link WeightFormat}. Decoding is bound by the bandwidth of reading W once: each workgroup
 * owns 4 output rows, its 64 invocations stride over K eight columns at a time (two vec4 loads,
 * one u32 word of int4 codes), so neighbouring invocations read neighbouring memory, and the
 * partial sums meet in a tree reduction in workgroup memory.
 *
 * @module
 */

import { type Batch, type GpuTensor, numel } from "./device.ts";
import { checkTensor, grid, need, u32s } from "./_wgsl.ts";
import {
  checkWeight,
  type Weight,
  weightBuffers,
  weightEnables,
  type WeightFormat,
  weightFormat,
  weightWgsl,
} from "./linear_q.ts";

const THREADS = 64;
const ROWS = 4;

/**
 * WGSL of the matvec kernel for weights in `format`.
 *
 * @example
 * ```ts
 * if (!matvecWgsl("int8").includes("fn wl4")) throw new Error();
 * ```
 */
export function matvecWgsl(format: WeightFormat): string {
  const quant = format === "int8" || format === "int4";
  const rows = Array.from({ length: ROWS }, (_, r) => r);
  const each = (f: (r: number) => string) => rows.map(f).join("\n");
  return /* wgsl */ `${weightEnables(format)}
struct P { n: u32, k: u32, ldy: u32, n0: u32, gx: u32 }
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
${weightWgsl(format, 1, 4, true)}
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(${quant ? 5 : 4}) var<uniform> p: P;
var<workgroup> red: array<f32, ${ROWS * THREADS}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let nb = (wg.y * p.gx + wg.x) * ${ROWS}u;
  if (nb >= p.n) { return; }
  let m = wg.z;
${each((r) => `  let n${r} = min(nb + ${r}u, p.n - 1u);\n  var a${r} = 0.0;`)}
  for (var k = t * 8u; k < p.k; k += ${THREADS * 8}u) {
    let xo = (m * p.k + k) >> 2u;
    let xa = x[xo];
    let xb = x[xo + 1u];
${each((r) => `    a${r} += dot(wl4(n${r}, k, p.k), xa) + dot(wl4(n${r}, k + 4u, p.k), xb);`)}
  }
${each((r) => `  red[${r * THREADS}u + t] = a${r};`)}
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (t < s) {
${each((r) => `      red[${r * THREADS}u + t] += red[${r * THREADS}u + t + s];`)}
    }
    workgroupBarrier();
  }
  if (t < ${ROWS}u && nb + t < p.n) {
    y[m * p.ldy + p.n0 + nb + t] = red[t * ${THREADS}u] + b[nb + t];
  }
}`;
}

/** Options of {@link matvec}. */
export interface MatvecOptions {
  /** Write into columns `col .. col + N - 1` of `y` (`[M, ldy]`, f32) instead of a new tensor. */
  into?: { y: GpuTensor; col: number };
}

/**
 * Records `Y = X W^T + b` for X `[M, K]` f32 with few rows, K a multiple of 8; Y `[M, N]` f32.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const x = b.upload(new Float32Array(8).fill(1), [1, 8]);
 * const w = b.upload(Float32Array.from({ length: 16 }, (_, i) => i), [2, 8]);
 * const [y] = await b.read([await matvec(b, x, w, b.upload(new Float32Array([0, 1]), [2]))]);
 * if (y.join() !== "28,93") throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function matvec(
  batch: Batch,
  x: GpuTensor,
  w: Weight,
  bias: GpuTensor,
  options: MatvecOptions = {},
): Promise<GpuTensor> {
  const kn = "matvec";
  need(x.dtype === "f32", kn, `x: expected f32, got ${x.dtype}`);
  const [n, k] = checkWeight(kn, w, x.shape[x.shape.length - 1]);
  need(k % 8 === 0, kn, `K = ${k} is not a multiple of 8`);
  checkTensor(kn, "bias", bias, [n], "f32");
  const m = numel(x) / k;
  const into = options.into;
  const ldy = into ? into.y.shape[into.y.shape.length - 1] : n;
  const col = into?.col ?? 0;
  if (into) {
    need(
      into.y.dtype === "f32" && numel(into.y) === m * ldy && col + n <= ldy,
      kn,
      `into: [${into.y.shape}] ${into.y.dtype} has no f32 ${m} x ${n} block at column ${col}`,
    );
  }
  const y = into?.y ?? batch.alloc([...x.shape.slice(0, -1), n]);
  const format = weightFormat(w);
  const pipeline = await batch.gpu.pipeline(`${kn}_${format}`, matvecWgsl(format));
  const [gx, gy] = grid(Math.ceil(n / ROWS));
  const [wbuf, scales] = weightBuffers(w);
  batch.dispatch(
    `${kn}_${format}`,
    pipeline,
    [x.buffer, wbuf, bias.buffer, y.buffer, ...(scales ? [scales] : [])],
    u32s(n, k, ldy, col, gx),
    [gx, gy, m],
  );
  return y;
}
