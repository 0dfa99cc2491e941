/**
 * Reading safetensors files: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. Every tensor is widened
 * to float32: F32, F16 and BF16 exactly, and the integer types U8, I8, I32 and I64 (token ids,
 * uint8 frames) exactly as long as their values stay within +-2^24.
 *
 * @module
 */

import { DataError } from "../../io/errors.ts";
import { fromF16 } from "../../kernels/device.ts";

/** A tensor read from a safetensors file, widened to float32. */
export interface HostTensor {
  /** Shape, outermost first. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
  /** The dtype on disk. */
  stored: StoredDType;
}

/** The safetensors dtypes this reader widens to float32. */
export type StoredDType = keyof typeof WIDTH;

const WIDTH = { F32: 4, F16: 2, BF16: 2, U8: 1, I8: 1, I32: 4, I64: 8 } as const;
// Integers beyond this lose precision in float32.
const EXACT_INT = 2 ** 24;

/**
 * Parses a safetensors file's bytes; `file` names it in errors.
 *
 * @example
 * ```ts
 * const header = new TextEncoder().encode(
 *   JSON.stringify({ a: { dtype: "BF16", shape: [2], data_offsets: [0, 4] } }),
 * );
 * const bytes = new Uint8Array(8 + header.length + 4);
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
 * bytes.set(header, 8);
 * bytes.set([0x80, 0x3f, 0x00, 0xc0], 8 + header.length); // bf16 1.0 and -2.0
 * const t = parseSafetensors(bytes, "a.safetensors").get("a")!;
 * if (t.data.join() !== "1,-2") throw new Error();
 * ```
 */
export function parseSafetensors(bytes: Uint8Array, file: string): Map<string, HostTensor> {
  if (bytes.length < 8) {
    throw new DataError(file, "header length", "8 bytes", `${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) {
    throw new DataError(file, "header length", `<= ${bytes.length - 8}`, `${n}`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw new DataError(file, "header", "JSON");
  }
  const data = bytes.subarray(8 + n);
  const out = new Map<string, HostTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const info = raw as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const dtype = info.dtype as keyof typeof WIDTH;
    if (!(dtype in WIDTH)) {
      throw new DataError(file, `${name}.dtype`, Object.keys(WIDTH).join(", "), String(info.dtype));
    }
    const shape = info.shape ?? [];
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = info.data_offsets ?? [NaN, NaN];
    if (!(end - begin === count * WIDTH[dtype] && begin >= 0 && end <= data.length)) {
      throw new DataError(
        file,
        `${name}.data_offsets`,
        `${count * WIDTH[dtype]} bytes inside ${data.length}`,
        `[${begin}, ${end}]`,
      );
    }
    const slice = data.slice(begin, end); // copy: aligned for the typed-array views below
    out.set(name, { shape, data: widen(slice, dtype, `${file}: ${name}`), stored: dtype });
  }
  return out;
}

function widen(bytes: Uint8Array, dtype: StoredDType, where: string): Float32Array {
  switch (dtype) {
    case "F32":
      return new Float32Array(bytes.buffer);
    case "F16":
      return fromF16(new Uint16Array(bytes.buffer));
    case "BF16": {
      const half = new Uint16Array(bytes.buffer);
      const wide = new Uint32Array(half.length);
      for (let i = 0; i < half.length; i++) wide[i] = half[i] << 16;
      return new Float32Array(wide.buffer);
    }
    case "U8":
      return Float32Array.from(bytes);
    case "I8":
      return Float32Array.from(new Int8Array(bytes.buffer));
    case "I32":
    case "I64": {
      const ints = dtype === "I32"
        ? Array.from(new Int32Array(bytes.buffer), Number)
        : Array.from(new BigInt64Array(bytes.buffer), Number);
      const bad = ints.find((v) => Math.abs(v) > EXACT_INT);
      if (bad !== undefined) {
        throw new DataError(where, "value", `an integer within +-2^24`, String(bad));
      }
      return Float32Array.from(ints);
    }
  }
}

/**
 * Reads a safetensors file.
 *
 * @example
 * ```ts
 * const t = await readSafetensors("tests/fixtures/fusion-tiny/inputs.safetensors");
 * if (t.get("hv")!.shape.join() !== "2,49,96") throw new Error();
 * ```
 */
export async function readSafetensors(path: string): Promise<Map<string, HostTensor>> {
  return parseSafetensors(await Deno.readFile(path), path);
}
