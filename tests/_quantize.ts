/**
 * A test-side quantiser for the int8/int4 layout of model/weights/source.ts (symmetric, f16
 * scales), so kernel and model tests can build quantised weights; the converter owns the real
 * one (`vlm3r convert --quantize`).
 *
 * @module
 */

import { fromF16, toF16Bytes } from "../kernels/device.ts";
import { INT4_GROUP } from "../kernels/linear_q.ts";
import type { HostTensor } from "../model/weights/safetensors.ts";

/** Quantised codes and f16 scales of one `[n, k]` matrix. */
export interface Quantized {
  format: "int8" | "int4";
  /** I8 `[n, k]` or U8 `[n, k/2]` bytes. */
  codes: Uint8Array;
  /** f16 bits. */
  scales: Uint16Array;
  /** The same scales widened. */
  scaleValues: Float32Array;
}

/** Symmetric quantisation of `w` (`[n, k]` row-major). */
export function quantize(
  format: "int8" | "int4",
  w: ArrayLike<number>,
  n: number,
  k: number,
): Quantized {
  const group = format === "int8" ? k : INT4_GROUP;
  const groups = Math.ceil(k / group);
  const qmax = format === "int8" ? 127 : 7;
  const raw = new Float32Array(n * groups);
  for (let r = 0; r < n; r++) {
    for (let g = 0; g < groups; g++) {
      let m = 0;
      for (let c = g * group; c < Math.min(k, (g + 1) * group); c++) {
        m = Math.max(m, Math.abs(w[r * k + c]));
      }
      raw[r * groups + g] = m / qmax || 1;
    }
  }
  const scales = new Uint16Array(toF16Bytes(raw).buffer);
  const scaleValues = fromF16(scales);
  const codes = new Uint8Array(format === "int8" ? n * k : n * Math.ceil(k / 2));
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const s = scaleValues[r * groups + Math.floor(c / group)];
      const q = Math.max(-qmax, Math.min(qmax, Math.round(w[r * k + c] / s)));
      if (format === "int8") codes[r * k + c] = q & 0xff;
      else codes[r * Math.ceil(k / 2) + (c >> 1)] |= (q + 8) << (c & 1 ? 4 : 0);
    }
  }
  return { format, codes, scales, scaleValues };
}

/**
 * Replaces each `<prefix>.weight` of the named linears by `<prefix>.qweight` and
 * `<prefix>.scales` as a converted model stores them (dtypes I8/U8 and F16).
 */
export function quantizeTensors(
  tensors: Map<string, HostTensor>,
  format: "int8" | "int4",
  linear: (name: string) => boolean,
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    if (!name.endsWith(".weight") || t.shape.length !== 2 || !linear(name)) {
      out.set(name, t);
      continue;
    }
    const [n, k] = t.shape;
    const q = quantize(format, t.data, n, k);
    const prefix = name.slice(0, -".weight".length);
    const codes = format === "int8"
      ? Float32Array.from(new Int8Array(q.codes.buffer))
      : Float32Array.from(q.codes);
    out.set(`${prefix}.qweight`, {
      shape: format === "int8" ? [n, k] : [n, Math.ceil(k / 2)],
      data: codes,
      stored: format === "int8" ? "I8" : "U8",
    });
    out.set(`${prefix}.scales`, {
      shape: format === "int8" ? [n] : [n, Math.ceil(k / INT4_GROUP)],
      data: q.scaleValues,
      stored: "F16",
    });
  }
  return out;
}
