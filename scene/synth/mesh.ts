/**
 * Turns a layout into a labelled triangle mesh like ScanNet's `_vh_clean_2.ply`: floor,
 * ceiling and walls tessellated on a grid of about 10 cm (so vertex samples cover the floor
 * densely, as a real reconstruction does), furniture as boxes. Every vertex carries an
 * over-segment id and every segment belongs to one annotated instance (`segGroups`).
 *
 * @module
 */

import { yawBoxCorners } from "../../geometry/box.ts";
import { pointInPolygon, type Polygon } from "../../geometry/polygon.ts";
import type { Rng } from "../../geometry/rng.ts";
import type { Vec3 } from "../../geometry/vec.ts";
import type { Material } from "./catalog.ts";
import type { SynthLayout } from "./layout.ts";

/** One annotated instance, as in ScanNet's `aggregation.json`. */
export interface SegGroup {
  id: number;
  objectId: number;
  label: string;
  segments: number[];
}

/** A labelled mesh in the aligned frame, with what the shader needs per triangle. */
export interface SceneMesh {
  positions: Float64Array;
  /** RGBA per vertex. */
  colors: Uint8Array;
  triangles: Uint32Array;
  /** Over-segment id per vertex. */
  vertexSegment: Int32Array;
  /** Annotated instance (`objectId`) per triangle. */
  triangleInstance: Int32Array;
  triangleNormal: Float32Array;
  /** Index into {@link MATERIALS} per triangle. */
  triangleMaterial: Uint8Array;
  /** RGB per triangle. */
  triangleColor: Uint8Array;
  segGroups: SegGroup[];
}

/** Material codes stored per triangle; `tile` is a ceramic floor. */
export const MATERIALS: readonly (Material | "tile")[] = [
  "wood",
  "fabric",
  "metal",
  "plastic",
  "ceramic",
  "plant",
  "paint",
  "glass",
  "tile",
];

/** Target grid spacing (m) of floor, ceiling and walls. */
const STEP = 0.1;
/** Height of a row of an apartment's outer walls (m). */
const WALL_ROW = 1.0;

class MeshBuilder {
  pos: number[] = [];
  col: number[] = [];
  seg: number[] = [];
  tri: number[] = [];
  inst: number[] = [];
  nrm: number[] = [];
  mat: number[] = [];
  tcol: number[] = [];
  nextSegment = 0;

  vertex(p: Readonly<Vec3>, color: Readonly<Vec3>, segment: number): number {
    this.pos.push(p[0], p[1], p[2]);
    this.col.push(color[0], color[1], color[2], 255);
    this.seg.push(segment);
    return this.seg.length - 1;
  }

  triangle(
    a: number,
    b: number,
    c: number,
    instance: number,
    material: number,
    color: Readonly<Vec3>,
  ) {
    const P = this.pos;
    const ux = P[3 * b] - P[3 * a],
      uy = P[3 * b + 1] - P[3 * a + 1],
      uz = P[3 * b + 2] - P[3 * a + 2];
    const vx = P[3 * c] - P[3 * a],
      vy = P[3 * c + 1] - P[3 * a + 1],
      vz = P[3 * c + 2] - P[3 * a + 2];
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const n = Math.hypot(nx, ny, nz) || 1;
    this.tri.push(a, b, c);
    this.inst.push(instance);
    this.nrm.push(nx / n, ny / n, nz / n);
    this.mat.push(material);
    this.tcol.push(color[0], color[1], color[2]);
  }
}

/**
 * Builds the scene mesh. `rng` only jitters interior floor and ceiling vertices within their
 * plane, so that vertex samples are not a perfect lattice.
 *
 * @example
 * ```ts
 * import { Rng } from "../../geometry/rng.ts";
 * import { generateLayout } from "./layout.ts";
 * const layout = generateLayout(new Rng("mesh-doc"));
 * const mesh = buildSceneMesh(layout, new Rng("jitter"));
 * if (mesh.segGroups.length !== layout.objects.length + 2 + layout.room.polygon.length) {
 *   throw new Error("objects, floor, ceiling and one wall per side");
 * }
 * ```
 */
export function buildSceneMesh(layout: SynthLayout, rng: Rng): SceneMesh {
  const b = new MeshBuilder();
  const groups: SegGroup[] = [];
  const { room, objects } = layout;

  for (const o of objects) {
    const segments: number[] = [];
    const material = MATERIALS.indexOf(o.material);
    o.parts.forEach((part, k) => {
      const shade = o.partShades[k];
      const color = o.color.map((v) => Math.min(255, Math.round(v * shade))) as Vec3;
      const segment = b.nextSegment++;
      segments.push(segment);
      const ids = yawBoxCorners(part).map((p) => b.vertex(p, color, segment));
      // Faces of the box: bottom, top, and the four sides (corner order of yawBoxCorners).
      for (
        const [p, q, r, s] of [
          [0, 3, 2, 1],
          [4, 5, 6, 7],
          [0, 1, 5, 4],
          [1, 2, 6, 5],
          [2, 3, 7, 6],
          [3, 0, 4, 7],
        ]
      ) {
        b.triangle(ids[p], ids[q], ids[r], o.instanceId, material, color);
        b.triangle(ids[p], ids[r], ids[s], o.instanceId, material, color);
      }
    });
    groups.push({ id: o.instanceId, objectId: o.instanceId, label: o.category, segments });
  }

  let nextId = objects.length;
  const floorMat = (m: Material) => MATERIALS.indexOf(m === "ceramic" ? "tile" : m);
  const { xs, ys } = gridBreaks(room.polygon, interiorBreaks(layout));
  const jitter = planarJitter(room.polygon, xs, ys, rng);
  // An apartment's floor takes each room's look (under walls and in doorways: the first's).
  const rooms = layout.rooms ?? [];
  const floorStyle = rooms.length > 1
    ? (x: number, y: number) => {
      const r = rooms.find((q) => pointInPolygon([x, y], q.polygon)) ?? rooms[0];
      return { color: r.floorColor, material: floorMat(r.floorMaterial) };
    }
    : undefined;
  // An apartment's ceiling and outer walls need no fine grid: the floor's vertices already
  // cover the plan (meta's room size), and a third of the triangles is a faster navmesh build
  // and rendering. Single rooms keep their mesh as it always was.
  const coarse = rooms.length > 1;
  const top = coarse ? gridBreaks(room.polygon, undefined, Infinity) : { xs, ys };
  const topJitter = coarse ? new Float64Array(2 * top.xs.length * top.ys.length) : jitter;
  for (
    const [label, z, color, material, style, grid, shift] of [
      ["floor", 0, room.colors.floor, floorMat(room.floorMaterial), floorStyle, { xs, ys }, jitter],
      [
        "ceiling",
        room.height,
        room.colors.ceiling,
        MATERIALS.indexOf("paint"),
        undefined,
        top,
        topJitter,
      ],
    ] as const
  ) {
    const id = nextId++;
    const segments = addPlane(
      b,
      room.polygon,
      grid.xs,
      grid.ys,
      shift,
      z,
      color,
      material,
      id,
      style,
    );
    groups.push({ id, objectId: id, label, segments });
  }
  const paint = MATERIALS.indexOf("paint");
  const rows = coarse ? WALL_ROW : STEP;
  room.polygon.forEach((a, i) => {
    const c = room.polygon[(i + 1) % room.polygon.length];
    const id = nextId++;
    const segments = addWall(b, a, c, xs, ys, room.height, room.colors.wall, paint, id, rows);
    groups.push({ id, objectId: id, label: "wall", segments });
  });
  // Interior walls: boxes from the floor (or a doorway's top) to the ceiling. Faces on the
  // floor or the ceiling are hidden: left out.
  for (const wall of layout.walls ?? []) {
    const id = nextId++;
    const segments: number[] = [];
    for (const part of wall.parts) {
      const segment = b.nextSegment++;
      segments.push(segment);
      const ids = yawBoxCorners(part).map((p) => b.vertex(p, room.colors.wall, segment));
      const lintel = part.center[2] - part.size[2] / 2 > 1e-6;
      for (
        const [p, q, r, s] of [
          ...(lintel ? [[0, 3, 2, 1]] : []),
          [0, 1, 5, 4],
          [1, 2, 6, 5],
          [2, 3, 7, 6],
          [3, 0, 4, 7],
        ]
      ) {
        b.triangle(ids[p], ids[q], ids[r], id, paint, room.colors.wall);
        b.triangle(ids[p], ids[r], ids[s], id, paint, room.colors.wall);
      }
    }
    groups.push({ id, objectId: id, label: "wall", segments });
  }
  if (nextId > 255) throw new RangeError(`${nextId} instances do not fit 8-bit instance masks`);

  return {
    positions: Float64Array.from(b.pos),
    colors: Uint8Array.from(b.col),
    triangles: Uint32Array.from(b.tri),
    vertexSegment: Int32Array.from(b.seg),
    triangleInstance: Int32Array.from(b.inst),
    triangleNormal: Float32Array.from(b.nrm),
    triangleMaterial: Uint8Array.from(b.mat),
    triangleColor: Uint8Array.from(b.tcol),
    segGroups: groups,
  };
}

/** Coordinates the floor grid must have so that its cells end at interior walls and doorways. */
function interiorBreaks(layout: SynthLayout): { xs: number[]; ys: number[] } {
  const xs: number[] = [], ys: number[] = [];
  for (const w of layout.walls ?? []) {
    for (const p of w.parts) {
      xs.push(p.center[0] - p.size[0] / 2, p.center[0] + p.size[0] / 2);
      ys.push(p.center[1] - p.size[1] / 2, p.center[1] + p.size[1] / 2);
    }
  }
  return { xs, ys };
}

/** Grid lines: every polygon coordinate (and `extra`), equal steps of at most STEP between. */
function gridBreaks(
  poly: Polygon,
  extra: { xs: number[]; ys: number[] } = { xs: [], ys: [] },
  step = STEP,
): { xs: number[]; ys: number[] } {
  const breaks = (vals: number[]) => {
    const u = [...new Set(vals)].sort((a, b) => a - b);
    const out = [u[0]];
    for (let i = 1; i < u.length; i++) {
      const n = Math.max(1, Math.ceil((u[i] - u[i - 1]) / step - 1e-9));
      for (let k = 1; k <= n; k++) out.push(k === n ? u[i] : u[i - 1] + (u[i] - u[i - 1]) * k / n);
    }
    return out;
  };
  return {
    xs: breaks([...poly.map((p) => p[0]), ...extra.xs]),
    ys: breaks([...poly.map((p) => p[1]), ...extra.ys]),
  };
}

function cellInside(poly: Polygon, xs: number[], ys: number[], i: number, j: number): boolean {
  if (i < 0 || j < 0 || i >= xs.length - 1 || j >= ys.length - 1) return false;
  const cx = (xs[i] + xs[i + 1]) / 2, cy = (ys[j] + ys[j + 1]) / 2;
  // Rectilinear polygons: a cell is inside iff its centre is.
  let inside = false;
  for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
    const [xa, ya] = poly[a], [xb, yb] = poly[b];
    if ((ya > cy) !== (yb > cy) && cx < (xb - xa) * (cy - ya) / (yb - ya) + xa) inside = !inside;
  }
  return inside;
}

/** In-plane offsets for grid vertices surrounded by four inside cells (others stay put). */
function planarJitter(poly: Polygon, xs: number[], ys: number[], rng: Rng): Float64Array {
  const out = new Float64Array(xs.length * ys.length * 2);
  for (let j = 1; j < ys.length - 1; j++) {
    for (let i = 1; i < xs.length - 1; i++) {
      if (
        cellInside(poly, xs, ys, i - 1, j - 1) && cellInside(poly, xs, ys, i, j - 1) &&
        cellInside(poly, xs, ys, i - 1, j) && cellInside(poly, xs, ys, i, j)
      ) {
        const k = 2 * (j * xs.length + i);
        out[k] = rng.uniform(-0.3, 0.3) * Math.min(xs[i] - xs[i - 1], xs[i + 1] - xs[i]);
        out[k + 1] = rng.uniform(-0.3, 0.3) * Math.min(ys[j] - ys[j - 1], ys[j + 1] - ys[j]);
      }
    }
  }
  return out;
}

/** Segments group vertices into patches of about a metre. */
function patchSegment(b: MeshBuilder, patches: Map<string, number>, key: string): number {
  let s = patches.get(key);
  if (s === undefined) {
    s = b.nextSegment++;
    patches.set(key, s);
  }
  return s;
}

function addPlane(
  b: MeshBuilder,
  poly: Polygon,
  xs: number[],
  ys: number[],
  jitter: Float64Array,
  z: number,
  color: Readonly<Vec3>,
  material: number,
  instance: number,
  style?: (x: number, y: number) => { color: Readonly<Vec3>; material: number },
): number[] {
  const index = new Map<number, number>();
  const patches = new Map<string, number>();
  let cellColor = color;
  const vert = (i: number, j: number) => {
    const key = j * xs.length + i;
    let v = index.get(key);
    if (v === undefined) {
      const x = xs[i] + jitter[2 * key], y = ys[j] + jitter[2 * key + 1];
      v = b.vertex(
        [x, y, z],
        cellColor,
        patchSegment(b, patches, `${Math.floor(x)},${Math.floor(y)}`),
      );
      index.set(key, v);
    }
    return v;
  };
  for (let j = 0; j < ys.length - 1; j++) {
    for (let i = 0; i < xs.length - 1; i++) {
      if (!cellInside(poly, xs, ys, i, j)) continue;
      if (style) {
        const s = style((xs[i] + xs[i + 1]) / 2, (ys[j] + ys[j + 1]) / 2);
        [cellColor, material] = [s.color, s.material];
      }
      const color = cellColor;
      const v00 = vert(i, j), v10 = vert(i + 1, j), v11 = vert(i + 1, j + 1), v01 = vert(i, j + 1);
      // Floor normals point up, ceiling normals down.
      if (z === 0) {
        b.triangle(v00, v10, v11, instance, material, color);
        b.triangle(v00, v11, v01, instance, material, color);
      } else {
        b.triangle(v00, v11, v10, instance, material, color);
        b.triangle(v00, v01, v11, instance, material, color);
      }
    }
  }
  return [...new Set(patches.values())].sort((p, q) => p - q);
}

function addWall(
  b: MeshBuilder,
  a: Readonly<[number, number]>,
  c: Readonly<[number, number]>,
  xs: number[],
  ys: number[],
  height: number,
  color: Readonly<Vec3>,
  material: number,
  instance: number,
  row = STEP,
): number[] {
  // Along the wall: the floor grid's breaks on this (axis-parallel) edge, so seams line up.
  const horizontal = a[1] === c[1];
  const lo = horizontal ? Math.min(a[0], c[0]) : Math.min(a[1], c[1]);
  const hi = horizontal ? Math.max(a[0], c[0]) : Math.max(a[1], c[1]);
  const along = (horizontal ? xs : ys).filter((v) => v >= lo && v <= hi);
  if ((horizontal ? a[0] > c[0] : a[1] > c[1])) along.reverse();
  const nz = Math.ceil(height / row - 1e-9);
  const patches = new Map<string, number>();
  const ids: number[][] = along.map((t) => {
    const col: number[] = [];
    for (let k = 0; k <= nz; k++) {
      const z = k === nz ? height : height * k / nz;
      const p: Vec3 = horizontal ? [t, a[1], z] : [a[0], t, z];
      col.push(b.vertex(p, color, patchSegment(b, patches, `${Math.floor(t)},${Math.floor(z)}`)));
    }
    return col;
  });
  for (let i = 0; i + 1 < ids.length; i++) {
    for (let k = 0; k < nz; k++) {
      // Counter-clockwise room, walls seen from inside: normals point into the room.
      b.triangle(ids[i][k], ids[i + 1][k + 1], ids[i + 1][k], instance, material, color);
      b.triangle(ids[i][k], ids[i][k + 1], ids[i + 1][k + 1], instance, material, color);
    }
  }
  return [...new Set(patches.values())].sort((p, q) => p - q);
}
