/**
 * ScanNet's `.sens` RGB-D stream (format of ScanNet's SensReader, `sensorData.h`), read in
 * place: the header and every frame's pose and offsets are indexed once, and colour and depth
 * are read per frame by seeking, so a multi-gigabyte stream is never loaded whole.
 *
 * Layout, little endian: `uint32 version (4)`, `uint64 n` + n bytes sensor name, four 4x4
 * float32 matrices (colour intrinsics, colour extrinsics, depth intrinsics, depth extrinsics),
 * `int32` colour and depth compression, `uint32` colour width, height, depth width, height,
 * `float32` depth shift, `uint64` frame count; per frame a 4x4 float32 camera-to-world,
 * `uint64` colour and depth timestamps, `uint64` colour and depth byte sizes, then the bytes.
 *
 * @module
 */

import { unzlibSync } from "fflate";
import { DataError } from "../io/errors.ts";
import { readAt } from "../io/file.ts";
import type { Mat4 } from "../geometry/pose.ts";

/** Colour compression codes of `.sens` (`COMPRESSION_TYPE_COLOR`). */
export const SENS_COLOR = { unknown: -1, raw: 0, png: 1, jpeg: 2 } as const;
/** Depth compression codes of `.sens` (`COMPRESSION_TYPE_DEPTH`). */
export const SENS_DEPTH = { unknown: -1, raw: 0, zlib: 1, occi: 2 } as const;

/** The stream header. */
export interface SensHeader {
  version: number;
  sensorName: string;
  intrinsicColor: Mat4;
  extrinsicColor: Mat4;
  intrinsicDepth: Mat4;
  extrinsicDepth: Mat4;
  colorCompression: number;
  depthCompression: number;
  colorWidth: number;
  colorHeight: number;
  depthWidth: number;
  depthHeight: number;
  /** Depth units per metre (1000: millimetres). */
  depthShift: number;
  frameCount: number;
}

/** One frame's pose, timestamps and where its data lies. */
export interface SensFrame {
  /** Camera-to-world as stored (raw scan frame); `-inf` where tracking was lost. */
  cameraToWorld: Mat4;
  timestampColor: number;
  timestampDepth: number;
  colorOffset: number;
  colorBytes: number;
  depthOffset: number;
  depthBytes: number;
}

const FRAME_HEAD = 16 * 4 + 4 * 8;

/**
 * An open `.sens` file.
 *
 * @example
 * ```ts ignore
 * const sens = await SensReader.open("scans/scene0000_00/scene0000_00.sens");
 * try {
 *   const depth = await sens.readDepth(0); // Uint16Array, millimetres
 * } finally {
 *   sens.close();
 * }
 * ```
 */
export class SensReader {
  readonly #file: Deno.FsFile;

  private constructor(
    readonly path: string,
    file: Deno.FsFile,
    readonly header: SensHeader,
    readonly frames: SensFrame[],
  ) {
    this.#file = file;
  }

  /** Opens and indexes `path`; a {@link DataError} names what is wrong with a bad file. */
  static async open(path: string): Promise<SensReader> {
    const file = await Deno.open(path, { read: true });
    try {
      const size = (await file.stat()).size;
      const { header, at } = await readHeader(file, path);
      const frames: SensFrame[] = [];
      let pos = at;
      for (let i = 0; i < header.frameCount; i++) {
        const head = await readAt(file, pos, FRAME_HEAD);
        if (head.length < FRAME_HEAD) {
          throw new DataError(path, `frame ${i}`, `${header.frameCount} frames`, "truncated file");
        }
        const v = view(head);
        const cameraToWorld = new Float64Array(16);
        for (let k = 0; k < 16; k++) cameraToWorld[k] = v.getFloat32(4 * k, true);
        const colorBytes = Number(v.getBigUint64(80, true));
        const depthBytes = Number(v.getBigUint64(88, true));
        const colorOffset = pos + FRAME_HEAD;
        const depthOffset = colorOffset + colorBytes;
        pos = depthOffset + depthBytes;
        if (pos > size) {
          throw new DataError(path, `frame ${i}`, `${header.frameCount} frames`, "truncated file");
        }
        frames.push({
          cameraToWorld,
          timestampColor: Number(v.getBigUint64(64, true)),
          timestampDepth: Number(v.getBigUint64(72, true)),
          colorOffset,
          colorBytes,
          depthOffset,
          depthBytes,
        });
      }
      return new SensReader(path, file, header, frames);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** The compressed colour bytes of frame `i` (a JPEG when `colorCompression` is 2). */
  async readColor(i: number): Promise<Uint8Array> {
    const f = this.frames[i];
    return await readAt(this.#file, f.colorOffset, f.colorBytes);
  }

  /** The depth of frame `i` in depth units (`depthShift` per metre), row-major. */
  async readDepth(i: number): Promise<Uint16Array> {
    const f = this.frames[i];
    const { depthWidth: w, depthHeight: h, depthCompression } = this.header;
    const raw = await readAt(this.#file, f.depthOffset, f.depthBytes);
    let bytes: Uint8Array;
    if (depthCompression === SENS_DEPTH.zlib) {
      try {
        bytes = unzlibSync(raw);
      } catch (e) {
        throw new DataError(this.path, `frame ${i} depth`, "zlib data", (e as Error).message);
      }
    } else if (depthCompression === SENS_DEPTH.raw) bytes = raw;
    else {
      throw new DataError(
        this.path,
        "depth compression",
        "raw (0) or zlib (1)",
        `${depthCompression}`,
      );
    }
    if (bytes.length !== 2 * w * h) {
      throw new DataError(
        this.path,
        `frame ${i} depth`,
        `${w}x${h} uint16`,
        `${bytes.length} bytes`,
      );
    }
    const out = new Uint16Array(w * h);
    const v = view(bytes);
    for (let k = 0; k < out.length; k++) out[k] = v.getUint16(2 * k, true);
    return out;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}

async function readHeader(
  file: Deno.FsFile,
  path: string,
): Promise<{ header: SensHeader; at: number }> {
  const start = await readAt(file, 0, 12);
  if (start.length < 12) throw new DataError(path, "header", "a .sens header", "truncated file");
  const sv = view(start);
  const version = sv.getUint32(0, true);
  if (version !== 4) throw new DataError(path, "version", "4", `${version}`);
  const nameLen = Number(sv.getBigUint64(4, true));
  if (nameLen > 4096) {
    throw new DataError(path, "sensor name", "a short string", `${nameLen} bytes`);
  }
  const restLen = nameLen + 4 * 64 + 4 * 2 + 4 * 4 + 4 + 8;
  const rest = await readAt(file, 12, restLen);
  if (rest.length < restLen) {
    throw new DataError(path, "header", "a .sens header", "truncated file");
  }
  const v = view(rest);
  const sensorName = new TextDecoder().decode(rest.subarray(0, nameLen));
  let at = nameLen;
  const mat = () => {
    const m = new Float64Array(16);
    for (let k = 0; k < 16; k++) m[k] = v.getFloat32(at + 4 * k, true);
    at += 64;
    return m;
  };
  const intrinsicColor = mat(),
    extrinsicColor = mat(),
    intrinsicDepth = mat(),
    extrinsicDepth = mat();
  const colorCompression = v.getInt32(at, true), depthCompression = v.getInt32(at + 4, true);
  at += 8;
  const [colorWidth, colorHeight, depthWidth, depthHeight] = [0, 1, 2, 3].map((k) =>
    v.getUint32(at + 4 * k, true)
  );
  at += 16;
  const depthShift = v.getFloat32(at, true);
  const frameCount = Number(v.getBigUint64(at + 4, true));
  return {
    header: {
      version,
      sensorName,
      intrinsicColor,
      extrinsicColor,
      intrinsicDepth,
      extrinsicDepth,
      colorCompression,
      depthCompression,
      colorWidth,
      colorHeight,
      depthWidth,
      depthHeight,
      depthShift,
      frameCount,
    },
    at: 12 + restLen,
  };
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
