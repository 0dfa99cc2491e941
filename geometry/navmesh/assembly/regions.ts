// Stage 7: watershed partition of the walkable area into simple regions (Recast's
// rcBuildRegions with no border): flood from the distance-field peaks level by level, grow
// regions outward, then drop tiny islands and merge small regions into neighbours.

import { cfg, chf, dirX, dirY, getCon, neighbour, NOT_CONNECTED, NULL_AREA } from "./state";

/** A stack of (x, y, span index) triples. */
class CellStack {
  d: Array<i32> = new Array<i32>();
  @inline size(): i32 {
    return this.d.length / 3;
  }
  @inline clear(): void {
    this.d.length = 0;
  }
  @inline push(x: i32, y: i32, i: i32): void {
    this.d.push(x);
    this.d.push(y);
    this.d.push(i);
  }
  @inline x(j: i32): i32 {
    return unchecked(this.d[j * 3]);
  }
  @inline y(j: i32): i32 {
    return unchecked(this.d[j * 3 + 1]);
  }
  @inline idx(j: i32): i32 {
    return unchecked(this.d[j * 3 + 2]);
  }
  @inline setIdx(j: i32, v: i32): void {
    unchecked((this.d[j * 3 + 2] = v));
  }
}

let srcReg = new Int32Array(0);
let srcDist = new Int32Array(0);
const floodStack = new CellStack();
const dirty = new Array<i32>();

function floodRegion(x: i32, y: i32, i: i32, level: i32, r: i32): bool {
  const area = unchecked(chf.areas[i]);
  const st = floodStack;
  st.clear();
  st.push(x, y, i);
  unchecked((srcReg[i] = r));
  unchecked((srcDist[i] = 0));
  const lev = level >= 2 ? level - 2 : 0;
  let count = 0;
  while (st.size() > 0) {
    const top = st.size() - 1;
    const cx = st.x(top), cy = st.y(top), ci = st.idx(top);
    st.d.length = top * 3;
    // Stop where the flood touches another region, including diagonally.
    let ar = 0;
    for (let d = 0; d < 4; d++) {
      if (getCon(ci, d) == NOT_CONNECTED) continue;
      const ai = neighbour(cx, cy, ci, d);
      if (unchecked(chf.areas[ai]) != area) continue;
      const nr = unchecked(srcReg[ai]);
      if (nr != 0 && nr != r) {
        ar = nr;
        break;
      }
      const d2 = (d + 1) & 3;
      if (getCon(ai, d2) != NOT_CONNECTED) {
        const ai2 = neighbour(cx + dirX(d), cy + dirY(d), ai, d2);
        if (unchecked(chf.areas[ai2]) != area) continue;
        const nr2 = unchecked(srcReg[ai2]);
        if (nr2 != 0 && nr2 != r) {
          ar = nr2;
          break;
        }
      }
    }
    if (ar != 0) {
      unchecked((srcReg[ci] = 0));
      continue;
    }
    count++;
    for (let d = 0; d < 4; d++) {
      if (getCon(ci, d) == NOT_CONNECTED) continue;
      const ai = neighbour(cx, cy, ci, d);
      if (unchecked(chf.areas[ai]) != area) continue;
      if (unchecked(chf.dist[ai]) >= lev && unchecked(srcReg[ai]) == 0) {
        unchecked((srcReg[ai] = r));
        unchecked((srcDist[ai] = 0));
        st.push(cx + dirX(d), cy + dirY(d), ai);
      }
    }
  }
  return count > 0;
}

function expandRegions(maxIter: i32, level: i32, st: CellStack, fillStack: bool): void {
  const w = chf.width, h = chf.height;
  if (fillStack) {
    st.clear();
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const c = x + y * w;
        for (let i = unchecked(chf.cellIndex[c]), ni = i + unchecked(chf.cellCount[c]); i < ni; i++) {
          if (unchecked(chf.dist[i]) >= level && unchecked(srcReg[i]) == 0 && unchecked(chf.areas[i]) != NULL_AREA) {
            st.push(x, y, i);
          }
        }
      }
    }
  } else {
    for (let j = 0, n = st.size(); j < n; j++) {
      const i = st.idx(j);
      if (i >= 0 && unchecked(srcReg[i]) != 0) st.setIdx(j, -1);
    }
  }
  let iter = 0;
  while (st.size() > 0) {
    let failed = 0;
    dirty.length = 0;
    for (let j = 0, n = st.size(); j < n; j++) {
      const x = st.x(j), y = st.y(j), i = st.idx(j);
      if (i < 0) {
        failed++;
        continue;
      }
      let r = unchecked(srcReg[i]);
      let d2 = 0xffff;
      const area = unchecked(chf.areas[i]);
      for (let d = 0; d < 4; d++) {
        if (getCon(i, d) == NOT_CONNECTED) continue;
        const ai = neighbour(x, y, i, d);
        if (unchecked(chf.areas[ai]) != area) continue;
        const ar = unchecked(srcReg[ai]);
        if (ar > 0 && unchecked(srcDist[ai]) + 2 < d2) {
          r = ar;
          d2 = unchecked(srcDist[ai]) + 2;
        }
      }
      if (r != 0) {
        st.setIdx(j, -1);
        dirty.push(i);
        dirty.push(r);
        dirty.push(d2);
      } else {
        failed++;
      }
    }
    // Apply after the sweep so the result does not depend on the order within a level.
    for (let k = 0; k < dirty.length; k += 3) {
      const i = unchecked(dirty[k]);
      unchecked((srcReg[i] = dirty[k + 1]));
      unchecked((srcDist[i] = dirty[k + 2]));
    }
    if (failed == st.size()) break;
    if (level > 0) {
      iter++;
      if (iter >= maxIter) break;
    }
  }
}

const NB_STACKS = 8;
const lvlStacks = new Array<CellStack>();

function sortCellsByLevel(startLevel: i32): void {
  const w = chf.width, h = chf.height;
  const start = startLevel >> 1;
  for (let j = 0; j < NB_STACKS; j++) unchecked(lvlStacks[j]).clear();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = x + y * w;
      for (let i = unchecked(chf.cellIndex[c]), ni = i + unchecked(chf.cellCount[c]); i < ni; i++) {
        if (unchecked(chf.areas[i]) == NULL_AREA || unchecked(srcReg[i]) != 0) continue;
        let sId = start - (unchecked(chf.dist[i]) >> 1);
        if (sId >= NB_STACKS) continue;
        if (sId < 0) sId = 0;
        unchecked(lvlStacks[sId]).push(x, y, i);
      }
    }
  }
}

function appendStacks(src: CellStack, dst: CellStack): void {
  for (let j = 0, n = src.size(); j < n; j++) {
    const i = src.idx(j);
    if (i < 0 || unchecked(srcReg[i]) != 0) continue;
    dst.push(src.x(j), src.y(j), i);
  }
}

class Region {
  spanCount: i32 = 0;
  id: i32 = 0;
  areaType: u8 = 0;
  remap: bool = false;
  visited: bool = false;
  overlap: bool = false;
  connections: Array<i32> = new Array<i32>();
  floors: Array<i32> = new Array<i32>();
}

function removeAdjacentNeighbours(reg: Region): void {
  const c = reg.connections;
  for (let i = 0; i < c.length && c.length > 1;) {
    const ni = (i + 1) % c.length;
    if (unchecked(c[i]) == unchecked(c[ni])) {
      for (let j = i; j < c.length - 1; j++) unchecked((c[j] = c[j + 1]));
      c.length = c.length - 1;
    } else {
      i++;
    }
  }
}

function replaceNeighbour(reg: Region, oldId: i32, newId: i32): void {
  let changed = false;
  for (let i = 0; i < reg.connections.length; i++) {
    if (unchecked(reg.connections[i]) == oldId) {
      unchecked((reg.connections[i] = newId));
      changed = true;
    }
  }
  for (let i = 0; i < reg.floors.length; i++) {
    if (unchecked(reg.floors[i]) == oldId) unchecked((reg.floors[i] = newId));
  }
  if (changed) removeAdjacentNeighbours(reg);
}

function canMergeWithRegion(a: Region, b: Region): bool {
  if (a.areaType != b.areaType) return false;
  let n = 0;
  for (let i = 0; i < a.connections.length; i++) if (unchecked(a.connections[i]) == b.id) n++;
  if (n > 1) return false;
  for (let i = 0; i < a.floors.length; i++) if (unchecked(a.floors[i]) == b.id) return false;
  return true;
}

function addUniqueFloor(reg: Region, n: i32): void {
  for (let i = 0; i < reg.floors.length; i++) if (unchecked(reg.floors[i]) == n) return;
  reg.floors.push(n);
}

const mergeScratch = new Array<i32>();

function mergeRegions(a: Region, b: Region): bool {
  const acon = mergeScratch;
  acon.length = 0;
  for (let i = 0; i < a.connections.length; i++) acon.push(unchecked(a.connections[i]));
  const bcon = b.connections;
  let insa = -1;
  for (let i = 0; i < acon.length; i++) {
    if (unchecked(acon[i]) == b.id) {
      insa = i;
      break;
    }
  }
  if (insa < 0) return false;
  let insb = -1;
  for (let i = 0; i < bcon.length; i++) {
    if (unchecked(bcon[i]) == a.id) {
      insb = i;
      break;
    }
  }
  if (insb < 0) return false;
  a.connections.length = 0;
  for (let i = 0, ni = acon.length; i < ni - 1; i++) a.connections.push(unchecked(acon[(insa + 1 + i) % ni]));
  for (let i = 0, ni = bcon.length; i < ni - 1; i++) a.connections.push(unchecked(bcon[(insb + 1 + i) % ni]));
  removeAdjacentNeighbours(a);
  for (let j = 0; j < b.floors.length; j++) addUniqueFloor(a, unchecked(b.floors[j]));
  a.spanCount += b.spanCount;
  b.spanCount = 0;
  b.connections.length = 0;
  return true;
}

function isConnectedToNull(reg: Region): bool {
  for (let i = 0; i < reg.connections.length; i++) if (unchecked(reg.connections[i]) == 0) return true;
  return false;
}

@inline function isSolidEdge(x: i32, y: i32, i: i32, dir: i32): bool {
  let r = 0;
  if (getCon(i, dir) != NOT_CONNECTED) r = unchecked(srcReg[neighbour(x, y, i, dir)]);
  return r != unchecked(srcReg[i]);
}

/** The ring of neighbouring region ids around the region of span i (0 = no region). */
function walkRegionContour(x: i32, y: i32, i: i32, dir: i32, cont: Array<i32>): void {
  const startDir = dir, starti = i;
  let curReg = 0;
  if (getCon(i, dir) != NOT_CONNECTED) curReg = unchecked(srcReg[neighbour(x, y, i, dir)]);
  cont.push(curReg);
  let iter = 0;
  while (++iter < 40000) {
    if (isSolidEdge(x, y, i, dir)) {
      let r = 0;
      if (getCon(i, dir) != NOT_CONNECTED) r = unchecked(srcReg[neighbour(x, y, i, dir)]);
      if (r != curReg) {
        curReg = r;
        cont.push(curReg);
      }
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
  if (cont.length > 1) {
    for (let j = 0; j < cont.length;) {
      const nj = (j + 1) % cont.length;
      if (unchecked(cont[j]) == unchecked(cont[nj])) {
        for (let k = j; k < cont.length - 1; k++) unchecked((cont[k] = cont[k + 1]));
        cont.length = cont.length - 1;
      } else {
        j++;
      }
    }
  }
}

function mergeAndFilterRegions(maxRegionId: i32): i32 {
  const w = chf.width, h = chf.height;
  const minArea = cfg.minRegionArea, mergeSize = cfg.mergeRegionArea;
  const nreg = maxRegionId + 1;
  const regions = new Array<Region>(nreg);
  for (let i = 0; i < nreg; i++) {
    const r = new Region();
    r.id = i;
    unchecked((regions[i] = r));
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = x + y * w;
      const i0 = unchecked(chf.cellIndex[c]), ni = i0 + unchecked(chf.cellCount[c]);
      for (let i = i0; i < ni; i++) {
        const r = unchecked(srcReg[i]);
        if (r == 0 || r >= nreg) continue;
        const reg = unchecked(regions[r]);
        reg.spanCount++;
        // Regions stacked in the same column (floors) must never merge.
        for (let j = i0; j < ni; j++) {
          if (i == j) continue;
          const floorId = unchecked(srcReg[j]);
          if (floorId == 0 || floorId >= nreg) continue;
          if (floorId == r) reg.overlap = true;
          addUniqueFloor(reg, floorId);
        }
        if (reg.connections.length > 0) continue;
        reg.areaType = unchecked(chf.areas[i]);
        let ndir = -1;
        for (let d = 0; d < 4; d++) {
          if (isSolidEdge(x, y, i, d)) {
            ndir = d;
            break;
          }
        }
        if (ndir != -1) walkRegionContour(x, y, i, ndir, reg.connections);
      }
    }
  }
  // Remove connected groups of regions smaller than the minimum area.
  const stack = new Array<i32>();
  const trace = new Array<i32>();
  for (let i = 0; i < nreg; i++) {
    const reg = unchecked(regions[i]);
    if (reg.id == 0 || reg.spanCount == 0 || reg.visited) continue;
    let spanCount = 0;
    stack.length = 0;
    trace.length = 0;
    reg.visited = true;
    stack.push(i);
    while (stack.length > 0) {
      const ri = stack.pop();
      const creg = unchecked(regions[ri]);
      spanCount += creg.spanCount;
      trace.push(ri);
      for (let j = 0; j < creg.connections.length; j++) {
        const nei = unchecked(regions[unchecked(creg.connections[j])]);
        if (nei.visited || nei.id == 0) continue;
        stack.push(nei.id);
        nei.visited = true;
      }
    }
    if (spanCount < minArea) {
      for (let j = 0; j < trace.length; j++) {
        const t = unchecked(regions[unchecked(trace[j])]);
        t.spanCount = 0;
        t.id = 0;
      }
    }
  }
  // Merge small regions (and regions not touching a wall) into their smallest neighbour.
  let mergeCount = 0;
  do {
    mergeCount = 0;
    for (let i = 0; i < nreg; i++) {
      const reg = unchecked(regions[i]);
      if (reg.id == 0 || reg.overlap || reg.spanCount == 0) continue;
      if (reg.spanCount > mergeSize && isConnectedToNull(reg)) continue;
      let smallest = 0xfffffff;
      let mergeId = reg.id;
      for (let j = 0; j < reg.connections.length; j++) {
        const m = unchecked(regions[unchecked(reg.connections[j])]);
        if (m.id == 0 || m.overlap) continue;
        if (m.spanCount < smallest && canMergeWithRegion(reg, m) && canMergeWithRegion(m, reg)) {
          smallest = m.spanCount;
          mergeId = m.id;
        }
      }
      if (mergeId != reg.id) {
        const oldId = reg.id;
        const target = unchecked(regions[mergeId]);
        if (mergeRegions(target, reg)) {
          for (let j = 0; j < nreg; j++) {
            const rj = unchecked(regions[j]);
            if (rj.id == 0) continue;
            if (rj.id == oldId) rj.id = mergeId;
            replaceNeighbour(rj, oldId, mergeId);
          }
          mergeCount++;
        }
      }
    }
  } while (mergeCount > 0);
  // Compact the region ids.
  for (let i = 0; i < nreg; i++) {
    const r = unchecked(regions[i]);
    r.remap = r.id != 0;
  }
  let gen = 0;
  for (let i = 0; i < nreg; i++) {
    if (!unchecked(regions[i]).remap) continue;
    const oldId = unchecked(regions[i]).id;
    const newId = ++gen;
    for (let j = i; j < nreg; j++) {
      const rj = unchecked(regions[j]);
      if (rj.id == oldId) {
        rj.id = newId;
        rj.remap = false;
      }
    }
  }
  for (let i = 0; i < chf.spanCount; i++) unchecked((srcReg[i] = regions[srcReg[i]].id));
  return gen;
}

/** Partitions the walkable spans into regions; returns the number of regions. */
export function buildRegions(): i32 {
  const n = chf.spanCount;
  srcReg = new Int32Array(n);
  srcDist = new Int32Array(n);
  if (lvlStacks.length == 0) for (let j = 0; j < NB_STACKS; j++) lvlStacks.push(new CellStack());
  const stack = new CellStack();
  let regionId = 1;
  let level = (chf.maxDistance + 1) & ~1;
  const expandIters = 8;
  let sId = -1;
  while (level > 0) {
    level = level >= 2 ? level - 2 : 0;
    sId = (sId + 1) & (NB_STACKS - 1);
    if (sId == 0) sortCellsByLevel(level);
    else appendStacks(unchecked(lvlStacks[sId - 1]), unchecked(lvlStacks[sId]));
    const cur = unchecked(lvlStacks[sId]);
    expandRegions(expandIters, level, cur, false);
    for (let j = 0; j < cur.size(); j++) {
      const i = cur.idx(j);
      if (i >= 0 && unchecked(srcReg[i]) == 0) {
        if (floodRegion(cur.x(j), cur.y(j), i, level, regionId)) regionId++;
      }
    }
  }
  expandRegions(expandIters * 8, 0, stack, true);
  const count = mergeAndFilterRegions(regionId);
  chf.maxRegions = count;
  for (let i = 0; i < n; i++) unchecked((chf.reg[i] = srcReg[i]));
  return count;
}
