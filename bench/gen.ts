/**
 * Benchmark of `vlm3r gen`: questions per second
 *
 * - over the 288 VSI-Bench scenes (`vsibench_meta_info`, all VSI types), in both distance
 *   modes, with 1 and 2 worker threads, and as the whole command (read, generate, write);
 * - over 20 synthetic scenes (all types, route planning on their meshes), with metadata built
 *   from their ground truth (the scenes are rendered once, 120 frames at 160x120, and kept in
 *   `bench-out/gen-synth/`);
 * - route planning alone on 20 synthetic apartments and 20 single rooms (meshes only, kept in
 *   `bench-out/gen-apartment/` and `bench-out/gen-room/`): per scene the navmesh build and the
 *   whole task (build included), and questions per second. `--baseline DIR` runs the same
 *   measurement, on the same scenes in the same process, with the `qa/generate.ts` of another
 *   checkout (say a `git worktree` of main), for a before/after ratio.
 *
 * Prints a table (or, with `--json`, one JSON object). Wall times of this run; compare ratios,
 * not absolute numbers, across machines. Aims: the 288 scenes in under 10 s; route planning on
 * the same apartments within 1.5x of the baseline's time per scene.
 *
 *   deno task bench:gen [--meta DIR] [--synth N] [--apartments N] [--baseline DIR] [--rounds 3]
 *                       [--route-only] [--json]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { main } from "../cli/main.ts";
import { buildNavMesh } from "../geometry/navmesh/mod.ts";
import * as generate from "../qa/generate.ts";
import { loadMetadata, type SceneInput } from "../qa/input.ts";
import type { DistanceMode } from "../qa/types.ts";
import { readSceneMesh } from "../scene/mesh_source.ts";
import { type SynthKind, synthScene, writeSynthScene } from "../scene/synth/mod.ts";
import { synthMetadata } from "../tests/qa/synth_metadata.ts";

const { generateQuestions, selectTasks } = generate;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    meta: { type: "string", default: "/work/shared/realdata/vsibench_meta_info" },
    synth: { type: "string", default: "20" },
    apartments: { type: "string", default: "20" },
    baseline: { type: "string" },
    rounds: { type: "string", default: "3" },
    "route-only": { type: "boolean", default: false },
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

/** Scenes of one layout for route planning: the mesh and ground truth only (1 tiny frame). */
async function routeInputs(n: number, layout: SynthKind): Promise<SceneInput[]> {
  const dir = join("bench-out", `gen-${layout}`);
  await Deno.mkdir(dir, { recursive: true });
  const out: SceneInput[] = [];
  for (let i = 0; i < n; i++) {
    const scene = synthScene("bench-route", i, { frames: 1, width: 16, height: 16, layout });
    const path = join(dir, scene.name);
    try {
      await Deno.stat(join(path, "ground_truth.json"));
    } catch {
      await writeSynthScene(scene, dir, { workers: 1, video: "none" });
    }
    out.push(await synthMetadata(path, 1));
  }
  return out;
}

interface RouteRow {
  code: string;
  layout: SynthKind;
  scenes: number;
  questions: number;
  /** Mean navmesh build per scene (ms), timed apart. */
  navmesh_ms: number;
  /** Mean navigable area per scene (m^2): the build's work grows with it. */
  navigable_m2: number;
  /** Mean route-planning task per scene (ms), its own navmesh build included. */
  scene_ms: number;
  questions_per_second: number;
}
const routeRows: RouteRow[] = [];

/**
 * Route planning scene by scene with each code's generator (`generate.ts` modules): for each
 * scene index, each layout's scene with each code in turn, every scene measured `rounds`
 * times; the median per scene keeps the changing load of a shared machine from favouring one
 * code or one layout.
 */
async function measureRoutes(
  codes: [string, typeof generate][],
  sets: { layout: SynthKind; scenes: SceneInput[] }[],
  rounds: number,
) {
  const options = { seed: "bench", distance: "exact" as const, caps: {}, naOptions: false };
  const meshes = await Promise.all(
    sets.map((set) =>
      Promise.all(
        set.scenes.map((s) => readSceneMesh(join("bench-out", `gen-${set.layout}`), s.meta)),
      )
    ),
  );
  const run = (gen: typeof generate, k: number, i: number) =>
    gen.generateSceneDrafts(sets[k].scenes[i], gen.selectTasks(["route_planning"]).tasks, options, {
      mesh: () => Promise.resolve(meshes[k][i]),
    });
  // Warm up (wasm compilation, JIT).
  for (const [, gen] of codes) for (let k = 0; k < sets.length; k++) await run(gen, k, 0);
  type Times = { nav: number[]; task: number[]; questions: number; area: number };
  const times: Times[][][] = codes.map(() =>
    sets.map((set) => set.scenes.map(() => ({ nav: [], task: [], questions: 0, area: 0 })))
  );
  const n = Math.min(...sets.map((set) => set.scenes.length));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < sets.length; k++) {
        for (const [c, [, gen]] of codes.entries()) {
          const t = times[c][k][i];
          const t0 = performance.now();
          t.area = buildNavMesh(meshes[k][i]).area();
          t.nav.push(performance.now() - t0);
          const t1 = performance.now();
          t.questions = (await run(gen, k, i)).drafts.length;
          t.task.push(performance.now() - t1);
        }
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  codes.forEach(([code], c) => {
    sets.forEach(({ layout }, k) => {
      const per = times[c][k].slice(0, n);
      const task = mean(per.map((t) => median(t.task)));
      const questions = per.reduce((a, t) => a + t.questions, 0);
      routeRows.push({
        code,
        layout,
        scenes: n,
        questions,
        navmesh_ms: mean(per.map((t) => median(t.nav))),
        navigable_m2: mean(per.map((t) => t.area)),
        scene_ms: task,
        questions_per_second: questions / (task * n / 1000),
      });
    });
  });
}

let loadSeconds = 0, commandSeconds = 0, commandQuestions = 0, vsiScenes = 0;
if (!values["route-only"]) {
  const t0 = performance.now();
  const vsi = (await loadMetadata([values.meta!])).scenes;
  vsiScenes = vsi.length;
  loadSeconds = (performance.now() - t0) / 1000;
  for (const distance of ["vsibench", "exact"] as const) {
    for (const workers of [1, 2]) {
      await measure("VSI-Bench meta info", vsi, "vsi", distance, workers);
    }
  }
  // The whole command as users run it, output written and read back.
  const outDir = await Deno.makeTempDir({ prefix: "vlm3r-bench-gen-" });
  const silent = { stdout: () => {}, stderr: () => {}, stderrIsTerminal: false };
  const tCmd = performance.now();
  await main(
    ["gen", "--tasks", "vsi", "--meta", values.meta!, "--out", join(outDir, "q.jsonl")],
    silent,
  );
  commandSeconds = (performance.now() - tCmd) / 1000;
  commandQuestions =
    (await Deno.readTextFile(join(outDir, "q.jsonl"))).trimEnd().split("\n").length;
  await Deno.remove(outDir, { recursive: true });

  const synth = await synthInputs(Number(values.synth));
  for (const distance of ["vsibench", "exact"] as const) {
    // Their scans are on disk: route planning reads the meshes, as `gen --scenes-root` does.
    await measure("synthetic", synth, "all", distance, 1, join("bench-out", "gen-synth"));
  }
}

const baseline: typeof generate | undefined = values.baseline
  ? await import(`file://${resolve(values.baseline, "qa", "generate.ts")}`)
  : undefined;
const codes: [string, typeof generate][] = [["this checkout", generate]];
if (baseline) codes.push([`baseline ${values.baseline}`, baseline]);
const sets = [];
for (const layout of ["apartment", "room"] as const) {
  sets.push({ layout, scenes: await routeInputs(Number(values.apartments), layout) });
}
await measureRoutes(codes, sets, Number(values.rounds));

const result = {
  machine: `${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs`,
  load_seconds: loadSeconds,
  command: { scenes: vsiScenes, questions: commandQuestions, seconds: commandSeconds },
  rows: rows.map((r) => ({ ...r, questions_per_second: r.questions / r.seconds })),
  route: routeRows,
};
if (values.json) console.log(JSON.stringify(result));
else if (values["route-only"]) printRoutes();
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
    `\nwhole command (vlm3r gen --tasks vsi, ${vsiScenes} scenes, read + generate + write): ` +
      `${commandSeconds.toFixed(2)} s for ${commandQuestions} questions (aim: under 10 s)`,
  );
  const [v1, e1] = [rows[0], rows[2]];
  console.log(
    `exact distances vs vsibench, 1 worker: ${(v1.seconds / e1.seconds).toFixed(1)}x faster`,
  );
  console.log(`2 workers vs 1 (vsibench): ${(rows[0].seconds / rows[1].seconds).toFixed(2)}x`);
  printRoutes();
}

function printRoutes() {
  console.log(
    "\nroute planning alone, per synthetic scene (navmesh build timed apart, and the whole " +
      `task with its own build; median of ${values.rounds} rounds per scene, codes alternating):\n`,
  );
  console.log(
    "| code | layout | scenes | navigable m^2/scene | questions | navmesh build ms/scene " +
      "| build ms per m^2 | task ms/scene | questions/s |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of routeRows) {
    console.log(
      `| ${r.code} | ${r.layout} | ${r.scenes} | ${r.navigable_m2.toFixed(1)} | ${r.questions} | ` +
        `${r.navmesh_ms.toFixed(0)} | ${(r.navmesh_ms / r.navigable_m2).toFixed(2)} | ` +
        `${r.scene_ms.toFixed(0)} | ${r.questions_per_second.toFixed(1)} |`,
    );
  }
  const find = (code: string, layout: string) =>
    routeRows.find((r) => r.code.startsWith(code) && r.layout === layout);
  const apt = find("this", "apartment"), baseRoom = find("baseline", "room");
  const baseApt = find("baseline", "apartment");
  if (apt && baseApt) {
    console.log(
      `\nsame apartments, this checkout vs the baseline: ${
        (apt.scene_ms / baseApt.scene_ms)
          .toFixed(2)
      }x per scene (aim: at most 1.5x)`,
    );
  }
  if (apt && baseRoom) {
    console.log(
      `per apartment vs the baseline per single room: ${
        (apt.scene_ms / baseRoom.scene_ms)
          .toFixed(2)
      }x per scene, for ${(apt.navigable_m2 / baseRoom.navigable_m2).toFixed(2)}x ` +
        `the navigable floor`,
    );
  }
}
