/**
 * `vlm3r bench`: asks an OpenAI-compatible chat-completions server every question of a
 * benchmark, with the video's sampled frames and the benchmark's prompt, and writes the answers
 * for `vlm3r eval`.
 *
 * @module
 */

import { chatComplete } from "../io/chat.ts";
import { detectBenchmark } from "../eval/benchmarks.ts";
import {
  collectAnswers,
  findVideo,
  FrameCache,
  hasContent,
  SkipQuestion,
} from "../eval/collect.ts";
import { benchmarkPrompt, promptKind } from "../eval/prompt.ts";
import { readQuestions } from "../eval/records.ts";
import { type Command, type Context, UsageError } from "./_command.ts";
import { checkOutputFile } from "./gen.ts";

/** The `bench` command. */
export const benchCommand: Command = {
  name: "bench",
  summary: "ask a chat-completions server (vLLM, llama.cpp, Ollama) the benchmark questions",
  usage: "vlm3r bench --questions Q.jsonl --videos DIR --endpoint URL --model NAME --out P.jsonl " +
    "[--frames 32] [--concurrency 4] [--resume] [--retries 5] [--timeout 300] [--max-tokens 16]",
  examples: [
    "vlm3r bench --questions vsibench.jsonl --videos vsibench/ --endpoint http://localhost:8000/v1 " +
    "--model Qwen/Qwen2.5-VL-7B-Instruct --out answers.jsonl",
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
    model: { type: "string", value: "NAME", description: "model name sent to the server" },
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
  },
  run: runBench,
};

async function runBench(ctx: Context): Promise<number> {
  const questionsPath = ctx.string("questions", true);
  const videos = ctx.string("videos", true);
  const endpoint = ctx.string("endpoint", true);
  const protocol = URL.parse(endpoint)?.protocol;
  if (protocol !== "http:" && protocol !== "https:") {
    throw new UsageError(
      `--endpoint expects an http:// or https:// URL (http://host:8000/v1), got '${endpoint}'`,
    );
  }
  const model = ctx.string("model", true);
  const out = ctx.string("out", true);
  const frames = ctx.int("frames", 32, { min: 1, max: 1024 });
  const concurrency = ctx.int("concurrency", 4, { min: 1, max: 256 });
  const retries = ctx.int("retries", 5, { min: 0, max: 100 });
  const timeout = ctx.float("timeout", 300, { min: 0.001 });
  const maxTokens = ctx.int("max-tokens", 16, { min: 1, max: 100000 });
  const prompts = {
    prePrompt: ctx.string("pre-prompt"),
    naPostPrompt: ctx.string("na-post-prompt"),
  };
  const resume = ctx.flag("resume");

  if (!resume && await hasContent(out)) {
    throw new UsageError(`${out} exists: add --resume to continue it, or remove it`);
  }
  await checkOutputFile(out);
  const set = await readQuestions(questionsPath);
  const bench = detectBenchmark(set.questions.map((q) => q.questionType));
  const cache = new FrameCache(frames, Math.max(8, 2 * concurrency));
  const apiKey = Deno.env.get("OPENAI_API_KEY") || undefined;
  const bar = ctx.progress("bench", set.questions.length, "questions");
  let report;
  try {
    report = await collectAnswers(set.questions, {
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
  ctx.out(
    `${report.answered} answered, ${report.resumed} already in ${out}, ${report.skipped.length} skipped ` +
      `(${report.total} questions)`,
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
