/**
 * Point-to-primitive distances.
 *
 * @module
 */

import type { Vec3 } from "./vec.ts";

/**
 * Distance from `p` to the solid triangle `abc` (closest point by Voronoi regions).
 *
 * @example
 * ```ts
 * const d = pointTriangleDistance([0.2, 0.2, 1], [0, 0, 0], [1, 0, 0], [0, 1, 0]);
 * if (Math.abs(d - 1) > 1e-12) throw new Error();
 * const e = pointTriangleDistance([2, 0, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0]);
 * if (Math.abs(e - 1) > 1e-12) throw new Error("closest to vertex b");
 * ```
 */
export function pointTriangleDistance(
  p: Readonly<Vec3>,
  a: Readonly<Vec3>,
  b: Readonly<Vec3>,
  c: Readonly<Vec3>,
): number {
  const q = closestPointOnTriangle(p, a, b, c);
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

/**
 * The point of the solid triangle `abc` closest to `p`.
 *
 * @example
 * ```ts
 * const q = closestPointOnTriangle([0.2, 0.2, 1], [0, 0, 0], [1, 0, 0], [0, 1, 0]);
 * if (q[2] !== 0 || Math.abs(q[0] - 0.2) > 1e-12) throw new Error();
 * ```
 */
export function closestPointOnTriangle(
  p: Readonly<Vec3>,
  a: Readonly<Vec3>,
  b: Readonly<Vec3>,
  c: Readonly<Vec3>,
): Vec3 {
  const ab: Vec3 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const ac: Vec3 = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
  const ap: Vec3 = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
  const d1 = dot3(ab, ap), d2 = dot3(ac, ap);
  if (d1 <= 0 && d2 <= 0) return [a[0], a[1], a[2]];
  const bp: Vec3 = [p[0] - b[0], p[1] - b[1], p[2] - b[2]];
  const d3 = dot3(ab, bp), d4 = dot3(ac, bp);
  if (d3 >= 0 && d4 <= d3) return [b[0], b[1], b[2]];
  const vc = d1 * d4 - d3 * d2;
  if (vc <= 0 && d1 >= 0 && d3 <= 0) return along(a, ab, d1 / (d1 - d3));
  const cp: Vec3 = [p[0] - c[0], p[1] - c[1], p[2] - c[2]];
  const d5 = dot3(ab, cp), d6 = dot3(ac, cp);
  if (d6 >= 0 && d5 <= d6) return [c[0], c[1], c[2]];
  const vb = d5 * d2 - d1 * d6;
  if (vb <= 0 && d2 >= 0 && d6 <= 0) return along(a, ac, d2 / (d2 - d6));
  const va = d3 * d6 - d5 * d4;
  if (va <= 0 && d4 - d3 >= 0 && d5 - d6 >= 0) {
    const bc: Vec3 = [c[0] - b[0], c[1] - b[1], c[2] - b[2]];
    return along(b, bc, (d4 - d3) / ((d4 - d3) + (d5 - d6)));
  }
  const denom = 1 / (va + vb + vc);
  const v = vb * denom, w = vc * denom;
  return [
    a[0] + ab[0] * v + ac[0] * w,
    a[1] + ab[1] * v + ac[1] * w,
    a[2] + ab[2] * v + ac[2] * w,
  ];
}

function dot3(a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

function along(o: Readonly<Vec3>, d: Readonly<Vec3>, t: number): Vec3 {
  return [o[0] + d[0] * t, o[1] + d[1] * t, o[2] + d[2] * t];
}
