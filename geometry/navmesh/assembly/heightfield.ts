// Stages 1-3: walkable triangles by slope, rasterisation into a span heightfield, and the three
// span filters. Same rules as Recast (rcMarkWalkableTriangles, rcRasterizeTriangles,
// rcFilter*), with z as the vertical axis.

import { cfg, DX, DY, hf, input, MAX_HEIGHT, NULL_AREA, SPAN_MAX_HEIGHT, WALKABLE_AREA } from "./state";

/** Marks triangles whose upward normal is within the slope limit; returns how many. */
export function markWalkableTriangles(): i32 {
  const thr = Mathf.cos(cfg.slopeDeg / 180.0 * Mathf.PI);
  const v = input.verts, t = input.tris;
  const areas = new Uint8Array(input.ntris);
  let n = 0;
  for (let i = 0; i < input.ntris; i++) {
    const a = unchecked(t[i * 3]) * 3, b = unchecked(t[i * 3 + 1]) * 3, c = unchecked(t[i * 3 + 2]) * 3;
    const e0x = unchecked(v[b]) - unchecked(v[a]), e0y = unchecked(v[b + 1]) - unchecked(v[a + 1]);
    const e0z = unchecked(v[b + 2]) - unchecked(v[a + 2]);
    const e1x = unchecked(v[c]) - unchecked(v[a]), e1y = unchecked(v[c + 1]) - unchecked(v[a + 1]);
    const e1z = unchecked(v[c + 2]) - unchecked(v[a + 2]);
    const nx = e0y * e1z - e0z * e1y, ny = e0z * e1x - e0x * e1z, nz = e0x * e1y - e0y * e1x;
    const len = Mathf.sqrt(nx * nx + ny * ny + nz * nz);
    // Only upward-facing triangles (counter-clockwise seen from above) can be walked on.
    if (len > 0 && nz / len > thr) {
      unchecked((areas[i] = WALKABLE_AREA));
      n++;
    }
  }
  input.areas = areas;
  return n;
}

/** Sets the grid over the input bounds (Recast's rcCalcGridSize). */
export function initHeightfield(): void {
  const v = input.verts;
  let x0 = f32.MAX_VALUE, y0 = f32.MAX_VALUE, z0 = f32.MAX_VALUE;
  let x1 = -f32.MAX_VALUE, y1 = -f32.MAX_VALUE, z1 = -f32.MAX_VALUE;
  for (let i = 0; i < input.nverts; i++) {
    const x = unchecked(v[i * 3]), y = unchecked(v[i * 3 + 1]), z = unchecked(v[i * 3 + 2]);
    x0 = min(x0, x); y0 = min(y0, y); z0 = min(z0, z);
    x1 = max(x1, x); y1 = max(y1, y); z1 = max(z1, z);
  }
  hf.bminX = x0; hf.bminY = y0; hf.bminZ = z0;
  hf.bmaxX = x1; hf.bmaxY = y1; hf.bmaxZ = z1;
  hf.width = <i32>((x1 - x0) / cfg.cs + 0.5);
  hf.height = <i32>((y1 - y0) / cfg.cs + 0.5);
  const cols = new Int32Array(hf.width * hf.height);
  cols.fill(-1);
  hf.columns = cols;
  const cap = max<i32>(1024, hf.width * hf.height);
  hf.smin = new Int32Array(cap);
  hf.smax = new Int32Array(cap);
  hf.area = new Uint8Array(cap);
  hf.next = new Int32Array(cap);
  hf.used = 0;
  hf.freeHead = -1;
  hf.live = 0;
}

function allocSpan(): i32 {
  hf.live++;
  if (hf.freeHead >= 0) {
    const s = hf.freeHead;
    hf.freeHead = unchecked(hf.next[s]);
    return s;
  }
  if (hf.used == hf.smin.length) {
    const cap = hf.used * 2;
    const a = new Int32Array(cap); a.set(hf.smin); hf.smin = a;
    const b = new Int32Array(cap); b.set(hf.smax); hf.smax = b;
    const c = new Uint8Array(cap); c.set(hf.area); hf.area = c;
    const d = new Int32Array(cap); d.set(hf.next); hf.next = d;
  }
  return hf.used++;
}

@inline function freeSpan(s: i32): void {
  unchecked((hf.next[s] = hf.freeHead));
  hf.freeHead = s;
  hf.live--;
}

/** Inserts [smin, smax] into column (x, y), merging overlapping spans (Recast's addSpan). */
export function addSpan(x: i32, y: i32, smin: i32, smax: i32, area: u8, mergeThr: i32): void {
  const col = x + y * hf.width;
  let prev = -1;
  let cur = unchecked(hf.columns[col]);
  while (cur >= 0) {
    const cmin = unchecked(hf.smin[cur]), cmax = unchecked(hf.smax[cur]);
    if (cmin > smax) break;
    if (cmax < smin) {
      prev = cur;
      cur = unchecked(hf.next[cur]);
      continue;
    }
    if (cmin < smin) smin = cmin;
    if (cmax > smax) smax = cmax;
    // The higher area id wins where the tops are within the merge threshold.
    if (abs<i32>(smax - cmax) <= mergeThr) area = max<u8>(area, unchecked(hf.area[cur]));
    const nxt = unchecked(hf.next[cur]);
    freeSpan(cur);
    if (prev >= 0) unchecked((hf.next[prev] = nxt));
    else unchecked((hf.columns[col] = nxt));
    cur = nxt;
  }
  const s = allocSpan();
  unchecked((hf.smin[s] = smin));
  unchecked((hf.smax[s] = smax));
  unchecked((hf.area[s] = area));
  if (prev >= 0) {
    unchecked((hf.next[s] = hf.next[prev]));
    unchecked((hf.next[prev] = s));
  } else {
    unchecked((hf.next[s] = hf.columns[col]));
    unchecked((hf.columns[col] = s));
  }
}

// Scratch polygons for clipping a triangle against grid rows and columns (at most 7 vertices).
const bufIn = new Float32Array(21);
const bufRow = new Float32Array(21);
const bufP1 = new Float32Array(21);
const bufP2 = new Float32Array(21);
let nOut1: i32 = 0;
let nOut2: i32 = 0;
// The stub runtime never frees, so hot paths reuse scratch memory instead of allocating.
const divideScratch = new StaticArray<f32>(12);

/** Splits polygon `src` by the plane coord[axis] = off into out1 (below) and out2 (above). */
function dividePoly(
  src: Float32Array, n: i32, out1: Float32Array, out2: Float32Array, off: f32, axis: i32,
): void {
  const d = divideScratch;
  for (let i = 0; i < n; i++) unchecked((d[i] = off - src[i * 3 + axis]));
  let m = 0, k = 0;
  for (let i = 0, j = n - 1; i < n; j = i, i++) {
    const ina = unchecked(d[j]) >= 0, inb = unchecked(d[i]) >= 0;
    if (ina != inb) {
      const s = unchecked(d[j]) / (unchecked(d[j]) - unchecked(d[i]));
      for (let c = 0; c < 3; c++) {
        const val = unchecked(src[j * 3 + c]) + (unchecked(src[i * 3 + c]) - unchecked(src[j * 3 + c])) * s;
        unchecked((out1[m * 3 + c] = val));
        unchecked((out2[k * 3 + c] = val));
      }
      m++;
      k++;
      if (unchecked(d[i]) > 0) {
        for (let c = 0; c < 3; c++) unchecked((out1[m * 3 + c] = src[i * 3 + c]));
        m++;
      } else if (unchecked(d[i]) < 0) {
        for (let c = 0; c < 3; c++) unchecked((out2[k * 3 + c] = src[i * 3 + c]));
        k++;
      }
    } else {
      if (unchecked(d[i]) >= 0) {
        for (let c = 0; c < 3; c++) unchecked((out1[m * 3 + c] = src[i * 3 + c]));
        m++;
        if (unchecked(d[i]) != 0) continue;
      }
      for (let c = 0; c < 3; c++) unchecked((out2[k * 3 + c] = src[i * 3 + c]));
      k++;
    }
  }
  nOut1 = m;
  nOut2 = k;
}

function rasterizeTri(t: i32, area: u8, mergeThr: i32): void {
  const v = input.verts;
  const cs = cfg.cs, ics: f32 = 1.0 / cfg.cs, ich: f32 = 1.0 / cfg.ch;
  let minX = f32.MAX_VALUE, minY = f32.MAX_VALUE, minZ = f32.MAX_VALUE;
  let maxX = -f32.MAX_VALUE, maxY = -f32.MAX_VALUE, maxZ = -f32.MAX_VALUE;
  for (let k = 0; k < 3; k++) {
    const b = unchecked(input.tris[t * 3 + k]) * 3;
    const x = unchecked(v[b]), y = unchecked(v[b + 1]), z = unchecked(v[b + 2]);
    unchecked((bufIn[k * 3] = x));
    unchecked((bufIn[k * 3 + 1] = y));
    unchecked((bufIn[k * 3 + 2] = z));
    minX = min(minX, x); minY = min(minY, y); minZ = min(minZ, z);
    maxX = max(maxX, x); maxY = max(maxY, y); maxZ = max(maxZ, z);
  }
  if (
    minX > hf.bmaxX || maxX < hf.bminX || minY > hf.bmaxY || maxY < hf.bminY ||
    minZ > hf.bmaxZ || maxZ < hf.bminZ
  ) return;
  const w = hf.width, h = hf.height;
  const bz = hf.bmaxZ - hf.bminZ;
  let y0 = <i32>((minY - hf.bminY) * ics);
  let y1 = <i32>((maxY - hf.bminY) * ics);
  y0 = clampI(y0, -1, h - 1);
  y1 = clampI(y1, 0, h - 1);
  let inP = bufIn, rowP = bufRow, p1 = bufP1, p2 = bufP2;
  let nvIn = 3;
  for (let y = y0; y <= y1; y++) {
    const cellY = hf.bminY + <f32>y * cs;
    dividePoly(inP, nvIn, rowP, p1, cellY + cs, 1);
    const nvRow = nOut1;
    nvIn = nOut2;
    const tmp = inP; inP = p1; p1 = tmp;
    if (nvRow < 3 || y < 0) continue;
    let rx0 = unchecked(rowP[0]), rx1 = unchecked(rowP[0]);
    for (let k = 1; k < nvRow; k++) {
      rx0 = min(rx0, unchecked(rowP[k * 3]));
      rx1 = max(rx1, unchecked(rowP[k * 3]));
    }
    let x0 = <i32>((rx0 - hf.bminX) * ics);
    let x1 = <i32>((rx1 - hf.bminX) * ics);
    if (x1 < 0 || x0 >= w) continue;
    x0 = clampI(x0, -1, w - 1);
    x1 = clampI(x1, 0, w - 1);
    let nv2 = nvRow;
    for (let x = x0; x <= x1; x++) {
      const cx = hf.bminX + <f32>x * cs;
      dividePoly(rowP, nv2, p1, p2, cx + cs, 0);
      const nv = nOut1;
      nv2 = nOut2;
      const tmp2 = rowP; rowP = p2; p2 = tmp2;
      if (nv < 3 || x < 0) continue;
      let smin = unchecked(p1[2]), smax = unchecked(p1[2]);
      for (let k = 1; k < nv; k++) {
        smin = min(smin, unchecked(p1[k * 3 + 2]));
        smax = max(smax, unchecked(p1[k * 3 + 2]));
      }
      smin -= hf.bminZ;
      smax -= hf.bminZ;
      if (smax < 0 || smin > bz) continue;
      if (smin < 0) smin = 0;
      if (smax > bz) smax = bz;
      const ismin = clampI(<i32>Mathf.floor(smin * ich), 0, SPAN_MAX_HEIGHT);
      const ismax = clampI(<i32>Mathf.ceil(smax * ich), ismin + 1, SPAN_MAX_HEIGHT);
      addSpan(x, y, ismin, ismax, area, mergeThr);
    }
  }
}

@inline export function clampI(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Rasterises every triangle; returns the number of spans. */
export function rasterizeTriangles(): i32 {
  initHeightfield();
  for (let t = 0; t < input.ntris; t++) rasterizeTri(t, unchecked(input.areas[t]), cfg.walkableClimb);
  return hf.live;
}

/** Lets a non-walkable span within climb of a walkable span below it be walked (kerbs, stairs). */
export function filterLowHangingObstacles(): i32 {
  const climb = cfg.walkableClimb;
  let changed = 0;
  for (let c = 0, n = hf.width * hf.height; c < n; c++) {
    let prev = -1;
    let prevWalkable = false;
    let prevArea: u8 = NULL_AREA;
    for (let s = unchecked(hf.columns[c]); s >= 0; prev = s, s = unchecked(hf.next[s])) {
      const walkable = unchecked(hf.area[s]) != NULL_AREA;
      if (!walkable && prevWalkable && unchecked(hf.smax[s]) - unchecked(hf.smax[prev]) <= climb) {
        unchecked((hf.area[s] = prevArea));
        changed++;
      }
      prevWalkable = walkable;
      prevArea = unchecked(hf.area[s]);
    }
  }
  return changed;
}

/** Removes walkable spans at a drop larger than climb, or on a too-steep span slope. */
export function filterLedgeSpans(): i32 {
  const w = hf.width, h = hf.height, climb = cfg.walkableClimb, wh = cfg.walkableHeight;
  let removed = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let s = unchecked(hf.columns[x + y * w]); s >= 0; s = unchecked(hf.next[s])) {
        if (unchecked(hf.area[s]) == NULL_AREA) continue;
        const floor = unchecked(hf.smax[s]);
        const sn = unchecked(hf.next[s]);
        const ceiling = sn >= 0 ? unchecked(hf.smin[sn]) : MAX_HEIGHT;
        let lowest = MAX_HEIGHT;
        let accMin = floor, accMax = floor;
        for (let d = 0; d < 4; d++) {
          const nx = x + unchecked(DX[d]), ny = y + unchecked(DY[d]);
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) {
            lowest = -climb - 1;
            break;
          }
          let ns = unchecked(hf.columns[nx + ny * w]);
          let nceil = ns >= 0 ? unchecked(hf.smin[ns]) : MAX_HEIGHT;
          // Open space below the neighbour's first span: a drop to nothing.
          if (min<i32>(ceiling, nceil) - floor >= wh) {
            lowest = -climb - 1;
            break;
          }
          for (; ns >= 0; ns = unchecked(hf.next[ns])) {
            const nfloor = unchecked(hf.smax[ns]);
            const nn = unchecked(hf.next[ns]);
            nceil = nn >= 0 ? unchecked(hf.smin[nn]) : MAX_HEIGHT;
            if (min<i32>(ceiling, nceil) - max<i32>(floor, nfloor) < wh) continue;
            const diff = nfloor - floor;
            lowest = min<i32>(lowest, diff);
            if (abs<i32>(diff) <= climb) {
              accMin = min<i32>(accMin, nfloor);
              accMax = max<i32>(accMax, nfloor);
            } else if (diff < -climb) {
              break;
            }
          }
        }
        if (lowest < -climb || accMax - accMin > climb) {
          unchecked((hf.area[s] = NULL_AREA));
          removed++;
        }
      }
    }
  }
  return removed;
}

/** Removes walkable spans with less than the agent's height of free space above. */
export function filterLowHeightSpans(): i32 {
  const wh = cfg.walkableHeight;
  let removed = 0;
  for (let c = 0, n = hf.width * hf.height; c < n; c++) {
    for (let s = unchecked(hf.columns[c]); s >= 0; s = unchecked(hf.next[s])) {
      const sn = unchecked(hf.next[s]);
      const ceiling = sn >= 0 ? unchecked(hf.smin[sn]) : MAX_HEIGHT;
      if (ceiling - unchecked(hf.smax[s]) < wh && unchecked(hf.area[s]) != NULL_AREA) {
        unchecked((hf.area[s] = NULL_AREA));
        removed++;
      }
    }
  }
  return removed;
}

/** Walkable spans in the heightfield. */
export function countWalkableSpans(): i32 {
  let n = 0;
  for (let c = 0, m = hf.width * hf.height; c < m; c++) {
    for (let s = unchecked(hf.columns[c]); s >= 0; s = unchecked(hf.next[s])) {
      if (unchecked(hf.area[s]) != NULL_AREA) n++;
    }
  }
  return n;
}
