/**
 * Image resizing for exported frames: area averaging for colour (as OpenCV's `INTER_AREA`,
 * which the reference uses to shrink ScanNet colour to 640x480), nearest neighbour for depth
 * and label images (whose values must not be blended).
 *
 * @module
 */

/**
 * Resizes interleaved 8-bit pixels by area averaging: each output pixel is the mean of the
 * input area it covers, with fractional weights at the edges.
 *
 * @example
 * ```ts
 * // 4x2 -> 2x1: each output pixel averages a 2x2 block.
 * const out = resizeArea(Uint8Array.of(0, 10, 20, 30, 40, 50, 60, 70), 4, 2, 1, 2, 1);
 * if (out[0] !== 25 || out[1] !== 45) throw new Error(String(out));
 * ```
 */
export function resizeArea(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  if (width === outWidth && height === outHeight) return src.slice();
  const xs = weights(width, outWidth), ys = weights(height, outHeight);
  // Horizontal pass into floats, then vertical.
  const tmp = new Float64Array(outWidth * height * channels);
  for (let y = 0; y < height; y++) {
    for (let X = 0; X < outWidth; X++) {
      for (const [x, w] of xs[X]) {
        const s = (y * width + x) * channels, d = (y * outWidth + X) * channels;
        for (let c = 0; c < channels; c++) tmp[d + c] += w * src[s + c];
      }
    }
  }
  const out = new Uint8Array(outWidth * outHeight * channels);
  const acc = new Float64Array(channels);
  for (let Y = 0; Y < outHeight; Y++) {
    for (let X = 0; X < outWidth; X++) {
      acc.fill(0);
      for (const [y, w] of ys[Y]) {
        const s = (y * outWidth + X) * channels;
        for (let c = 0; c < channels; c++) acc[c] += w * tmp[s + c];
      }
      const d = (Y * outWidth + X) * channels;
      for (let c = 0; c < channels; c++) out[d + c] = Math.min(255, Math.round(acc[c]));
    }
  }
  return out;
}

/** For each output index, the input indices it covers and their weights (summing to 1). */
function weights(n: number, m: number): [number, number][][] {
  const scale = n / m;
  const out: [number, number][][] = [];
  for (let j = 0; j < m; j++) {
    const lo = j * scale, hi = (j + 1) * scale;
    const row: [number, number][] = [];
    for (let i = Math.floor(lo); i < Math.min(n, Math.ceil(hi)); i++) {
      const w = Math.min(hi, i + 1) - Math.max(lo, i);
      if (w > 1e-12) row.push([i, w / scale]);
    }
    out.push(row);
  }
  return out;
}

/**
 * Resizes one-channel values by nearest neighbour (OpenCV's `INTER_NEAREST` sampling:
 * source index `floor(j * n / m)`).
 *
 * @example
 * ```ts
 * const out = resizeNearest(Uint16Array.of(1, 2, 3, 4), 2, 2, 4, 4);
 * if (out.length !== 16 || out[0] !== 1 || out[3] !== 2 || out[15] !== 4) throw new Error(String(out));
 * ```
 */
export function resizeNearest<T extends Uint8Array | Uint16Array | Int32Array>(
  src: T,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): T {
  const ctor = src.constructor as new (n: number) => T;
  const out = new ctor(outWidth * outHeight);
  for (let Y = 0; Y < outHeight; Y++) {
    const y = Math.min(height - 1, Math.floor(Y * height / outHeight));
    for (let X = 0; X < outWidth; X++) {
      const x = Math.min(width - 1, Math.floor(X * width / outWidth));
      out[Y * outWidth + X] = src[y * width + x];
    }
  }
  return out;
}

/**
 * Width and height of an encoded PNG or JPEG, read from its header without decoding;
 * undefined for anything else.
 *
 * @example
 * ```ts
 * import { encodePng8 } from "./image.ts";
 * const s = encodedSize(encodePng8(new Uint8Array(6), 3, 2));
 * if (s?.width !== 3 || s.height !== 2) throw new Error();
 * ```
 */
export function encodedSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 24 && v.getUint32(0) === 0x89504e47) {
    return { width: v.getUint32(16), height: v.getUint32(20) };
  }
  if (bytes.length < 4 || v.getUint16(0) !== 0xffd8) return undefined;
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    const len = v.getUint16(at + 2);
    // Start-of-frame markers (baseline, progressive, ...) carry the size; C4, C8, CC do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { width: v.getUint16(at + 7), height: v.getUint16(at + 5) };
    }
    at += 2 + len;
  }
  return undefined;
}
