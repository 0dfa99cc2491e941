/**
 * Benchmark of `vlm3r ask` end to end: the time of each stage of a first question on a video
 * (decode, preprocess, SigLIP, CUT3R, fusion + projector, the prompt prefix, the question's
 * prefill, the answer tokens) and of a follow-up question on the same video (served by the
 * per-video cache), with the peak GPU memory (bytes of live buffers).
 *
 * Models:
 * - `tiny`: vlm3r-tiny's release from ../shared/fixtures (else `vlm3r model tiny`'s), 32 frames;
 * - `real-width`: random weights of VLM-3R's real widths (SigLIP 1152, CUT3R 1024/768, Qwen2
 *   3584 with the 151,647-row vocabulary) with `--layers N` layers per stack (default 1 on a CPU
 *   adapter), on `--frames` frames (default 2 on a CPU adapter, 32 on a GPU);
 * - with `--full`: the real depths too (SigLIP 26, CUT3R 24 + 12, Qwen2 28 layers), 32 frames,
 *   in f16 and with the int4 language model: for a machine with a real GPU.
 *
 * Then, with the vlm3r-tiny fixture, its golden question asked of the release converted to f32,
 * f16, int8 and int4 (`vlm3r convert`): how many of the reference's 16 greedy tokens each
 * reproduces, and the overlap of the last prompt position's top 5 with the reference's
 * (`--no-precision` skips it).
 *
 *   deno task bench:ask [-- --json] [--layers N] [--frames F] [--full] [--no-tiny] [--no-precision]
 *
 * The video is a synthetic scene rendered once into bench-out/ask-video/. Compare ratios within
 * one run (first question vs follow-up), not absolute figures across machines.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { acquireGpu } from "../kernels/device.ts";
import { synthScene, writeSynthScene } from "../scene/synth/mod.ts";
import { VideoCache } from "../model/cache.ts";
import { type Answer, Vlm3r } from "../model/vlm3r.ts";
import { randomSource, realWidthConfig } from "../model/weights/random.ts";
import { writeTinyRelease } from "../model/weights/tiny.ts";
import { convertRelease } from "../model/weights/convert.ts";
import { openRelease } from "../model/weights/release.ts";
import { readSafetensors } from "../model/weights/safetensors.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "boolean", default: false },
    layers: { type: "string" },
    frames: { type: "string" },
    full: { type: "boolean", default: false },
    "no-tiny": { type: "boolean", default: false },
    "no-precision": { type: "boolean", default: false },
  },
});

const gpu = await acquireGpu();
const cpu = gpu.cpu;
const out = new URL("../bench-out/ask-video/", import.meta.url).pathname;
const scene = join(out, "scene0000_00");
const video = join(scene, "scene0000_00.mp4");
if (!(await Deno.stat(video).catch(() => undefined))) {
  console.error("rendering the benchmark video (once) into bench-out/ask-video/ ...");
  await writeSynthScene(
    synthScene("2029", 0, { frames: 96, fps: 8, width: 640, height: 480 }),
    out,
  );
}
const tmp = await Deno.makeTempDir({ prefix: "vlm3r-bench-ask-" });
await writeTinyRelease(join(tmp, "tiny"), 0); // its tokenizer serves the random models too

interface Row {
  model: string;
  precision: string;
  frames: number;
  question: "first" | "follow-up";
  seconds: Answer["seconds"] & { total: number };
  decodeTokensPerSecond: number | null;
  promptTokens: number;
  peakGpuMb: number;
}
const rows: Row[] = [];
const question = {
  question: "Which of these objects (sofa, chair, table, lamp) is the closest to the door?",
  options: ["A. sofa", "B. chair", "C. table", "D. lamp"],
};
const followUp = { question: "How many chairs are in this room?" };

async function run(label: string, vlm: Vlm3r, frames: number) {
  for (const [kind, q] of [["first", question], ["follow-up", followUp]] as const) {
    const t0 = performance.now();
    const a = await vlm.ask(video, q, { frames, maxNewTokens: 16 });
    const total = (performance.now() - t0) / 1000;
    rows.push({
      model: label,
      precision: vlm.precision,
      frames: a.frames.length,
      question: kind,
      seconds: { ...a.seconds, total },
      decodeTokensPerSecond: a.decodeTokensPerSecond,
      promptTokens: a.promptLength,
      peakGpuMb: Math.round(gpu.memory.peak / 2 ** 20),
    });
  }
}

const fixture = new URL("../../shared/fixtures/vlm3r-tiny/", import.meta.url).pathname;
if (!values["no-tiny"]) {
  const have = await Deno.stat(fixture).then(() => true, () => false);
  const dir = have ? fixture : join(tmp, "tiny");
  gpu.resetPeak();
  const vlm = await Vlm3r.open({
    base: join(dir, "base"),
    lora: join(dir, "lora"),
    cut3r: join(dir, "cut3r", "cut3r_tiny.pth"),
    siglip: join(dir, "siglip", "config.json"),
  }, { gpu, precision: "f32", cache: new VideoCache({ dir: null }) });
  await run(have ? "vlm3r-tiny" : "tiny (random)", vlm, 32);
  vlm.destroy();
}

const tokenizerDir = join(tmp, "tiny", "base");
const variants: { layers: number | "full"; precision: "f32" | "f16"; quantize: "none" | "int4" }[] =
  values.full
    ? [
      { layers: "full", precision: "f16", quantize: "none" },
      { layers: "full", precision: "f16", quantize: "int4" },
    ]
    : [{
      layers: Number(values.layers ?? (cpu ? 1 : 4)),
      precision: gpu.f16 && !cpu ? "f16" : "f32",
      quantize: "none",
    }];
const frames = Number(values.frames ?? (cpu && !values.full ? 2 : 32));
for (const v of variants) {
  const config = realWidthConfig(v.layers);
  gpu.resetPeak();
  const vlm = await Vlm3r.fromWeights({
    source: randomSource(config, { seed: 1, quantize: v.quantize }),
    config,
    tokenizerDir,
    modelId: `random-${v.layers}-${v.quantize}`,
  }, { gpu, precision: v.precision, cache: new VideoCache({ dir: null }) });
  const layers = v.layers === "full" ? "full depth" : `${v.layers} layer(s) per stack`;
  await run(`real width, ${layers}${v.quantize === "int4" ? ", int4 LLM" : ""}`, vlm, frames);
  vlm.destroy();
}

// Precision variants of vlm3r-tiny against the reference's golden question.
interface PrecisionRow {
  variant: string;
  tokensMatched: number;
  firstMismatch: number | null;
  top5Overlap: number;
}
const precision: PrecisionRow[] = [];
if (!values["no-precision"] && await Deno.stat(fixture).then(() => true, () => false)) {
  const meta = JSON.parse(await Deno.readTextFile(join(fixture, "golden", "meta.json")));
  const golden = await readSafetensors(join(fixture, "golden", "outputs.safetensors"));
  const want = golden.get("prefill_logits")!.data.subarray(0, 151647);
  const top5 = (x: ArrayLike<number>) =>
    [...Array(x.length).keys()].sort((a, b) => x[b] - x[a] || a - b).slice(0, 5);
  const wantTop = new Set(top5(want));
  const release = await openRelease({
    base: join(fixture, "base"),
    lora: join(fixture, "lora"),
    cut3r: join(fixture, "cut3r", "cut3r_tiny.pth"),
    siglip: join(fixture, "siglip", "config.json"),
  });
  const variants: [string, "f32" | "f16", "none" | "int8" | "int4"][] = [
    ["f32", "f32", "none"],
    ["f16", "f16", "none"],
    ["int8 LLM (f16)", "f16", "int8"],
    ["int4 LLM (f16)", "f16", "int4"],
  ];
  for (const [variant, dtype, quantize] of variants) {
    if (dtype === "f16" && !gpu.f16) continue;
    const dir = join(tmp, `tiny-${dtype}-${quantize}`);
    await convertRelease(release, dir, { dtype, quantize });
    const vlm = await Vlm3r.open({ model: dir }, { gpu, precision: dtype });
    const a = await vlm.ask(join(fixture, "frames"), {
      question: meta.question,
      options: meta.options,
    }, { logits: true });
    vlm.destroy();
    const ids: number[] = meta.generated_ids;
    const miss = ids.findIndex((id, k) => a.ids[k] !== id);
    precision.push({
      variant,
      tokensMatched: ids.filter((id, k) => a.ids[k] === id).length,
      firstMismatch: miss < 0 ? null : miss,
      top5Overlap: top5(a.logits!).filter((i) => wantTop.has(i)).length,
    });
  }
}
await Deno.remove(tmp, { recursive: true });

if (values.json) {
  console.log(JSON.stringify({ adapter: gpu.adapter, rows, precision }, null, 1));
} else {
  console.log(`vlm3r ask, stage by stage (s), on ${gpu.adapter}; peak GPU memory of live buffers`);
  const head = [
    "model",
    "dtype",
    "frames",
    "question",
    "decode",
    "prep",
    "siglip",
    "cut3r",
    "fusion",
    "prefix",
    "prefill",
    "answer",
    "total",
    "tok/s",
    "prompt",
    "GPU MB",
  ];
  const f = (x: number) => x.toFixed(2);
  const table = rows.map((r) => [
    r.model,
    r.precision,
    String(r.frames),
    r.question,
    f(r.seconds.decode),
    f(r.seconds.preprocess),
    f(r.seconds.siglip),
    f(r.seconds.cut3r),
    f(r.seconds.fusion),
    f(r.seconds.prefix),
    f(r.seconds.prefill),
    f(r.seconds.decodeTokens),
    f(r.seconds.total),
    r.decodeTokensPerSecond === null ? "-" : r.decodeTokensPerSecond.toFixed(1),
    String(r.promptTokens),
    String(r.peakGpuMb),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i < 4 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  console.log(line(head));
  for (const r of table) console.log(line(r));
  for (let i = 0; i + 1 < rows.length; i += 2) {
    console.log(
      `${rows[i].model}: follow-up / first = ${
        (rows[i + 1].seconds.total / rows[i].seconds.total).toFixed(3)
      } of the wall time`,
    );
  }
}
if (!values.json && precision.length) {
  console.log("\nvlm3r-tiny's golden question, converted (vlm3r convert), against the reference:");
  for (const p of precision) {
    console.log(
      `  ${p.variant.padEnd(15)} ${p.tokensMatched}/16 greedy tokens as the reference` +
        `${p.firstMismatch === null ? "" : ` (first difference at step ${p.firstMismatch})`}, ` +
        `top-5 of the prefill logits: ${p.top5Overlap}/5 shared`,
    );
  }
}
gpu.destroy();
