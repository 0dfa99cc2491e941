/**
 * Benchmark of `vlm3r gen`: questions per second
 *
 * - over the 288 VSI-Bench scenes (`vsibench_meta_info`, all VSI types), in both distance
 *   modes, with 1 and 2 worker threads, and as the whole command (read, generate, write);
 * - over 20 synthetic scenes (all types, route planning on their meshes), with metadata built
 *   from their ground truth (the scenes are rendered once, 120 frames at 160x120, and kept in
 *   `bench-out/gen-synth/`).
 *
 * Prints a table (or, with `--json`, one JSON object). Wall times of this run; compare ratios,
 * not absolute numbers, across machines. Aim: the 288 scenes in under 10 s.
 *
 *   deno task bench:gen [--meta DIR] [--synth N] [--json]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { main } from "../cli/main.ts";
import { generateQuestions, selectTasks } from "../qa/generate.ts";
import { loadMetadata, type SceneInput } from "../qa/input.ts";
import type { DistanceMode } from "../qa/types.ts";
import { synthScene, writeSynthScene } from "../scene/synth/mod.ts";
import { synthMetadata } from "../tests/qa/synth_metadata.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    meta: { type: "string", default: "/work/shared/realdata/vsibench_meta_info" },
    synth: { type: "string", default: "20" },
    json: { type: "boolean", default: false },
  },
});

interface Row {
  input: string;
  tasks: string;
  distance: DistanceMode;
  workers: number;
  scenes: number;
  questions: number;
  seconds: number;
}
const rows: Row[] = [];

async function measure(
  input: string,
  scenes: SceneInput[],
  tasks: string,
  distance: DistanceMode,
  workers: number,
  scenesRoot?: string,
) {
  const t0 = performance.now();
  const { records } = await generateQuestions(scenes, selectTasks([tasks]).tasks, {
    seed: "bench",
    distance,
    caps: {},
    naOptions: false,
  }, { workers, scenesRoot });
  const seconds = (performance.now() - t0) / 1000;
  rows.push({
    input,
    tasks,
    distance,
    workers,
    scenes: scenes.length,
    questions: records.length,
    seconds,
  });
}

/** Synthetic scenes with their metadata, rendered on first use and cached. */
async function synthInputs(n: number): Promise<SceneInput[]> {
  const dir = join("bench-out", "gen-synth");
  await Deno.mkdir(dir, { recursive: true });
  const out: SceneInput[] = [];
  for (let i = 0; i < n; i++) {
    const scene = synthScene("bench-gen", i, { frames: 120, width: 160, height: 120, fps: 8 });
    const path = join(dir, scene.name);
    try {
      await Deno.stat(join(path, "ground_truth.json"));
    } catch {
      await writeSynthScene(scene, dir, { video: "none" });
    }
    out.push(await synthMetadata(path));
  }
  return out;
}

const t0 = performance.now();
const vsi = (await loadMetadata([values.meta!])).scenes;
const loadSeconds = (performance.now() - t0) / 1000;
for (const distance of ["vsibench", "exact"] as const) {
  for (const workers of [1, 2]) await measure("VSI-Bench meta info", vsi, "vsi", distance, workers);
}
// The whole command as users run it, output written and read back.
const outDir = await Deno.makeTempDir({ prefix: "vlm3r-bench-gen-" });
const silent = { stdout: () => {}, stderr: () => {}, stderrIsTerminal: false };
const tCmd = performance.now();
await main(
  ["gen", "--tasks", "vsi", "--meta", values.meta!, "--out", join(outDir, "q.jsonl")],
  silent,
);
const commandSeconds = (performance.now() - tCmd) / 1000;
const commandQuestions =
  (await Deno.readTextFile(join(outDir, "q.jsonl"))).trimEnd().split("\n").length;
await Deno.remove(outDir, { recursive: true });

const synth = await synthInputs(Number(values.synth));
for (const distance of ["vsibench", "exact"] as const) {
  // Their scans are on disk: route planning reads the meshes, as `gen --scenes-root` does.
  await measure("synthetic", synth, "all", distance, 1, join("bench-out", "gen-synth"));
}

const result = {
  machine: `${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs`,
  load_seconds: loadSeconds,
  command: { scenes: vsi.length, questions: commandQuestions, seconds: commandSeconds },
  rows: rows.map((r) => ({ ...r, questions_per_second: r.questions / r.seconds })),
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(
    `vlm3r gen benchmark (${result.machine}); metadata read in ${loadSeconds.toFixed(2)} s\n`,
  );
  console.log(
    "| input | tasks | distance | workers | scenes | questions | seconds | questions/s |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of result.rows) {
    console.log(
      `| ${r.input} | ${r.tasks} | ${r.distance} | ${r.workers} | ${r.scenes} | ${r.questions} | ` +
        `${r.seconds.toFixed(2)} | ${r.questions_per_second.toFixed(0)} |`,
    );
  }
  console.log(
    `\nwhole command (vlm3r gen --tasks vsi, ${vsi.length} scenes, read + generate + write): ` +
      `${commandSeconds.toFixed(2)} s for ${commandQuestions} questions (aim: under 10 s)`,
  );
  const [v1, e1] = [rows[0], rows[2]];
  console.log(
    `exact distances vs vsibench, 1 worker: ${(v1.seconds / e1.seconds).toFixed(1)}x faster`,
  );
  console.log(`2 workers vs 1 (vsibench): ${(rows[0].seconds / rows[1].seconds).toFixed(2)}x`);
}
