/**
 * The zip container of PyTorch checkpoints (`torch.save` since 1.6): a central directory at the
 * end of the file lists the records (`<root>/data.pkl`, `<root>/data/<key>`, `<root>/version`),
 * each stored uncompressed and 64-byte aligned. {@link openZip} reads only the directory; record
 * bytes are read on demand by file offset, so a 3 GB checkpoint is never held in memory.
 * {@link writeZip} writes the same layout (used by `vlm3r model tiny` and the tests).
 *
 * @module
 */

import { inflateSync } from "fflate";
import { DataError } from "../../io/errors.ts";

/** One record of a zip archive. */
export interface ZipEntry {
  /** Path inside the archive. */
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  /** Bytes as stored in the file. */
  readonly compressedSize: number;
  /** Bytes after decompression. */
  readonly size: number;
  /** File offset of the record's local header. */
  readonly headerOffset: number;
}

/** An open zip archive: its directory, and reads of record bytes. */
export interface ZipArchive {
  /** The file it was read from. */
  readonly path: string;
  /** File size in bytes. */
  readonly fileSize: number;
  /** Records by name. */
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** `length` bytes of record `name` from byte `start` (of its uncompressed content). */
  read(name: string, start?: number, length?: number): Promise<Uint8Array>;
}

const EOCD = 0x06054b50, EOCD64 = 0x06064b50, LOCATOR64 = 0x07064b50;
const CENTRAL = 0x02014b50, LOCAL = 0x04034b50;

/**
 * Reads `length` bytes at `offset` of `path` (a short file is a `DataError` naming `what`).
 *
 * @example
 * ```ts ignore
 * const head = await readAt("model.safetensors", 0, 8);
 * ```
 */
export async function readAt(
  path: string,
  offset: number,
  length: number,
  what = "bytes",
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  if (length === 0) return out;
  using file = await Deno.open(path, { read: true });
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) {
      throw new DataError(path, what, `${length} bytes at offset ${offset}`, `${got} (file ends)`);
    }
    got += n;
  }
  return out;
}

/**
 * Opens a zip archive, reading only its central directory.
 *
 * @example
 * ```ts
 * const path = await Deno.makeTempFile({ suffix: ".zip" });
 * await writeZip(path, [{ name: "a/version", bytes: new TextEncoder().encode("3\n") }]);
 * const zip = await openZip(path);
 * if (new TextDecoder().decode(await zip.read("a/version")) !== "3\n") throw new Error();
 * await Deno.remove(path);
 * ```
 */
export async function openZip(path: string): Promise<ZipArchive> {
  const fileSize = (await Deno.stat(path)).size;
  const tailLen = Math.min(fileSize, 22 + 0xffff + 20);
  const tail = await readAt(path, fileSize - tailLen, tailLen, "zip end record");
  const view = new DataView(tail.buffer);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    throw new DataError(
      path,
      "zip end record",
      "a zip archive (torch.save writes one since PyTorch 1.6)",
      "none (truncated, or not a zip file)",
    );
  }
  let count = view.getUint16(at + 10, true);
  let dirSize = view.getUint32(at + 12, true);
  let dirOffset = view.getUint32(at + 16, true);
  if (at >= 20 && view.getUint32(at - 20, true) === LOCATOR64) {
    const rec64 = Number(view.getBigUint64(at - 20 + 8, true));
    const r = await readAt(path, rec64, 56, "zip64 end record");
    const v = new DataView(r.buffer);
    if (v.getUint32(0, true) !== EOCD64) {
      throw new DataError(path, "zip64 end record", "its signature", "other bytes");
    }
    count = Number(v.getBigUint64(32, true));
    dirSize = Number(v.getBigUint64(40, true));
    dirOffset = Number(v.getBigUint64(48, true));
  }
  if (dirOffset + dirSize > fileSize) {
    throw new DataError(
      path,
      "zip central directory",
      `${dirSize} bytes at ${dirOffset}`,
      `a ${fileSize}-byte file (truncated)`,
    );
  }
  const dir = await readAt(path, dirOffset, dirSize, "zip central directory");
  const dv = new DataView(dir.buffer);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || dv.getUint32(p, true) !== CENTRAL) {
      throw new DataError(
        path,
        `zip directory entry ${i}`,
        "a central directory header",
        "other bytes",
      );
    }
    const method = dv.getUint16(p + 10, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let headerOffset = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(dir.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extended information: the 64-bit values of the fields that read 0xffffffff.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dv.getUint16(e, true), len = dv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const next = () => {
          const v = Number(dv.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (headerOffset === 0xffffffff) headerOffset = next();
      }
      e += 4 + len;
    }
    if (method !== 0 && method !== 8) {
      throw new DataError(
        path,
        name,
        "a stored or deflated record",
        `compression method ${method}`,
      );
    }
    entries.set(name, { name, method, compressedSize, size, headerOffset });
    p = extraEnd + commentLen;
  }
  const dataStart = new Map<string, number>();
  const inflated = new Map<string, Uint8Array>();
  const startOf = async (entry: ZipEntry): Promise<number> => {
    const known = dataStart.get(entry.name);
    if (known !== undefined) return known;
    const h = await readAt(path, entry.headerOffset, 30, `${entry.name} (local header)`);
    const hv = new DataView(h.buffer);
    if (hv.getUint32(0, true) !== LOCAL) {
      throw new DataError(path, entry.name, "a local file header", "other bytes");
    }
    const start = entry.headerOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
    if (start + entry.compressedSize > fileSize) {
      throw new DataError(
        path,
        entry.name,
        `${entry.compressedSize} bytes at offset ${start}`,
        `a ${fileSize}-byte file (truncated)`,
      );
    }
    dataStart.set(entry.name, start);
    return start;
  };
  return {
    path,
    fileSize,
    entries,
    async read(name, start = 0, length) {
      const entry = entries.get(name);
      if (!entry) throw new DataError(path, name, "a record of that name in the zip", "none");
      const len = length ?? entry.size - start;
      if (start < 0 || len < 0 || start + len > entry.size) {
        throw new DataError(path, name, `bytes [${start}, ${start + len}) within ${entry.size}`);
      }
      const base = await startOf(entry);
      if (entry.method === 0) return await readAt(path, base + start, len, name);
      let whole = inflated.get(name);
      if (!whole) {
        whole = inflateSync(await readAt(path, base, entry.compressedSize, name));
        if (whole.length !== entry.size) {
          throw new DataError(path, name, `${entry.size} inflated bytes`, `${whole.length}`);
        }
        inflated.clear(); // keep at most one inflated record
        inflated.set(name, whole);
      }
      return whole.slice(start, start + len);
    },
  };
}

/** A record to write: its name and bytes (or a function producing them when written). */
export interface ZipInput {
  name: string;
  bytes: Uint8Array;
}

const ALIGN = 64; // torch's PyTorchStreamWriter aligns every record's data to 64 bytes

/**
 * Writes a stored (uncompressed) zip with every record's data 64-byte aligned, as
 * `torch.save` does (padding in an extra field), with zip64 records when the file is large.
 * Deterministic: fixed timestamps, records in the order given.
 */
export async function writeZip(path: string, records: readonly ZipInput[]): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  let offset = 0;
  const write = async (bytes: Uint8Array) => {
    let done = 0;
    while (done < bytes.length) done += await file.write(bytes.subarray(done));
    offset += bytes.length;
  };
  const central: Uint8Array[] = [];
  for (const r of records) {
    const name = new TextEncoder().encode(r.name);
    const crc = crc32(r.bytes);
    const headerStart = offset;
    const big = r.bytes.length >= 0xffffffff || headerStart >= 0xffffffff;
    const z64Len = big ? 20 : 0;
    const pad = (ALIGN - ((headerStart + 30 + name.length + z64Len + 4) % ALIGN)) % ALIGN;
    const local = new Uint8Array(30 + name.length + z64Len + 4 + pad);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, LOCAL, true);
    lv.setUint16(4, big ? 45 : 20, true);
    lv.setUint16(10, 0, true); // time 00:00
    lv.setUint16(12, 0, true); // date 1980-00-00, as torch writes
    lv.setUint32(14, crc, true);
    lv.setUint32(18, big ? 0xffffffff : r.bytes.length, true);
    lv.setUint32(22, big ? 0xffffffff : r.bytes.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, z64Len + 4 + pad, true);
    local.set(name, 30);
    let e = 30 + name.length;
    if (big) {
      lv.setUint16(e, 1, true);
      lv.setUint16(e + 2, 16, true);
      lv.setBigUint64(e + 4, BigInt(r.bytes.length), true);
      lv.setBigUint64(e + 12, BigInt(r.bytes.length), true);
      e += 20;
    }
    lv.setUint16(e, 0x4246, true); // "FB": torch's padding field
    lv.setUint16(e + 2, pad, true);
    await write(local);
    await write(r.bytes);
    const c64 = big ? 28 : 0;
    const c = new Uint8Array(46 + name.length + c64);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, CENTRAL, true);
    cv.setUint16(4, big ? 45 : 20, true);
    cv.setUint16(6, big ? 45 : 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, big ? 0xffffffff : r.bytes.length, true);
    cv.setUint32(24, big ? 0xffffffff : r.bytes.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, c64, true);
    cv.setUint32(42, big ? 0xffffffff : headerStart, true);
    c.set(name, 46);
    if (big) {
      const q = 46 + name.length;
      cv.setUint16(q, 1, true);
      cv.setUint16(q + 2, 24, true);
      cv.setBigUint64(q + 4, BigInt(r.bytes.length), true);
      cv.setBigUint64(q + 12, BigInt(r.bytes.length), true);
      cv.setBigUint64(q + 20, BigInt(headerStart), true);
    }
    central.push(c);
  }
  const dirOffset = offset;
  for (const c of central) await write(c);
  const dirSize = offset - dirOffset;
  const need64 = dirOffset >= 0xffffffff || records.length >= 0xffff;
  if (need64) {
    const rec = new Uint8Array(56 + 20);
    const v = new DataView(rec.buffer);
    v.setUint32(0, EOCD64, true);
    v.setBigUint64(4, 44n, true);
    v.setUint16(12, 45, true);
    v.setUint16(14, 45, true);
    v.setBigUint64(24, BigInt(records.length), true);
    v.setBigUint64(32, BigInt(records.length), true);
    v.setBigUint64(40, BigInt(dirSize), true);
    v.setBigUint64(48, BigInt(dirOffset), true);
    v.setUint32(56, LOCATOR64, true);
    v.setBigUint64(56 + 8, BigInt(offset), true);
    v.setUint32(56 + 16, 1, true);
    await write(rec);
  }
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, EOCD, true);
  ev.setUint16(8, Math.min(records.length, 0xffff), true);
  ev.setUint16(10, Math.min(records.length, 0xffff), true);
  ev.setUint32(12, Math.min(dirSize, 0xffffffff), true);
  ev.setUint32(16, need64 ? 0xffffffff : dirOffset, true);
  await write(end);
}

let crcTable: Uint32Array | undefined;

/**
 * CRC-32 (IEEE) of `bytes`, as zip records carry it.
 *
 * @example
 * ```ts
 * if (crc32(new TextEncoder().encode("123456789")) !== 0xcbf43926) throw new Error();
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
