import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { main } from "../../cli/main.ts";
import type { QaRecord } from "../../qa/types.ts";
import { capture } from "../_support.ts";
import { renamed, synthInput, writeMetadataFiles } from "../qa/synth_metadata.ts";

const FIXTURE = new URL("../fixtures/qa/vsibench_meta_info/", import.meta.url).pathname;

Deno.test("vlm3r gen: JSON lines from VSI-Bench meta info, stats, frame tasks skipped", async () => {
  const dir = await Deno.makeTempDir();
  const out = join(dir, "q.jsonl");
  const io = capture();
  assertEquals(
    await main(["gen", "--meta", FIXTURE, "--out", out, "--stats", "--seed", "3"], io),
    0,
  );
  const lines = (await Deno.readTextFile(out)).trimEnd().split("\n");
  const records = lines.map((l) => JSON.parse(l) as QaRecord);
  assert(records.length > 100);
  assertEquals(Object.keys(records[0]).slice(0, 9), [
    "id",
    "dataset",
    "scene_name",
    "video_path",
    "question_type",
    "question",
    "options",
    "ground_truth",
    "mc_answer",
  ]);
  assert(io.out.startsWith(`${records.length} questions of 10 types from 6 scenes`), io.out);
  assert(io.out.includes("object_rel_direction_hard") && io.out.includes("total"), io.out);
  assert(
    io.err.includes("without frame metadata: obj_appearance_order, camera_displacement"),
    io.err,
  );
  // --format json: the same records as one list; --workers 2: the same bytes.
  const json = join(dir, "q.json");
  assertEquals(
    await main(
      ["gen", "--meta", FIXTURE, "--out", json, "--format", "json", "--seed", "3", "-q"],
      capture(),
    ),
    0,
  );
  assertEquals(JSON.parse(await Deno.readTextFile(json)), records);
  const two = join(dir, "q2.jsonl");
  assertEquals(
    await main(
      ["gen", "--meta", FIXTURE, "--out", two, "--seed", "3", "--workers", "2"],
      capture(),
    ),
    0,
  );
  assertEquals(await Deno.readTextFile(two), lines.join("\n") + "\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vlm3r gen: caps, task selection and numerical options", async () => {
  const dir = await Deno.makeTempDir();
  const out = join(dir, "q.jsonl");
  const args = ["gen", "--meta", join(FIXTURE, "scannet_meta_info_val.json"), "--out", out];
  assertEquals(
    await main([
      ...args,
      "--tasks",
      "object_abs_distance,object_rel_direction_easy",
      "--per-scene",
      "2",
      "--cap",
      "object_abs_distance=1",
      "--na-options",
    ], capture()),
    0,
  );
  const rs = (await Deno.readTextFile(out)).trimEnd().split("\n").map((l) =>
    JSON.parse(l) as QaRecord
  );
  const per = (t: string) => rs.filter((r) => r.question_type === t).length;
  assertEquals(per("object_abs_distance"), 2); // one per scene, two scenes
  // --per-scene 2: at most two per scene (triples are subsampled first, then some rejected).
  for (const scene of new Set(rs.map((r) => r.scene_name))) {
    const n = rs.filter((r) =>
      r.scene_name === scene && r.question_type === "object_rel_direction_easy"
    );
    assert(n.length >= 1 && n.length <= 2, `${scene}: ${n.length}`);
  }
  for (const r of rs.filter((r) => r.question_type === "object_abs_distance")) {
    assertEquals((r.options as string[]).length, 4);
    assertEquals(
      Number((r.options as string[])["ABCD".indexOf(r.mc_answer!)].slice(3)),
      r.ground_truth,
    );
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vlm3r gen: usage errors exit 2, bad input exits 1", async () => {
  let io = capture();
  assertEquals(
    await main(["gen", "--meta", FIXTURE, "--out", "x.jsonl", "--tasks", "object_countin"], io),
    2,
  );
  assert(io.err.includes("unknown 'object_countin' (did you mean object_counting?)"), io.err);
  io = capture();
  assertEquals(
    await main(["gen", "--meta", FIXTURE, "--out", "x.jsonl", "--cap", "room_size"], io),
    2,
  );
  assert(io.err.includes("--cap expects TYPE=N items, got 'room_size'"), io.err);
  io = capture();
  assertEquals(await main(["gen", "--out", "x.jsonl"], io), 2);
  assert(io.err.includes("--meta is required"), io.err);
  io = capture();
  assertEquals(
    await main(["gen", "--meta", FIXTURE, "--out", "x.jsonl", "--distance", "far"], io),
    2,
  );
  assert(io.err.includes("--distance must be one of vsibench, exact"), io.err);
  io = capture();
  assertEquals(await main(["gen", "--meta", "/nonexistent/meta", "--out", "x.jsonl"], io), 1);
  assertEquals(io.err, "vlm3r gen: /nonexistent/meta: no such file or directory\n");
});

Deno.test("vlm3r gen: a skipped scene or unusable frames exit 1 after the rest is written", async () => {
  const dir = await Deno.makeTempDir();
  const base = await synthInput();
  const bad = renamed(base, "scene0001_00");
  bad.meta.room_size = 1111.25;
  const empty = renamed(base, "scene0002_00");
  empty.frames!.frames = [];
  const files = await writeMetadataFiles(dir, [base, bad, empty], {
    scenes: (t) => t.replace("1111.25", "NaN"),
  });
  const out = join(dir, "q.jsonl");
  const io = capture();
  const code = await main(
    ["gen", "--meta", dir, "--out", out, "--tasks", "room_size_estimation,camera_displacement"],
    io,
  );
  assertEquals(code, 1, io.err);
  assertEquals(io.err.trimEnd().split("\n"), [
    `${files.scenes}: scene0001_00.room_size: expected a number >= 0, got NaN; scene skipped`,
    `skipped camera_displacement on scannet/scene0002_00: ${files.frames}: scene0002_00.frames: ` +
    "expected at least one frame, got []",
    `vlm3r gen: 2 input problems (listed above) cost questions; the others are in ${out}`,
  ]);
  assert(io.out.includes("(1 bad scene skipped) (1 scene with unusable frames)"), io.out);
  const rs = (await Deno.readTextFile(out)).trimEnd().split("\n").map((l) =>
    JSON.parse(l) as QaRecord
  );
  assertEquals(
    new Set(rs.map((r) => `${r.scene_name} ${r.question_type}`)),
    new Set([
      "scene0000_00 room_size_estimation",
      "scene0000_00 camera_displacement",
      "scene0002_00 room_size_estimation",
    ]),
  );
  // Without the bad scenes: exit 0.
  await writeMetadataFiles(dir, [base]);
  assertEquals(await main(["gen", "--meta", dir, "--out", out, "-q"], capture()), 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vlm3r gen: --out in a missing folder or naming a folder fails at once, naming it", async () => {
  const dir = await Deno.makeTempDir();
  let io = capture();
  assertEquals(
    await main(["gen", "--meta", FIXTURE, "--out", "no/such/dir/q.jsonl"], io),
    1,
  );
  assertEquals(
    io.err,
    "vlm3r gen: --out no/such/dir/q.jsonl: the folder no/such/dir does not exist\n",
  );
  io = capture();
  assertEquals(await main(["gen", "--meta", FIXTURE, "--out", dir], io), 1);
  assertEquals(io.err, `vlm3r gen: --out ${dir}: is a folder; expected a file name\n`);
  assertEquals([...Deno.readDirSync(dir)], []);
  await Deno.remove(dir, { recursive: true });
});
