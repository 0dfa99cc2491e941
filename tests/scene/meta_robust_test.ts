// Nothing lost silently: every odd scene folder under --root is found and reported, data-losing
// annotations warn, a strict stop and an interrupted rerun leave the output as it was, and a
// rerun removes what a killed run left behind. Each bad input is made from a synth scene.
import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { encodePng8 } from "../../io/image.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { parseLabelMap } from "../../scene/labels.ts";
import { type MetaRunOptions, runMeta } from "../../scene/meta_run.ts";
import type { FrameMetaFile } from "../../scene/metadata.ts";
import { main } from "../../cli/main.ts";
import { capture } from "../_support.ts";
import { loadMeta } from "./_fixtures.ts";

const root = await Deno.makeTempDir({ prefix: "vlm3r-meta-robust-" });
const raw = join(root, "raw");
const s = (i: number) => `scene000${i}_00`;
const at = (i: number, ...p: string[]) => join(raw, s(i), ...p);
for (let i = 0; i < 5; i++) {
  await writeSynthScene(synthScene("robust", i, { frames: 6, width: 48, height: 36 }), raw, {
    workers: 1,
    video: "none",
  });
}
// Every synthetic category kept, so each annotated object is in the metadata.
const categories = new Set<string>();
for (let i = 0; i < 5; i++) {
  const truth = JSON.parse(await Deno.readTextFile(at(i, "ground_truth.json")));
  for (const o of truth.objects) categories.add(o.category);
}
const labelsFile = join(root, "labels.json");
await Deno.writeTextFile(
  labelsFile,
  JSON.stringify(Object.fromEntries([...categories].map((c) => [c, c]))),
);
const labels = parseLabelMap(JSON.parse(await Deno.readTextFile(labelsFile)), labelsFile);

// 1: no <scene>.txt.
await Deno.remove(at(1, `${s(1)}.txt`));
// 2: a symlink to a scan kept elsewhere.
await Deno.mkdir(join(root, "elsewhere"));
await Deno.rename(at(2), join(root, "elsewhere", s(2)));
await Deno.symlink(join(root, "elsewhere", s(2)), at(2));
// 3: the aggregation names segments the mesh does not have: some of one object's, all of another's.
const aggFile = at(3, `${s(3)}.aggregation.json`);
const agg = JSON.parse(await Deno.readTextFile(aggFile));
const truth3 = JSON.parse(await Deno.readTextFile(at(3, "ground_truth.json")));
const objectIds = new Set(truth3.objects.map((o: { instance_id: number }) => o.instance_id));
const [partK, goneK] = agg.segGroups.flatMap((g: { objectId: number }, k: number) =>
  objectIds.has(g.objectId) ? [k] : []
);
agg.segGroups[partK].segments.push(987654);
agg.segGroups[goneK].segments = [987655, 987656];
const partId = agg.segGroups[partK].objectId, goneId = agg.segGroups[goneK].objectId;
await Deno.writeTextFile(aggFile, JSON.stringify(agg));
// 4: an 8-bit depth PNG of the right size.
await Deno.writeFile(
  at(4, "frames", "depth", "0.png"),
  encodePng8(new Uint8Array(48 * 36), 48, 36),
);
// A broken symlink named like a scene, a folder that is not a scene, a hidden folder.
await Deno.symlink(join(root, "nowhere"), join(raw, "scene0009_00"));
await Deno.mkdir(join(raw, "notes"));
await Deno.mkdir(join(raw, ".cache"));

function options(out: string, extra: Partial<MetaRunOptions> = {}): MetaRunOptions {
  return {
    dataset: "scannet",
    root: raw,
    out,
    split: "val",
    labels,
    frames: 32,
    seed: "0",
    workers: 1,
    format: "json",
    strict: false,
    ...extra,
  };
}

/** Every file under `dir` (relative paths, sorted), or [] when it does not exist. */
async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(join(dir, prefix))) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory) out.push(...await tree(dir, rel));
      else out.push(rel);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/** Frame files listed by the frame metadata under `out` that are not on disk. */
async function missingFrames(out: string): Promise<string[]> {
  const file = join(out, "metadata", "val", "scannet_frame_metadata_val.json");
  let frames: FrameMetaFile;
  try {
    frames = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const missing: string[] = [];
  for (const scene of Object.values(frames)) {
    for (const f of scene.frames) {
      for (const p of [f.file_path_color, f.file_path_depth]) {
        await Deno.stat(join(out, p)).catch(() => missing.push(p));
      }
    }
  }
  return missing;
}

Deno.test("every scene folder is found: missing <scene>.txt and broken links fail, symlinks are followed", async () => {
  const err = capture();
  const out = join(root, "cli");
  const code = await main([
    "meta",
    "--dataset",
    "scannet",
    "--root",
    raw,
    "--out",
    out,
    "--labels",
    labelsFile,
    "--workers",
    "1",
  ], err);
  assertEquals(code, 1);
  const lines = err.err.trim().split("\n");
  const expected = [
    `warning: ${join(raw, "notes")}: scene: expected a scannet scene folder (with notes.txt), ` +
    `got another folder; ignored`,
    `skipped ${s(1)}: ${at(1, `${s(1)}.txt`)}: file: expected an existing file, got none`,
    `warning: ${aggFile}: segGroups[${partK}].segments (objectId ${partId} ` +
    `"${agg.segGroups[partK].label}"): expected segment ids in ${
      s(3)
    }_vh_clean_2.0.010000.segs.json, ` +
    `got 1 of ${agg.segGroups[partK].segments.length} unknown: 987654; its box omits them`,
    `warning: ${aggFile}: segGroups[${goneK}].segments (objectId ${goneId} ` +
    `"${agg.segGroups[goneK].label}"): expected segment ids in ${
      s(3)
    }_vh_clean_2.0.010000.segs.json, ` +
    `got 2 of 2 unknown: 987655, 987656; the object has no vertices and is left out`,
    `skipped ${s(4)}: ${at(4, "frames", "depth", "0.png")}: depth: ` +
    `expected a one-channel 16-bit PNG (millimetres), got 8-bit greyscale`,
    `skipped scene0009_00: ${join(raw, "scene0009_00")}: scene: expected an existing scene ` +
    `folder, got a broken symlink to ${join(root, "nowhere")}`,
  ];
  assertEquals(lines, expected);
  assert(err.out.startsWith("scannet val: 6 scenes, 3 ok, 3 failed"), err.out);

  const { scenes, frames } = await loadMeta(out, "scannet");
  assertEquals(Object.keys(scenes), [s(0), s(2), s(3)]);
  assertEquals(frames[s(2)].frames.length, 6);
  // The object whose segments are all unknown is left out; the other is kept.
  const ids = Object.values(scenes[s(3)].object_bboxes).flat().map((b) => b.instance_id);
  assert(ids.includes(partId) && !ids.includes(goneId), ids.join());
  const report = JSON.parse(
    await Deno.readTextFile(join(out, "metadata", "val", "scannet_meta_report_val.json")),
  );
  const r3 = report.scenes.find((r: { scene: string }) => r.scene === s(3));
  assertEquals(r3.warnings.length, 2);
  assertEquals(await missingFrames(out), []);
});

Deno.test("a scene listed twice is processed once, with a warning", async () => {
  const seen: string[] = [];
  const summary = await runMeta(
    options(join(root, "twice"), { scenes: [s(0), s(0)], onWarning: (m) => seen.push(m) }),
  );
  assertEquals(summary.scenes, 1);
  assertEquals(seen, [`${at(0)}: scene: expected once in the list, got it again; done once`]);
});

Deno.test("--strict writes nothing: no folder when --out was new, the old output untouched", async () => {
  const fresh = join(root, "strict", "new", "out");
  const summary = await runMeta(options(fresh, { strict: true, scenes: [s(0), s(1), s(2)] }));
  assert(summary.stoppedEarly);
  assertEquals(summary.failed.map((f) => f.scene), [s(1)]);
  assertEquals(await tree(join(root, "strict")), []);
  let made = true;
  await Deno.stat(join(root, "strict", "new")).catch(() => (made = false));
  assert(!made, "the folders --out needed are removed again");

  const old = join(root, "strict-old");
  await runMeta(options(old, { scenes: [s(0)], frames: 4 }));
  const before = await tree(old);
  const metaBefore = await Deno.readTextFile(
    join(old, "metadata", "val", "scannet_frame_metadata_val.json"),
  );
  const again = await runMeta(options(old, { strict: true, frames: 3, scenes: [s(0), s(1)] }));
  assert(again.stoppedEarly);
  assertEquals(await tree(old), before);
  assertEquals(
    await Deno.readTextFile(join(old, "metadata", "val", "scannet_frame_metadata_val.json")),
    metaBefore,
  );
});

Deno.test("--out naming a file is one usage error, exit 2", async () => {
  const file = join(root, "a-file");
  await Deno.writeTextFile(file, "");
  for (const out of [file, join(file, "sub")]) {
    const io = capture();
    const code = await main(
      ["meta", "--dataset", "scannet", "--root", raw, "--out", out],
      io,
    );
    assertEquals(code, 2);
    const lines = io.err.trim().split("\n");
    assertEquals(lines.length, 2, io.err);
    assert(
      lines[0].startsWith(`vlm3r meta: --out ${out}`) && lines[0].includes("is a file"),
      lines[0],
    );
    assertEquals(io.out, "");
  }
});

Deno.test("a rerun stopped at any point never leaves metadata listing frames that are gone", async () => {
  const out = join(root, "rerun");
  const scenes = [s(0), s(2)];
  // The first run samples frames 0,1,3,5; the rerun 0,2,5: stale metadata would list 1 and 3.
  const first = () => runMeta(options(out, { scenes, frames: 4 }));
  await first();
  const steps: string[] = [];
  await runMeta(options(out, { scenes, frames: 3, onCommitStep: (step) => void steps.push(step) }));
  assertEquals(steps, [
    "metadata removed",
    `frames of ${s(0)}`,
    `frames of ${s(2)}`,
    "scannet_meta_report_val.json written",
    "scannet_metadata_val.json written",
    "scannet_frame_metadata_val.json written",
  ]);
  assertEquals(await missingFrames(out), []);
  assertEquals((await loadMeta(out, "scannet")).frames[s(0)].frames.length, 3);

  // Stopped while extracting: the old output is untouched. Then stopped after each commit step.
  for (const stopAt of ["extracting", ...steps]) {
    await first();
    const before = await tree(out);
    const crash = new Error(`stopped at ${stopAt}`);
    let stopped = false;
    try {
      await runMeta(options(out, {
        scenes,
        frames: 3,
        onProgress: (done) => {
          if (stopAt === "extracting" && done === 1) throw crash;
        },
        onCommitStep: (step) => {
          if (step === stopAt) throw crash;
        },
      }));
    } catch (e) {
      stopped = e === crash;
    }
    assert(stopped, stopAt);
    assertEquals(await missingFrames(out), [], stopAt);
    if (stopAt === "extracting") assertEquals(await tree(out), before);
    // No staging or swap folder is left either.
    assertEquals((await tree(out)).filter((f) => f.includes(".tmp-")), [], stopAt);
  }
});

/** A pid that is certainly not running: a finished child's. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("a rerun removes the temporary folders of a killed run, and only those", async () => {
  const out = join(root, "leftovers");
  await runMeta(options(out, { scenes: [s(0)] }));
  const dead = await deadPid();
  const live = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const stale = [
      `.meta-scannet-val.tmp-${dead}-0/color/${s(0)}/000000.jpg`,
      `color/val/.${s(0)}.tmp-${dead}-3/000000.jpg`,
      `depth/val/.${s(0)}.tmp-${dead}-4/000000.png`,
      `metadata/val/.scannet_metadata_val.json.tmp-${dead}-7`,
    ];
    const kept = [
      `color/val/.${s(0)}.tmp-${live.pid}-0/000000.jpg`, // its owner still runs
      `color/val/.${s(0)}.tmp-x/000000.jpg`, // not our pattern
      `color/val/.${s(2)}.tmp-${dead}-0/000000.jpg`, // a scene this run does not write
    ];
    for (const f of [...stale, ...kept]) {
      await Deno.mkdir(join(out, f, ".."), { recursive: true });
      await Deno.writeTextFile(join(out, f), "");
    }
    const summary = await runMeta(options(out, { scenes: [s(0)] }));
    assertEquals(
      summary.removedTemps.map((p) => p.slice(out.length + 1)).sort(),
      stale.map((f) => f.split("/").slice(0, f.startsWith(".meta") ? 1 : 3).join("/")).sort(),
    );
    const left = (await tree(out)).filter((f) => f.includes(".tmp"));
    assertEquals(left, kept.sort());
  } finally {
    live.kill("SIGKILL");
    await live.status;
  }
});

Deno.test("robust: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
