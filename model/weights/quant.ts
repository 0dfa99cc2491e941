/**
 * Weight quantisation of the language model's linears, in the layout of `source.ts`:
 * - int8, per output channel: `scale = f16(max|w_row| / 127)`, `q = clamp(round(w / scale),
 *   -127, 127)`;
 * - int4, symmetric groups of {@link INT4_GROUP} along the input: `scale = f16(max|w_group| / 7)`,
 *   `code = clamp(round(w / scale), -7, 7) + 8` (codes 1..15), two codes a byte, the low nibble
 *   the even column.
 * Error bound, per element: `|w - dequant(w)| <= scale / 2 * (1 + 2^-10) + 2^-24` (half a step,
 * the f16 rounding of the scale, and f16 subnormal scales), i.e. about `max / 254` (int8) and
 * `max / 14` (int4) of the row or group.
 *
 * @module
 */

import { fromF16, toF16Bytes } from "../../kernels/device.ts";
import { INT4_GROUP } from "./source.ts";

/** A quantised `[rows, cols]` matrix: codes and f16 scales, as bytes. */
export interface Quantized {
  qweight: Uint8Array;
  scales: Uint8Array;
}

function f16Scales(s: Float32Array): { bytes: Uint8Array; values: Float32Array } {
  const bytes = toF16Bytes(s);
  return { bytes, values: fromF16(new Uint16Array(bytes.buffer)) };
}

/**
 * int8 per output row of `w` `[rows, cols]`.
 *
 * @example
 * ```ts
 * const q = quantizeInt8(new Float32Array([1, -0.5, 0, 0]), 2);
 * const back = dequantizeInt8(q, 2);
 * if (Math.abs(back[1] + 0.5) > 1 / 254 || back[2] !== 0) throw new Error();
 * ```
 */
export function quantizeInt8(w: Float32Array, cols: number): Quantized {
  const rows = w.length / cols;
  const raw = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let i = r * cols; i < (r + 1) * cols; i++) m = Math.max(m, Math.abs(w[i]));
    raw[r] = m / 127;
  }
  const { bytes, values } = f16Scales(raw);
  const q = new Int8Array(w.length);
  for (let r = 0; r < rows; r++) {
    const s = values[r];
    if (s === 0) continue;
    for (let i = r * cols; i < (r + 1) * cols; i++) {
      q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / s)));
    }
  }
  return { qweight: new Uint8Array(q.buffer), scales: bytes };
}

/** Float32 values of an int8 matrix `[rows, cols]`. */
export function dequantizeInt8(q: Quantized, cols: number): Float32Array {
  const codes = new Int8Array(q.qweight.buffer, q.qweight.byteOffset, q.qweight.length);
  const s = fromF16(new Uint16Array(q.scales.slice().buffer));
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i] * s[Math.floor(i / cols)];
  return out;
}

/**
 * int4 in groups of 128 along each row of `w` `[rows, cols]` (`cols` a multiple of 8).
 *
 * @example
 * ```ts
 * const w = Float32Array.from({ length: 8 }, (_, i) => i - 4);
 * const back = dequantizeInt4(quantizeInt4(w, 8), 8);
 * if (back.some((v, i) => Math.abs(v - w[i]) > 4 / 14 + 1e-3)) throw new Error();
 * ```
 */
export function quantizeInt4(w: Float32Array, cols: number): Quantized {
  if (cols % 8 !== 0) throw new Error(`int4 needs a multiple of 8 input columns, got ${cols}`);
  const rows = w.length / cols, groups = Math.ceil(cols / INT4_GROUP);
  const raw = new Float32Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      let m = 0;
      const end = Math.min(cols, (g + 1) * INT4_GROUP);
      for (let i = g * INT4_GROUP; i < end; i++) m = Math.max(m, Math.abs(w[r * cols + i]));
      raw[r * groups + g] = m / 7;
    }
  }
  const { bytes, values } = f16Scales(raw);
  const q = new Uint8Array(w.length / 2);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < cols; i++) {
      const s = values[r * groups + Math.floor(i / INT4_GROUP)];
      const code = s === 0 ? 8 : Math.max(-7, Math.min(7, Math.round(w[r * cols + i] / s))) + 8;
      const at = (r * cols + i) >> 1;
      q[at] |= i % 2 === 0 ? code : code << 4;
    }
  }
  return { qweight: q, scales: bytes };
}

/** Float32 values of an int4 matrix `[rows, cols]`. */
export function dequantizeInt4(q: Quantized, cols: number): Float32Array {
  const groups = Math.ceil(cols / INT4_GROUP);
  const s = fromF16(new Uint16Array(q.scales.slice().buffer));
  const out = new Float32Array(q.qweight.length * 2);
  for (let e = 0; e < out.length; e++) {
    const r = Math.floor(e / cols), i = e % cols;
    const byte = q.qweight[e >> 1];
    const code = e % 2 === 0 ? byte & 0xf : byte >> 4;
    out[e] = (code - 8) * s[r * groups + Math.floor(i / INT4_GROUP)];
  }
  return out;
}
