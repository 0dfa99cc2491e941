/**
 * Navigation meshes for route planning: a Recast-equivalent build pipeline and Detour-style
 * queries, written in AssemblyScript (`assembly/`) and run as one WebAssembly module.
 *
 * Input meshes are z-up (the ScanNet family): nothing needs rotating. Settings are in metres and
 * degrees with habitat-sim's defaults ({@link HABITAT_NAVMESH_SETTINGS}). Each build runs in a
 * fresh WebAssembly instance that is dropped afterwards, so its memory is released and a failed
 * build leaves nothing behind; a built {@link NavMesh} keeps only its polygons.
 *
 * @module
 */

import type { Rng } from "../rng.ts";
import type { Vec3 } from "../vec.ts";
import { decodeBase64Lines } from "./_base64.ts";
import { NAVMESH_WASM_BASE64 } from "./navmesh_wasm.ts";

/** Build settings in world units (metres, degrees), named as in habitat-sim's NavMeshSettings. */
export interface NavMeshSettings {
  /** Horizontal voxel size (m). */
  cellSize: number;
  /** Vertical voxel size (m). */
  cellHeight: number;
  /** Free height the agent needs (m). */
  agentHeight: number;
  /** Clearance kept from walls and ledges (m). */
  agentRadius: number;
  /** Largest step the agent can climb (m). */
  agentMaxClimb: number;
  /** Steepest walkable slope (degrees). */
  agentMaxSlope: number;
  /** Regions smaller than this squared (in cells) are dropped when isolated. */
  regionMinSize: number;
  /** Regions smaller than this squared (in cells) are merged into a neighbour. */
  regionMergeSize: number;
  /** Longest polygon edge along walls (m). */
  edgeMaxLen: number;
  /** Largest distance of a simplified outline from the voxel outline (cells). */
  edgeMaxError: number;
  /** Most vertices per polygon (3..6). */
  vertsPerPoly: number;
}

/** habitat-sim's `NavMeshSettings::setDefaults()` (data-reference §6.4, DECISIONS 17). */
export const HABITAT_NAVMESH_SETTINGS: Readonly<NavMeshSettings> = Object.freeze({
  cellSize: 0.05,
  cellHeight: 0.2,
  agentHeight: 1.5,
  agentRadius: 0.1,
  agentMaxClimb: 0.2,
  agentMaxSlope: 45,
  regionMinSize: 20,
  regionMergeSize: 20,
  edgeMaxLen: 12,
  edgeMaxError: 1.3,
  vertsPerPoly: 6,
});

/** A triangle soup, z up: `positions` xyz triples, `triangles` vertex index triples. */
export interface TriangleMesh {
  positions: ArrayLike<number>;
  triangles: ArrayLike<number>;
}

/** Settings converted to voxel units, as Recast's config holds them. */
export interface VoxelSettings {
  walkableHeight: number;
  walkableClimb: number;
  walkableRadius: number;
  maxEdgeLen: number;
  minRegionArea: number;
  mergeRegionArea: number;
}

/**
 * Voxel-unit settings, converted in single precision as habitat-sim does.
 *
 * @example
 * ```ts
 * const v = voxelSettings(HABITAT_NAVMESH_SETTINGS);
 * if (v.walkableHeight !== 8 || v.walkableClimb !== 1 || v.walkableRadius !== 2) throw new Error();
 * if (v.maxEdgeLen !== 240 || v.minRegionArea !== 400) throw new Error();
 * ```
 */
export function voxelSettings(s: Readonly<NavMeshSettings>): VoxelSettings {
  const f = Math.fround;
  const cs = f(s.cellSize), ch = f(s.cellHeight);
  return {
    walkableHeight: Math.ceil(f(f(s.agentHeight) / ch)),
    walkableClimb: Math.floor(f(f(s.agentMaxClimb) / ch)),
    walkableRadius: Math.ceil(f(f(s.agentRadius) / cs)),
    maxEdgeLen: Math.trunc(f(f(s.edgeMaxLen) / cs)),
    minRegionArea: s.regionMinSize * s.regionMinSize,
    mergeRegionArea: s.regionMergeSize * s.regionMergeSize,
  };
}

/** A build that could not finish: bad input or settings, or the module trapped. */
export class NavMeshBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NavMeshBuildError";
  }
}

/** The module's exports (see assembly/index.ts). */
interface NavExports {
  memory: WebAssembly.Memory;
  configure(...a: number[]): void;
  setInput(nverts: number, ntris: number): void;
  inputVertsPtr(): number;
  inputTrisPtr(): number;
  triangleAreasPtr(): number;
  markWalkableTriangles(): number;
  rasterizeTriangles(): number;
  filterLowHangingObstacles(): number;
  filterLedgeSpans(): number;
  filterLowHeightSpans(): number;
  countWalkableSpans(): number;
  buildCompactHeightfield(): number;
  erodeWalkableArea(): number;
  buildDistanceField(): number;
  buildRegions(): number;
  buildContours(): number;
  buildPolyMesh(): number;
  buildIslands(): number;
  gridWidth(): number;
  gridHeight(): number;
  gridMinX(): number;
  gridMinY(): number;
  gridMinZ(): number;
  columnSpanCount(x: number, y: number): number;
  spanField(x: number, y: number, k: number, field: number): number;
  compactWalkableAt(x: number, y: number): number;
  regionAt(x: number, y: number): number;
  distanceAt(x: number, y: number): number;
  contourCount(): number;
  contourVertCount(i: number): number;
  exportMesh(): number;
  meshVertsPtr(): number;
  meshPolysPtr(): number;
  meshPolyCount(): number;
  meshIslandsPtr(): number;
  queryInit(nverts: number, npolys: number, nvp: number, climb: number): void;
  queryVertsPtr(): number;
  queryPolysPtr(): number;
  queryPrepare(): void;
  findNearestPoly(x: number, y: number, z: number, ex: number, ey: number, ez: number): number;
  closestPoint(p: number, x: number, y: number, z: number): void;
  findPath(s: number, e: number, ...p: number[]): number;
  findStraightPath(len: number, ...p: number[]): number;
  outPtr(): number;
  pathPolysPtr(): number;
}

let compiled: WebAssembly.Module | undefined;

/** A fresh instance of the navmesh module (compiled once per process). */
function instantiate(): NavExports {
  compiled ??= new WebAssembly.Module(decodeBase64Lines(NAVMESH_WASM_BASE64));
  return new WebAssembly.Instance(compiled, {}).exports as unknown as NavExports;
}

/** The stages of a build, in order (Recast's names). */
export const NAVMESH_STAGES = [
  "markWalkableTriangles",
  "rasterizeTriangles",
  "filterLowHangingObstacles",
  "filterLedgeSpans",
  "filterLowHeightSpans",
  "buildCompactHeightfield",
  "erodeWalkableArea",
  "buildDistanceField",
  "buildRegions",
  "buildContours",
  "buildPolyMesh",
  "buildIslands",
] as const;

/** One stage's name. */
export type NavMeshStage = typeof NAVMESH_STAGES[number];

/**
 * A build in progress, stage by stage, with the intermediate products open to inspection.
 * {@link buildNavMesh} runs all stages; tests and the benchmark call them one at a time.
 * Each stage returns a count: walkable triangles, spans, spans changed by a filter, compact
 * spans, spans left after erosion, the largest distance, regions, contours, polygons, islands.
 *
 * @example
 * ```ts
 * const floor = { positions: [0, 0, 0, 4, 0, 0, 4, 4, 0, 0, 4, 0], triangles: [0, 1, 2, 0, 2, 3] };
 * const b = new NavMeshBuilder(floor);
 * if (b.run("markWalkableTriangles") !== 2) throw new Error("both triangles face up");
 * for (const stage of NAVMESH_STAGES.slice(1)) b.run(stage);
 * const nav = b.finish();
 * // The rim is a ledge: one cell plus the 0.1 m radius goes on every side.
 * if (nav.islandCount !== 1 || Math.abs(nav.area() - 3.7 * 3.7) > 1e-3) throw new Error(String(nav.area()));
 * ```
 */
export class NavMeshBuilder {
  /** Milliseconds per stage that has run. */
  readonly timings: Partial<Record<NavMeshStage, number>> = {};
  /** What each stage returned. */
  readonly counts: Partial<Record<NavMeshStage, number>> = {};
  readonly settings: Readonly<NavMeshSettings>;
  #x: NavExports | undefined;
  #next = 0;
  #triangles: number;

  constructor(mesh: TriangleMesh, settings: Partial<NavMeshSettings> = {}) {
    const s = { ...HABITAT_NAVMESH_SETTINGS, ...settings };
    checkSettings(s);
    this.settings = Object.freeze(s);
    const nv = mesh.positions.length / 3, nt = mesh.triangles.length / 3;
    if (!Number.isInteger(nv) || !Number.isInteger(nt)) {
      throw new NavMeshBuildError("positions and triangles must hold whole triples");
    }
    if (nt === 0) throw new NavMeshBuildError("the mesh has no triangles");
    this.#triangles = nt;
    for (let i = 0; i < mesh.triangles.length; i++) {
      const t = mesh.triangles[i];
      if (!(Number.isInteger(t) && t >= 0 && t < nv)) {
        throw new NavMeshBuildError(`triangle index ${t} at ${i} is not a vertex (0..${nv - 1})`);
      }
    }
    for (let i = 0; i < mesh.positions.length; i++) {
      if (!Number.isFinite(mesh.positions[i])) {
        throw new NavMeshBuildError(`position ${i} is not a finite number`);
      }
    }
    const x = instantiate();
    const v = voxelSettings(s);
    x.configure(
      s.cellSize,
      s.cellHeight,
      s.agentMaxSlope,
      v.walkableHeight,
      v.walkableClimb,
      v.walkableRadius,
      v.maxEdgeLen,
      s.edgeMaxError,
      v.minRegionArea,
      v.mergeRegionArea,
      s.vertsPerPoly,
    );
    x.setInput(nv, nt);
    new Float32Array(x.memory.buffer, x.inputVertsPtr(), nv * 3).set(mesh.positions);
    new Int32Array(x.memory.buffer, x.inputTrisPtr(), nt * 3).set(mesh.triangles);
    this.#x = x;
  }

  /** Runs `stage`, which must be the next one; returns its count. */
  run(stage: NavMeshStage): number {
    const x = this.#live();
    const expected = NAVMESH_STAGES[this.#next];
    if (stage !== expected) {
      throw new Error(`stage ${stage} cannot run now; the next stage is ${expected ?? "none"}`);
    }
    const t0 = performance.now();
    let n: number;
    try {
      n = x[stage]();
    } catch (e) {
      this.dispose();
      throw new NavMeshBuildError(`${stage} failed: ${(e as Error).message}`);
    }
    this.timings[stage] = performance.now() - t0;
    this.counts[stage] = n;
    this.#next++;
    return n;
  }

  /** Runs every remaining stage. */
  runAll(): this {
    while (this.#next < NAVMESH_STAGES.length) this.run(NAVMESH_STAGES[this.#next]);
    return this;
  }

  /** The heightfield grid: size in cells and its origin (world). */
  grid(): { width: number; height: number; origin: Vec3 } {
    const x = this.#live();
    return {
      width: x.gridWidth(),
      height: x.gridHeight(),
      origin: [x.gridMinX(), x.gridMinY(), x.gridMinZ()],
    };
  }

  /** Walkable flag per input triangle (after markWalkableTriangles). */
  walkableTriangles(): Uint8Array {
    const x = this.#live();
    if (this.#next < 1) throw new Error("markWalkableTriangles has not run");
    const n = this.#triangles;
    return new Uint8Array(x.memory.buffer, x.triangleAreasPtr(), n).map((a) => (a ? 1 : 0));
  }

  /** The spans of heightfield column (cx, cy), bottom up, heights in world metres. */
  spans(cx: number, cy: number): { bottom: number; top: number; walkable: boolean }[] {
    const x = this.#live();
    this.#checkCell(cx, cy);
    const z0 = x.gridMinZ(), ch = this.settings.cellHeight;
    return Array.from({ length: x.columnSpanCount(cx, cy) }, (_, k) => ({
      bottom: z0 + x.spanField(cx, cy, k, 0) * ch,
      top: z0 + x.spanField(cx, cy, k, 1) * ch,
      walkable: x.spanField(cx, cy, k, 2) === 1,
    }));
  }

  /** Walkable compact spans in column (cx, cy) (after the compact heightfield or erosion). */
  walkableAt(cx: number, cy: number): number {
    this.#checkCell(cx, cy);
    return this.#live().compactWalkableAt(cx, cy);
  }

  /** Region id of column (cx, cy)'s first span: 0 = none, -1 = no span. */
  regionAt(cx: number, cy: number): number {
    this.#checkCell(cx, cy);
    return this.#live().regionAt(cx, cy);
  }

  /** Distance-field value (2 per cell) of column (cx, cy)'s first span; -1 = no span. */
  distanceAt(cx: number, cy: number): number {
    this.#checkCell(cx, cy);
    return this.#live().distanceAt(cx, cy);
  }

  /** Vertex count of each contour (holes merged into outlines have none). */
  contourSizes(): number[] {
    const x = this.#live();
    return Array.from({ length: x.contourCount() }, (_, i) => x.contourVertCount(i));
  }

  /** The finished navmesh (all stages must have run); the build instance is released. */
  finish(): NavMesh {
    if (this.#next < NAVMESH_STAGES.length) this.runAll();
    const x = this.#live();
    const nv = x.exportMesh(), np = x.meshPolyCount(), nvp = this.settings.vertsPerPoly;
    const data: NavMeshData = {
      vertices: new Float32Array(x.memory.buffer, x.meshVertsPtr(), nv * 3).slice(),
      polygons: new Int32Array(x.memory.buffer, x.meshPolysPtr(), np * nvp * 2).slice(),
      islands: new Int32Array(x.memory.buffer, x.meshIslandsPtr(), np).slice(),
    };
    this.dispose();
    return new NavMesh(this.settings, data);
  }

  /** Drops the build instance and its memory. */
  dispose(): void {
    this.#x = undefined;
  }

  #live(): NavExports {
    if (!this.#x) throw new Error("this build is finished or failed");
    return this.#x;
  }

  #checkCell(cx: number, cy: number): void {
    const x = this.#live();
    if (!(cx >= 0 && cy >= 0 && cx < x.gridWidth() && cy < x.gridHeight())) {
      throw new RangeError(`cell (${cx}, ${cy}) is outside the grid`);
    }
  }
}

function checkSettings(s: NavMeshSettings): void {
  for (const [k, v] of Object.entries(s)) {
    if (!(typeof v === "number" && Number.isFinite(v) && v >= 0)) {
      throw new NavMeshBuildError(`setting ${k} must be a finite number >= 0, got ${v}`);
    }
  }
  if (!(s.cellSize > 0 && s.cellHeight > 0)) {
    throw new NavMeshBuildError("cellSize and cellHeight must be > 0");
  }
  if (!(Number.isInteger(s.vertsPerPoly) && s.vertsPerPoly >= 3 && s.vertsPerPoly <= 6)) {
    throw new NavMeshBuildError(`vertsPerPoly must be an integer in 3..6, got ${s.vertsPerPoly}`);
  }
  if (s.agentMaxSlope >= 90) throw new NavMeshBuildError("agentMaxSlope must be below 90 degrees");
}

/**
 * Builds a navmesh from a z-up triangle mesh with habitat-sim's default settings unless given.
 * Throws {@link NavMeshBuildError} when the build fails.
 *
 * @example
 * ```ts
 * // A 6 x 4 m floor.
 * const nav = buildNavMesh({ positions: [0, 0, 0, 6, 0, 0, 6, 4, 0, 0, 4, 0], triangles: [0, 1, 2, 0, 2, 3] });
 * const path = nav.findPath([0.5, 0.5, 0], [5.5, 3.5, 0]);
 * if (!path.found || Math.abs(path.length - Math.hypot(5, 3)) > 0.05) throw new Error();
 * ```
 */
export function buildNavMesh(mesh: TriangleMesh, settings: Partial<NavMeshSettings> = {}): NavMesh {
  return new NavMeshBuilder(mesh, settings).finish();
}

/** What a navmesh consists of (world coordinates, z up). */
export interface NavMeshData {
  /** xyz per vertex. */
  vertices: Float32Array;
  /** Per polygon: vertsPerPoly vertex indices, then vertsPerPoly neighbour polygons; -1 = none. */
  polygons: Int32Array;
  /** Island (connected component) of each polygon. */
  islands: Int32Array;
}

/** A straight path between two points. */
export interface NavPath {
  /** Whether the goal's polygon was reached (false: the path ends as close as it can get). */
  found: boolean;
  /** Corner points from start to goal (start and goal snapped onto the navmesh). */
  points: Vec3[];
  /** Length in metres along the points. */
  length: number;
  /** The polygon corridor. */
  polygons: number[];
}

/** habitat-sim's search box for snapping points (half extents, m; its polyPickExt, z up). */
const PICK_EXTENTS: Vec3 = [2, 2, 4];

/** The serialised form's format tag. */
const FORMAT = "vlm3r-navmesh";

/**
 * A built navigation mesh: convex polygons with adjacency and islands, and the queries on it.
 *
 * @example
 * ```ts
 * const nav = buildNavMesh({ positions: [0, 0, 0, 3, 0, 0, 3, 3, 0, 0, 3, 0], triangles: [0, 1, 2, 0, 2, 3] });
 * const copy = NavMesh.fromJSON(JSON.parse(JSON.stringify(nav)));
 * if (copy.polygonCount !== nav.polygonCount || !copy.isNavigable([1.5, 1.5, 0])) throw new Error();
 * ```
 */
export class NavMesh {
  readonly settings: Readonly<NavMeshSettings>;
  readonly vertices: Float32Array;
  readonly polygons: Int32Array;
  readonly islands: Int32Array;
  readonly polygonCount: number;
  readonly islandCount: number;
  #q: NavExports;
  #areas: Float64Array;

  constructor(settings: Readonly<NavMeshSettings>, data: NavMeshData) {
    this.settings = settings;
    const nvp = settings.vertsPerPoly;
    const np = data.polygons.length / (2 * nvp);
    if (!Number.isInteger(np) || data.islands.length !== np) {
      throw new NavMeshBuildError("polygons and islands do not match vertsPerPoly");
    }
    const nv = data.vertices.length / 3;
    for (let i = 0; i < data.polygons.length; i++) {
      const v = data.polygons[i];
      const limit = i % (2 * nvp) < nvp ? nv : np;
      if (!(Number.isInteger(v) && v >= -1 && v < limit)) {
        throw new NavMeshBuildError(`polygon entry ${i} (${v}) is out of range`);
      }
    }
    const q = instantiate();
    q.queryInit(nv, np, nvp, voxelSettings(settings).walkableClimb * settings.cellHeight);
    new Float32Array(q.memory.buffer, q.queryVertsPtr(), nv * 3).set(data.vertices);
    new Int32Array(q.memory.buffer, q.queryPolysPtr(), np * nvp * 2).set(data.polygons);
    q.queryPrepare();
    this.#q = q;
    // Read back: the module orients every polygon counter-clockwise.
    this.vertices = data.vertices.slice();
    this.polygons = new Int32Array(q.memory.buffer, q.queryPolysPtr(), np * nvp * 2).slice();
    this.islands = data.islands.slice();
    this.polygonCount = np;
    this.islandCount = np === 0 ? 0 : Math.max(...this.islands) + 1;
    this.#areas = new Float64Array(np);
    for (let p = 0; p < np; p++) this.#areas[p] = this.#polygonArea(p);
  }

  /** The vertices of polygon `p`, counter-clockwise seen from above. */
  polygon(p: number): Vec3[] {
    const nvp = this.settings.vertsPerPoly, out: Vec3[] = [];
    for (let j = 0; j < nvp; j++) {
      const v = this.polygons[p * 2 * nvp + j];
      if (v < 0) break;
      out.push([this.vertices[v * 3], this.vertices[v * 3 + 1], this.vertices[v * 3 + 2]]);
    }
    return out;
  }

  /** Navigable area (m^2, horizontal), of one island or of all. */
  area(island?: number): number {
    let a = 0;
    for (let p = 0; p < this.polygonCount; p++) {
      if (island === undefined || this.islands[p] === island) a += this.#areas[p];
    }
    return a;
  }

  /**
   * The nearest point on the navmesh within a search box (habitat-sim's snap), or undefined.
   * A point above a polygon within climb height of it snaps straight down.
   */
  nearestPoint(
    p: Readonly<Vec3>,
    halfExtents: Readonly<Vec3> = PICK_EXTENTS,
  ): { polygon: number; point: Vec3 } | undefined {
    const q = this.#q;
    const poly = q.findNearestPoly(
      p[0],
      p[1],
      p[2],
      halfExtents[0],
      halfExtents[1],
      halfExtents[2],
    );
    if (poly < 0) return undefined;
    const o = new Float64Array(q.memory.buffer, q.outPtr(), 3);
    return { polygon: poly, point: [o[0], o[1], o[2]] };
  }

  /** The island under point `p` (after snapping), or -1. */
  islandOf(p: Readonly<Vec3>): number {
    const hit = this.nearestPoint(p);
    return hit ? this.islands[hit.polygon] : -1;
  }

  /**
   * Whether `p` lies on the navmesh: its snapped point is within 1 cm horizontally and
   * `maxZDelta` vertically (habitat-sim's isNavigable; its default 0.5 m).
   */
  isNavigable(p: Readonly<Vec3>, maxZDelta = 0.5): boolean {
    const hit = this.nearestPoint(p);
    if (!hit) return false;
    const [x, y, z] = hit.point;
    return Math.hypot(x - p[0], y - p[1]) <= 0.01 && Math.abs(z - p[2]) <= maxZDelta;
  }

  /**
   * The shortest path between two points: both are snapped onto the navmesh, A* finds the
   * polygon corridor and the funnel algorithm pulls it straight. When no route exists the
   * result has `found: false` (and the path towards the closest reachable polygon).
   */
  findPath(from: Readonly<Vec3>, to: Readonly<Vec3>): NavPath {
    const a = this.nearestPoint(from), b = this.nearestPoint(to);
    if (!a || !b) return { found: false, points: [], length: 0, polygons: [] };
    const q = this.#q;
    const n = q.findPath(a.polygon, b.polygon, ...a.point, ...b.point);
    const len = Math.abs(n);
    const polygons = Array.from(new Int32Array(q.memory.buffer, q.pathPolysPtr(), len));
    const k = q.findStraightPath(len, ...a.point, ...b.point);
    const o = new Float64Array(q.memory.buffer, q.outPtr(), k * 3);
    const points: Vec3[] = [];
    let length = 0;
    for (let i = 0; i < k; i++) {
      points.push([o[i * 3], o[i * 3 + 1], o[i * 3 + 2]]);
      if (i > 0) {
        const [p, r] = [points[i - 1], points[i]];
        length += Math.hypot(r[0] - p[0], r[1] - p[1], r[2] - p[2]);
      }
    }
    return { found: n > 0, points, length, polygons };
  }

  /**
   * A uniformly random navigable point (probability proportional to area), optionally on one
   * island; undefined when there is no area.
   */
  randomPoint(rng: Rng, island?: number): Vec3 | undefined {
    let total = 0;
    for (let p = 0; p < this.polygonCount; p++) {
      if (island === undefined || this.islands[p] === island) total += this.#areas[p];
    }
    if (!(total > 0)) return undefined;
    let r = rng.next() * total, poly = -1;
    for (let p = 0; p < this.polygonCount; p++) {
      if (island !== undefined && this.islands[p] !== island) continue;
      poly = p;
      r -= this.#areas[p];
      if (r < 0) break;
    }
    const v = this.polygon(poly);
    // A fan triangle by area, then a uniform point in it.
    const tri: number[] = [];
    let sum = 0;
    for (let j = 1; j + 1 < v.length; j++) {
      sum += triArea(v[0], v[j], v[j + 1]);
      tri.push(sum);
    }
    const t = rng.next() * sum;
    let j = tri.findIndex((c) => t < c);
    if (j < 0) j = tri.length - 1;
    const [a, b, c] = [v[0], v[j + 1], v[j + 2]];
    const s = Math.sqrt(rng.next()), u = rng.next();
    const wa = 1 - s, wb = s * (1 - u), wc = s * u;
    return [
      wa * a[0] + wb * b[0] + wc * c[0],
      wa * a[1] + wb * b[1] + wc * c[1],
      wa * a[2] + wb * b[2] + wc * c[2],
    ];
  }

  /** Areas (m^2) of the islands, by island index. */
  islandAreas(): number[] {
    const out = new Array<number>(this.islandCount).fill(0);
    for (let p = 0; p < this.polygonCount; p++) out[this.islands[p]] += this.#areas[p];
    return out;
  }

  /** A plain JSON object that {@link NavMesh.fromJSON} turns back into this navmesh. */
  toJSON(): NavMeshJson {
    return {
      format: FORMAT,
      version: 1,
      settings: { ...this.settings },
      vertices: Array.from(this.vertices),
      polygons: Array.from(this.polygons),
      islands: Array.from(this.islands),
    };
  }

  /** Rebuilds a navmesh from {@link NavMesh.toJSON}'s output; throws on malformed input. */
  static fromJSON(json: unknown): NavMesh {
    const j = json as Partial<NavMeshJson> | null;
    if (!j || j.format !== FORMAT || j.version !== 1) {
      throw new NavMeshBuildError(`not a ${FORMAT} version 1 object`);
    }
    for (const k of ["vertices", "polygons", "islands"] as const) {
      if (!Array.isArray(j[k])) throw new NavMeshBuildError(`${k} must be an array of numbers`);
    }
    const settings = { ...HABITAT_NAVMESH_SETTINGS, ...(j.settings ?? {}) };
    checkSettings(settings);
    return new NavMesh(Object.freeze(settings), {
      vertices: Float32Array.from(j.vertices!),
      polygons: Int32Array.from(j.polygons!),
      islands: Int32Array.from(j.islands!),
    });
  }

  #polygonArea(p: number): number {
    const v = this.polygon(p);
    let a = 0;
    for (let j = 1; j + 1 < v.length; j++) a += triArea(v[0], v[j], v[j + 1]);
    return a;
  }
}

/** {@link NavMesh.toJSON}'s shape. */
export interface NavMeshJson {
  format: string;
  version: number;
  settings: NavMeshSettings;
  vertices: number[];
  polygons: number[];
  islands: number[];
}

function triArea(a: Readonly<Vec3>, b: Readonly<Vec3>, c: Readonly<Vec3>): number {
  return Math.abs((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])) / 2;
}
