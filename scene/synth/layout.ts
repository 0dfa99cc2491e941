/**
 * Procedural room layouts: a floor plan, doors and windows, furniture placed without
 * interpenetration, and a hand-held camera walk through the free space. Everything is in the
 * aligned (world) frame: z up, metres, walls parallel to the axes.
 *
 * Placement order matters and mirrors how rooms are furnished: wall openings, then furniture
 * against walls, then the walk is planned through what is left, then free-standing furniture
 * (kept off the walk), then small items on tables, beds and shelves.
 *
 * @module
 */

import {
  enclosingYawBox,
  type YawBox,
  yawBoxesOverlap,
  yawBoxFootprint,
} from "../../geometry/box.ts";
import {
  convexInside,
  pointInPolygon,
  pointSegmentDistance,
  type Polygon,
  polygonArea,
  segmentsCross,
  type Vec2,
} from "../../geometry/polygon.ts";
import type { Rng } from "../../geometry/rng.ts";
import type { Vec3 } from "../../geometry/vec.ts";
import {
  CATALOG,
  type CategorySpec,
  type Material,
  ROOM_COLORS,
  ROOM_KINDS,
  type RoomKind,
} from "./catalog.ts";
import { planWalk, type Walk } from "./walk.ts";

/** A placed object. `instanceId` is its ScanNet `objectId`. */
export interface SynthObject {
  instanceId: number;
  category: string;
  /** Catalogue entry it was built from (`lamp/table`, `sink/counter`, ...). */
  variant: string;
  /** The oriented box of all parts: centre, full extents (x = width, y = depth), yaw. */
  box: YawBox;
  parts: YawBox[];
  partShades: number[];
  color: Vec3;
  material: Material;
  /** Where things can stand on it, in world coordinates. */
  surfaces: { center: Vec3; size: [number, number]; yaw: number }[];
  /** The instance it stands on, for items placed on furniture. */
  supportId?: number;
}

/** The room: a counter-clockwise floor polygon at z = 0, walls up to `height`. */
export interface SynthRoom {
  kind: string;
  shape: "rectangle" | "L";
  polygon: Polygon;
  height: number;
  floorArea: number;
  floorMaterial: Material;
  colors: { floor: Vec3; wall: Vec3; ceiling: Vec3 };
}

/** One room of a scene (a single-room scene has one): its floor polygon and floor look. */
export interface SynthRoomPart {
  kind: string;
  /** Counter-clockwise, inside the walls. */
  polygon: Polygon;
  floorArea: number;
  floorMaterial: Material;
  floorColor: Vec3;
}

/** An opening in an interior wall between two rooms (indices into `SynthLayout.rooms`). */
export interface SynthDoorway {
  rooms: [number, number];
  /** Its middle, on the wall's centre line. */
  center: Vec2;
  width: number;
  /** Height of the opening (a lintel above it up to the ceiling). */
  height: number;
  /** The direction the wall runs: `x` joins rooms south and north of it, `y` west and east. */
  along: "x" | "y";
}

/** An interior wall: its solid pieces between doorways and the lintels above them. */
export interface SynthWall {
  parts: YawBox[];
}

/** A whole synthetic scene before rendering. */
export interface SynthLayout {
  /** The whole scene: for an apartment (`kind` "apartment") its outline and total floor. */
  room: SynthRoom;
  /** Its rooms (one for a single room), corridor included. */
  rooms: SynthRoomPart[];
  doorways: SynthDoorway[];
  walls: SynthWall[];
  objects: SynthObject[];
  walk: Walk;
}

/** Objects standing on the floor keep this much space (m) to each other. */
const FLOOR_CLEARANCE = 0.03;
/** Free-standing objects keep this far (m) from the camera walk. */
const WALK_KEEP_OUT = 0.45;

/**
 * Generates a room with furniture and a camera walk from `rng`.
 *
 * @example
 * ```ts
 * import { Rng } from "../../geometry/rng.ts";
 * const layout = generateLayout(new Rng("doc"));
 * if (layout.objects.length < 3 || layout.room.floorArea <= 0) throw new Error();
 * ```
 */
export function generateLayout(rng: Rng): SynthLayout {
  const kind = rng.pick(ROOM_KINDS);
  const room = makeRoom(rng.child("room"), kind);
  const placer = new Placer(room);

  const open = rng.child("openings");
  for (let i = open.int(...kind.doors); i > 0; i--) placer.place("door", open);
  for (let i = open.int(...kind.windows); i > 0; i--) placer.place("window", open);

  const items = rng.child("contents");
  const counts = kind.contents.map(([variant, count]) => [variant, items.int(...count)] as const);
  const phase = (v: string) => {
    const p = CATALOG[v].placement;
    return p === "wall" || p === "mount" ? 0 : p === "floor" || p === "near" ? 1 : 2;
  };
  for (const [variant, n] of counts) {
    if (phase(variant) === 0) { for (let i = 0; i < n; i++) placer.place(variant, items); }
  }
  const walk = planWalk(room.polygon, placer.floorFootprints(), rng.child("walk"));
  placer.keepOutPath = walk.loop;
  for (const [variant, n] of counts) {
    if (phase(variant) === 1) { for (let i = 0; i < n; i++) placer.place(variant, items); }
  }
  for (const [variant, n] of counts) {
    if (phase(variant) === 2) { for (let i = 0; i < n; i++) placer.place(variant, items); }
  }
  return {
    room,
    rooms: [{
      kind: room.kind,
      polygon: room.polygon,
      floorArea: room.floorArea,
      floorMaterial: room.floorMaterial,
      floorColor: room.colors.floor,
    }],
    doorways: [],
    walls: [],
    objects: placer.objects,
    walk,
  };
}

function makeRoom(rng: Rng, kind: RoomKind): SynthRoom {
  const w = round3(rng.uniform(...kind.side)), d = round3(rng.uniform(...kind.side));
  let polygon: Polygon = [[0, 0], [w, 0], [w, d], [0, d]];
  let shape: SynthRoom["shape"] = "rectangle";
  if (Math.min(w, d) >= 4.5 && rng.chance(0.4)) {
    shape = "L";
    const nx = round3(w * rng.uniform(0.3, 0.5)), ny = round3(d * rng.uniform(0.3, 0.5));
    polygon = [[0, 0], [w, 0], [w, d - ny], [w - nx, d - ny], [w - nx, d], [0, d]];
    // Put the notch in a random corner: mirror, then restore counter-clockwise order.
    const mx = rng.chance(0.5), my = rng.chance(0.5);
    polygon = polygon.map(([x, y]): Vec2 => [mx ? w - x : x, my ? d - y : y]);
    if (mx !== my) polygon.reverse();
    // Start at the lowest-left vertex so the order is canonical.
    let k = 0;
    for (let i = 1; i < polygon.length; i++) {
      const [x, y] = polygon[i], [bx, by] = polygon[k];
      if (y < by || (y === by && x < bx)) k = i;
    }
    polygon = [...polygon.slice(k), ...polygon.slice(0, k)];
  }
  return {
    kind: kind.name,
    shape,
    polygon,
    height: round3(rng.uniform(2.4, 3.0)),
    floorArea: polygonArea(polygon),
    floorMaterial: rng.pick(["wood", "ceramic"] as Material[]),
    colors: {
      floor: rng.pick(ROOM_COLORS.floor),
      wall: rng.pick(ROOM_COLORS.wall),
      ceiling: rng.pick(ROOM_COLORS.ceiling),
    },
  };
}

/** Dimensions to the millimetre keep ground-truth files readable. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

interface Wall {
  a: Vec2;
  b: Vec2;
  length: number;
  dir: Vec2;
  normal: Vec2;
}

/** A candidate before it is accepted: its world parts and overall box. */
interface Candidate {
  box: YawBox;
  parts: YawBox[];
  surfaces: SynthObject["surfaces"];
  supportId?: number;
}

/** Where a {@link Placer} works beyond its room: the scene's other rooms share ids with it. */
export interface PlacerScene {
  /** Every object of the scene so far: ids count on from its length. */
  all: SynthObject[];
  /** Per edge of the room polygon: whether it is an outside wall (doors and windows go there). */
  exterior?: boolean[];
  /** Doorways in the walls: nothing may stand or hang across them. */
  openings?: YawBox[];
}

/** Places catalogue objects one at a time, rejecting any that would collide. */
export class Placer {
  /** The objects of this room. */
  readonly objects: SynthObject[] = [];
  /** Floor areas that must stay clear: in front of doors. */
  readonly keepOut: YawBox[] = [];
  /** The camera walk, once planned: free-standing objects keep off it. */
  keepOutPath: Vec2[] = [];
  readonly walls: Wall[];
  readonly #scene: PlacerScene;

  constructor(readonly room: Pick<SynthRoom, "polygon" | "height">, scene?: PlacerScene) {
    this.#scene = scene ?? { all: this.objects };
    const p = room.polygon;
    this.walls = p.map((a, i) => {
      const b = p[(i + 1) % p.length];
      const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
      const dir: Vec2 = [(b[0] - a[0]) / length, (b[1] - a[1]) / length];
      return { a, b, length, dir, normal: [-dir[1], dir[0]] };
    });
  }

  /** Footprints of everything standing on the floor (for the walk planner). */
  floorFootprints(): Vec2[][] {
    const out: Vec2[][] = [];
    for (const o of this.objects) {
      // Windows, clocks and high mirrors hang above the floor: nothing to walk around.
      if (o.box.center[2] - o.box.size[2] / 2 > 1.0) continue;
      out.push(yawBoxFootprint(o.box));
    }
    return out;
  }

  /** Tries to place one `variant`; returns whether it found room. */
  place(variant: string, rng: Rng): boolean {
    const spec = CATALOG[variant];
    const w = round3(rng.uniform(...spec.width));
    const d = round3(rng.uniform(...spec.depth));
    const h = round3(rng.uniform(...spec.height));
    const built = spec.build?.(w, d, h, rng) ??
      { parts: [{ center: [0, 0, h / 2] as Vec3, size: [w, d, h] as Vec3 }], surfaces: [] };
    if (!spec.build && spec.topSurface) {
      built.surfaces.push({
        center: [0, 0, h],
        size: [Math.max(0.05, w - 0.06), Math.max(0.05, d - 0.06)],
      });
    }
    const local = enclosingYawBox(built.parts.map((q) => ({ ...q, yaw: 0 })), 0);
    const mountZ = spec.mountZ ? round3(rng.uniform(...spec.mountZ)) : 0;

    for (let attempt = 0; attempt < 60; attempt++) {
      const pose = this.#propose(spec, local, mountZ, rng);
      if (!pose) continue;
      const cand = instantiate(built, local, pose);
      cand.supportId = pose.supportId;
      if (!this.#fits(spec, cand)) continue;
      const obj: SynthObject = {
        instanceId: this.#scene.all.length,
        category: spec.name,
        variant,
        box: cand.box,
        parts: cand.parts,
        partShades: built.parts.map((q) => q.shade ?? 1),
        color: vary(rng.pick(spec.colors), rng),
        material: spec.material,
        surfaces: cand.surfaces,
        ...(cand.supportId === undefined ? {} : { supportId: cand.supportId }),
      };
      this.objects.push(obj);
      if (this.#scene.all !== this.objects) this.#scene.all.push(obj);
      if (spec.placement === "door") {
        // Keep the door's swing free: 1 m deep, a little wider than the door.
        const n: Vec2 = [-Math.sin(obj.box.yaw), Math.cos(obj.box.yaw)];
        const off = obj.box.size[1] / 2 + 0.5;
        this.keepOut.push({
          center: [obj.box.center[0] + n[0] * off, obj.box.center[1] + n[1] * off, 1],
          size: [obj.box.size[0] + 0.3, 1.0, 2],
          yaw: obj.box.yaw,
        });
      }
      return true;
    }
    return false;
  }

  /** A random pose for `spec`: where its local enclosing box goes. */
  #propose(
    spec: CategorySpec,
    local: YawBox,
    mountZ: number,
    rng: Rng,
  ): { x: number; y: number; z: number; yaw: number; supportId?: number } | undefined {
    const w = local.size[0], d = local.size[1];
    switch (spec.placement) {
      case "wall":
      case "mount":
      case "door": {
        // Doors and windows open to the outside; anything else may use inner walls too.
        const exterior = this.#scene.exterior;
        const walls = exterior && (spec.placement === "door" || spec.name === "window")
          ? this.walls.filter((_, i) => exterior[i])
          : this.walls;
        if (walls.length === 0) return undefined;
        const wall = rng.pickWeighted(walls, walls.map((q) => q.length));
        const margin = spec.placement === "door" ? 0.15 : 0.02;
        if (wall.length < w + 2 * margin) return undefined;
        const t = rng.uniform(w / 2 + margin, wall.length - w / 2 - margin);
        const gap = spec.placement === "wall" ? rng.uniform(0.01, 0.05) : 0.002;
        const off = d / 2 + gap;
        return {
          x: wall.a[0] + wall.dir[0] * t + wall.normal[0] * off,
          y: wall.a[1] + wall.dir[1] * t + wall.normal[1] * off,
          z: mountZ,
          yaw: Math.atan2(wall.normal[1], wall.normal[0]) - Math.PI / 2,
        };
      }
      case "floor": {
        const [x, y] = this.#randomFloorPoint(rng);
        // Tables, kitchen islands and free-standing sofas line up with the walls.
        const yaw = spec.name === "table" || spec.name === "counter" || spec.name === "sofa"
          ? rng.int(0, 3) * Math.PI / 2 + rng.uniform(-0.1, 0.1)
          : rng.uniform(-Math.PI, Math.PI);
        return { x, y, z: 0, yaw };
      }
      case "near": {
        const targets = this.objects.filter((o) => spec.targets?.includes(o.category));
        if (targets.length === 0 || rng.chance(0.15)) {
          const [x, y] = this.#randomFloorPoint(rng);
          return { x, y, z: 0, yaw: rng.uniform(-Math.PI, Math.PI) };
        }
        const t = rng.pick(targets);
        // Desks stand against a wall: only their front (+y) is free. Tables: any side.
        const side = t.category === "desk" ? 1 : rng.int(0, 3);
        const along = side < 2 ? t.box.size[0] : t.box.size[1];
        const across = side < 2 ? t.box.size[1] : t.box.size[0];
        // Outward normal of the chosen side in world coordinates.
        const local: Vec2 = [[0, -1], [0, 1], [1, 0], [-1, 0]][side] as Vec2;
        const c = Math.cos(t.box.yaw), s = Math.sin(t.box.yaw);
        const n: Vec2 = [c * local[0] - s * local[1], s * local[0] + c * local[1]];
        const tangent: Vec2 = [-n[1], n[0]];
        const slide = rng.uniform(-0.5, 0.5) * Math.max(0, along - w);
        const dist = across / 2 + d / 2 + rng.uniform(0.03, 0.2);
        return {
          x: t.box.center[0] + n[0] * dist + tangent[0] * slide,
          y: t.box.center[1] + n[1] * dist + tangent[1] * slide,
          z: 0,
          // Face the table: the chair's front (+y) points against the side normal.
          yaw: Math.atan2(-n[1], -n[0]) - Math.PI / 2 + rng.uniform(-0.15, 0.15),
        };
      }
      case "on": {
        const supports = this.objects.filter((o) =>
          spec.targets?.includes(o.category) && o.surfaces.length > 0
        );
        if (supports.length === 0) return undefined;
        const sup = rng.pick(supports);
        const surf = rng.pick(sup.surfaces);
        const turn = spec.name === "pillow" || spec.name === "lamp" || spec.name === "plant"
          ? rng.uniform(-0.4, 0.4)
          : rng.uniform(-0.08, 0.08);
        const yaw = surf.yaw + turn;
        // Room left on the surface once the item's footprint (turned) is accounted for.
        const ext = rotatedExtent(w, d, turn);
        const fx = (surf.size[0] - ext[0]) / 2, fy = (surf.size[1] - ext[1]) / 2;
        if (fx < 0 || fy < 0) return undefined;
        const lx = rng.uniform(-fx, fx), ly = rng.uniform(-fy, fy);
        const c = Math.cos(surf.yaw), s = Math.sin(surf.yaw);
        return {
          x: surf.center[0] + c * lx - s * ly,
          y: surf.center[1] + s * lx + c * ly,
          z: surf.center[2],
          yaw,
          supportId: sup.instanceId,
        };
      }
    }
  }

  #randomFloorPoint(rng: Rng): Vec2 {
    const p = this.room.polygon;
    const xs = p.map((q) => q[0]), ys = p.map((q) => q[1]);
    for (;;) {
      const q: Vec2 = [
        rng.uniform(Math.min(...xs), Math.max(...xs)),
        rng.uniform(Math.min(...ys), Math.max(...ys)),
      ];
      if (pointInPolygon(q, p)) return q;
    }
  }

  /** Inside the room, clear of other objects, doors' swing and the camera walk. */
  #fits(spec: CategorySpec, cand: Candidate): boolean {
    const footprint = yawBoxFootprint(cand.box);
    const standing = spec.placement === "wall" || spec.placement === "floor" ||
      spec.placement === "near";
    const margin = spec.placement === "floor" || spec.placement === "near" ? 0.05 : 0;
    if (!convexInside(footprint, this.room.polygon, margin)) return false;
    if (cand.box.center[2] + cand.box.size[2] / 2 > this.room.height - 0.05) return false;
    const inflate = standing ? FLOOR_CLEARANCE : 0.005;
    const grown = cand.parts.map((q) => ({
      ...q,
      size: [q.size[0] + 2 * inflate, q.size[1] + 2 * inflate, q.size[2]] as Vec3,
    }));
    for (const o of this.#scene.openings ?? []) if (yawBoxesOverlap(o, cand.box)) return false;
    for (const o of this.objects) {
      if (!yawBoxesOverlap(inflateBox(o.box, inflate + 0.01), cand.box)) continue;
      for (const a of o.parts) for (const b of grown) if (yawBoxesOverlap(a, b)) return false;
    }
    if (standing) {
      for (const k of this.keepOut) if (yawBoxesOverlap(k, cand.box)) return false;
      if (
        (spec.placement === "floor" || spec.placement === "near") &&
        polylineClearance(footprint, this.keepOutPath) < WALK_KEEP_OUT
      ) return false;
    }
    return true;
  }
}

function inflateBox(b: YawBox, by: number): YawBox {
  return { ...b, size: [b.size[0] + 2 * by, b.size[1] + 2 * by, b.size[2] + 2 * by] };
}

function rotatedExtent(w: number, d: number, yaw: number): Vec2 {
  const c = Math.abs(Math.cos(yaw)), s = Math.abs(Math.sin(yaw));
  return [w * c + d * s, w * s + d * c];
}

function vary(c: Vec3, rng: Rng): Vec3 {
  const k = rng.uniform(0.88, 1.12);
  return c.map((v) => Math.max(0, Math.min(255, Math.round(v * k + rng.uniform(-6, 6))))) as Vec3;
}

/** Moves the built shape so its local enclosing box lands at `pose`. */
function instantiate(
  built: {
    parts: { center: Vec3; size: Vec3 }[];
    surfaces: { center: Vec3; size: [number, number] }[];
  },
  local: YawBox,
  pose: { x: number; y: number; z: number; yaw: number },
): Candidate {
  const c = Math.cos(pose.yaw), s = Math.sin(pose.yaw);
  // `pose` places the enclosing box's bottom centre; local coordinates are relative to it.
  const ox = local.center[0], oy = local.center[1], oz = local.center[2] - local.size[2] / 2;
  const toWorld = (p: Vec3): Vec3 => {
    const lx = p[0] - ox, ly = p[1] - oy;
    return [pose.x + c * lx - s * ly, pose.y + s * lx + c * ly, pose.z + p[2] - oz];
  };
  return {
    box: {
      center: [pose.x, pose.y, pose.z + local.size[2] / 2],
      size: [local.size[0], local.size[1], local.size[2]],
      yaw: pose.yaw,
    },
    parts: built.parts.map((q) => ({ center: toWorld(q.center), size: q.size, yaw: pose.yaw })),
    surfaces: built.surfaces.map((q) => ({
      center: toWorld(q.center),
      size: q.size,
      yaw: pose.yaw,
    })),
  };
}

/** Smallest distance from a convex footprint to a polyline (0 when they touch). */
function polylineClearance(footprint: Vec2[], path: readonly Vec2[]): number {
  if (path.length === 0) return Infinity;
  let best = Infinity;
  for (let i = 0; i < path.length; i++) {
    const a = path[i], b = path[Math.min(i + 1, path.length - 1)];
    if (pointInPolygon(a, footprint)) return 0;
    for (let j = 0; j < footprint.length; j++) {
      const p = footprint[j], q = footprint[(j + 1) % footprint.length];
      if (segmentsCross(a, b, p, q)) return 0;
      best = Math.min(best, pointSegmentDistance(p, a, b), pointSegmentDistance(a, p, q));
    }
  }
  return best;
}
