/**
 * Procedural apartments: several rooms along a corridor, joined by doorways in 10 cm interior
 * walls, sometimes a big room across the corridor's end, furniture against the walls and
 * islands in the middle, so that shortest paths bend. Axis-aligned, z up, metres.
 *
 * ```
 *  +---------+--------+-----+----------+     rooms of the north band
 *  | bedroom | office |     |          |
 *  +---- ----+--- ----+- ---+  living  |     doorways (gaps) in the corridor walls
 *  |  corridor (1.2-1.6 m)       room  |     the corridor's end opens into the big room
 *  +-- ------+------ -+------  (east)  |
 *  | kitchen | bath   | bed    ....    |     rooms of the south band
 *  +---------+--------+--------+-------+
 * ```
 *
 * The placement order is a single room's (layout.ts): openings, wall pieces in every room,
 * then the camera walk through all rooms, then free-standing furniture off the walk, then
 * small items.
 *
 * @module
 */

import type { YawBox } from "../../geometry/box.ts";
import { type Polygon, polygonArea } from "../../geometry/polygon.ts";
import type { Rng } from "../../geometry/rng.ts";
import { yawBoxFootprint } from "../../geometry/box.ts";
import {
  APARTMENT_EXTRAS,
  CATALOG,
  CORRIDOR_KIND,
  type Count,
  type Material,
  ROOM_COLORS,
  ROOM_KINDS,
  type RoomKind,
} from "./catalog.ts";
import {
  Placer,
  round3,
  type SynthDoorway,
  type SynthLayout,
  type SynthObject,
  type SynthRoomPart,
  type SynthWall,
} from "./layout.ts";
import { planApartmentWalk } from "./walk.ts";

/** Interior walls are this thick (m). */
export const WALL_THICKNESS = 0.1;
/** Chance that an optional thing another room already has is left out of a room. */
const REPEAT_DROP = 0.7;
/** Narrowest room side (m). */
const MIN_ROOM = 2.6;

/** A room of the plan: a rectangle inside the walls, which of its edges are outside walls. */
interface PlanRoom {
  kind: RoomKind;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A wall's centre line, axis-aligned, from `from` to `to` along `along`. */
interface WallLine {
  along: "x" | "y";
  /** The fixed coordinate (y for a wall along x). */
  at: number;
  from: number;
  to: number;
}

/** The floor plan: the outline, the rooms (corridor first), walls and doorways. */
export interface ApartmentPlan {
  width: number;
  depth: number;
  rooms: { kind: RoomKind; polygon: Polygon; exterior: boolean[] }[];
  walls: WallLine[];
  doorways: SynthDoorway[];
}

/**
 * A floor plan from `rng`: a footprint of 8.5-12.5 x 7.2-9.5 m, a corridor along its length
 * with rooms on both sides (and, half the time, one big room across its end), a doorway from
 * every room to the corridor, and some between neighbouring rooms.
 *
 * @example
 * ```ts
 * import { Rng } from "../../geometry/rng.ts";
 * const plan = planApartment(new Rng("doc"));
 * if (plan.rooms[0].kind.name !== "corridor" || plan.doorways.length < plan.rooms.length - 1) throw new Error();
 * ```
 */
export function planApartment(rng: Rng): ApartmentPlan {
  const T = WALL_THICKNESS, h = T / 2;
  const W = round3(rng.uniform(8.5, 12.5)), D = round3(rng.uniform(7.2, 9.5));
  const c = round3(rng.uniform(1.2, 1.6));
  const ys = round3(rng.uniform(MIN_ROOM + 0.2 + h, D - MIN_ROOM - 0.2 - c - 3 * h));
  const yn = round3(ys + c + T);
  const east = rng.chance(0.5) ? round3(W - rng.uniform(3.4, 4.4)) : undefined;
  const end = east ?? W;
  const bands: PlanRoom[][] = [[], []];
  const walls: WallLine[] = [
    { along: "x", at: ys, from: 0, to: east === undefined ? W : east - h },
    { along: "x", at: yn, from: 0, to: east === undefined ? W : east - h },
  ];
  // Each band: 1-3 rooms side by side, dividers at jittered even splits.
  for (const [b, y0, y1] of [[0, 0, ys - h], [1, yn + h, D]] as const) {
    const m = Math.max(1, Math.min(3, Math.round(end / rng.uniform(3.2, 4.6))));
    const cuts = [0];
    for (let k = 1; k < m; k++) cuts.push(round3(end * k / m + rng.uniform(-0.4, 0.4)));
    cuts.push(end);
    for (let k = 0; k < m; k++) {
      const x0 = k === 0 ? 0 : cuts[k] + h;
      const x1 = k === m - 1 ? end - (east === undefined ? 0 : h) : cuts[k + 1] - h;
      bands[b].push({ kind: CORRIDOR_KIND, x0, y0, x1, y1 });
      if (k > 0) walls.push({ along: "y", at: cuts[k], from: y0, to: y1 });
    }
  }
  const corridor: PlanRoom = {
    kind: CORRIDOR_KIND,
    x0: 0,
    y0: ys + h,
    x1: end - (east === undefined ? 0 : h),
    y1: yn - h,
  };
  const big: PlanRoom[] = east === undefined
    ? []
    : [{ kind: CORRIDOR_KIND, x0: east + h, y0: 0, x1: W, y1: D }];
  if (east !== undefined) walls.push({ along: "y", at: east, from: 0, to: D });
  const living = [...bands[0], ...bands[1], ...big];
  // Kinds by size: the largest is the living room, the smallest (of 3 or more) the bathroom.
  const byKind = (name: string) => ROOM_KINDS.find((k) => k.name === name)!;
  const bySize = [...living].sort((a, b) => area(b) - area(a));
  const others = ["kitchen", "bedroom", "office", "bedroom", "office", "bedroom"];
  bySize.forEach((r, i) => {
    if (i === 0) r.kind = byKind("living room");
    else if (i === bySize.length - 1 && bySize.length >= 3) r.kind = byKind("bathroom");
    else r.kind = byKind(others[i - 1]);
  });
  const rooms = [corridor, ...living];
  const doorways: SynthDoorway[] = [];
  const door = (a: PlanRoom, b: PlanRoom, along: "x" | "y", at: number, lo: number, hi: number) => {
    const wide = a.kind.name === "living room" || b.kind.name === "living room";
    const width = round3(
      Math.min(hi - lo - 0.5, wide ? rng.uniform(1.2, 1.8) : rng.uniform(0.9, 1.05)),
    );
    if (width < 0.9) return;
    const mid = round3(rng.uniform(lo + width / 2 + 0.25, hi - width / 2 - 0.25));
    doorways.push({
      rooms: [rooms.indexOf(a), rooms.indexOf(b)],
      center: along === "x" ? [mid, at] : [at, mid],
      width,
      height: round3(rng.uniform(2.02, 2.12)),
      along,
    });
  };
  for (const r of bands[0]) door(corridor, r, "x", ys, r.x0, r.x1);
  for (const r of bands[1]) door(corridor, r, "x", yn, r.x0, r.x1);
  if (east !== undefined) {
    // The corridor's end opens into the big room, nearly its full width.
    const width = round3(Math.min(c - 0.1, rng.uniform(1.0, 1.4)));
    doorways.push({
      rooms: [0, rooms.indexOf(big[0])],
      center: [east, round3((ys + yn) / 2)],
      width,
      height: round3(rng.uniform(2.02, 2.12)),
      along: "y",
    });
    for (const band of bands) {
      const last = band[band.length - 1];
      if (rng.chance(0.3)) door(last, big[0], "y", east, last.y0, last.y1);
    }
  }
  for (const band of bands) {
    for (let k = 1; k < band.length; k++) {
      if (rng.chance(0.35)) door(band[k - 1], band[k], "y", band[k].x0 - h, band[k].y0, band[k].y1);
    }
  }
  return {
    width: W,
    depth: D,
    rooms: rooms.map((r) => ({
      kind: r.kind,
      polygon: [[r.x0, r.y0], [r.x1, r.y0], [r.x1, r.y1], [r.x0, r.y1]],
      // Edges in polygon order: south, east, north, west.
      exterior: [r.y0 === 0, r.x1 === W, r.y1 === D, r.x0 === 0],
    })),
    walls,
    doorways,
  };
}

function area(r: PlanRoom): number {
  return (r.x1 - r.x0) * (r.y1 - r.y0);
}

/**
 * The solid pieces of each wall line between its doorways, and a lintel over each doorway up
 * to the ceiling.
 */
function wallParts(plan: ApartmentPlan, height: number): SynthWall[] {
  const T = WALL_THICKNESS;
  return plan.walls.map((w) => {
    const gaps = plan.doorways
      .filter((d) =>
        d.along === w.along && Math.abs((w.along === "x" ? d.center[1] : d.center[0]) - w.at) < 1e-9
      )
      .map((d) => {
        const mid = w.along === "x" ? d.center[0] : d.center[1];
        return { lo: mid - d.width / 2, hi: mid + d.width / 2, top: d.height };
      })
      .filter((g) => g.hi > w.from && g.lo < w.to)
      .sort((a, b) => a.lo - b.lo);
    const box = (lo: number, hi: number, z0: number, z1: number): YawBox => {
      const m = (lo + hi) / 2, len = hi - lo;
      return {
        center: w.along === "x" ? [m, w.at, (z0 + z1) / 2] : [w.at, m, (z0 + z1) / 2],
        size: w.along === "x" ? [len, T, z1 - z0] : [T, len, z1 - z0],
        yaw: 0,
      };
    };
    const parts: YawBox[] = [];
    let at = w.from;
    for (const g of gaps) {
      if (g.lo > at + 1e-9) parts.push(box(at, g.lo, 0, height));
      parts.push(box(g.lo, g.hi, g.top, height));
      at = g.hi;
    }
    if (w.to > at + 1e-9) parts.push(box(at, w.to, 0, height));
    return { parts };
  });
}

/**
 * Generates an apartment with furniture and a camera walk from `rng`.
 *
 * @example
 * ```ts
 * import { Rng } from "../../geometry/rng.ts";
 * const a = generateApartment(new Rng("doc"));
 * if (a.room.kind !== "apartment" || a.rooms.length < 3 || a.doorways.length < 2) throw new Error();
 * ```
 */
export function generateApartment(rng: Rng): SynthLayout {
  const plan = planApartment(rng.child("plan"));
  const look = rng.child("look");
  const height = round3(look.uniform(2.5, 2.9));
  const colors = {
    wall: look.pick(ROOM_COLORS.wall),
    ceiling: look.pick(ROOM_COLORS.ceiling),
  };
  const rooms: SynthRoomPart[] = plan.rooms.map((r) => ({
    kind: r.kind.name,
    polygon: r.polygon,
    floorArea: polygonArea(r.polygon),
    floorMaterial: look.pick(["wood", "ceramic"] as Material[]),
    floorColor: look.pick(ROOM_COLORS.floor),
  }));
  const walls = wallParts(plan, height);
  // Across each doorway: nothing hangs or stands in it, nothing stands in front of it.
  const openings: YawBox[] = plan.doorways.map((d) => ({
    center: [d.center[0], d.center[1], height / 2],
    size: d.along === "x"
      ? [d.width + 0.1, WALL_THICKNESS + 0.3, height]
      : [WALL_THICKNESS + 0.3, d.width + 0.1, height],
    yaw: 0,
  }));
  const all: SynthObject[] = [];
  const placers = plan.rooms.map((r) =>
    new Placer({ polygon: r.polygon, height }, { all, exterior: r.exterior, openings })
  );
  for (const d of plan.doorways) {
    const front: YawBox = {
      center: [d.center[0], d.center[1], 1],
      size: d.along === "x" ? [d.width + 0.3, 2.1, 2] : [2.1, d.width + 0.3, 2],
      yaw: 0,
    };
    for (const i of d.rooms) placers[i].keepOut.push(front);
  }

  const items = rng.child("contents");
  const open = rng.child("openings");
  // Optional things already in another room are mostly left out: a category that occurs once
  // can name a place on a route (several chairs cannot), and apartments keep enough of those.
  const seen = new Set<string>();
  const counts = plan.rooms.map((r) =>
    [...r.kind.contents, ...(APARTMENT_EXTRAS[r.kind.name] ?? [])].map(
      ([variant, count]: [string, Count]) => {
        let n = items.int(...count);
        const category = CATALOG[variant].name;
        if (count[0] === 0 && seen.has(category) && items.chance(REPEAT_DROP)) n = 0;
        if (n > 0) seen.add(category);
        return [variant, n] as const;
      },
    )
  );
  plan.rooms.forEach((r, i) => {
    // The way in is the corridor's outside door; rooms have windows on outside walls.
    if (i === 0) placers[i].place("door", open);
    for (let k = i === 0 ? 0 : open.int(...r.kind.windows); k > 0; k--) {
      placers[i].place("window", open);
    }
  });
  const phase = (v: string) => {
    const p = CATALOG[v].placement;
    return p === "wall" || p === "mount" ? 0 : p === "floor" || p === "near" ? 1 : 2;
  };
  const placePhase = (n: number) =>
    counts.forEach((list, i) => {
      for (const [variant, k] of list) {
        if (phase(variant) === n) { for (let j = 0; j < k; j++) placers[i].place(variant, items); }
      }
    });
  placePhase(0);
  const obstacles = [
    ...placers.flatMap((p) => p.floorFootprints()),
    ...walls.flatMap((w) =>
      w.parts.filter((b) => b.center[2] - b.size[2] / 2 < 1).map(yawBoxFootprint)
    ),
  ];
  const outline: Polygon = [[0, 0], [plan.width, 0], [plan.width, plan.depth], [0, plan.depth]];
  const walk = planApartmentWalk(
    outline,
    rooms.map((r, i) => ({ polygon: r.polygon, visit: i > 0 })),
    obstacles,
    rng.child("walk"),
  );
  for (const p of placers) p.keepOutPath = walk.loop;
  placePhase(1);
  placePhase(2);
  return {
    room: {
      kind: "apartment",
      shape: "rectangle",
      polygon: outline,
      height,
      floorArea: polygonArea(outline),
      floorMaterial: rooms[0].floorMaterial,
      colors: { floor: rooms[0].floorColor, ...colors },
    },
    rooms,
    doorways: plan.doorways,
    walls,
    objects: all,
    walk,
  };
}
