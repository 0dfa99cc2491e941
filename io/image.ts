/**
 * Image codecs: thin wrappers over maintained npm libraries (fast-png, jpeg-js), with the
 * pixel layouts ScanNet uses (8-bit colour JPEG, 16-bit depth PNG in millimetres, 8-bit
 * instance PNG).
 *
 * @module
 */

import { decode as pngDecode, encode as pngEncode } from "fast-png";
import jpeg from "jpeg-js";

/** A decoded image: `channels` interleaved samples per pixel. */
export interface Image<T extends Uint8Array | Uint16Array = Uint8Array | Uint16Array> {
  width: number;
  height: number;
  channels: number;
  data: T;
}

/** Deflate level for PNG output: 3 keeps files small at a fraction of level 6's time. */
const PNG_LEVEL = 3;

/**
 * Encodes a one-channel 8-bit image (instance masks) as PNG.
 *
 * @example
 * ```ts
 * const png = encodePng8(Uint8Array.of(0, 1, 2, 255), 2, 2);
 * const back = decodePng(png);
 * if (back.data[3] !== 255 || back.channels !== 1) throw new Error();
 * ```
 */
export function encodePng8(data: Uint8Array, width: number, height: number): Uint8Array {
  return pngEncode({ width, height, data, depth: 8, channels: 1 }, { zlib: { level: PNG_LEVEL } });
}

/**
 * Encodes a one-channel 16-bit image (depth in millimetres) as PNG.
 *
 * @example
 * ```ts
 * const png = encodePng16(Uint16Array.of(1000, 65535), 2, 1);
 * const back = decodePng(png);
 * if (back.data[0] !== 1000 || !(back.data instanceof Uint16Array)) throw new Error();
 * ```
 */
export function encodePng16(data: Uint16Array, width: number, height: number): Uint8Array {
  return pngEncode({ width, height, data, depth: 16, channels: 1 }, { zlib: { level: PNG_LEVEL } });
}

/**
 * Decodes a PNG; 16-bit images come back as `Uint16Array`.
 *
 * @example
 * ```ts
 * const img = decodePng(encodePng8(new Uint8Array(6), 3, 2));
 * if (img.width !== 3 || img.height !== 2) throw new Error();
 * ```
 */
export function decodePng(bytes: Uint8Array): Image {
  const png = pngDecode(bytes);
  const data = png.data instanceof Uint16Array
    ? png.data
    : new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
  return { width: png.width, height: png.height, channels: png.channels, data };
}

/**
 * Encodes RGBA pixels (alpha ignored) as a baseline JPEG.
 *
 * @example
 * ```ts
 * const rgba = new Uint8Array(8 * 8 * 4).fill(200);
 * const img = decodeJpeg(encodeJpeg(rgba, 8, 8));
 * if (Math.abs(img.data[0] - 200) > 2) throw new Error();
 * ```
 */
export function encodeJpeg(
  rgba: Uint8Array,
  width: number,
  height: number,
  quality = 90,
): Uint8Array {
  return jpeg.encode({ data: rgba, width, height }, quality).data;
}

/**
 * Decodes a JPEG to RGBA pixels.
 *
 * @example
 * ```ts
 * const img = decodeJpeg(encodeJpeg(new Uint8Array(16 * 4), 4, 4));
 * if (img.channels !== 4 || img.data.length !== 64) throw new Error();
 * ```
 */
export function decodeJpeg(bytes: Uint8Array): Image<Uint8Array> {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return { width: img.width, height: img.height, channels: 4, data: img.data };
}

/** What a PNG's header says, read without decoding the pixels. */
export interface PngInfo {
  width: number;
  height: number;
  /** Bits per sample: 1, 2, 4, 8 or 16. */
  bitDepth: number;
  /** Samples per pixel (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA; 1 for a palette). */
  channels: number;
  /** The colour type in words (`greyscale`, `RGB`, `palette`, ...). */
  colorType: string;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_COLOR_TYPES: Record<number, [string, number]> = {
  0: ["greyscale", 1],
  2: ["RGB", 3],
  3: ["palette", 1],
  4: ["greyscale + alpha", 2],
  6: ["RGBA", 4],
};

/**
 * The size, bit depth and colour type from a PNG's `IHDR` chunk, or undefined when `bytes` do
 * not start like a PNG.
 *
 * @example
 * ```ts
 * const info = pngInfo(encodePng8(new Uint8Array(6), 3, 2));
 * if (info?.bitDepth !== 8 || info.channels !== 1 || info.width !== 3) throw new Error();
 * if (pngInfo(encodePng16(new Uint16Array(1), 1, 1))?.bitDepth !== 16) throw new Error();
 * ```
 */
export function pngInfo(bytes: Uint8Array): PngInfo | undefined {
  if (bytes.length < 29 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [colorType, channels] = PNG_COLOR_TYPES[bytes[25]] ?? [`colour type ${bytes[25]}`, 0];
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    bitDepth: bytes[24],
    channels,
    colorType,
  };
}
