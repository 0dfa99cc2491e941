// Build settings and the intermediate products of one navmesh build. Every build runs in a
// fresh WebAssembly instance, so module-level state is released with the instance.
//
// Coordinates: the input is z-up (ScanNet family). The voxel grid runs along world x (columns)
// and world y (rows); span heights are along world z. Grid indices follow Recast's layout, so
// direction d steps by (DX[d], DY[d]).

export const DX: StaticArray<i32> = [-1, 0, 1, 0];
export const DY: StaticArray<i32> = [0, 1, 0, -1];

/** Span heights are stored in 13 bits in Recast; we keep its ceiling for the filters. */
export const SPAN_MAX_HEIGHT: i32 = (1 << 13) - 1;
/** "No span above" for the filters and the compact heightfield. */
export const MAX_HEIGHT: i32 = 0xffff;
export const NOT_CONNECTED: i32 = 0x3f;
export const NULL_AREA: u8 = 0;
export const WALKABLE_AREA: u8 = 63;

@inline export function dirX(d: i32): i32 {
  return unchecked(DX[d]);
}
@inline export function dirY(d: i32): i32 {
  return unchecked(DY[d]);
}

export class Config {
  cs: f32 = 0.05;
  ch: f32 = 0.2;
  slopeDeg: f32 = 45;
  walkableHeight: i32 = 8;
  walkableClimb: i32 = 1;
  walkableRadius: i32 = 2;
  maxEdgeLen: i32 = 240;
  maxError: f32 = 1.3;
  minRegionArea: i32 = 400;
  mergeRegionArea: i32 = 400;
  nvp: i32 = 6;
}
export const cfg = new Config();

/** The input triangle soup. */
export class Input {
  verts: Float32Array = new Float32Array(0);
  tris: Int32Array = new Int32Array(0);
  areas: Uint8Array = new Uint8Array(0);
  nverts: i32 = 0;
  ntris: i32 = 0;
}
export const input = new Input();

/** Span heightfield: per column a linked list of solid spans sorted bottom up. */
export class Heightfield {
  width: i32 = 0;
  height: i32 = 0;
  bminX: f32 = 0;
  bminY: f32 = 0;
  bminZ: f32 = 0;
  bmaxX: f32 = 0;
  bmaxY: f32 = 0;
  bmaxZ: f32 = 0;
  columns: Int32Array = new Int32Array(0);
  smin: Int32Array = new Int32Array(0);
  smax: Int32Array = new Int32Array(0);
  area: Uint8Array = new Uint8Array(0);
  next: Int32Array = new Int32Array(0);
  used: i32 = 0;
  freeHead: i32 = -1;
  live: i32 = 0;
}
export const hf = new Heightfield();

/** Compact heightfield: the open space above walkable spans, with neighbour links. */
export class CompactHeightfield {
  width: i32 = 0;
  height: i32 = 0;
  spanCount: i32 = 0;
  cellIndex: Int32Array = new Int32Array(0);
  cellCount: Int32Array = new Int32Array(0);
  y: Int32Array = new Int32Array(0);
  h: Int32Array = new Int32Array(0);
  con: Int32Array = new Int32Array(0);
  areas: Uint8Array = new Uint8Array(0);
  reg: Int32Array = new Int32Array(0);
  dist: Int32Array = new Int32Array(0);
  maxDistance: i32 = 0;
  maxRegions: i32 = 0;
}
export const chf = new CompactHeightfield();

@inline export function getCon(i: i32, dir: i32): i32 {
  return (unchecked(chf.con[i]) >> (dir * 6)) & 0x3f;
}

/** Index of the span that `i` at (x, y) connects to in direction `dir` (which must exist). */
@inline export function neighbour(x: i32, y: i32, i: i32, dir: i32): i32 {
  return unchecked(chf.cellIndex[x + dirX(dir) + (y + dirY(dir)) * chf.width]) + getCon(i, dir);
}

/** Simplified region outlines, vertices as (x, height, y, flags) in voxel units. */
export class Contour {
  verts: Array<i32> = new Array<i32>();
  reg: i32 = 0;
  area: u8 = 0;
  @inline nverts(): i32 {
    return this.verts.length >> 2;
  }
}
export class ContourSet {
  conts: Array<Contour> = new Array<Contour>();
}
export const cset = new ContourSet();

/** Convex polygons with adjacency, vertices in voxel units. */
export class PolyMesh {
  verts: Int32Array = new Int32Array(0);
  nverts: i32 = 0;
  /** nvp vertex indices then nvp neighbour polygons per polygon; -1 = none. */
  polys: Int32Array = new Int32Array(0);
  regs: Int32Array = new Int32Array(0);
  areas: Uint8Array = new Uint8Array(0);
  npolys: i32 = 0;
  island: Int32Array = new Int32Array(0);
  nislands: i32 = 0;
}
export const pmesh = new PolyMesh();
