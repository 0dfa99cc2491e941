/**
 * Base64 in fixed-width lines, for embedding binary assets in TypeScript modules.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/**
 * Encodes `bytes` as base64 split into lines of `width` characters.
 *
 * @example
 * ```ts
 * const lines = encodeBase64Lines(new Uint8Array([1, 2, 3, 4]), 4);
 * if (lines.join("") !== "AQIDBA==" || lines.length !== 2) throw new Error(lines.join("|"));
 * ```
 */
export function encodeBase64Lines(bytes: Uint8Array, width: number): string[] {
  let s = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] +
      (i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : "=") +
      (i + 2 < bytes.length ? ALPHABET[n & 63] : "=");
  }
  const lines: string[] = [];
  for (let i = 0; i < s.length; i += width) lines.push(s.slice(i, i + width));
  return lines;
}

/**
 * Decodes base64 lines back into bytes.
 *
 * @example
 * ```ts
 * const b = decodeBase64Lines(["AQID", "BA=="]);
 * if (b.join(",") !== "1,2,3,4") throw new Error(b.join(","));
 * ```
 */
export function decodeBase64Lines(lines: readonly string[]): Uint8Array<ArrayBuffer> {
  const s = lines.join("").replace(/=+$/, "");
  const out = new Uint8Array(Math.floor(s.length * 3 / 4));
  let bits = 0, acc = 0, o = 0;
  for (let i = 0; i < s.length; i++) {
    const v = VALUE[s.charCodeAt(i)];
    if (v < 0) throw new RangeError(`not base64 at character ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  return out;
}
