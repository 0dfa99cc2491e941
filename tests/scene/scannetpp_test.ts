// ScanNet++ layout on a hand-made scene: annotated boxes, iPhone poses, rendered 2D boxes.
import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { decodeJpeg, decodePng, encodeJpeg } from "../../io/image.ts";
import { needs } from "../_support.ts";
import { scaleIntrinsics } from "../../geometry/projection.ts";
import { writeMeshPly } from "../../scene/ply.ts";
import { DEFAULT_LABELS } from "../../scene/labels.ts";
import { type MetaRunOptions, runMeta } from "../../scene/meta_run.ts";
import { type FixtureBox, fixtureMesh, fixturePoses, loadMeta, projectedBox } from "./_fixtures.ts";

const NAME = "0a1b2c3d4e", FRAMES = 10, NW = 192, NH = 144;
const boxes: FixtureBox[] = [
  { center: [-0.4, 1.2, 0.4], size: [0.5, 0.4, 0.8] },
  { center: [0.6, 1.6, 0.35], size: [0.8, 0.6, 0.7] },
];
const root = await Deno.makeTempDir({ prefix: "vlm3r-scannetpp-" });
const scene = join(root, "data", NAME);
await Deno.mkdir(join(scene, "scans"), { recursive: true });
await Deno.mkdir(join(scene, "iphone", "rgb"), { recursive: true });
const mesh = fixtureMesh(boxes);
await Deno.writeFile(join(scene, "scans", "mesh_aligned_0.05.ply"), writeMeshPly(mesh));
await Deno.writeTextFile(
  join(scene, "scans", "segments.json"),
  JSON.stringify({ segIndices: mesh.part }),
);
const obb = (b: FixtureBox) => ({
  centroid: b.center,
  axesLengths: b.size,
  normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1],
});
const mouseBox = {
  centroid: [0, 0, 0.7],
  axesLengths: [0.1, 0.06, 0.04],
  normalizedAxes: [0, 1, 0, -1, 0, 0, 0, 0, 1],
};
await Deno.writeTextFile(
  join(scene, "scans", "segments_anno.json"),
  JSON.stringify({
    segGroups: [
      { id: 0, objectId: 0, label: "floor", segments: [0] },
      { id: 1, objectId: 1, label: "office chair", segments: [1], obb: obb(boxes[0]) },
      { id: 2, objectId: 2, label: "table", segments: [2], obb: obb(boxes[1]) },
      { id: 3, objectId: 3, label: "mouse", segments: [], obb: mouseBox },
    ],
  }),
);
// Native iPhone intrinsics at NW x NH; the export scales them to 640 wide.
const native = { fx: 144, fy: 144, cx: 96, cy: 72, width: NW, height: NH };
const poses = fixturePoses(FRAMES);
const entries: Record<string, unknown> = {};
for (let i = 0; i < FRAMES; i++) {
  const key = `frame_${String(i * 10).padStart(6, "0")}`;
  const pose = [0, 1, 2, 3].map((r) => Array.from(poses[i].subarray(4 * r, 4 * r + 4)));
  entries[key] = {
    timestamp: 1000 + (i * 10) / 60,
    intrinsic: [[native.fx, 0, native.cx], [0, native.fy, native.cy], [0, 0, 1]],
    pose,
    // Frame 4 lost tracking: no aligned pose.
    ...(i === 4 ? {} : { aligned_pose: pose }),
  };
  const rgba = new Uint8Array(4 * NW * NH).map((
    _,
    j,
  ) => (j % 4 === 3 ? 255 : (j * 7 + i * 13) % 256));
  await Deno.writeFile(join(scene, "iphone", "rgb", `${key}.jpg`), encodeJpeg(rgba, NW, NH, 90));
}
await Deno.writeTextFile(join(scene, "iphone", "pose_intrinsic_imu.json"), JSON.stringify(entries));

function options(out: string): MetaRunOptions {
  return {
    dataset: "scannetpp",
    root,
    out,
    split: "val",
    labels: DEFAULT_LABELS.scannetpp,
    frames: 32,
    seed: "0",
    workers: 1,
    format: "json",
    strict: false,
  };
}
const load = (out: string) => loadMeta(out, "scannetpp");
const out = join(root, "out");
const summary = await runMeta(options(out));
const meta = await load(out);

Deno.test("scannetpp: annotated boxes with instance ids, VSI-Bench remaps", () => {
  assertEquals(summary.failed, []);
  const s = meta.scenes[NAME];
  assertEquals(s.dataset, "scannetpp");
  assertEquals(s.video_path, `ScanNetpp/videos/val/${NAME}.mp4`);
  assertEquals(s.object_counts, { chair: 1, "computer mouse": 1, table: 1 });
  const chair = s.object_bboxes.chair[0];
  assertEquals([chair.instance_id, chair.centroid, chair.axesLengths], [
    1,
    boxes[0].center,
    boxes[0].size,
  ]);
  assertEquals(chair.normalizedAxes, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const mouse = s.object_bboxes["computer mouse"][0];
  assertEquals([mouse.instance_id, mouse.normalizedAxes], [3, mouseBox.normalizedAxes]);
  // The turned mouse box: 0.1 m along y, 0.06 m along x.
  assertAlmostEquals(mouse.max[1] - mouse.min[1], 0.1, 1e-9);
  assertAlmostEquals(mouse.max[0] - mouse.min[0], 0.06, 1e-9);
});

Deno.test("scannetpp: iPhone frames with aligned poses, scaled intrinsics and rendered 2D boxes", async () => {
  const f = meta.frames[NAME];
  assertEquals(summary.reports[0].invalidPoses, 1);
  assertEquals(
    f.frames.map((r) => r.frame_id),
    [0, 1, 2, 3, 5, 6, 7, 8, 9].map((i) => `frame_${String(i * 10).padStart(6, "0")}`),
  );
  assertEquals([f.img_width, f.img_height, f.fps], [640, 480, 60]);
  const k = scaleIntrinsics(native, 640, 480);
  assertEquals(f.camera_intrinsics, { fx: k.fx, fy: k.fy, cx: k.cx, cy: k.cy });
  for (const r of f.frames) {
    const i = Number(String(r.frame_id).slice(6)) / 10;
    assertEquals(r.camera_pose_camera_to_world.flat(), Array.from(poses[i]));
    assertEquals(r.file_path_mask, null);
    assertAlmostEquals(r.timestamp!, 1000 + (i * 10) / 60, 1e-9);
    // Each box's rendered 2D box is its projected corners' box (nothing hides the front box).
    for (const [id, b] of [[1, boxes[0]], [2, boxes[1]]] as const) {
      const got = r.bboxes_2d.find((x) => x.instance_id === id);
      assert(got && got.visible_pixels > 100, `box ${id} visible in ${r.frame_id}`);
      const want = projectedBox(b, poses[i], k);
      for (let c = 0; c < 4; c++) {
        assert(
          Math.abs(got.bbox_2d[c] - want[c]) <= 1,
          `${r.frame_id} box ${id}: ${got.bbox_2d} vs ${want}`,
        );
      }
    }
    assert(r.bboxes_2d.some((x) => x.instance_id === 0), "the floor is seen");
  }
  // Colour upscaled to 640x480; depth rendered from the mesh.
  const r = f.frames[0];
  const color = decodeJpeg(await Deno.readFile(join(out, r.file_path_color)));
  assertEquals([color.width, color.height], [640, 480]);
  const depth = decodePng(await Deno.readFile(join(out, r.file_path_depth)));
  const chair = r.bboxes_2d.find((x) => x.instance_id === 1)!.bbox_2d;
  const mid = Math.round((chair[1] + chair[3]) / 2) * 640 + Math.round((chair[0] + chair[2]) / 2);
  // The chair's front face is 1.8 m ahead of the camera along y; depth is along the optical axis.
  const d = (depth.data[mid] as number) / 1000;
  assert(d > 1.6 && d < 2.1, `depth at the chair ${d}`);
});

Deno.test({
  name: "scannetpp: colour decoded from the iPhone video when frames are not extracted",
  ...needs("ffmpeg", "ffprobe"),
  fn: async () => {
    const iphone = join(scene, "iphone");
    const seq = join(root, "seq");
    await Deno.mkdir(seq);
    // The video holds every frame: frame_000010 is video frame 10.
    for (let n = 0; n < 91; n++) {
      const key = `frame_${String(n - (n % 10)).padStart(6, "0")}.jpg`;
      await Deno.copyFile(join(iphone, "rgb", key), join(seq, `${String(n).padStart(6, "0")}.jpg`));
    }
    const enc = await new Deno.Command("ffmpeg", {
      args: [
        "-v",
        "error",
        "-framerate",
        "60",
        "-i",
        join(seq, "%06d.jpg"),
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-crf",
        "12",
        join(iphone, "rgb.mp4"),
      ],
    }).output();
    assert(enc.success, "ffmpeg encodes the fixture video");
    await Deno.rename(join(iphone, "rgb"), join(root, "rgb-extracted"));
    try {
      const outV = join(root, "outv");
      const s = await runMeta(options(outV));
      assertEquals(s.failed, []);
      const v = await load(outV);
      assertEquals(
        v.frames[NAME].frames.map((r) => r.bboxes_2d),
        meta.frames[NAME].frames.map((r) => r.bboxes_2d),
      );
      for (const r of v.frames[NAME].frames.slice(0, 3)) {
        const a = decodeJpeg(await Deno.readFile(join(outV, r.file_path_color)));
        const b = decodeJpeg(await Deno.readFile(join(out, r.file_path_color)));
        assertEquals([a.width, a.height], [640, 480]);
        let diff = 0;
        for (let j = 0; j < a.data.length; j += 4) diff += Math.abs(a.data[j + 1] - b.data[j + 1]);
        assert(
          diff / (a.data.length / 4) < 40,
          `video frame ${r.frame_id} differs by ${diff / (a.data.length / 4)}`,
        );
      }
    } finally {
      await Deno.rename(join(root, "rgb-extracted"), join(iphone, "rgb"));
      await Deno.remove(join(iphone, "rgb.mp4"));
    }
  },
});

Deno.test("scannetpp: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
