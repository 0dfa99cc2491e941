import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { yawBoxCorners, yawBoxesOverlap, yawBoxFootprint } from "../../geometry/box.ts";
import { pointTriangleDistance } from "../../geometry/distance.ts";
import { convexInside, pointInPolygon, polygonArea, type Vec2 } from "../../geometry/polygon.ts";
import { isRigidTransform, type Mat4, parseMat4, transformPoint } from "../../geometry/pose.ts";
import type { Vec3 } from "../../geometry/vec.ts";
import { decodeJpeg, decodePng } from "../../io/image.ts";
import { hasSystemFfmpeg } from "../../io/video.ts";
import { plyToMesh, readPly } from "../../scene/ply.ts";
import {
  type SynthKind,
  type SynthLayout,
  synthScene,
  writeSynthScene,
} from "../../scene/synth/mod.ts";
import { buildNavMesh } from "../../geometry/navmesh/mod.ts";

const SMALL = { frames: 6, width: 160, height: 120 };

/** A scanned scene read back from disk with nothing but the file formats. */
interface ReadBack {
  positions: Float32Array | Float64Array;
  triangles: Uint32Array;
  vertexInstance: Int32Array;
  alignment: Mat4;
  info: Map<string, string>;
  truth: {
    objects: {
      instance_id: number;
      category: string;
      center: Vec3;
      size: Vec3;
      yaw: number;
      parts: { center: Vec3; size: Vec3; yaw: number }[];
    }[];
    room: { polygon: Vec2[]; floor_area: number; height: number };
    structures: { instance_id: number; label: string }[];
    camera: { poses: number[][]; frames: number };
  };
}

async function readBack(dir: string, name: string): Promise<ReadBack> {
  const mesh = plyToMesh(readPly(await Deno.readFile(join(dir, `${name}_vh_clean_2.ply`))));
  const segs = JSON.parse(
    await Deno.readTextFile(join(dir, `${name}_vh_clean_2.0.010000.segs.json`)),
  );
  const agg = JSON.parse(await Deno.readTextFile(join(dir, `${name}.aggregation.json`)));
  const segToInst = new Map<number, number>();
  for (const g of agg.segGroups) for (const s of g.segments) segToInst.set(s, g.objectId);
  const vertexInstance = Int32Array.from(
    segs.segIndices as number[],
    (s) => segToInst.get(s) ?? -1,
  );
  const info = new Map<string, string>();
  for (const line of (await Deno.readTextFile(join(dir, `${name}.txt`))).split("\n")) {
    const m = line.match(/^(\w+) = (.*)$/);
    if (m) info.set(m[1], m[2]);
  }
  return {
    positions: mesh.positions,
    triangles: mesh.triangles,
    vertexInstance,
    alignment: parseMat4(info.get("axisAlignment")!)!,
    info,
    truth: JSON.parse(await Deno.readTextFile(join(dir, "ground_truth.json"))),
  };
}

/** Triangles bucketed on a 0.25 m grid, to find those near a point. */
class TriangleGrid {
  #cells = new Map<string, number[]>();
  constructor(readonly pos: ArrayLike<number>, readonly tris: Uint32Array, readonly pad: number) {
    for (let t = 0; t < tris.length / 3; t++) {
      const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
      for (let k = 0; k < 3; k++) {
        for (let a = 0; a < 3; a++) {
          lo[a] = Math.min(lo[a], pos[3 * tris[3 * t + k] + a] - pad);
          hi[a] = Math.max(hi[a], pos[3 * tris[3 * t + k] + a] + pad);
        }
      }
      for (let x = Math.floor(lo[0] / 0.25); x <= Math.floor(hi[0] / 0.25); x++) {
        for (let y = Math.floor(lo[1] / 0.25); y <= Math.floor(hi[1] / 0.25); y++) {
          for (let z = Math.floor(lo[2] / 0.25); z <= Math.floor(hi[2] / 0.25); z++) {
            const key = `${x},${y},${z}`;
            const list = this.#cells.get(key) ?? [];
            list.push(t);
            this.#cells.set(key, list);
          }
        }
      }
    }
  }
  /** Triangles within `pad` of `p`, with their distances. */
  near(p: Vec3): { tri: number; dist: number }[] {
    const key = `${Math.floor(p[0] / 0.25)},${Math.floor(p[1] / 0.25)},${Math.floor(p[2] / 0.25)}`;
    const v = (i: number): Vec3 => [this.pos[3 * i], this.pos[3 * i + 1], this.pos[3 * i + 2]];
    return (this.#cells.get(key) ?? [])
      .map((t) => ({
        tri: t,
        dist: pointTriangleDistance(
          p,
          v(this.tris[3 * t]),
          v(this.tris[3 * t + 1]),
          v(this.tris[3 * t + 2]),
        ),
      }))
      .filter((x) => x.dist <= this.pad);
  }
}

async function withScene<T>(
  seed: string,
  options: typeof SMALL & { layout?: SynthKind },
  fn: (dir: string, name: string) => Promise<T>,
): Promise<T> {
  const out = await Deno.makeTempDir();
  try {
    const scene = synthScene(seed, 0, options);
    const report = await writeSynthScene(scene, out, { workers: 1, video: "none" });
    return await fn(report.dir, scene.name);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

Deno.test("synth writes ScanNet's raw layout", async () => {
  await withScene("layout", SMALL, async (dir, name) => {
    const r = await readBack(dir, name);
    const head = new TextDecoder().decode(
      (await Deno.readFile(join(dir, `${name}_vh_clean_2.ply`))).subarray(0, 400),
    );
    assert(head.startsWith("ply\nformat binary_little_endian 1.0\n"));
    assert(
      head.includes(
        "property float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nproperty uchar alpha\n",
      ),
    );
    assert(head.includes("property list uchar int vertex_indices\nend_header\n"));
    assertEquals(r.vertexInstance.length, r.positions.length / 3);
    assert(r.vertexInstance.every((i) => i >= 0), "every vertex belongs to an annotated instance");
    const agg = JSON.parse(await Deno.readTextFile(join(dir, `${name}.aggregation.json`)));
    const ids = agg.segGroups.map((g: { objectId: number }) => g.objectId);
    assertEquals(new Set(ids).size, ids.length, "objectIds are unique");
    for (const o of r.truth.objects) {
      const g = agg.segGroups.find((x: { objectId: number }) => x.objectId === o.instance_id);
      assertEquals(g.label, o.category);
    }
    // A non-identity z rotation plus a translation.
    const a = r.alignment;
    assert(isRigidTransform(a, 1e-9) && Math.abs(a[0] - 1) > 1e-3, "axisAlignment turns the scan");
    assertEquals([a[2], a[6], a[8], a[9]], [0, 0, 0, 0]);
    assertEquals(r.info.get("depthWidth"), "160");
    const fx = Number(r.info.get("fx_depth")), cx = Number(r.info.get("mx_depth"));
    const kText = await Deno.readTextFile(join(dir, "frames/intrinsic/intrinsic_depth.txt"));
    const k = parseMat4(kText)!;
    assertAlmostEquals(k[0], fx, 1e-6);
    assertAlmostEquals(k[2], cx, 1e-6);
    for (let i = 0; i < SMALL.frames; i++) {
      assert(
        isRigidTransform(
          parseMat4(await Deno.readTextFile(join(dir, `frames/pose/${i}.txt`)))!,
          1e-5,
        ),
      );
      const depth = decodePng(await Deno.readFile(join(dir, `frames/depth/${i}.png`)));
      assertEquals([depth.width, depth.height, depth.channels, depth.data instanceof Uint16Array], [
        160,
        120,
        1,
        true,
      ]);
      const inst = decodePng(await Deno.readFile(join(dir, `instance-filt/${i}.png`)));
      assertEquals([inst.width, inst.height, inst.channels, inst.data instanceof Uint8Array], [
        160,
        120,
        1,
        true,
      ]);
      const color = decodeJpeg(await Deno.readFile(join(dir, `frames/color/${i}.jpg`)));
      assertEquals([color.width, color.height], [160, 120]);
    }
  });
});

for (const layout of ["room", "apartment"] as const) {
  Deno.test(`depth back-projects onto the mesh and instance masks name the object there (${layout})`, async () => {
    await withScene(
      "consistency",
      { frames: 8, width: 128, height: 96, layout },
      async (dir, name) => {
        const r = await readBack(dir, name);
        const grid = new TriangleGrid(r.positions, r.triangles, 0.01);
        const k = parseMat4(
          await Deno.readTextFile(join(dir, "frames/intrinsic/intrinsic_depth.txt")),
        )!;
        let checked = 0;
        const seen = new Set<number>();
        for (let f = 0; f < 8; f++) {
          const pose = parseMat4(await Deno.readTextFile(join(dir, `frames/pose/${f}.txt`)))!;
          const depth = decodePng(await Deno.readFile(join(dir, `frames/depth/${f}.png`)));
          const inst = decodePng(await Deno.readFile(join(dir, `instance-filt/${f}.png`)));
          for (let i = 7 * f; i < depth.data.length; i += 53) {
            const d = depth.data[i] / 1000;
            if (d === 0) continue;
            const u = i % depth.width, v = Math.floor(i / depth.width);
            const p = transformPoint(pose, [(u - k[2]) / k[0] * d, (v - k[6]) / k[5] * d, d]);
            const near = grid.near(p);
            assert(near.length > 0, `frame ${f} pixel ${u},${v}: depth ${d} m lands off the mesh`);
            const id = inst.data[i] - 1;
            assert(id >= 0, "every surface is annotated");
            const ownTri = near.some(({ tri }) => r.vertexInstance[r.triangles[3 * tri]] === id);
            assert(ownTri, `frame ${f} pixel ${u},${v}: instance ${id} has no geometry there`);
            seen.add(id);
            checked++;
          }
        }
        assert(checked > 1000, `${checked} pixels checked`);
        assert(seen.size >= 4, "several instances are seen");
      },
    );
  });
}

Deno.test("axisAlignment applied to the raw mesh reproduces the ground-truth boxes", async () => {
  await withScene("alignment", { frames: 2, width: 32, height: 24 }, async (dir, name) => {
    const r = await readBack(dir, name);
    for (const o of r.truth.objects) {
      const pts: Vec3[] = [];
      for (let i = 0; i < r.vertexInstance.length; i++) {
        if (r.vertexInstance[i] === o.instance_id) {
          pts.push(
            transformPoint(r.alignment, [
              r.positions[3 * i],
              r.positions[3 * i + 1],
              r.positions[3 * i + 2],
            ]),
          );
        }
      }
      // Extents in the object's own frame give back its centre and size.
      const c = Math.cos(o.yaw), s = Math.sin(o.yaw);
      const local = pts.map((
        [x, y, z],
      ) => [
        c * (x - o.center[0]) + s * (y - o.center[1]),
        -s * (x - o.center[0]) + c * (y - o.center[1]),
        z - o.center[2],
      ]);
      for (let a = 0; a < 3; a++) {
        assertAlmostEquals(
          Math.max(...local.map((p) => p[a])),
          o.size[a] / 2,
          1e-4,
          `${o.category} axis ${a} max`,
        );
        assertAlmostEquals(
          Math.min(...local.map((p) => p[a])),
          -o.size[a] / 2,
          1e-4,
          `${o.category} axis ${a} min`,
        );
      }
      // Every part's corners are mesh vertices.
      for (const part of o.parts) {
        for (const q of yawBoxCorners(part)) {
          assert(
            pts.some((p) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) < 1e-4),
            `${o.category} part corner`,
          );
        }
      }
    }
    // The aligned room: floor at z = 0 inside the polygon, ceiling at the wall height.
    const zs: number[] = [];
    for (let i = 0; i < r.vertexInstance.length; i += 7) {
      zs.push(
        transformPoint(r.alignment, [
          r.positions[3 * i],
          r.positions[3 * i + 1],
          r.positions[3 * i + 2],
        ])[2],
      );
    }
    assertAlmostEquals(Math.min(...zs), 0, 1e-4);
    assertAlmostEquals(Math.max(...zs), r.truth.room.height, 1e-4);
  });
});

Deno.test("synth is deterministic: same seed, same bytes, whatever the worker count", async () => {
  const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
  try {
    const video = await hasSystemFfmpeg() ? "ffmpeg" : "none";
    const opts = { frames: 5, width: 96, height: 72 };
    await writeSynthScene(synthScene(9, 3, opts), a, { workers: 1, video });
    await writeSynthScene(synthScene(9, 3, opts), b, { workers: 2, video });
    const files: string[] = [];
    const walk = async (d: string, rel = "") => {
      for await (const e of Deno.readDir(join(d, rel))) {
        if (e.isDirectory) await walk(d, join(rel, e.name));
        else files.push(join(rel, e.name));
      }
    };
    await walk(a);
    assert(files.length >= 4 * 5 + 8, `${files.length} files`);
    for (const f of files) {
      const x = await Deno.readFile(join(a, f)), y = await Deno.readFile(join(b, f));
      assert(x.length === y.length && x.every((v, i) => v === y[i]), `${f} differs`);
    }
    // A different seed gives a different scene.
    const other = synthScene(10, 3, opts);
    assert(
      JSON.stringify(other.layout.room) !== JSON.stringify(synthScene(9, 3, opts).layout.room),
    );
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

/** No two objects' parts overlap (they may touch). */
function assertNoOverlap(objects: SynthLayout["objects"], what: string): void {
  for (let p = 0; p < objects.length; p++) {
    for (let q = p + 1; q < objects.length; q++) {
      for (const a of objects[p].parts) {
        for (const b of objects[q].parts) {
          assert(
            !yawBoxesOverlap(a, b, 1e-6),
            `${objects[p].category} and ${objects[q].category} overlap in ${what}`,
          );
        }
      }
    }
  }
}

/** Things on the floor and supports: every object stands on the floor or on its support. */
function assertSupported(objects: SynthLayout["objects"]): void {
  for (const o of objects) {
    if (o.category === "door") assertAlmostEquals(o.box.center[2] - o.box.size[2] / 2, 0, 1e-9);
    if (o.supportId !== undefined) {
      const sup = objects[o.supportId];
      assert(
        sup.surfaces.some((s) =>
          Math.abs(s.center[2] - (o.box.center[2] - o.box.size[2] / 2)) < 1e-9
        ),
        `${o.category} stands on ${sup.category}`,
      );
    }
  }
}

/** The hand-held walk: 1.2-1.7 m high, smooth, never inside furniture (or walls). */
function assertWalk(scene: ReturnType<typeof synthScene>, blocked: Vec2[][]): void {
  let prev: number[] | undefined;
  for (const pose of scene.poses) {
    const eye: Vec2 = [pose[3], pose[7]];
    assert(pointInPolygon(eye, scene.layout.room.polygon), "camera inside the scene");
    assert(pose[11] >= 1.18 && pose[11] <= 1.72, `camera height ${pose[11]}`);
    for (const f of blocked) assert(!pointInPolygon(eye, f), "camera inside an obstacle");
    if (prev) {
      assert(Math.hypot(pose[3] - prev[3], pose[7] - prev[7]) < 0.15, "no jumps between frames");
      const turn = Math.acos(
        Math.min(1, pose[2] * prev[2] + pose[6] * prev[6] + pose[10] * prev[10]),
      );
      assert(turn < 0.1, `view turns ${turn} rad between frames`);
    }
    prev = Array.from(pose);
  }
  assert(scene.layout.walk.loop.length >= 2, "the camera has room to walk");
}

Deno.test("layouts: rooms, categories and placements follow the rules", () => {
  const categories = new Map<string, number>();
  let lShaped = 0, multi = 0, single = 0, rooms = 0;
  for (let i = 0; i < 32; i++) {
    const scene = synthScene("rules", i, { frames: 120 });
    const { room, objects } = scene.layout;
    if (room.kind === "apartment") continue; // their own test below
    rooms++;
    const xs = room.polygon.map((p) => p[0]), ys = room.polygon.map((p) => p[1]);
    const w = Math.max(...xs) - Math.min(...xs), d = Math.max(...ys) - Math.min(...ys);
    assert(w >= 3 && w <= 9 && d >= 3 && d <= 9, `room ${w} x ${d}`);
    assert(room.height >= 2.4 && room.height <= 3.0);
    assert(room.polygon.length === 4 || room.polygon.length === 6);
    if (room.polygon.length === 6) lShaped++;
    assert(polygonArea(room.polygon) > 0, "counter-clockwise");
    assertAlmostEquals(room.floorArea, polygonArea(room.polygon), 1e-9);
    assertEquals(scene.layout.rooms.map((r) => r.polygon), [room.polygon]);
    assertEquals([scene.layout.doorways, scene.layout.walls], [[], []]);
    const counts = new Map<string, number>();
    for (const o of objects) counts.set(o.category, (counts.get(o.category) ?? 0) + 1);
    for (const [c, n] of counts) {
      categories.set(c, (categories.get(c) ?? 0) + 1);
      if (n > 1) multi++;
      else single++;
    }
    assert(counts.get("door")! >= 1, "every room has a door");
    assertEquals(objects.map((o) => o.instanceId), objects.map((_, k) => k));
    for (const o of objects) {
      assert(convexInside(yawBoxFootprint(o.box), room.polygon), `${o.category} inside the room`);
      assert(o.box.center[2] + o.box.size[2] / 2 <= room.height, `${o.category} below the ceiling`);
    }
    assertSupported(objects);
    assertNoOverlap(objects, `scene ${i}`);
    const floorObjects = objects.filter((o) => o.box.center[2] - o.box.size[2] / 2 < 1.0);
    assertWalk(scene, floorObjects.map((o) => yawBoxFootprint(o.box)));
  }
  assertEquals(rooms, 16, "half of the default mix");
  assert(categories.size >= 15, `${categories.size} categories`);
  assert(lShaped >= 1 && lShaped <= 12, `${lShaped} L-shaped rooms`);
  assert(multi > 8 && single > 40, "several instances of some categories, one of others");
});

Deno.test("the default mix: half apartments, one of each pair; its single rooms are --layout room's", () => {
  const kinds = Array.from({ length: 12 }, (_, i) => synthScene("mix", i, { frames: 2 }));
  for (let i = 0; i < 12; i += 2) {
    assert(
      (kinds[i].layout.room.kind === "apartment") !==
        (kinds[i + 1].layout.room.kind === "apartment"),
      `pair ${i}`,
    );
  }
  for (const [i, s] of kinds.entries()) {
    const alone = synthScene("mix", i, {
      frames: 2,
      layout: s.layout.room.kind === "apartment" ? "apartment" : "room",
    });
    assertEquals(JSON.stringify(alone.layout), JSON.stringify(s.layout), `scene ${i}`);
  }
});

/** Walls as solid footprints (their parts reaching the floor). */
function wallFootprints(layout: SynthLayout): Vec2[][] {
  return layout.walls.flatMap((w) =>
    w.parts.filter((b) => b.center[2] - b.size[2] / 2 < 1e-9).map((b) => yawBoxFootprint(b))
  );
}

Deno.test("apartments: rooms and walls tile the outline, doorways join every room, furniture stays in its room", () => {
  let visited = 0;
  for (let i = 0; i < 12; i++) {
    const scene = synthScene("flats", i, { frames: 300, layout: "apartment" });
    const L = scene.layout;
    assertEquals(L.room.kind, "apartment");
    assert(L.rooms.length >= 4 && L.rooms.length <= 8, `${L.rooms.length} rooms`);
    assertEquals(L.rooms[0].kind, "corridor");
    // Room polygons and wall footprints (lintels included) cover the outline exactly once.
    const wallArea = L.walls.flatMap((w) => w.parts).reduce((a, b) => a + b.size[0] * b.size[1], 0);
    const roomArea = L.rooms.reduce((a, r) => a + polygonArea(r.polygon), 0);
    assertAlmostEquals(roomArea + wallArea, polygonArea(L.room.polygon), 1e-6);
    assertAlmostEquals(L.room.floorArea, polygonArea(L.room.polygon), 1e-9);
    for (const r of L.rooms) assertAlmostEquals(r.floorArea, polygonArea(r.polygon), 1e-9);
    for (let a = 0; a < L.rooms.length; a++) {
      for (let b = a + 1; b < L.rooms.length; b++) {
        const [p, q] = [L.rooms[a].polygon, L.rooms[b].polygon];
        const overlapX = Math.min(p[2][0], q[2][0]) - Math.max(p[0][0], q[0][0]);
        const overlapY = Math.min(p[2][1], q[2][1]) - Math.max(p[0][1], q[0][1]);
        assert(overlapX <= 1e-9 || overlapY <= 1e-9, `rooms ${a} and ${b} overlap`);
      }
    }
    // Each doorway: a gap in a wall, lintel above, its two rooms on either side of it.
    const joined = new Set([0]);
    for (let pass = 0; pass < L.rooms.length; pass++) {
      for (const d of L.doorways) {
        if (joined.has(d.rooms[0]) || joined.has(d.rooms[1])) d.rooms.forEach((r) => joined.add(r));
      }
    }
    assertEquals(joined.size, L.rooms.length, "every room reachable through doorways");
    for (const d of L.doorways) {
      assert(d.width >= 0.9 && d.height >= 2, `doorway ${d.width} x ${d.height}`);
      const n: Vec2 = d.along === "x" ? [0, 0.1] : [0.1, 0];
      for (const side of [-1, 1]) {
        const p: Vec2 = [d.center[0] + side * n[0], d.center[1] + side * n[1]];
        const inside = d.rooms.filter((r) => pointInPolygon(p, L.rooms[r].polygon));
        assertEquals(inside.length, 1, `one of the doorway's rooms on each side`);
      }
      const parts = L.walls.flatMap((w) => w.parts);
      assert(!wallFootprints(L).some((f) => pointInPolygon(d.center, f)), "the doorway is open");
      assert(
        parts.some((b) =>
          pointInPolygon(d.center, yawBoxFootprint(b)) &&
          Math.abs(b.center[2] - b.size[2] / 2 - d.height) < 1e-9
        ),
        "a lintel over the doorway",
      );
    }
    // Furniture: inside one room, clear of each other; nothing across a doorway.
    const openings = L.doorways.map((d) => ({
      center: [d.center[0], d.center[1], 1] as Vec3,
      size: (d.along === "x" ? [d.width, 0.1, 2] : [0.1, d.width, 2]) as Vec3,
      yaw: 0,
    }));
    for (const o of L.objects) {
      const foot = yawBoxFootprint(o.box);
      assert(L.rooms.some((r) => convexInside(foot, r.polygon)), `${o.category} in a room`);
      assert(!openings.some((b) => yawBoxesOverlap(b, o.box)), `${o.category} in a doorway`);
      assert(o.box.center[2] + o.box.size[2] / 2 <= L.room.height, `${o.category} below ceiling`);
    }
    assertEquals(L.objects.map((o) => o.instanceId), L.objects.map((_, k) => k));
    assertSupported(L.objects);
    assertNoOverlap(L.objects, `apartment ${i}`);
    // The walk goes through doorways: the camera is in two rooms or more, never in a wall.
    const floorObjects = L.objects.filter((o) => o.box.center[2] - o.box.size[2] / 2 < 1.0);
    assertWalk(scene, [...floorObjects.map((o) => yawBoxFootprint(o.box)), ...wallFootprints(L)]);
    const inRooms = new Set(
      scene.poses.map((p) => L.rooms.findIndex((r) => pointInPolygon([p[3], p[7]], r.polygon))),
    );
    inRooms.delete(-1);
    if (inRooms.size >= 2) visited++;
  }
  assert(visited >= 10, `the camera passed a doorway in ${visited} of 12 apartments`);
});

Deno.test("apartments on disk: ground truth lists rooms and doorways; the navmesh joins the rooms through them", async () => {
  const out = await Deno.makeTempDir();
  try {
    const scene = synthScene("flat-disk", 0, {
      frames: 2,
      width: 32,
      height: 24,
      layout: "apartment",
    });
    const report = await writeSynthScene(scene, out, { workers: 1, video: "none" });
    const r = await readBack(report.dir, scene.name);
    const truth = JSON.parse(await Deno.readTextFile(join(report.dir, "ground_truth.json")));
    assertEquals(truth.room.kind, "apartment");
    assertEquals(truth.rooms.length, scene.layout.rooms.length);
    assertEquals(truth.rooms[1].polygon, scene.layout.rooms[1].polygon);
    assert(truth.rooms.every((x: { floor_area: number }) => x.floor_area > 1));
    assertEquals(truth.doorways.length, scene.layout.doorways.length);
    assertEquals(r.info.get("sceneType"), "Apartment");
    // Every interior wall is a "wall" instance of the mesh.
    const walls = r.truth.structures.filter((x) => x.label === "wall").length;
    assertEquals(walls, 4 + scene.layout.walls.length);
    // The navmesh of the aligned mesh: both sides of every doorway on one island.
    const aligned: number[] = [];
    for (let i = 0; i < r.positions.length; i += 3) {
      aligned.push(
        ...transformPoint(r.alignment, [r.positions[i], r.positions[i + 1], r.positions[i + 2]]),
      );
    }
    const nav = buildNavMesh({ positions: aligned, triangles: r.triangles });
    const islands = new Set<number>();
    for (const d of scene.layout.doorways) {
      const n: Vec2 = d.along === "x" ? [0, 0.35] : [0.35, 0];
      for (const side of [-1, 1]) {
        const p: Vec3 = [d.center[0] + side * n[0], d.center[1] + side * n[1], 0];
        const hit = nav.nearestPoint(p, [0.3, 0.3, 1]);
        assert(hit, `navigable beside doorway ${d.center}`);
        islands.add(nav.islands[hit.polygon]);
      }
    }
    assertEquals(islands.size, 1, "one island through every doorway");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("the MP4 has the frames at the frame rate", async () => {
  const out = await Deno.makeTempDir();
  try {
    const encoders: ("ffmpeg" | "wasm")[] = await hasSystemFfmpeg() ? ["ffmpeg", "wasm"] : ["wasm"];
    for (const video of encoders) {
      const scene = synthScene(4, 0, { frames: 12, width: 64, height: 48, fps: 24 });
      const report = await writeSynthScene(scene, join(out, video), { workers: 1, video });
      assertEquals(report.video, video);
      const mp4 = await Deno.readFile(join(report.dir, `${scene.name}.mp4`));
      const text = new TextDecoder("latin1").decode(mp4);
      assert(text.slice(4, 8) === "ftyp" && text.includes("avc1"), "an H.264 MP4");
      // Track header: 12 samples (stsz entry count), timescale divisible by 24.
      const stsz = text.indexOf("stsz");
      const view = new DataView(mp4.buffer);
      assertEquals(view.getUint32(stsz + 12), 12, `${video}: sample count`);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
