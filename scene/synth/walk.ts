/**
 * The hand-held camera walk of a synthetic scene: a smooth loop through the room's free space,
 * walked at constant speed while the camera looks toward the room's interior with a slow yaw
 * sweep, a slight downward pitch and small pitch/roll jitter.
 *
 * The walk is planned on a 10 cm grid of the floor: cells far enough from walls and furniture
 * form the free space; a few spread-out waypoints in its largest connected part are joined by
 * shortest paths, straightened where the line of sight is free, and rounded off.
 *
 * @module
 */

import { type CameraPose, cameraPoseFromAngles } from "../../geometry/pose.ts";
import {
  distanceToBoundary,
  pointInPolygon,
  type Polygon,
  type Vec2,
} from "../../geometry/polygon.ts";
import type { Rng } from "../../geometry/rng.ts";

/** A camera walk: the route and the parameters of the head motion. */
export interface Walk {
  /** A closed loop through the free space (first point repeated last), or one point. */
  loop: Vec2[];
  /** Walking speed (m/s); the camera covers at most 90% of the loop. */
  speed: number;
  /** Eye height (m), 1.2-1.7. */
  height: number;
  /** The point the camera keeps looking toward: the middle of the room. */
  focus: Vec2;
  /** Yaw offset from the walking direction toward the interior (rad), used near the focus. */
  yawBias: number;
  /** Slow look-around on top of the view direction: amplitude (rad), period (s), phase. */
  yawSweep: { amplitude: number; period: number; phase: number };
  /** Base pitch (rad, negative looks down). */
  pitch: number;
  /** Phases of the small pitch, roll and height oscillations. */
  jitter: number[];
  /**
   * Apartments: the rooms the camera passes through; in each it looks toward that room's
   * `focus` (the corridor has none: the camera looks ahead). Absent: `focus` everywhere.
   */
  views?: { polygon: Polygon; focus?: Vec2 }[];
}

const CELL = 0.1;

/**
 * Plans a walk in `room` avoiding the `obstacles` footprints.
 *
 * @example
 * ```ts
 * import { Rng } from "../../geometry/rng.ts";
 * const walk = planWalk([[0, 0], [5, 0], [5, 4], [0, 4]], [], new Rng(1));
 * if (walk.loop.length < 2) throw new Error("an empty room has room to walk");
 * ```
 */
export function planWalk(room: Polygon, obstacles: readonly Vec2[][], rng: Rng): Walk {
  const grid = clearanceGrid(room, obstacles);
  let cells: number[] = [];
  let threshold = 0;
  for (const t of [0.6, 0.5, 0.4, 0.3]) {
    cells = largestComponent(grid, t);
    threshold = t;
    if (cells.length >= 12) break;
  }
  const motion = {
    speed: rng.uniform(0.4, 0.75),
    height: rng.uniform(1.2, 1.7),
    focus: areaCentroid(room),
    yawBias: rng.uniform(0.5, 1.0),
    yawSweep: {
      amplitude: rng.uniform(0.25, 0.5),
      period: rng.uniform(5, 10),
      phase: rng.uniform(0, 2 * Math.PI),
    },
    pitch: -rng.uniform(0.12, 0.3),
    jitter: Array.from({ length: 6 }, () => rng.uniform(0, 2 * Math.PI)),
  };
  if (cells.length === 0) {
    // Nowhere to walk: stand at the clearest spot and look around.
    let best = 0;
    for (let i = 1; i < grid.clear.length; i++) if (grid.clear[i] > grid.clear[best]) best = i;
    return { loop: [grid.centre(best)], ...motion };
  }
  return { loop: planLoop(grid, cells, threshold, rng), ...motion };
}

/** Clearance (m) the walk keeps in an apartment: doorways of 0.9 m leave 0.45. */
const APARTMENT_CLEARANCE = [0.4, 0.35, 0.3];

/**
 * Plans a walk through an apartment: a loop through one spot of each room (`rooms`, those
 * with `visit`), in order around the middle, joined by shortest paths that keep clear of
 * walls and furniture, so it passes through doorways. The camera walks faster than in a
 * single room, and looks toward the middle of the room it is in (ahead in the corridor).
 *
 * @example
 * ```ts
 * import { Rng } from "../../geometry/rng.ts";
 * // Two 4 x 4 m rooms joined by a 1 m doorway in a 10 cm wall at x = 4.
 * const wall = (y0: number, y1: number): [number, number][] => [[3.95, y0], [4.05, y0], [4.05, y1], [3.95, y1]];
 * const walk = planApartmentWalk([[0, 0], [8.1, 0], [8.1, 4], [0, 4]],
 *   [{ polygon: [[0, 0], [3.95, 0], [3.95, 4], [0, 4]], visit: true },
 *    { polygon: [[4.05, 0], [8.1, 0], [8.1, 4], [4.05, 4]], visit: true }],
 *   [wall(0, 1.5), wall(2.5, 4)], new Rng(1));
 * if (!walk.loop.some((p) => p[0] < 3.9) || !walk.loop.some((p) => p[0] > 4.1)) throw new Error();
 * ```
 */
export function planApartmentWalk(
  outline: Polygon,
  rooms: readonly { polygon: Polygon; visit: boolean }[],
  obstacles: readonly Vec2[][],
  rng: Rng,
): Walk {
  const grid = clearanceGrid(outline, obstacles);
  const motion = {
    speed: rng.uniform(0.7, 1.1),
    height: rng.uniform(1.2, 1.7),
    focus: areaCentroid(outline),
    yawBias: rng.uniform(0.5, 1.0),
    yawSweep: {
      amplitude: rng.uniform(0.2, 0.4),
      period: rng.uniform(5, 10),
      phase: rng.uniform(0, 2 * Math.PI),
    },
    pitch: -rng.uniform(0.12, 0.3),
    jitter: Array.from({ length: 6 }, () => rng.uniform(0, 2 * Math.PI)),
    views: rooms.map((r) => ({
      polygon: r.polygon,
      ...(r.visit ? { focus: areaCentroid(r.polygon) } : {}),
    })),
  };
  // The clearance at which most rooms are joined into one walkable part.
  let best: { cells: number[]; threshold: number; reached: number[] } | undefined;
  for (const threshold of APARTMENT_CLEARANCE) {
    const cells = largestComponent(grid, threshold);
    const reached = rooms.map((r, i) =>
      r.visit && cells.some((c) => pointInPolygon(grid.centre(c), r.polygon)) ? i : -1
    ).filter((i) => i >= 0);
    if (!best || reached.length > best.reached.length) best = { cells, threshold, reached };
    if (reached.length === rooms.filter((r) => r.visit).length) break;
  }
  if (!best || best.cells.length === 0) return planWalk(outline, obstacles, rng);
  const { cells, threshold, reached } = best;
  // One spot per room: a random cell among its clearest, so the camera sees the room.
  const spots = reached.map((i) => {
    const mine = cells.filter((c) => pointInPolygon(grid.centre(c), rooms[i].polygon));
    const top = Math.max(...mine.map((c) => grid.clear[c]));
    const good = mine.filter((c) => grid.clear[c] >= 0.8 * top);
    return good[rng.int(0, good.length - 1)];
  });
  if (spots.length < 2) return planWalk(outline, obstacles, rng);
  const [cx, cy] = areaCentroid(outline);
  const angle = (c: number) => Math.atan2(grid.centre(c)[1] - cy, grid.centre(c)[0] - cx);
  const order = spots.map((c) => c).sort((a, b) => angle(a) - angle(b));
  const start = rng.int(0, order.length - 1);
  const way = [...order.slice(start), ...order.slice(0, start)];
  return { loop: joinLoop(grid, cells, threshold, way), ...motion };
}

/**
 * The part of the loop walked in `seconds`: an open polyline from the start.
 *
 * @example
 * ```ts
 * import { Rng } from "../../geometry/rng.ts";
 * const walk = planWalk([[0, 0], [6, 0], [6, 5], [0, 5]], [], new Rng(2));
 * const path = walkedPath(walk, 10);
 * if (path.length < 2) throw new Error();
 * ```
 */
export function walkedPath(walk: Walk, seconds: number): Vec2[] {
  if (walk.loop.length < 2) return [walk.loop[0]];
  return slicePath(walk.loop, Math.min(walk.speed * seconds, 0.9 * pathLength(walk.loop)));
}

/** Samples per second of the view-direction track that is smoothed before use. */
const TRACK_RATE = 48;
/** Width (s) of the Gaussian that smooths the view direction: a person turns their head smoothly. */
const TRACK_SIGMA = 0.4;
/** Fastest turn of the view direction (rad/s) before the look-around sweep is added. */
const MAX_TURN_RATE = 1.2;

/**
 * Camera-to-world poses of `frames` frames at `fps` along the walk.
 *
 * @example
 * ```ts
 * import { Rng } from "../../geometry/rng.ts";
 * const walk = planWalk([[0, 0], [5, 0], [5, 4], [0, 4]], [], new Rng(1));
 * const poses = walkPoses(walk, 10, 24);
 * if (poses.length !== 10 || poses[0][11] < 1.1) throw new Error();
 * ```
 */
export function walkPoses(walk: Walk, frames: number, fps: number): CameraPose[] {
  const duration = (frames - 1) / fps;
  const path = walkedPath(walk, duration);
  const length = pathLength(path);
  const j = walk.jitter;
  const posAt = (t: number) => pointAt(path, duration > 0 ? length * t / duration : 0);

  // View direction: toward the middle of the room so the far side is in view; near the middle,
  // where that direction is unstable, off to the side of the walking direction. Unwrapped and
  // smoothed over time, so it never jumps.
  const n = Math.max(2, Math.ceil(duration * TRACK_RATE) + 1);
  const raw = new Float64Array(n);
  // Apartments: the focus of the room the camera is in (kept through doorways); none: ahead.
  let focus: Vec2 | undefined = walk.focus;
  for (let i = 0; i < n; i++) {
    const t = duration * i / (n - 1);
    const [x, y] = posAt(t);
    const heading = length > 0 ? headingAt(path, length * t / Math.max(duration, 1e-9)) : 0;
    const side = length > 0
      ? heading + walk.yawBias
      : j[0] + 2 * Math.PI * t / Math.max(duration, 8);
    if (walk.views) {
      const view = walk.views.find((v) => pointInPolygon([x, y], v.polygon));
      if (view) focus = view.focus;
    }
    let target: number;
    if (focus) {
      const lx = focus[0] - x, ly = focus[1] - y;
      const dist = Math.hypot(lx, ly) || 1, w = Math.min(1, dist / 1.5);
      target = Math.atan2(
        w * ly / dist + (1 - w) * Math.sin(side),
        w * lx / dist + (1 - w) * Math.cos(side),
      );
    } else {
      target = length > 0 ? heading : side;
    }
    // Unwrapped, and rate-limited: on a tight loop the target can swing round quickly.
    const step = MAX_TURN_RATE * duration / (n - 1); // rad per sample
    raw[i] = i === 0
      ? target
      : raw[i - 1] + Math.max(-step, Math.min(step, wrapAngle(target - raw[i - 1])));
  }
  const spacing = duration / (n - 1);
  const smooth = spacing > 0 ? gaussianSmooth(raw, TRACK_SIGMA / spacing) : raw;

  const poses: CameraPose[] = [];
  for (let f = 0; f < frames; f++) {
    const t = f / fps;
    const [x, y] = posAt(t);
    const k = duration > 0 ? t / duration * (n - 1) : 0;
    const k0 = Math.min(n - 2, Math.floor(k));
    const base = smooth[k0] + (smooth[k0 + 1] - smooth[k0]) * (k - k0);
    const sweep = walk.yawSweep;
    const yaw = base + sweep.amplitude * Math.sin(2 * Math.PI * t / sweep.period + sweep.phase);
    const pitch = walk.pitch + 0.05 * Math.sin(2 * Math.PI * 0.11 * t + j[1]) +
      0.01 * Math.sin(2 * Math.PI * 0.6 * t + j[2]);
    const roll = 0.03 * Math.sin(2 * Math.PI * 0.07 * t + j[3]) +
      0.008 * Math.sin(2 * Math.PI * 0.9 * t + j[4]);
    const walked = duration > 0 ? length * t / duration : 0;
    const z = walk.height + 0.012 * Math.sin(2 * Math.PI * walked / 0.75 + j[5]);
    poses.push(cameraPoseFromAngles([x, y, z], yaw, pitch, roll));
  }
  return poses;
}

function wrapAngle(a: number): number {
  return a - 2 * Math.PI * Math.round(a / (2 * Math.PI));
}

/** Gaussian smoothing with edge values held; `sigma` in samples. */
function gaussianSmooth(v: Float64Array, sigma: number): Float64Array {
  const r = Math.ceil(3 * sigma);
  const w = Array.from(
    { length: 2 * r + 1 },
    (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)),
  );
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    let s = 0, ws = 0;
    for (let k = -r; k <= r; k++) {
      s += w[k + r] * v[Math.min(v.length - 1, Math.max(0, i + k))];
      ws += w[k + r];
    }
    out[i] = s / ws;
  }
  return out;
}

/** Centroid of a simple polygon's area. */
function areaCentroid(poly: Polygon): Vec2 {
  let a = 0, cx = 0, cy = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const cross = poly[j][0] * poly[i][1] - poly[i][0] * poly[j][1];
    a += cross;
    cx += (poly[j][0] + poly[i][0]) * cross;
    cy += (poly[j][1] + poly[i][1]) * cross;
  }
  return [cx / (3 * a), cy / (3 * a)];
}

interface Grid {
  nx: number;
  ny: number;
  x0: number;
  y0: number;
  /** Distance from each cell centre to the nearest wall or obstacle; -1 outside the room. */
  clear: Float64Array;
  centre(i: number): Vec2;
}

function clearanceGrid(room: Polygon, obstacles: readonly Vec2[][]): Grid {
  const xs = room.map((p) => p[0]), ys = room.map((p) => p[1]);
  const x0 = Math.min(...xs), y0 = Math.min(...ys);
  const nx = Math.ceil((Math.max(...xs) - x0) / CELL),
    ny = Math.ceil((Math.max(...ys) - y0) / CELL);
  const centre = (
    i: number,
  ): Vec2 => [x0 + (i % nx + 0.5) * CELL, y0 + (Math.floor(i / nx) + 0.5) * CELL];
  const clear = new Float64Array(nx * ny);
  for (let i = 0; i < nx * ny; i++) clear[i] = clearanceAt(centre(i), room, obstacles);
  return { nx, ny, x0, y0, clear, centre };
}

function clearanceAt(p: Vec2, room: Polygon, obstacles: readonly Vec2[][]): number {
  if (!pointInPolygon(p, room)) return -1;
  let c = distanceToBoundary(p, room);
  for (const o of obstacles) c = Math.min(c, pointInPolygon(p, o) ? 0 : distanceToBoundary(p, o));
  return c;
}

function neighbours(g: Grid, i: number): number[] {
  const x = i % g.nx, y = Math.floor(i / g.nx);
  const out: number[] = [];
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      if ((dx || dy) && x + dx >= 0 && x + dx < g.nx && y + dy >= 0 && y + dy < g.ny) {
        out.push(i + dx + dy * g.nx);
      }
    }
  }
  return out;
}

function largestComponent(g: Grid, threshold: number): number[] {
  const seen = new Uint8Array(g.clear.length);
  let best: number[] = [];
  for (let s = 0; s < g.clear.length; s++) {
    if (seen[s] || g.clear[s] < threshold) continue;
    const comp = [s];
    seen[s] = 1;
    for (let k = 0; k < comp.length; k++) {
      for (const n of neighbours(g, comp[k])) {
        if (!seen[n] && g.clear[n] >= threshold) {
          seen[n] = 1;
          comp.push(n);
        }
      }
    }
    if (comp.length > best.length) best = comp;
  }
  return best.sort((a, b) => a - b);
}

/** A closed loop through spread-out waypoints, counter-clockwise around their centre. */
function planLoop(g: Grid, cells: number[], threshold: number, rng: Rng): Vec2[] {
  const pts = cells.map((c) => g.centre(c));
  const k = Math.min(4, cells.length);
  const way = [rng.int(0, cells.length - 1)];
  const far = pts.map((p) => Math.hypot(p[0] - pts[way[0]][0], p[1] - pts[way[0]][1]));
  while (way.length < k) {
    let best = 0;
    for (let i = 1; i < far.length; i++) if (far[i] > far[best]) best = i;
    way.push(best);
    for (let i = 0; i < pts.length; i++) {
      far[i] = Math.min(far[i], Math.hypot(pts[i][0] - pts[best][0], pts[i][1] - pts[best][1]));
    }
  }
  const cx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const cy = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  const angle = (i: number) => Math.atan2(pts[i][1] - cy, pts[i][0] - cx);
  const start = way[0];
  way.sort((a, b) => angle(a) - angle(b));
  while (way[0] !== start) way.push(way.shift()!);
  return joinLoop(g, cells, threshold, way.map((i) => cells[i]));
}

/** A closed loop through the waypoint cells `way`, in order, over the `cells` part. */
function joinLoop(g: Grid, cells: number[], threshold: number, way: number[]): Vec2[] {
  const member = new Set(cells);
  const visible = (a: Vec2, b: Vec2) => {
    const n = Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / (CELL / 2));
    for (let s = 1; s < n; s++) {
      const p: Vec2 = [a[0] + (b[0] - a[0]) * s / n, a[1] + (b[1] - a[1]) * s / n];
      if (sampleClear(g, p) < threshold) return false;
    }
    return true;
  };
  // Each leg joins two waypoints; straighten it by jumping from each kept point to the
  // farthest point of the leg still in plain sight.
  const straight: Vec2[] = [];
  for (let i = 0; i < way.length; i++) {
    const leg = shortestPath(g, member, way[i], way[(i + 1) % way.length])
      .map((c) => g.centre(c));
    for (let a = 0; a < leg.length - 1;) {
      straight.push(leg[a]);
      let b = a + 1;
      while (b + 1 < leg.length && visible(leg[a], leg[b + 1])) b++;
      a = b;
    }
  }
  // Round the corners (Chaikin), as long as the result keeps its distance from obstacles.
  let loop = straight;
  for (let it = 0; it < 4 && loop.length >= 3; it++) {
    const next: Vec2[] = [];
    for (let i = 0; i < loop.length; i++) {
      const a = loop[i], b = loop[(i + 1) % loop.length];
      next.push([0.75 * a[0] + 0.25 * b[0], 0.75 * a[1] + 0.25 * b[1]]);
      next.push([0.25 * a[0] + 0.75 * b[0], 0.25 * a[1] + 0.75 * b[1]]);
    }
    if (next.some((p) => sampleClear(g, p) < threshold * 0.6)) break;
    loop = next;
  }
  return [...loop, loop[0]];
}

/** Clearance at an arbitrary point: the value of the cell containing it. */
function sampleClear(g: Grid, p: Vec2): number {
  const x = Math.floor((p[0] - g.x0) / CELL), y = Math.floor((p[1] - g.y0) / CELL);
  if (x < 0 || y < 0 || x >= g.nx || y >= g.ny) return -1;
  return g.clear[x + y * g.nx];
}

/** Dijkstra over `member` cells, preferring cells far from obstacles. */
function shortestPath(g: Grid, member: Set<number>, from: number, to: number): number[] {
  const dist = new Map<number, number>([[from, 0]]);
  const prev = new Map<number, number>();
  const heap = new MinHeap();
  heap.push(0, from);
  while (heap.size > 0) {
    const [d, u] = heap.pop();
    if (u === to) break;
    if (d > (dist.get(u) ?? Infinity)) continue;
    for (const v of neighbours(g, u)) {
      if (!member.has(v)) continue;
      const step = (v % g.nx !== u % g.nx && Math.abs(v - u) !== 1 ? Math.SQRT2 : 1) * CELL;
      const nd = d + step * (1 + 1.5 * Math.max(0, 0.9 - g.clear[v]));
      if (nd < (dist.get(v) ?? Infinity)) {
        dist.set(v, nd);
        prev.set(v, u);
        heap.push(nd, v);
      }
    }
  }
  const path = [to];
  while (path[path.length - 1] !== from) {
    const p = prev.get(path[path.length - 1]);
    if (p === undefined) return [from, to];
    path.push(p);
  }
  return path.reverse();
}

class MinHeap {
  #keys: number[] = [];
  #vals: number[] = [];
  get size(): number {
    return this.#keys.length;
  }
  push(key: number, val: number) {
    const k = this.#keys, v = this.#vals;
    let i = k.length;
    k.push(key);
    v.push(val);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p] < key || (k[p] === key && v[p] <= val)) break;
      k[i] = k[p];
      v[i] = v[p];
      i = p;
    }
    k[i] = key;
    v[i] = val;
  }
  pop(): [number, number] {
    const k = this.#keys, v = this.#vals;
    const top: [number, number] = [k[0], v[0]];
    const lk = k.pop()!, lv = v.pop()!;
    if (k.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i, mk = lk, mv = lv;
        if (l < k.length && (k[l] < mk || (k[l] === mk && v[l] < mv))) {
          [m, mk, mv] = [l, k[l], v[l]];
        }
        if (r < k.length && (k[r] < mk || (k[r] === mk && v[r] < mv))) {
          [m, mk, mv] = [r, k[r], v[r]];
        }
        if (m === i) break;
        k[i] = k[m];
        v[i] = v[m];
        i = m;
      }
      k[i] = lk;
      v[i] = lv;
    }
    return top;
  }
}

function pathLength(path: readonly Vec2[]): number {
  let l = 0;
  for (let i = 1; i < path.length; i++) {
    l += Math.hypot(path[i][0] - path[i - 1][0], path[i][1] - path[i - 1][1]);
  }
  return l;
}

function pointAt(path: readonly Vec2[], s: number): Vec2 {
  if (path.length === 1) return [path[0][0], path[0][1]];
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1], b = path[i];
    const l = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (s <= l || i === path.length - 1) {
      const t = l > 0 ? Math.min(1, Math.max(0, s / l)) : 0;
      return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
    }
    s -= l;
  }
  return path[path.length - 1];
}

/** Walking direction at `s`, smoothed over half a metre so corners do not jerk the view. */
function headingAt(path: readonly Vec2[], s: number): number {
  const total = pathLength(path);
  const a = pointAt(path, Math.max(0, s - 0.25)), b = pointAt(path, Math.min(total, s + 0.25));
  return Math.atan2(b[1] - a[1], b[0] - a[0]);
}

function slicePath(path: readonly Vec2[], length: number): Vec2[] {
  const out: Vec2[] = [path[0]];
  let s = 0;
  for (let i = 1; i < path.length; i++) {
    const l = Math.hypot(path[i][0] - path[i - 1][0], path[i][1] - path[i - 1][1]);
    if (s + l >= length) {
      out.push(pointAt([path[i - 1], path[i]], length - s));
      return out;
    }
    out.push(path[i]);
    s += l;
  }
  return out;
}
