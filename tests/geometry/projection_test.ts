import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import {
  cameraPoseFromAngles,
  mat4InvertRigid,
  projectPoint,
  transformPoint,
} from "../../geometry/pose.ts";
import { labelBoxes, scaleIntrinsics, worldToPixel } from "../../geometry/projection.ts";
import { rasterize, rasterizeLabels, triangleLabelsFromVertices } from "../../geometry/raster.ts";
import { Rng } from "../../geometry/rng.ts";

Deno.test("worldToPixel equals projecting the point moved by the inverse pose", () => {
  const rng = new Rng("w2p");
  const k = { fx: 300, fy: 310, cx: 160, cy: 120, width: 320, height: 240 };
  for (let i = 0; i < 200; i++) {
    const pose = cameraPoseFromAngles(
      [rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(0, 2)],
      rng.uniform(-3, 3),
      rng.uniform(-0.5, 0.5),
      rng.uniform(-0.3, 0.3),
    );
    const p: [number, number, number] = [rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(0, 3)];
    const c = transformPoint(mat4InvertRigid(pose), p);
    const want = projectPoint(k, c);
    const got = worldToPixel(pose, k, p);
    if (!want) {
      assertEquals(got, undefined);
      continue;
    }
    assertAlmostEquals(got!.u, want[0], 1e-7);
    assertAlmostEquals(got!.v, want[1], 1e-7);
    assertAlmostEquals(got!.depth, c[2], 1e-9);
  }
  const half = scaleIntrinsics(k, 160, 120);
  assertEquals([half.fx, half.fy, half.cx, half.cy], [150, 155, 80, 60]);
});

Deno.test("labelBoxes equals a brute-force scan per label", () => {
  const rng = new Rng("labels");
  const w = 37, h = 23;
  const img = Int32Array.from({ length: w * h }, () => rng.int(-1, 6));
  const got = labelBoxes(img, w, h, 0);
  for (let l = 0; l <= 6; l++) {
    let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1, n = 0;
    for (let i = 0; i < img.length; i++) {
      if (img[i] !== l) continue;
      const x = i % w, y = Math.floor(i / w);
      x0 = Math.min(x0, x), y0 = Math.min(y0, y), x1 = Math.max(x1, x), y1 = Math.max(y1, y), n++;
    }
    const b = got.find((g) => g.label === l);
    if (n === 0) assert(!b);
    else assertEquals(b, { label: l, bbox: [x0, y0, x1, y1], pixels: n });
  }
  assert(got.every((b) => b.label >= 0));
});

Deno.test("rasterizeLabels is rasterize with each pixel's triangle label", () => {
  const rng = new Rng("rl");
  const pos: number[] = [];
  const tri: number[] = [];
  for (let t = 0; t < 40; t++) {
    const c = [rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(1, 5)];
    for (let v = 0; v < 3; v++) {
      pos.push(c[0] + rng.uniform(-1, 1), c[1] + rng.uniform(-1, 1), c[2] + rng.uniform(-0.5, 0.5));
    }
    tri.push(3 * t, 3 * t + 1, 3 * t + 2);
  }
  const mesh = { positions: Float64Array.from(pos), triangles: Uint32Array.from(tri) };
  const vertexLabel = Int32Array.from(
    { length: pos.length / 3 },
    (_, i) => Math.floor(i / 3) % 5 - 1,
  );
  const labels = triangleLabelsFromVertices(mesh.triangles, vertexLabel);
  const k = { fx: 40, fy: 40, cx: 31.5, cy: 23.5, width: 64, height: 48 };
  const eye = new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const a = rasterize(mesh, eye, k), b = rasterizeLabels(mesh, labels, eye, k);
  assertEquals(b.depth, a.depth);
  for (let i = 0; i < a.triangle.length; i++) {
    assertEquals(b.label[i], a.triangle[i] < 0 ? -1 : labels[a.triangle[i]]);
  }
});
