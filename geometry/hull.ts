/**
 * Convex hulls: 3D (quickhull) for minimal oriented boxes, 2D (monotone chain) for rectangles
 * in a plane.
 *
 * Points are flat xyz (or xy) arrays, so a mesh's vertex buffer can be passed as is.
 *
 * @module
 */

/** A 3D convex hull: outward-facing triangles over indices of the input points. */
export interface ConvexHull3 {
  /** Vertex index triples, counter-clockwise seen from outside. */
  triangles: Uint32Array;
  /** Indices of the points on the hull, ascending. */
  vertices: Uint32Array;
}

interface Face {
  a: number;
  b: number;
  c: number;
  nx: number;
  ny: number;
  nz: number;
  d: number;
  outside: number[];
  alive: boolean;
}

/**
 * The convex hull of `points` (xyz triples), or `undefined` when they span no volume (fewer
 * than four points, or all within `eps` of one plane). Points closer than `eps` to a face count
 * as inside, so near-coplanar facets merge into a few triangles instead of slivers.
 *
 * @example
 * ```ts
 * // A unit cube's corners plus its centre: the centre is not on the hull.
 * const pts = [0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5];
 * const hull = convexHull3(pts)!;
 * if (hull.vertices.length !== 8 || hull.triangles.length !== 12 * 3) throw new Error();
 * ```
 */
export function convexHull3(
  points: ArrayLike<number>,
  options: { eps?: number } = {},
): ConvexHull3 | undefined {
  const n = Math.floor(points.length / 3);
  if (n < 4) return undefined;
  const p = points;
  let scale = 0;
  for (let i = 0; i < 3 * n; i++) scale = Math.max(scale, Math.abs(p[i]));
  const eps = options.eps ?? Math.max(scale, 1e-300) * 1e-10;

  const simplex = initialSimplex(p, n, eps);
  if (!simplex) return undefined;

  const faces: Face[] = [];
  // Directed edge (a -> b) to the face that has it; the face across (a, b) has (b -> a).
  const edges = new Map<number, number>();
  const key = (a: number, b: number) => a * n + b;

  const makeFace = (a: number, b: number, c: number): number => {
    const ux = p[3 * b] - p[3 * a],
      uy = p[3 * b + 1] - p[3 * a + 1],
      uz = p[3 * b + 2] - p[3 * a + 2];
    const vx = p[3 * c] - p[3 * a],
      vy = p[3 * c + 1] - p[3 * a + 1],
      vz = p[3 * c + 2] - p[3 * a + 2];
    let nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const len = Math.hypot(nx, ny, nz) || 1;
    nx /= len, ny /= len, nz /= len;
    const id = faces.length;
    faces.push({
      a,
      b,
      c,
      nx,
      ny,
      nz,
      d: nx * p[3 * a] + ny * p[3 * a + 1] + nz * p[3 * a + 2],
      outside: [],
      alive: true,
    });
    edges.set(key(a, b), id);
    edges.set(key(b, c), id);
    edges.set(key(c, a), id);
    return id;
  };
  const dist = (f: Face, i: number) =>
    f.nx * p[3 * i] + f.ny * p[3 * i + 1] + f.nz * p[3 * i + 2] - f.d;

  const [i0, i1, i2, i3] = simplex;
  // Orient the tetrahedron so that every face looks away from the fourth vertex.
  const base = makeFace(i0, i1, i2);
  const flip = dist(faces[base], i3) > 0;
  faces.length = 0;
  edges.clear();
  const tet = flip
    ? [[i0, i2, i1], [i0, i1, i3], [i1, i2, i3], [i2, i0, i3]]
    : [[i0, i1, i2], [i0, i3, i1], [i1, i3, i2], [i2, i3, i0]];
  for (const [a, b, c] of tet) makeFace(a, b, c);

  const assign = (candidates: Iterable<number>, targets: number[]) => {
    for (const i of candidates) {
      for (const t of targets) {
        if (dist(faces[t], i) > eps) {
          faces[t].outside.push(i);
          break;
        }
      }
    }
  };
  const inSimplex = new Set(simplex);
  const all: number[] = [];
  for (let i = 0; i < n; i++) if (!inSimplex.has(i)) all.push(i);
  assign(all, [0, 1, 2, 3]);

  const stack = [0, 1, 2, 3];
  while (stack.length > 0) {
    const fi = stack.pop()!;
    const f = faces[fi];
    if (!f.alive || f.outside.length === 0) continue;
    let eye = f.outside[0], best = -Infinity;
    for (const i of f.outside) {
      const d = dist(f, i);
      if (d > best) [best, eye] = [d, i];
    }
    // Faces the eye sees, grown from f across shared edges.
    const visible = new Set<number>([fi]);
    const queue = [fi];
    const horizon: [number, number][] = [];
    while (queue.length > 0) {
      const g = faces[queue.pop()!];
      for (const [a, b] of [[g.a, g.b], [g.b, g.c], [g.c, g.a]]) {
        const across = edges.get(key(b, a));
        if (across === undefined) continue;
        if (visible.has(across)) continue;
        if (dist(faces[across], eye) > eps) {
          visible.add(across);
          queue.push(across);
        }
      }
    }
    for (const v of visible) {
      const g = faces[v];
      for (const [a, b] of [[g.a, g.b], [g.b, g.c], [g.c, g.a]]) {
        const across = edges.get(key(b, a));
        if (across === undefined || !visible.has(across)) horizon.push([a, b]);
      }
    }
    const orphans: number[] = [];
    for (const v of visible) {
      const g = faces[v];
      g.alive = false;
      for (const i of g.outside) if (i !== eye) orphans.push(i);
      g.outside = [];
      for (const [a, b] of [[g.a, g.b], [g.b, g.c], [g.c, g.a]]) {
        if (edges.get(key(a, b)) === v) edges.delete(key(a, b));
      }
    }
    const created = horizon.map(([a, b]) => makeFace(a, b, eye));
    assign(orphans, created);
    for (const c of created) if (faces[c].outside.length > 0) stack.push(c);
  }

  const tris: number[] = [];
  const verts = new Set<number>();
  for (const f of faces) {
    if (!f.alive) continue;
    tris.push(f.a, f.b, f.c);
    verts.add(f.a).add(f.b).add(f.c);
  }
  return {
    triangles: Uint32Array.from(tris),
    vertices: Uint32Array.from([...verts].sort((x, y) => x - y)),
  };
}

/** Four points spanning a tetrahedron of non-negligible volume, or undefined. */
function initialSimplex(
  p: ArrayLike<number>,
  n: number,
  eps: number,
): [number, number, number, number] | undefined {
  // The widest pair among the axis extremes.
  const ext: number[] = [];
  for (let axis = 0; axis < 3; axis++) {
    let lo = 0, hi = 0;
    for (let i = 1; i < n; i++) {
      if (p[3 * i + axis] < p[3 * lo + axis]) lo = i;
      if (p[3 * i + axis] > p[3 * hi + axis]) hi = i;
    }
    ext.push(lo, hi);
  }
  let i0 = 0, i1 = 0, best = -1;
  for (const a of ext) {
    for (const b of ext) {
      const d = sq(p, a, b);
      if (d > best) [best, i0, i1] = [d, a, b];
    }
  }
  if (Math.sqrt(best) <= eps) return undefined;
  // Farthest from the line i0-i1.
  const dx = p[3 * i1] - p[3 * i0],
    dy = p[3 * i1 + 1] - p[3 * i0 + 1],
    dz = p[3 * i1 + 2] - p[3 * i0 + 2];
  const dl = Math.hypot(dx, dy, dz);
  let i2 = -1;
  best = eps;
  for (let i = 0; i < n; i++) {
    const ux = p[3 * i] - p[3 * i0],
      uy = p[3 * i + 1] - p[3 * i0 + 1],
      uz = p[3 * i + 2] - p[3 * i0 + 2];
    const cx = uy * dz - uz * dy, cy = uz * dx - ux * dz, cz = ux * dy - uy * dx;
    const d = Math.hypot(cx, cy, cz) / dl;
    if (d > best) [best, i2] = [d, i];
  }
  if (i2 < 0) return undefined;
  // Farthest from the plane i0-i1-i2.
  const vx = p[3 * i2] - p[3 * i0],
    vy = p[3 * i2 + 1] - p[3 * i0 + 1],
    vz = p[3 * i2 + 2] - p[3 * i0 + 2];
  let nx = dy * vz - dz * vy, ny = dz * vx - dx * vz, nz = dx * vy - dy * vx;
  const nl = Math.hypot(nx, ny, nz);
  nx /= nl, ny /= nl, nz /= nl;
  let i3 = -1;
  best = eps;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(
      nx * (p[3 * i] - p[3 * i0]) + ny * (p[3 * i + 1] - p[3 * i0 + 1]) +
        nz * (p[3 * i + 2] - p[3 * i0 + 2]),
    );
    if (d > best) [best, i3] = [d, i];
  }
  if (i3 < 0) return undefined;
  return [i0, i1, i2, i3];
}

function sq(p: ArrayLike<number>, a: number, b: number): number {
  const x = p[3 * a] - p[3 * b], y = p[3 * a + 1] - p[3 * b + 1], z = p[3 * a + 2] - p[3 * b + 2];
  return x * x + y * y + z * z;
}

/**
 * The 2D convex hull of `xy` (pairs) by Andrew's monotone chain: indices counter-clockwise,
 * without collinear points. Fewer than three distinct points give what there is.
 *
 * @example
 * ```ts
 * const hull = convexHull2([0, 0, 2, 0, 1, 1, 2, 2, 0, 2]);
 * if (hull.join() !== "0,1,3,4") throw new Error(hull.join());
 * ```
 */
export function convexHull2(xy: ArrayLike<number>): number[] {
  const n = Math.floor(xy.length / 2);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    xy[2 * a] - xy[2 * b] || xy[2 * a + 1] - xy[2 * b + 1]
  );
  const cross = (o: number, a: number, b: number) =>
    (xy[2 * a] - xy[2 * o]) * (xy[2 * b + 1] - xy[2 * o + 1]) -
    (xy[2 * a + 1] - xy[2 * o + 1]) * (xy[2 * b] - xy[2 * o]);
  const lower: number[] = [], upper: number[] = [];
  for (const i of order) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], i) <= 0) {
      lower.pop();
    }
    lower.push(i);
  }
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], i) <= 0) {
      upper.pop();
    }
    upper.push(i);
  }
  lower.pop();
  upper.pop();
  const hull = lower.concat(upper);
  // All points equal: one point.
  if (hull.length === 0 && n > 0) return [order[0]];
  return hull;
}
