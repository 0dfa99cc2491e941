/**
 * Weights that linear kernels read in four formats: f32 and f16 tensors, and the int8 and int4
 * layouts of `model/weights/source.ts`, dequantised inside the kernel with f32 accumulation.
 *
 * - int8, per output channel: codes I8 `[N, K]`, scales F16 `[N]`; `w = code * scale[n]`.
 * - int4, groups of {@link INT4_GROUP} inputs: codes U8 `[N, K/2]` (low nibble = even column),
 *   scales F16 `[N, ceil(K/128)]`; `w = (code - 8) * scale[n][k / 128]`.
 *
 * Both are uploaded byte for byte and bound as `array<u32>`; scales stay f16 bits and are
 * widened with `unpack2x16float`, so the quantised kernels need no `shader-f16`. Every kernel
 * that reads a weight gets its loads from {@link weightWgsl}: `wl(n, k, K)` one element,
 * `wl4(n, k, K)` four (k a multiple of 4).
 *
 * @module
 */

import { type Gpu, type GpuTensor, KernelError } from "./device.ts";

/** Input columns per int4 scale (as `INT4_GROUP` in model/weights/source.ts). */
export const INT4_GROUP = 128;

/** How a weight matrix is stored on the GPU. */
export type WeightFormat = "f32" | "f16" | "int8" | "int4";

/** A quantised weight matrix `[N, K]` on the GPU. */
export interface QuantWeight {
  /** "int8" or "int4". */
  readonly format: "int8" | "int4";
  /** `[N, K]`: output and input widths. */
  readonly shape: readonly [number, number];
  /** The codes, as stored (I8 `[N, K]` or U8 `[N, K/2]`). */
  readonly codes: GPUBuffer;
  /** The scales as f16 bits (`[N]` or `[N, ceil(K/128)]`). */
  readonly scales: GPUBuffer;
}

/** A weight matrix `[N, K]` in any {@link WeightFormat}. */
export type Weight = GpuTensor | QuantWeight;

/** Whether `w` is quantised. */
export function isQuant(w: Weight): w is QuantWeight {
  return "codes" in w;
}

/** The format of `w`. *
 * @example
 * ```ts
 * const t = { buffer: {} as GPUBuffer, shape: [2, 2], dtype: "f16" as const };
 * if (weightFormat(t) !== "f16") throw new Error();
 * ```
 */
export function weightFormat(w: Weight): WeightFormat {
  if (isQuant(w)) return w.format;
  if (w.dtype === "u32") throw new KernelError("weight", "a u32 tensor is not a weight");
  return w.dtype;
}

/** Bytes a kernel streams to read all of `w` once (codes plus scales). */
export function weightBytes(w: Weight): number {
  const [n, k] = w.shape;
  switch (weightFormat(w)) {
    case "f32":
      return n * k * 4;
    case "f16":
      return n * k * 2;
    case "int8":
      return n * k + 2 * n;
    case "int4":
      return (n * k) / 2 + 2 * n * Math.ceil(k / INT4_GROUP);
  }
}

/** Releases the buffers of `w`. */
export function destroyWeight(w: Weight): void {
  if (isQuant(w)) {
    w.codes.destroy();
    w.scales.destroy();
  } else w.buffer.destroy();
}

/**
 * Uploads quantised codes and f16 scale bits as a {@link QuantWeight}, checking their sizes
 * against `[n, k]`.
 */
export function uploadQuant(
  gpu: Gpu,
  format: "int8" | "int4",
  shape: readonly [number, number],
  codes: Uint8Array,
  scales: Uint16Array,
): QuantWeight {
  const [n, k] = shape;
  const want = quantSizes(format, n, k);
  if (codes.length !== want.codes || scales.length !== want.scales) {
    throw new KernelError(
      "weight",
      `${format} [${n}, ${k}]: expected ${want.codes} code bytes and ${want.scales} scales, got ` +
        `${codes.length} and ${scales.length}`,
    );
  }
  if (format === "int4" && k % 8) {
    throw new KernelError("weight", `int4 needs K a multiple of 8, got ${k}`);
  }
  const bytes = new Uint8Array(scales.buffer, scales.byteOffset, scales.byteLength);
  return { format, shape: [n, k], codes: gpu.raw(codes), scales: gpu.raw(bytes) };
}

/** Code bytes and scale count of a quantised `[n, k]` matrix. */
export function quantSizes(
  format: "int8" | "int4",
  n: number,
  k: number,
): { codes: number; scales: number } {
  return format === "int8"
    ? { codes: n * k, scales: n }
    : { codes: n * Math.ceil(k / 2), scales: n * Math.ceil(k / INT4_GROUP) };
}

/**
 * WGSL declaring weight `w` (binding `wb`; int formats also scales `wsc` at binding `sb`) and the
 * loaders `wl(n, k, kd) -> f32` and `wl4(n, k, kd) -> vec4f` (k a multiple of 4, kd = K).
 * `vec4` binds f32/f16 weights as arrays of vec4 (needs K a multiple of 4) for wide loads.
 *
 * @example
 * ```ts
 * if (!weightWgsl("int4", 1, 5).includes("unpack2x16float")) throw new Error();
 * ```
 */
export function weightWgsl(format: WeightFormat, wb: number, sb: number, vec4 = false): string {
  const scale = `@group(0) @binding(${sb}) var<storage, read> wsc: array<u32>;
fn sc(j: u32) -> f32 { return unpack2x16float(wsc[j >> 1u])[j & 1u]; }`;
  switch (format) {
    case "f32":
    case "f16": {
      const t = format;
      if (vec4) {
        return `@group(0) @binding(${wb}) var<storage, read> w: array<vec4<${t}>>;
fn wl4(n: u32, k: u32, kd: u32) -> vec4f { return vec4f(w[(n * kd + k) >> 2u]); }
fn wl(n: u32, k: u32, kd: u32) -> f32 { let i = n * kd + k; return f32(w[i >> 2u][i & 3u]); }`;
      }
      return `@group(0) @binding(${wb}) var<storage, read> w: array<${t}>;
fn wl(n: u32, k: u32, kd: u32) -> f32 { return f32(w[n * kd + k]); }
fn wl4(n: u32, k: u32, kd: u32) -> vec4f {
  let i = n * kd + k;
  return vec4f(f32(w[i]), f32(w[i + 1u]), f32(w[i + 2u]), f32(w[i + 3u]));
}`;
    }
    case "int8":
      // Sign-extend byte j of a word by shifting it to the top and back (arithmetic shift).
      return `@group(0) @binding(${wb}) var<storage, read> w: array<u32>;
${scale}
fn wl(n: u32, k: u32, kd: u32) -> f32 {
  let i = n * kd + k;
  return f32(i32(w[i >> 2u] << (24u - 8u * (i & 3u))) >> 24u) * sc(n);
}
fn wl4(n: u32, k: u32, kd: u32) -> vec4f {
  let q = w[(n * kd + k) >> 2u];
  let c = vec4i(i32(q << 24u), i32(q << 16u), i32(q << 8u), i32(q)) >> vec4u(24u);
  return vec4f(c) * sc(n);
}`;
    case "int4":
      return `@group(0) @binding(${wb}) var<storage, read> w: array<u32>;
${scale}
fn wl(n: u32, k: u32, kd: u32) -> f32 {
  let i = n * kd + k;
  let c = (w[i >> 3u] >> (4u * (i & 7u))) & 15u;
  return (f32(c) - 8.0) * sc(n * ((kd + ${INT4_GROUP - 1}u) / ${INT4_GROUP}u) + k / ${INT4_GROUP}u);
}
fn wl4(n: u32, k: u32, kd: u32) -> vec4f {
  let i = n * kd + k;
  let q = w[i >> 3u] >> (4u * (i & 7u));
  let c = (vec4u(q) >> vec4u(0u, 4u, 8u, 12u)) & vec4u(15u);
  return (vec4f(c) - 8.0) * sc(n * ((kd + ${
        INT4_GROUP - 1
      }u) / ${INT4_GROUP}u) + k / ${INT4_GROUP}u);
}`;
  }
}

/** The WGSL `enable` line a kernel reading `format` weights needs. */
export function weightEnables(format: WeightFormat): string {
  return format === "f16" ? "enable f16;\n" : "";
}

/** The buffers a kernel binds for `w`: the weight, and the scales (or null). */
export function weightBuffers(w: Weight): [GPUBuffer, GPUBuffer | null] {
  return isQuant(w) ? [w.codes, w.scales] : [w.buffer, null];
}

/** Checks `w` is `[n, k]` (either may be null: any) for `kernel` and returns `[N, K]`. */
export function checkWeight(kernel: string, w: Weight, k: number): [number, number] {
  if (w.shape.length !== 2 || w.shape[1] !== k) {
    throw new KernelError(kernel, `w: expected [N, ${k}], got [${w.shape}]`);
  }
  weightFormat(w);
  return [w.shape[0], w.shape[1]];
}

/**
 * The float64 reference of the dequantisation: `[n, k]` weights from codes (I8 or U8 values as
 * stored) and float scales.
 *
 * @example
 * ```ts
 * // int4: code 9 -> (9 - 8) * 0.5, code 6 -> -1; two codes per byte, low nibble first.
 * const w = dequantizeRef("int4", [0x69, 0x88, 0x88, 0x88], [0.5], 1, 8);
 * if (w.slice(0, 3).join() !== "0.5,-1,0") throw new Error(`${w}`);
 * ```
 */
export function dequantizeRef(
  format: "int8" | "int4",
  codes: ArrayLike<number>,
  scales: ArrayLike<number>,
  n: number,
  k: number,
): Float64Array {
  const out = new Float64Array(n * k);
  const groups = Math.ceil(k / INT4_GROUP);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      if (format === "int8") {
        const q = codes[r * k + c];
        out[r * k + c] = (q > 127 ? q - 256 : q) * scales[r];
      } else {
        const byte = codes[r * Math.ceil(k / 2) + (c >> 1)];
        const q = c & 1 ? byte >> 4 : byte & 15;
        out[r * k + c] = (q - 8) * scales[r * groups + Math.floor(c / INT4_GROUP)];
      }
    }
  }
  return out;
}
