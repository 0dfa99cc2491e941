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
import { checkRows, type RowRange, type TensorInfo, type TensorSource } from "./source.ts";
import { readAt } from "./zip.ts";

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

/**
 * Widens little-endian bytes of `dtype` to float32 (integers beyond +-2^24 are a `DataError`
 * naming `where`).
 *
 * @example
 * ```ts
 * if (widenBytes(new Uint8Array([0x80, 0x3f]), "BF16", "x")[0] !== 1) throw new Error();
 * ```
 */
export function widenBytes(bytes: Uint8Array, dtype: StoredDType, where: string): Float32Array {
  if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) {
    bytes = bytes.slice(); // typed-array views below need an aligned buffer of their own
  }
  return widen(bytes, dtype, where);
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

// ---------------------------------------------------------------------------------------------
// Lazy reading: the header first, tensor bytes on demand by file offset.

/** Where one tensor lies in a safetensors file. */
export interface SafetensorsEntry extends TensorInfo {
  /** Tensor name. */
  readonly name: string;
  /** The file holding it. */
  readonly file: string;
  /** Absolute file offset of its first byte. */
  readonly offset: number;
  /** Its size in bytes. */
  readonly bytes: number;
}

/** Reads and checks the header of a safetensors file: its entries, in data order. */
export async function readSafetensorsHeader(
  path: string,
): Promise<{ entries: SafetensorsEntry[]; metadata: Record<string, string> }> {
  const size = (await Deno.stat(path)).size;
  const head = await readAt(path, 0, Math.min(8, size), "header length");
  if (head.length < 8) {
    throw new DataError(path, "header length", "8 bytes", `${head.length} bytes`);
  }
  const n = Number(new DataView(head.buffer).getBigUint64(0, true));
  if (8 + n > size) throw new DataError(path, "header length", `<= ${size - 8}`, `${n}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(await readAt(path, 8, n, "header")));
  } catch {
    throw new DataError(path, "header", "JSON");
  }
  const dataStart = 8 + n, dataLength = size - dataStart;
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const info = raw as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const dtype = info.dtype as StoredDType;
    if (!(dtype in WIDTH)) {
      throw new DataError(path, `${name}.dtype`, Object.keys(WIDTH).join(", "), String(info.dtype));
    }
    const shape = info.shape ?? [];
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = info.data_offsets ?? [NaN, NaN];
    if (!(end - begin === count * WIDTH[dtype] && begin >= 0 && end <= dataLength)) {
      throw new DataError(
        path,
        `${name}.data_offsets`,
        `${count * WIDTH[dtype]} bytes inside ${dataLength}`,
        `[${begin}, ${end}]`,
      );
    }
    entries.push({ name, file: path, shape, dtype, offset: dataStart + begin, bytes: end - begin });
  }
  entries.sort((a, b) => a.offset - b.offset);
  return { entries, metadata: (header.__metadata__ ?? {}) as Record<string, string> };
}

/** A {@link TensorSource} over entries of safetensors files, read on demand. */
export function entriesSource(
  entries: ReadonlyMap<string, SafetensorsEntry>,
  label: string,
): TensorSource {
  const get = (name: string) => {
    const e = entries.get(name);
    if (!e) throw new DataError(label, name, "a tensor of that name", "none");
    return e;
  };
  const raw = async (name: string, rows?: RowRange) => {
    const e = get(name);
    let offset = e.offset, bytes = e.bytes;
    const shape = [...e.shape];
    if (rows) {
      checkRows(e.file, name, e.shape[0], rows);
      const rowBytes = e.shape[0] ? e.bytes / e.shape[0] : 0;
      offset += rows.start * rowBytes;
      bytes = rows.count * rowBytes;
      shape[0] = rows.count;
    }
    return { shape, dtype: e.dtype, bytes: await readAt(e.file, offset, bytes, name) };
  };
  return {
    names: [...entries.keys()],
    info: (name) => {
      const e = entries.get(name);
      return e && { shape: e.shape, dtype: e.dtype };
    },
    readRaw: raw,
    async read(name, rows) {
      const r = await raw(name, rows);
      return {
        shape: r.shape,
        data: widen(r.bytes, r.dtype, `${label}: ${name}`),
        stored: r.dtype,
      };
    },
  };
}

/**
 * Opens a safetensors file, or a folder of shards (`model.safetensors.index.json`, else its
 * single `*.safetensors` file), reading only the headers; tensors are read on demand, and a
 * range of rows reads only those rows.
 *
 * @example
 * ```ts
 * const src = await openSafetensors("tests/fixtures/fusion-tiny/inputs.safetensors");
 * const hv = await src.read("hv", { start: 1, count: 1 });
 * if (hv.shape.join() !== "1,49,96") throw new Error();
 * ```
 */
export async function openSafetensors(path: string): Promise<TensorSource> {
  if (!(await Deno.stat(path)).isDirectory) {
    const { entries } = await readSafetensorsHeader(path);
    return entriesSource(new Map(entries.map((e) => [e.name, e])), path);
  }
  const dir = path.replace(/\/+$/, "");
  const indexPath = `${dir}/model.safetensors.index.json`;
  let shards: string[];
  let weightMap: Record<string, string> | undefined;
  try {
    const index = JSON.parse(await Deno.readTextFile(indexPath));
    weightMap = index.weight_map;
    if (!weightMap || typeof weightMap !== "object") {
      throw new DataError(indexPath, "weight_map", "an object of tensor name -> shard file");
    }
    shards = [...new Set(Object.values(weightMap))].sort();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      if (e instanceof DataError) throw e;
      throw new DataError(indexPath, "JSON", "a safetensors index", (e as Error).message);
    }
    shards = [];
    for await (const f of Deno.readDir(dir)) {
      if (f.isFile && f.name.endsWith(".safetensors")) shards.push(f.name);
    }
    if (shards.length !== 1) {
      throw new DataError(
        dir,
        "model.safetensors.index.json",
        "an index, or exactly one .safetensors file",
        `${shards.length} .safetensors files and no index`,
      );
    }
  }
  const found = new Map<string, SafetensorsEntry>();
  for (const shard of shards) {
    if (shard.includes("/") || shard.includes("\\") || shard.startsWith(".")) {
      throw new DataError(indexPath, "weight_map", "file names inside the folder", shard);
    }
    const file = `${dir}/${shard}`;
    try {
      await Deno.stat(file);
    } catch {
      throw new DataError(indexPath, "weight_map", `shard ${shard} to exist`, "missing");
    }
    for (const e of (await readSafetensorsHeader(file)).entries) {
      found.set(e.name, e);
    }
  }
  const entries = new Map<string, SafetensorsEntry>();
  if (weightMap) {
    for (const [name, shard] of Object.entries(weightMap)) {
      const e = found.get(name);
      if (!e || !e.file.endsWith(`/${shard}`)) {
        throw new DataError(`${dir}/${shard}`, name, "the tensor the index puts there", "none");
      }
    }
  }
  // Model order: shard by shard, in data order within each.
  for (const [name, e] of found) entries.set(name, e);
  return entriesSource(entries, dir);
}

/** One tensor a {@link SafetensorsWriter} will write. */
export interface SafetensorsPlan {
  readonly name: string;
  readonly dtype: StoredDType;
  readonly shape: readonly number[];
}

/**
 * Writes a safetensors file tensor by tensor (the header, computed from the plan, first), so
 * that only one tensor is in memory at a time. Deterministic: header keys in plan order.
 */
export class SafetensorsWriter {
  #file: Deno.FsFile;
  #plan: SafetensorsPlan[];
  #next = 0;
  #pending = 0;

  private constructor(file: Deno.FsFile, plan: SafetensorsPlan[], readonly path: string) {
    this.#file = file;
    this.#plan = plan;
  }

  /** Bytes the file will have for `plan` (header included). */
  static size(plan: readonly SafetensorsPlan[], metadata?: Record<string, string>): number {
    const { header, data } = SafetensorsWriter.#header(plan, metadata);
    return 8 + header.length + data;
  }

  static #header(plan: readonly SafetensorsPlan[], metadata?: Record<string, string>) {
    const h: Record<string, unknown> = {};
    if (metadata) h.__metadata__ = metadata;
    let at = 0;
    for (const p of plan) {
      const n = p.shape.reduce((a, b) => a * b, 1) * WIDTH[p.dtype];
      h[p.name] = { dtype: p.dtype, shape: p.shape, data_offsets: [at, at + n] };
      at += n;
    }
    let json = JSON.stringify(h);
    json += " ".repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
    return { header: new TextEncoder().encode(json), data: at };
  }

  /** Creates `path` and writes the header of `plan`. */
  static async create(
    path: string,
    plan: readonly SafetensorsPlan[],
    metadata?: Record<string, string>,
  ): Promise<SafetensorsWriter> {
    const { header } = SafetensorsWriter.#header(plan, metadata);
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    const w = new SafetensorsWriter(file, [...plan], path);
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(header.length), true);
    await w.#write(len);
    await w.#write(header);
    return w;
  }

  async #write(bytes: Uint8Array) {
    let done = 0;
    while (done < bytes.length) done += await this.#file.write(bytes.subarray(done));
  }

  /** Writes (part of) the next tensor's bytes; a tensor may come in several calls. */
  async write(name: string, bytes: Uint8Array): Promise<void> {
    const p = this.#plan[this.#next];
    if (!p || p.name !== name) {
      throw new Error(`${this.path}: wrote ${name}, expected ${p?.name ?? "nothing more"}`);
    }
    const total = p.shape.reduce((a, b) => a * b, 1) * WIDTH[p.dtype];
    await this.#write(bytes);
    this.#pending += bytes.length;
    if (this.#pending > total) throw new Error(`${this.path}: ${name}: more than ${total} bytes`);
    if (this.#pending === total) {
      this.#next++;
      this.#pending = 0;
    }
  }

  /**
   * Checks every planned tensor was written, flushes (unless `sync` is false: the caller then
   * syncs the file later, e.g. while it writes the next one) and closes the file.
   */
  async close(options: { sync?: boolean } = {}): Promise<void> {
    try {
      if (this.#next !== this.#plan.length) {
        throw new Error(`${this.path}: ${this.#plan[this.#next].name} was not written`);
      }
      if (options.sync !== false) await this.#file.syncData();
    } finally {
      this.#file.close();
    }
  }

  /** Closes without checks (after a failure). */
  abort(): void {
    try {
      this.#file.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Writes tensors (float32 values stored as F32, or raw bytes of a dtype) to one safetensors
 * file.
 *
 * @example
 * ```ts
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensors(path, new Map([["a", { shape: [2], data: new Float32Array([1, 2]), stored: "F32" as const }]]));
 * if ((await readSafetensors(path)).get("a")!.data.join() !== "1,2") throw new Error();
 * await Deno.remove(path);
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<
    string,
    HostTensor | { shape: readonly number[]; dtype: StoredDType; bytes: Uint8Array }
  >,
  metadata?: Record<string, string>,
): Promise<void> {
  const items = [...tensors].map(([name, t]) =>
    "bytes" in t ? { name, dtype: t.dtype, shape: t.shape, bytes: t.bytes } : {
      name,
      dtype: "F32" as StoredDType,
      shape: t.shape,
      bytes: new Uint8Array(t.data.slice().buffer),
    }
  );
  const w = await SafetensorsWriter.create(path, items, metadata);
  try {
    for (const it of items) await w.write(it.name, it.bytes);
    await w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
}
