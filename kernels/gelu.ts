/**
 * The two GELUs of VLM-3R: the exact (erf) form of `nn.GELU()` (CUT3R, the projector), as a
 * float64 reference and the WGSL function the linear kernel's epilogue uses; and the tanh form
 * of SigLIP (`gelu_pytorch_tanh`), as a float64 reference and an element-wise kernel.
 *
 * @module
 */

import { type Batch, type GpuTensor, numel } from "./device.ts";
import { grid, need, u32s } from "./_wgsl.ts";

/**
 * The error function in float64: Maclaurin series below 3, continued fraction of erfc above
 * (both accurate to about 1e-14, far below float32 rounding).
 *
 * @example
 * ```ts
 * if (Math.abs(erf(1) - 0.8427007929497149) > 1e-14) throw new Error();
 * if (erf(-1) !== -erf(1) || erf(0) !== 0) throw new Error();
 * ```
 */
export function erf(x: number): number {
  if (x < 0) return -erf(-x);
  if (x < 3) {
    // sum_n (-1)^n x^(2n+1) / (n! (2n+1)) * 2/sqrt(pi)
    let term = x, sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= -x * x / n;
      sum += term / (2 * n + 1);
    }
    return sum * 2 / Math.sqrt(Math.PI);
  }
  return 1 - erfcLarge(x);
}

// erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated backwards.
function erfcLarge(x: number): number {
  let k = x;
  for (let n = 60; n >= 1; n--) k = x + n / 2 / k;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / k;
}

/**
 * `x * (1 + erf(x / sqrt 2)) / 2` in float64 (erfc for negative x, so the tail keeps its
 * relative precision).
 *
 * @example
 * ```ts
 * if (Math.abs(gelu(1) - 0.8413447460685429) > 1e-14) throw new Error();
 * ```
 */
export function gelu(x: number): number {
  const z = x / Math.SQRT2;
  if (z > -3) return 0.5 * x * (1 + erf(z));
  return 0.5 * x * erfcLarge(-z);
}

/**
 * WGSL `gelu(x: f32) -> f32`. erfc from Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7),
 * used as erfc for negative arguments so the negative tail keeps its relative precision.
 */
export const GELU_WGSL = /* wgsl */ `
fn erfc_pos(z: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26, z >= 0.
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return poly * exp(-z * z);
}
fn gelu(x: f32) -> f32 {
  let z = x * 0.70710678118654752;
  let c = erfc_pos(abs(z));
  return 0.5 * x * select(2.0 - c, c, z < 0.0);
}`;

/**
 * The tanh form of GELU (`gelu_pytorch_tanh`, SigLIP's activation, model-reference.md §2):
 * `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`, in float64.
 *
 * @example
 * ```ts
 * if (Math.abs(geluTanhRef(1) - 0.8411919906082768) > 1e-15) throw new Error();
 * if (geluTanhRef(0) !== 0) throw new Error();
 * ```
 */
export function geluTanhRef(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/**
 * WGSL `gelu_tanh(x: f32) -> f32`. tanh through `exp(-2|z|)`, which never overflows: a built-in
 * `tanh` computed as sinh/cosh returns NaN for large arguments on some drivers.
 */
export const GELU_TANH_WGSL = /* wgsl */ `
fn gelu_tanh(x: f32) -> f32 {
  let z = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  let e = exp(-2.0 * abs(z));
  let t = sign(z) * (1.0 - e) / (1.0 + e);
  return 0.5 * x * (1.0 + t);
}`;

const GELU_THREADS = 256;

/** WGSL of the element-wise tanh-GELU kernel (f32 in and out). *
 * @example
 * ```ts
 * if (!geluTanhWgsl().includes("fn gelu_tanh")) throw new Error();
 * ```
 */
export function geluTanhWgsl(): string {
  return /* wgsl */ `${GELU_TANH_WGSL}
struct P { n: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(${GELU_THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let i = (wg.y * nw.x + wg.x) * ${GELU_THREADS}u + t;
  if (i < p.n) { y[i] = gelu_tanh(x[i]); }
}`;
}

/**
 * Records the tanh-GELU of every element of `x` (f32) into a new tensor. The erf form runs as
 * the linear kernel's epilogue instead (`linear(..., { gelu: true })`).
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const [y] = await b.read([await geluTanh(b, b.upload(new Float32Array([1, -30, 30]), [3]))]);
 * if (Math.abs(y[0] - geluTanhRef(1)) > 1e-6 || y[1] !== 0 || y[2] !== 30) throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function geluTanh(batch: Batch, x: GpuTensor): Promise<GpuTensor> {
  const k = "gelu_tanh";
  need(x.dtype === "f32", k, `x: expected f32, got ${x.dtype}`);
  const n = numel(x);
  const y = batch.alloc(x.shape);
  const pipeline = await batch.gpu.pipeline(k, geluTanhWgsl());
  batch.dispatch(k, pipeline, [x.buffer, y.buffer], u32s(n), grid(Math.ceil(n / GELU_THREADS)));
  return y;
}
