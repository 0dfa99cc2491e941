/**
 * Reading members of a ZIP archive in place: the central directory is read once, then each
 * member is read by seeking to it, so a multi-gigabyte archive (ScanNet's
 * `_2d-instance-filt.zip`) is never loaded whole. Stored and deflated members, ZIP64 sizes and
 * offsets; CRC-32 checked.
 *
 * @module
 */

import { inflateSync } from "fflate";
import { DataError } from "./errors.ts";
import { readAt } from "./file.ts";

interface Entry {
  method: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
}

/**
 * An open ZIP archive.
 *
 * @example
 * ```ts
 * import { zipSync } from "fflate";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/a.zip`, zipSync({ "x/1.txt": new TextEncoder().encode("hi") }));
 * const zip = await ZipReader.open(`${dir}/a.zip`);
 * try {
 *   if (new TextDecoder().decode(await zip.read("x/1.txt")) !== "hi") throw new Error();
 * } finally {
 *   zip.close();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ZipReader {
  readonly #file: Deno.FsFile;
  readonly #entries: Map<string, Entry>;

  private constructor(readonly path: string, file: Deno.FsFile, entries: Map<string, Entry>) {
    this.#file = file;
    this.#entries = entries;
  }

  /** Opens `path` and reads its central directory; a {@link DataError} if it is no ZIP. */
  static async open(path: string): Promise<ZipReader> {
    const file = await Deno.open(path, { read: true });
    try {
      return new ZipReader(path, file, await readDirectory(file, path));
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** Member names, in directory order. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /** Whether the archive has a member `name`. */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The uncompressed bytes of member `name`. */
  async read(name: string): Promise<Uint8Array> {
    const e = this.#entries.get(name);
    if (!e) throw new DataError(this.path, name, "a member of the archive", "none");
    const head = await readAt(this.#file, e.offset, 30);
    const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
    if (head.length < 30 || v.getUint32(0, true) !== 0x04034b50) {
      throw new DataError(this.path, name, "a local file header", "bad signature");
    }
    const start = e.offset + 30 + v.getUint16(26, true) + v.getUint16(28, true);
    const raw = await readAt(this.#file, start, e.compressed);
    if (raw.length !== e.compressed) {
      throw new DataError(this.path, name, `${e.compressed} bytes`, `${raw.length} (truncated)`);
    }
    let out: Uint8Array;
    if (e.method === 0) out = raw;
    else if (e.method === 8) {
      try {
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        throw new DataError(this.path, name, "deflate data", (err as Error).message);
      }
    } else throw new DataError(this.path, name, "stored or deflated data", `method ${e.method}`);
    if (out.length !== e.size || crc32(out) !== e.crc) {
      throw new DataError(this.path, name, "data matching its CRC-32 and size", "corrupt data");
    }
    return out;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}

async function readDirectory(file: Deno.FsFile, path: string): Promise<Map<string, Entry>> {
  const size = (await file.stat()).size;
  // The end record is 22 bytes plus a comment of up to 65535.
  const tailLen = Math.min(size, 22 + 65535 + 20);
  const tail = await readAt(file, size - tailLen, tailLen);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new DataError(path, "end of central directory", "a ZIP archive", "none");
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // ZIP64: the locator just before the end record points at the ZIP64 end record.
    const loc = eocd - 20;
    if (loc < 0 || tv.getUint32(loc, true) !== 0x07064b50) {
      throw new DataError(path, "ZIP64 locator", "present for a ZIP64 archive", "none");
    }
    const rec = await readAt(file, Number(tv.getBigUint64(loc + 8, true)), 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rec.length < 56 || rv.getUint32(0, true) !== 0x06064b50) {
      throw new DataError(path, "ZIP64 end record", "a valid record", "bad signature");
    }
    count = Number(rv.getBigUint64(32, true));
    cdSize = Number(rv.getBigUint64(40, true));
    cdOffset = Number(rv.getBigUint64(48, true));
  }
  const cd = await readAt(file, cdOffset, cdSize);
  if (cd.length !== cdSize) {
    throw new DataError(path, "central directory", `${cdSize} bytes`, `${cd.length} (truncated)`);
  }
  const v = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const entries = new Map<string, Entry>();
  const decoder = new TextDecoder();
  let at = 0;
  for (let k = 0; k < count; k++) {
    if (at + 46 > cd.length || v.getUint32(at, true) !== 0x02014b50) {
      throw new DataError(path, `central directory entry ${k}`, "a valid header", "bad signature");
    }
    const nameLen = v.getUint16(at + 28, true), extraLen = v.getUint16(at + 30, true);
    const commentLen = v.getUint16(at + 32, true);
    const name = decoder.decode(cd.subarray(at + 46, at + 46 + nameLen));
    const e: Entry = {
      method: v.getUint16(at + 10, true),
      crc: v.getUint32(at + 16, true),
      compressed: v.getUint32(at + 20, true),
      size: v.getUint32(at + 24, true),
      offset: v.getUint32(at + 42, true),
    };
    // ZIP64 extra field: the 64-bit values, in this order, for the fields that overflowed.
    let x = at + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = v.getUint16(x, true), len = v.getUint16(x + 2, true);
      if (id === 0x0001) {
        let y = x + 4;
        if (e.size === 0xffffffff) e.size = Number(v.getBigUint64(y, true)), y += 8;
        if (e.compressed === 0xffffffff) e.compressed = Number(v.getBigUint64(y, true)), y += 8;
        if (e.offset === 0xffffffff) e.offset = Number(v.getBigUint64(y, true));
      }
      x += 4 + len;
    }
    entries.set(name, e);
    at = xEnd + commentLen;
  }
  return entries;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 (IEEE), as ZIP and PNG use.
 *
 * @example
 * ```ts
 * if (crc32(new TextEncoder().encode("123456789")) !== 0xcbf43926) throw new Error();
 * ```
 */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
