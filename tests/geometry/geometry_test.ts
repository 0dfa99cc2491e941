import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import {
  enclosingYawBox,
  type YawBox,
  yawBoxCorners,
  yawBoxesOverlap,
} from "../../geometry/box.ts";
import { closestPointOnTriangle, pointTriangleDistance } from "../../geometry/distance.ts";
import { convexInside, pointInPolygon, polygonArea, type Vec2 } from "../../geometry/polygon.ts";
import {
  cameraCentre,
  cameraPoseFromAngles,
  formatMat4,
  isRigidTransform,
  mat4InvertRigid,
  mat4Multiply,
  mat4RotationZ,
  parseMat4,
  projectPoint,
  transformPoint,
  unprojectPixel,
} from "../../geometry/pose.ts";
import { Rng } from "../../geometry/rng.ts";
import type { Vec3 } from "../../geometry/vec.ts";

Deno.test("camera poses use OpenCV axes and the translation column as centre", () => {
  const rng = new Rng("pose");
  for (let i = 0; i < 50; i++) {
    const eye: Vec3 = [rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(0, 3)];
    const yaw = rng.uniform(-Math.PI, Math.PI),
      pitch = rng.uniform(-1, 1),
      roll = rng.uniform(-0.5, 0.5);
    const pose = cameraPoseFromAngles(eye, yaw, pitch, roll);
    assert(isRigidTransform(pose, 1e-12), "rotation is orthonormal with det +1");
    assertEquals(cameraCentre(pose), eye);
    // +z of the camera is the viewing direction.
    const fwd = [pose[2], pose[6], pose[10]];
    assertAlmostEquals(fwd[2], Math.sin(pitch), 1e-12);
    assertAlmostEquals(Math.atan2(fwd[1], fwd[0]), yaw, 1e-9);
    // Without roll, +x (right) is horizontal and +y (down) points below the horizon.
    const level = cameraPoseFromAngles(eye, yaw, pitch, 0);
    assertAlmostEquals(level[8], 0, 1e-12);
    assert(level[9] < 0, "image down is world down");
    // A point ahead of the camera projects into the image and back.
    const k = { fx: 500, fy: 500, cx: 320, cy: 240, width: 640, height: 480 };
    const world = transformPoint(pose, [0.3, -0.2, 2]);
    const cam = transformPoint(mat4InvertRigid(pose), world);
    const uv = projectPoint(k, cam)!;
    const back = unprojectPixel(k, uv[0], uv[1], cam[2]);
    for (let j = 0; j < 3; j++) assertAlmostEquals(back[j], [0.3, -0.2, 2][j], 1e-9);
  }
});

Deno.test("rigid inverse, non-rigid detection and pose text round trip", () => {
  const m = mat4RotationZ(0.7, [1, -2, 0.5]);
  const id = mat4Multiply(m, mat4InvertRigid(m));
  for (let i = 0; i < 16; i++) assertAlmostEquals(id[i], i % 5 === 0 ? 1 : 0, 1e-12);
  const scaled = Float64Array.from(m);
  scaled[0] *= 1.1;
  assert(!isRigidTransform(scaled), "scaling is not rigid");
  const flipped = Float64Array.from(m);
  for (const i of [2, 6, 10]) flipped[i] = -flipped[i];
  assert(!isRigidTransform(flipped), "a reflection is not rigid");
  const parsed = parseMat4(formatMat4(m))!;
  for (let i = 0; i < 16; i++) assertAlmostEquals(parsed[i], m[i], 5e-7);
  assertEquals(parseMat4("1 2 3"), undefined);
  assert(!isRigidTransform(parseMat4("-inf ".repeat(16))!), "-inf poses are invalid");
});

function insideBox(p: Vec3, b: YawBox): boolean {
  const c = Math.cos(b.yaw), s = Math.sin(b.yaw);
  const dx = p[0] - b.center[0], dy = p[1] - b.center[1];
  const lx = c * dx + s * dy, ly = -s * dx + c * dy;
  return Math.abs(lx) < b.size[0] / 2 && Math.abs(ly) < b.size[1] / 2 &&
    Math.abs(p[2] - b.center[2]) < b.size[2] / 2;
}

/** Whether some point of a 19^3 grid over box `a` lies strictly inside box `b`. */
function sampleInside(a: YawBox, b: YawBox): boolean {
  const c = Math.cos(a.yaw), s = Math.sin(a.yaw);
  const n = 18;
  for (let x = 0; x <= n; x++) {
    for (let y = 0; y <= n; y++) {
      for (let z = 0; z <= n; z++) {
        const lx = (x / n - 0.5) * a.size[0], ly = (y / n - 0.5) * a.size[1];
        const p: Vec3 = [
          a.center[0] + c * lx - s * ly,
          a.center[1] + s * lx + c * ly,
          a.center[2] + (z / n - 0.5) * a.size[2],
        ];
        if (insideBox(p, b)) return true;
      }
    }
  }
  return false;
}

Deno.test("yaw box overlap agrees with dense point sampling", () => {
  const rng = new Rng("boxes");
  let overlaps = 0, separate = 0, unconfirmed = 0;
  for (let i = 0; i < 300; i++) {
    const box = (): YawBox => ({
      center: [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0, 1)],
      size: [rng.uniform(0.2, 1.5), rng.uniform(0.2, 1.5), rng.uniform(0.2, 1.5)],
      yaw: rng.uniform(-Math.PI, Math.PI),
    });
    const a = box(), b = box();
    const fast = yawBoxesOverlap(a, b);
    const found = sampleInside(a, b) || sampleInside(b, a);
    if (found) {
      assert(fast, `sampling found overlap that SAT missed (case ${i})`);
      overlaps++;
    } else if (!fast) separate++;
    else unconfirmed++;
  }
  // SAT may report slivers thinner than the sampling step; they must stay rare.
  assert(unconfirmed <= 6, `${unconfirmed} overlaps not confirmed by sampling`);
  assert(overlaps > 50 && separate > 50, `both outcomes exercised (${overlaps}, ${separate})`);
});

Deno.test("enclosingYawBox contains every part corner and is tight", () => {
  const parts: YawBox[] = [
    { center: [0.2, 0, 0.5], size: [1, 0.4, 1], yaw: 0.3 },
    { center: [-0.4, 0.3, 0.2], size: [0.2, 0.2, 0.4], yaw: 0.3 + Math.PI / 2 },
  ];
  const box = enclosingYawBox(parts, 0.3);
  const all = parts.flatMap(yawBoxCorners);
  const c = Math.cos(0.3), s = Math.sin(0.3);
  const local = all.map(([x, y, z]) => {
    const dx = x - box.center[0], dy = y - box.center[1];
    return [c * dx + s * dy, -s * dx + c * dy, z - box.center[2]];
  });
  for (let k = 0; k < 3; k++) {
    assertAlmostEquals(Math.max(...local.map((p) => p[k])), box.size[k] / 2, 1e-12);
    assertAlmostEquals(Math.min(...local.map((p) => p[k])), -box.size[k] / 2, 1e-12);
  }
});

Deno.test("polygons: area, containment, convex-inside with a reflex corner", () => {
  const l: Vec2[] = [[0, 0], [6, 0], [6, 3], [3, 3], [3, 6], [0, 6]];
  assertEquals(polygonArea(l), 27);
  assert(pointInPolygon([1, 5], l) && !pointInPolygon([5, 5], l));
  // A thin diagonal bar with its four corners inside the L, crossing the notch.
  const bar: Vec2[] = [[2.0, 4.9], [4.9, 2.0], [5.0, 2.1], [2.1, 5.0]];
  assert(bar.every((p) => pointInPolygon(p, l)), "corners inside");
  assert(!convexInside(bar, l), "but the bar cuts the reflex corner");
  assert(convexInside([[1, 1], [2, 1], [2, 2], [1, 2]], l, 0.5));
});

Deno.test("point-triangle distance matches dense sampling of the triangle", () => {
  const rng = new Rng("tri");
  for (let i = 0; i < 40; i++) {
    const v = (): Vec3 => [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)];
    const a = v(),
      b = v(),
      c = v(),
      p: Vec3 = [rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-2, 2)];
    const d = pointTriangleDistance(p, a, b, c);
    let best = Infinity;
    const n = 120;
    for (let x = 0; x <= n; x++) {
      for (let y = 0; x + y <= n; y++) {
        const u = x / n, w = y / n;
        const q = [0, 1, 2].map((k) => a[k] + u * (b[k] - a[k]) + w * (c[k] - a[k]));
        best = Math.min(best, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
      }
    }
    assert(d <= best + 1e-12, "closed form is never worse than sampling");
    assertAlmostEquals(d, best, 0.03, "sampling converges to it");
    const q = closestPointOnTriangle(p, a, b, c);
    assertAlmostEquals(Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]), d, 1e-12);
  }
});

Deno.test("Rng: seeded, stable children, roughly uniform", () => {
  const a = new Rng("x"), b = new Rng("x"), c = new Rng("y");
  const sa = Array.from({ length: 5 }, () => a.nextUint32());
  assertEquals(sa, Array.from({ length: 5 }, () => b.nextUint32()));
  assert(
    sa.join() !== Array.from({ length: 5 }, () => c.nextUint32()).join(),
    "different seeds differ",
  );
  const r = new Rng(1);
  const child = r.child("k").next();
  for (let i = 0; i < 10; i++) r.next();
  assertEquals(r.child("k").next(), child);
  const bins = new Array(10).fill(0);
  for (let i = 0; i < 100000; i++) bins[Math.floor(r.next() * 10)]++;
  for (const n of bins) assert(Math.abs(n - 10000) < 500, `bin count ${n}`);
  const ints = new Set(Array.from({ length: 1000 }, () => r.int(2, 4)));
  assertEquals([...ints].sort(), [2, 3, 4]);
});
