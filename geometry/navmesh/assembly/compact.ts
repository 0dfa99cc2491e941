// Stages 4-6: the compact heightfield (open space above walkable spans, linked to neighbours),
// erosion by the agent radius, and the distance field the watershed partition climbs down.

import { cfg, chf, dirX, dirY, getCon, hf, MAX_HEIGHT, neighbour, NOT_CONNECTED, NULL_AREA } from "./state";

/** Builds the compact heightfield from walkable spans; returns its span count. */
export function buildCompactHeightfield(): i32 {
  const w = hf.width, h = hf.height, wh = cfg.walkableHeight, climb = cfg.walkableClimb;
  let count = 0;
  for (let c = 0, n = w * h; c < n; c++) {
    for (let s = unchecked(hf.columns[c]); s >= 0; s = unchecked(hf.next[s])) {
      if (unchecked(hf.area[s]) != NULL_AREA) count++;
    }
  }
  chf.width = w;
  chf.height = h;
  chf.spanCount = count;
  chf.cellIndex = new Int32Array(w * h);
  chf.cellCount = new Int32Array(w * h);
  chf.y = new Int32Array(count);
  chf.h = new Int32Array(count);
  chf.con = new Int32Array(count);
  chf.areas = new Uint8Array(count);
  chf.reg = new Int32Array(count);
  chf.dist = new Int32Array(count);
  let idx = 0;
  for (let c = 0, n = w * h; c < n; c++) {
    unchecked((chf.cellIndex[c] = idx));
    let k = 0;
    for (let s = unchecked(hf.columns[c]); s >= 0; s = unchecked(hf.next[s])) {
      if (unchecked(hf.area[s]) == NULL_AREA) continue;
      const bot = unchecked(hf.smax[s]);
      const sn = unchecked(hf.next[s]);
      const top = sn >= 0 ? unchecked(hf.smin[sn]) : MAX_HEIGHT;
      unchecked((chf.y[idx] = bot));
      unchecked((chf.h[idx] = min<i32>(max<i32>(top - bot, 0), 0xff)));
      unchecked((chf.areas[idx] = hf.area[s]));
      idx++;
      k++;
    }
    unchecked((chf.cellCount[c] = k));
  }
  // Neighbour links: the first span in the next column with room to pass and within climb.
  const maxLayers = NOT_CONNECTED - 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = x + y * w;
      for (let i = unchecked(chf.cellIndex[c]), ni = i + unchecked(chf.cellCount[c]); i < ni; i++) {
        let con = 0;
        const sy = unchecked(chf.y[i]), stop = sy + unchecked(chf.h[i]);
        for (let d = 0; d < 4; d++) {
          let link = NOT_CONNECTED;
          const nx = x + dirX(d), ny = y + dirY(d);
          if (nx >= 0 && ny >= 0 && nx < w && ny < h) {
            const nc = nx + ny * w;
            const k0 = unchecked(chf.cellIndex[nc]);
            for (let k = k0, nk = k0 + unchecked(chf.cellCount[nc]); k < nk; k++) {
              const ky = unchecked(chf.y[k]);
              const bot = max<i32>(sy, ky), top = min<i32>(stop, ky + unchecked(chf.h[k]));
              if (top - bot >= wh && abs<i32>(ky - sy) <= climb) {
                if (k - k0 <= maxLayers) link = k - k0;
                break;
              }
            }
          }
          con |= link << (d * 6);
        }
        unchecked((chf.con[i] = con));
      }
    }
  }
  return count;
}

/** Chamfer distance (2 per side step, 3 per diagonal) from `seed` spans, in two raster passes. */
function chamferPasses(dist: Int32Array, cap: i32): void {
  const w = chf.width, h = chf.height;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = x + y * w;
      for (let i = unchecked(chf.cellIndex[c]), ni = i + unchecked(chf.cellCount[c]); i < ni; i++) {
        relax(dist, cap, x, y, i, 0, 3);
        relax(dist, cap, x, y, i, 3, 2);
      }
    }
  }
  for (let y = h - 1; y >= 0; y--) {
    for (let x = w - 1; x >= 0; x--) {
      const c = x + y * w;
      for (let i = unchecked(chf.cellIndex[c]), ni = i + unchecked(chf.cellCount[c]); i < ni; i++) {
        relax(dist, cap, x, y, i, 2, 1);
        relax(dist, cap, x, y, i, 1, 0);
      }
    }
  }
}

/** One chamfer step: through direction `d` (+2), then on from there through `d2` (+3). */
@inline function relax(dist: Int32Array, cap: i32, x: i32, y: i32, i: i32, d: i32, d2: i32): void {
  if (getCon(i, d) == NOT_CONNECTED) return;
  const ax = x + dirX(d), ay = y + dirY(d);
  const ai = neighbour(x, y, i, d);
  let nd = min<i32>(unchecked(dist[ai]) + 2, cap);
  if (nd < unchecked(dist[i])) unchecked((dist[i] = nd));
  if (getCon(ai, d2) == NOT_CONNECTED) return;
  const bi = neighbour(ax, ay, ai, d2);
  nd = min<i32>(unchecked(dist[bi]) + 3, cap);
  if (nd < unchecked(dist[i])) unchecked((dist[i] = nd));
}

/** Spans with fewer than four neighbours that pass `sameArea` are boundary (distance 0). */
function seedBoundary(dist: Int32Array, far: i32, sameArea: bool): void {
  const w = chf.width, h = chf.height;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = x + y * w;
      for (let i = unchecked(chf.cellIndex[c]), ni = i + unchecked(chf.cellCount[c]); i < ni; i++) {
        const area = unchecked(chf.areas[i]);
        if (!sameArea && area == NULL_AREA) {
          unchecked((dist[i] = 0));
          continue;
        }
        let nc = 0;
        for (let d = 0; d < 4; d++) {
          if (getCon(i, d) == NOT_CONNECTED) break;
          const ai = neighbour(x, y, i, d);
          const na = unchecked(chf.areas[ai]);
          if (sameArea ? na != area : na == NULL_AREA) break;
          nc++;
        }
        unchecked((dist[i] = nc != 4 ? 0 : far));
      }
    }
  }
}

/** Unmarks spans closer than the agent radius to a wall or ledge; returns the walkable spans left. */
export function erodeWalkableArea(): i32 {
  const dist = new Int32Array(chf.spanCount);
  seedBoundary(dist, 255, false);
  chamferPasses(dist, 255);
  const thr = cfg.walkableRadius * 2;
  let left = 0;
  for (let i = 0; i < chf.spanCount; i++) {
    if (unchecked(dist[i]) < thr) unchecked((chf.areas[i] = NULL_AREA));
    else if (unchecked(chf.areas[i]) != NULL_AREA) left++;
  }
  return left;
}

/** Distance of every span to the region boundary, box-blurred; returns the maximum distance. */
export function buildDistanceField(): i32 {
  const n = chf.spanCount;
  const src = new Int32Array(n);
  seedBoundary(src, 0xffff, true);
  chamferPasses(src, 0xffff);
  let maxDist = 0;
  for (let i = 0; i < n; i++) maxDist = max<i32>(maxDist, unchecked(src[i]));
  chf.maxDistance = maxDist;
  // Box blur with threshold 1 (x2 in chamfer units), as Recast does.
  const dst = new Int32Array(n);
  const w = chf.width, h = chf.height, thr = 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = x + y * w;
      for (let i = unchecked(chf.cellIndex[c]), ni = i + unchecked(chf.cellCount[c]); i < ni; i++) {
        const cd = unchecked(src[i]);
        if (cd <= thr) {
          unchecked((dst[i] = cd));
          continue;
        }
        let d = cd;
        for (let dir = 0; dir < 4; dir++) {
          if (getCon(i, dir) != NOT_CONNECTED) {
            const ai = neighbour(x, y, i, dir);
            d += unchecked(src[ai]);
            const dir2 = (dir + 1) & 3;
            if (getCon(ai, dir2) != NOT_CONNECTED) {
              d += unchecked(src[neighbour(x + dirX(dir), y + dirY(dir), ai, dir2)]);
            } else {
              d += cd;
            }
          } else {
            d += cd * 2;
          }
        }
        unchecked((dst[i] = (d + 5) / 9));
      }
    }
  }
  chf.dist = dst;
  return maxDist;
}
