// Bad input: each broken scene is reported with its file and reason, skipped and counted.
import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { encodePng8 } from "../../io/image.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { DEFAULT_LABELS } from "../../scene/labels.ts";
import { type MetaRunOptions, runMeta } from "../../scene/meta_run.ts";
import { main } from "../../cli/main.ts";

const root = await Deno.makeTempDir({ prefix: "vlm3r-meta-bad-" });
const raw = join(root, "raw");
const N = 8;
for (let i = 0; i < N; i++) {
  await writeSynthScene(synthScene("bad", i, { frames: 6, width: 48, height: 36 }), raw, {
    workers: 1,
    video: "none",
  });
}
const s = (i: number) => `scene000${i}_00`;
const at = (i: number, ...p: string[]) => join(raw, s(i), ...p);
// 1: truncated PLY.
const ply = await Deno.readFile(at(1, `${s(1)}_vh_clean_2.ply`));
await Deno.writeFile(at(1, `${s(1)}_vh_clean_2.ply`), ply.subarray(0, ply.length - 200));
// 2: bad JSON.
await Deno.writeTextFile(at(2, `${s(2)}.aggregation.json`), '{"segGroups": [');
// 3: every pose lost (-inf), as ScanNet writes them.
for (let f = 0; f < 6; f++) {
  await Deno.writeTextFile(at(3, "frames", "pose", `${f}.txt`), "-inf -inf -inf -inf\n".repeat(4));
}
// 4: one NaN pose and one -inf pose: dropped and counted, the scene is fine.
await Deno.writeTextFile(
  at(4, "frames", "pose", "2.txt"),
  "nan 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n",
);
await Deno.writeTextFile(at(4, "frames", "pose", "3.txt"), "-inf -inf -inf -inf\n".repeat(4));
// 5: a mask of the wrong size.
await Deno.writeFile(at(5, "instance-filt", "0.png"), encodePng8(new Uint8Array(100), 10, 10));
// 6: no frames at all.
await Deno.remove(at(6, "frames"), { recursive: true });
// 7: a pose that is not a rigid transform (scaled), dropped.
await Deno.writeTextFile(at(7, "frames", "pose", "1.txt"), "2 0 0 0\n0 2 0 0\n0 0 2 0\n0 0 0 1\n");

function options(out: string, extra: Partial<MetaRunOptions> = {}): MetaRunOptions {
  return {
    dataset: "scannet",
    root: raw,
    out,
    split: "val",
    labels: DEFAULT_LABELS.scannet,
    frames: 32,
    seed: "0",
    workers: 1,
    format: "json",
    strict: false,
    ...extra,
  };
}

Deno.test("bad scenes are skipped with the file and the reason; the rest is written", async () => {
  const out = join(root, "out");
  const seen: string[] = [];
  const summary = await runMeta(
    options(out, { onFailure: (scene, msg) => seen.push(`${scene}: ${msg}`) }),
  );
  const why = Object.fromEntries(summary.failed.map((f) => [f.scene, f.message]));
  assertEquals(Object.keys(why).sort(), [s(1), s(2), s(3), s(5), s(6)]);
  assert(/scene0001_00_vh_clean_2\.ply: .*expected .*truncated/.test(why[s(1)]), why[s(1)]);
  assert(why[s(2)].includes("scene0002_00.aggregation.json: JSON: expected valid JSON"), why[s(2)]);
  assert(
    why[s(3)].includes(
      "frames/pose/0.txt: camera_to_world: expected at least one frame with a finite rigid pose, got none of 6 frames",
    ),
    why[s(3)],
  );
  assert(why[s(5)].includes("instance-filt/0.png: mask size: expected 48x36"), why[s(5)]);
  assert(why[s(5)].includes("got 10x10"), why[s(5)]);
  assert(
    why[s(6)].includes("frames: expected frames/pose/, pose/ or scene0006_00.sens, got none"),
    why[s(6)],
  );
  assertEquals(seen.length, 5);
  const reports = Object.fromEntries(summary.reports.map((r) => [r.scene, r]));
  assertEquals(reports[s(4)].invalidPoses, 2);
  assertEquals(reports[s(7)].invalidPoses, 1);
  assertEquals(reports[s(0)].invalidPoses, 0);
  // The good scenes are written; a failed scene leaves no frame folder behind.
  const written = JSON.parse(
    await Deno.readTextFile(join(out, "metadata", "val", "scannet_metadata_val.json")),
  );
  assertEquals(Object.keys(written), [s(0), s(4), s(7)]);
  const report = JSON.parse(
    await Deno.readTextFile(join(out, "metadata", "val", "scannet_meta_report_val.json")),
  );
  assertEquals(report.failed.length, 5);
  assertEquals(report.scenes.find((r: { scene: string }) => r.scene === s(4)).invalidPoses, 2);
  const frameDirs = [];
  for await (const e of Deno.readDir(join(out, "color", "val"))) frameDirs.push(e.name);
  assertEquals(frameDirs.sort(), [s(0), s(4), s(7)]);
});

Deno.test("--strict stops at the first failure and writes nothing", async () => {
  const out = join(root, "strict");
  const summary = await runMeta(options(out, { strict: true }));
  assert(summary.stoppedEarly);
  assertEquals(summary.failed.map((f) => f.scene), [s(1)]);
  assertEquals(summary.written, []);
  let exists = true;
  await Deno.stat(join(out, "metadata")).catch(() => (exists = false));
  assert(!exists, "no metadata written");
});

function io() {
  const o = { out: "", err: "" };
  return {
    o,
    io: {
      stdout: (t: string) => (o.out += t),
      stderr: (t: string) => (o.err += t),
      stderrIsTerminal: false,
    },
  };
}

Deno.test("cli: exit 1 with one line per skipped scene and a per-split summary", async () => {
  const { o, io: x } = io();
  const listFile = join(root, "scannetv2_val.txt");
  await Deno.writeTextFile(listFile, `${s(0)}\n${s(2)}\nscene0099_00\n`);
  const code = await main([
    "meta",
    "--dataset",
    "scannet",
    "--root",
    raw,
    "--out",
    join(root, "cli"),
    "--scenes",
    listFile,
    "--workers",
    "2",
  ], x);
  assertEquals(code, 1);
  // Failures are printed as they happen: with 2 workers, in either order.
  const lines = o.err.trim().split("\n").sort();
  assertEquals(lines.length, 2);
  assert(
    lines[0].startsWith(`skipped ${s(2)}: `) && lines[0].includes("aggregation.json"),
    lines[0],
  );
  assert(
    lines[1].startsWith("skipped scene0099_00: ") &&
      lines[1].includes("expected an existing scene folder"),
    lines[1],
  );
  assert(o.out.startsWith("scannet val: 3 scenes, 1 ok, 2 failed; 6 frames"), o.out);
  assert(o.out.includes("wrote "), o.out);
});

Deno.test("cli: usage errors exit 2 and name the valid values", async () => {
  const { o, io: x } = io();
  assertEquals(await main(["meta", "--dataset", "scanet", "--root", raw, "--out", root], x), 2);
  assert(o.err.includes("--dataset must be one of scannet, scannetpp, arkitscenes"), o.err);
  assertEquals(await main(["meta", "--dataset", "scannet", "--out", root], x), 2);
  assert(o.err.includes("--root is required"), o.err);
  assertEquals(
    await main(["meta", "--dataset", "scannet", "--root", raw, "--out", root, "--frames", "0"], x),
    2,
  );
  assertEquals(
    await main([
      "meta",
      "--dataset",
      "scannet",
      "--root",
      raw,
      "--out",
      root,
      "--strict",
      "--keep-going",
    ], x),
    2,
  );
  // A bad label map is bad data: exit 1, naming the file.
  const bad = join(root, "labels.json");
  await Deno.writeTextFile(bad, '{"map": {"chair": 3}}');
  assertEquals(
    await main(["meta", "--dataset", "scannet", "--root", raw, "--out", root, "--labels", bad], x),
    1,
  );
  assert(o.err.includes(`${bad}: map["chair"]: expected a category name, got 3`), o.err);
});

Deno.test("errors: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
