/**
 * The benchmark prompt as lmms-eval's `doc_to_text` builds it (data-reference §8.1).
 *
 * @module
 */

import { type AnswerKind, answerKind, type Benchmark } from "./benchmarks.ts";
import type { EvalQuestion } from "./records.ts";

// data-reference §8.1: the fallback pre-prompt and the two post-prompts, verbatim; VLM-3R's
// own prompt (model/prompt.ts) is built from the same strings.
import { MC_POST_PROMPT, NA_POST_PROMPT, PRE_PROMPT } from "../model/prompt.ts";
/** Pre-prompt used when none is configured (lmms-eval's YAML gives "", which falls back). */
export { PRE_PROMPT };
/** Post-prompt of multiple-choice questions. */
export const MCA_POST_PROMPT = MC_POST_PROMPT;
/** Post-prompt of numerical questions. */
export { NA_POST_PROMPT };
/** lmms-eval's numerical post-prompt for `gemini_api` and `gpt4v`. */
export const NA_POST_PROMPT_API = "Do not response anything other than a single number!";

/** Prompt overrides; an empty string falls back to the default, as in lmms-eval. */
export interface PromptOptions {
  prePrompt?: string;
  mcaPostPrompt?: string;
  naPostPrompt?: string;
}

/**
 * How a question is asked: its benchmark kind, or for a type the benchmark lacks, multiple
 * choice when it has options.
 */
export function promptKind(bench: Benchmark, q: EvalQuestion): AnswerKind {
  return answerKind(bench, q.questionType) ?? (q.options.length ? "mca" : "na");
}

/**
 * The prompt of `q`: `pre + "\n" + question + "\n" + "Options:\n" + options + "\n" + post` for
 * multiple choice, `pre + "\n" + question + "\n" + post` for numbers.
 *
 * @example
 * ```ts
 * const q = { id: "1", questionType: "route_planning", question: "Which way?", options: ["A. Left", "B. Right"],
 *   groundTruth: "A", line: 1 };
 * const text = benchmarkPrompt(q, "mca");
 * if (text !== "These are frames of a video.\nWhich way?\nOptions:\nA. Left\nB. Right\n" +
 *   "Answer with the option's letter from the given choices directly.") throw new Error(text);
 * ```
 */
export function benchmarkPrompt(
  q: EvalQuestion,
  kind: AnswerKind,
  options: PromptOptions = {},
): string {
  const pre = options.prePrompt || PRE_PROMPT;
  if (kind === "na") return `${pre}\n${q.question}\n${options.naPostPrompt || NA_POST_PROMPT}`;
  return [
    pre,
    q.question,
    "Options:\n" + q.options.join("\n"),
    options.mcaPostPrompt || MCA_POST_PROMPT,
  ].join("\n");
}
