/**
 * Minimal-volume oriented bounding boxes of point sets, as ScanNet object boxes and room
 * centres are made (data-reference §2.1.3, Open3D's `get_minimal_oriented_bounding_box`;
 * DECISIONS 7-8).
 *
 * Method: the box is searched among orientations with one face flush with a face of the 3D
 * convex hull (the other two axes from the minimum-area rectangle of the hull projected on that
 * face), which is how Open3D does it; the best few are then polished by a local search over
 * small rotations, which also finds optima with no face flush (O'Rourke's edge-edge case).
 *
 * @module
 */

import { convexHull2, convexHull3 } from "./hull.ts";
import type { Vec3 } from "./vec.ts";

/** An oriented box: `axes` are orthonormal (right-handed), `size` the full extents along them. */
export interface Obb {
  center: Vec3;
  axes: [Vec3, Vec3, Vec3];
  size: Vec3;
}

/** How many face-flush candidates are polished by local search. */
const POLISHED = 4;

/**
 * The minimal-volume oriented box of `points` (xyz triples). Degenerate sets (coplanar,
 * collinear, one point) get a box of zero thickness in the missing directions.
 *
 * Axes are canonical: the third is the one closest to +z (pointing up), the first is the
 * longer of the other two, and the frame is right-handed, so equal inputs give equal outputs.
 *
 * @example
 * ```ts
 * // A 2 x 1 x 0.5 box turned 30 degrees about z.
 * const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
 * const pts: number[] = [];
 * for (const x of [-1, 1]) for (const y of [-0.5, 0.5]) for (const z of [0, 0.5]) {
 *   pts.push(c * x - s * y + 3, s * x + c * y, z);
 * }
 * const box = minimalObb(pts);
 * if (Math.abs(box.size[0] - 2) > 1e-9 || Math.abs(box.size[2] - 0.5) > 1e-9) throw new Error();
 * if (Math.abs(box.center[0] - 3) > 1e-9 || Math.abs(box.axes[2][2] - 1) > 1e-9) throw new Error();
 * ```
 */
export function minimalObb(points: ArrayLike<number>): Obb {
  const n = Math.floor(points.length / 3);
  if (n === 0) throw new RangeError("minimalObb: no points");
  for (let i = 0; i < 3 * n; i++) {
    if (!Number.isFinite(points[i])) throw new RangeError("minimalObb: non-finite coordinate");
  }
  const hull = convexHull3(points);
  let pts: Float64Array;
  let normals: Vec3[];
  if (hull) {
    pts = new Float64Array(hull.vertices.length * 3);
    hull.vertices.forEach((v, k) => {
      pts[3 * k] = points[3 * v];
      pts[3 * k + 1] = points[3 * v + 1];
      pts[3 * k + 2] = points[3 * v + 2];
    });
    normals = uniqueNormals(points, hull.triangles);
  } else {
    pts = Float64Array.from({ length: 3 * n }, (_, i) => points[i]);
    normals = [flatNormal(pts)];
  }

  const candidates: { axes: [Vec3, Vec3, Vec3]; volume: number }[] = [];
  for (const nrm of normals) candidates.push(flushBox(pts, nrm));
  candidates.sort((a, b) => a.volume - b.volume);
  let best = candidates[0];
  if (hull) {
    for (const c of candidates.slice(0, POLISHED)) {
      const polished = polish(pts, c.axes);
      if (polished.volume < best.volume) best = polished;
    }
  }
  return canonical(boxAlong(pts, best.axes));
}

/** Face normals of a hull, with (near-)duplicates of coplanar triangles removed. */
function uniqueNormals(p: ArrayLike<number>, tris: Uint32Array): Vec3[] {
  const seen = new Set<string>();
  const out: Vec3[] = [];
  for (let t = 0; t < tris.length; t += 3) {
    const a = tris[t], b = tris[t + 1], c = tris[t + 2];
    const ux = p[3 * b] - p[3 * a],
      uy = p[3 * b + 1] - p[3 * a + 1],
      uz = p[3 * b + 2] - p[3 * a + 2];
    const vx = p[3 * c] - p[3 * a],
      vy = p[3 * c + 1] - p[3 * a + 1],
      vz = p[3 * c + 2] - p[3 * a + 2];
    let nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const len = Math.hypot(nx, ny, nz);
    if (!(len > 0)) continue;
    nx /= len, ny /= len, nz /= len;
    // A box face and its opposite give the same box: fold n and -n together.
    if (nx < 0 || (nx === 0 && (ny < 0 || (ny === 0 && nz < 0)))) nx = -nx, ny = -ny, nz = -nz;
    const k = `${Math.round(nx * 1e9)},${Math.round(ny * 1e9)},${Math.round(nz * 1e9)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push([nx, ny, nz]);
  }
  return out;
}

/** The normal of the plane a degenerate set lies in (smallest principal direction). */
function flatNormal(p: Float64Array): Vec3 {
  const n = p.length / 3;
  const m = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) m[k] += p[3 * i + k] / n;
  const c = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 3; r++) {
      for (let s = 0; s < 3; s++) c[3 * r + s] += (p[3 * i + r] - m[r]) * (p[3 * i + s] - m[s]);
    }
  }
  const { values, vectors } = symmetricEigen3(c);
  let k = 0;
  for (let j = 1; j < 3; j++) if (values[j] < values[k]) k = j;
  const v: Vec3 = [vectors[k], vectors[3 + k], vectors[6 + k]];
  // A collinear or single-point set: any normal perpendicular to the line will do.
  return Math.hypot(...v) > 0.5 ? v : [0, 0, 1];
}

/**
 * Eigen-decomposition of a symmetric 3x3 matrix (row-major) by Jacobi rotations: eigenvalues
 * and eigenvectors as the columns of a row-major matrix.
 */
function symmetricEigen3(m: number[]): { values: number[]; vectors: number[] } {
  const a = m.slice();
  const v = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5];
    if (off < 1e-30) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
      const apq = a[3 * p + q];
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (a[3 * q + q] - a[3 * p + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[3 * k + p], akq = a[3 * k + q];
        a[3 * k + p] = c * akp - s * akq;
        a[3 * k + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[3 * p + k], aqk = a[3 * q + k];
        a[3 * p + k] = c * apk - s * aqk;
        a[3 * q + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[3 * k + p], vkq = v[3 * k + q];
        v[3 * k + p] = c * vkp - s * vkq;
        v[3 * k + q] = s * vkp + c * vkq;
      }
    }
  }
  return { values: [a[0], a[4], a[8]], vectors: v };
}

/** The smallest box with one face perpendicular to `n`: a minimum-area rectangle in its plane. */
function flushBox(p: Float64Array, n: Vec3): { axes: [Vec3, Vec3, Vec3]; volume: number } {
  const u = perpendicular(n);
  const w: Vec3 = [n[1] * u[2] - n[2] * u[1], n[2] * u[0] - n[0] * u[2], n[0] * u[1] - n[1] * u[0]];
  const count = p.length / 3;
  const xy = new Float64Array(2 * count);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < count; i++) {
    const x = p[3 * i], y = p[3 * i + 1], z = p[3 * i + 2];
    xy[2 * i] = u[0] * x + u[1] * y + u[2] * z;
    xy[2 * i + 1] = w[0] * x + w[1] * y + w[2] * z;
    const h = n[0] * x + n[1] * y + n[2] * z;
    if (h < lo) lo = h;
    if (h > hi) hi = h;
  }
  const { angle, area } = minAreaRectangle(xy);
  const c = Math.cos(angle), s = Math.sin(angle);
  const a0: Vec3 = [c * u[0] + s * w[0], c * u[1] + s * w[1], c * u[2] + s * w[2]];
  const a1: Vec3 = [-s * u[0] + c * w[0], -s * u[1] + c * w[1], -s * u[2] + c * w[2]];
  return { axes: [a0, a1, n], volume: area * (hi - lo) };
}

/**
 * The minimum-area enclosing rectangle of 2D points: one side lies along a hull edge, so every
 * edge direction is tried. Returns the direction angle of one side and the area.
 *
 * @example
 * ```ts
 * // A diamond: the best rectangle is the square turned by 45 degrees.
 * const r = minAreaRectangle([1, 0, 0, 1, -1, 0, 0, -1]);
 * if (Math.abs(r.area - 2) > 1e-12) throw new Error(String(r.area));
 * ```
 */
export function minAreaRectangle(xy: ArrayLike<number>): { angle: number; area: number } {
  const hull = convexHull2(xy);
  if (hull.length < 3) {
    if (hull.length < 2) return { angle: 0, area: 0 };
    const [a, b] = hull;
    return { angle: Math.atan2(xy[2 * b + 1] - xy[2 * a + 1], xy[2 * b] - xy[2 * a]), area: 0 };
  }
  let best = { angle: 0, area: Infinity };
  for (let k = 0; k < hull.length; k++) {
    const a = hull[k], b = hull[(k + 1) % hull.length];
    const dx = xy[2 * b] - xy[2 * a], dy = xy[2 * b + 1] - xy[2 * a + 1];
    const len = Math.hypot(dx, dy);
    if (!(len > 0)) continue;
    const ex = dx / len, ey = dy / len;
    let minU = Infinity, maxU = -Infinity, minV = Infinity, maxV = -Infinity;
    for (const i of hull) {
      const x = xy[2 * i], y = xy[2 * i + 1];
      const pu = ex * x + ey * y, pv = -ey * x + ex * y;
      if (pu < minU) minU = pu;
      if (pu > maxU) maxU = pu;
      if (pv < minV) minV = pv;
      if (pv > maxV) maxV = pv;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < best.area) best = { angle: Math.atan2(ey, ex), area };
  }
  return best;
}

function perpendicular(n: Vec3): Vec3 {
  // Cross with the coordinate axis least aligned with n.
  const ax = Math.abs(n[0]), ay = Math.abs(n[1]), az = Math.abs(n[2]);
  const e: Vec3 = ax <= ay && ax <= az ? [1, 0, 0] : ay <= az ? [0, 1, 0] : [0, 0, 1];
  const u: Vec3 = [n[1] * e[2] - n[2] * e[1], n[2] * e[0] - n[0] * e[2], n[0] * e[1] - n[1] * e[0]];
  const l = Math.hypot(...u);
  return [u[0] / l, u[1] / l, u[2] / l];
}

function volumeAlong(p: Float64Array, axes: [Vec3, Vec3, Vec3]): number {
  let v = 1;
  for (const a of axes) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < p.length; i += 3) {
      const h = a[0] * p[i] + a[1] * p[i + 1] + a[2] * p[i + 2];
      if (h < lo) lo = h;
      if (h > hi) hi = h;
    }
    v *= hi - lo;
  }
  return v;
}

/** `axes` turned by the small rotation vector `w` (Rodrigues). */
function rotateAxes(axes: [Vec3, Vec3, Vec3], w: Vec3): [Vec3, Vec3, Vec3] {
  const th = Math.hypot(...w);
  if (th === 0) return axes;
  const k: Vec3 = [w[0] / th, w[1] / th, w[2] / th];
  const c = Math.cos(th), s = Math.sin(th);
  return axes.map((a) => {
    const kd = k[0] * a[0] + k[1] * a[1] + k[2] * a[2];
    const kx: Vec3 = [
      k[1] * a[2] - k[2] * a[1],
      k[2] * a[0] - k[0] * a[2],
      k[0] * a[1] - k[1] * a[0],
    ];
    return [0, 1, 2].map((i) => a[i] * c + kx[i] * s + k[i] * kd * (1 - c)) as Vec3;
  }) as [Vec3, Vec3, Vec3];
}

/** Pattern search over small rotations about the box's own axes, step halving. */
function polish(
  p: Float64Array,
  start: [Vec3, Vec3, Vec3],
): { axes: [Vec3, Vec3, Vec3]; volume: number } {
  let axes = start;
  let volume = volumeAlong(p, axes);
  for (let step = 0.1; step > 1e-7; step /= 2) {
    let improved = true;
    while (improved) {
      improved = false;
      for (let j = 0; j < 3; j++) {
        for (const sign of [1, -1]) {
          const a = axes[j];
          const w: Vec3 = [a[0] * step * sign, a[1] * step * sign, a[2] * step * sign];
          const next = rotateAxes(axes, w);
          const v = volumeAlong(p, next);
          if (v < volume * (1 - 1e-12)) {
            axes = next;
            volume = v;
            improved = true;
          }
        }
      }
    }
  }
  return { axes, volume };
}

/** The box of `p` with the given axes: extents and centre from the projections. */
function boxAlong(p: Float64Array, axes: [Vec3, Vec3, Vec3]): Obb {
  const size: Vec3 = [0, 0, 0];
  const mid = [0, 0, 0];
  axes.forEach((a, k) => {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < p.length; i += 3) {
      const h = a[0] * p[i] + a[1] * p[i + 1] + a[2] * p[i + 2];
      if (h < lo) lo = h;
      if (h > hi) hi = h;
    }
    size[k] = hi - lo;
    mid[k] = (lo + hi) / 2;
  });
  const center: Vec3 = [0, 1, 2].map((i) =>
    axes[0][i] * mid[0] + axes[1][i] * mid[1] + axes[2][i] * mid[2]
  ) as Vec3;
  return { center, axes, size };
}

/** Reorders and flips axes: third closest to +z and up, first the longer, right-handed. */
function canonical(box: Obb): Obb {
  const idx = [0, 1, 2];
  const up = idx.reduce((b, i) => (Math.abs(box.axes[i][2]) > Math.abs(box.axes[b][2]) ? i : b), 0);
  const rest = idx.filter((i) => i !== up);
  if (box.size[rest[1]] > box.size[rest[0]]) rest.reverse();
  const sign = (v: Vec3): Vec3 => {
    // Make the largest-magnitude component positive.
    let k = 0;
    for (let i = 1; i < 3; i++) if (Math.abs(v[i]) > Math.abs(v[k]) + 1e-12) k = i;
    return v[k] < 0 ? [-v[0], -v[1], -v[2]] : v;
  };
  const z: Vec3 = box.axes[up][2] < 0 ? box.axes[up].map((x) => -x) as Vec3 : box.axes[up];
  const x = sign(box.axes[rest[0]]);
  const y: Vec3 = [z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]];
  return {
    center: box.center,
    axes: [x, y, z],
    size: [box.size[rest[0]], box.size[rest[1]], box.size[up]],
  };
}

/**
 * The eight corners of a box.
 *
 * @example
 * ```ts
 * const c = obbCorners({ center: [0, 0, 0], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], size: [2, 2, 2] });
 * if (c.length !== 8 || c.some((p) => p.some((v) => Math.abs(v) !== 1))) throw new Error();
 * ```
 */
export function obbCorners(box: Obb): Vec3[] {
  const out: Vec3[] = [];
  for (const sx of [-0.5, 0.5]) {
    for (const sy of [-0.5, 0.5]) {
      for (const sz of [-0.5, 0.5]) {
        out.push(
          [0, 1, 2].map((i) =>
            box.center[i] + box.axes[0][i] * box.size[0] * sx + box.axes[1][i] * box.size[1] * sy +
            box.axes[2][i] * box.size[2] * sz
          ) as Vec3,
        );
      }
    }
  }
  return out;
}

/**
 * Whether point `p` lies in the box, with `margin` metres of slack.
 *
 * @example
 * ```ts
 * const box = { center: [0, 0, 0] as [number, number, number], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as [[number, number, number], [number, number, number], [number, number, number]], size: [2, 2, 2] as [number, number, number] };
 * if (!obbContains(box, [0.9, 0, 0]) || obbContains(box, [1.1, 0, 0])) throw new Error();
 * ```
 */
export function obbContains(box: Obb, p: Readonly<Vec3>, margin = 0): boolean {
  const d = [p[0] - box.center[0], p[1] - box.center[1], p[2] - box.center[2]];
  for (let k = 0; k < 3; k++) {
    const a = box.axes[k];
    if (Math.abs(a[0] * d[0] + a[1] * d[1] + a[2] * d[2]) > box.size[k] / 2 + margin) return false;
  }
  return true;
}
