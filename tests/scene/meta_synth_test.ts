// The metadata pipeline against synthetic scenes, whose ground truth is exact.
import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { decodePng } from "../../io/image.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { DEFAULT_LABELS, parseLabelMap } from "../../scene/labels.ts";
import { type MetaRunOptions, runMeta } from "../../scene/meta_run.ts";
import { sampleIndices } from "../../scene/meta.ts";
import { loadMeta } from "./_fixtures.ts";

interface Truth {
  room: { floor_area: number };
  objects: { instance_id: number; category: string; center: number[]; size: number[] }[];
  camera: { poses: number[][]; frames: number };
}

const FRAMES = 40;
const root = await Deno.makeTempDir({ prefix: "vlm3r-meta-synth-" });
const raw = join(root, "raw");
for (const i of [0, 1, 2]) {
  await writeSynthScene(
    synthScene("meta-test", i, { frames: FRAMES, width: 128, height: 96 }),
    raw,
    {
      workers: 1,
      video: "none",
    },
  );
}
const names = ["scene0000_00", "scene0001_00", "scene0002_00"];
const truth: Record<string, Truth> = {};
for (const n of names) {
  truth[n] = JSON.parse(await Deno.readTextFile(join(raw, n, "ground_truth.json")));
}
const everyCategory = parseLabelMap(
  Object.fromEntries(names.flatMap((n) => truth[n].objects.map((o) => [o.category, o.category]))),
  "all.json",
);

function options(out: string, extra: Partial<MetaRunOptions> = {}): MetaRunOptions {
  return {
    dataset: "scannet",
    root: raw,
    out,
    split: "val",
    labels: everyCategory,
    frames: 32,
    seed: "0",
    workers: 1,
    format: "json",
    strict: false,
    ...extra,
  };
}

const load = (out: string) => loadMeta(out, "scannet");

const out1 = join(root, "out1");
const summary1 = await runMeta(options(out1));
const meta1 = await load(out1);

Deno.test("synth: every object found with its category, count and exact box", () => {
  assertEquals(summary1.failed, []);
  for (const n of names) {
    const scene = meta1.scenes[n];
    const want: Record<string, number> = {};
    for (const o of truth[n].objects) want[o.category] = (want[o.category] ?? 0) + 1;
    assertEquals(scene.object_counts, Object.fromEntries(Object.entries(want).sort()));
    for (const o of truth[n].objects) {
      const box = scene.object_bboxes[o.category].find((b) => b.instance_id === o.instance_id);
      assert(box, `${n}: ${o.category} ${o.instance_id} has a box`);
      // Composite objects (a table's top and legs) are compared with the box of all parts.
      const dc = Math.hypot(...box.centroid.map((v, k) => v - o.center[k]));
      assert(dc <= 0.02, `${n} ${o.category}: centre off by ${dc}`);
      const got = [...box.axesLengths].sort((a, b) => a - b),
        exp = [...o.size].sort((a, b) => a - b);
      for (let k = 0; k < 3; k++) {
        assertAlmostEquals(got[k], exp[k], 0.03, `${n} ${o.category} extent`);
      }
      // Rows of normalizedAxes are orthonormal; min/max bound the box.
      const r = box.normalizedAxes;
      assertAlmostEquals(r[0] * r[3] + r[1] * r[4] + r[2] * r[5], 0, 1e-5);
      for (let k = 0; k < 3; k++) {
        assert(box.min[k] <= box.centroid[k] && box.centroid[k] <= box.max[k]);
      }
    }
  }
});

Deno.test("synth: the default ScanNet label map keeps only its categories", async () => {
  const out = join(root, "default-labels");
  await runMeta(options(out, { labels: DEFAULT_LABELS.scannet, scenes: ["scene0000_00"] }));
  const { scenes } = await load(out);
  const kept = new Set(Object.values(DEFAULT_LABELS.scannet.map));
  const want: Record<string, number> = {};
  for (const o of truth.scene0000_00.objects) {
    if (kept.has(o.category)) want[o.category] = (want[o.category] ?? 0) + 1;
  }
  assertEquals(scenes.scene0000_00.object_counts, Object.fromEntries(Object.entries(want).sort()));
  assert(
    truth.scene0000_00.objects.some((o) => o.category === "cabinet"),
    "the scene has a cabinet",
  );
  assert(
    !("cabinet" in scenes.scene0000_00.object_counts),
    "cabinets are not in the reference's list",
  );
});

Deno.test("synth: room size within 5% of the true floor area", () => {
  for (const n of names) {
    const ratio = meta1.scenes[n].room_size / truth[n].room.floor_area;
    assert(Math.abs(ratio - 1) < 0.05, `${n}: room size ratio ${ratio}`);
  }
});

Deno.test("synth: sampled frames carry the aligned camera-to-world poses", () => {
  for (const n of names) {
    const f = meta1.frames[n];
    assertEquals(f.frames.map((r) => r.frame_id), sampleIndices(FRAMES, 32));
    assertEquals([f.img_width, f.img_height, f.fps], [128, 96, 24]);
    for (const r of f.frames) {
      const want = truth[n].camera.poses[r.frame_id as number];
      const got = r.camera_pose_camera_to_world.flat();
      for (let k = 0; k < 16; k++) {
        assertAlmostEquals(got[k], want[k], 2e-5, `${n} frame ${r.frame_id}`);
      }
    }
  }
});

/** Boxes of a mask computed by brute force: instance = value - 1. */
function maskBoxes(m: { width: number; height: number; data: ArrayLike<number> }) {
  const boxes = new Map<number, { bbox: number[]; n: number }>();
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      const v = m.data[y * m.width + x];
      if (v === 0) continue;
      const b = boxes.get(v - 1) ?? { bbox: [x, y, x, y], n: 0 };
      b.bbox = [
        Math.min(b.bbox[0], x),
        Math.min(b.bbox[1], y),
        Math.max(b.bbox[2], x),
        Math.max(b.bbox[3], y),
      ];
      b.n++;
      boxes.set(v - 1, b);
    }
  }
  return boxes;
}

Deno.test("synth: 2D boxes and visible pixels equal those of the rendered masks", async () => {
  for (const n of names) {
    for (const r of meta1.frames[n].frames) {
      const mask = decodePng(
        await Deno.readFile(join(raw, n, "instance-filt", `${r.frame_id}.png`)),
      );
      const want = maskBoxes(mask);
      assertEquals(r.bboxes_2d.length, want.size);
      for (const b of r.bboxes_2d) {
        assertEquals(b.bbox_2d, want.get(b.instance_id)!.bbox);
        assertEquals(b.visible_pixels, want.get(b.instance_id)!.n);
      }
    }
  }
});

Deno.test("synth: sampled colour and depth frames are exported where the records point", async () => {
  const r = meta1.frames.scene0001_00.frames[5];
  const color = await Deno.readFile(join(out1, r.file_path_color));
  assertEquals(
    color,
    await Deno.readFile(join(raw, "scene0001_00", "frames", "color", `${r.frame_id}.jpg`)),
  );
  const depth = decodePng(await Deno.readFile(join(out1, r.file_path_depth)));
  assertEquals([depth.width, depth.height], [128, 96]);
});

Deno.test("synth: without masks, 2D boxes rendered from the mesh match the masks", async () => {
  const copy = join(root, "nomask");
  await Deno.mkdir(copy);
  await new Deno.Command("cp", { args: ["-r", join(raw, "scene0002_00"), copy] }).output();
  await Deno.remove(join(copy, "scene0002_00", "instance-filt"), { recursive: true });
  const out = join(root, "nomask-out");
  const s = await runMeta(options(out, { root: copy }));
  assertEquals(s.reports[0].renderedMasks, 32);
  const { frames } = await load(out);
  let pixels = 0, diff = 0;
  for (const r of frames.scene0002_00.frames) {
    const want = maskBoxes(
      decodePng(
        await Deno.readFile(join(raw, "scene0002_00", "instance-filt", `${r.frame_id}.png`)),
      ),
    );
    for (const b of r.bboxes_2d) {
      const w = want.get(b.instance_id);
      // The mesh is re-read from float32 PLY and poses from 6-decimal text: edges may move a pixel.
      if (!w) {
        assert(b.visible_pixels <= 3, `instance ${b.instance_id} not in the mask`);
        continue;
      }
      for (let k = 0; k < 4; k++) {
        assert(Math.abs(b.bbox_2d[k] - w.bbox[k]) <= 1, "box within a pixel");
      }
      pixels += w.n;
      diff += Math.abs(b.visible_pixels - w.n);
    }
  }
  assert(diff / pixels < 0.01, `visible pixels differ by ${diff / pixels}`);
});

Deno.test("synth: byte-identical output with 1 and 2 workers, and jsonl holds the same records", async () => {
  const out2 = join(root, "out2");
  await runMeta(options(out2, { workers: 2 }));
  for (const f of ["scannet_metadata_val.json", "scannet_frame_metadata_val.json"]) {
    assertEquals(
      await Deno.readFile(join(out2, "metadata", "val", f)),
      await Deno.readFile(join(out1, "metadata", "val", f)),
    );
  }
  const outL = join(root, "outl");
  await runMeta(options(outL, { format: "jsonl" }));
  const lines =
    (await Deno.readTextFile(join(outL, "metadata", "val", "scannet_metadata_val.jsonl")))
      .trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines.map((l) => l.scene_name), names);
  assertEquals(lines[1], meta1.scenes.scene0001_00);
});

Deno.test("synth: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
