// Navmesh stages and queries on small meshes with known answers.

import {
  buildNavMesh,
  HABITAT_NAVMESH_SETTINGS,
  NavMesh,
  NAVMESH_STAGES,
  NavMeshBuilder,
  NavMeshBuildError,
  type NavMeshStage,
  type TriangleMesh,
} from "../../geometry/navmesh/mod.ts";
import { Rng } from "../../geometry/rng.ts";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";
import { doorRoom, MeshBuilder, ramp } from "./_meshes.ts";

const CS = HABITAT_NAVMESH_SETTINGS.cellSize;

/** Runs stages up to and including `last`. */
function runTo(mesh: TriangleMesh, last: NavMeshStage, settings = {}): NavMeshBuilder {
  const b = new NavMeshBuilder(mesh, settings);
  for (const s of NAVMESH_STAGES.slice(0, NAVMESH_STAGES.indexOf(last) + 1)) b.run(s);
  return b;
}

Deno.test("markWalkableTriangles: slope limit against float64 normals, and only upward faces", () => {
  const rng = new Rng("walkable");
  const m = new MeshBuilder();
  const expected: number[] = [];
  for (let i = 0; i < 300; i++) {
    const p = Array.from({ length: 9 }, () => rng.uniform(-1, 1));
    m.positions.push(...p);
    m.triangles.push(3 * i, 3 * i + 1, 3 * i + 2);
    const e0 = [p[3] - p[0], p[4] - p[1], p[5] - p[2]],
      e1 = [p[6] - p[0], p[7] - p[1], p[8] - p[2]];
    const n = [
      e0[1] * e1[2] - e0[2] * e1[1],
      e0[2] * e1[0] - e0[0] * e1[2],
      e0[0] * e1[1] - e0[1] * e1[0],
    ];
    const cos = n[2] / Math.hypot(...n);
    // Skip triangles within float32 rounding of the threshold.
    expected.push(
      Math.abs(cos - Math.cos(Math.PI / 4)) < 1e-5 ? -1 : cos > Math.cos(Math.PI / 4) ? 1 : 0,
    );
  }
  const b = new NavMeshBuilder(m.mesh());
  b.run("markWalkableTriangles");
  const got = b.walkableTriangles();
  expected.forEach((e, i) => assert(e < 0 || got[i] === e, `triangle ${i}: ${got[i]} vs ${e}`));
  assertEquals(runTo(ramp(40), "markWalkableTriangles").counts.markWalkableTriangles, 2);
  assertEquals(runTo(ramp(50), "markWalkableTriangles").counts.markWalkableTriangles, 0);
  // The same floor facing down is not walkable.
  const down = { positions: [0, 0, 0, 0, 1, 0, 1, 1, 0], triangles: [0, 1, 2] };
  assertEquals(runTo(down, "markWalkableTriangles").counts.markWalkableTriangles, 0);
});

Deno.test("rasterizeTriangles: a floor gives one span per cell; a box on it merges into one", () => {
  const b = runTo(new MeshBuilder().floor(0, 0, 1, 1).mesh(), "rasterizeTriangles");
  const g = b.grid();
  assertEquals([g.width, g.height], [20, 20]);
  assertEquals(b.counts.rasterizeTriangles, 400);
  for (const [x, y] of [[0, 0], [7, 13], [19, 19]]) {
    const s = b.spans(x, y);
    assertEquals(s.length, 1);
    assertAlmostEquals(s[0].top, 0.2, 1e-6, "a flat floor's span is one voxel");
    assert(s[0].walkable);
  }
  // A 0.5 m box on the floor: inside its footprint the floor span (closed by the box bottom)
  // and the top; under its walls one span from the floor to the top.
  const c = runTo(
    new MeshBuilder().floor(0, 0, 1, 1).box(0.25, 0.25, 0, 0.75, 0.75, 0.5).mesh(),
    "rasterizeTriangles",
  );
  const inner = c.spans(10, 10);
  assertEquals(inner.length, 2);
  assertAlmostEquals(inner[1].bottom, 0.4, 1e-6);
  assertAlmostEquals(inner[1].top, 0.6, 1e-6);
  assert(inner[1].walkable, "the box top is walkable");
  const side = c.spans(5, 10);
  assertEquals(side.length, 1);
  assertAlmostEquals(side[0].top - side[0].bottom, 0.6, 1e-6);
});

Deno.test("filterLowHangingObstacles: a steep fin within climb above the floor becomes walkable", () => {
  // Climb 0.4 m (2 voxels): a 60 degree fin 0.41-0.5 m up over the floor.
  const m = new MeshBuilder().floor(0, 0, 1, 1)
    .quad([0.3, 0.2, 0.41], [0.3, 0.8, 0.41], [0.35, 0.8, 0.5], [0.35, 0.2, 0.5]).mesh();
  const b = runTo(m, "filterLowHangingObstacles", { agentMaxClimb: 0.4 });
  assert(b.counts.filterLowHangingObstacles! > 0);
  const s = b.spans(6, 10);
  assertEquals(s.length, 2);
  assert(s[1].walkable, "the fin span now counts as walkable");
  const plain = runTo(new MeshBuilder().floor(0, 0, 1, 1).mesh(), "filterLowHangingObstacles");
  assertEquals(plain.counts.filterLowHangingObstacles, 0);
});

Deno.test("filterLedgeSpans: the rim of a platform with no walls is a ledge", () => {
  const b = runTo(new MeshBuilder().floor(0, 0, 2, 1.5).mesh(), "filterLedgeSpans");
  const { width: w, height: h } = b.grid();
  assertEquals(b.counts.filterLedgeSpans, 2 * (w + h) - 4);
  assert(!b.spans(0, 5)[0].walkable && b.spans(1, 5)[0].walkable);
});

Deno.test("filterLowHeightSpans: floor under a slab below the agent height is removed", () => {
  // Slabs 1 m (too low) and 1.8 m (high enough for a 1.5 m agent) above the floor.
  const m = new MeshBuilder().room(0, 0, 4, 2).box(0.5, 0.5, 1.0, 1.5, 1.5, 1.05)
    .box(2.5, 0.5, 1.8, 3.5, 1.5, 1.85).mesh();
  const b = runTo(m, "filterLowHeightSpans");
  const under = (x: number, y: number) => b.spans(Math.floor(x / CS), Math.floor(y / CS))[0];
  assert(!under(1, 1).walkable, "no room under the low slab");
  assert(under(3, 1).walkable, "room to pass under the high slab");
  assert(b.counts.filterLowHeightSpans! >= 20 * 20, "the low slab's whole footprint");
  const nav = new NavMeshBuilder(m).finish();
  assert(!nav.isNavigable([1, 1, 0]), "a box too low to walk under");
  assert(nav.isNavigable([3, 1, 0]));
});

Deno.test("buildCompactHeightfield and erodeWalkableArea: a square platform shrinks by the radius", () => {
  const b = runTo(new MeshBuilder().floor(0, 0, 4, 4).mesh(), "erodeWalkableArea");
  // 80 x 80 cells, minus the ledge ring, minus 2 cells of radius (0.1 m at 0.05 m).
  assertEquals(b.counts.buildCompactHeightfield, 78 * 78);
  assertEquals(b.counts.erodeWalkableArea, 74 * 74);
  assertEquals(b.walkableAt(2, 40), 0);
  assertEquals(b.walkableAt(3, 40), 1);
});

Deno.test("buildDistanceField: chamfer distance peaks at the centre of the square", () => {
  const b = runTo(new MeshBuilder().floor(0, 0, 4, 4).mesh(), "buildDistanceField");
  // 74 walkable cells across: the centre is 36 cells (chamfer 2 each) from the boundary.
  assertEquals(b.counts.buildDistanceField, 72);
  assertEquals(b.distanceAt(3, 40), 0);
  assert(b.distanceAt(40, 40) > b.distanceAt(20, 40));
});

Deno.test("buildRegions: separate floors get separate regions; specks below 1 m^2 are dropped", () => {
  const m = new MeshBuilder().floor(0, 0, 3, 3).floor(4, 0, 7, 3).floor(8, 0, 8.9, 0.9).mesh();
  const b = runTo(m, "buildRegions");
  assert(b.counts.buildRegions! >= 2);
  const r1 = b.regionAt(30, 30), r2 = b.regionAt(110, 30);
  assert(r1 > 0 && r2 > 0 && r1 !== r2, `${r1} ${r2}`);
  assertEquals(b.regionAt(168, 9), 0, "a 0.9 m square erodes below the minimum region size");
});

Deno.test("buildContours, buildPolyMesh, buildIslands: a square floor is one quad", () => {
  const b = runTo(new MeshBuilder().floor(0, 0, 4, 4).mesh(), "buildIslands");
  assertEquals(b.contourSizes().filter((n) => n > 0), [4]);
  assertEquals(b.counts.buildPolyMesh, 1);
  assertEquals(b.counts.buildIslands, 1);
  const nav = b.finish();
  assertEquals(nav.polygon(0).length, 4);
  assertAlmostEquals(nav.area(), 3.7 * 3.7, 1e-4);
});

Deno.test("buildPolyMesh: convex polygons of at most 6 vertices with symmetric adjacency", () => {
  const nav = buildNavMesh(doorRoom());
  const nvp = 6;
  for (let p = 0; p < nav.polygonCount; p++) {
    const v = nav.polygon(p);
    assert(v.length >= 3 && v.length <= nvp);
    for (let j = 0; j < v.length; j++) {
      const [a, b, c] = [v[j], v[(j + 1) % v.length], v[(j + 2) % v.length]];
      const cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
      assert(cross >= -1e-9, `polygon ${p} is convex and counter-clockwise`);
    }
    for (let j = 0; j < v.length; j++) {
      const q = nav.polygons[p * 2 * nvp + nvp + j];
      if (q < 0) continue;
      const back = Array.from({ length: nvp }, (_, k) => nav.polygons[q * 2 * nvp + nvp + k]);
      assert(back.includes(p), `adjacency ${p} -> ${q} is mutual`);
    }
  }
  assertEquals(nav.islandCount, 1);
});

Deno.test("flat square room: navigable area is the floor minus the agent border", () => {
  const nav = buildNavMesh(new MeshBuilder().room(0, 0, 12, 10).mesh());
  const r = HABITAT_NAVMESH_SETTINGS.agentRadius;
  const analytic = (12 - 2 * r) * (10 - 2 * r);
  assert(Math.abs(nav.area() / analytic - 1) < 0.02, `${nav.area()} vs ${analytic}`);
  // Recast's voxel rule: the walkable cells touching a wall are boundary cells and go with the
  // radius, so each side loses between the radius and the radius plus one cell.
  const least = (12 - 2 * (r + CS)) * (10 - 2 * (r + CS));
  assert(nav.area() >= least - 1e-6 && nav.area() <= analytic + 1e-6, String(nav.area()));
});

Deno.test("wall with a door: the path goes through the gap and matches the analytic length", () => {
  const nav = buildNavMesh(doorRoom());
  const start: [number, number, number] = [1, 1, 0], goal: [number, number, number] = [11, 1.2, 0];
  const path = nav.findPath(start, goal);
  assert(path.found);
  const crossing = path.points.findIndex((p, i) => i > 0 && path.points[i - 1][0] < 6 && p[0] >= 6);
  const [a, b] = [path.points[crossing - 1], path.points[crossing]];
  const yAt6 = a[0] === b[0] ? a[1] : a[1] + (b[1] - a[1]) * (6 - a[0]) / (b[0] - a[0]);
  assert(yAt6 > 2 && yAt6 < 4, `crosses x = 6 at y = ${yAt6}, inside the door`);
  // Shortest path for a disc of the agent radius: tangents to the jamb corners, arcs, the gap.
  const rad = HABITAT_NAVMESH_SETTINGS.agentRadius;
  const around = (p: number[], c: number[], up: number) => {
    const d = Math.hypot(p[0] - c[0], p[1] - c[1]);
    const phi = Math.atan2(p[1] - c[1], p[0] - c[0]);
    const tangent = up > 0 ? phi - Math.acos(rad / d) : phi + Math.acos(rad / d);
    return Math.sqrt(d * d - rad * rad) +
      rad * Math.abs(Math.PI / 2 - (tangent + 2 * Math.PI) % (2 * Math.PI));
  };
  const analytic = around(start, [5.95, 2], 1) + 0.1 + around(goal, [6.05, 2], -1);
  assert(Math.abs(path.length / analytic - 1) < 0.01, `${path.length} vs ${analytic}`);
});

Deno.test("ramps: 40 degrees is walkable end to end, 50 degrees is not", () => {
  const h40 = 3 * Math.tan(40 * Math.PI / 180);
  const nav = buildNavMesh(ramp(40));
  assert(nav.isNavigable([1.5, 1, h40 / 2]));
  const up = nav.findPath([0.3, 1, 0], [2.7, 1, h40 * 0.9]);
  assert(up.found && up.points[up.points.length - 1][2] > h40 * 0.8);
  const steep = buildNavMesh(ramp(50));
  assertEquals(steep.polygonCount, 0);
  assert(!steep.isNavigable([1.5, 1, 1.8]));
});

Deno.test("two rooms without a door: two islands and no path", () => {
  const nav = buildNavMesh(new MeshBuilder().room(0, 0, 4, 4).room(4.2, 0, 8.2, 4).mesh());
  assertEquals(nav.islandCount, 2);
  const a = nav.islandOf([2, 2, 0]), b = nav.islandOf([6, 2, 0]);
  assert(a >= 0 && b >= 0 && a !== b);
  const path = nav.findPath([2, 2, 0], [6, 2, 0]);
  assert(!path.found);
  assert(nav.findPath([1, 1, 0], [3, 3, 0]).found);
});

Deno.test("queries: snapping, isNavigable, random points per island, JSON round trip", () => {
  const nav = buildNavMesh(new MeshBuilder().room(0, 0, 4, 4).room(4.2, 0, 8.2, 4).mesh());
  const snap = nav.nearestPoint([2, 2, 1.2])!;
  assertAlmostEquals(snap.point[0], 2, 1e-9);
  assertAlmostEquals(snap.point[2], 0.2, 1e-6, "snapped straight down onto the floor voxel");
  const side = nav.nearestPoint([0.05, 2, 0])!;
  assertAlmostEquals(side.point[0], 0.15, 1e-6, "a point in the wall border snaps to the edge");
  assert(
    nav.isNavigable([2, 2, 0]) && !nav.isNavigable([0.05, 2, 0]) && !nav.isNavigable([2, 2, 1]),
  );
  const rngA = new Rng("pts"), rngB = new Rng("pts");
  for (let i = 0; i < 50; i++) {
    const p = nav.randomPoint(rngA, 1)!;
    assertEquals(p, nav.randomPoint(rngB, 1)!, "seeded");
    assert(nav.isNavigable(p) && nav.islandOf(p) === 1);
  }
  const copy = NavMesh.fromJSON(JSON.parse(JSON.stringify(nav)));
  assertEquals(copy.polygonCount, nav.polygonCount);
  assertEquals(copy.findPath([0.5, 0.5, 0], [3.5, 3, 0]), nav.findPath([0.5, 0.5, 0], [3.5, 3, 0]));
  let thrown = false;
  try {
    NavMesh.fromJSON({
      format: "vlm3r-navmesh",
      version: 1,
      vertices: [],
      polygons: [5],
      islands: [],
    });
  } catch (e) {
    thrown = e instanceof NavMeshBuildError;
  }
  assert(thrown, "malformed JSON is rejected");
});

Deno.test("a failed build leaves the module usable", async () => {
  await assertRejects(
    () => buildNavMesh({ positions: [0, 0, 0], triangles: [0, 0, 1] }),
    /not a vertex/,
  );
  // A grid far too large to allocate traps inside the module.
  const huge = { positions: [0, 0, 0, 1e6, 0, 0, 0, 1e6, 0], triangles: [0, 1, 2] };
  await assertRejects(() => buildNavMesh(huge), /failed/);
  assertEquals(buildNavMesh(new MeshBuilder().floor(0, 0, 4, 4).mesh()).polygonCount, 1);
});
