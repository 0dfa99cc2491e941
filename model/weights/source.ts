/**
 * The one interface every part of the engine loads weights through: a {@link TensorSource} names
 * its tensors, tells their stored shape and dtype, and reads them (all rows, or a range of rows
 * of the first dimension, so that a 152,064-row embedding never has to be widened whole).
 *
 * Readers of safetensors files and folders, of PyTorch pickles, of the VLM-3R release layout and
 * of a converted model folder all implement it; {@link mapSource} wraps tensors already in memory
 * (tests, goldens).
 *
 * Quantised linears (language-model linears of a converted model, `vlm3r convert --quantize`)
 * replace `<prefix>.weight` [out, in] by two tensors:
 * - int8, per output channel: `<prefix>.qweight` I8 [out, in] and `<prefix>.scales` F16 [out];
 *   `w[o][i] = qweight[o][i] * scales[o]`.
 * - int4, groups of {@link INT4_GROUP} along the input: `<prefix>.qweight` U8 [out, in / 2], two
 *   4-bit codes per byte, the low nibble the even input column; `<prefix>.scales` F16
 *   [out, ceil(in / 128)]; `w[o][i] = (code - 8) * scales[o][floor(i / 128)]` (symmetric, codes
 *   1..15 used). `in` is a multiple of 8, so a row is whole u32 words of 8 codes.
 *
 * @module
 */

import { DataError } from "../../io/errors.ts";
import type { HostTensor, StoredDType } from "./safetensors.ts";

/** Input columns per int4 scale. */
export const INT4_GROUP = 128;

/** What a source knows about one tensor without reading it. */
export interface TensorInfo {
  /** Shape as stored, outermost first. */
  readonly shape: readonly number[];
  /** Element type as stored. */
  readonly dtype: StoredDType;
}

/** A range of rows (entries of the first dimension). */
export interface RowRange {
  readonly start: number;
  readonly count: number;
}

/** Raw little-endian bytes of a tensor (or of some of its rows), in its stored dtype. */
export interface RawTensor extends TensorInfo {
  readonly bytes: Uint8Array;
}

/** Named tensors that can be read one at a time. */
export interface TensorSource {
  /** Every tensor name, in the source's order. */
  readonly names: readonly string[];
  /** Shape and dtype of `name`, or `undefined` when the source lacks it. */
  info(name: string): TensorInfo | undefined;
  /** `name` (or some of its rows) widened to float32; a missing name is a `DataError`. */
  read(name: string, rows?: RowRange): Promise<HostTensor>;
  /** `name` (or some of its rows) as stored; a missing name is a `DataError`. */
  readRaw(name: string, rows?: RowRange): Promise<RawTensor>;
}

const BYTES: Record<StoredDType, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  U8: 1,
  I8: 1,
  I32: 4,
  I64: 8,
};

/** Bytes per element of a stored dtype. */
export function dtypeBytes(dtype: StoredDType): number {
  return BYTES[dtype];
}

/**
 * A source over tensors already in memory (their `data` is float32; `readRaw` gives F32 bytes).
 * `label` names the source in errors.
 *
 * @example
 * ```ts
 * const src = mapSource(
 *   new Map([["w", { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]), stored: "F32" as const }]]),
 * );
 * const row = await src.read("w", { start: 1, count: 1 });
 * if (row.data.join() !== "3,4" || row.shape.join() !== "1,2") throw new Error();
 * ```
 */
export function mapSource(
  tensors: ReadonlyMap<string, HostTensor>,
  label = "memory",
): TensorSource {
  const get = (name: string): HostTensor => {
    const t = tensors.get(name);
    if (!t) throw new DataError(label, name, "a tensor of that name", "none");
    return t;
  };
  const slice = (t: HostTensor, rows?: RowRange): HostTensor => {
    if (!rows) return t;
    const [n, ...rest] = t.shape;
    checkRows(label, "", n, rows);
    const width = rest.reduce((a, b) => a * b, 1);
    return {
      shape: [rows.count, ...rest],
      data: t.data.slice(rows.start * width, (rows.start + rows.count) * width),
      stored: t.stored,
    };
  };
  return {
    names: [...tensors.keys()],
    info(name) {
      const t = tensors.get(name);
      return t && { shape: t.shape, dtype: "F32" };
    },
    read(name, rows) {
      return Promise.resolve(slice(get(name), rows));
    },
    readRaw(name, rows) {
      const t = slice(get(name), rows);
      const data = t.data.slice();
      return Promise.resolve({ shape: t.shape, dtype: "F32", bytes: new Uint8Array(data.buffer) });
    },
  };
}

/** Throws a `DataError` unless `rows` lies within `n` rows. */
export function checkRows(file: string, name: string, n: number | undefined, rows: RowRange) {
  const ok = n !== undefined && Number.isInteger(rows.start) && Number.isInteger(rows.count) &&
    rows.start >= 0 && rows.count >= 0 && rows.start + rows.count <= n;
  if (!ok) {
    throw new DataError(
      file,
      name || "rows",
      `rows within [0, ${n ?? 0})`,
      `[${rows.start}, ${rows.start + rows.count})`,
    );
  }
}
