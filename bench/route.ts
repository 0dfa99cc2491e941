/**
 * Benchmark of the navmesh: build time per synthetic scene and time per path query, side by side
 * with recast-navigation-js (Recast/Detour compiled from C++ to wasm) on the same meshes and
 * settings, in one run, as ratios (ours / theirs; below 1 is faster). Also our time per build
 * stage. Figures are wall times of this run; compare ratios, not absolute numbers.
 *
 *   deno task bench:route            # = deno run -A bench/route.ts [--scenes 5] [--pairs 200] [--json]
 *
 * recast-navigation-js also builds a detail mesh (heights refined by samples), which our build
 * does not: its build time includes that extra stage.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { init, NavMeshQuery } from "@recast-navigation/core";
import { generateSoloNavMesh } from "@recast-navigation/generators";
import { buildNavMesh, NAVMESH_STAGES, NavMeshBuilder } from "../geometry/navmesh/mod.ts";
import { Rng } from "../geometry/rng.ts";
import type { Vec3 } from "../geometry/vec.ts";
import { synthScene } from "../scene/synth/mod.ts";
import { recastConfig, toRecastFrame } from "../tests/geometry/_recast.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scenes: { type: "string", default: "5" },
    pairs: { type: "string", default: "200" },
    repeats: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
  },
});
const scenes = Number(values.scenes),
  pairs = Number(values.pairs),
  repeats = Number(values.repeats);
await init();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const time = (fn: () => void) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};

interface Row {
  scene: string;
  triangles: number;
  buildMs: number;
  recastBuildMs: number;
  queryUs: number;
  recastQueryUs: number;
}
const rows: Row[] = [];
const stageMs: Record<string, number[]> = {};

for (let i = 0; i < scenes; i++) {
  const scene = synthScene("bench-route", i, { frames: 1, width: 16, height: 16 });
  const mesh = { positions: scene.mesh.positions, triangles: scene.mesh.triangles };
  const { positions, indices } = toRecastFrame(mesh);
  const config = recastConfig();
  // Warm up both (wasm compilation, JIT), then alternate repeats.
  buildNavMesh(mesh);
  generateSoloNavMesh(positions, indices, config).navMesh?.destroy();
  const ours: number[] = [], theirs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    ours.push(time(() => {
      const b = new NavMeshBuilder(mesh).runAll();
      for (const s of NAVMESH_STAGES) (stageMs[s] ??= []).push(b.timings[s]!);
      b.finish();
    }));
    theirs.push(time(() => generateSoloNavMesh(positions, indices, config).navMesh?.destroy()));
  }
  const nav = buildNavMesh(mesh);
  const built = generateSoloNavMesh(positions, indices, config);
  const query = new NavMeshQuery(built.navMesh!);
  const rng = new Rng(`bench-route/${i}`);
  const pts: [Vec3, Vec3][] = Array.from(
    { length: pairs },
    () => [nav.randomPoint(rng)!, nav.randomPoint(rng)!],
  );
  const halfExtents = { x: 2, y: 4, z: 2 };
  const recastPath = ([a, b]: [Vec3, Vec3]) => {
    const s = query.findNearestPoly({ x: a[0], y: a[2], z: a[1] }, { halfExtents });
    const e = query.findNearestPoly({ x: b[0], y: b[2], z: b[1] }, { halfExtents });
    const c = query.findPath(s.nearestRef, e.nearestRef, s.nearestPoint, e.nearestPoint, {
      maxPathPolys: 4096,
    });
    const polys: number[] = [];
    for (let k = 0; k < c.polys.size; k++) polys.push(c.polys.get(k));
    c.polys.destroy();
    const sp = query.findStraightPath(s.nearestPoint, e.nearestPoint, polys, {
      maxStraightPathPoints: 4096,
    });
    sp.straightPath.destroy();
    sp.straightPathFlags.destroy();
    sp.straightPathRefs.destroy();
  };
  for (const p of pts.slice(0, 20)) {
    nav.findPath(p[0], p[1]);
    recastPath(p);
  }
  const q1: number[] = [], q2: number[] = [];
  for (let r = 0; r < repeats; r++) {
    q1.push(time(() => pts.forEach((p) => nav.findPath(p[0], p[1]))) * 1000 / pairs);
    q2.push(time(() => pts.forEach(recastPath)) * 1000 / pairs);
  }
  query.destroy();
  built.navMesh!.destroy();
  rows.push({
    scene: scene.name,
    triangles: mesh.triangles.length / 3,
    buildMs: median(ours),
    recastBuildMs: median(theirs),
    queryUs: median(q1),
    recastQueryUs: median(q2),
  });
}

if (values.json) {
  console.log(
    JSON.stringify({
      rows,
      stageMs: Object.fromEntries(Object.entries(stageMs).map(([k, v]) => [k, median(v)])),
    }),
  );
} else {
  const f = (x: number, d = 1) => x.toFixed(d).padStart(8);
  console.log(
    `navmesh build and path queries, ${scenes} synth scenes, ${pairs} pairs each, median of ${repeats}`,
  );
  console.log("scene          triangles  build ms  recast ms  ratio | query us  recast us  ratio");
  for (const r of rows) {
    console.log(
      `${r.scene.padEnd(14)} ${String(r.triangles).padStart(8)} ${f(r.buildMs)} ${
        f(r.recastBuildMs)
      }  ${f(r.buildMs / r.recastBuildMs, 2)} | ${f(r.queryUs)} ${f(r.recastQueryUs)}  ${
        f(r.queryUs / r.recastQueryUs, 2)
      }`,
    );
  }
  const gm = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
  console.log(
    `geometric mean ratio: build ${
      gm(rows.map((r) => r.buildMs / r.recastBuildMs)).toFixed(2)
    }, query ${gm(rows.map((r) => r.queryUs / r.recastQueryUs)).toFixed(2)}`,
  );
  console.log("\nour build stages (median ms over all builds):");
  for (const s of NAVMESH_STAGES) console.log(`  ${s.padEnd(28)} ${median(stageMs[s]).toFixed(2)}`);
}
