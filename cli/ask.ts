/**
 * `vlm3r ask VIDEO QUESTION`: VLM-3R's answer to a question about a video (a file or a folder
 * of frame images), on WebGPU, with the per-video cache; or, with `--questions`, every question
 * of a benchmark file, grouped by video so each video is encoded once, written as predictions
 * `vlm3r eval` scores.
 *
 * @module
 */

import { detectBenchmark } from "../eval/benchmarks.ts";
import {
  collectAnswers,
  type CollectReport,
  findVideo,
  hasContent,
  SkipQuestion,
} from "../eval/collect.ts";
import { promptKind } from "../eval/prompt.ts";
import { readQuestions } from "../eval/records.ts";
import { DataError } from "../io/errors.ts";
import { defaultCacheDir, VideoCache } from "../model/cache.ts";
import { type ProbedVideo, probeVideo } from "../model/video_input.ts";
import {
  type Answer,
  type AskOptions,
  emptyTimes,
  type ModelLocation,
  Vlm3r,
} from "../model/vlm3r.ts";
import { type Command, type Context, UsageError } from "./_command.ts";
import { checkOutputFile } from "./gen.ts";

/** Options shared by the commands that load the model (`ask`, `serve`, `bench --model`). */
export const MODEL_OPTIONS: Command["options"] = {
  model: {
    type: "string",
    value: "DIR",
    description: "a converted model folder (vlm3r convert), or with --base/--lora/--cut3r",
  },
  base: { type: "string", value: "DIR", description: "LLaVA-Video-7B-Qwen2 folder (release)" },
  lora: { type: "string", value: "DIR", description: "VLM-3R LoRA folder (release)" },
  cut3r: { type: "string", value: "FILE", description: "cut3r_512_dpt_4_64.pth (release)" },
  siglip: {
    type: "string",
    value: "FILE",
    description: "SigLIP's vision config (release; default: so400m's)",
  },
  dtype: {
    type: "string",
    value: "T",
    description: "weights and activations on the GPU (default f16 on GPUs, f32 on CPU adapters)",
    choices: ["f32", "f16"],
  },
  cache: {
    type: "string",
    value: "DIR",
    description: "per-video cache folder (default: the platform's cache folder, vlm3r/)",
  },
  "no-cache": { type: "boolean", description: "keep the per-video cache in memory only" },
  "cache-size": {
    type: "string",
    value: "GB",
    description: "disk cap of the per-video cache, least recently used evicted",
    default: "20",
  },
};

/** Options shared by the commands that ask questions about videos. */
export const QUESTION_OPTIONS: Command["options"] = {
  frames: { type: "string", value: "N", description: "frames sampled per video", default: "32" },
  "time-instruction": {
    type: "boolean",
    description: "tell the model the video's length and frame times (off in the benchmark)",
  },
  fps: { type: "string", value: "R", description: "frame rate of a frame folder (for the above)" },
  "max-new-tokens": {
    type: "string",
    value: "N",
    description: "answer tokens at most",
    default: "16",
  },
};

/** The `ask` command. */
export const askCommand: Command = {
  name: "ask",
  summary: "answer questions about a video with VLM-3R on WebGPU",
  usage: "vlm3r ask VIDEO QUESTION [--options 'A. x' ...] [--model DIR | --base DIR --lora DIR " +
    "--cut3r FILE] [--frames 32] [--time-instruction] [--max-new-tokens 16] [--cache DIR] " +
    "[--json] | --questions Q.jsonl --videos DIR --out P.jsonl",
  positionals: "VIDEO QUESTION",
  examples: [
    'vlm3r ask room.mp4 "How many chairs are in this room?" --model models/vlm3r',
    'vlm3r ask scene0000_00/frames/color "Which is closer to the sofa?" --options "A. tv" ' +
    '--options "B. lamp" --model models/vlm3r',
    "vlm3r ask --questions vsibench.jsonl --videos vsibench/ --out answers.jsonl --model models/vlm3r",
  ],
  options: {
    options: {
      type: "string",
      value: "TEXT",
      description: "a multiple-choice option as shown ('A. chair'); repeat for each",
      multiple: true,
    },
    ...MODEL_OPTIONS,
    ...QUESTION_OPTIONS,
    json: {
      type: "boolean",
      description: "print the answer, token ids, prompt length, stage times and adapter as JSON",
    },
    seed: {
      type: "string",
      value: "S",
      description: "accepted for pipelines; greedy decoding draws no random numbers",
    },
    questions: {
      type: "string",
      value: "Q.jsonl",
      description: "ask every question of a file (VSI-Bench schema) instead",
    },
    videos: { type: "string", value: "DIR", description: "videos of --questions (as bench)" },
    out: { type: "string", value: "P.jsonl", description: "predictions of --questions" },
    resume: { type: "boolean", description: "keep the answers in --out and ask only the rest" },
  },
  run: runAsk,
};

/** Where the model is, from --model or --base/--lora/--cut3r. */
export function modelLocation(ctx: Context): ModelLocation {
  const model = ctx.string("model");
  const release = ["base", "lora", "cut3r"].map((k) => ctx.string(k));
  if (model && release.some(Boolean)) {
    throw new UsageError("give --model DIR, or --base, --lora and --cut3r, not both");
  }
  if (model) return { model };
  if (!release.every(Boolean)) {
    throw new UsageError(
      "the model: --model DIR (a converted model), or --base DIR --lora DIR --cut3r FILE " +
        "(the release as downloaded)",
    );
  }
  const [base, lora, cut3r] = release as string[];
  return { base, lora, cut3r, siglip: ctx.string("siglip") };
}

/** Opens the model with the cache the options ask for; cache problems go to stderr. */
export async function openEngine(ctx: Context): Promise<Vlm3r> {
  const where = modelLocation(ctx);
  const sizeGb = ctx.float("cache-size", 20, { min: 0 });
  const cache = new VideoCache({
    dir: ctx.flag("no-cache") ? null : (ctx.string("cache") ?? defaultCacheDir()),
    diskBytes: sizeGb * 2 ** 30,
    onProblem: (line) => ctx.err(`warning: cache: ${line}`),
  });
  const dtype = ctx.string("dtype") as "f32" | "f16" | undefined;
  return await Vlm3r.open(where, { precision: dtype, cache });
}

/** The question options of the command line. */
export function askOptions(ctx: Context): AskOptions & { frames: number } {
  const fps = ctx.string("fps") === undefined ? undefined : ctx.float("fps", 0, { min: 0.001 });
  return {
    frames: ctx.int("frames", 32, { min: 1, max: 4096 }),
    timeInstruction: ctx.flag("time-instruction"),
    fps,
    maxNewTokens: ctx.int("max-new-tokens", 16, { min: 1, max: 100000 }),
  };
}

/** The JSON `--json` prints for an answer. */
export function answerJson(answer: Answer, adapter: string): Record<string, unknown> {
  const s = answer.seconds;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    answer: answer.text,
    ids: answer.ids,
    prompt_tokens: answer.promptLength,
    visual_tokens: answer.visualTokens,
    frames: answer.frames,
    cached: answer.cached,
    seconds: {
      decode: r(s.decode),
      preprocess: r(s.preprocess),
      siglip: r(s.siglip),
      cut3r: r(s.cut3r),
      fusion_projector: r(s.fusion),
      prefix: r(s.prefix),
      prefill: r(s.prefill),
      decode_tokens: r(s.decodeTokens),
    },
    decode_tokens_per_second: answer.decodeTokensPerSecond === null
      ? null
      : Math.round(answer.decodeTokensPerSecond * 100) / 100,
    adapter,
  };
}

async function runAsk(ctx: Context): Promise<number> {
  if (ctx.string("questions")) return await askQuestionsFile(ctx);
  const [video, question, ...rest] = ctx.positionals;
  if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}' after the question`);
  if (!video || !question) {
    throw new UsageError("give the video and the question: vlm3r ask VIDEO QUESTION");
  }
  for (const k of ["videos", "out", "resume"]) {
    if (ctx.values[k] !== undefined) throw new UsageError(`--${k} goes with --questions`);
  }
  const options = ctx.strings("options");
  const ask = askOptions(ctx);
  modelLocation(ctx); // usage errors before the model loads
  // The video first: a bad one fails before the model spends its time loading.
  const t0 = performance.now();
  const loaded = await probeVideo(video, { frames: ask.frames, fps: ask.fps });
  const seconds = emptyTimes();
  seconds.decode = (performance.now() - t0) / 1000;
  const engine = await openEngine(ctx);
  try {
    const answer = await engine.askLoaded(loaded, { question, options }, ask, seconds);
    if (ctx.flag("json")) ctx.out(JSON.stringify(answerJson(answer, engine.adapter)));
    else ctx.out(answer.text);
  } finally {
    engine.destroy();
  }
  return 0;
}

/**
 * Every question of `--questions`, grouped by video (each video loaded and encoded once, in
 * the order its first question appears), answers written in question order to `--out`.
 */
async function askQuestionsFile(ctx: Context): Promise<number> {
  if (ctx.positionals.length) {
    throw new UsageError(`unexpected argument '${ctx.positionals[0]}' with --questions`);
  }
  const questionsPath = ctx.string("questions", true);
  const videos = ctx.string("videos", true);
  const out = ctx.string("out", true);
  const resume = ctx.flag("resume");
  const ask = askOptions(ctx);
  modelLocation(ctx);
  if (!resume && await hasContent(out)) {
    throw new UsageError(`${out} exists: add --resume to continue it, or remove it`);
  }
  await checkOutputFile(out);
  const set = await readQuestions(questionsPath);
  const engine = await openEngine(ctx);
  const report = await answerWithEngine(engine, set.questions, {
    videos,
    out,
    resume,
    ask,
    progress: ctx.progress("ask", set.questions.length, "questions"),
  }).finally(() => engine.destroy());
  return finishAnswers(ctx, report, out);
}

/**
 * Prints what answering a questions file did (`ask --questions`, `bench`); skipped questions
 * fail the run (exit 1) once the other answers are written.
 */
export function finishAnswers(ctx: Context, report: CollectReport, out: string): number {
  ctx.out(
    `${report.answered} answered, ${report.resumed} already in ${out}, ` +
      `${report.skipped.length} skipped (${report.total} questions)`,
  );
  if (report.skipped.length) {
    const kept = report.answered + report.resumed;
    throw new Error(
      `${report.skipped.length} questions skipped (${report.skipped[0].reason}); ` +
        (kept ? `the other answers are in ${out}` : `no answer, so no ${out}`),
    );
  }
  return 0;
}

type EvalQuestions = Awaited<ReturnType<typeof readQuestions>>["questions"];

/**
 * Answers benchmark questions with the engine, one video at a time (questions of a video
 * asked back to back, so its towers run once and its prompt prefix is reused), the answers
 * written to `out` in question order as `collectAnswers` writes them. For `ask --questions`
 * and `bench --model`.
 */
export async function answerWithEngine(
  engine: Vlm3r,
  questions: EvalQuestions,
  options: {
    videos: string;
    out: string;
    resume: boolean;
    ask: AskOptions & { frames: number };
    progress?: { set(done: number): void; done(): void };
  },
): Promise<Awaited<ReturnType<typeof collectAnswers>>> {
  const bench = detectBenchmark(questions.map((q) => q.questionType));
  // Group by video: collectAnswers asks in the order given and writes in question order.
  const videoOf = (q: EvalQuestions[number]) => q.videoPath ?? q.sceneName ?? q.id;
  const paths = new Map<string, string | undefined>();
  for (const q of questions) {
    if (!paths.has(videoOf(q))) {
      paths.set(videoOf(q), await findVideo(options.videos, q, { folders: true }));
    }
  }
  const rank = new Map([...paths.keys()].map((k, i) => [k, i]));
  const order = [...questions.keys()].sort((a, b) =>
    rank.get(videoOf(questions[a]))! - rank.get(videoOf(questions[b]))! || a - b
  );
  let current: { path: string; video: ProbedVideo } | undefined;
  try {
    return await collectAnswers(questions, {
      out: options.out,
      resume: options.resume,
      concurrency: 1,
      order,
      onProgress: (d) => options.progress?.set(d),
      ask: async (q) => {
        const video = paths.get(videoOf(q));
        if (!video) {
          throw new SkipQuestion(
            `id ${q.id}: no video for ${
              q.videoPath ?? q.sceneName ?? "it"
            } under ${options.videos}`,
          );
        }
        if (current?.path !== video) {
          try {
            current = {
              path: video,
              video: await probeVideo(video, { frames: options.ask.frames, fps: options.ask.fps }),
            };
          } catch (e) {
            if (e instanceof DataError) throw new SkipQuestion(`id ${q.id}: ${e.message}`);
            throw e;
          }
        }
        const kind = bench ? promptKind(bench, q) : (q.options.length ? "mca" : "na");
        const answer = await engine.askLoaded(current.video, {
          question: q.question,
          options: kind === "mca" ? q.options : null,
        }, options.ask);
        return answer.text;
      },
    });
  } finally {
    options.progress?.done();
  }
}
