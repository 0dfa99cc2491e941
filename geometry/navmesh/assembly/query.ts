// Queries on a built navmesh in world coordinates (z up): nearest polygon, A* over polygons
// with costs between portal midpoints (as Detour's findPath), and the funnel algorithm for the
// straight path. Polygons are stored counter-clockwise seen from above.

class QueryMesh {
  verts: Float32Array = new Float32Array(0);
  polys: Int32Array = new Int32Array(0);
  nverts: i32 = 0;
  npolys: i32 = 0;
  nvp: i32 = 6;
  climb: f64 = 0.2;
  bmin: Float64Array = new Float64Array(0); // per polygon x, y, z
  bmax: Float64Array = new Float64Array(0);
  // Uniform grid of polygon lists for the nearest-polygon search.
  gx0: f64 = 0;
  gy0: f64 = 0;
  gsize: f64 = 1;
  gw: i32 = 0;
  gh: i32 = 0;
  cellStart: Int32Array = new Int32Array(0);
  cellItems: Int32Array = new Int32Array(0);
  stamp: Int32Array = new Int32Array(0);
  stampGen: i32 = 0;
}
const q = new QueryMesh();

/** Results of the last query (points as x, y, z). */
export const out = new Float64Array(3 * 4096);
export let pathPolys = new Int32Array(0);

/** Allocates the mesh; the caller fills verts and polys before queryPrepare. */
export function queryInit(nverts: i32, npolys: i32, nvp: i32, climb: f64): void {
  q.verts = new Float32Array(nverts * 3);
  q.polys = new Int32Array(npolys * nvp * 2);
  q.nverts = nverts;
  q.npolys = npolys;
  q.nvp = nvp;
  q.climb = climb;
}
export function queryVertsPtr(): usize {
  return q.verts.dataStart;
}
export function queryPolysPtr(): usize {
  return q.polys.dataStart;
}

@inline function px(v: i32): f64 {
  return <f64>unchecked(q.verts[v * 3]);
}
@inline function py(v: i32): f64 {
  return <f64>unchecked(q.verts[v * 3 + 1]);
}
@inline function pz(v: i32): f64 {
  return <f64>unchecked(q.verts[v * 3 + 2]);
}
@inline function polyVert(p: i32, j: i32): i32 {
  return unchecked(q.polys[p * q.nvp * 2 + j]);
}
@inline function polyNei(p: i32, j: i32): i32 {
  return unchecked(q.polys[p * q.nvp * 2 + q.nvp + j]);
}
export function polyVertCount(p: i32): i32 {
  const nvp = q.nvp;
  for (let j = 0; j < nvp; j++) if (polyVert(p, j) < 0) return j;
  return nvp;
}

/** Orients polygons counter-clockwise, computes bounds and the search grid. */
export function queryPrepare(): void {
  const np = q.npolys, nvp = q.nvp;
  const tmpV = new Int32Array(nvp), tmpN = new Int32Array(nvp);
  for (let p = 0; p < np; p++) {
    const n = polyVertCount(p);
    let a: f64 = 0;
    for (let j = 0; j < n; j++) {
      const u = polyVert(p, j), w = polyVert(p, (j + 1) % n);
      a += px(u) * py(w) - px(w) * py(u);
    }
    if (a < 0) {
      // Reverse the vertices; edge k of the reversed polygon is edge n-2-k of the original.
      for (let k = 0; k < n; k++) {
        unchecked((tmpV[k] = polyVert(p, n - 1 - k)));
        unchecked((tmpN[k] = polyNei(p, (2 * n - 2 - k) % n)));
      }
      const o = p * nvp * 2;
      for (let k = 0; k < n; k++) {
        unchecked((q.polys[o + k] = tmpV[k]));
        unchecked((q.polys[o + nvp + k] = tmpN[k]));
      }
    }
  }
  q.bmin = new Float64Array(np * 3);
  q.bmax = new Float64Array(np * 3);
  let x0 = f64.MAX_VALUE, y0 = f64.MAX_VALUE, x1 = -f64.MAX_VALUE, y1 = -f64.MAX_VALUE;
  for (let p = 0; p < np; p++) {
    let ax = f64.MAX_VALUE, ay = f64.MAX_VALUE, az = f64.MAX_VALUE;
    let bx = -f64.MAX_VALUE, by = -f64.MAX_VALUE, bz = -f64.MAX_VALUE;
    const n = polyVertCount(p);
    for (let j = 0; j < n; j++) {
      const v = polyVert(p, j);
      ax = min(ax, px(v)); ay = min(ay, py(v)); az = min(az, pz(v));
      bx = max(bx, px(v)); by = max(by, py(v)); bz = max(bz, pz(v));
    }
    unchecked((q.bmin[p * 3] = ax)); unchecked((q.bmin[p * 3 + 1] = ay)); unchecked((q.bmin[p * 3 + 2] = az));
    unchecked((q.bmax[p * 3] = bx)); unchecked((q.bmax[p * 3 + 1] = by)); unchecked((q.bmax[p * 3 + 2] = bz));
    x0 = min(x0, ax); y0 = min(y0, ay); x1 = max(x1, bx); y1 = max(y1, by);
  }
  if (np == 0) {
    x0 = 0; y0 = 0; x1 = 0; y1 = 0;
  }
  q.gsize = 0.5;
  q.gx0 = x0;
  q.gy0 = y0;
  q.gw = <i32>Math.floor((x1 - x0) / q.gsize) + 1;
  q.gh = <i32>Math.floor((y1 - y0) / q.gsize) + 1;
  const ncell = q.gw * q.gh;
  const counts = new Int32Array(ncell + 1);
  for (let pass = 0; pass < 2; pass++) {
    for (let p = 0; p < np; p++) {
      const cx0 = cellX(unchecked(q.bmin[p * 3])), cx1 = cellX(unchecked(q.bmax[p * 3]));
      const cy0 = cellY(unchecked(q.bmin[p * 3 + 1])), cy1 = cellY(unchecked(q.bmax[p * 3 + 1]));
      for (let cy = cy0; cy <= cy1; cy++) {
        for (let cx = cx0; cx <= cx1; cx++) {
          const c = cx + cy * q.gw;
          if (pass == 0) unchecked((counts[c + 1] = counts[c + 1] + 1));
          else {
            unchecked((q.cellItems[counts[c]] = p));
            unchecked((counts[c] = counts[c] + 1));
          }
        }
      }
    }
    if (pass == 0) {
      for (let c = 0; c < ncell; c++) unchecked((counts[c + 1] = counts[c + 1] + counts[c]));
      q.cellStart = new Int32Array(ncell + 1);
      for (let c = 0; c <= ncell; c++) unchecked((q.cellStart[c] = counts[c]));
      q.cellItems = new Int32Array(max<i32>(1, unchecked(counts[ncell])));
    }
  }
  q.stamp = new Int32Array(max<i32>(np, 1));
  q.stampGen = 0;
  nodeGen = new Int32Array(max<i32>(np, 1));
  nodeCost = new Float64Array(max<i32>(np, 1));
  nodeTotal = new Float64Array(max<i32>(np, 1));
  nodePos = new Float64Array(max<i32>(np, 1) * 3);
  nodeParent = new Int32Array(max<i32>(np, 1));
  nodeState = new Uint8Array(max<i32>(np, 1));
  heap = new Int32Array(max<i32>(np, 1));
  heapPos = new Int32Array(max<i32>(np, 1));
  pathPolys = new Int32Array(max<i32>(np, 1));
}

@inline function cellX(x: f64): i32 {
  const c = <i32>Math.floor((x - q.gx0) / q.gsize);
  return c < 0 ? 0 : c >= q.gw ? q.gw - 1 : c;
}
@inline function cellY(y: f64): i32 {
  const c = <i32>Math.floor((y - q.gy0) / q.gsize);
  return c < 0 ? 0 : c >= q.gh ? q.gh - 1 : c;
}

let cpX: f64 = 0;
let cpY: f64 = 0;
let cpZ: f64 = 0;
let cpInside: bool = false;

/** Closest point of polygon p to (x, y, z): inside (2D) gets the surface height there. */
function closestPointOnPoly(p: i32, x: f64, y: f64, z: f64): void {
  const n = polyVertCount(p);
  let inside = true;
  for (let j = 0; j < n; j++) {
    const a = polyVert(p, j), b = polyVert(p, (j + 1) % n);
    if ((px(b) - px(a)) * (y - py(a)) - (py(b) - py(a)) * (x - px(a)) < 0) {
      inside = false;
      break;
    }
  }
  if (inside) {
    cpX = x;
    cpY = y;
    cpZ = heightInPoly(p, x, y);
    cpInside = true;
    return;
  }
  let best = f64.MAX_VALUE;
  for (let j = 0; j < n; j++) {
    const a = polyVert(p, j), b = polyVert(p, (j + 1) % n);
    const ex = px(b) - px(a), ey = py(b) - py(a);
    const l2 = ex * ex + ey * ey;
    let t = l2 > 0 ? ((x - px(a)) * ex + (y - py(a)) * ey) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const cx = px(a) + t * ex, cy = py(a) + t * ey;
    const d = (cx - x) * (cx - x) + (cy - y) * (cy - y);
    if (d < best) {
      best = d;
      cpX = cx;
      cpY = cy;
      cpZ = pz(a) + t * (pz(b) - pz(a));
    }
  }
  cpInside = false;
}

/** Height of the polygon's fan triangulation at (x, y), assumed inside. */
function heightInPoly(p: i32, x: f64, y: f64): f64 {
  const n = polyVertCount(p);
  const a = polyVert(p, 0);
  for (let j = 1; j < n - 1; j++) {
    const b = polyVert(p, j), c = polyVert(p, j + 1);
    const v0x = px(b) - px(a), v0y = py(b) - py(a), v1x = px(c) - px(a), v1y = py(c) - py(a);
    const v2x = x - px(a), v2y = y - py(a);
    const den = v0x * v1y - v1x * v0y;
    if (den == 0) continue;
    const u = (v2x * v1y - v1x * v2y) / den;
    const v = (v0x * v2y - v2x * v0y) / den;
    const eps = 1e-9;
    if (u >= -eps && v >= -eps && u + v <= 1 + eps) return pz(a) + u * (pz(b) - pz(a)) + v * (pz(c) - pz(a));
  }
  return pz(a);
}

/**
 * The polygon nearest to (x, y, z) among those overlapping the box of half extents (ex, ey, ez);
 * -1 when none. The nearest point goes to out[0..2]. A point above a polygon within climb of it
 * counts as on it (Detour's rule).
 */
export function findNearestPoly(x: f64, y: f64, z: f64, ex: f64, ey: f64, ez: f64): i32 {
  if (q.npolys == 0) return -1;
  q.stampGen++;
  const cx0 = cellX(x - ex), cx1 = cellX(x + ex), cy0 = cellY(y - ey), cy1 = cellY(y + ey);
  let best = -1;
  let bestD = f64.MAX_VALUE;
  for (let cy = cy0; cy <= cy1; cy++) {
    for (let cx = cx0; cx <= cx1; cx++) {
      const c = cx + cy * q.gw;
      for (let k = unchecked(q.cellStart[c]), nk = unchecked(q.cellStart[c + 1]); k < nk; k++) {
        const p = unchecked(q.cellItems[k]);
        if (unchecked(q.stamp[p]) == q.stampGen) continue;
        unchecked((q.stamp[p] = q.stampGen));
        if (
          unchecked(q.bmin[p * 3]) > x + ex || unchecked(q.bmax[p * 3]) < x - ex ||
          unchecked(q.bmin[p * 3 + 1]) > y + ey || unchecked(q.bmax[p * 3 + 1]) < y - ey ||
          unchecked(q.bmin[p * 3 + 2]) > z + ez || unchecked(q.bmax[p * 3 + 2]) < z - ez
        ) continue;
        closestPointOnPoly(p, x, y, z);
        let d: f64;
        if (cpInside) {
          d = Math.abs(z - cpZ) - q.climb;
          d = d > 0 ? d * d : 0;
        } else {
          d = (cpX - x) * (cpX - x) + (cpY - y) * (cpY - y) + (cpZ - z) * (cpZ - z);
        }
        if (d < bestD) {
          bestD = d;
          best = p;
          unchecked((out[0] = cpX));
          unchecked((out[1] = cpY));
          unchecked((out[2] = cpZ));
        }
      }
    }
  }
  return best;
}

/** Closest point on polygon p to (x, y, z), written to out[0..2]. */
export function closestPoint(p: i32, x: f64, y: f64, z: f64): void {
  closestPointOnPoly(p, x, y, z);
  unchecked((out[0] = cpX));
  unchecked((out[1] = cpY));
  unchecked((out[2] = cpZ));
}

// A* state per polygon, reset lazily by generation.
let nodeGen = new Int32Array(0);
let nodeCost = new Float64Array(0);
let nodeTotal = new Float64Array(0);
let nodePos = new Float64Array(0);
let nodeParent = new Int32Array(0);
let nodeState = new Uint8Array(0); // 1 open, 2 closed
let gen: i32 = 0;
let heap = new Int32Array(0);
let heapPos = new Int32Array(0);
let heapSize: i32 = 0;

function heapUp(k: i32): void {
  const p = unchecked(heap[k]);
  const t = unchecked(nodeTotal[p]);
  while (k > 0) {
    const parent = (k - 1) >> 1;
    const pp = unchecked(heap[parent]);
    if (unchecked(nodeTotal[pp]) <= t) break;
    unchecked((heap[k] = pp));
    unchecked((heapPos[pp] = k));
    k = parent;
  }
  unchecked((heap[k] = p));
  unchecked((heapPos[p] = k));
}

function heapPop(): i32 {
  const top = unchecked(heap[0]);
  heapSize--;
  if (heapSize > 0) {
    const last = unchecked(heap[heapSize]);
    const t = unchecked(nodeTotal[last]);
    let k = 0;
    for (;;) {
      let c = 2 * k + 1;
      if (c >= heapSize) break;
      if (c + 1 < heapSize && unchecked(nodeTotal[heap[c + 1]]) < unchecked(nodeTotal[heap[c]])) c++;
      if (unchecked(nodeTotal[heap[c]]) >= t) break;
      const cp = unchecked(heap[c]);
      unchecked((heap[k] = cp));
      unchecked((heapPos[cp] = k));
      k = c;
    }
    unchecked((heap[k] = last));
    unchecked((heapPos[last] = k));
  }
  return top;
}

@inline function dist3(ax: f64, ay: f64, az: f64, bx: f64, by: f64, bz: f64): f64 {
  return Math.sqrt((ax - bx) * (ax - bx) + (ay - by) * (ay - by) + (az - bz) * (az - bz));
}

/** Detour's heuristic scale: slightly below 1 so ties favour progress. */
const H_SCALE: f64 = 0.999;

/**
 * Polygon corridor from start to end (A* with costs between portal midpoints); returns its
 * length in polygons, negated when the end was not reached (the corridor then ends at the
 * polygon closest to the end). The corridor goes to pathPolys.
 */
export function findPath(start: i32, end: i32, sx: f64, sy: f64, sz: f64, ex: f64, ey: f64, ez: f64): i32 {
  gen++;
  heapSize = 0;
  unchecked((nodeGen[start] = gen));
  unchecked((nodeCost[start] = 0));
  unchecked((nodeTotal[start] = dist3(sx, sy, sz, ex, ey, ez) * H_SCALE));
  unchecked((nodePos[start * 3] = sx));
  unchecked((nodePos[start * 3 + 1] = sy));
  unchecked((nodePos[start * 3 + 2] = sz));
  unchecked((nodeParent[start] = -1));
  unchecked((nodeState[start] = 1));
  unchecked((heap[0] = start));
  unchecked((heapPos[start] = 0));
  heapSize = 1;
  let lastBest = start;
  let lastBestCost = unchecked(nodeTotal[start]);
  const nvp = q.nvp;
  while (heapSize > 0) {
    const best = heapPop();
    unchecked((nodeState[best] = 2));
    if (best == end) {
      lastBest = best;
      break;
    }
    const parent = unchecked(nodeParent[best]);
    const bx = unchecked(nodePos[best * 3]), by = unchecked(nodePos[best * 3 + 1]), bz = unchecked(nodePos[best * 3 + 2]);
    const n = polyVertCount(best);
    for (let j = 0; j < n; j++) {
      const nb = unchecked(q.polys[best * nvp * 2 + nvp + j]);
      if (nb < 0 || nb == parent) continue;
      if (unchecked(nodeGen[nb]) != gen) {
        unchecked((nodeGen[nb] = gen));
        unchecked((nodeState[nb] = 0));
        const a = polyVert(best, j), b = polyVert(best, (j + 1) % n);
        unchecked((nodePos[nb * 3] = (px(a) + px(b)) * 0.5));
        unchecked((nodePos[nb * 3 + 1] = (py(a) + py(b)) * 0.5));
        unchecked((nodePos[nb * 3 + 2] = (pz(a) + pz(b)) * 0.5));
      }
      const nx = unchecked(nodePos[nb * 3]), ny = unchecked(nodePos[nb * 3 + 1]), nz = unchecked(nodePos[nb * 3 + 2]);
      let cost: f64, heuristic: f64;
      if (nb == end) {
        cost = unchecked(nodeCost[best]) + dist3(bx, by, bz, nx, ny, nz) + dist3(nx, ny, nz, ex, ey, ez);
        heuristic = 0;
      } else {
        cost = unchecked(nodeCost[best]) + dist3(bx, by, bz, nx, ny, nz);
        heuristic = dist3(nx, ny, nz, ex, ey, ez) * H_SCALE;
      }
      const total = cost + heuristic;
      const state = unchecked(nodeState[nb]);
      if (state != 0 && total >= unchecked(nodeTotal[nb])) continue;
      unchecked((nodeParent[nb] = best));
      unchecked((nodeCost[nb] = cost));
      unchecked((nodeTotal[nb] = total));
      if (state == 1) {
        heapUp(unchecked(heapPos[nb]));
      } else {
        unchecked((nodeState[nb] = 1));
        unchecked((heap[heapSize] = nb));
        heapSize++;
        heapUp(heapSize - 1);
      }
      if (heuristic < lastBestCost) {
        lastBestCost = heuristic;
        lastBest = nb;
      }
    }
  }
  let len = 0;
  for (let p = lastBest; p != -1; p = unchecked(nodeParent[p])) len++;
  let k = len - 1;
  for (let p = lastBest; p != -1; p = unchecked(nodeParent[p])) unchecked((pathPolys[k--] = p));
  return lastBest == end ? len : -len;
}

export function pathPolysPtr(): usize {
  return pathPolys.dataStart;
}
export function outPtr(): usize {
  return out.dataStart;
}

@inline function cross2(ax: f64, ay: f64, bx: f64, by: f64, cx: f64, cy: f64): f64 {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}
@inline function same2(ax: f64, ay: f64, bx: f64, by: f64): bool {
  const e: f64 = 1.0 / 16384.0;
  return (ax - bx) * (ax - bx) + (ay - by) * (ay - by) < e * e;
}

let nOut: i32 = 0;
function emit(x: f64, y: f64, z: f64): void {
  if (nOut > 0 && same2(unchecked(out[(nOut - 1) * 3]), unchecked(out[(nOut - 1) * 3 + 1]), x, y)) return;
  if (nOut * 3 + 3 > out.length) return;
  unchecked((out[nOut * 3] = x));
  unchecked((out[nOut * 3 + 1] = y));
  unchecked((out[nOut * 3 + 2] = z));
  nOut++;
}

// Portal of step i: left then right endpoint (x, y, z).
const portal = new Float64Array(6);
function portalOf(i: i32, len: i32, ex: f64, ey: f64, ez: f64): void {
  if (i + 1 >= len) {
    portal[0] = ex; portal[1] = ey; portal[2] = ez;
    portal[3] = ex; portal[4] = ey; portal[5] = ez;
    return;
  }
  const a = unchecked(pathPolys[i]), b = unchecked(pathPolys[i + 1]);
  const n = polyVertCount(a);
  for (let j = 0; j < n; j++) {
    if (polyNei(a, j) == b) {
      // Counter-clockwise polygon: leaving through edge j, its end vertex is on the left.
      const r = polyVert(a, j), l = polyVert(a, (j + 1) % n);
      portal[0] = px(l); portal[1] = py(l); portal[2] = pz(l);
      portal[3] = px(r); portal[4] = py(r); portal[5] = pz(r);
      return;
    }
  }
  unreachable();
}

/**
 * String-pulls the corridor in pathPolys[0..len) from start to end (both clamped onto their
 * polygons); writes the corners to out and returns how many.
 */
export function findStraightPath(len: i32, sx: f64, sy: f64, sz: f64, ex: f64, ey: f64, ez: f64): i32 {
  nOut = 0;
  if (len <= 0) return 0;
  closestPointOnPoly(unchecked(pathPolys[0]), sx, sy, sz);
  const ax0 = cpX, ay0 = cpY, az0 = cpZ;
  closestPointOnPoly(unchecked(pathPolys[len - 1]), ex, ey, ez);
  const gx = cpX, gy = cpY, gz = cpZ;
  emit(ax0, ay0, az0);
  let apX = ax0, apY = ay0;
  let lX = ax0, lY = ay0, lZ = az0, rX = ax0, rY = ay0, rZ = az0;
  let apexI = 0, leftI = 0, rightI = 0;
  for (let i = 0; i < len; i++) {
    portalOf(i, len, gx, gy, gz);
    const nlX = portal[0], nlY = portal[1], nlZ = portal[2];
    const nrX = portal[3], nrY = portal[4], nrZ = portal[5];
    // Right side: narrow the funnel, or the left corner becomes the new apex.
    if (cross2(apX, apY, rX, rY, nrX, nrY) >= 0) {
      if (same2(apX, apY, rX, rY) || cross2(apX, apY, lX, lY, nrX, nrY) < 0) {
        rX = nrX; rY = nrY; rZ = nrZ;
        rightI = i;
      } else {
        emit(lX, lY, lZ);
        apX = lX; apY = lY;
        apexI = leftI;
        rX = lX; rY = lY; rZ = lZ;
        rightI = apexI;
        i = apexI;
        continue;
      }
    }
    if (cross2(apX, apY, lX, lY, nlX, nlY) <= 0) {
      if (same2(apX, apY, lX, lY) || cross2(apX, apY, rX, rY, nlX, nlY) > 0) {
        lX = nlX; lY = nlY; lZ = nlZ;
        leftI = i;
      } else {
        emit(rX, rY, rZ);
        apX = rX; apY = rY;
        apexI = rightI;
        lX = rX; lY = rY; lZ = rZ;
        leftI = apexI;
        i = apexI;
        continue;
      }
    }
  }
  emit(gx, gy, gz);
  return nOut;
}
