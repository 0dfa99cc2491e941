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
