import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { detectFormat, loadMetadata } from "../../qa/input.ts";
import { framePose } from "../../qa/_scene.ts";
import { poseRows } from "./builders.ts";
import { renamed, synthInput, writeMetadataFiles } from "./synth_metadata.ts";

const FIXTURE = new URL("../fixtures/qa/vsibench_meta_info/", import.meta.url).pathname;

Deno.test("VSI-Bench meta info is detected and read: ids made up, scenes ordered", async () => {
  const { scenes, problems, files } = await loadMetadata([FIXTURE]);
  assertEquals(problems, []);
  assertEquals(files.map((f) => f.format), [
    "vsibench-meta-info",
    "vsibench-meta-info",
    "vsibench-meta-info",
  ]);
  assertEquals(scenes.map((s) => `${s.meta.dataset}/${s.meta.scene_name}`), [
    "arkitscenes/47331972",
    "arkitscenes/47333457",
    "scannet/scene0207_02",
    "scannet/scene0695_00",
    "scannetpp/3db0a1c8f3",
    "scannetpp/c49a8c6cff",
  ]);
  const s = scenes[2];
  assert(s.syntheticIds && s.frames === undefined);
  const ids = Object.values(s.meta.object_bboxes).flat().map((b) => b.instance_id);
  assertEquals(ids, ids.map((_, i) => i));
  // scene0207_02 counts one printer but has two printer boxes (a quirk of the released file).
  assertEquals(s.meta.object_counts.printer, 1);
  assertEquals(s.meta.object_bboxes.printer.length, 2);
  assert(s.meta.video_path.endsWith("scene0207_02.mp4"));
});

Deno.test("vlm3r metadata with frames: paired by dataset and scene, sorted frames", async () => {
  const dir = await Deno.makeTempDir();
  const box = {
    centroid: [1, 2, 0.5],
    axesLengths: [1, 1, 1],
    normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    min: [0.5, 1.5, 0],
    max: [1.5, 2.5, 1],
    instance_id: 7,
  };
  const scene = (name: string) => ({
    scene_name: name,
    dataset: "scannet",
    split: "val",
    video_path: `${name}.mp4`,
    room_size: 20,
    room_center: [0, 0, 1],
    object_counts: { bed: 1 },
    object_bboxes: { bed: [box] },
  });
  await Deno.writeTextFile(
    join(dir, "scannet_metadata_val.json"),
    JSON.stringify({ scene0001_00: scene("scene0001_00"), scene0000_00: scene("scene0000_00") }),
  );
  const frame = (id: number) => ({
    frame_id: id,
    file_path_color: `color/${id}.jpg`,
    file_path_depth: `depth/${id}.png`,
    camera_pose_camera_to_world: poseRows([0, 0, 1.5], 0),
    bboxes_2d: [{ instance_id: 7, bbox_2d: [1, 2, 3, 4], visible_pixels: 9 }],
  });
  const frames = (name: string) => ({
    scene_name: name,
    dataset: "scannet",
    split: "val",
    fps: 24,
    camera_intrinsics: { fx: 1, fy: 1, cx: 0, cy: 0 },
    img_width: 640,
    img_height: 480,
    frames: [frame(30), frame(0), frame(12)],
  });
  await Deno.writeTextFile(
    join(dir, "scannet_frame_metadata_val.json"),
    JSON.stringify({ scene0000_00: frames("scene0000_00"), scene0099_00: frames("scene0099_00") }),
  );
  const { scenes, problems } = await loadMetadata([dir]);
  assertEquals(scenes.map((s) => s.meta.scene_name), ["scene0000_00", "scene0001_00"]);
  assertEquals(scenes[0].frames!.frames.map((f) => f.frame_id), [0, 12, 30]);
  assertEquals(scenes[1].frames, undefined);
  assert(!scenes[0].syntheticIds);
  assertEquals(problems, [
    `${join(dir, "scannet_frame_metadata_val.json")}: scene0099_00: no scannet scene metadata ` +
    "has this scene; its frame metadata ignored",
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bad scenes: one line naming file, field and expectation; the rest is kept", async () => {
  const dir = await Deno.makeTempDir();
  const good = JSON.parse(await Deno.readTextFile(join(FIXTURE, "arkitscenes_meta_info_val.json")));
  const [a, b] = Object.keys(good);
  good[a].object_bbox[Object.keys(good[a].object_bbox)[0]][0].centroid = [1, 2];
  good["extra"] = { ...good[b], object_counts: { ghost: 2 } };
  const file = join(dir, "arkitscenes_meta_info_val.json");
  await Deno.writeTextFile(file, JSON.stringify(good));
  const { scenes, problems } = await loadMetadata([file]);
  assertEquals(scenes.map((s) => s.meta.scene_name), [b]);
  const cat = Object.keys(good[a].object_bbox)[0];
  assertEquals(problems, [
    `${file}: ${a}.object_bbox.${cat}[0].centroid: expected 3 finite numbers, got [1,2]; scene skipped`,
    `${file}: extra.object_bbox.ghost: expected boxes for a counted category, got none; scene skipped`,
  ]);
  // Not metadata at all: one error for the file.
  const other = join(dir, "notes.json");
  await Deno.writeTextFile(other, JSON.stringify({ a: { b: 1 } }));
  await assertRejects(
    () => loadMetadata([other]),
    /notes\.json: \(top level\): expected scene metadata/,
  );
  await assertRejects(() => loadMetadata([join(dir, "missing")]), /no such file or directory/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("reference-format files: dataset names normalised, from the file name if absent", async () => {
  const dir = await Deno.makeTempDir();
  const box = {
    centroid: [0, 0, 0],
    axesLengths: [1, 1, 1],
    normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  };
  const s = {
    video_path: "v.mp4",
    room_size: 5,
    object_counts: { chair: 1 },
    object_bboxes: { chair: [box] },
  };
  await Deno.writeTextFile(
    join(dir, "scannetpp_metadata_val.json"),
    JSON.stringify({ a1: { ...s, dataset: "ScanNetpp" }, a2: s }),
  );
  const { scenes } = await loadMetadata([dir]);
  assertEquals(scenes.map((x) => x.meta.dataset), ["scannetpp", "scannetpp"]);
  assertEquals(detectFormat({ x: { object_bboxes: {} } }), "scenes");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("Python's NaN / Infinity literals: the scene with one is skipped by field, -inf poses are invalid frames", async () => {
  const dir = await Deno.makeTempDir();
  const base = await synthInput();
  const [good, badRoom, badBox, badExtra, infPoses, badFrames] = [0, 1, 2, 3, 4, 5].map((i) =>
    renamed(base, `scene000${i}_00`)
  );
  // Sentinels in the data, replaced by the literals Python's json.dump writes.
  badRoom.meta.room_size = 1111.25;
  const cat = Object.keys(badBox.meta.object_bboxes)[0];
  badBox.meta.object_bboxes[cat][0].centroid[1] = 2222.25;
  (badExtra.meta as unknown as Record<string, unknown>).score = 3333.25;
  const invalid = [infPoses.frames!.frames[1].frame_id, infPoses.frames!.frames[4].frame_id];
  for (const f of infPoses.frames!.frames) {
    if (invalid.includes(f.frame_id)) {
      f.camera_pose_camera_to_world = f.camera_pose_camera_to_world.map((r) =>
        r.map(() => 4444.25)
      );
    }
  }
  const frameWithBox = badFrames.frames!.frames.findIndex((f) => f.bboxes_2d.length > 0);
  badFrames.frames!.frames[frameWithBox].bboxes_2d[0].bbox_2d[2] = 5555.25;
  const files = await writeMetadataFiles(dir, [
    good,
    badRoom,
    badBox,
    badExtra,
    infPoses,
    badFrames,
  ], {
    scenes: (t) =>
      t.replace("1111.25", "NaN").replace("2222.25", "Infinity").replace("3333.25", "-Infinity"),
    frames: (t) => t.replaceAll("4444.25", "-Infinity").replace("5555.25", "NaN"),
  });
  assert((await Deno.readTextFile(files.frames)).includes("-Infinity"));
  const { scenes, problems, warnings } = await loadMetadata([dir]);
  const box = badBox.meta.object_bboxes[cat][0].centroid;
  const bbox = badFrames.frames!.frames[frameWithBox].bboxes_2d[0].bbox_2d;
  assertEquals(problems, [
    `${files.frames}: scene0005_00.frames[${frameWithBox}].bboxes_2d[0].bbox_2d: expected 4 ` +
    `finite numbers, got [${bbox[0]},${bbox[1]},NaN,${
      bbox[3]
    }]; the scene's frame metadata skipped`,
    `${files.scenes}: scene0001_00.room_size: expected a number >= 0, got NaN; scene skipped`,
    `${files.scenes}: scene0002_00.object_bboxes.${cat}[0].centroid: expected 3 finite numbers, ` +
    `got [${box[0]},Infinity,${box[2]}]; scene skipped`,
    `${files.scenes}: scene0003_00.score: expected a finite number, got -Infinity; scene skipped`,
  ]);
  assertEquals(warnings, []);
  assertEquals(scenes.map((s) => s.meta.scene_name), [
    "scene0000_00",
    "scene0004_00",
    "scene0005_00",
  ]);
  // ScanNet's -inf poses: the frames stay (they count in "frame k of N"), their poses invalid.
  const kept = scenes[1].frames!.frames;
  assertEquals(kept.length, base.frames!.frames.length);
  assertEquals(kept.filter((f) => framePose(f) === undefined).map((f) => f.frame_id), invalid);
  assertEquals(scenes[1].framesSource, files.frames);
  assertEquals(scenes[2].frames, undefined);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vlm3r metadata: problems name object_bboxes; zero-size boxes warned; frames given twice", async () => {
  const dir = await Deno.makeTempDir();
  const base = await synthInput();
  const missing = renamed(base, "scene0001_00");
  delete (missing.meta as Partial<typeof missing.meta>).object_bboxes;
  const flat = renamed(base, "scene0002_00");
  const cat = Object.keys(flat.meta.object_bboxes)[0];
  flat.meta.object_bboxes[cat][0].axesLengths = [0, 0, 0];
  const files = await writeMetadataFiles(dir, [base, missing, flat]);
  // The same frames again, in a second file.
  const again = join(dir, "scannet_frame_metadata_val2.json");
  await Deno.copyFile(files.frames, again);
  const { scenes, problems, warnings } = await loadMetadata([dir]);
  assertEquals(problems, [
    `${files.scenes}: scene0001_00.object_bboxes: expected an object of box lists, got undefined; ` +
    "scene skipped",
    `${again}: scene0000_00: also in ${files.frames}; the first kept`,
    `${again}: scene0002_00: also in ${files.frames}; the first kept`,
  ]);
  assertEquals(warnings, [
    `${files.scenes}: scene0002_00.object_bboxes.${cat}[0].axesLengths: expected sides > 0, ` +
    "got [0,0,0]; its distances are measured exactly, not sampled as VSI-Bench does, and its " +
    "size is not asked",
  ]);
  assertEquals(scenes.map((s) => s.meta.scene_name), ["scene0000_00", "scene0002_00"]);
  await Deno.remove(dir, { recursive: true });
});
