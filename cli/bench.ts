/**
 * `vlm3r bench`: asks an OpenAI-compatible chat-completions server every question of a
 * benchmark, with the video's sampled frames and the benchmark's prompt, and writes the answers
 * for `vlm3r eval`; or, without `--endpoint`, runs VLM-3R in this process (`--model DIR` or the
 * release's `--base/--lora/--cut3r`), each video encoded once, into the same answers file.
 *
 * @module
 */

import { chatComplete } from "../io/chat.ts";
import { detectBenchmark } from "../eval/benchmarks.ts";
import {
  answeredIds,
  collectAnswers,
  type CollectReport,
  findVideo,
  FrameCache,
  hasContent,
  SkipQuestion,
} from "../eval/collect.ts";
import { benchmarkPrompt, promptKind } from "../eval/prompt.ts";
import { type EvalQuestion, readQuestions } from "../eval/records.ts";
import { type Command, type Context, UsageError } from "./_command.ts";
import {
  answerWithEngine,
  finishAnswers,
  MODEL_OPTIONS,
  modelLocation,
  openEngine,
} from "./ask.ts";
import type { Progress } from "./progress.ts";
import { checkOutputFile } from "./gen.ts";

/** Options of the in-process model, besides --model. */
const ENGINE_OPTIONS = Object.fromEntries(
  Object.entries(MODEL_OPTIONS).filter(([k]) => k !== "model"),
);
/** Options that only a server run uses. */
const ENDPOINT_ONLY = ["concurrency", "retries", "timeout", "pre-prompt", "na-post-prompt"];

/** The `bench` command. */
export const benchCommand: Command = {
  name: "bench",
  summary: "ask a chat-completions server (vLLM, llama.cpp, Ollama, vlm3r serve), or VLM-3R " +
    "in-process, the benchmark questions",
  usage:
    "vlm3r bench --questions Q.jsonl --videos DIR --out P.jsonl (--endpoint URL --model NAME " +
    "[--concurrency 4] [--retries 5] [--timeout 300] | --model DIR | --base DIR --lora DIR " +
    "--cut3r FILE) [--frames 32] [--max-tokens 16] [--resume]",
  examples: [
    "vlm3r bench --questions vsibench.jsonl --videos vsibench/ --endpoint http://localhost:8000/v1 " +
    "--model Qwen/Qwen2.5-VL-7B-Instruct --out answers.jsonl",
    "vlm3r bench --questions vsibench.jsonl --videos vsibench/ --model models/vlm3r " +
    "--out answers.jsonl",
  ],
  options: {
    questions: { type: "string", value: "Q.jsonl", description: "the questions" },
    videos: {
      type: "string",
      value: "DIR",
      description:
        "videos: <video_path>, <dataset>/<scene>.mp4, <scene>.mp4 or <scene>/<scene>.mp4",
    },
    endpoint: {
      type: "string",
      value: "URL",
      description: "server base URL (http://host:8000/v1) or its /chat/completions URL",
    },
    model: {
      type: "string",
      value: "NAME|DIR",
      description: "with --endpoint the model name sent to the server; without, a converted " +
        "model folder run in-process (or --base/--lora/--cut3r)",
    },
    out: { type: "string", value: "P.jsonl", description: "answers, written as they come" },
    frames: { type: "string", value: "N", description: "frames per question", default: "32" },
    concurrency: {
      type: "string",
      value: "N",
      description: "questions in flight at once",
      default: "4",
    },
    resume: { type: "boolean", description: "keep the answers in --out and ask only the rest" },
    retries: {
      type: "string",
      value: "N",
      description: "retries of a failed request, with exponential backoff",
      default: "5",
    },
    timeout: {
      type: "string",
      value: "S",
      description: "seconds to wait for one answer",
      default: "300",
    },
    "max-tokens": {
      type: "string",
      value: "N",
      description: "new tokens per answer (the benchmark uses 16)",
      default: "16",
    },
    "pre-prompt": {
      type: "string",
      value: "TEXT",
      description: "text before the question (default: These are frames of a video.)",
    },
    "na-post-prompt": {
      type: "string",
      value: "TEXT",
      description: "text after a numerical question (default: lmms-eval's)",
    },
    ...ENGINE_OPTIONS,
  },
  run: runBench,
};

async function runBench(ctx: Context): Promise<number> {
  const questionsPath = ctx.string("questions", true);
  const videos = ctx.string("videos", true);
  const endpoint = ctx.string("endpoint");
  if (endpoint !== undefined) {
    const protocol = URL.parse(endpoint)?.protocol;
    if (protocol !== "http:" && protocol !== "https:") {
      throw new UsageError(
        `--endpoint expects an http:// or https:// URL (http://host:8000/v1), got '${endpoint}'`,
      );
    }
    for (const k of Object.keys(ENGINE_OPTIONS)) {
      if (ctx.values[k] !== undefined) {
        throw new UsageError(`--${k} is for VLM-3R in-process: leave out --endpoint`);
      }
    }
  } else {
    for (const k of ENDPOINT_ONLY) {
      if (ctx.values[k] !== undefined) throw new UsageError(`--${k} goes with --endpoint`);
    }
    if (!ctx.string("model") && !["base", "lora", "cut3r"].some((k) => ctx.string(k))) {
      throw new UsageError(
        "give --endpoint URL --model NAME to ask a server, or --model DIR (or --base DIR " +
          "--lora DIR --cut3r FILE) to run VLM-3R in this process",
      );
    }
  }
  const model = endpoint === undefined ? ctx.string("model") : ctx.string("model", true);
  const out = ctx.string("out", true);
  const frames = ctx.int("frames", 32, { min: 1, max: 1024 });
  const maxTokens = ctx.int("max-tokens", 16, { min: 1, max: 100000 });
  const resume = ctx.flag("resume");
  if (endpoint === undefined) modelLocation(ctx); // usage errors before anything is read

  if (!resume && await hasContent(out)) {
    throw new UsageError(`${out} exists: add --resume to continue it, or remove it`);
  }
  await checkOutputFile(out);
  const set = await readQuestions(questionsPath);
  const bar = ctx.progress("bench", set.questions.length, "questions");
  let report;
  const done = resume ? await answeredIds(out) : new Set<string>();
  if (set.questions.every((q) => done.has(q.id))) {
    // Nothing left to ask: no model to load, no server to call.
    report = {
      total: set.questions.length,
      resumed: set.questions.length,
      answered: 0,
      skipped: [],
    };
  } else if (endpoint === undefined) {
    const engine = await openEngine(ctx);
    report = await answerWithEngine(engine, set.questions, {
      videos,
      out,
      resume,
      ask: { frames, maxNewTokens: maxTokens },
      progress: bar,
    }).finally(() => engine.destroy());
  } else {
    report = await askEndpoint(ctx, set.questions, {
      endpoint,
      model: model!,
      videos,
      out,
      resume,
      frames,
      maxTokens,
      bar,
    });
  }
  return finishAnswers(ctx, report, out);
}

/** Every question asked of the server at `endpoint`, a bounded number at once. */
async function askEndpoint(
  ctx: Context,
  questions: EvalQuestion[],
  o: {
    endpoint: string;
    model: string;
    videos: string;
    out: string;
    resume: boolean;
    frames: number;
    maxTokens: number;
    bar: Progress;
  },
): Promise<CollectReport> {
  const { endpoint, model, videos, out, resume, frames, maxTokens, bar } = o;
  const concurrency = ctx.int("concurrency", 4, { min: 1, max: 256 });
  const retries = ctx.int("retries", 5, { min: 0, max: 100 });
  const timeout = ctx.float("timeout", 300, { min: 0.001 });
  const prompts = {
    prePrompt: ctx.string("pre-prompt"),
    naPostPrompt: ctx.string("na-post-prompt"),
  };
  const bench = detectBenchmark(questions.map((q) => q.questionType));
  const cache = new FrameCache(frames, Math.max(8, 2 * concurrency));
  const apiKey = Deno.env.get("OPENAI_API_KEY") || undefined;
  try {
    return await collectAnswers(questions, {
      out,
      resume,
      concurrency,
      onProgress: (d) => bar.set(d),
      ask: async (q) => {
        const video = await findVideo(videos, q);
        if (!video) {
          throw new SkipQuestion(
            `id ${q.id}: no video for ${q.videoPath ?? q.sceneName ?? "it"} under ${videos}`,
          );
        }
        const images = await cache.get(video);
        const kind = bench ? promptKind(bench, q) : (q.options.length ? "mca" : "na");
        return await chatComplete(
          { endpoint, model, text: benchmarkPrompt(q, kind, prompts), images, maxTokens, apiKey },
          {
            retries,
            timeoutMs: timeout * 1000,
            onRetry: (n, why, wait) =>
              ctx.err(
                `retry ${n}/${retries} of id ${q.id} in ${(wait / 1000).toFixed(1)} s: ${why}`,
              ),
          },
        );
      },
    });
  } finally {
    bar.done();
  }
}
