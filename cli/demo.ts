/**
 * `vlm3r demo`: the main job on an embedded synthetic scene, each stage summarised: synth (one
 * scene), meta (its scene and frame metadata), gen (questions of every type, route planning
 * on the scan's mesh), route (its navmesh, route questions and a map), eval (an oracle and the
 * chance baselines scored on the questions, with reports), ask (a random tiny VLM-3R answers one
 * question about the scene's video on WebGPU, with the time of each stage).
 *
 * @module
 */

import { join } from "node:path";
import { answerKind, VSI_BENCH, VSTI_BENCH } from "../eval/benchmarks.ts";
import { evalDemo } from "./eval.ts";
import { genDemo } from "./gen.ts";
import { routeDemo } from "./route.ts";
import { createFramePool, synthScene, writeSynthScene } from "../scene/synth/mod.ts";
import { walkedPath } from "../scene/synth/walk.ts";
import { DEFAULT_LABELS } from "../scene/labels.ts";
import { runMeta } from "../scene/meta_run.ts";
import { metadataPaths } from "../scene/metadata.ts";
import type { Command, Context } from "./_command.ts";
import { acquireGpu, type Gpu } from "../kernels/device.ts";
import { writeTinyRelease } from "../model/weights/tiny.ts";
import { Vlm3r } from "../model/vlm3r.ts";

/** The `demo` command. */
export const demo: Command = {
  name: "demo",
  summary: "run the pipeline on a synthetic scene and print what it made",
  usage: "vlm3r demo [--out DIR] [--seed S] [--frames F] [--width W] [--height H]",
  examples: ["vlm3r demo --out demo-out"],
  options: {
    out: { type: "string", value: "DIR", description: "output folder", default: "demo-out" },
    // An L-shaped living room whose 30 s walk gives questions of every type.
    seed: { type: "string", value: "S", description: "seed of the scene", default: "2029" },
    frames: {
      type: "string",
      value: "F",
      description: "frames of the camera walk",
      default: "120",
    },
    fps: { type: "string", value: "R", description: "frame rate of the walk", default: "4" },
    width: { type: "string", value: "W", description: "frame width", default: "640" },
    height: { type: "string", value: "H", description: "frame height", default: "480" },
    "no-ask": { type: "boolean", description: "skip the last stage (VLM-3R on WebGPU)" },
  },
  run: runDemo,
};

async function runDemo(ctx: Context): Promise<number> {
  const out = ctx.string("out") ?? "demo-out";
  const seed = ctx.string("seed") ?? "2029";
  const frames = ctx.int("frames", 120, { min: 2, max: 100000 });
  const fps = ctx.int("fps", 4, { min: 1, max: 240 });
  const width = ctx.int("width", 640, { min: 16, max: 8192 });
  const height = ctx.int("height", 480, { min: 16, max: 8192 });
  await Deno.mkdir(out, { recursive: true });

  ctx.out(`1. synth: one procedural ScanNet-format scene (seed ${seed}, ${frames} frames)`);
  const t0 = performance.now();
  const scene = synthScene(seed, 0, { frames, fps, width, height });
  const bar = ctx.progress("synth", frames, "frames");
  const pool = createFramePool(navigator.hardwareConcurrency);
  let report;
  try {
    report = await writeSynthScene(scene, out, { pool, onProgress: (d) => bar.set(d) });
  } finally {
    bar.done();
    pool.close();
  }
  const secs = (performance.now() - t0) / 1000;
  const { room, objects, walk } = scene.layout;
  const xs = room.polygon.map((p) => p[0]), ys = room.polygon.map((p) => p[1]);
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.category, (counts.get(o.category) ?? 0) + 1);
  const path = walkedPath(walk, (frames - 1) / scene.fps);
  let walked = 0;
  for (let i = 1; i < path.length; i++) {
    walked += Math.hypot(path[i][0] - path[i - 1][0], path[i][1] - path[i - 1][1]);
  }
  ctx.out(
    `   ${scene.name}: ${room.kind}, ${room.shape === "L" ? "L-shaped" : "rectangular"} ` +
      `${(Math.max(...xs) - Math.min(...xs)).toFixed(2)} x ${
        (Math.max(...ys) - Math.min(...ys)).toFixed(2)
      } m, ` +
      `floor ${room.floorArea.toFixed(2)} m^2, walls ${room.height.toFixed(2)} m`,
  );
  ctx.out(
    `   ${objects.length} objects: ` +
      [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([c, n]) => (n > 1 ? `${n} ${c}` : c))
        .join(", "),
  );
  ctx.out(
    `   camera: ${frames} frames at ${scene.fps} fps along ${walked.toFixed(1)} m, ` +
      `${scene.intrinsics.width}x${scene.intrinsics.height}, fx ${scene.intrinsics.fx.toFixed(1)}`,
  );
  ctx.out(
    `   mesh: ${scene.mesh.positions.length / 3} vertices, ${
      scene.mesh.triangles.length / 3
    } triangles, ` +
      `${scene.mesh.segGroups.length} annotated instances`,
  );
  ctx.out(
    `   video: ${
      report.video === "none" ? "none (no encoder)" : `${scene.name}.mp4 (${report.video})`
    }`,
  );
  ctx.out(
    `   written to ${report.dir} in ${secs.toFixed(1)} s; ground truth: ${
      join(report.dir, "ground_truth.json")
    }`,
  );

  ctx.out(`2. meta: scene and frame metadata of the scan (ScanNet reader, default label map)`);
  const t1 = performance.now();
  const processed = join(out, "processed");
  const summary = await runMeta({
    dataset: "scannet",
    root: out,
    out: processed,
    split: "val",
    scenes: [scene.name],
    labels: DEFAULT_LABELS.scannet,
    frames: 32,
    seed,
    workers: 1,
    format: "json",
    strict: true,
  });
  if (summary.failed.length > 0) throw new Error(summary.failed[0].message);
  const paths = metadataPaths(processed, "scannet", "val");
  const meta = JSON.parse(await Deno.readTextFile(paths.scenes))[scene.name];
  const fmeta = JSON.parse(await Deno.readTextFile(paths.frames))[scene.name];
  const listed = Object.entries(meta.object_counts as Record<string, number>)
    .map(([c, n]) => (n > 1 ? `${n} ${c}` : c)).join(", ");
  const found = Object.values(meta.object_counts as Record<string, number>).reduce(
    (a, b) => a + b,
    0,
  );
  ctx.out(
    `   room ${meta.room_size.toFixed(2)} m^2 (true floor ${room.floorArea.toFixed(2)} m^2), ` +
      `centre (${meta.room_center.map((v: number) => v.toFixed(2)).join(", ")})`,
  );
  ctx.out(`   ${found} of ${objects.length} objects in the label map: ${listed}`);
  // How far the fitted boxes are from the generator's truth.
  let centre = 0, extent = 0;
  for (const o of objects) {
    const boxes = Object.values(meta.object_bboxes as Record<string, ObjectBoxJson[]>).flat();
    const b = boxes.find((x) => x.instance_id === o.instanceId);
    if (!b) continue;
    centre = Math.max(centre, Math.hypot(...b.centroid.map((v, k) => v - o.box.center[k])));
    const got = [...b.axesLengths].sort((x, y) => x - y),
      want = [...o.box.size].sort((x, y) => x - y);
    extent = Math.max(extent, ...got.map((v, k) => Math.abs(v - want[k])));
  }
  ctx.out(
    `   boxes vs ground truth: centres within ${(centre * 100).toFixed(2)} cm, ` +
      `extents within ${(extent * 100).toFixed(2)} cm`,
  );
  const nboxes = fmeta.frames.reduce(
    (s: number, f: { bboxes_2d: unknown[] }) => s + f.bboxes_2d.length,
    0,
  );
  ctx.out(
    `   ${fmeta.frames.length} of ${frames} frames sampled at ${fmeta.fps} fps, ` +
      `${(nboxes / fmeta.frames.length).toFixed(1)} visible instances per frame`,
  );
  ctx.out(
    `   written to ${paths.scenes} and ${paths.frames} in ${
      ((performance.now() - t1) / 1000).toFixed(1)
    } s`,
  );

  ctx.out("3. gen: questions of every VSI-Bench and VSTI-Bench type, route planning on the mesh");
  const t2 = performance.now();
  const questions = join(out, "questions.jsonl");
  const [genSummary, ...examples] = await genDemo([paths.scenes, paths.frames], questions, {
    seed,
    examples: 1,
    scenesRoot: out,
  });
  ctx.out(`   ${genSummary} in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
  for (const line of examples) ctx.out(line);

  ctx.out("4. route: the scan's navmesh, gen's route questions drawn on a map");
  const t3 = performance.now();
  // The metadata's boxes and gen's seed: the same questions as the route_planning ones above.
  const [routeSummary, firstRoute] = await routeDemo(report.dir, out, {
    seed,
    meta: paths.scenes,
  });
  ctx.out(
    `   ${routeSummary.replace(/^route: /, "")} in ${
      ((performance.now() - t3) / 1000).toFixed(1)
    } s`,
  );
  if (firstRoute) ctx.out(`   e.g.${firstRoute.slice(2)}`);

  ctx.out("5. eval: an oracle and the chance baselines scored on the questions");
  for (const bench of ["vsi", "vsti"] as const) {
    const { summary } = await evalDemo(questions, join(out, `eval-${bench}`), bench);
    for (const line of summary) ctx.out(`   ${line}`);
  }
  const records = (await Deno.readTextFile(questions)).trimEnd().split("\n")
    .map((l) => JSON.parse(l) as { question_type: string });
  const neither = records.filter((r) =>
    !answerKind(VSI_BENCH, r.question_type) && !answerKind(VSTI_BENCH, r.question_type)
  );
  if (neither.length > 0) {
    ctx.out(
      `   ${neither.length} questions of training-only types ` +
        `(${
          [...new Set(neither.map((r) => r.question_type))].join(", ")
        }) are in neither benchmark`,
    );
  }
  if (!ctx.flag("no-ask")) await askStage(ctx, out, seed, report.dir, questions);
  return 0;
}

/** Frames and answer tokens of the demo's question: enough to show every stage, quickly. */
const DEMO_FRAMES = 8, DEMO_TOKENS = 8;

/**
 * Stage 6: a random tiny VLM-3R (the release layout, as `vlm3r model tiny` writes it) answers
 * one generated question about the scene's video, with the time of each stage. Skipped, with
 * the reason, where WebGPU has no adapter fit for it.
 */
async function askStage(
  ctx: Context,
  out: string,
  seed: string,
  sceneDir: string,
  questionsPath: string,
): Promise<void> {
  ctx.out("6. ask: VLM-3R on WebGPU answers one question about the video");
  let gpu: Gpu;
  try {
    gpu = await acquireGpu();
  } catch (e) {
    ctx.out(`   skipped: ${(e as Error).message}`);
    return;
  }
  if (gpu.slowCompiles && !Deno.env.get("VLM3R_DEMO_GL")) {
    ctx.out(
      `   skipped: the only WebGPU adapter is Mesa's GL fallback (${gpu.adapter}), which takes ` +
        `minutes per shader; apt-get install mesa-vulkan-drivers for Vulkan lavapipe`,
    );
    gpu.destroy();
    return;
  }
  const t0 = performance.now();
  const modelDir = join(out, "tiny-model");
  await writeTinyRelease(modelDir, Number.parseInt(seed, 10) || 0);
  const records = (await Deno.readTextFile(questionsPath)).trimEnd().split("\n")
    .map((l) => JSON.parse(l) as DemoQuestion);
  const q = records.find((r) => Array.isArray(r.options) && r.options.length > 0) ?? records[0];
  const mp4 = join(sceneDir, `${sceneDir.split("/").pop()}.mp4`);
  const video = await Deno.stat(mp4).then(() => mp4, () => join(sceneDir, "frames", "color"));
  const vlm = await Vlm3r.open({
    base: join(modelDir, "base"),
    lora: join(modelDir, "lora"),
    cut3r: join(modelDir, "cut3r", "cut3r_tiny.pth"),
    siglip: join(modelDir, "siglip", "config.json"),
  }, { gpu });
  const loadSecs = (performance.now() - t0) / 1000;
  try {
    const a = await vlm.ask(video, { question: q.question, options: q.options }, {
      frames: DEMO_FRAMES,
      maxNewTokens: DEMO_TOKENS,
    });
    ctx.out(
      `   a tiny VLM-3R with RANDOM weights (vlm3r model tiny, in ${modelDir}): the answer is ` +
        `noise; the stages and their times are real`,
    );
    ctx.out(`   Q (${q.question_type}): ${q.question.replaceAll("\n", " ")}`);
    if (q.options?.length) ctx.out(`   options: ${q.options.join(" | ")}`);
    ctx.out(
      `   answer: ${JSON.stringify(a.text)} (ground truth: ${q.mc_answer ?? q.ground_truth})`,
    );
    const s = a.seconds, f = (x: number) => x.toFixed(2);
    ctx.out(
      `   ${a.frames.length} frames of ${video.endsWith(".mp4") ? "the MP4" : "the frames"}, ` +
        `${a.visualTokens} visual tokens, prompt ${a.promptLength} tokens; model loaded in ` +
        `${loadSecs.toFixed(1)} s on ${vlm.adapter} (${vlm.precision})`,
    );
    ctx.out(
      `   seconds: decode ${f(s.decode)}, preprocess ${f(s.preprocess)}, SigLIP ${f(s.siglip)}, ` +
        `CUT3R ${f(s.cut3r)}, fusion+projector ${f(s.fusion)}, prompt prefix ${f(s.prefix)}, ` +
        `prefill ${f(s.prefill)}, ${a.ids.length} answer tokens ${f(s.decodeTokens)}` +
        (a.decodeTokensPerSecond ? ` (${a.decodeTokensPerSecond.toFixed(1)} tokens/s)` : ""),
    );
    ctx.out(
      `   the real model: vlm3r convert (README, "Asking VLM-3R"), then vlm3r ask VIDEO "QUESTION"`,
    );
  } finally {
    vlm.destroy();
    gpu.destroy();
  }
}

interface DemoQuestion {
  question_type: string;
  question: string;
  options: string[] | null;
  ground_truth: unknown;
  mc_answer?: string | null;
}

interface ObjectBoxJson {
  instance_id: number;
  centroid: number[];
  axesLengths: number[];
}
