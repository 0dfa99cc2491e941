/**
 * The peer reference: recast-navigation-js (Recast/Detour compiled from C++), a test-only
 * dependency. Our z-up meshes are given to it mirrored as (x, z, y) with the triangle winding
 * flipped, so its y-up grid is exactly ours (same origin, same rows) and normals stay up.
 *
 * @module
 */

import { getNavMeshPositionsAndIndices, init, NavMeshQuery } from "@recast-navigation/core";
import { generateSoloNavMesh } from "@recast-navigation/generators";
import type { NavMeshSettings, TriangleMesh } from "../../geometry/navmesh/mod.ts";
import { HABITAT_NAVMESH_SETTINGS, voxelSettings } from "../../geometry/navmesh/mod.ts";
import type { Vec3 } from "../../geometry/vec.ts";

await init();

/** A Recast navmesh built from a z-up mesh, with queries in z-up coordinates. */
export interface RecastReference {
  area: number;
  polygons: number;
  /** Shortest path: found (goal polygon reached) and its length (m). */
  path(from: Vec3, to: Vec3): { found: boolean; length: number };
  destroy(): void;
}

/** Mirrors a z-up mesh into Recast's y-up frame (x, z, y) with flipped winding. */
export function toRecastFrame(mesh: TriangleMesh): { positions: number[]; indices: number[] } {
  const positions: number[] = [], indices: number[] = [];
  for (let i = 0; i < mesh.positions.length; i += 3) {
    positions.push(mesh.positions[i], mesh.positions[i + 2], mesh.positions[i + 1]);
  }
  for (let i = 0; i < mesh.triangles.length; i += 3) {
    indices.push(mesh.triangles[i], mesh.triangles[i + 2], mesh.triangles[i + 1]);
  }
  return { positions, indices };
}

/** Recast's solo navmesh config for our settings (voxel units as habitat-sim converts them). */
export function recastConfig(settings: Partial<NavMeshSettings> = {}): Record<string, number> {
  const s = { ...HABITAT_NAVMESH_SETTINGS, ...settings };
  const v = voxelSettings(s);
  return {
    cs: s.cellSize,
    ch: s.cellHeight,
    walkableSlopeAngle: s.agentMaxSlope,
    walkableHeight: v.walkableHeight,
    walkableClimb: v.walkableClimb,
    walkableRadius: v.walkableRadius,
    maxEdgeLen: v.maxEdgeLen,
    maxSimplificationError: s.edgeMaxError,
    minRegionArea: s.regionMinSize,
    mergeRegionArea: s.regionMergeSize,
    maxVertsPerPoly: s.vertsPerPoly,
    detailSampleDist: 6,
    detailSampleMaxError: 1,
  };
}

/** Builds the reference navmesh; throws when Recast fails. */
export function recastReference(
  mesh: TriangleMesh,
  settings: Partial<NavMeshSettings> = {},
): RecastReference {
  const { positions, indices } = toRecastFrame(mesh);
  const result = generateSoloNavMesh(positions, indices, recastConfig(settings));
  if (!result.success) throw new Error(`recast failed: ${result.error}`);
  const navMesh = result.navMesh;
  const query = new NavMeshQuery(navMesh);
  const [p, t] = getNavMeshPositionsAndIndices(navMesh);
  let area = 0;
  for (let i = 0; i < t.length; i += 3) {
    const a = t[i] * 3, b = t[i + 1] * 3, c = t[i + 2] * 3;
    area +=
      Math.abs((p[b] - p[a]) * (p[c + 2] - p[a + 2]) - (p[c] - p[a]) * (p[b + 2] - p[a + 2])) /
      2;
  }
  // habitat-sim's polyPickExt, in the mirrored frame (y up).
  const halfExtents = { x: 2, y: 4, z: 2 };
  return {
    area,
    polygons: navMesh.getTile(0).header()?.polyCount() ?? 0,
    path(from, to) {
      const a = query.findNearestPoly({ x: from[0], y: from[2], z: from[1] }, { halfExtents });
      const b = query.findNearestPoly({ x: to[0], y: to[2], z: to[1] }, { halfExtents });
      if (!a.success || !b.success || a.nearestRef === 0 || b.nearestRef === 0) {
        return { found: false, length: 0 };
      }
      const corridor = query.findPath(a.nearestRef, b.nearestRef, a.nearestPoint, b.nearestPoint, {
        maxPathPolys: 4096,
      });
      const polys: number[] = [];
      for (let i = 0; i < corridor.polys.size; i++) polys.push(corridor.polys.get(i));
      corridor.polys.destroy();
      const found = polys.length > 0 && polys[polys.length - 1] === b.nearestRef;
      const sp = query.findStraightPath(a.nearestPoint, b.nearestPoint, polys, {
        maxStraightPathPoints: 4096,
      });
      let length = 0;
      const pts = sp.straightPath;
      for (let i = 3; i < sp.straightPathCount * 3; i += 3) {
        length += Math.hypot(
          pts.get(i) - pts.get(i - 3),
          pts.get(i + 1) - pts.get(i - 2),
          pts.get(i + 2) - pts.get(i - 1),
        );
      }
      sp.straightPath.destroy();
      sp.straightPathFlags.destroy();
      sp.straightPathRefs.destroy();
      return { found, length };
    },
    destroy() {
      query.destroy();
      navMesh.destroy();
    },
  };
}
