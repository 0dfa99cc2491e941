/**
 * The furniture catalogue of synthetic scenes: ScanNet category names, realistic size ranges,
 * where each kind of object goes, and how it is built from boxes.
 *
 * Object frame: origin at the centre of the footprint on the floor (or on the supporting
 * surface), x = width, y = depth with the front facing +y, z up. Sizes are metres; ranges are
 * typical retail furniture dimensions.
 *
 * @module
 */

import type { Rng } from "../../geometry/rng.ts";
import type { Vec3 } from "../../geometry/vec.ts";

/** One box of an object, in the object frame (yaw 0); `shade` darkens or lightens its colour. */
export interface PartSpec {
  center: Vec3;
  size: Vec3;
  shade?: number;
}

/** A horizontal surface other objects can stand on: its centre (top) and extents. */
export interface SurfaceSpec {
  center: Vec3;
  size: [number, number];
}

/** An object's boxes and its supporting surfaces. */
export interface Shape {
  parts: PartSpec[];
  surfaces: SurfaceSpec[];
}

/**
 * Where an object goes:
 * - `wall`: standing on the floor with its back to a wall;
 * - `floor`: standing on the floor anywhere;
 * - `near`: on the floor facing one of `near` (chairs at tables and desks);
 * - `on`: standing on the surface of one of `on`;
 * - `mount`: hanging on a wall at `mountZ` (bottom height range);
 * - `door`: in a wall at floor level, with free floor in front of it.
 */
export type Placement = "wall" | "floor" | "near" | "on" | "mount" | "door";

/** A kind of object. `name` is the ScanNet category written to the annotation. */
export interface CategorySpec {
  name: string;
  placement: Placement;
  width: [number, number];
  depth: [number, number];
  height: [number, number];
  /** Bottom height range for `mount`. */
  mountZ?: [number, number];
  /** Supporting categories for `on`, facing categories for `near`. */
  targets?: string[];
  /** Base colours (sRGB 0-255); an instance picks one and varies it. */
  colors: Vec3[];
  /** Surface pattern used by the shader. */
  material: Material;
  /** Builds the boxes; omitted for single-box objects. */
  build?: (w: number, d: number, h: number, rng: Rng) => Shape;
  /** Single-box objects that carry things: expose their top. */
  topSurface?: boolean;
}

/** Procedural surface patterns (see `render.ts`). */
export type Material =
  | "wood"
  | "fabric"
  | "metal"
  | "plastic"
  | "ceramic"
  | "plant"
  | "paint"
  | "glass";

const WOODS: Vec3[] = [[142, 102, 64], [171, 130, 88], [98, 70, 46], [196, 170, 130]];
const WHITES: Vec3[] = [[225, 225, 220], [240, 238, 232], [205, 210, 214]];
const DARKS: Vec3[] = [[40, 40, 44], [60, 60, 66], [28, 30, 34]];
const FABRICS: Vec3[] = [[120, 60, 50], [70, 90, 120], [150, 140, 120], [90, 110, 80], [
  180,
  160,
  140,
]];

/** A box standing on z = 0 at local (x, y). */
function box(
  x: number,
  y: number,
  z0: number,
  w: number,
  d: number,
  h: number,
  shade?: number,
): PartSpec {
  return { center: [x, y, z0 + h / 2], size: [w, d, h], shade };
}

function top(w: number, d: number, h: number, inset = 0.05): SurfaceSpec {
  return {
    center: [0, 0, h],
    size: [Math.max(0.05, w - 2 * inset), Math.max(0.05, d - 2 * inset)],
  };
}

function fourLegs(w: number, d: number, h: number, t: number, inset: number): PartSpec[] {
  const x = w / 2 - inset - t / 2, y = d / 2 - inset - t / 2;
  return [[-x, -y], [x, -y], [x, y], [-x, y]].map(([px, py]) => box(px, py, 0, t, t, h, 0.8));
}

/** Every kind of object synthetic scenes use, keyed by a variant id. */
export const CATALOG: Record<string, CategorySpec> = {
  door: {
    name: "door",
    placement: "door",
    width: [0.8, 1.0],
    depth: [0.04, 0.06],
    height: [2.0, 2.1],
    colors: [...WOODS, ...WHITES],
    material: "wood",
  },
  window: {
    name: "window",
    placement: "mount",
    width: [0.8, 1.6],
    depth: [0.06, 0.12],
    height: [1.0, 1.4],
    mountZ: [0.8, 1.0],
    colors: [[170, 200, 225], [150, 185, 215]],
    material: "glass",
  },
  bed: {
    name: "bed",
    placement: "wall",
    width: [0.9, 1.8],
    depth: [1.9, 2.2],
    height: [0.9, 1.2],
    colors: FABRICS,
    material: "fabric",
    build: (w, d, h, rng) => {
      const hm = rng.uniform(0.45, 0.6), hb = 0.06;
      return {
        parts: [box(0, hb / 2, 0, w, d - hb, hm), box(0, -d / 2 + hb / 2, 0, w, hb, h, 0.7)],
        surfaces: [{ center: [0, hb / 2 + 0.1, hm], size: [w - 0.2, d - hb - 0.4] }],
      };
    },
  },
  nightstand: {
    name: "nightstand",
    placement: "wall",
    width: [0.4, 0.6],
    depth: [0.35, 0.5],
    height: [0.45, 0.65],
    colors: WOODS,
    material: "wood",
    topSurface: true,
  },
  chair: {
    name: "chair",
    placement: "near",
    targets: ["table", "desk"],
    width: [0.42, 0.55],
    depth: [0.42, 0.55],
    height: [0.78, 1.0],
    colors: [...WOODS, ...DARKS, ...FABRICS],
    material: "wood",
    build: (w, d, h) => {
      const s = 0.46, t = 0.05;
      return {
        parts: [
          ...fourLegs(w, d, s - t, 0.04, 0),
          box(0, 0, s - t, w, d, t),
          box(0, -d / 2 + t / 2, s, w, t, h - s, 0.9),
        ],
        surfaces: [],
      };
    },
  },
  sofa: {
    name: "sofa",
    placement: "wall",
    width: [1.5, 2.4],
    depth: [0.8, 1.0],
    height: [0.75, 0.95],
    colors: FABRICS,
    material: "fabric",
    build: (w, d, h) => {
      const s = 0.45, back = 0.2, arm = 0.15, armH = 0.62;
      const y = back / 2;
      return {
        parts: [
          box(0, y, 0, w - 2 * arm, d - back, s),
          box(0, -d / 2 + back / 2, 0, w, back, h, 0.85),
          box(-w / 2 + arm / 2, y, 0, arm, d - back, armH, 0.9),
          box(w / 2 - arm / 2, y, 0, arm, d - back, armH, 0.9),
        ],
        surfaces: [{ center: [0, y, s], size: [w - 2 * arm - 0.1, d - back - 0.1] }],
      };
    },
  },
  table: {
    name: "table",
    placement: "floor",
    width: [0.8, 1.8],
    depth: [0.6, 1.0],
    height: [0.72, 0.78],
    colors: WOODS,
    material: "wood",
    build: (w, d, h) => ({
      parts: [box(0, 0, h - 0.04, w, d, 0.04), ...fourLegs(w, d, h - 0.04, 0.05, 0.03)],
      surfaces: [top(w, d, h)],
    }),
  },
  desk: {
    name: "desk",
    placement: "wall",
    width: [1.0, 1.6],
    depth: [0.55, 0.8],
    height: [0.72, 0.76],
    colors: [...WOODS, ...WHITES],
    material: "wood",
    build: (w, d, h) => ({
      parts: [
        box(0, 0, h - 0.03, w, d, 0.03),
        box(-w / 2 + 0.015, 0, 0, 0.03, d, h - 0.03, 0.85),
        box(w / 2 - 0.015, 0, 0, 0.03, d, h - 0.03, 0.85),
      ],
      surfaces: [top(w, d, h)],
    }),
  },
  bookshelf: {
    name: "bookshelf",
    placement: "wall",
    width: [0.6, 1.2],
    depth: [0.28, 0.4],
    height: [1.2, 2.1],
    colors: WOODS,
    material: "wood",
    build: (w, d, h) => {
      const t = 0.02, inner = w - 2 * t;
      const parts = [
        box(-w / 2 + t / 2, 0, 0, t, d, h),
        box(w / 2 - t / 2, 0, 0, t, d, h),
        box(0, 0, h - t, inner, d, t),
        box(0, 0, 0, inner, d, 0.08, 0.8),
        box(0, -d / 2 + 0.005, 0.08, inner, 0.01, h - 0.08 - t, 0.7),
      ];
      const shelves = Math.max(1, Math.floor(h / 0.35) - 1);
      for (let i = 1; i <= shelves; i++) {
        parts.push(box(0, 0.005, 0.08 + i * (h - 0.1) / (shelves + 1), inner, d - 0.01, t));
      }
      return { parts, surfaces: [] };
    },
  },
  cabinet: {
    name: "cabinet",
    placement: "wall",
    width: [0.5, 1.2],
    depth: [0.4, 0.6],
    height: [0.7, 1.0],
    colors: [...WOODS, ...WHITES],
    material: "wood",
    topSurface: true,
  },
  closet: {
    name: "closet",
    placement: "wall",
    width: [0.8, 1.6],
    depth: [0.5, 0.6],
    height: [1.8, 2.2],
    colors: [...WOODS, ...WHITES],
    material: "wood",
  },
  counter: {
    name: "counter",
    placement: "wall",
    width: [1.2, 2.4],
    depth: [0.58, 0.65],
    height: [0.88, 0.92],
    colors: [...WHITES, [120, 120, 120]],
    material: "ceramic",
    topSurface: true,
  },
  refrigerator: {
    name: "refrigerator",
    placement: "wall",
    width: [0.6, 0.9],
    depth: [0.6, 0.75],
    height: [1.5, 1.9],
    colors: [...WHITES, [170, 172, 175]],
    material: "metal",
  },
  "washing machine": {
    name: "washing machine",
    placement: "wall",
    width: [0.58, 0.62],
    depth: [0.55, 0.65],
    height: [0.82, 0.88],
    colors: WHITES,
    material: "plastic",
    topSurface: true,
  },
  piano: {
    name: "piano",
    placement: "wall",
    width: [1.4, 1.55],
    depth: [0.55, 0.65],
    height: [1.1, 1.3],
    colors: DARKS,
    material: "wood",
    build: (w, d, h) => {
      const body = 0.3;
      return {
        parts: [
          box(0, -d / 2 + body / 2, 0, w, body, h),
          box(0, body / 2, 0.65, w, d - body, 0.1, 1.2),
          box(-w / 2 + 0.05, d / 2 - 0.05, 0, 0.06, 0.06, 0.65),
          box(w / 2 - 0.05, d / 2 - 0.05, 0, 0.06, 0.06, 0.65),
        ],
        surfaces: [],
      };
    },
  },
  toilet: {
    name: "toilet",
    placement: "wall",
    width: [0.36, 0.45],
    depth: [0.62, 0.75],
    height: [0.7, 0.8],
    colors: WHITES,
    material: "ceramic",
    build: (w, d, h) => ({
      parts: [box(0, 0.1, 0, w, d - 0.2, 0.4), box(0, -d / 2 + 0.1, 0, w, 0.2, h, 0.95)],
      surfaces: [],
    }),
  },
  sink: {
    name: "sink",
    placement: "wall",
    width: [0.45, 0.7],
    depth: [0.4, 0.55],
    height: [0.82, 0.9],
    colors: WHITES,
    material: "ceramic",
    build: (w, d, h) => ({
      parts: [box(0, -d / 2 + 0.15, 0, 0.2, 0.2, h - 0.15, 0.9), box(0, 0, h - 0.15, w, d, 0.15)],
      surfaces: [],
    }),
  },
  "sink/counter": {
    name: "sink",
    placement: "on",
    targets: ["counter"],
    width: [0.45, 0.7],
    depth: [0.38, 0.45],
    height: [0.12, 0.18],
    colors: [[190, 192, 196], ...WHITES],
    material: "metal",
  },
  mirror: {
    name: "mirror",
    placement: "mount",
    width: [0.4, 0.8],
    depth: [0.02, 0.04],
    height: [0.6, 1.0],
    mountZ: [0.9, 1.2],
    colors: [[200, 210, 220]],
    material: "glass",
  },
  clock: {
    name: "clock",
    placement: "mount",
    width: [0.25, 0.35],
    depth: [0.04, 0.06],
    height: [0.25, 0.35],
    mountZ: [1.7, 1.9],
    colors: [...WHITES, ...DARKS],
    material: "plastic",
  },
  radiator: {
    name: "radiator",
    placement: "mount",
    width: [0.6, 1.2],
    depth: [0.08, 0.12],
    height: [0.5, 0.65],
    mountZ: [0.08, 0.15],
    colors: WHITES,
    material: "metal",
  },
  "trash bin": {
    name: "trash bin",
    placement: "floor",
    width: [0.25, 0.4],
    depth: [0.25, 0.4],
    height: [0.3, 0.6],
    colors: [...DARKS, [60, 100, 160], [160, 160, 160]],
    material: "plastic",
  },
  backpack: {
    name: "backpack",
    placement: "floor",
    width: [0.28, 0.35],
    depth: [0.15, 0.25],
    height: [0.38, 0.5],
    colors: [...FABRICS, ...DARKS],
    material: "fabric",
  },
  plant: {
    name: "plant",
    placement: "floor",
    width: [0.35, 0.75],
    depth: [0.35, 0.75],
    height: [0.6, 1.2],
    colors: [[60, 120, 50], [80, 140, 60], [50, 100, 45]],
    material: "plant",
    build: (w, d, h, rng) => {
      const pot = Math.min(w, d) * rng.uniform(0.5, 0.7), ph = Math.min(0.4, h * 0.35);
      return {
        parts: [box(0, 0, 0, pot, pot, ph, 0.6), box(0, 0, ph, w, d, h - ph)],
        surfaces: [],
      };
    },
  },
  "lamp/floor": {
    name: "lamp",
    placement: "wall",
    width: [0.3, 0.45],
    depth: [0.3, 0.45],
    height: [1.4, 1.75],
    colors: [[235, 225, 200], [220, 220, 220]],
    material: "fabric",
    build: lampParts,
  },
  "lamp/table": {
    name: "lamp",
    placement: "on",
    targets: ["nightstand", "desk", "table", "cabinet"],
    width: [0.2, 0.32],
    depth: [0.2, 0.32],
    height: [0.35, 0.6],
    colors: [[235, 225, 200], [220, 220, 220], [200, 170, 120]],
    material: "fabric",
    build: lampParts,
  },
  pillow: {
    name: "pillow",
    placement: "on",
    targets: ["bed", "sofa"],
    width: [0.4, 0.6],
    depth: [0.3, 0.45],
    height: [0.1, 0.18],
    colors: [...FABRICS, ...WHITES],
    material: "fabric",
  },
  tv: {
    name: "tv",
    placement: "on",
    targets: ["cabinet", "table", "counter", "desk"],
    width: [0.9, 1.4],
    depth: [0.2, 0.24],
    height: [0.6, 0.92],
    colors: DARKS,
    material: "plastic",
    build: (w, d, h) => ({
      parts: [
        box(0, 0, 0, 0.4 * w, d, 0.02, 0.8),
        box(0, 0, 0.02, 0.08, 0.05, 0.06, 0.8),
        box(0, 0, 0.08, w, 0.06, h - 0.08),
      ],
      surfaces: [],
    }),
  },
  monitor: {
    name: "monitor",
    placement: "on",
    targets: ["desk", "table"],
    width: [0.5, 0.7],
    depth: [0.16, 0.2],
    height: [0.4, 0.52],
    colors: DARKS,
    material: "plastic",
    build: (w, d, h) => ({
      parts: [
        box(0, 0, 0, 0.22, d, 0.02, 0.8),
        box(0, -0.02, 0.02, 0.05, 0.03, 0.1, 0.8),
        box(0, -0.02, 0.12, w, 0.03, h - 0.12),
      ],
      surfaces: [],
    }),
  },
  keyboard: {
    name: "keyboard",
    placement: "on",
    targets: ["desk"],
    width: [0.4, 0.46],
    depth: [0.12, 0.16],
    height: [0.02, 0.04],
    colors: [...DARKS, ...WHITES],
    material: "plastic",
  },
  printer: {
    name: "printer",
    placement: "on",
    targets: ["desk", "table", "cabinet"],
    width: [0.38, 0.5],
    depth: [0.33, 0.45],
    height: [0.18, 0.3],
    colors: [...WHITES, ...DARKS],
    material: "plastic",
  },
  // Apartments only (never drawn for a single room, whose catalogue stays as it was).
  "counter/island": {
    name: "counter",
    placement: "floor",
    width: [1.2, 2.0],
    depth: [0.8, 1.0],
    height: [0.88, 0.92],
    colors: [...WHITES, [120, 120, 120]],
    material: "ceramic",
    topSurface: true,
  },
  "sofa/island": {
    name: "sofa",
    placement: "floor",
    width: [1.6, 2.2],
    depth: [0.8, 0.95],
    height: [0.75, 0.9],
    colors: FABRICS,
    material: "fabric",
    build: (w, d, h, rng) => CATALOG.sofa.build!(w, d, h, rng),
  },
  oven: {
    name: "oven",
    placement: "wall",
    width: [0.58, 0.62],
    depth: [0.55, 0.62],
    height: [0.85, 0.92],
    colors: [...WHITES, [170, 172, 175], ...DARKS],
    material: "metal",
    topSurface: true,
  },
  guitar: {
    name: "guitar",
    placement: "wall",
    width: [0.36, 0.42],
    depth: [0.1, 0.14],
    height: [0.95, 1.05],
    colors: [[150, 90, 40], [90, 50, 30], [30, 30, 30]],
    material: "wood",
    build: (w, d, h) => ({
      parts: [box(0, 0, 0, w, d, 0.5 * h), box(0, 0, 0.5 * h, 0.06, 0.04, 0.5 * h, 0.6)],
      surfaces: [],
    }),
  },
  fan: {
    name: "fan",
    placement: "floor",
    width: [0.35, 0.45],
    depth: [0.3, 0.4],
    height: [1.0, 1.3],
    colors: [...WHITES, ...DARKS],
    material: "plastic",
    build: (w, d, h) => ({
      parts: [
        box(0, 0, 0, w * 0.8, d * 0.8, 0.04, 0.8),
        box(0, 0, 0.04, 0.04, 0.04, h - 0.4),
        box(0, 0, h - 0.4, w, d * 0.4, 0.4),
      ],
      surfaces: [],
    }),
  },
  towel: {
    name: "towel",
    placement: "mount",
    width: [0.4, 0.6],
    depth: [0.04, 0.06],
    height: [0.6, 0.8],
    mountZ: [0.8, 1.1],
    colors: [...WHITES, [120, 160, 200], [200, 120, 120]],
    material: "fabric",
  },
  telephone: {
    name: "telephone",
    placement: "on",
    targets: ["table", "desk", "cabinet", "nightstand", "counter"],
    width: [0.18, 0.24],
    depth: [0.16, 0.22],
    height: [0.08, 0.12],
    colors: [...DARKS, ...WHITES],
    material: "plastic",
  },
  bicycle: {
    name: "bicycle",
    placement: "wall",
    width: [1.5, 1.8],
    depth: [0.4, 0.55],
    height: [0.9, 1.1],
    colors: [[180, 40, 40], [40, 80, 160], ...DARKS],
    material: "metal",
    build: (w, d, h) => {
      const r = Math.min(0.35, h * 0.35);
      return {
        parts: [
          box(-w / 2 + r, 0, 0, 2 * r, 0.04, 2 * r, 0.5),
          box(w / 2 - r, 0, 0, 2 * r, 0.04, 2 * r, 0.5),
          box(0, 0, r, w - 2 * r, 0.05, 0.05),
          box(0, 0, r, 0.05, 0.05, h - r - 0.05),
          box(-w / 2 + r, 0, h - 0.05, 0.1, d, 0.05, 0.7),
        ],
        surfaces: [],
      };
    },
  },
  microwave: {
    name: "microwave",
    placement: "on",
    targets: ["counter", "table", "cabinet"],
    width: [0.44, 0.55],
    depth: [0.33, 0.42],
    height: [0.25, 0.32],
    colors: [...WHITES, ...DARKS, [170, 172, 175]],
    material: "metal",
  },
};

function lampParts(w: number, d: number, h: number): Shape {
  const shade = Math.min(0.2, h * 0.3);
  return {
    parts: [
      box(0, 0, 0, Math.min(w, d) * 0.5, Math.min(w, d) * 0.5, 0.03, 0.5),
      box(0, 0, 0.03, 0.025, 0.025, h - 0.03 - shade, 0.5),
      box(0, 0, h - shade, w, d, shade),
    ],
    surfaces: [],
  };
}

/** How many of a catalogue entry a room gets: an inclusive range. */
export type Count = [number, number];

/** A kind of room: its size range and what it holds, in placement order. */
export interface RoomKind {
  name: string;
  side: [number, number];
  windows: Count;
  doors: Count;
  contents: [variant: string, count: Count][];
}

/** Room kinds; contents are placed in order, big wall pieces first, small items last. */
export const ROOM_KINDS: RoomKind[] = [
  {
    name: "bedroom",
    side: [3.2, 6.5],
    windows: [1, 2],
    doors: [1, 1],
    contents: [
      ["bed", [1, 1]],
      ["closet", [0, 1]],
      ["nightstand", [1, 2]],
      ["desk", [0, 1]],
      ["cabinet", [0, 1]],
      ["bookshelf", [0, 1]],
      ["mirror", [0, 1]],
      ["radiator", [0, 1]],
      ["clock", [0, 1]],
      ["lamp/floor", [0, 1]],
      ["chair", [0, 2]],
      ["plant", [0, 1]],
      ["trash bin", [0, 1]],
      ["backpack", [0, 1]],
      ["pillow", [1, 3]],
      ["lamp/table", [0, 2]],
      ["monitor", [0, 1]],
      ["keyboard", [0, 1]],
      ["tv", [0, 1]],
    ],
  },
  {
    name: "living room",
    side: [4.0, 9.0],
    windows: [1, 3],
    doors: [1, 2],
    contents: [
      ["sofa", [1, 1]],
      ["cabinet", [1, 2]],
      ["bookshelf", [0, 2]],
      ["piano", [0, 1]],
      ["radiator", [0, 2]],
      ["clock", [0, 1]],
      ["lamp/floor", [0, 2]],
      ["table", [1, 2]],
      ["chair", [2, 4]],
      ["plant", [1, 3]],
      ["trash bin", [0, 1]],
      ["tv", [1, 1]],
      ["pillow", [1, 3]],
      ["lamp/table", [0, 1]],
    ],
  },
  {
    name: "office",
    side: [4.0, 9.0],
    windows: [1, 3],
    doors: [1, 2],
    contents: [
      ["desk", [2, 4]],
      ["bookshelf", [1, 2]],
      ["cabinet", [1, 3]],
      ["closet", [0, 1]],
      ["radiator", [0, 1]],
      ["clock", [0, 1]],
      ["table", [0, 1]],
      ["chair", [2, 5]],
      ["plant", [0, 2]],
      ["trash bin", [1, 2]],
      ["backpack", [0, 2]],
      ["monitor", [1, 4]],
      ["keyboard", [1, 3]],
      ["printer", [0, 1]],
      ["lamp/table", [0, 1]],
    ],
  },
  {
    name: "kitchen",
    side: [3.5, 7.0],
    windows: [1, 2],
    doors: [1, 1],
    contents: [
      ["counter", [1, 2]],
      ["refrigerator", [1, 1]],
      ["cabinet", [1, 3]],
      ["washing machine", [0, 1]],
      ["clock", [0, 1]],
      ["table", [1, 1]],
      ["chair", [2, 4]],
      ["trash bin", [1, 2]],
      ["plant", [0, 1]],
      ["sink/counter", [1, 1]],
      ["microwave", [1, 1]],
    ],
  },
  {
    name: "bathroom",
    side: [3.0, 4.5],
    windows: [0, 1],
    doors: [1, 1],
    contents: [
      ["toilet", [1, 1]],
      ["sink", [1, 2]],
      ["cabinet", [0, 1]],
      ["washing machine", [0, 1]],
      ["mirror", [1, 1]],
      ["radiator", [0, 1]],
      ["trash bin", [1, 1]],
    ],
  },
];

/** The corridor of an apartment: a door to the outside and a few things along its walls. */
export const CORRIDOR_KIND: RoomKind = {
  name: "corridor",
  side: [1.2, 1.6],
  windows: [0, 0],
  doors: [1, 1],
  contents: [
    ["bicycle", [0, 1]],
    ["radiator", [0, 1]],
    ["mirror", [0, 1]],
    ["clock", [0, 1]],
    ["plant", [0, 1]],
  ],
};

/** What an apartment's rooms hold beyond a single room of their kind: islands to walk around. */
export const APARTMENT_EXTRAS: Record<string, [variant: string, count: Count][]> = {
  kitchen: [["oven", [1, 1]], ["counter/island", [0, 1]], ["telephone", [0, 1]]],
  "living room": [["guitar", [0, 1]], ["sofa/island", [0, 1]], ["fan", [0, 1]]],
  bedroom: [["guitar", [0, 1]]],
  office: [["fan", [0, 1]], ["telephone", [0, 1]]],
  bathroom: [["towel", [1, 1]]],
};

/** Colours of the room's own surfaces. */
export const ROOM_COLORS = {
  floor: [[150, 112, 80], [182, 150, 112], [120, 120, 118], [200, 196, 186]] as Vec3[],
  wall: [[228, 224, 214], [214, 222, 226], [236, 230, 210], [210, 205, 200]] as Vec3[],
  ceiling: [[244, 244, 240]] as Vec3[],
};
