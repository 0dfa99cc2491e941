/**
 * A small `.sens` writer for tests (ScanNet's `sensorData.h` layout), so the reader is tested
 * against a stream the test builds itself.
 *
 * @module
 */

import { zlibSync } from "fflate";

/** A frame to write: raw camera-to-world, encoded colour, depth in millimetres. */
export interface SensFrameIn {
  pose: ArrayLike<number>;
  color: Uint8Array;
  depth: Uint16Array;
  timestamp?: number;
}

/** Stream settings. */
export interface SensIn {
  intrinsicColor: ArrayLike<number>;
  intrinsicDepth: ArrayLike<number>;
  colorWidth: number;
  colorHeight: number;
  depthWidth: number;
  depthHeight: number;
  frames: SensFrameIn[];
}

/** Encodes a `.sens` file: JPEG colour (type 2), zlib depth (type 1), depth shift 1000. */
export function encodeSens(s: SensIn): Uint8Array {
  const parts: Uint8Array[] = [];
  const u32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    parts.push(b);
  };
  const i32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    parts.push(b);
  };
  const u64 = (v: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    parts.push(b);
  };
  const f32s = (m: ArrayLike<number>) => {
    const b = new Uint8Array(4 * m.length);
    const v = new DataView(b.buffer);
    for (let i = 0; i < m.length; i++) v.setFloat32(4 * i, m[i], true);
    parts.push(b);
  };
  const eye = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  const name = new TextEncoder().encode("StructureSensor");
  u32(4);
  u64(name.length);
  parts.push(name);
  f32s(s.intrinsicColor);
  f32s(eye);
  f32s(s.intrinsicDepth);
  f32s(eye);
  i32(2);
  i32(1);
  u32(s.colorWidth);
  u32(s.colorHeight);
  u32(s.depthWidth);
  u32(s.depthHeight);
  f32s([1000]);
  u64(s.frames.length);
  s.frames.forEach((f, i) => {
    f32s(f.pose);
    const t = f.timestamp ?? i * 33333;
    u64(t);
    u64(t);
    const raw = new Uint8Array(f.depth.length * 2);
    const dv = new DataView(raw.buffer);
    f.depth.forEach((d, k) => dv.setUint16(2 * k, d, true));
    const depth = zlibSync(raw);
    u64(f.color.length);
    u64(depth.length);
    parts.push(f.color, depth);
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
