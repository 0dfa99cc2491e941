/**
 * Reading safetensors files: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. F32, F16 and BF16
 * tensors are widened to float32.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import { fromF16 } from "../kernels/device.ts";

/** A tensor read from a safetensors file, widened to float32. */
export interface HostTensor {
  /** Shape, outermost first. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
  /** The dtype on disk. */
  stored: "F32" | "F16" | "BF16";
}

const WIDTH = { F32: 4, F16: 2, BF16: 2 } as const;

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
      throw new DataError(file, `${name}.dtype`, "F32, F16 or BF16", String(info.dtype));
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
    let values: Float32Array;
    if (dtype === "F32") values = new Float32Array(slice.buffer);
    else if (dtype === "F16") values = fromF16(new Uint16Array(slice.buffer));
    else {
      const half = new Uint16Array(slice.buffer);
      const wide = new Uint32Array(count);
      for (let i = 0; i < count; i++) wide[i] = half[i] << 16;
      values = new Float32Array(wide.buffer);
    }
    out.set(name, { shape, data: values, stored: dtype });
  }
  return out;
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
