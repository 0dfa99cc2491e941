/**
 * Simple polygons in the xy plane (floor plans, footprints).
 *
 * @module
 */

/** A 2D point. */
export type Vec2 = [number, number];

/** A simple polygon, vertices in order (counter-clockwise for floor plans). */
export type Polygon = Vec2[];

/**
 * Signed area (shoelace): positive for counter-clockwise polygons.
 *
 * @example
 * ```ts
 * if (polygonArea([[0, 0], [3, 0], [3, 2], [0, 2]]) !== 6) throw new Error();
 * ```
 */
export function polygonArea(poly: readonly Readonly<Vec2>[]): number {
  let a = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    a += poly[j][0] * poly[i][1] - poly[i][0] * poly[j][1];
  }
  return a / 2;
}

/**
 * Even-odd point-in-polygon test; points exactly on an edge may go either way.
 *
 * @example
 * ```ts
 * const sq: Vec2[] = [[0, 0], [1, 0], [1, 1], [0, 1]];
 * if (!pointInPolygon([0.5, 0.5], sq) || pointInPolygon([2, 0.5], sq)) throw new Error();
 * ```
 */
export function pointInPolygon(p: Readonly<Vec2>, poly: readonly Readonly<Vec2>[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i], [xj, yj] = poly[j];
    if ((yi > p[1]) !== (yj > p[1]) && p[0] < (xj - xi) * (p[1] - yi) / (yj - yi) + xi) {
      inside = !inside;
    }
  }
  return inside;
}

/**
 * True when the open segments `ab` and `cd` cross at a single interior point.
 *
 * @example
 * ```ts
 * if (!segmentsCross([0, 0], [2, 2], [0, 2], [2, 0])) throw new Error();
 * if (segmentsCross([0, 0], [1, 0], [0, 1], [1, 1])) throw new Error();
 * ```
 */
export function segmentsCross(
  a: Readonly<Vec2>,
  b: Readonly<Vec2>,
  c: Readonly<Vec2>,
  d: Readonly<Vec2>,
): boolean {
  const o = (p: Readonly<Vec2>, q: Readonly<Vec2>, r: Readonly<Vec2>) =>
    Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  const o1 = o(a, b, c), o2 = o(a, b, d), o3 = o(c, d, a), o4 = o(c, d, b);
  return o1 * o2 < 0 && o3 * o4 < 0;
}

/**
 * True when the convex polygon `inner` lies inside the simple polygon `outer` at a distance of
 * at least `margin` from its boundary.
 *
 * @example
 * ```ts
 * const room: Vec2[] = [[0, 0], [4, 0], [4, 4], [0, 4]];
 * const bed: Vec2[] = [[1, 1], [2, 1], [2, 3], [1, 3]];
 * if (!convexInside(bed, room, 0.5) || convexInside(bed, room, 1.5)) throw new Error();
 * ```
 */
export function convexInside(
  inner: readonly Readonly<Vec2>[],
  outer: readonly Readonly<Vec2>[],
  margin = 0,
): boolean {
  for (const p of inner) {
    if (!pointInPolygon(p, outer)) return false;
    if (margin > 0 && distanceToBoundary(p, outer) < margin) return false;
  }
  for (let i = 0, j = inner.length - 1; i < inner.length; j = i++) {
    for (let k = 0, l = outer.length - 1; k < outer.length; l = k++) {
      if (segmentsCross(inner[j], inner[i], outer[l], outer[k])) return false;
    }
  }
  // A reflex corner of `outer` poking into `inner` without crossing it, or too close to it.
  for (const q of outer) {
    if (pointInPolygon(q, inner)) return false;
    if (margin > 0 && distanceToBoundary(q, inner) < margin) return false;
  }
  return true;
}

/**
 * Distance from `p` to the closed boundary of `poly`.
 *
 * @example
 * ```ts
 * const sq: Vec2[] = [[0, 0], [2, 0], [2, 2], [0, 2]];
 * if (distanceToBoundary([0.5, 1], sq) !== 0.5) throw new Error();
 * ```
 */
export function distanceToBoundary(p: Readonly<Vec2>, poly: readonly Readonly<Vec2>[]): number {
  let best = Infinity;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    best = Math.min(best, pointSegmentDistance(p, poly[j], poly[i]));
  }
  return best;
}

/**
 * Distance from `p` to the segment `ab`.
 *
 * @example
 * ```ts
 * if (pointSegmentDistance([1, 1], [0, 0], [2, 0]) !== 1) throw new Error();
 * ```
 */
export function pointSegmentDistance(
  p: Readonly<Vec2>,
  a: Readonly<Vec2>,
  b: Readonly<Vec2>,
): number {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0
    ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2))
    : 0;
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}
