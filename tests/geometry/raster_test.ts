import { assert, assertEquals } from "../assert.ts";
import { rasterize } from "../../geometry/raster.ts";
import {
  cameraPoseFromAngles,
  type Intrinsics,
  mat4Identity,
  mat4InvertRigid,
} from "../../geometry/pose.ts";
import { Rng } from "../../geometry/rng.ts";

/** Möller-Trumbore: distance along the ray to the triangle, or Infinity. */
function rayTriangle(o: number[], d: number[], a: number[], b: number[], c: number[]): number {
  const e1 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]], e2 = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
  const p = [d[1] * e2[2] - d[2] * e2[1], d[2] * e2[0] - d[0] * e2[2], d[0] * e2[1] - d[1] * e2[0]];
  const det = e1[0] * p[0] + e1[1] * p[1] + e1[2] * p[2];
  if (Math.abs(det) < 1e-14) return Infinity;
  const inv = 1 / det;
  const s = [o[0] - a[0], o[1] - a[1], o[2] - a[2]];
  const u = (s[0] * p[0] + s[1] * p[1] + s[2] * p[2]) * inv;
  if (u < 0 || u > 1) return Infinity;
  const q = [s[1] * e1[2] - s[2] * e1[1], s[2] * e1[0] - s[0] * e1[2], s[0] * e1[1] - s[1] * e1[0]];
  const v = (d[0] * q[0] + d[1] * q[1] + d[2] * q[2]) * inv;
  if (v < 0 || u + v > 1) return Infinity;
  const t = (e2[0] * q[0] + e2[1] * q[1] + e2[2] * q[2]) * inv;
  return t > 0 ? t : Infinity;
}

Deno.test("rasterize agrees with brute-force ray casting on random triangles", () => {
  const rng = new Rng("raster-test");
  const k: Intrinsics = { fx: 40, fy: 42, cx: 31.5, cy: 23.5, width: 64, height: 48 };
  for (let scene = 0; scene < 6; scene++) {
    const pos: number[] = [];
    const tris: number[] = [];
    for (let t = 0; t < 25; t++) {
      const c = [rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-1, 2)];
      for (let v = 0; v < 3; v++) {
        pos.push(c[0] + rng.uniform(-1, 1), c[1] + rng.uniform(-1, 1), c[2] + rng.uniform(-1, 1));
      }
      tris.push(3 * t, 3 * t + 1, 3 * t + 2);
    }
    const pose = cameraPoseFromAngles(
      [rng.uniform(-0.3, 0.3), -4, 0.5],
      Math.PI / 2 + rng.uniform(-0.3, 0.3),
      rng.uniform(-0.2, 0.1),
      rng.uniform(-0.1, 0.1),
    );
    const mesh = { positions: Float64Array.from(pos), triangles: Uint32Array.from(tris) };
    const r = rasterize(mesh, mat4InvertRigid(pose), k, { near: 0.05 });
    let agree = 0, covered = 0;
    for (let v = 0; v < k.height; v++) {
      for (let u = 0; u < k.width; u++) {
        // Ray through pixel (u, v) in world coordinates, scaled so that t is the z-depth.
        const dc = [(u - k.cx) / k.fx, (v - k.cy) / k.fy, 1];
        const d = [0, 1, 2].map((i) =>
          pose[4 * i] * dc[0] + pose[4 * i + 1] * dc[1] + pose[4 * i + 2] * dc[2]
        );
        const o = [pose[3], pose[7], pose[11]];
        let best = Infinity, bestTri = -1;
        for (let t = 0; t < 25; t++) {
          const z = rayTriangle(
            o,
            d,
            pos.slice(9 * t, 9 * t + 3),
            pos.slice(9 * t + 3, 9 * t + 6),
            pos.slice(9 * t + 6, 9 * t + 9),
          );
          if (z >= 0.05 && z < best) [best, bestTri] = [z, t];
        }
        const i = v * k.width + u;
        if (best === Infinity) {
          // Pixels exactly on an edge may go either way; away from edges nothing is drawn.
          if (r.triangle[i] === -1) agree++;
        } else {
          covered++;
          if (r.triangle[i] === bestTri && Math.abs(r.depth[i] - best) < 1e-4 * best) agree++;
          else if (r.triangle[i] >= 0 && Math.abs(r.depth[i] - best) < 1e-3 * best) agree++; // a tie
        }
      }
    }
    assert(covered > 100, `scene ${scene} covers pixels`);
    // Edge pixels can legitimately differ; demand near-total agreement.
    assert(
      agree >= k.width * k.height - 4,
      `scene ${scene}: ${agree}/${k.width * k.height} pixels agree`,
    );
  }
});

Deno.test("rasterize clips triangles crossing the near plane instead of dropping them", () => {
  // A floor triangle running from behind the camera to far ahead.
  const mesh = {
    positions: Float64Array.of(-5, -5, 0, 5, -5, 0, 0, 30, 0),
    triangles: Uint32Array.of(0, 1, 2),
  };
  const k: Intrinsics = { fx: 20, fy: 20, cx: 15.5, cy: 15.5, width: 32, height: 32 };
  const pose = cameraPoseFromAngles([0, 0, 1.5], Math.PI / 2, -0.5, 0);
  const r = rasterize(mesh, mat4InvertRigid(pose), k);
  const bottom = (k.height - 1) * k.width + 16;
  assertEquals(r.triangle[bottom], 0);
  // Looking down 0.5 rad from 1.5 m: the bottom row sees the floor close by.
  assert(r.depth[bottom] > 0 && r.depth[bottom] < 3);
});

Deno.test("rasterize fills a shared edge exactly once (no cracks, no double cover)", () => {
  // A quad split along its diagonal covers every pixel of its interior.
  const mesh = {
    positions: Float64Array.of(-1, -1, 3, 1, -1, 3, 1, 1, 3, -1, 1, 3),
    triangles: Uint32Array.of(0, 1, 2, 0, 2, 3),
  };
  const k: Intrinsics = { fx: 30, fy: 30, cx: 31.5, cy: 31.5, width: 64, height: 64 };
  // Identity world-to-camera: the camera looks along +z.
  const r = rasterize(mesh, mat4Identity(), k);
  for (let v = 24; v < 40; v++) {
    for (let u = 24; u < 40; u++) assert(r.triangle[v * 64 + u] >= 0, `hole at ${u},${v}`);
  }
});
