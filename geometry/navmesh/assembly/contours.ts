// Stage 8: region outlines traced along span edges, simplified to within maxError voxels
// (Douglas-Peucker from the corners where the neighbouring region changes), wall edges split
// to at most maxEdgeLen, and holes joined to their outline (Recast's rcBuildContours).

import { cfg, chf, Contour, cset, dirX, dirY, getCon, neighbour, NOT_CONNECTED } from "./state";

const REG_MASK = 0xffff;
const AREA_BORDER = 0x20000;

function cornerHeight(x: i32, y: i32, i: i32, dir: i32): i32 {
  let h = unchecked(chf.y[i]);
  const dirp = (dir + 1) & 3;
  if (getCon(i, dir) != NOT_CONNECTED) {
    const ai = neighbour(x, y, i, dir);
    h = max<i32>(h, unchecked(chf.y[ai]));
    if (getCon(ai, dirp) != NOT_CONNECTED) {
      h = max<i32>(h, unchecked(chf.y[neighbour(x + dirX(dir), y + dirY(dir), ai, dirp)]));
    }
  }
  if (getCon(i, dirp) != NOT_CONNECTED) {
    const ai = neighbour(x, y, i, dirp);
    h = max<i32>(h, unchecked(chf.y[ai]));
    if (getCon(ai, dir) != NOT_CONNECTED) {
      h = max<i32>(h, unchecked(chf.y[neighbour(x + dirX(dirp), y + dirY(dirp), ai, dir)]));
    }
  }
  return h;
}

function walkContour(x: i32, y: i32, i: i32, flags: Uint8Array, points: Array<i32>): void {
  let dir = 0;
  while ((<i32>unchecked(flags[i]) & (1 << dir)) == 0) dir++;
  const startDir = dir, starti = i;
  const area = unchecked(chf.areas[i]);
  let iter = 0;
  while (++iter < 40000) {
    if ((<i32>unchecked(flags[i]) & (1 << dir)) != 0) {
      let px = x, pz = y;
      const py = cornerHeight(x, y, i, dir);
      if (dir == 0) pz++;
      else if (dir == 1) {
        px++;
        pz++;
      } else if (dir == 2) px++;
      let r = 0;
      if (getCon(i, dir) != NOT_CONNECTED) {
        const ai = neighbour(x, y, i, dir);
        r = unchecked(chf.reg[ai]);
        if (area != unchecked(chf.areas[ai])) r |= AREA_BORDER;
      }
      points.push(px);
      points.push(py);
      points.push(pz);
      points.push(r);
      unchecked((flags[i] = <u8>(<i32>flags[i] & ~(1 << dir))));
      dir = (dir + 1) & 3;
    } else {
      if (getCon(i, dir) == NOT_CONNECTED) return;
      const ni = neighbour(x, y, i, dir);
      x += dirX(dir);
      y += dirY(dir);
      i = ni;
      dir = (dir + 3) & 3;
    }
    if (starti == i && startDir == dir) break;
  }
}

function distPtSeg(x: i32, z: i32, px: i32, pz: i32, qx: i32, qz: i32): f32 {
  const pqx = <f32>(qx - px), pqz = <f32>(qz - pz);
  let dx = <f32>(x - px), dz = <f32>(z - pz);
  const d = pqx * pqx + pqz * pqz;
  let t = pqx * dx + pqz * dz;
  if (d > 0) t /= d;
  if (t < 0) t = 0;
  else if (t > 1) t = 1;
  dx = <f32>px + t * pqx - <f32>x;
  dz = <f32>pz + t * pqz - <f32>z;
  return dx * dx + dz * dz;
}

function insertAfter(s: Array<i32>, i: i32, points: Array<i32>, pi: i32): void {
  const n = s.length >> 2;
  s.push(0); s.push(0); s.push(0); s.push(0);
  for (let j = n; j > i + 1; j--) {
    for (let k = 0; k < 4; k++) unchecked((s[j * 4 + k] = s[(j - 1) * 4 + k]));
  }
  unchecked((s[(i + 1) * 4] = points[pi * 4]));
  unchecked((s[(i + 1) * 4 + 1] = points[pi * 4 + 1]));
  unchecked((s[(i + 1) * 4 + 2] = points[pi * 4 + 2]));
  unchecked((s[(i + 1) * 4 + 3] = pi));
}

function simplifyContour(points: Array<i32>, s: Array<i32>): void {
  const pn = points.length >> 2;
  let hasConnections = false;
  for (let i = 0; i < pn; i++) {
    if ((unchecked(points[i * 4 + 3]) & REG_MASK) != 0) {
      hasConnections = true;
      break;
    }
  }
  if (hasConnections) {
    // Keep the points where the neighbouring region (or area border) changes.
    for (let i = 0; i < pn; i++) {
      const ii = (i + 1) % pn;
      const a = unchecked(points[i * 4 + 3]), b = unchecked(points[ii * 4 + 3]);
      if ((a & REG_MASK) != (b & REG_MASK) || (a & AREA_BORDER) != (b & AREA_BORDER)) {
        s.push(points[i * 4]); s.push(points[i * 4 + 1]); s.push(points[i * 4 + 2]); s.push(i);
      }
    }
  }
  if (s.length == 0) {
    // An island: start from the lower-left and upper-right points.
    let llx = points[0], lly = points[1], llz = points[2], lli = 0;
    let urx = points[0], ury = points[1], urz = points[2], uri = 0;
    for (let i = 0; i < pn; i++) {
      const x = points[i * 4], y = points[i * 4 + 1], z = points[i * 4 + 2];
      if (x < llx || (x == llx && z < llz)) {
        llx = x; lly = y; llz = z; lli = i;
      }
      if (x > urx || (x == urx && z > urz)) {
        urx = x; ury = y; urz = z; uri = i;
      }
    }
    s.push(llx); s.push(lly); s.push(llz); s.push(lli);
    s.push(urx); s.push(ury); s.push(urz); s.push(uri);
  }
  const maxErr2 = cfg.maxError * cfg.maxError;
  for (let i = 0; i < s.length >> 2;) {
    const ii = (i + 1) % (s.length >> 2);
    let ax = s[i * 4], az = s[i * 4 + 2];
    const ai = s[i * 4 + 3];
    let bx = s[ii * 4], bz = s[ii * 4 + 2];
    const bi = s[ii * 4 + 3];
    let maxd: f32 = 0;
    let maxi = -1;
    let ci: i32, cinc: i32, endi: i32;
    // Walk the segment in a fixed lexicographic direction so shared edges simplify alike.
    if (bx > ax || (bx == ax && bz > az)) {
      cinc = 1;
      ci = (ai + cinc) % pn;
      endi = bi;
    } else {
      cinc = pn - 1;
      ci = (bi + cinc) % pn;
      endi = ai;
      let t = ax; ax = bx; bx = t;
      t = az; az = bz; bz = t;
    }
    const cr = unchecked(points[ci * 4 + 3]);
    if ((cr & REG_MASK) == 0 || (cr & AREA_BORDER) != 0) {
      while (ci != endi) {
        const d = distPtSeg(points[ci * 4], points[ci * 4 + 2], ax, az, bx, bz);
        if (d > maxd) {
          maxd = d;
          maxi = ci;
        }
        ci = (ci + cinc) % pn;
      }
    }
    if (maxi != -1 && maxd > maxErr2) insertAfter(s, i, points, maxi);
    else i++;
  }
  const maxEdge = cfg.maxEdgeLen;
  if (maxEdge > 0) {
    // Split long wall edges (edges with no region on the other side).
    for (let i = 0; i < s.length >> 2;) {
      const ii = (i + 1) % (s.length >> 2);
      const ax = s[i * 4], az = s[i * 4 + 2], ai = s[i * 4 + 3];
      const bx = s[ii * 4], bz = s[ii * 4 + 2], bi = s[ii * 4 + 3];
      let maxi = -1;
      const ci = (ai + 1) % pn;
      if ((unchecked(points[ci * 4 + 3]) & REG_MASK) == 0) {
        const dx = bx - ax, dz = bz - az;
        if (dx * dx + dz * dz > maxEdge * maxEdge) {
          const n = bi < ai ? bi + pn - ai : bi - ai;
          if (n > 1) {
            if (bx > ax || (bx == ax && bz > az)) maxi = (ai + n / 2) % pn;
            else maxi = (ai + (n + 1) / 2) % pn;
          }
        }
      }
      if (maxi != -1) insertAfter(s, i, points, maxi);
      else i++;
    }
  }
  for (let i = 0, n = s.length >> 2; i < n; i++) {
    const ai = (s[i * 4 + 3] + 1) % pn;
    s[i * 4 + 3] = unchecked(points[ai * 4 + 3]) & (REG_MASK | AREA_BORDER);
  }
}

function removeDegenerateSegments(s: Array<i32>): void {
  let n = s.length >> 2;
  for (let i = 0; i < n; i++) {
    const ni = i + 1 < n ? i + 1 : 0;
    if (s[i * 4] == s[ni * 4] && s[i * 4 + 2] == s[ni * 4 + 2]) {
      for (let j = i; j < n - 1; j++) {
        for (let k = 0; k < 4; k++) s[j * 4 + k] = s[(j + 1) * 4 + k];
      }
      s.length = s.length - 4;
      n--;
    }
  }
}

/** Twice the signed area in the grid plane (positive = outline, negative = hole). */
function contourArea(v: Array<i32>): i32 {
  let area = 0;
  const n = v.length >> 2;
  for (let i = 0, j = n - 1; i < n; j = i, i++) {
    area += v[i * 4] * v[j * 4 + 2] - v[j * 4] * v[i * 4 + 2];
  }
  return (area + 1) / 2;
}

// Integer 2D predicates on (x, z) of 4-int vertices.
@inline function area2(v: Array<i32>, a: i32, b: i32, c: i32): i32 {
  return (v[b * 4] - v[a * 4]) * (v[c * 4 + 2] - v[a * 4 + 2]) - (v[c * 4] - v[a * 4]) * (v[b * 4 + 2] - v[a * 4 + 2]);
}

// Points for predicates across arrays: copy into a small scratch array of 4 vertices.
const P = new Array<i32>(16);
@inline function setP(k: i32, v: Array<i32>, i: i32): void {
  unchecked((P[k * 4] = v[i * 4]));
  unchecked((P[k * 4 + 2] = v[i * 4 + 2]));
}
@inline function leftP(a: i32, b: i32, c: i32): bool {
  return area2(P, a, b, c) < 0;
}
@inline function leftOnP(a: i32, b: i32, c: i32): bool {
  return area2(P, a, b, c) <= 0;
}
@inline function collinearP(a: i32, b: i32, c: i32): bool {
  return area2(P, a, b, c) == 0;
}
function betweenP(a: i32, b: i32, c: i32): bool {
  if (!collinearP(a, b, c)) return false;
  const ax = P[a * 4], bx = P[b * 4], cx = P[c * 4];
  if (ax != bx) return (ax <= cx && cx <= bx) || (ax >= cx && cx >= bx);
  const az = P[a * 4 + 2], bz = P[b * 4 + 2], cz = P[c * 4 + 2];
  return (az <= cz && cz <= bz) || (az >= cz && cz >= bz);
}
/** Segments P0-P1 and P2-P3 intersect (properly or by touching). */
export function intersectP(): bool {
  if (!(collinearP(0, 1, 2) || collinearP(0, 1, 3) || collinearP(2, 3, 0) || collinearP(2, 3, 1))) {
    if ((leftP(0, 1, 2) != leftP(0, 1, 3)) && (leftP(2, 3, 0) != leftP(2, 3, 1))) return true;
  }
  return betweenP(0, 1, 2) || betweenP(0, 1, 3) || betweenP(2, 3, 0) || betweenP(2, 3, 1);
}

/** Whether segment d0-d1 crosses any edge of contour `v` not touching vertex i. */
function intersectSegContour(d0: Array<i32>, i0: i32, d1: Array<i32>, i1: i32, i: i32, v: Array<i32>): bool {
  const n = v.length >> 2;
  for (let k = 0; k < n; k++) {
    const k1 = k + 1 < n ? k + 1 : 0;
    if (i == k || i == k1) continue;
    const x0 = d0[i0 * 4], z0 = d0[i0 * 4 + 2], x1 = d1[i1 * 4], z1 = d1[i1 * 4 + 2];
    const px = v[k * 4], pz = v[k * 4 + 2], qx = v[k1 * 4], qz = v[k1 * 4 + 2];
    if ((x0 == px && z0 == pz) || (x1 == px && z1 == pz) || (x0 == qx && z0 == qz) || (x1 == qx && z1 == qz)) continue;
    setP(0, d0, i0);
    setP(1, d1, i1);
    setP(2, v, k);
    setP(3, v, k1);
    if (intersectP()) return true;
  }
  return false;
}

/** Whether the diagonal from outline vertex i to point j (in `pv`) lies in the outline's cone at i. */
function inCone(i: i32, v: Array<i32>, pv: Array<i32>, pj: i32): bool {
  const n = v.length >> 2;
  setP(0, v, i);
  setP(1, pv, pj);
  setP(2, v, i + 1 < n ? i + 1 : 0);
  setP(3, v, i > 0 ? i - 1 : n - 1);
  // 0 = pi, 1 = pj, 2 = pi1 (next), 3 = pin1 (previous)
  if (leftOnP(3, 0, 2)) return leftP(0, 1, 3) && leftP(1, 0, 2);
  return !(leftOnP(0, 1, 2) && leftOnP(1, 0, 3));
}

function mergeContours(a: Contour, b: Contour, ia: i32, ib: i32): void {
  const na = a.nverts(), nb = b.nverts();
  const out = new Array<i32>();
  for (let i = 0; i <= na; i++) {
    const k = (ia + i) % na;
    for (let c = 0; c < 4; c++) out.push(a.verts[k * 4 + c]);
  }
  for (let i = 0; i <= nb; i++) {
    const k = (ib + i) % nb;
    for (let c = 0; c < 4; c++) out.push(b.verts[k * 4 + c]);
  }
  a.verts = out;
  b.verts = new Array<i32>();
}

function mergeRegionHoles(outline: Contour, holes: Array<Contour>): void {
  // Holes from left to right, each joined at its leftmost vertex when a clear diagonal exists.
  const n = holes.length;
  const minx = new Array<i32>(n), minz = new Array<i32>(n), leftmost = new Array<i32>(n);
  for (let h = 0; h < n; h++) {
    const v = holes[h].verts;
    let bx = v[0], bz = v[2], bl = 0;
    for (let i = 1; i < holes[h].nverts(); i++) {
      const x = v[i * 4], z = v[i * 4 + 2];
      if (x < bx || (x == bx && z < bz)) {
        bx = x; bz = z; bl = i;
      }
    }
    minx[h] = bx; minz[h] = bz; leftmost[h] = bl;
  }
  const order = new Array<i32>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = 1; i < n; i++) {
    const o = order[i];
    let j = i - 1;
    while (j >= 0 && (minx[order[j]] > minx[o] || (minx[order[j]] == minx[o] && minz[order[j]] > minz[o]))) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = o;
  }
  const diagVert = new Array<i32>(), diagDist = new Array<i32>();
  for (let oi = 0; oi < n; oi++) {
    const hole = holes[order[oi]];
    let index = -1;
    let best = leftmost[order[oi]];
    for (let iter = 0; iter < hole.nverts(); iter++) {
      diagVert.length = 0;
      diagDist.length = 0;
      const ov = outline.verts, on = outline.nverts();
      for (let j = 0; j < on; j++) {
        if (inCone(j, ov, hole.verts, best)) {
          const dx = ov[j * 4] - hole.verts[best * 4], dz = ov[j * 4 + 2] - hole.verts[best * 4 + 2];
          const dd = dx * dx + dz * dz;
          // Insertion keeps candidates sorted by distance (stable for equal distances).
          let k = diagDist.length;
          diagVert.push(0);
          diagDist.push(0);
          while (k > 0 && diagDist[k - 1] > dd) {
            diagVert[k] = diagVert[k - 1];
            diagDist[k] = diagDist[k - 1];
            k--;
          }
          diagVert[k] = j;
          diagDist[k] = dd;
        }
      }
      index = -1;
      for (let j = 0; j < diagVert.length; j++) {
        const pv = diagVert[j];
        let hit = intersectSegContour(ov, pv, hole.verts, best, pv, ov);
        for (let k = oi; k < n && !hit; k++) hit = intersectSegContour(ov, pv, hole.verts, best, -1, holes[order[k]].verts);
        if (!hit) {
          index = pv;
          break;
        }
      }
      if (index != -1) break;
      best = (best + 1) % hole.nverts();
    }
    if (index == -1) continue;
    mergeContours(outline, hole, index, best);
  }
}

/** Traces and simplifies every region's outline; returns the number of contours. */
export function buildContours(): i32 {
  const w = chf.width, h = chf.height, n = chf.spanCount;
  const flags = new Uint8Array(n);
  cset.conts.length = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = x + y * w;
      for (let i = unchecked(chf.cellIndex[c]), ni = i + unchecked(chf.cellCount[c]); i < ni; i++) {
        const reg = unchecked(chf.reg[i]);
        if (reg == 0) continue;
        let res = 0;
        for (let d = 0; d < 4; d++) {
          let r = 0;
          if (getCon(i, d) != NOT_CONNECTED) r = unchecked(chf.reg[neighbour(x, y, i, d)]);
          if (r == reg) res |= 1 << d;
        }
        unchecked((flags[i] = <u8>(res ^ 0xf)));
      }
    }
  }
  const verts = new Array<i32>();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = x + y * w;
      for (let i = unchecked(chf.cellIndex[c]), ni = i + unchecked(chf.cellCount[c]); i < ni; i++) {
        if (unchecked(flags[i]) == 0 || unchecked(flags[i]) == 0xf) {
          unchecked((flags[i] = 0));
          continue;
        }
        const reg = unchecked(chf.reg[i]);
        if (reg == 0) continue;
        verts.length = 0;
        const simplified = new Array<i32>();
        walkContour(x, y, i, flags, verts);
        simplifyContour(verts, simplified);
        removeDegenerateSegments(simplified);
        if (simplified.length >> 2 >= 3) {
          const cont = new Contour();
          cont.verts = simplified;
          cont.reg = reg;
          cont.area = unchecked(chf.areas[i]);
          cset.conts.push(cont);
        }
      }
    }
  }
  // Join holes (negative area) to the outline of the same region.
  const nregions = chf.maxRegions + 1;
  const outlines = new Array<Contour | null>(nregions);
  const holeLists = new Array<Array<Contour> | null>(nregions);
  let nholes = 0;
  for (let i = 0; i < cset.conts.length; i++) {
    const cont = cset.conts[i];
    if (contourArea(cont.verts) < 0) {
      let list = holeLists[cont.reg];
      if (list == null) {
        list = new Array<Contour>();
        holeLists[cont.reg] = list;
      }
      list.push(cont);
      nholes++;
    } else {
      outlines[cont.reg] = cont;
    }
  }
  if (nholes > 0) {
    for (let r = 0; r < nregions; r++) {
      const list = holeLists[r];
      const outline = outlines[r];
      if (list != null && outline != null) mergeRegionHoles(outline, list);
    }
  }
  let count = 0;
  for (let i = 0; i < cset.conts.length; i++) if (cset.conts[i].nverts() >= 3) count++;
  return count;
}
