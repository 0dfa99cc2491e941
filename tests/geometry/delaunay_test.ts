import { assert, assertAlmostEquals } from "../assert.ts";
import { alphaShapeArea, delaunay } from "../../geometry/delaunay.ts";
import { Rng } from "../../geometry/rng.ts";

function circumcircle(p: number[], a: number, b: number, c: number) {
  const [ax, ay, bx, by, cx, cy] = [
    p[2 * a],
    p[2 * a + 1],
    p[2 * b],
    p[2 * b + 1],
    p[2 * c],
    p[2 * c + 1],
  ];
  const d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by));
  const ux = ((ax * ax + ay * ay) * (by - cy) + (bx * bx + by * by) * (cy - ay) +
    (cx * cx + cy * cy) * (ay - by)) / d;
  const uy = ((ax * ax + ay * ay) * (cx - bx) + (bx * bx + by * by) * (ax - cx) +
    (cx * cx + cy * cy) * (bx - ax)) / d;
  return { ux, uy, r: Math.hypot(ax - ux, ay - uy), area: Math.abs(d) / 4 };
}

Deno.test("delaunay: every triangle is counter-clockwise with an empty circumcircle", () => {
  const rng = new Rng("delaunay");
  for (let trial = 0; trial < 5; trial++) {
    const p = Array.from({ length: 2 * 200 }, () => rng.uniform(-3, 3));
    const { triangles } = delaunay(p);
    // Euler: a triangulation of n points with h on the hull has 2n - h - 2 triangles.
    assert(triangles.length / 3 >= 2 * 200 - 200 / 4 - 2, "about 2n triangles");
    for (let t = 0; t < triangles.length; t += 3) {
      const [a, b, c] = [triangles[t], triangles[t + 1], triangles[t + 2]];
      const cross = (p[2 * b] - p[2 * a]) * (p[2 * c + 1] - p[2 * a + 1]) -
        (p[2 * b + 1] - p[2 * a + 1]) * (p[2 * c] - p[2 * a]);
      assert(cross > 0, "counter-clockwise, non-degenerate");
      const cc = circumcircle(p, a, b, c);
      for (let i = 0; i < 200; i++) {
        if (i === a || i === b || i === c) continue;
        assert(
          Math.hypot(p[2 * i] - cc.ux, p[2 * i + 1] - cc.uy) >= cc.r * (1 - 1e-9),
          "empty circle",
        );
      }
    }
  }
});

Deno.test("alphaShapeArea equals a brute-force sum over empty small circumcircles", () => {
  const rng = new Rng("alpha");
  for (let trial = 0; trial < 4; trial++) {
    const n = 60;
    const p = Array.from({ length: 2 * n }, () => rng.uniform(0, 1.2));
    let brute = 0;
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        for (let c = b + 1; c < n; c++) {
          const cc = circumcircle(p, a, b, c);
          if (!(cc.r < 0.2)) continue;
          let empty = true;
          for (let i = 0; i < n && empty; i++) {
            if (
              i !== a && i !== b && i !== c &&
              Math.hypot(p[2 * i] - cc.ux, p[2 * i + 1] - cc.uy) < cc.r
            ) {
              empty = false;
            }
          }
          if (empty) brute += cc.area;
        }
      }
    }
    assertAlmostEquals(alphaShapeArea(p, 5), brute, 1e-9);
  }
});

Deno.test("alphaShapeArea survives collinear, duplicated and co-circular points (walls, floors)", () => {
  // An L-shaped floor on a 10 cm lattice, its walls projected to lines, every point twice.
  const pts: number[] = [];
  for (let i = 0; i <= 60; i++) {
    for (let j = 0; j <= 40; j++) {
      const x = i * 0.1, y = j * 0.1;
      if (x > 3 + 1e-9 && y > 2 + 1e-9) continue;
      pts.push(x, y, x, y);
    }
  }
  // L of 6 x 4 minus 3 x 2; the alpha shape also takes four 0.005 m^2 slivers at the inner
  // corner, whose circumradius (0.158 m) is below 0.2 m.
  assertAlmostEquals(alphaShapeArea(pts, 5), 24 - 6 + 4 * 0.005, 1e-6);
  // Large alpha radius: the convex hull.
  assertAlmostEquals(alphaShapeArea(pts, 1e-6), 24 - 3, 1e-6);
});

Deno.test("delaunay handles 10,000 points quickly enough for a room", () => {
  const rng = new Rng("big");
  const p = Array.from({ length: 20000 }, () => rng.uniform(0, 8));
  const { triangles } = delaunay(p);
  assert(triangles.length / 3 > 19000);
});
