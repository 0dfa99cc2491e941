/**
 * 2D Delaunay triangulation and alpha-shape area: the room size of DECISIONS 8 is the area of
 * the alpha shape (alpha = 5) of the floor-plane projection of 10,000 sampled mesh vertices.
 *
 * The triangulation is incremental (Bowyer-Watson with adjacency and a visibility walk, points
 * inserted in a space-filling order). Coordinates are snapped to an integer grid of 2^24 steps
 * across the extent, and the orientation and in-circle predicates are exact there (a floating
 * filter, with BigInt arithmetic when it cannot decide), so collinear and co-circular inputs,
 * common in meshes of walls and floors, never break the topology.
 *
 * @module
 */

/** Grid steps across the larger extent. */
const GRID = 2 ** 24;
/** Half-size of the enclosing triangle, far outside the grid. */
const SUPER = 2 ** 30;

/** A triangulation: triangles as index triples into the input points, counter-clockwise. */
export interface Triangulation {
  triangles: Uint32Array;
}

/**
 * The Delaunay triangulation of `xy` (pairs). Points closer than the snapping grid
 * (extent / 2^24) to an earlier point are treated as duplicates and left out.
 *
 * @example
 * ```ts
 * // A square with its centre: four triangles around the centre.
 * const t = delaunay([0, 0, 1, 0, 1, 1, 0, 1, 0.5, 0.5]);
 * if (t.triangles.length !== 4 * 3) throw new Error(String(t.triangles.length));
 * ```
 */
export function delaunay(xy: ArrayLike<number>): Triangulation {
  const n = Math.floor(xy.length / 2);
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError("delaunay: non-finite coordinate");
    }
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const extent = Math.max(maxX - minX, maxY - minY);
  if (n < 3 || !(extent > 0)) return { triangles: new Uint32Array(0) };
  const res = extent / GRID;

  // Snapped integer coordinates of the unique points, then the three enclosing vertices.
  const seen = new Map<number, number>();
  const ids: number[] = [];
  const px: number[] = [], py: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = Math.round((xy[2 * i] - minX) / res), y = Math.round((xy[2 * i + 1] - minY) / res);
    const k = x * (GRID + 1) + y;
    if (seen.has(k)) continue;
    seen.set(k, ids.length);
    ids.push(i);
    px.push(x);
    py.push(y);
  }
  const m = ids.length;
  px.push(-SUPER, 3 * SUPER, -SUPER);
  py.push(-SUPER, -SUPER, 3 * SUPER);
  const s0 = m, s1 = m + 1, s2 = m + 2;

  const mesh = new TriMesh(px, py);
  mesh.add(s0, s1, s2, -1, -1, -1);
  let last = 0;
  for (const i of insertionOrder(px, py, m)) last = mesh.insert(i, last);

  const out: number[] = [];
  for (let t = 0; t < mesh.count; t++) {
    if (!mesh.alive[t]) continue;
    const a = mesh.v[3 * t], b = mesh.v[3 * t + 1], c = mesh.v[3 * t + 2];
    if (a >= m || b >= m || c >= m) continue;
    out.push(ids[a], ids[b], ids[c]);
  }
  return { triangles: Uint32Array.from(out) };
}

/**
 * The area of the alpha shape of `xy`: the union of Delaunay triangles whose circumradius is
 * below `1 / alpha` (the `alphashape` package's rule; with alpha = 5, 0.2 m).
 *
 * @example
 * ```ts
 * // A 2 x 1 m grid of points 5 cm apart: the shape is the rectangle.
 * const pts: number[] = [];
 * for (let i = 0; i <= 40; i++) for (let j = 0; j <= 20; j++) pts.push(i * 0.05, j * 0.05);
 * if (Math.abs(alphaShapeArea(pts, 5) - 2) > 1e-9) throw new Error();
 * ```
 */
export function alphaShapeArea(xy: ArrayLike<number>, alpha: number): number {
  const { triangles } = delaunay(xy);
  const rmax = 1 / alpha;
  let area = 0;
  for (let t = 0; t < triangles.length; t += 3) {
    const a = triangles[t], b = triangles[t + 1], c = triangles[t + 2];
    const ax = xy[2 * a], ay = xy[2 * a + 1];
    const bx = xy[2 * b], by = xy[2 * b + 1];
    const cx = xy[2 * c], cy = xy[2 * c + 1];
    const twice = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (!(twice > 0)) continue;
    const ab = Math.hypot(bx - ax, by - ay), bc = Math.hypot(cx - bx, cy - by);
    const ca = Math.hypot(ax - cx, ay - cy);
    const r = (ab * bc * ca) / (2 * twice);
    if (r < rmax) area += twice / 2;
  }
  return area;
}

/** Insertion order: rows of grid cells, alternating direction, so walks stay short. */
function insertionOrder(px: number[], py: number[], m: number): number[] {
  const cells = Math.max(1, Math.round(Math.sqrt(m / 8)));
  const size = (GRID + 1) / cells;
  const key = (i: number) => {
    const row = Math.min(cells - 1, Math.floor(py[i] / size));
    const col = Math.min(cells - 1, Math.floor(px[i] / size));
    return row * cells + (row % 2 === 0 ? col : cells - 1 - col);
  };
  const keys = Array.from({ length: m }, (_, i) => key(i));
  return Array.from({ length: m }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
}

/** Triangles with vertex indices `v` and neighbours `nb` (across edge k = v[k] -> v[k+1]). */
class TriMesh {
  v: number[] = [];
  nb: number[] = [];
  alive: boolean[] = [];
  count = 0;
  constructor(readonly px: number[], readonly py: number[]) {}

  add(a: number, b: number, c: number, n0: number, n1: number, n2: number): number {
    this.v.push(a, b, c);
    this.nb.push(n0, n1, n2);
    this.alive.push(true);
    return this.count++;
  }

  /** Inserts point `p`, starting the search at triangle `start`; returns a new triangle. */
  insert(p: number, start: number): number {
    const t0 = this.locate(p, start);
    const { v, nb, px, py } = this;
    // The cavity: triangles whose circumcircle holds p, grown from the one containing it.
    const cavity = new Set<number>([t0]);
    const stack = [t0];
    while (stack.length > 0) {
      const t = stack.pop()!;
      for (let k = 0; k < 3; k++) {
        const u = nb[3 * t + k];
        if (u < 0 || cavity.has(u)) continue;
        if (inCircle(px, py, v[3 * u], v[3 * u + 1], v[3 * u + 2], p) > 0) {
          cavity.add(u);
          stack.push(u);
        }
      }
    }
    // Fan p to the cavity's boundary edges.
    const byStart = new Map<number, number>();
    const made: number[] = [];
    for (const t of cavity) {
      this.alive[t] = false;
      for (let k = 0; k < 3; k++) {
        const u = nb[3 * t + k];
        if (u >= 0 && cavity.has(u)) continue;
        const a = v[3 * t + k], b = v[3 * t + (k + 1) % 3];
        const w = this.add(a, b, p, u, -1, -1);
        if (u >= 0) {
          for (let j = 0; j < 3; j++) if (nb[3 * u + j] === t) nb[3 * u + j] = w;
        }
        byStart.set(a, w);
        made.push(w);
      }
    }
    for (const w of made) {
      // Edge (b -> p) of w meets edge (p -> b) of the new triangle starting at b.
      const b = v[3 * w + 1];
      const x = byStart.get(b)!;
      nb[3 * w + 1] = x;
      nb[3 * x + 2] = w;
    }
    return made[0];
  }

  /** Walks from `t` toward `p` until p is inside or on the boundary of the triangle. */
  locate(p: number, t: number): number {
    const { v, nb, px, py } = this;
    let k0 = 0;
    for (let guard = 0; guard < 4 * this.count + 16; guard++) {
      let moved = false;
      for (let j = 0; j < 3; j++) {
        const k = (k0 + j) % 3;
        const a = v[3 * t + k], b = v[3 * t + (k + 1) % 3];
        if (orient(px, py, a, b, p) < 0) {
          t = nb[3 * t + k];
          k0 = (k0 + 1) % 3;
          moved = true;
          break;
        }
      }
      if (!moved) return t;
    }
    throw new Error("delaunay: point location did not converge");
  }
}

/** Sign of the turn a -> b -> c: positive counter-clockwise. Exact. */
function orient(px: number[], py: number[], a: number, b: number, c: number): number {
  const t1 = (px[b] - px[a]) * (py[c] - py[a]);
  const t2 = (py[b] - py[a]) * (px[c] - px[a]);
  const det = t1 - t2;
  if (Math.abs(det) > 4e-16 * (Math.abs(t1) + Math.abs(t2))) return det;
  const B = BigInt;
  const e = (B(px[b]) - B(px[a])) * (B(py[c]) - B(py[a])) -
    (B(py[b]) - B(py[a])) * (B(px[c]) - B(px[a]));
  return e > 0n ? 1 : e < 0n ? -1 : 0;
}

/** Positive when d lies inside the circle through the counter-clockwise a, b, c. Exact. */
function inCircle(
  px: number[],
  py: number[],
  a: number,
  b: number,
  c: number,
  d: number,
): number {
  const adx = px[a] - px[d], ady = py[a] - py[d];
  const bdx = px[b] - px[d], bdy = py[b] - py[d];
  const cdx = px[c] - px[d], cdy = py[c] - py[d];
  const al = adx * adx + ady * ady, bl = bdx * bdx + bdy * bdy, cl = cdx * cdx + cdy * cdy;
  const det = al * (bdx * cdy - cdx * bdy) + bl * (cdx * ady - adx * cdy) +
    cl * (adx * bdy - bdx * ady);
  const perm = al * (Math.abs(bdx * cdy) + Math.abs(cdx * bdy)) +
    bl * (Math.abs(cdx * ady) + Math.abs(adx * cdy)) +
    cl * (Math.abs(adx * bdy) + Math.abs(bdx * ady));
  if (Math.abs(det) > 2e-15 * perm) return det;
  const B = BigInt;
  const [ax, ay, bx, by, cx, cy] = [adx, ady, bdx, bdy, cdx, cdy].map((x) => B(x));
  const e = (ax * ax + ay * ay) * (bx * cy - cx * by) + (bx * bx + by * by) * (cx * ay - ax * cy) +
    (cx * cx + cy * cy) * (ax * by - bx * ay);
  return e > 0n ? 1 : e < 0n ? -1 : 0;
}
