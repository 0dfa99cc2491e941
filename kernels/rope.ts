/**
 * Rotary position embedding, NeoX "rotate-half" pairing (columns j and j + D/2 of each head),
 * as Qwen2: `inv_freq[j] = 1 / theta^(2j/D)` in f32, the angle `f32(position) * inv_freq[j]`
 * rounded to f32, then its cosine and sine. Positions are any integers (a u32 tensor per
 * token), so a prefill chunk, a decode step or a gapped position list all work.
 *
 * GPUs' built-in `cos`/`sin` are only accurate near zero (Vulkan allows 2^-11 absolute error
 * on [-pi, pi] and nothing beyond), and angles here reach 32,768 radians: the kernel reduces
 * the f32 angle by pi/2 in three fused steps (Cody-Waite) and evaluates minimax polynomials,
 * within about 1e-7 of the exact cosine of the f32 angle.
 *
 * The result goes to a new tensor or into rows `row ..` of a larger one (the KV cache, f32 or
 * f16); {@link storeRows} is the same copy without the rotation (values into the cache).
 *
 * @module
 */

import { type Batch, type DType, type GpuTensor, numel } from "./device.ts";
import { enables, grid, need, u32s } from "./_wgsl.ts";

const THREADS = 64;

/**
 * The f32 inverse frequencies of a head of width `d`: `1 / theta^(2j/d)`, each step rounded
 * to f32 as PyTorch computes them.
 *
 * @example
 * ```ts
 * const f = ropeInvFreq(128, 1e6);
 * if (f.length !== 64 || f[0] !== 1) throw new Error();
 * ```
 */
export function ropeInvFreq(d: number, theta: number): Float32Array {
  return Float32Array.from(
    { length: d / 2 },
    (_, j) => 1 / Math.fround(Math.pow(theta, Math.fround((2 * j) / d))),
  );
}

/**
 * WGSL of the rotary kernel (or, with `rotate` false, of the plain row copy) writing `out`.
 *
 * @example
 * ```ts
 * if (!ropeWgsl(true, "f16").includes("fn sincos")) throw new Error();
 * ```
 */
export function ropeWgsl(rotate: boolean, out: DType): string {
  return /* wgsl */ `${enables(out)}
struct P { heads: u32, d: u32, row: u32, total: u32, gx: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
${
    rotate
      ? `@group(0) @binding(1) var<storage, read> pos: array<u32>;
@group(0) @binding(2) var<storage, read> invf: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<${out}>;
@group(0) @binding(4) var<uniform> p: P;`
      : `@group(0) @binding(1) var<storage, read_write> y: array<${out}>;
@group(0) @binding(2) var<uniform> p: P;`
  }

// sin and cos of an f32 angle: Cody-Waite reduction by pi/2 (the first constant has 8
// significant bits, so k * C1 is exact for k < 2^16), then Cephes' sinf/cosf polynomials.
fn sincos(a: f32) -> vec2f {
  let k = round(a * 0.63661977236758134);
  var r = fma(-k, 1.5703125, a);
  r = fma(-k, 4.837512969970703125e-4, r);
  r = fma(-k, 7.54978995489188216e-8, r);
  let z = r * r;
  let s = fma(fma(fma(-1.9515295891e-4, z, 8.3321608736e-3), z, -1.6666654611e-1), z * r, r);
  let c = fma(fma(fma(2.443315711809948e-5, z, -1.388731625493765e-3), z, 4.166664568298827e-2),
              z * z, fma(-0.5, z, 1.0));
  switch (i32(k) & 3) {
    case 0: { return vec2f(s, c); }
    case 1: { return vec2f(c, -s); }
    case 2: { return vec2f(-s, -c); }
    default: { return vec2f(-c, s); }
  }
}

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  // One invocation per (token, head, pair j < d/2).
  let e = (wg.y * p.gx + wg.x) * ${THREADS}u + t;
  if (e >= p.total) { return; }
  let half = p.d / 2u;
  let j = e % half;
  let th = e / half;
  let tok = th / p.heads;
  let i = th * p.d + j;
  let o = (p.row + tok) * p.heads * p.d + (th % p.heads) * p.d + j;
  let a = x[i];
  let b = x[i + half];
${
    rotate
      ? `  let sc = sincos(f32(pos[tok]) * invf[j]);
  y[o] = ${out}(a * sc.y - b * sc.x);
  y[o + half] = ${out}(b * sc.y + a * sc.x);`
      : `  y[o] = ${out}(a);
  y[o + half] = ${out}(b);`
  }
}`;
}

/** Shape and target of {@link rope}. */
export interface RopeOptions {
  /** Heads in the last axis (width = heads * d). */
  heads: number;
  /** The inverse frequencies, `[d / 2]` f32 ({@link ropeInvFreq}). */
  invFreq: GpuTensor;
  /** Write into rows `row ..` of `y` (`[rows, heads * d]`, f32 or f16) instead of a new tensor. */
  into?: { y: GpuTensor; row: number };
}

/**
 * Records the rotation of x `[T, heads * d]` f32 at positions `pos` (`[T]` u32).
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const x = b.upload(new Float32Array([1, 0]), [1, 2]); // one head of width 2
 * const pos = b.upload(new Uint32Array([3]), [1]);
 * const invFreq = b.upload(ropeInvFreq(2, 1e6), [1]);
 * const [y] = await b.read([await rope(b, x, pos, { heads: 1, invFreq })]);
 * if (Math.abs(y[0] - Math.cos(3)) > 1e-6 || Math.abs(y[1] - Math.sin(3)) > 1e-6) throw new Error();
 * gpu.destroy();
 * ```
 */
export function rope(
  batch: Batch,
  x: GpuTensor,
  pos: GpuTensor,
  options: RopeOptions,
): Promise<GpuTensor> {
  return rows(batch, x, pos, options, true);
}

/** Records the copy of x `[T, heads * d]` f32 into rows `into.row ..` of `into.y` (any float). */
export function storeRows(
  batch: Batch,
  x: GpuTensor,
  into: { y: GpuTensor; row: number },
): Promise<GpuTensor> {
  const width = x.shape[x.shape.length - 1];
  return rows(batch, x, x, { heads: 1, invFreq: x, into }, false, width);
}

async function rows(
  batch: Batch,
  x: GpuTensor,
  pos: GpuTensor,
  options: RopeOptions,
  rotate: boolean,
  dWidth?: number,
): Promise<GpuTensor> {
  const kn = rotate ? "rope" : "store_rows";
  need(x.dtype === "f32", kn, `x: expected f32, got ${x.dtype}`);
  const width = x.shape[x.shape.length - 1];
  const heads = options.heads;
  const d = dWidth ?? width / heads;
  need(Number.isInteger(d) && d % 2 === 0, kn, `width ${width} is not ${heads} heads of even d`);
  const t = numel(x) / width;
  if (rotate) {
    need(pos.dtype === "u32" && numel(pos) === t, kn, `pos: expected ${t} u32, got [${pos.shape}]`);
    need(numel(options.invFreq) === d / 2, kn, `invFreq: expected ${d / 2} values`);
  }
  const into = options.into;
  const y = into?.y ?? batch.alloc(x.shape);
  const row = into?.row ?? 0;
  need(
    y.shape[y.shape.length - 1] === width && numel(y) >= (row + t) * width && y.dtype !== "u32",
    kn,
    `into: [${y.shape}] ${y.dtype} cannot take ${t} rows of ${width} at row ${row}`,
  );
  const total = (t * width) / 2;
  const [gx, gy] = grid(Math.ceil(total / THREADS));
  const pipeline = await batch.gpu.pipeline(kn, ropeWgsl(rotate, y.dtype));
  batch.dispatch(
    kn,
    pipeline,
    rotate ? [x.buffer, pos.buffer, options.invFreq.buffer, y.buffer] : [x.buffer, y.buffer],
    u32s(heads, d, row, total, gx),
    [gx, gy],
  );
  return y;
}

/**
 * Float64 reference of {@link rope}: rows of `heads * d`, angles `fround(pos * invFreq[j])`
 * (the f32 angle), exact cosine and sine.
 *
 * @example
 * ```ts
 * const y = ropeRef([1, 0], [3], { heads: 1, invFreq: [1] });
 * if (Math.abs(y[0] - Math.cos(3)) > 1e-12) throw new Error();
 * ```
 */
export function ropeRef(
  x: ArrayLike<number>,
  pos: ArrayLike<number>,
  s: { heads: number; invFreq: ArrayLike<number> },
): Float64Array {
  const half = s.invFreq.length, d = 2 * half, width = s.heads * d;
  const y = new Float64Array(x.length);
  for (let t = 0; t < x.length / width; t++) {
    for (let h = 0; h < s.heads; h++) {
      const o = t * width + h * d;
      for (let j = 0; j < half; j++) {
        const a = Math.fround(Math.fround(pos[t]) * s.invFreq[j]);
        const c = Math.cos(a), sn = Math.sin(a);
        y[o + j] = x[o + j] * c - x[o + j + half] * sn;
        y[o + j + half] = x[o + j + half] * c + x[o + j] * sn;
      }
    }
  }
  return y;
}
