/**
 * Closest-point distances between oriented boxes, and from a point to a box, in the two modes
 * of DECISIONS 13:
 *
 * - `vsibench`: VSI-Bench's sampled distance, bit for bit. Each box becomes a thick shell of
 *   grid points ({@link vsibenchSample}); a distance is the minimum over point pairs
 *   ({@link sampleDistance}, {@link pointSampleDistance}). The released benchmark's ground
 *   truth was made this way (data-reference §3.4), so reproducing its answers needs it.
 * - `exact`: the true distance between solid boxes ({@link obbDistance}) and from a point to a
 *   solid box ({@link pointObbDistance}); 0 when they touch.
 *
 * A box is given as in the metadata (data-reference §1.2): `centroid`, full `axesLengths`, and
 * `normalizedAxes` row-major with rows = box axes, so `R = reshape(normalizedAxes, 3x3)^T`.
 *
 * @module
 */

import { fma } from "./fma.ts";
import type { Vec3 } from "./vec.ts";

/** An oriented box as the metadata stores it (rows of `normalizedAxes` are the box axes). */
export interface OrientedBox {
  centroid: readonly number[];
  axesLengths: readonly number[];
  normalizedAxes: readonly number[];
}

/** Grid spacing of VSI-Bench's box sampler, metres (data-reference §3.4). */
export const VSIBENCH_SPACING = 0.05;

/** Local grid indices per chunk side: chunks carry bounds that prune the distance search. */
const CHUNK = 6;

/**
 * Padding of the chunk bounds, metres: they are computed from the chunk's local corners with
 * plain arithmetic, and must contain the points computed with fma (rounding differences are
 * around 1e-15 m).
 */
const BOUNDS_PAD = 1e-9;

/**
 * A box's sample: VSI-Bench's grid points grouped into chunks of the local grid, each with
 * conservative world bounds. A chunk's points are computed only when a distance query cannot
 * rule it out from its bounds, so a distance between two large boxes touches a few chunks
 * instead of every point; results are exactly those over all points. Made by
 * {@link vsibenchSample}.
 *
 * @example
 * ```ts
 * const s = vsibenchSample({ centroid: [0, 0, 0], axesLengths: [1, 1, 1], normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1] });
 * let n = 0;
 * for (let c = 0; c < s.chunks; c++) n += s.chunk(c).length / 3;
 * if (n !== s.points.length / 3 || n !== 20 ** 3 - 10 ** 3) throw new Error(String(n));
 * ```
 */
export class PointSample {
  /** The spacing the sample was made with (halved from the request until a point survived). */
  readonly spacing: number;
  /** Per chunk: min x, y, z, then max x, y, z (conservative). */
  readonly bounds: Float64Array;
  /** Min and max over all chunks. */
  readonly extent: Float64Array;
  #box: OrientedBox;
  #grid: Float64Array[];
  /** Per chunk: first and end grid index along each axis. */
  #ranges: Int32Array;
  #points: (Float64Array | undefined)[];

  constructor(box: OrientedBox, spacing: number, grid: Float64Array[]) {
    this.spacing = spacing;
    this.#box = box;
    this.#grid = grid;
    const e = box.axesLengths;
    const outer = grid.map((g, a) => g.map((v) => (Math.abs(v) > e[a] / 4 ? 1 : 0)));
    const blocks = grid.map((g) => Math.ceil(g.length / CHUNK));
    const ranges: number[] = [];
    const bounds: number[] = [];
    for (let bi = 0; bi < blocks[0]; bi++) {
      for (let bj = 0; bj < blocks[1]; bj++) {
        for (let bk = 0; bk < blocks[2]; bk++) {
          const r = [bi, bj, bk].flatMap((
            b,
            a,
          ) => [b * CHUNK, Math.min(grid[a].length, (b + 1) * CHUNK)]);
          // A chunk inside the core on all three axes keeps no point.
          const anyOuter = [0, 1, 2].some((a) =>
            outer[a].subarray(r[2 * a], r[2 * a + 1]).some((o) => o === 1)
          );
          if (!anyOuter) continue;
          ranges.push(...r);
          bounds.push(
            ...cornerBounds(
              box,
              [0, 1, 2].map((a) => [grid[a][r[2 * a]], grid[a][r[2 * a + 1] - 1]]),
            ),
          );
        }
      }
    }
    this.#ranges = new Int32Array(ranges);
    this.bounds = new Float64Array(bounds);
    this.#points = new Array(this.chunks).fill(undefined);
    this.extent = new Float64Array([Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity]);
    for (let c = 0; c < this.chunks; c++) {
      for (let a = 0; a < 3; a++) {
        this.extent[a] = Math.min(this.extent[a], this.bounds[6 * c + a]);
        this.extent[3 + a] = Math.max(this.extent[3 + a], this.bounds[6 * c + 3 + a]);
      }
    }
  }

  /** Number of chunks. */
  get chunks(): number {
    return this.#ranges.length / 6;
  }

  /** The points of chunk `c` (x, y, z per point), computed on first use. */
  chunk(c: number): Float64Array {
    return this.#points[c] ??= this.#compute(c);
  }

  /** Every point, chunk after chunk. */
  get points(): Float64Array {
    const parts = Array.from({ length: this.chunks }, (_, c) => this.chunk(c));
    const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) out.set(p, at), at += p.length;
    return out;
  }

  #compute(c: number): Float64Array {
    const { centroid: cc, axesLengths: e, normalizedAxes: na } = this.#box;
    const [gx, gy, gz] = this.#grid;
    const r = this.#ranges.subarray(6 * c, 6 * c + 6);
    const q0 = e[0] / 4, q1 = e[1] / 4, q2 = e[2] / 4;
    const h0 = e[0] / 2, h1 = e[1] / 2, h2 = e[2] / 2;
    const cx = cc[0], cy = cc[1], cz = cc[2];
    const out = new Float64Array((r[1] - r[0]) * (r[3] - r[2]) * (r[5] - r[4]) * 3);
    let m = 0;
    for (let i = r[0]; i < r[1]; i++) {
      const l0 = gx[i], in0 = Math.abs(l0) > q0;
      const x0 = l0 * na[0], y0 = l0 * na[1], z0 = l0 * na[2];
      for (let j = r[2]; j < r[3]; j++) {
        const l1 = gy[j], in1 = in0 || Math.abs(l1) > q1;
        // p = R l + c with R[j][i] = na[3i + j], accumulated as BLAS's fma chain does; a zero
        // entry adds an exact zero, so the fma is skipped.
        const x1 = na[3] === 0 ? x0 : fma(l1, na[3], x0);
        const y1 = na[4] === 0 ? y0 : fma(l1, na[4], y0);
        const z1 = na[5] === 0 ? z0 : fma(l1, na[5], z0);
        for (let k = r[4]; k < r[5]; k++) {
          const l2 = gz[k];
          if (!in1 && !(Math.abs(l2) > q2)) continue;
          const px = (na[6] === 0 ? x1 : fma(l2, na[6], x1)) + cx;
          const py = (na[7] === 0 ? y1 : fma(l2, na[7], y1)) + cy;
          const pz = (na[8] === 0 ? z1 : fma(l2, na[8], z1)) + cz;
          // Open3D's crop: |(p - c) . axis_i| <= e_i / 2, plain arithmetic.
          const dx = px - cx, dy = py - cy, dz = pz - cz;
          if (
            Math.abs((dx * na[0] + dy * na[1]) + dz * na[2]) > h0 ||
            Math.abs((dx * na[3] + dy * na[4]) + dz * na[5]) > h1 ||
            Math.abs((dx * na[6] + dy * na[7]) + dz * na[8]) > h2
          ) continue;
          out[m++] = px, out[m++] = py, out[m++] = pz;
        }
      }
    }
    return out.slice(0, m);
  }
}

/** Padded world bounds of the local block `[lo, hi]` per axis: its eight corners, transformed. */
function cornerBounds(box: OrientedBox, local: number[][]): number[] {
  const na = box.normalizedAxes, c = box.centroid;
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let k = 0; k < 8; k++) {
    const l = [local[0][(k >> 2) & 1], local[1][(k >> 1) & 1], local[2][k & 1]];
    for (let j = 0; j < 3; j++) {
      const v = c[j] + l[0] * na[j] + l[1] * na[3 + j] + l[2] * na[6 + j];
      lo[j] = Math.min(lo[j], v), hi[j] = Math.max(hi[j], v);
    }
  }
  return [
    ...lo.map((v) => v - BOUNDS_PAD - 1e-12 * Math.abs(v)),
    ...hi.map((v) => v + BOUNDS_PAD + 1e-12 * Math.abs(v)),
  ];
}

/**
 * numpy's `linspace(start, stop, n)`: value k is `k * step + start` with
 * `step = (stop - start) / (n - 1)`, the last value is `stop` exactly, and `n = 1` gives
 * `[start]`.
 *
 * @example
 * ```ts
 * const v = linspace(-0.15, 0.15, 4);
 * if (v[0] !== -0.15 || v[3] !== 0.15 || v[1] !== 1 * (0.3 / 3) - 0.15) throw new Error(String(v));
 * if (linspace(-0.02, 0.02, 1)[0] !== -0.02) throw new Error();
 * ```
 */
export function linspace(start: number, stop: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) out[0] = start;
  else if (n > 1) {
    const step = (stop - start) / (n - 1);
    for (let k = 0; k < n; k++) out[k] = k * step + start;
    out[n - 1] = stop;
  }
  return out;
}

/**
 * VSI-Bench's thick-shell sample of a box (data-reference §3.4, recipe of DECISIONS 13):
 * a grid of `ceil(e_i / s)` values per axis from `-e_i/2` to `e_i/2`; points with
 * `|l_i| > e_i/4` on some axis; rotated with fused multiply-adds as numpy's BLAS does;
 * cropped to the box as Open3D does; retried with half the spacing when nothing survives.
 * A zero side gets one grid value (the reference would loop forever).
 *
 * @example
 * ```ts
 * const s = vsibenchSample({
 *   centroid: [0, 0, 0], axesLengths: [0.2, 0.2, 0.2], normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1],
 * });
 * // 4 values per axis (-0.1, -1/30, 1/30, 0.1); the 8 inner points are dropped.
 * if (s.points.length / 3 !== 64 - 8) throw new Error(String(s.points.length / 3));
 * ```
 */
export function vsibenchSample(box: OrientedBox, spacing = VSIBENCH_SPACING): PointSample {
  const e = box.axesLengths;
  for (let s = spacing, attempt = 0;; s /= 2, attempt++) {
    const n = [0, 1, 2].map((i) => Math.max(1, Math.ceil(e[i] / s)));
    const sample = new PointSample(box, s, n.map((k, i) => linspace(-e[i] / 2, e[i] / 2, k)));
    // A grid point well inside the box survives the crop for sure: one axis with 6 or more
    // values (so some kept value lies strictly between e/4 and e/2), the others with 3 or
    // more (a value strictly inside). Otherwise every point may sit on the boundary: look.
    const surely = n.some((k, i) => k >= 6 && n.every((m, j) => j === i || m >= 3));
    if (surely || attempt >= 30) return sample;
    for (let c = 0; c < sample.chunks; c++) if (sample.chunk(c).length > 0) return sample;
  }
}

/**
 * Squared gap between two axis-aligned bounds, with the same operations as a point-pair
 * distance: every step is monotone, so it never exceeds the computed squared distance of any
 * pair of points inside them, and pruning with it cannot change the result.
 */
function boundsGap2(a: Float64Array, ia: number, b: Float64Array, ib: number): number {
  let g0 = b[ib] - a[ia + 3];
  const g0b = a[ia] - b[ib + 3];
  if (g0b > g0) g0 = g0b;
  if (g0 < 0) g0 = 0;
  let g1 = b[ib + 1] - a[ia + 4];
  const g1b = a[ia + 1] - b[ib + 4];
  if (g1b > g1) g1 = g1b;
  if (g1 < 0) g1 = 0;
  let g2 = b[ib + 2] - a[ia + 5];
  const g2b = a[ia + 2] - b[ib + 5];
  if (g2b > g2) g2 = g2b;
  if (g2 < 0) g2 = 0;
  return (g0 * g0 + g1 * g1) + g2 * g2;
}

/**
 * Minimum squared distance between the points of two chunks, or `best` if not smaller. A point
 * of `pa` farther from `pb`'s bounds (at `bb[ib..]`) than `best` is skipped; the bound uses the
 * same monotone operations, so skipping never changes the result.
 */
function chunkPairMin(
  pa: Float64Array,
  pb: Float64Array,
  bb: Float64Array,
  ib: number,
  best: number,
): number {
  const x0 = bb[ib], y0 = bb[ib + 1], z0 = bb[ib + 2];
  const x1 = bb[ib + 3], y1 = bb[ib + 4], z1 = bb[ib + 5];
  for (let p = 0; p < pa.length; p += 3) {
    const x = pa[p], y = pa[p + 1], z = pa[p + 2];
    const gx = x < x0 ? x0 - x : x > x1 ? x - x1 : 0;
    const gy = y < y0 ? y0 - y : y > y1 ? y - y1 : 0;
    const gz = z < z0 ? z0 - z : z > z1 ? z - z1 : 0;
    if ((gx * gx + gy * gy) + gz * gz > best) continue;
    for (let q = 0; q < pb.length; q += 3) {
      const dx = x - pb[q], dy = y - pb[q + 1], dz = z - pb[q + 2];
      const d2 = (dx * dx + dy * dy) + dz * dz;
      if (d2 < best) best = d2;
    }
  }
  return best;
}

/**
 * A lower bound of {@link sampleDistance} from the samples' bounds alone (no point computed).
 *
 * @example
 * ```ts
 * const unit = [1, 0, 0, 0, 1, 0, 0, 0, 1];
 * const a = vsibenchSample({ centroid: [0, 0, 0], axesLengths: [1, 1, 1], normalizedAxes: unit });
 * const b = vsibenchSample({ centroid: [3, 0, 0], axesLengths: [1, 1, 1], normalizedAxes: unit });
 * if (!(sampleLowerBound(a, b) <= sampleDistance(a, b) && sampleLowerBound(a, b) > 1.99)) throw new Error();
 * ```
 */
export function sampleLowerBound(a: PointSample, b: PointSample): number {
  return Math.sqrt(boundsGap2(a.extent, 0, b.extent, 0));
}

/**
 * Minimum Euclidean distance between two point samples, as scipy's `cdist(...).min()`
 * computes it: `sqrt((dx^2 + dy^2) + dz^2)` per pair. Exact, not approximate: chunks are
 * skipped only when their bounds prove they cannot do better.
 *
 * @example
 * ```ts
 * const unit = [1, 0, 0, 0, 1, 0, 0, 0, 1];
 * const a = vsibenchSample({ centroid: [0, 0, 0], axesLengths: [1, 1, 1], normalizedAxes: unit });
 * const b = vsibenchSample({ centroid: [2.5, 0, 0], axesLengths: [1, 1, 1], normalizedAxes: unit });
 * if (sampleDistance(a, b) !== 1.5) throw new Error(String(sampleDistance(a, b)));
 * ```
 */
export function sampleDistance(a: PointSample, b: PointSample): number {
  const na = a.chunks, nb = b.chunks;
  if (na === 0 || nb === 0) return Infinity;
  const lb = new Float64Array(na * nb);
  let first = 0;
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < nb; j++) {
      const k = i * nb + j;
      lb[k] = boundsGap2(a.bounds, 6 * i, b.bounds, 6 * j);
      if (lb[k] < lb[first]) first = k;
    }
  }
  // The most promising pair first gives a tight bound; then only pairs that could beat it.
  let best = chunkPairMin(
    a.chunk(Math.floor(first / nb)),
    b.chunk(first % nb),
    b.bounds,
    6 * (first % nb),
    Infinity,
  );
  const rest: number[] = [];
  for (let k = 0; k < lb.length; k++) if (k !== first && lb[k] <= best) rest.push(k);
  rest.sort((x, y) => lb[x] - lb[y]);
  for (const k of rest) {
    if (lb[k] > best) break;
    best = chunkPairMin(a.chunk(Math.floor(k / nb)), b.chunk(k % nb), b.bounds, 6 * (k % nb), best);
  }
  return Math.sqrt(best);
}

/**
 * Minimum Euclidean distance from a point to a point sample (the camera-to-object distance of
 * the VSTI tasks), computed as `sqrt((dx^2 + dy^2) + dz^2)` per point.
 *
 * @example
 * ```ts
 * const unit = [1, 0, 0, 0, 1, 0, 0, 0, 1];
 * const s = vsibenchSample({ centroid: [0, 0, 0], axesLengths: [1, 1, 1], normalizedAxes: unit });
 * // Above a corner column of the grid (x = y = 0.5 are grid values): straight down to the top.
 * if (pointSampleDistance([0.5, 0.5, 3], s) !== 2.5) throw new Error();
 * ```
 */
export function pointSampleDistance(p: Readonly<Vec3>, s: PointSample): number {
  const n = s.chunks;
  if (n === 0) return Infinity;
  const pt = new Float64Array([p[0], p[1], p[2], p[0], p[1], p[2]]);
  const lb = new Float64Array(n);
  for (let i = 0; i < n; i++) lb[i] = boundsGap2(s.bounds, 6 * i, pt, 0);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => lb[x] - lb[y]);
  let best = Infinity;
  for (const i of order) {
    if (lb[i] > best) break;
    best = chunkPairMin(s.chunk(i), pt, pt, 0, best);
  }
  return Math.sqrt(best);
}

/**
 * The box's axis `i` (row `i` of `normalizedAxes`).
 */
function axis(box: OrientedBox, i: number): Vec3 {
  const a = box.normalizedAxes;
  return [a[3 * i], a[3 * i + 1], a[3 * i + 2]];
}

/**
 * The eight corners: `centroid + sum_i (+-e_i/2) axis_i`, with the sign of axis 0 changing
 * slowest (corner `k` uses bit 2 for axis 0, bit 1 for axis 1, bit 0 for axis 2).
 *
 * @example
 * ```ts
 * const c = obbCorners({ centroid: [0, 0, 0], axesLengths: [2, 4, 6], normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1] });
 * if (c[0].join() !== "-1,-2,-3" || c[7].join() !== "1,2,3") throw new Error();
 * ```
 */
export function obbCorners(box: OrientedBox): Vec3[] {
  const out: Vec3[] = [];
  const ax = [axis(box, 0), axis(box, 1), axis(box, 2)];
  const h = box.axesLengths.map((e) => e / 2);
  for (let k = 0; k < 8; k++) {
    const s = [(k & 4) ? 1 : -1, (k & 2) ? 1 : -1, (k & 1) ? 1 : -1];
    const p: Vec3 = [box.centroid[0], box.centroid[1], box.centroid[2]];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) p[j] += s[i] * h[i] * ax[i][j];
    }
    out.push(p);
  }
  return out;
}

/**
 * Distance from a point to a solid oriented box (0 inside).
 *
 * @example
 * ```ts
 * const box = { centroid: [0, 0, 0], axesLengths: [2, 2, 2], normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
 * if (pointObbDistance([4, 0, 0], box) !== 3) throw new Error();
 * if (pointObbDistance([0.5, 0, 0], box) !== 0) throw new Error();
 * ```
 */
export function pointObbDistance(p: Readonly<Vec3>, box: OrientedBox): number {
  const d = [p[0] - box.centroid[0], p[1] - box.centroid[1], p[2] - box.centroid[2]];
  let sum = 0;
  for (let i = 0; i < 3; i++) {
    const a = axis(box, i);
    const t = Math.abs(d[0] * a[0] + d[1] * a[1] + d[2] * a[2]);
    const out = t - box.axesLengths[i] / 2;
    if (out > 0) sum += out * out;
  }
  return Math.sqrt(sum);
}

/** Whether two solid boxes overlap: no separating axis among the 15 candidates. */
function obbsOverlap(a: OrientedBox, b: OrientedBox): boolean {
  const axA = [axis(a, 0), axis(a, 1), axis(a, 2)], axB = [axis(b, 0), axis(b, 1), axis(b, 2)];
  const t = [0, 1, 2].map((j) => b.centroid[j] - a.centroid[j]);
  const candidates: Vec3[] = [...axA, ...axB];
  for (const u of axA) {
    for (const v of axB) {
      const c: Vec3 = [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
      ];
      // Parallel edges: the face axes already decide.
      if (Math.hypot(c[0], c[1], c[2]) > 1e-9) candidates.push(c);
    }
  }
  for (const l of candidates) {
    const radius = (ax: Vec3[], e: readonly number[]) =>
      ax.reduce((s, v, i) => s + Math.abs(v[0] * l[0] + v[1] * l[1] + v[2] * l[2]) * e[i] / 2, 0);
    const dist = Math.abs(t[0] * l[0] + t[1] * l[1] + t[2] * l[2]);
    if (dist > radius(axA, a.axesLengths) + radius(axB, b.axesLengths)) return false;
  }
  return true;
}

/** The 12 edges of a box as corner index pairs (corners differ in one bit). */
const EDGES: [number, number][] = [];
for (let k = 0; k < 8; k++) {
  for (const bit of [1, 2, 4]) if (!(k & bit)) EDGES.push([k, k | bit]);
}

/** Distance between segments `p0 p1` and `q0 q1` (Ericson, Real-Time Collision Detection 5.1.9). */
function segmentDistance(p0: Vec3, p1: Vec3, q0: Vec3, q1: Vec3): number {
  const d1 = [p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]];
  const d2 = [q1[0] - q0[0], q1[1] - q0[1], q1[2] - q0[2]];
  const r = [p0[0] - q0[0], p0[1] - q0[1], p0[2] - q0[2]];
  const dot = (x: number[], y: number[]) => x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
  const a = dot(d1, d1), e = dot(d2, d2), f = dot(d2, r);
  const clamp = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
  let s: number, t: number;
  if (a <= 1e-300 && e <= 1e-300) {
    s = 0, t = 0;
  } else if (a <= 1e-300) {
    s = 0, t = clamp(f / e);
  } else {
    const c = dot(d1, r);
    if (e <= 1e-300) {
      t = 0, s = clamp(-c / a);
    } else {
      const b = dot(d1, d2), denom = a * e - b * b;
      s = denom > 0 ? clamp((b * f - c * e) / denom) : 0;
      t = (b * s + f) / e;
      if (t < 0) t = 0, s = clamp(-c / a);
      else if (t > 1) t = 1, s = clamp((b - c) / a);
    }
  }
  const dx = p0[0] + d1[0] * s - (q0[0] + d2[0] * t);
  const dy = p0[1] + d1[1] * s - (q0[1] + d2[1] * t);
  const dz = p0[2] + d1[2] * s - (q0[2] + d2[2] * t);
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}

/**
 * The exact distance between two solid oriented boxes (0 when they overlap or touch): the
 * closest pair of two disjoint convex polyhedra is a vertex against the other solid, or a pair
 * of edges.
 *
 * @example
 * ```ts
 * const unit = [1, 0, 0, 0, 1, 0, 0, 0, 1];
 * const a = { centroid: [0, 0, 0], axesLengths: [1, 1, 1], normalizedAxes: unit };
 * const b = { centroid: [2.5, 0, 0], axesLengths: [1, 1, 1], normalizedAxes: unit };
 * if (Math.abs(obbDistance(a, b) - 1.5) > 1e-12) throw new Error();
 * if (obbDistance(a, { ...b, centroid: [0.9, 0, 0] }) !== 0) throw new Error("overlap");
 * ```
 */
export function obbDistance(a: OrientedBox, b: OrientedBox): number {
  if (obbsOverlap(a, b)) return 0;
  const ca = obbCorners(a), cb = obbCorners(b);
  let best = Infinity;
  for (const p of ca) best = Math.min(best, pointObbDistance(p, b));
  for (const p of cb) best = Math.min(best, pointObbDistance(p, a));
  for (const [i, j] of EDGES) {
    for (const [k, l] of EDGES) best = Math.min(best, segmentDistance(ca[i], ca[j], cb[k], cb[l]));
  }
  return best;
}
