// The navmesh module's exports. A build instance takes a triangle soup, runs the stages one by
// one (each exported so it can be timed and tested on its own) and hands back the polygon mesh
// in world coordinates; a query instance is loaded with such a mesh and answers queries.

import { buildCompactHeightfield, buildDistanceField, erodeWalkableArea } from "./compact";
import { buildContours } from "./contours";
import {
  countWalkableSpans,
  filterLedgeSpans,
  filterLowHangingObstacles,
  filterLowHeightSpans,
  markWalkableTriangles,
  rasterizeTriangles,
} from "./heightfield";
import { buildIslands, buildPolyMesh } from "./polymesh";
import { buildRegions } from "./regions";
import { cfg, chf, cset, hf, input, NULL_AREA, pmesh } from "./state";

export {
  buildCompactHeightfield,
  buildContours,
  buildDistanceField,
  buildIslands,
  buildPolyMesh,
  buildRegions,
  countWalkableSpans,
  erodeWalkableArea,
  filterLedgeSpans,
  filterLowHangingObstacles,
  filterLowHeightSpans,
  markWalkableTriangles,
  rasterizeTriangles,
};
export {
  closestPoint,
  findNearestPoly,
  findPath,
  findStraightPath,
  outPtr,
  pathPolysPtr,
  polyVertCount,
  queryInit,
  queryPolysPtr,
  queryPrepare,
  queryVertsPtr,
} from "./query";

/** Settings in voxel units (the wrapper converts from metres and degrees). */
export function configure(
  cs: f32, ch: f32, slopeDeg: f32, walkableHeight: i32, walkableClimb: i32, walkableRadius: i32,
  maxEdgeLen: i32, maxError: f32, minRegionArea: i32, mergeRegionArea: i32, nvp: i32,
): void {
  cfg.cs = cs;
  cfg.ch = ch;
  cfg.slopeDeg = slopeDeg;
  cfg.walkableHeight = walkableHeight;
  cfg.walkableClimb = walkableClimb;
  cfg.walkableRadius = walkableRadius;
  cfg.maxEdgeLen = maxEdgeLen;
  cfg.maxError = maxError;
  cfg.minRegionArea = minRegionArea;
  cfg.mergeRegionArea = mergeRegionArea;
  cfg.nvp = nvp;
}

/** Allocates the input; the caller writes positions (x, y, z) and triangle indices. */
export function setInput(nverts: i32, ntris: i32): void {
  input.verts = new Float32Array(nverts * 3);
  input.tris = new Int32Array(ntris * 3);
  input.nverts = nverts;
  input.ntris = ntris;
}
export function inputVertsPtr(): usize {
  return input.verts.dataStart;
}
export function inputTrisPtr(): usize {
  return input.tris.dataStart;
}
export function triangleAreasPtr(): usize {
  return input.areas.dataStart;
}

// Inspection of intermediate products, for tests and the map.
export function gridWidth(): i32 {
  return hf.width;
}
export function gridHeight(): i32 {
  return hf.height;
}
export function gridMinX(): f32 {
  return hf.bminX;
}
export function gridMinY(): f32 {
  return hf.bminY;
}
export function gridMinZ(): f32 {
  return hf.bminZ;
}
/** Spans in column (x, y) of the heightfield. */
export function columnSpanCount(x: i32, y: i32): i32 {
  let n = 0;
  for (let s = hf.columns[x + y * hf.width]; s >= 0; s = hf.next[s]) n++;
  return n;
}
/** Span k of column (x, y): 0 = bottom, 1 = top (voxels), 2 = walkable (0/1). */
export function spanField(x: i32, y: i32, k: i32, field: i32): i32 {
  let s = hf.columns[x + y * hf.width];
  for (let j = 0; j < k; j++) s = hf.next[s];
  return field == 0 ? hf.smin[s] : field == 1 ? hf.smax[s] : hf.area[s] != NULL_AREA ? 1 : 0;
}
/** Walkable compact spans in column (x, y) after erosion. */
export function compactWalkableAt(x: i32, y: i32): i32 {
  const c = x + y * chf.width;
  let n = 0;
  for (let i = chf.cellIndex[c], ni = i + chf.cellCount[c]; i < ni; i++) if (chf.areas[i] != NULL_AREA) n++;
  return n;
}
/** Region of the first compact span in column (x, y); -1 when there is none. */
export function regionAt(x: i32, y: i32): i32 {
  const c = x + y * chf.width;
  return chf.cellCount[c] > 0 ? chf.reg[chf.cellIndex[c]] : -1;
}
/** Distance-field value of the first compact span in column (x, y); -1 when there is none. */
export function distanceAt(x: i32, y: i32): i32 {
  const c = x + y * chf.width;
  return chf.cellCount[c] > 0 ? chf.dist[chf.cellIndex[c]] : -1;
}
export function contourCount(): i32 {
  return cset.conts.length;
}
export function contourVertCount(i: i32): i32 {
  return cset.conts[i].nverts();
}

// The finished polygon mesh in world coordinates.
let worldVerts = new Float32Array(0);
/** Converts polygon vertices to world coordinates; returns the vertex count. */
export function exportMesh(): i32 {
  const n = pmesh.nverts;
  worldVerts = new Float32Array(max<i32>(n, 1) * 3);
  for (let i = 0; i < n; i++) {
    worldVerts[i * 3] = hf.bminX + <f32>pmesh.verts[i * 3] * cfg.cs;
    worldVerts[i * 3 + 1] = hf.bminY + <f32>pmesh.verts[i * 3 + 2] * cfg.cs;
    worldVerts[i * 3 + 2] = hf.bminZ + <f32>pmesh.verts[i * 3 + 1] * cfg.ch;
  }
  return n;
}
export function meshVertsPtr(): usize {
  return worldVerts.dataStart;
}
export function meshPolysPtr(): usize {
  return pmesh.polys.dataStart;
}
export function meshPolyCount(): i32 {
  return pmesh.npolys;
}
export function meshIslandsPtr(): usize {
  return pmesh.island.dataStart;
}
export function meshRegionsPtr(): usize {
  return pmesh.regs.dataStart;
}
