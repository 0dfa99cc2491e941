import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { pointObbDistance } from "../../geometry/box_distance.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { generateQuestions, selectTasks } from "../../qa/generate.ts";
import { loadMetadata, type SceneInput } from "../../qa/input.ts";
import { npRound } from "../../qa/rounding.ts";
import type { DistanceMode, QaRecord } from "../../qa/types.ts";
import { answerText } from "./builders.ts";
import { genDemo } from "../../cli/gen.ts";
import { synthMetadata } from "./synth_metadata.ts";

const FIXTURE = new URL("../fixtures/qa/vsibench_meta_info/", import.meta.url).pathname;

let synthCache: Promise<SceneInput[]> | undefined;
/** Two small synthetic scenes with metadata built from their ground truth (written once). */
function synthScenes(): Promise<SceneInput[]> {
  return synthCache ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "vlm3r-gen-test-" });
    const out: SceneInput[] = [];
    for (const i of [0, 1]) {
      const scene = synthScene("gen-properties", i, { frames: 32, width: 128, height: 96, fps: 2 });
      const report = await writeSynthScene(scene, dir, { workers: 1, video: "none" });
      out.push(await synthMetadata(report.dir));
    }
    await Deno.remove(dir, { recursive: true });
    return out;
  })();
}

async function run(
  scenes: SceneInput[],
  tasks: string[],
  distance: DistanceMode = "vsibench",
  workers = 1,
) {
  const caps: Record<string, number> = {};
  for (const t of selectTasks(tasks).tasks) caps[t.name] = 40;
  return (await generateQuestions(scenes, selectTasks(tasks).tasks, {
    seed: "properties",
    distance,
    caps,
    naOptions: false,
  }, { workers })).records;
}

/** Categories visible exactly once in a frame. */
function frameUnique(scene: SceneInput, frameIndex: number): Set<string> {
  const categoryOf = new Map<number, string>();
  for (const [c, boxes] of Object.entries(scene.meta.object_bboxes)) {
    for (const b of boxes) categoryOf.set(b.instance_id, c);
  }
  const seen = new Map<string, number>();
  for (const b of scene.frames!.frames[frameIndex].bboxes_2d) {
    const c = categoryOf.get(b.instance_id);
    if (c) seen.set(c, (seen.get(c) ?? 0) + 1);
  }
  return new Set([...seen].filter(([, n]) => n === 1).map(([c]) => c));
}

/** Checks every property a record set must have; returns how many records each check saw. */
function checkRecords(
  records: QaRecord[],
  scenes: SceneInput[],
  mode: DistanceMode,
): Map<string, number> {
  const seen = new Map<string, number>();
  const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
  const byName = new Map(scenes.map((s) => [s.meta.scene_name, s]));
  for (const r of records) {
    const scene = byName.get(r.scene_name)!;
    const single = (c: unknown) =>
      assertEquals(scene.meta.object_counts[c as string], 1, `${r.id}: ${c}`);
    if (r.mc_answer !== null) {
      // The option at mc_answer is the ground truth; options distinct, lettered in order.
      const opts = r.options as string[];
      opts.forEach((o, i) => assert(o.startsWith(`${"ABCDEF"[i]}. `), o));
      assertEquals(answerText(r), String(r.ground_truth), r.id);
      assertEquals(new Set(opts.map((o) => o.slice(3))).size, opts.length, r.id);
      count("mca");
    } else {
      assertEquals(r.options, null);
      assertEquals(typeof r.ground_truth, "number");
      assert((r.ground_truth as number) > 0);
    }
    switch (r.question_type) {
      case "object_size_estimation":
        single(r.category);
        break;
      case "object_counting":
        assert(scene.meta.object_counts[r.category as string] >= 2);
        assertEquals(r.ground_truth, scene.meta.object_counts[r.category as string]);
        break;
      case "object_abs_distance":
        single(r["category, first object"]), single(r["category, second object"]);
        count("unique");
        break;
      case "object_rel_distance":
      case "object_rel_distance_v2":
      case "object_rel_distance_v3":
        single(r.category);
        assert(!(r.options as string[]).some((o) => o.slice(3) === r.category));
        count("unique");
        break;
      case "object_rel_direction_hard":
      case "object_rel_direction_medium":
      case "object_rel_direction_easy":
        for (const role of ["positioning", "orienting", "querying"]) {
          single(r[`category, ${role} object`]);
        }
        count("unique");
        break;
    }
    // "frame k of N" names the frame whose id is recorded, and N is the sampled frame count.
    if (r.frame_indices) {
      const frames = scene.frames!.frames;
      const m = r.question.match(/frame (\d+) of (\d+)/)!;
      const k = Number(m[1]) - 1;
      assertEquals(Number(m[2]), frames.length);
      assertEquals(frames[k].frame_id, r.frame_indices[r.frame_indices.length - 1], r.question);
      const start = r.question.match(/frame (\d+) and frame/);
      if (start) assertEquals(frames[Number(start[1]) - 1].frame_id, r.frame_indices[0]);
      const pose = (i: number) => frames[i].camera_pose_camera_to_world;
      const centre = (i: number) =>
        [pose(i)[0][3], pose(i)[1][3], pose(i)[2][3]] as [number, number, number];
      const unique = frameUnique(scene, k);
      switch (r.question_type) {
        case "camera_displacement": {
          const i = Number(start![1]) - 1, a = centre(i), b = centre(k);
          const d = Math.sqrt((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2 + (b[2] - a[2]) ** 2);
          assertEquals(r.ground_truth, npRound(d, 1), r.question);
          count("recomputed");
          break;
        }
        case "camera_obj_abs_dist": {
          const name = r.question.match(/nearest point of the (.*) in frame/)![1];
          assert(unique.has(name), `${name} frame-unique`);
          const ids = new Set(frames[k].bboxes_2d.map((b) => b.instance_id));
          const box = scene.meta.object_bboxes[name].find((b) => ids.has(b.instance_id))!;
          const exact = pointObbDistance(centre(k), box);
          if (mode === "exact") assertEquals(r.ground_truth, npRound(exact, 1), r.question);
          // vsibench distances sit within a grid step of the exact one.
          else {assert(
              Math.abs((r.ground_truth as number) - exact) <= 0.05 + 0.05 * Math.sqrt(3),
              r.question,
            );}
          count("recomputed");
          break;
        }
        case "camera_obj_rel_dist_v1":
        case "camera_obj_rel_dist_v2":
        case "camera_obj_rel_dist_v3":
          for (const o of r.options as string[]) {
            assert(unique.has(o.slice(3)), `${o} frame-unique`);
          }
          count("unique");
          break;
        case "obj_obj_relative_pos_nf":
        case "obj_obj_relative_pos_lr":
        case "obj_obj_relative_pos_ud": {
          const [a, b] = [
            /is (.*?) (?:\[|to the)/,
            /(?:relative to|compared to) (?!the camera)(.*?)[,?]/,
          ]
            .map((re) => r.question.match(re)![1]);
          assert(unique.has(a) && unique.has(b) && a !== b, `${a} / ${b} frame-unique`);
          count("unique");
          break;
        }
      }
    }
  }
  // Letters: balanced per type (and option count) over the run.
  const letters = new Map<string, Map<string, number>>();
  for (const r of records) {
    if (!r.mc_answer) continue;
    const key = `${r.question_type}/${(r.options as string[]).length}`;
    const m = letters.get(key) ?? new Map(
      Array.from({ length: (r.options as string[]).length }, (_, i) => ["ABCDEF"[i], 0]),
    );
    m.set(r.mc_answer, m.get(r.mc_answer)! + 1);
    letters.set(key, m);
  }
  for (const [key, m] of letters) {
    const v = [...m.values()];
    assert(Math.max(...v) - Math.min(...v) <= 1, `${key}: ${v}`);
  }
  return seen;
}

Deno.test("VSI-Bench scenes: every property holds, in both distance modes", async () => {
  const { scenes } = await loadMetadata([FIXTURE]);
  assertEquals(scenes.length, 6);
  for (const mode of ["vsibench", "exact"] as const) {
    const records = await run(scenes, ["vsi"], mode);
    const seen = checkRecords(records, scenes, mode);
    assert(
      (seen.get("mca") ?? 0) > 100 && (seen.get("unique") ?? 0) > 100,
      JSON.stringify([...seen]),
    );
    const types = new Set(records.map((r) => r.question_type));
    assertEquals(types.size, 10, [...types].join()); // all VSI types except appearance order
  }
});

Deno.test("synthetic scenes: every property holds for every task", async () => {
  const scenes = await synthScenes();
  for (const mode of ["vsibench", "exact"] as const) {
    const records = await run(scenes, ["all"], mode);
    const seen = checkRecords(records, scenes, mode);
    assert((seen.get("recomputed") ?? 0) > 10, JSON.stringify([...seen]));
    const types = new Set(records.map((r) => r.question_type));
    for (
      const t of [
        "obj_appearance_order",
        "camera_displacement",
        "camera_obj_abs_dist",
        "camera_movement_direction",
        "obj_obj_relative_pos_lr",
      ]
    ) assert(types.has(t), `${t} in ${[...types]}`);
  }
});

Deno.test("same seed, same bytes: whatever the workers or the input order", async () => {
  const synth = await synthScenes();
  const fixture = (await loadMetadata([FIXTURE])).scenes;
  const scenes = [...fixture, ...synth];
  const one = JSON.stringify(await run(scenes, ["all"], "vsibench", 1));
  const two = JSON.stringify(await run(scenes, ["all"], "vsibench", 2));
  assertEquals(two, one);
  // Files given in another order are sorted back by dataset and scene.
  const files = [...Deno.readDirSync(FIXTURE)].map((e) => join(FIXTURE, e.name)).sort().reverse();
  const reordered = (await loadMetadata(files)).scenes;
  assertEquals(reordered.map((s) => s.meta.scene_name), fixture.map((s) => s.meta.scene_name));
  // A task's questions do not depend on which other tasks run.
  const alone = await run(fixture, ["object_rel_distance"]);
  const among = (await run(fixture, ["vsi"])).filter((r) =>
    r.question_type === "object_rel_distance"
  );
  assertEquals(JSON.stringify(alone), JSON.stringify(among));
  // Ids are unique and stable.
  const records = JSON.parse(one) as QaRecord[];
  assertEquals(new Set(records.map((r) => r.id)).size, records.length);
  // Another seed, other questions.
  const other = await generateQuestions(fixture, selectTasks(["vsi"]).tasks, {
    seed: "another",
    distance: "vsibench",
    caps: {},
    naOptions: false,
  });
  assert(JSON.stringify(other.records) !== JSON.stringify(await run(fixture, ["vsi"])));
});

Deno.test("demo step: metadata files written by meta's schema -> example questions per type", async () => {
  const scenes = await synthScenes();
  const dir = await Deno.makeTempDir();
  const scenesFile = Object.fromEntries(scenes.map((s) => [s.meta.scene_name, s.meta]));
  const framesFile = Object.fromEntries(scenes.map((s) => [s.meta.scene_name, s.frames]));
  await Deno.writeTextFile(join(dir, "scannet_metadata_synth.json"), JSON.stringify(scenesFile));
  await Deno.writeTextFile(
    join(dir, "scannet_frame_metadata_synth.json"),
    JSON.stringify(framesFile),
  );
  const out = join(dir, "questions.jsonl");
  const lines = await genDemo(dir, out, { examples: 1 });
  const written = (await Deno.readTextFile(out)).trimEnd().split("\n").map((l) =>
    JSON.parse(l) as QaRecord
  );
  assert(lines[0].startsWith(`${written.length} questions of `), lines[0]);
  for (const t of new Set(written.map((r) => r.question_type))) {
    assert(lines.some((l) => l.startsWith(`   ${t} (`)), `${t} listed`);
  }
  assert(lines.some((l) => l.includes("camera_movement_direction")), lines.join("\n"));
  // The same questions as a run on the in-memory metadata: the files carry everything.
  const direct = await generateQuestions(scenes, selectTasks(["all"]).tasks, {
    seed: "0",
    distance: "vsibench",
    caps: {},
    naOptions: false,
  });
  assertEquals(JSON.stringify(written), JSON.stringify(direct.records));
  await Deno.remove(dir, { recursive: true });
});
