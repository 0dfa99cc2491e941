// Real VSI-Bench boxes (a public data file): the box convention and the box fit agree with them.
import { assert, assertAlmostEquals } from "../assert.ts";
import fixture from "../fixtures/vsibench_boxes.json" with { type: "json" };
import { minimalObb } from "../../geometry/obb.ts";
import { Rng } from "../../geometry/rng.ts";
import { objectBox } from "../../scene/meta.ts";
import { obbFromAnnotation } from "../../scene/raw.ts";

Deno.test("VSI-Bench boxes: rows of normalizedAxes are the axes (min/max of the corners match)", () => {
  assert(fixture.boxes.length === 36);
  for (const b of fixture.boxes) {
    const box = objectBox(obbFromAnnotation(b, "vsibench_boxes.json", b.scene), 0);
    for (let k = 0; k < 3; k++) {
      assertAlmostEquals(box.min[k], b.min[k], 2e-6, `${b.dataset} ${b.scene} ${b.category} min`);
      assertAlmostEquals(box.max[k], b.max[k], 2e-6, `${b.dataset} ${b.scene} ${b.category} max`);
    }
  }
});

Deno.test("VSI-Bench boxes: the minimal box of points filling a real (often tilted) box is that box", () => {
  const rng = new Rng("vsibench-boxes");
  for (const b of fixture.boxes) {
    const r = b.normalizedAxes, l = b.axesLengths, c = b.centroid;
    const pts: number[] = [];
    for (let i = 0; i < 40; i++) {
      const s = i < 8
        ? [(i & 1) - 0.5, ((i >> 1) & 1) - 0.5, ((i >> 2) & 1) - 0.5]
        : [rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)];
      for (let k = 0; k < 3; k++) {
        pts.push(c[k] + s[0] * l[0] * r[k] + s[1] * l[1] * r[3 + k] + s[2] * l[2] * r[6 + k]);
      }
    }
    const fit = minimalObb(pts);
    const got = [...fit.size].sort((x, y) => x - y), want = [...l].sort((x, y) => x - y);
    for (let k = 0; k < 3; k++) {
      assertAlmostEquals(got[k], want[k], 1e-6, `${b.scene} ${b.category}`);
    }
    for (let k = 0; k < 3; k++) assertAlmostEquals(fit.center[k], c[k], 1e-6);
  }
});
