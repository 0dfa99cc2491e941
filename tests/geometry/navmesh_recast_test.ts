// Our navmesh against recast-navigation-js (Recast/Detour compiled from C++) on the same
// meshes and settings: navigable area, and path found/not found and length over seeded pairs.

import { buildNavMesh, type TriangleMesh } from "../../geometry/navmesh/mod.ts";
import { Rng } from "../../geometry/rng.ts";
import type { Vec3 } from "../../geometry/vec.ts";
import { synthScene } from "../../scene/synth/mod.ts";
import { assert } from "../assert.ts";
import { doorRoom, MeshBuilder, ramp } from "./_meshes.ts";
import { recastReference } from "./_recast.ts";

const MESHES: [string, () => TriangleMesh][] = [
  ["door room", doorRoom],
  ["two rooms", () => new MeshBuilder().room(0, 0, 4, 4).room(4.2, 0, 8.2, 4).mesh()],
  ["ramp 40", () => ramp(40)],
  ...[0, 1, 2, 3, 4].map((i): [string, () => TriangleMesh] => [
    `synth scene ${i}`,
    () => synthScene("recast", i, { frames: 1, width: 16, height: 16 }).mesh,
  ]),
];

Deno.test("navmesh vs recast-navigation-js: area within 5%, paths agree over 200+ pairs", () => {
  let pairs = 0, agree = 0;
  const ratios: number[] = [];
  for (const [name, make] of MESHES) {
    const mesh = make();
    const ours = buildNavMesh(mesh);
    const ref = recastReference(mesh);
    try {
      assert(Math.abs(ours.area() / ref.area - 1) < 0.05, `${name}: ${ours.area()} vs ${ref.area}`);
      const rng = new Rng(`recast-pairs/${name}`);
      const [x0, y0, x1, y1] = bounds(mesh);
      // Mostly points on the navmesh; every fourth goal anywhere over the mesh's footprint.
      for (let k = 0; k < 30; k++) {
        const a = ours.randomPoint(rng)!;
        const b: Vec3 = k % 4 === 3
          ? [rng.uniform(x0, x1), rng.uniform(y0, y1), 0]
          : ours.randomPoint(rng)!;
        const p = ours.findPath(a, b), q = ref.path(a, b);
        pairs++;
        if (p.found === q.found) agree++;
        if (p.found && q.found && q.length > 0.05) ratios.push(p.length / q.length);
      }
    } finally {
      ref.destroy();
    }
  }
  assert(pairs >= 200 && agree / pairs >= 0.99, `found/not found agree on ${agree} of ${pairs}`);
  const dev = ratios.map((r) => Math.abs(r - 1)).sort((a, b) => a - b);
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  const p95 = dev[Math.floor(dev.length * 0.95)];
  assert(Math.abs(median - 1) <= 0.01, `median length ratio ${median}`);
  assert(p95 <= 0.05, `95th percentile deviation ${p95}`);
});

function bounds(mesh: TriangleMesh): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < mesh.positions.length; i += 3) {
    x0 = Math.min(x0, mesh.positions[i]);
    x1 = Math.max(x1, mesh.positions[i]);
    y0 = Math.min(y0, mesh.positions[i + 1]);
    y1 = Math.max(y1, mesh.positions[i + 1]);
  }
  return [x0, y0, x1, y1];
}
