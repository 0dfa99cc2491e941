import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import {
  linspace,
  obbCorners,
  obbDistance,
  type OrientedBox,
  pointObbDistance,
  pointSampleDistance,
  sampleDistance,
  vsibenchSample,
} from "../../geometry/box_distance.ts";
import { Rng } from "../../geometry/rng.ts";
import type { Vec3 } from "../../geometry/vec.ts";
import reference from "../fixtures/qa/vsibench_distances.json" with { type: "json" };

const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** A random box: random rotation (rows = axes), sides 0.05 to 2 m. */
function randomBox(rng: Rng, spread = 2): OrientedBox {
  // Rotation from a random unit quaternion.
  let [w, x, y, z] = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
  const n = Math.hypot(w, x, y, z);
  [w, x, y, z] = [w / n, x / n, y / n, z / n];
  const m = [
    1 - 2 * (y * y + z * z),
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    1 - 2 * (x * x + z * z),
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    1 - 2 * (x * x + y * y),
  ];
  return {
    centroid: [
      rng.uniform(-spread, spread),
      rng.uniform(-spread, spread),
      rng.uniform(-spread, spread),
    ],
    axesLengths: [rng.uniform(0.05, 2), rng.uniform(0.05, 2), rng.uniform(0.05, 2)],
    normalizedAxes: m,
  };
}

/** Dense grid over the solid box, faces included, at most `step` apart along each axis. */
function denseSolid(box: OrientedBox, step: number): Vec3[] {
  const out: Vec3[] = [];
  const n = box.axesLengths.map((e) => Math.max(1, Math.ceil(e / step)));
  const a = box.normalizedAxes;
  for (let i = 0; i <= n[0]; i++) {
    for (let j = 0; j <= n[1]; j++) {
      for (let k = 0; k <= n[2]; k++) {
        const l = [
          (i / n[0] - 0.5) * box.axesLengths[0],
          (j / n[1] - 0.5) * box.axesLengths[1],
          (k / n[2] - 0.5) * box.axesLengths[2],
        ];
        out.push(
          [0, 1, 2].map((d) =>
            box.centroid[d] + l[0] * a[d] + l[1] * a[3 + d] + l[2] * a[6 + d]
          ) as Vec3,
        );
      }
    }
  }
  return out;
}

Deno.test("exact box-box distance agrees with dense sampling within the sampling step", () => {
  const rng = new Rng("obb-exact");
  const step = 0.025;
  let overlapping = 0;
  for (let t = 0; t < 30; t++) {
    const a = randomBox(rng), b = randomBox(rng);
    // Dense points of one solid against the other solid (point-box distance is checked
    // against brute force on its own below), both ways.
    let brute = Infinity;
    for (const p of denseSolid(a, step)) brute = Math.min(brute, pointObbDistance(p, b));
    for (const p of denseSolid(b, step)) brute = Math.min(brute, pointObbDistance(p, a));
    const exact = obbDistance(a, b);
    if (exact === 0) overlapping++;
    // Every point of a box is within step * sqrt(3) / 2 of a grid point of it.
    assert(exact <= brute + 1e-9, `exact ${exact} above sampled ${brute}`);
    assert(brute - exact <= step * Math.sqrt(3) / 2 + 1e-9, `exact ${exact} vs sampled ${brute}`);
  }
  assert(overlapping > 0 && overlapping < 30, `mix of overlapping and apart (${overlapping})`);
});

Deno.test("exact point-box distance agrees with dense sampling", () => {
  const rng = new Rng("point-obb");
  const step = 0.03;
  for (let t = 0; t < 60; t++) {
    const box = randomBox(rng, 0.5);
    const p: Vec3 = [rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(-3, 3)];
    let brute = Infinity;
    for (const q of denseSolid(box, step)) {
      brute = Math.min(brute, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
    }
    const exact = pointObbDistance(p, box);
    assert(exact <= brute + 1e-9 && brute - exact <= step * Math.sqrt(3) / 2 + 1e-9);
  }
  // Inside: 0; on a face: 0; the corners are on the box.
  const box = randomBox(rng);
  assertEquals(pointObbDistance(box.centroid as Vec3, box), 0);
  for (const c of obbCorners(box)) assert(pointObbDistance(c, box) < 1e-12);
});

Deno.test("hand-worked boxes: two boxes 1.50 m apart, touching, edge to edge", () => {
  const a: OrientedBox = { centroid: [0, 0, 0], axesLengths: [1, 1, 1], normalizedAxes: IDENTITY };
  const b: OrientedBox = {
    centroid: [2.5, 0.3, 0],
    axesLengths: [1, 1, 1],
    normalizedAxes: IDENTITY,
  };
  assertAlmostEquals(obbDistance(a, b), 1.5, 1e-12);
  // The sampled distance sees the same faces (grid values include +-e/2 exactly) when the
  // grids line up; shifted sideways by 0.3 m they do not, and it exceeds 1.5 by the offset.
  const aligned = { ...b, centroid: [2.5, 0, 0] };
  assertEquals(sampleDistance(vsibenchSample(a), vsibenchSample(aligned)), 1.5);
  const shifted = sampleDistance(vsibenchSample(a), vsibenchSample(b));
  assert(shifted > 1.5 && shifted < Math.hypot(1.5, 1 / 19), String(shifted));
  assertEquals(obbDistance(a, { ...b, centroid: [1, 0.5, 0.5] }), 0);
  // A box turned 45 degrees about z, its vertical edge toward a: gap 2 - 0.5 - sqrt(0.5).
  const c = Math.SQRT1_2;
  const turned: OrientedBox = {
    centroid: [2, 0, 0],
    axesLengths: [1, 1, 1],
    normalizedAxes: [c, c, 0, -c, c, 0, 0, 0, 1],
  };
  assertAlmostEquals(obbDistance(a, turned), 1.5 - c, 1e-12);
  // Two boxes turned about different axes, closest along crossing edges: against sampling.
  const tilted: OrientedBox = {
    centroid: [0, 0, 2.2],
    axesLengths: [1, 1, 1],
    normalizedAxes: [1, 0, 0, 0, c, c, 0, -c, c],
  };
  const roofed: OrientedBox = { ...turned, centroid: [0, 0, 0] };
  assertAlmostEquals(obbDistance(roofed, tilted), 2.2 - 0.5 - c, 1e-12);
});

Deno.test("vsibench sampler: grid, shell and crop counts", () => {
  // 0.3 / 0.05 = 5.999999999999999, so 6 values per axis: -0.15 -0.09 -0.03 0.03 0.09 0.15.
  const grid = linspace(-0.15, 0.15, 6);
  assertEquals(grid.length, 6);
  assertEquals(grid[5], 0.15);
  assertEquals(grid[4], 4 * (0.3 / 5) - 0.15);
  const atOrigin = vsibenchSample({
    centroid: [0, 0, 0],
    axesLengths: [0.3, 0.3, 0.3],
    normalizedAxes: IDENTITY,
  });
  // 6^3 points minus the 2^3 core with every |l_i| <= e_i / 4.
  assertEquals(atOrigin.points.length / 3, 208);
  assertEquals(atOrigin.spacing, 0.05);
});

Deno.test("vsibench sampler: a boundary layer cropped by rounding", () => {
  // At x = 0.79, (0.15 + 0.79) - 0.79 = 0.15000000000000002 > 0.15 (and the same at -0.15), so
  // both x faces of the grid fall outside Open3D's crop: the box looks 0.18 m deep, not 0.3.
  const box: OrientedBox = {
    centroid: [0.79, 0, 0],
    axesLengths: [0.3, 0.3, 0.3],
    normalizedAxes: IDENTITY,
  };
  const s = vsibenchSample(box);
  assertEquals(s.points.length / 3, 208 - 72);
  let maxX = -Infinity;
  for (let i = 0; i < s.points.length; i += 3) maxX = Math.max(maxX, s.points[i]);
  const x4 = linspace(-0.15, 0.15, 6)[4];
  assertEquals(maxX, x4 + 0.79);
  // y and z on grid values (not cropped: the centre is 0 there), so the gap is along x only.
  const y = linspace(-0.15, 0.15, 6)[3];
  assertEquals(pointSampleDistance([2, y, y], s), 2 - (x4 + 0.79));
  assertAlmostEquals(pointObbDistance([2, 0, 0], box), 2 - 0.94, 1e-12);
});

Deno.test("vsibench sampler: one grid value on a thin axis sits at -e/2", () => {
  // 0.04 / 0.05 rounds up to 1 value, -0.02: the far face is never sampled.
  const slab: OrientedBox = {
    centroid: [0, 0, 0],
    axesLengths: [0.04, 1, 1],
    normalizedAxes: IDENTITY,
  };
  const s = vsibenchSample(slab);
  assertEquals(s.points.length / 3, 1 * 20 * 20);
  const g = linspace(-0.5, 0.5, 20)[10];
  assertEquals(pointSampleDistance([1, g, g], s), 1.02);
  assertEquals(pointSampleDistance([-1, g, g], s), 0.98);
  assertAlmostEquals(pointObbDistance([1, 0, 0], slab), 0.98, 1e-15);
});

Deno.test("vsibench sampler: retries at s / 2 when every point is cropped", () => {
  // A 4 cm cube at x = 1.99: s = 0.05 gives the single point -0.02 per axis, and
  // (-0.02 + 1.99) - 1.99 = -0.020000000000000018 is outside. At s = 0.025 there are two
  // values per axis; the -0.02 layer is cropped again and the +0.02 one survives:
  // (0.02 + 1.99) - 1.99 = 0.019999999999999796.
  const cube: OrientedBox = {
    centroid: [1.99, 0, 0],
    axesLengths: [0.04, 0.04, 0.04],
    normalizedAxes: IDENTITY,
  };
  const s = vsibenchSample(cube);
  assertEquals(s.spacing, 0.025);
  assertEquals(s.points.length / 3, 4);
  for (let i = 0; i < s.points.length; i += 3) assertEquals(s.points[i], 0.02 + 1.99);
  assertEquals(pointSampleDistance([1, 0.02, 0.02], s), (0.02 + 1.99) - 1);
});

Deno.test("vsibench distances are bit-identical to numpy + scipy on VSI-Bench scenes", async () => {
  const dir = new URL("../fixtures/qa/vsibench_meta_info/", import.meta.url);
  let pairs = 0, boxes = 0, points = 0;
  for (const [key, ref] of Object.entries(reference)) {
    const [dataset, scene] = key.split("/");
    const meta = JSON.parse(
      await Deno.readTextFile(new URL(`${dataset}_meta_info_val.json`, dir)),
    )[scene];
    const bbox = meta.object_bbox as Record<string, OrientedBox[]>;
    const samples = new Map<string, ReturnType<typeof vsibenchSample>>();
    const sample = (c: string, i: number) => {
      const k = `${c}#${i}`;
      if (!samples.has(k)) samples.set(k, vsibenchSample(bbox[c][i]));
      return samples.get(k)!;
    };
    for (const b of ref.boxes) {
      const s = sample(b.category, b.index);
      assertEquals(s.points.length / 3, b.points, `${key} ${b.category} points`);
      assertEquals(s.spacing, b.spacing);
      let sum = 0;
      for (const v of s.points) sum += v;
      assertAlmostEquals(sum, b.sum, 1e-9 * Math.max(1, Math.abs(b.sum)));
      boxes++;
    }
    for (const [a, b, d] of ref.pairs as [string, string, number][]) {
      let best = Infinity;
      bbox[a].forEach((_, i) =>
        bbox[b].forEach((
          _,
          j,
        ) => (best = Math.min(best, sampleDistance(sample(a, i), sample(b, j)))))
      );
      assertEquals(best, d, `${key} ${a} - ${b}`);
      pairs++;
    }
    for (const p of ref.points) {
      assertEquals(pointSampleDistance(p.point as Vec3, sample(p.category, 0)), p.distance);
      points++;
    }
  }
  assert(pairs > 100 && boxes > 80 && points > 50, `${pairs} ${boxes} ${points}`);
});
