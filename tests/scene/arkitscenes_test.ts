// ARKitScenes layout on a hand-made scan: .traj poses inverted, nearest-timestamp matching,
// boxes from the annotation, 2D boxes rendered from the mesh vertices inside each box.
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";
import { join } from "node:path";
import { encodePng16, encodePng8 } from "../../io/image.ts";
import { writeMeshPly } from "../../scene/ply.ts";
import { DEFAULT_LABELS } from "../../scene/labels.ts";
import { type MetaRunOptions, runMeta } from "../../scene/meta_run.ts";
import { parsePincam, parseTraj } from "../../scene/arkitscenes.ts";
import {
  axisAngle,
  type FixtureBox,
  fixtureMesh,
  fixturePoses,
  loadMeta,
  mat4InvertRigid,
  projectedBox,
} from "./_fixtures.ts";

const ID = "41069025", FRAMES = 12, W = 64, H = 48;
const boxes: FixtureBox[] = [
  { center: [-0.4, 1.2, 0.4], size: [0.5, 0.4, 0.8] },
  { center: [0.6, 1.6, 0.35], size: [0.8, 0.6, 0.7] },
];
const root = await Deno.makeTempDir({ prefix: "vlm3r-arkit-" });
const scan = join(root, "Validation", ID);
for (const d of ["lowres_wide", "lowres_depth", "lowres_wide_intrinsics"]) {
  await Deno.mkdir(join(scan, d), { recursive: true });
}
await Deno.writeFile(join(scan, `${ID}_3dod_mesh.ply`), writeMeshPly(fixtureMesh(boxes)));
// Annotated boxes are a centimetre larger than the mesh boxes, as annotations are.
const annotated = boxes.map((b) => ({
  centroid: b.center,
  axesLengths: b.size.map((s) => s + 0.02),
  normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1],
}));
await Deno.writeTextFile(
  join(scan, `${ID}_3dod_annotation.json`),
  JSON.stringify({
    data: [
      { label: "tv_monitor", uid: "u0", segments: { obbAligned: annotated[0] } },
      { label: "stool", uid: "u1", segments: { obbAligned: annotated[1] } },
      { label: "plant", uid: "u2" },
    ],
  }),
);
const poses = fixturePoses(FRAMES);
const traj: string[] = [];
const stamps: string[] = [];
for (let i = 0; i < FRAMES; i++) {
  const t = 100 + i * 0.1;
  const w2c = mat4InvertRigid(poses[i]);
  traj.push([t.toFixed(6), ...axisAngle(w2c), w2c[3], w2c[7], w2c[11]].join(" "));
  // Frame 5 is 30 ms off its pose (matched to the nearest); frame 11 is 2 s after the last pose.
  stamps.push((i === 5 ? t + 0.03 : i === 11 ? t + 2 : t).toFixed(3));
}
await Deno.writeTextFile(join(scan, "lowres_wide.traj"), traj.slice(0, 11).join("\n") + "\n");
const K = { w: W, h: H, fx: 50, fy: 50, cx: 32, cy: 24 };
for (let i = 0; i < FRAMES; i++) {
  const ts = stamps[i];
  await Deno.writeFile(
    join(scan, "lowres_wide", `${ID}_${ts}.png`),
    encodePng8(new Uint8Array(W * H).fill(i), W, H),
  );
  // Frame 2 has no depth map (left out); frame 4's intrinsics are named 1 ms later.
  if (i !== 2) {
    await Deno.writeFile(
      join(scan, "lowres_depth", `${ID}_${ts}.png`),
      encodePng16(new Uint16Array(W * H).fill(1000 + i), W, H),
    );
  }
  const kts = i === 4 ? (Number(ts) + 0.001).toFixed(3) : ts;
  await Deno.writeTextFile(
    join(scan, "lowres_wide_intrinsics", `${ID}_${kts}.pincam`),
    `${K.w} ${K.h} ${K.fx} ${K.fy} ${K.cx} ${K.cy}\n`,
  );
}

function options(out: string): MetaRunOptions {
  return {
    dataset: "arkitscenes",
    root,
    out,
    split: "val",
    labels: DEFAULT_LABELS.arkitscenes,
    frames: 32,
    seed: "0",
    workers: 1,
    format: "json",
    strict: false,
  };
}
const out = join(root, "out");
const summary = await runMeta(options(out));
const { scenes, frames } = await loadMeta(out, "arkitscenes");

Deno.test("arkitscenes: .traj lines are world-to-camera axis-angle, inverted to camera-to-world", () => {
  const parsed = parseTraj(traj.join("\n"), "t.traj");
  for (let i = 0; i < FRAMES; i++) {
    for (let k = 0; k < 16; k++) assertAlmostEquals(parsed[i].pose[k], poses[i][k], 1e-9);
  }
});

Deno.test("arkitscenes: annotated boxes with instance ids, tv_monitor -> tv, raw labels kept", () => {
  assertEquals(summary.failed, []);
  const s = scenes[ID];
  assertEquals([s.dataset, s.scene_name, s.video_path], [
    "arkitscenes",
    ID,
    `ARkitScenes/videos/val/${ID}.mp4`,
  ]);
  assertEquals(s.object_counts, { stool: 1, tv: 1 });
  assertEquals([s.object_bboxes.tv[0].instance_id, s.object_bboxes.stool[0].instance_id], [0, 1]);
  s.object_bboxes.tv[0].axesLengths.forEach((v, k) =>
    assertAlmostEquals(v, annotated[0].axesLengths[k], 1e-6)
  );
});

Deno.test("arkitscenes: frames matched to poses by timestamp, rendered 2D boxes, copied images", async () => {
  const f = frames[ID];
  const r = summary.reports[0];
  // 12 frames, one without depth; of the 11, frame 11 has no pose within 0.05 s.
  assertEquals([r.frames, r.invalidPoses, r.sampled, r.renderedMasks], [11, 1, 10, 10]);
  assertEquals(f.frames.map((x) => x.frame_id), [0, 1, 3, 4, 5, 6, 7, 8, 9, 10]);
  assertEquals([f.fps, f.img_width, f.img_height], [10, W, H]);
  assertEquals(f.camera_intrinsics, { fx: 50, fy: 50, cx: 32, cy: 24 });
  const k = { fx: 50, fy: 50, cx: 32, cy: 24, width: W, height: H };
  for (const x of f.frames) {
    const i = x.frame_id as number;
    const got = x.camera_pose_camera_to_world.flat();
    for (let c = 0; c < 16; c++) assertAlmostEquals(got[c], poses[i][c], 1e-9);
    assertAlmostEquals(x.timestamp!, Number(stamps[i]), 1e-9);
    for (const [id, b] of [[0, boxes[0]], [1, boxes[1]]] as const) {
      const box = x.bboxes_2d.find((y) => y.instance_id === id);
      assert(box, `box ${id} in frame ${i}`);
      const want = projectedBox(b, poses[i], k);
      for (let c = 0; c < 4; c++) {
        assert(
          Math.abs(box.bbox_2d[c] - want[c]) <= 1,
          `frame ${i} box ${id}: ${box.bbox_2d} vs ${want}`,
        );
      }
    }
    // The floor belongs to no annotated box: no instance.
    assert(x.bboxes_2d.every((y) => y.instance_id === 0 || y.instance_id === 1));
    assertEquals(
      await Deno.readFile(join(out, x.file_path_color)),
      await Deno.readFile(join(scan, "lowres_wide", `${ID}_${stamps[i]}.png`)),
    );
    assertEquals(x.file_path_color, `color/val/${ID}/${String(i).padStart(6, "0")}.png`);
  }
});

Deno.test("arkitscenes: malformed trajectories and intrinsics name the file and line", async () => {
  await assertRejects(
    () => parseTraj("1 0 0 0 0 0 0\n2 0 0 0 0 0\n", "lowres_wide.traj"),
    /^lowres_wide\.traj: line 2: expected 7 numbers: timestamp, axis-angle \(3\), translation \(3\), got "2 0 0 0 0 0"$/,
  );
  await assertRejects(() => parseTraj("1 0 0 0 zero 0 0\n", "t.traj"), /t\.traj: line 1/);
  // NaN values parse to a non-finite pose, which the pipeline drops.
  assert(Number.isNaN(parseTraj("1 nan 0 0 0 0 0\n", "t.traj")[0].pose[0]));
  await assertRejects(
    () => parsePincam("256 192 0 1 2", "a.pincam"),
    /a\.pincam: intrinsics: expected 6 numbers/,
  );
});

Deno.test("arkitscenes: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
