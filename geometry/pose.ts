/**
 * Rigid transforms and camera poses.
 *
 * Conventions (DECISIONS 1-2): matrices are 4x4, row-major, float64; a camera pose is
 * camera-to-world with OpenCV camera axes (+x right, +y down, +z forward); the camera centre
 * is the translation column. World frames are z-up, in metres.
 *
 * @module
 */

import type { Vec3 } from "./vec.ts";

/** A 4x4 matrix, row-major: element (r, c) is `m[4 * r + c]`. */
export type Mat4 = Float64Array;

/** A camera-to-world rigid transform, OpenCV camera axes. */
export type CameraPose = Mat4;

/** Pinhole intrinsics in pixels; pixel (u, v) integer coordinates are pixel centres. */
export interface Intrinsics {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
}

/**
 * The identity matrix.
 *
 * @example
 * ```ts
 * if (mat4Identity()[5] !== 1) throw new Error();
 * ```
 */
export function mat4Identity(): Mat4 {
  const m = new Float64Array(16);
  m[0] =
    m[5] =
    m[10] =
    m[15] =
      1;
  return m;
}

/**
 * `a * b`.
 *
 * @example
 * ```ts
 * const t = mat4RotationZ(Math.PI / 2, [1, 0, 0]);
 * const i = mat4Multiply(mat4InvertRigid(t), t);
 * if (Math.abs(i[0] - 1) > 1e-12 || Math.abs(i[3]) > 1e-12) throw new Error();
 * ```
 */
export function mat4Multiply(a: Mat4, b: Mat4): Mat4 {
  const m = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      m[4 * r + c] = a[4 * r] * b[c] + a[4 * r + 1] * b[4 + c] + a[4 * r + 2] * b[8 + c] +
        a[4 * r + 3] * b[12 + c];
    }
  }
  return m;
}

/**
 * Inverse of a rigid transform `[R t; 0 1]`, which is `[R^T -R^T t; 0 1]`.
 *
 * @example
 * ```ts
 * const m = mat4RotationZ(0.3, [1, 2, 3]);
 * const p = transformPoint(mat4InvertRigid(m), transformPoint(m, [4, 5, 6]));
 * if (Math.abs(p[0] - 4) > 1e-12) throw new Error();
 * ```
 */
export function mat4InvertRigid(m: Mat4): Mat4 {
  const r = new Float64Array(16);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r[4 * i + j] = m[4 * j + i];
  for (let i = 0; i < 3; i++) {
    r[4 * i + 3] = -(r[4 * i] * m[3] + r[4 * i + 1] * m[7] + r[4 * i + 2] * m[11]);
  }
  r[15] = 1;
  return r;
}

/**
 * A rotation by `theta` radians about +z followed by a translation `t`.
 *
 * @example
 * ```ts
 * const p = transformPoint(mat4RotationZ(Math.PI / 2, [0, 0, 1]), [1, 0, 0]);
 * if (Math.abs(p[1] - 1) > 1e-12 || p[2] !== 1) throw new Error();
 * ```
 */
export function mat4RotationZ(theta: number, t: Readonly<Vec3> = [0, 0, 0]): Mat4 {
  const c = Math.cos(theta), s = Math.sin(theta);
  return Float64Array.of(c, -s, 0, t[0], s, c, 0, t[1], 0, 0, 1, t[2], 0, 0, 0, 1);
}

/**
 * `m * [p, 1]`, dropping the homogeneous coordinate (rigid or affine `m`).
 *
 * @example
 * ```ts
 * const p = transformPoint(mat4Identity(), [1, 2, 3]);
 * if (p[0] !== 1) throw new Error();
 * ```
 */
export function transformPoint(m: Mat4, p: Readonly<Vec3>): Vec3 {
  return [
    m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3],
    m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7],
    m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11],
  ];
}

/**
 * `R * d` for the rotation part of `m` (directions ignore translation).
 *
 * @example
 * ```ts
 * const d = transformDirection(mat4RotationZ(0, [5, 5, 5]), [1, 0, 0]);
 * if (d[0] !== 1 || d[1] !== 0) throw new Error();
 * ```
 */
export function transformDirection(m: Mat4, d: Readonly<Vec3>): Vec3 {
  return [
    m[0] * d[0] + m[1] * d[1] + m[2] * d[2],
    m[4] * d[0] + m[5] * d[1] + m[6] * d[2],
    m[8] * d[0] + m[9] * d[1] + m[10] * d[2],
  ];
}

/**
 * The camera centre of a camera-to-world pose: its translation column (DECISIONS 1).
 *
 * @example
 * ```ts
 * const c = cameraCentre(mat4RotationZ(1, [1, 2, 3]));
 * if (c[2] !== 3) throw new Error();
 * ```
 */
export function cameraCentre(pose: CameraPose): Vec3 {
  return [pose[3], pose[7], pose[11]];
}

/**
 * True when every entry is finite, the last row is `0 0 0 1` and the 3x3 block is a rotation
 * (orthonormal, determinant +1) within `tol`. ScanNet writes `-inf` poses for lost tracking.
 *
 * @example
 * ```ts
 * if (!isRigidTransform(mat4Identity())) throw new Error();
 * const bad = mat4Identity(); bad[3] = -Infinity;
 * if (isRigidTransform(bad)) throw new Error();
 * ```
 */
export function isRigidTransform(m: ArrayLike<number>, tol = 1e-3): boolean {
  if (m.length !== 16) return false;
  for (let i = 0; i < 16; i++) if (!Number.isFinite(m[i])) return false;
  if (
    Math.abs(m[12]) > tol || Math.abs(m[13]) > tol || Math.abs(m[14]) > tol ||
    Math.abs(m[15] - 1) > tol
  ) return false;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const d = m[4 * i] * m[4 * j] + m[4 * i + 1] * m[4 * j + 1] + m[4 * i + 2] * m[4 * j + 2];
      if (Math.abs(d - (i === j ? 1 : 0)) > tol) return false;
    }
  }
  const det = m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8]) +
    m[2] * (m[4] * m[9] - m[5] * m[8]);
  return Math.abs(det - 1) <= tol;
}

/**
 * A camera-to-world pose (OpenCV axes) for a camera at `eye` with heading `yaw` (radians,
 * counter-clockwise from +x about +z), `pitch` (radians, positive looks up) and `roll`
 * (radians, a right-handed turn about the viewing direction: positive moves the camera's +x
 * axis toward its +y axis).
 *
 * @example
 * ```ts
 * const pose = cameraPoseFromAngles([0, 0, 1.5], 0, 0, 0);
 * // The camera looks along +x: its +z axis (third column) is world +x.
 * if (pose[2] !== 1 || pose[11] !== 1.5) throw new Error();
 * ```
 */
export function cameraPoseFromAngles(
  eye: Readonly<Vec3>,
  yaw: number,
  pitch: number,
  roll: number,
): CameraPose {
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  const f: Vec3 = [cp * cy, cp * sy, sp];
  // Right and down before roll: right is horizontal, down completes the right-handed frame.
  const r0: Vec3 = [sy, -cy, 0];
  const d0: Vec3 = [
    f[1] * r0[2] - f[2] * r0[1],
    f[2] * r0[0] - f[0] * r0[2],
    f[0] * r0[1] - f[1] * r0[0],
  ];
  const cr = Math.cos(roll), sr = Math.sin(roll);
  const r: Vec3 = [cr * r0[0] + sr * d0[0], cr * r0[1] + sr * d0[1], cr * r0[2] + sr * d0[2]];
  const d: Vec3 = [cr * d0[0] - sr * r0[0], cr * d0[1] - sr * r0[1], cr * d0[2] - sr * r0[2]];
  return Float64Array.of(
    r[0],
    d[0],
    f[0],
    eye[0],
    r[1],
    d[1],
    f[1],
    eye[1],
    r[2],
    d[2],
    f[2],
    eye[2],
    0,
    0,
    0,
    1,
  );
}

/**
 * Projects a camera-space point (OpenCV axes) to pixel coordinates; `undefined` behind the
 * camera.
 *
 * @example
 * ```ts
 * const k = { fx: 100, fy: 100, cx: 32, cy: 24, width: 64, height: 48 };
 * const uv = projectPoint(k, [0, 0, 2]);
 * if (!uv || uv[0] !== 32 || uv[1] !== 24) throw new Error();
 * ```
 */
export function projectPoint(k: Intrinsics, p: Readonly<Vec3>): [number, number] | undefined {
  if (!(p[2] > 0)) return undefined;
  return [k.fx * p[0] / p[2] + k.cx, k.fy * p[1] / p[2] + k.cy];
}

/**
 * Back-projects pixel `(u, v)` with z-depth `z` (metres along the optical axis) to camera
 * space.
 *
 * @example
 * ```ts
 * const k = { fx: 100, fy: 100, cx: 32, cy: 24, width: 64, height: 48 };
 * const p = unprojectPixel(k, 42, 24, 2);
 * if (p[0] !== 0.2 || p[2] !== 2) throw new Error();
 * ```
 */
export function unprojectPixel(k: Intrinsics, u: number, v: number, z: number): Vec3 {
  return [(u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z, z];
}

/**
 * Formats a matrix as four lines of four numbers, as ScanNet's exporter writes poses.
 *
 * @example
 * ```ts
 * const s = formatMat4(mat4Identity());
 * if (!s.startsWith("1.000000 0.000000")) throw new Error(s);
 * ```
 */
export function formatMat4(m: Mat4, digits = 6): string {
  let s = "";
  for (let r = 0; r < 4; r++) {
    const row: string[] = [];
    for (let c = 0; c < 4; c++) row.push(fixed(m[4 * r + c], digits));
    s += row.join(" ") + "\n";
  }
  return s;
}

/** `toFixed` without the `-0.000000` that C's printf would not write for small negatives. */
function fixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

/**
 * Parses sixteen whitespace-separated numbers (a pose file or an `axisAlignment` value),
 * accepting `inf`, `-inf` and `nan` as C's printf writes them.
 *
 * @example
 * ```ts
 * const m = parseMat4("1 0 0 0\n0 1 0 0\n0 0 1 0\n-inf -inf -inf -inf\n");
 * if (m === undefined || m[12] !== -Infinity) throw new Error();
 * ```
 */
export function parseMat4(text: string): Mat4 | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 16) return undefined;
  const m = new Float64Array(16);
  for (let i = 0; i < 16; i++) {
    const t = parts[i].toLowerCase();
    const v = t === "inf" || t === "+inf"
      ? Infinity
      : t === "-inf"
      ? -Infinity
      : t === "nan" || t === "-nan"
      ? NaN
      : Number(t);
    if (Number.isNaN(v) && !t.endsWith("nan")) return undefined;
    m[i] = v;
  }
  return m;
}
