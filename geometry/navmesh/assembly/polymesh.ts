// Stages 9-10: each contour triangulated (ear clipping that prefers short diagonals), triangles
// merged into convex polygons of at most nvp vertices along their longest shared edges,
// polygon adjacency, and islands (connected components of the adjacency).

import { cfg, cset, pmesh } from "./state";

// Vertex flag bit used by the ear clipper on contour indices.
const EAR = 0x80000000;
const IDX = 0x0fffffff;

let tv: Array<i32> = new Array<i32>(); // contour vertices (4 ints each)

@inline function vx(i: i32): i32 {
  return unchecked(tv[(i & IDX) * 4]);
}
@inline function vz(i: i32): i32 {
  return unchecked(tv[(i & IDX) * 4 + 2]);
}
@inline function area2i(a: i32, b: i32, c: i32): i32 {
  return (vx(b) - vx(a)) * (vz(c) - vz(a)) - (vx(c) - vx(a)) * (vz(b) - vz(a));
}
@inline function lefti(a: i32, b: i32, c: i32): bool {
  return area2i(a, b, c) < 0;
}
@inline function leftOni(a: i32, b: i32, c: i32): bool {
  return area2i(a, b, c) <= 0;
}
@inline function collineari(a: i32, b: i32, c: i32): bool {
  return area2i(a, b, c) == 0;
}
function intersectPropi(a: i32, b: i32, c: i32, d: i32): bool {
  if (collineari(a, b, c) || collineari(a, b, d) || collineari(c, d, a) || collineari(c, d, b)) return false;
  return (lefti(a, b, c) != lefti(a, b, d)) && (lefti(c, d, a) != lefti(c, d, b));
}
function betweeni(a: i32, b: i32, c: i32): bool {
  if (!collineari(a, b, c)) return false;
  if (vx(a) != vx(b)) return (vx(a) <= vx(c) && vx(c) <= vx(b)) || (vx(a) >= vx(c) && vx(c) >= vx(b));
  return (vz(a) <= vz(c) && vz(c) <= vz(b)) || (vz(a) >= vz(c) && vz(c) >= vz(b));
}
function intersecti(a: i32, b: i32, c: i32, d: i32): bool {
  return intersectPropi(a, b, c, d) || betweeni(a, b, c) || betweeni(a, b, d) || betweeni(c, d, a) ||
    betweeni(c, d, b);
}
@inline function vequali(a: i32, b: i32): bool {
  return vx(a) == vx(b) && vz(a) == vz(b);
}
@inline function nexti(i: i32, n: i32): i32 {
  return i + 1 < n ? i + 1 : 0;
}
@inline function previ(i: i32, n: i32): i32 {
  return i - 1 >= 0 ? i - 1 : n - 1;
}

function diagonalie(i: i32, j: i32, n: i32, ind: Int32Array, loose: bool): bool {
  const d0 = unchecked(ind[i]), d1 = unchecked(ind[j]);
  for (let k = 0; k < n; k++) {
    const k1 = nexti(k, n);
    if (k == i || k1 == i || k == j || k1 == j) continue;
    const p0 = unchecked(ind[k]), p1 = unchecked(ind[k1]);
    if (vequali(d0, p0) || vequali(d1, p0) || vequali(d0, p1) || vequali(d1, p1)) continue;
    if (loose ? intersectPropi(d0, d1, p0, p1) : intersecti(d0, d1, p0, p1)) return false;
  }
  return true;
}

function inConei(i: i32, j: i32, n: i32, ind: Int32Array, loose: bool): bool {
  const pi = unchecked(ind[i]), pj = unchecked(ind[j]);
  const pi1 = unchecked(ind[nexti(i, n)]), pin1 = unchecked(ind[previ(i, n)]);
  if (leftOni(pin1, pi, pi1)) {
    return loose
      ? leftOni(pi, pj, pin1) && leftOni(pj, pi, pi1)
      : lefti(pi, pj, pin1) && lefti(pj, pi, pi1);
  }
  return !(leftOni(pi, pj, pi1) && leftOni(pj, pi, pin1));
}

@inline function diagonal(i: i32, j: i32, n: i32, ind: Int32Array): bool {
  return inConei(i, j, n, ind, false) && diagonalie(i, j, n, ind, false);
}

/** Ear clipping; returns the triangle count (negative when it had to stop early). */
function triangulate(n: i32, ind: Int32Array, tris: Int32Array): i32 {
  let ntris = 0;
  let dst = 0;
  for (let i = 0; i < n; i++) {
    const i1 = nexti(i, n), i2 = nexti(i1, n);
    if (diagonal(i, i2, n, ind)) unchecked((ind[i1] = ind[i1] | EAR));
  }
  while (n > 3) {
    let minLen = -1, mini = -1;
    for (let i = 0; i < n; i++) {
      const i1 = nexti(i, n);
      if (unchecked(ind[i1]) & EAR) {
        const p0 = unchecked(ind[i]), p2 = unchecked(ind[nexti(i1, n)]);
        const dx = vx(p2) - vx(p0), dz = vz(p2) - vz(p0);
        const len = dx * dx + dz * dz;
        if (minLen < 0 || len < minLen) {
          minLen = len;
          mini = i;
        }
      }
    }
    if (mini == -1) {
      // No proper ear (overlapping segments from simplification): accept a loose one.
      minLen = -1;
      for (let i = 0; i < n; i++) {
        const i1 = nexti(i, n), i2 = nexti(i1, n);
        if (inConei(i, i2, n, ind, true) && diagonalie(i, i2, n, ind, true)) {
          const p0 = unchecked(ind[i]), p2 = unchecked(ind[nexti(i2, n)]);
          const dx = vx(p2) - vx(p0), dz = vz(p2) - vz(p0);
          const len = dx * dx + dz * dz;
          if (minLen < 0 || len < minLen) {
            minLen = len;
            mini = i;
          }
        }
      }
      if (mini == -1) return -ntris;
    }
    let i = mini;
    let i1 = nexti(i, n);
    const i2 = nexti(i1, n);
    unchecked((tris[dst++] = ind[i] & IDX));
    unchecked((tris[dst++] = ind[i1] & IDX));
    unchecked((tris[dst++] = ind[i2] & IDX));
    ntris++;
    n--;
    for (let k = i1; k < n; k++) unchecked((ind[k] = ind[k + 1]));
    if (i1 >= n) i1 = 0;
    i = previ(i1, n);
    if (diagonal(previ(i, n), i1, n, ind)) unchecked((ind[i] = ind[i] | EAR));
    else unchecked((ind[i] = ind[i] & IDX));
    if (diagonal(i, nexti(i1, n), n, ind)) unchecked((ind[i1] = ind[i1] | EAR));
    else unchecked((ind[i1] = ind[i1] & IDX));
  }
  unchecked((tris[dst++] = ind[0] & IDX));
  unchecked((tris[dst++] = ind[1] & IDX));
  unchecked((tris[dst++] = ind[2] & IDX));
  ntris++;
  return ntris;
}

const BUCKETS = 1 << 12;

function addVertex(x: i32, y: i32, z: i32, first: Int32Array, nextV: Int32Array): i32 {
  const bucket = <i32>((<u32>0x8da6b343 * <u32>x + <u32>0xcb1ab31f * <u32>z) & <u32>(BUCKETS - 1));
  let i = unchecked(first[bucket]);
  const v = pmesh.verts;
  while (i != -1) {
    // Vertices of neighbouring contours may differ in height by a couple of voxels.
    if (unchecked(v[i * 3]) == x && abs<i32>(unchecked(v[i * 3 + 1]) - y) <= 2 && unchecked(v[i * 3 + 2]) == z) return i;
    i = unchecked(nextV[i]);
  }
  i = pmesh.nverts++;
  unchecked((v[i * 3] = x));
  unchecked((v[i * 3 + 1] = y));
  unchecked((v[i * 3 + 2] = z));
  unchecked((nextV[i] = first[bucket]));
  unchecked((first[bucket] = i));
  return i;
}

@inline function countPolyVerts(p: Int32Array, o: i32, nvp: i32): i32 {
  for (let i = 0; i < nvp; i++) if (unchecked(p[o + i]) == -1) return i;
  return nvp;
}

@inline function uleft(a: i32, b: i32, c: i32): bool {
  const v = pmesh.verts;
  return (unchecked(v[b * 3]) - unchecked(v[a * 3])) * (unchecked(v[c * 3 + 2]) - unchecked(v[a * 3 + 2])) -
      (unchecked(v[c * 3]) - unchecked(v[a * 3])) * (unchecked(v[b * 3 + 2]) - unchecked(v[a * 3 + 2])) < 0;
}

let mergeEa: i32 = 0;
let mergeEb: i32 = 0;

/** Squared length of the shared edge when merging keeps the polygon convex, else -1. */
function polyMergeValue(p: Int32Array, pa: i32, pb: i32, nvp: i32): i32 {
  const na = countPolyVerts(p, pa, nvp), nb = countPolyVerts(p, pb, nvp);
  if (na + nb - 2 > nvp) return -1;
  let ea = -1, eb = -1;
  for (let i = 0; i < na; i++) {
    let va0 = unchecked(p[pa + i]), va1 = unchecked(p[pa + (i + 1) % na]);
    if (va0 > va1) {
      const t = va0; va0 = va1; va1 = t;
    }
    for (let j = 0; j < nb; j++) {
      let vb0 = unchecked(p[pb + j]), vb1 = unchecked(p[pb + (j + 1) % nb]);
      if (vb0 > vb1) {
        const t = vb0; vb0 = vb1; vb1 = t;
      }
      if (va0 == vb0 && va1 == vb1) {
        ea = i;
        eb = j;
        break;
      }
    }
  }
  if (ea == -1 || eb == -1) return -1;
  if (!uleft(unchecked(p[pa + (ea + na - 1) % na]), unchecked(p[pa + ea]), unchecked(p[pb + (eb + 2) % nb]))) return -1;
  if (!uleft(unchecked(p[pb + (eb + nb - 1) % nb]), unchecked(p[pb + eb]), unchecked(p[pa + (ea + 2) % na]))) return -1;
  const va = unchecked(p[pa + ea]), vb = unchecked(p[pa + (ea + 1) % na]);
  const v = pmesh.verts;
  const dx = unchecked(v[va * 3]) - unchecked(v[vb * 3]), dz = unchecked(v[va * 3 + 2]) - unchecked(v[vb * 3 + 2]);
  mergeEa = ea;
  mergeEb = eb;
  return dx * dx + dz * dz;
}

function mergePolyVerts(p: Int32Array, pa: i32, pb: i32, ea: i32, eb: i32, tmp: Int32Array, nvp: i32): void {
  const na = countPolyVerts(p, pa, nvp), nb = countPolyVerts(p, pb, nvp);
  tmp.fill(-1);
  let n = 0;
  for (let i = 0; i < na - 1; i++) unchecked((tmp[n++] = p[pa + (ea + 1 + i) % na]));
  for (let i = 0; i < nb - 1; i++) unchecked((tmp[n++] = p[pb + (eb + 1 + i) % nb]));
  for (let i = 0; i < nvp; i++) unchecked((p[pa + i] = tmp[i]));
}

function buildAdjacency(): void {
  const nvp = cfg.nvp, np = pmesh.npolys, polys = pmesh.polys;
  const maxEdges = np * nvp;
  const firstEdge = new Int32Array(pmesh.nverts);
  firstEdge.fill(-1);
  const nextEdge = new Int32Array(maxEdges);
  const ev1 = new Int32Array(maxEdges), ep0 = new Int32Array(maxEdges), ee0 = new Int32Array(maxEdges);
  const ep1 = new Int32Array(maxEdges), ee1 = new Int32Array(maxEdges);
  let ne = 0;
  for (let i = 0; i < np; i++) {
    const o = i * nvp * 2;
    for (let j = 0; j < nvp; j++) {
      const v0 = unchecked(polys[o + j]);
      if (v0 == -1) break;
      const v1 = j + 1 >= nvp || unchecked(polys[o + j + 1]) == -1 ? unchecked(polys[o]) : unchecked(polys[o + j + 1]);
      if (v0 < v1) {
        unchecked((ev1[ne] = v1));
        unchecked((ep0[ne] = i));
        unchecked((ee0[ne] = j));
        unchecked((ep1[ne] = i));
        unchecked((ee1[ne] = 0));
        unchecked((nextEdge[ne] = firstEdge[v0]));
        unchecked((firstEdge[v0] = ne));
        ne++;
      }
    }
  }
  for (let i = 0; i < np; i++) {
    const o = i * nvp * 2;
    for (let j = 0; j < nvp; j++) {
      const v0 = unchecked(polys[o + j]);
      if (v0 == -1) break;
      const v1 = j + 1 >= nvp || unchecked(polys[o + j + 1]) == -1 ? unchecked(polys[o]) : unchecked(polys[o + j + 1]);
      if (v0 > v1) {
        for (let e = unchecked(firstEdge[v1]); e != -1; e = unchecked(nextEdge[e])) {
          if (unchecked(ev1[e]) == v0 && unchecked(ep0[e]) == unchecked(ep1[e])) {
            unchecked((ep1[e] = i));
            unchecked((ee1[e] = j));
            break;
          }
        }
      }
    }
  }
  for (let e = 0; e < ne; e++) {
    const a = unchecked(ep0[e]), b = unchecked(ep1[e]);
    if (a != b) {
      unchecked((polys[a * nvp * 2 + nvp + ee0[e]] = b));
      unchecked((polys[b * nvp * 2 + nvp + ee1[e]] = a));
    }
  }
}

/** Builds convex polygons with adjacency from the contours; returns the polygon count. */
export function buildPolyMesh(): i32 {
  const nvp = cfg.nvp;
  let maxVerts = 0, maxTris = 0, maxPerCont = 0;
  for (let i = 0; i < cset.conts.length; i++) {
    const n = cset.conts[i].nverts();
    if (n < 3) continue;
    maxVerts += n;
    maxTris += n - 2;
    maxPerCont = max<i32>(maxPerCont, n);
  }
  pmesh.verts = new Int32Array(max<i32>(maxVerts, 1) * 3);
  pmesh.nverts = 0;
  pmesh.polys = new Int32Array(max<i32>(maxTris, 1) * nvp * 2);
  pmesh.polys.fill(-1);
  pmesh.regs = new Int32Array(max<i32>(maxTris, 1));
  pmesh.areas = new Uint8Array(max<i32>(maxTris, 1));
  pmesh.npolys = 0;
  const first = new Int32Array(BUCKETS);
  first.fill(-1);
  const nextV = new Int32Array(max<i32>(maxVerts, 1));
  const ind = new Int32Array(maxPerCont);
  const tris = new Int32Array(maxPerCont * 3);
  const polys = new Int32Array((maxPerCont + 1) * nvp);
  const tmp = new Int32Array(nvp);
  for (let ci = 0; ci < cset.conts.length; ci++) {
    const cont = cset.conts[ci];
    const nv = cont.nverts();
    if (nv < 3) continue;
    tv = cont.verts;
    for (let j = 0; j < nv; j++) unchecked((ind[j] = j));
    let ntris = triangulate(nv, ind, tris);
    if (ntris <= 0) ntris = -ntris;
    for (let j = 0; j < nv; j++) {
      unchecked((ind[j] = addVertex(tv[j * 4], tv[j * 4 + 1], tv[j * 4 + 2], first, nextV)));
    }
    polys.fill(-1);
    let np = 0;
    for (let j = 0; j < ntris; j++) {
      const a = unchecked(tris[j * 3]), b = unchecked(tris[j * 3 + 1]), c = unchecked(tris[j * 3 + 2]);
      if (a != b && a != c && b != c) {
        unchecked((polys[np * nvp] = ind[a]));
        unchecked((polys[np * nvp + 1] = ind[b]));
        unchecked((polys[np * nvp + 2] = ind[c]));
        np++;
      }
    }
    if (np == 0) continue;
    if (nvp > 3) {
      for (;;) {
        let best = 0, bestPa = 0, bestPb = 0, bestEa = 0, bestEb = 0;
        for (let j = 0; j < np - 1; j++) {
          for (let k = j + 1; k < np; k++) {
            const v = polyMergeValue(polys, j * nvp, k * nvp, nvp);
            if (v > best) {
              best = v;
              bestPa = j;
              bestPb = k;
              bestEa = mergeEa;
              bestEb = mergeEb;
            }
          }
        }
        if (best <= 0) break;
        mergePolyVerts(polys, bestPa * nvp, bestPb * nvp, bestEa, bestEb, tmp, nvp);
        if (bestPb != np - 1) {
          for (let k = 0; k < nvp; k++) unchecked((polys[bestPb * nvp + k] = polys[(np - 1) * nvp + k]));
        }
        np--;
      }
    }
    for (let j = 0; j < np; j++) {
      const o = pmesh.npolys * nvp * 2;
      for (let k = 0; k < nvp; k++) unchecked((pmesh.polys[o + k] = polys[j * nvp + k]));
      unchecked((pmesh.regs[pmesh.npolys] = cont.reg));
      unchecked((pmesh.areas[pmesh.npolys] = cont.area));
      pmesh.npolys++;
    }
  }
  buildAdjacency();
  return pmesh.npolys;
}

/** Labels connected components of the polygon adjacency; returns how many. */
export function buildIslands(): i32 {
  const np = pmesh.npolys, nvp = cfg.nvp;
  const island = new Int32Array(max<i32>(np, 1));
  island.fill(-1);
  const stack = new Array<i32>();
  let n = 0;
  for (let s = 0; s < np; s++) {
    if (unchecked(island[s]) != -1) continue;
    unchecked((island[s] = n));
    stack.push(s);
    while (stack.length > 0) {
      const p = stack.pop();
      for (let j = 0; j < nvp; j++) {
        const q = unchecked(pmesh.polys[p * nvp * 2 + nvp + j]);
        if (q >= 0 && unchecked(island[q]) == -1) {
          unchecked((island[q] = n));
          stack.push(q);
        }
      }
    }
    n++;
  }
  pmesh.island = island;
  pmesh.nislands = n;
  return n;
}
