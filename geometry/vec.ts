/**
 * Three-component vectors as plain tuples: cheap to build, easy to serialise to JSON.
 *
 * @module
 */

/** A point or direction in metres. */
export type Vec3 = [number, number, number];

/**
 * `a + b`.
 *
 * @example
 * ```ts
 * const s = add([1, 2, 3], [1, 1, 1]);
 * if (s[2] !== 4) throw new Error();
 * ```
 */
export function add(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

/**
 * `a - b`.
 *
 * @example
 * ```ts
 * if (sub([1, 2, 3], [1, 1, 1])[1] !== 1) throw new Error();
 * ```
 */
export function sub(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

/**
 * `a * s`.
 *
 * @example
 * ```ts
 * if (scale([1, 2, 3], 2)[2] !== 6) throw new Error();
 * ```
 */
export function scale(a: Readonly<Vec3>, s: number): Vec3 {
  return [a[0] * s, a[1] * s, a[2] * s];
}

/**
 * Dot product.
 *
 * @example
 * ```ts
 * if (dot([1, 0, 0], [0, 1, 0]) !== 0) throw new Error();
 * ```
 */
export function dot(a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/**
 * Cross product (right-handed).
 *
 * @example
 * ```ts
 * const z = cross([1, 0, 0], [0, 1, 0]);
 * if (z[2] !== 1) throw new Error("x cross y = z");
 * ```
 */
export function cross(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/**
 * Euclidean length.
 *
 * @example
 * ```ts
 * if (norm([3, 4, 0]) !== 5) throw new Error();
 * ```
 */
export function norm(a: Readonly<Vec3>): number {
  return Math.hypot(a[0], a[1], a[2]);
}

/**
 * `a / |a|`; a zero vector stays zero.
 *
 * @example
 * ```ts
 * if (normalize([0, 0, 2])[2] !== 1) throw new Error();
 * ```
 */
export function normalize(a: Readonly<Vec3>): Vec3 {
  const n = norm(a);
  return n > 0 ? [a[0] / n, a[1] / n, a[2] / n] : [0, 0, 0];
}

/**
 * Euclidean distance between two points.
 *
 * @example
 * ```ts
 * if (distance([0, 0, 0], [0, 3, 4]) !== 5) throw new Error();
 * ```
 */
export function distance(a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
