/**
 * The frame rate of an MP4 or QuickTime (`.mov`) video, read from its headers without decoding:
 * frame metadata records the source video's `fps` (DECISIONS 10).
 *
 * Only box headers and the `moov` box are read (the media data is skipped by seeking).
 *
 * @module
 */

import { DataError } from "./errors.ts";
import { readAt } from "./file.ts";

/** What {@link videoInfo} reads from the first video track. */
export interface VideoInfo {
  /** Frames per second: sample count over duration. */
  fps: number;
  frames: number;
  /** Seconds. */
  duration: number;
}

/**
 * Reads the first video track's frame count, duration and frame rate from an MP4/MOV file.
 *
 * @example
 * ```ts ignore
 * const { fps } = await videoInfo("scene0000_00.mp4"); // 24
 * ```
 */
export async function videoInfo(path: string): Promise<VideoInfo> {
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    let at = 0;
    while (at + 8 <= size) {
      const head = await readAt(file, at, 16);
      const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
      let len = v.getUint32(0);
      const type = String.fromCharCode(...head.subarray(4, 8));
      let headLen = 8;
      if (len === 1) {
        len = Number(v.getBigUint64(8));
        headLen = 16;
      } else if (len === 0) len = size - at;
      if (len < headLen) break;
      if (type === "moov") {
        const moov = await readAt(file, at + headLen, len - headLen);
        const info = parseMoov(moov);
        if (info) return info;
        break;
      }
      at += len;
    }
  } finally {
    file.close();
  }
  throw new DataError(path, "moov", "an MP4/MOV file with a video track", "none");
}

/**
 * The first video track's timing from the bytes of a `moov` box's payload, or undefined.
 *
 * @example
 * ```ts
 * // moov > trak > mdia > { hdlr 'vide', mdhd (timescale 24000), minf > stbl > stts (10 x 1001) }
 * const box = (type: string, ...parts: Uint8Array[]) => {
 *   const len = 8 + parts.reduce((s, p) => s + p.length, 0);
 *   const out = new Uint8Array(len);
 *   new DataView(out.buffer).setUint32(0, len);
 *   out.set(new TextEncoder().encode(type), 4);
 *   let at = 8;
 *   for (const p of parts) out.set(p, at), at += p.length;
 *   return out;
 * };
 * const u32s = (...xs: number[]) => {
 *   const b = new Uint8Array(4 * xs.length);
 *   xs.forEach((x, i) => new DataView(b.buffer).setUint32(4 * i, x));
 *   return b;
 * };
 * const hdlr = box("hdlr", u32s(0, 0), new TextEncoder().encode("vide"), u32s(0, 0, 0));
 * const mdhd = box("mdhd", u32s(0, 0, 0, 24000, 10010, 0));
 * const stts = box("stts", u32s(0, 1, 10, 1001));
 * const moov = box("trak", box("mdia", hdlr, mdhd, box("minf", box("stbl", stts))));
 * const info = parseMoov(moov)!;
 * if (info.frames !== 10 || Math.abs(info.fps - 23.976) > 1e-3) throw new Error(JSON.stringify(info));
 * ```
 */
export function parseMoov(moov: Uint8Array): VideoInfo | undefined {
  for (const trak of children(moov, "trak")) {
    const mdia = children(trak, "mdia")[0];
    if (!mdia) continue;
    const hdlr = children(mdia, "hdlr")[0];
    if (!hdlr || String.fromCharCode(...hdlr.subarray(8, 12)) !== "vide") continue;
    const mdhd = children(mdia, "mdhd")[0];
    const stbl = children(children(mdia, "minf")[0] ?? new Uint8Array(), "stbl")[0];
    const stts = stbl && children(stbl, "stts")[0];
    if (!mdhd || !stts) continue;
    const mv = new DataView(mdhd.buffer, mdhd.byteOffset, mdhd.byteLength);
    const timescale = mdhd[0] === 1 ? mv.getUint32(20) : mv.getUint32(12);
    const sv = new DataView(stts.buffer, stts.byteOffset, stts.byteLength);
    const entries = sv.getUint32(4);
    let frames = 0, ticks = 0;
    for (let i = 0; i < entries && 8 + 8 * i + 8 <= stts.length; i++) {
      const count = sv.getUint32(8 + 8 * i), delta = sv.getUint32(12 + 8 * i);
      frames += count;
      ticks += count * delta;
    }
    if (!(timescale > 0 && ticks > 0)) continue;
    const duration = ticks / timescale;
    return { fps: frames / duration, frames, duration };
  }
  return undefined;
}

/** Payloads of the direct children of type `type` in a box payload. */
function children(payload: Uint8Array, type: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let at = 0;
  while (at + 8 <= payload.length) {
    let len = v.getUint32(at);
    let head = 8;
    if (len === 1 && at + 16 <= payload.length) {
      len = Number(v.getBigUint64(at + 8));
      head = 16;
    } else if (len === 0) len = payload.length - at;
    if (len < head || at + len > payload.length) break;
    if (String.fromCharCode(...payload.subarray(at + 4, at + 8)) === type) {
      out.push(payload.subarray(at + head, at + len));
    }
    at += len;
  }
  return out;
}
