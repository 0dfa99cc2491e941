import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { convexHull2, convexHull3 } from "../../geometry/hull.ts";
import { minAreaRectangle, minimalObb, obbContains } from "../../geometry/obb.ts";
import { Rng } from "../../geometry/rng.ts";
import type { Vec3 } from "../../geometry/vec.ts";

function randomCloud(rng: Rng, n: number): number[] {
  // An anisotropic, turned blob: a hard case for axis-aligned guesses.
  const r = randomRotation(rng);
  const s = [rng.uniform(0.2, 2), rng.uniform(0.2, 2), rng.uniform(0.2, 2)];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const l = [rng.uniform(-1, 1) * s[0], rng.uniform(-1, 1) * s[1], rng.uniform(-1, 1) * s[2]];
    for (let k = 0; k < 3; k++) out.push(r[k][0] * l[0] + r[k][1] * l[1] + r[k][2] * l[2] + 1);
  }
  return out;
}

function randomRotation(rng: Rng): Vec3[] {
  // Uniform quaternion (Shoemake).
  const u1 = rng.next(), u2 = rng.next() * 2 * Math.PI, u3 = rng.next() * 2 * Math.PI;
  const a = Math.sqrt(1 - u1), b = Math.sqrt(u1);
  const [w, x, y, z] = [a * Math.sin(u2), a * Math.cos(u2), b * Math.sin(u3), b * Math.cos(u3)];
  return [
    [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
  ];
}

function volumeFor(p: number[], rows: Vec3[]): number {
  let v = 1;
  for (const a of rows) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < p.length; i += 3) {
      const h = a[0] * p[i] + a[1] * p[i + 1] + a[2] * p[i + 2];
      lo = Math.min(lo, h);
      hi = Math.max(hi, h);
    }
    v *= hi - lo;
  }
  return v;
}

function zyz(al: number, be: number, ga: number): Vec3[] {
  const ca = Math.cos(al), sa = Math.sin(al), cb = Math.cos(be), sb = Math.sin(be);
  const cg = Math.cos(ga), sg = Math.sin(ga);
  return [
    [ca * cb * cg - sa * sg, -ca * cb * sg - sa * cg, ca * sb],
    [sa * cb * cg + ca * sg, -sa * cb * sg + ca * cg, sa * sb],
    [-sb * cg, sb * sg, cb],
  ];
}

/** Brute force: a 3-degree grid over all rotations, then two finer grids around the best. */
function bruteForceVolume(p: number[]): number {
  const d = Math.PI / 60;
  let best = { v: Infinity, a: 0, b: 0, g: 0 };
  for (let a = 0; a < 2 * Math.PI; a += d) {
    for (let b = 0; b <= Math.PI; b += d) {
      for (let g = 0; g < Math.PI / 2; g += d) {
        const v = volumeFor(p, zyz(a, b, g));
        if (v < best.v) best = { v, a, b, g };
      }
    }
  }
  for (const step of [d / 6, d / 36, d / 216]) {
    const c = { ...best };
    for (let i = -6; i <= 6; i++) {
      for (let j = -6; j <= 6; j++) {
        for (let k = -6; k <= 6; k++) {
          const a = c.a + i * step, b = c.b + j * step, g = c.g + k * step;
          const v = volumeFor(p, zyz(a, b, g));
          if (v < best.v) best = { v, a, b, g };
        }
      }
    }
  }
  return best.v;
}

Deno.test("convexHull3: the vertex set equals the brute-force facet enumeration", () => {
  const rng = new Rng("hull");
  for (let trial = 0; trial < 5; trial++) {
    const p = randomCloud(rng, 25);
    const n = p.length / 3;
    const hull = convexHull3(p)!;
    const brute = new Set<number>();
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        for (let k = j + 1; k < n; k++) {
          const u = [0, 1, 2].map((q) => p[3 * j + q] - p[3 * i + q]);
          const v = [0, 1, 2].map((q) => p[3 * k + q] - p[3 * i + q]);
          const nr = [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
          ];
          let pos = 0, neg = 0;
          for (let m = 0; m < n; m++) {
            const s = nr[0] * (p[3 * m] - p[3 * i]) + nr[1] * (p[3 * m + 1] - p[3 * i + 1]) +
              nr[2] * (p[3 * m + 2] - p[3 * i + 2]);
            if (s > 1e-12) pos++;
            else if (s < -1e-12) neg++;
          }
          if (pos === 0 || neg === 0) brute.add(i).add(j).add(k);
        }
      }
    }
    assertEquals([...hull.vertices], [...brute].sort((a, b) => a - b));
    // Every point is on the inner side of every face (outward normals).
    const t = hull.triangles;
    for (let f = 0; f < t.length; f += 3) {
      const [a, b, c] = [t[f], t[f + 1], t[f + 2]];
      const u = [0, 1, 2].map((q) => p[3 * b + q] - p[3 * a + q]);
      const v = [0, 1, 2].map((q) => p[3 * c + q] - p[3 * a + q]);
      const nr = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
      for (let m = 0; m < n; m++) {
        const s = nr[0] * (p[3 * m] - p[3 * a]) + nr[1] * (p[3 * m + 1] - p[3 * a + 1]) +
          nr[2] * (p[3 * m + 2] - p[3 * a + 2]);
        assert(s <= 1e-9, "outward faces");
      }
    }
  }
});

Deno.test("convexHull3: coplanar and tiny sets have no hull; convexHull2 drops collinear points", () => {
  assertEquals(convexHull3([0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0.5, 0.5, 0]), undefined);
  assertEquals(convexHull3([0, 0, 0, 1, 1, 1]), undefined);
  assertEquals(convexHull2([0, 0, 1, 0, 2, 0, 2, 1, 0, 1]), [0, 2, 3, 4]);
});

Deno.test("minAreaRectangle matches a brute-force angle sweep", () => {
  const rng = new Rng("rect");
  for (let trial = 0; trial < 10; trial++) {
    const xy = Array.from({ length: 40 }, () => rng.uniform(-1, 1) * (trial + 1));
    let brute = Infinity;
    for (let k = 0; k < 18000; k++) {
      const a = (k / 18000) * Math.PI / 2, c = Math.cos(a), s = Math.sin(a);
      let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
      for (let i = 0; i < xy.length; i += 2) {
        const u = c * xy[i] + s * xy[i + 1], v = -s * xy[i] + c * xy[i + 1];
        u0 = Math.min(u0, u), u1 = Math.max(u1, u), v0 = Math.min(v0, v), v1 = Math.max(v1, v);
      }
      brute = Math.min(brute, (u1 - u0) * (v1 - v0));
    }
    const r = minAreaRectangle(xy);
    assert(r.area <= brute * (1 + 1e-9) && r.area >= brute * (1 - 1e-3), `${r.area} vs ${brute}`);
  }
});

Deno.test("minimalObb: volume within 1% of a brute-force rotation search, all points inside", () => {
  const rng = new Rng("obb");
  for (let trial = 0; trial < 6; trial++) {
    const p = trial % 2 === 0 ? randomCloud(rng, 30) : randomCloud(rng, 12);
    const box = minimalObb(p);
    const ours = box.size[0] * box.size[1] * box.size[2];
    const brute = bruteForceVolume(p);
    assert(ours <= brute * 1.01, `trial ${trial}: ours ${ours} vs brute ${brute}`);
    for (let i = 0; i < p.length; i += 3) {
      assert(obbContains(box, [p[i], p[i + 1], p[i + 2]], 1e-9), "every point inside");
    }
    // Orthonormal, right-handed axes.
    const [x, y, z] = box.axes;
    const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    assertAlmostEquals(dot(x, y), 0, 1e-9);
    assertAlmostEquals(dot(x, z), 0, 1e-9);
    assertAlmostEquals(x[1] * y[2] - x[2] * y[1], z[0], 1e-9);
  }
});

Deno.test("minimalObb recovers turned and tilted boxes exactly", () => {
  const rng = new Rng("boxes");
  for (let trial = 0; trial < 20; trial++) {
    const r = randomRotation(rng);
    const size = [rng.uniform(0.05, 3), rng.uniform(0.05, 3), rng.uniform(0.05, 3)];
    const c = [rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(0, 3)];
    const p: number[] = [];
    // Corners plus interior and face points: only the hull matters.
    for (let i = 0; i < 60; i++) {
      const l = i < 8 ? [(i & 1) - 0.5, ((i >> 1) & 1) - 0.5, ((i >> 2) & 1) - 0.5] : [
        rng.uniform(-0.5, 0.5),
        rng.uniform(-0.5, 0.5),
        i % 3 === 0 ? 0.5 : rng.uniform(-0.5, 0.5),
      ];
      const q = l.map((v, k) => v * size[k]);
      for (let k = 0; k < 3; k++) p.push(c[k] + r[k][0] * q[0] + r[k][1] * q[1] + r[k][2] * q[2]);
    }
    const box = minimalObb(p);
    const got = [...box.size].sort((a, b) => a - b), want = [...size].sort((a, b) => a - b);
    for (let k = 0; k < 3; k++) assertAlmostEquals(got[k], want[k], 1e-6);
    for (let k = 0; k < 3; k++) assertAlmostEquals(box.center[k], c[k], 1e-6);
  }
});

Deno.test("minimalObb handles flat, collinear and single-point sets", () => {
  const flat = minimalObb([0, 0, 1, 2, 0, 1, 2, 1, 1, 0, 1, 1, 1, 0.5, 1]);
  assertAlmostEquals(flat.size[0], 2, 1e-9);
  assertAlmostEquals(flat.size[1], 1, 1e-9);
  assertAlmostEquals(flat.size[2], 0, 1e-9);
  const line = minimalObb([0, 0, 0, 1, 1, 1, 2, 2, 2]);
  assertAlmostEquals(Math.max(...line.size), Math.sqrt(12), 1e-9);
  const one = minimalObb([1, 2, 3]);
  assertEquals(one.center, [1, 2, 3]);
});
