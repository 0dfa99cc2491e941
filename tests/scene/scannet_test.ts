// ScanNet layouts: the .sens stream and zipped masks give the same metadata as exported frames.
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";
import { join } from "node:path";
import { zipSync } from "fflate";
import { decodeJpeg, decodePng, encodeJpeg } from "../../io/image.ts";
import { ZipReader } from "../../io/zip.ts";
import { parseMat4 } from "../../geometry/pose.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { DEFAULT_LABELS } from "../../scene/labels.ts";
import { type MetaRunOptions, runMeta } from "../../scene/meta_run.ts";
import { sampleIndices } from "../../scene/meta.ts";
import { loadMeta } from "./_fixtures.ts";
import { SensReader } from "../../scene/sens.ts";
import { encodeSens, type SensFrameIn } from "./_sens.ts";

const W = 96, H = 72, FRAMES = 20, NAME = "scene0000_00";
const root = await Deno.makeTempDir({ prefix: "vlm3r-scannet-" });
const exported = join(root, "exported");
const scene = synthScene("scannet-test", 0, { frames: FRAMES, width: W, height: H });
await writeSynthScene(scene, exported, { workers: 1, video: "none" });
const src = join(exported, NAME);

// The same scan as ScanNet ships it: mesh files, a .sens stream (colour at twice the depth
// size, one frame with lost tracking) and the masks in a zip.
const sensRoot = join(root, "sens", "scans");
const scan = join(sensRoot, NAME);
await Deno.mkdir(scan, { recursive: true });
for (
  const f of [
    `${NAME}_vh_clean_2.ply`,
    `${NAME}_vh_clean_2.0.010000.segs.json`,
    `${NAME}.aggregation.json`,
    `${NAME}.txt`,
  ]
) {
  await Deno.copyFile(join(src, f), join(scan, f));
}
const k = scene.intrinsics;
const frames: SensFrameIn[] = [];
const zipMembers: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
for (let i = 0; i < FRAMES; i++) {
  const pose = parseMat4(await Deno.readTextFile(join(src, "frames", "pose", `${i}.txt`)))!;
  if (i === 3) pose.fill(-Infinity);
  const small = decodeJpeg(await Deno.readFile(join(src, "frames", "color", `${i}.jpg`)));
  const big = new Uint8Array(4 * 4 * W * H);
  for (let y = 0; y < 2 * H; y++) {
    for (let x = 0; x < 2 * W; x++) {
      for (let c = 0; c < 4; c++) {
        big[4 * (y * 2 * W + x) + c] = small.data[4 * ((y >> 1) * W + (x >> 1)) + c];
      }
    }
  }
  const depth = decodePng(await Deno.readFile(join(src, "frames", "depth", `${i}.png`)))
    .data as Uint16Array;
  frames.push({ pose, color: encodeJpeg(big, 2 * W, 2 * H, 95), depth });
  zipMembers[`instance-filt/${i}.png`] = [
    await Deno.readFile(join(src, "instance-filt", `${i}.png`)),
    { level: i % 2 ? 0 : 6 },
  ];
}
const kd = [k.fx, 0, k.cx, 0, 0, k.fy, k.cy, 0, 0, 0, 1, 0, 0, 0, 0, 1];
const kc = [2 * k.fx, 0, 2 * k.cx, 0, 0, 2 * k.fy, 2 * k.cy, 0, 0, 0, 1, 0, 0, 0, 0, 1];
const sensBytes = encodeSens({
  intrinsicColor: kc,
  intrinsicDepth: kd,
  colorWidth: 2 * W,
  colorHeight: 2 * H,
  depthWidth: W,
  depthHeight: H,
  frames,
});
await Deno.writeFile(join(scan, `${NAME}.sens`), sensBytes);
await Deno.writeFile(join(scan, `${NAME}_2d-instance-filt.zip`), zipSync(zipMembers));

function options(rootDir: string, out: string): MetaRunOptions {
  return {
    dataset: "scannet",
    root: rootDir,
    out,
    split: "val",
    labels: DEFAULT_LABELS.scannet,
    frames: 32,
    seed: "0",
    workers: 1,
    format: "json",
    strict: false,
  };
}
const load = (out: string) => loadMeta(out, "scannet");

Deno.test("sens: the reader returns what the writer stored", async () => {
  const sens = await SensReader.open(join(scan, `${NAME}.sens`));
  try {
    assertEquals(sens.header.frameCount, FRAMES);
    assertEquals([sens.header.colorWidth, sens.header.depthWidth, sens.header.depthShift], [
      2 * W,
      W,
      1000,
    ]);
    assertAlmostEquals(sens.header.intrinsicDepth[0], k.fx, 1e-3);
    assertEquals(await sens.readDepth(7), frames[7].depth);
    assertEquals(await sens.readColor(2), Uint8Array.from(frames[2].color));
    assertEquals(sens.frames[3].cameraToWorld[0], -Infinity);
    assertAlmostEquals(sens.frames[5].cameraToWorld[3], frames[5].pose[3], 1e-6);
  } finally {
    sens.close();
  }
});

Deno.test("sens: a truncated stream is a one-line error naming the file", async () => {
  const file = join(root, "cut.sens");
  await Deno.writeFile(file, sensBytes.subarray(0, sensBytes.length - 100));
  await assertRejects(
    () => SensReader.open(file),
    /cut\.sens: frame 19: expected 20 frames, got truncated file/,
  );
});

Deno.test("zip: members are read in place, corruption is caught", async () => {
  const zip = await ZipReader.open(join(scan, `${NAME}_2d-instance-filt.zip`));
  try {
    assertEquals(zip.names().length, FRAMES);
    assertEquals(await zip.read("instance-filt/4.png"), zipMembers["instance-filt/4.png"][0]);
    assertEquals(await zip.read("instance-filt/5.png"), zipMembers["instance-filt/5.png"][0]);
    await assertRejects(() => zip.read("instance-filt/99.png"), /expected a member of the archive/);
  } finally {
    zip.close();
  }
  const bytes = zipSync({ "a.txt": [new TextEncoder().encode("hello hello"), { level: 0 }] });
  bytes[bytes.indexOf(0x68)] ^= 1; // flip a bit of the stored data
  const bad = join(root, "bad.zip");
  await Deno.writeFile(bad, bytes);
  const z = await ZipReader.open(bad);
  try {
    await assertRejects(() => z.read("a.txt"), /CRC-32/);
  } finally {
    z.close();
  }
});

Deno.test("scannet: .sens + zipped masks give the exported folder's metadata", async () => {
  const outA = join(root, "outA"), outB = join(root, "outB");
  await runMeta(options(exported, outA));
  const summary = await runMeta(options(join(root, "sens"), outB));
  assertEquals(summary.failed, []);
  assertEquals(summary.reports[0].invalidPoses, 1);
  assertEquals(summary.reports[0].renderedMasks, 0);
  const a = await load(outA), b = await load(outB);
  assertEquals(b.scenes[NAME], a.scenes[NAME]);
  const fb = b.frames[NAME], fa = a.frames[NAME];
  const valid = Array.from({ length: FRAMES }, (_, i) => i).filter((i) => i !== 3);
  assertEquals(
    fb.frames.map((f) => f.frame_id),
    sampleIndices(valid.length, 32).map((i) => valid[i]),
  );
  assertEquals([fb.img_width, fb.img_height], [W, H]);
  assertAlmostEquals(fb.camera_intrinsics.fx, fa.camera_intrinsics.fx, 1e-3);
  for (const f of fb.frames) {
    const g = fa.frames.find((x) => x.frame_id === f.frame_id)!;
    assertEquals(f.bboxes_2d, g.bboxes_2d);
    const pb = f.camera_pose_camera_to_world.flat(), pa = g.camera_pose_camera_to_world.flat();
    for (let i = 0; i < 16; i++) assertAlmostEquals(pb[i], pa[i], 2e-5);
  }
  // Colour stored at twice the size comes back at the depth size, close to the original.
  const f = fb.frames[4];
  const got = decodeJpeg(await Deno.readFile(join(outB, f.file_path_color)));
  const want = decodeJpeg(await Deno.readFile(join(src, "frames", "color", `${f.frame_id}.jpg`)));
  assertEquals([got.width, got.height], [W, H]);
  let diff = 0;
  for (let i = 0; i < got.data.length; i++) diff += Math.abs(got.data[i] - want.data[i]);
  assert(diff / got.data.length < 4, `mean colour difference ${diff / got.data.length}`);
  const depth = decodePng(await Deno.readFile(join(outB, f.file_path_depth)));
  assertEquals(depth.data, frames[f.frame_id as number].depth);
});

Deno.test("scannet: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
