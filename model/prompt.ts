/**
 * The prompt of VLM-3R's evaluation (model-reference.md §1.6): the `qwen_1_5` ChatML template
 * around `<image>\n{USER_TEXT}`, the multiple-choice and numeric post-prompts, the optional time
 * instruction, and the tokenisation that splits on `<image>` and joins the chunks with the
 * sentinel -200 where the visual embeddings are spliced in.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";

/** Sentinel id the reference puts where the visual tokens go (`IMAGE_TOKEN_INDEX`). */
export const IMAGE_TOKEN_INDEX = -200;

/** The placeholder string of the image in the prompt. */
export const IMAGE_PLACEHOLDER = "<image>";

/** Post-prompt of multiple-choice questions (VSI-Bench, lmms-eval). */
export const MC_POST_PROMPT = "Answer with the option's letter from the given choices directly.";
/** Post-prompt of numeric questions. */
export const NA_POST_PROMPT = "Please answer the question using a single word or phrase.";
/** Pre-prompt of every question. */
export const PRE_PROMPT = "These are frames of a video.";

/** A question to put in the prompt. */
export interface PromptQuestion {
  /** The question text. */
  question: string;
  /** Options as shown (e.g. `A. front-left`); absent or empty for a numeric question. */
  options?: readonly string[] | null;
}

/** The time instruction's inputs (demo and training; DECISIONS.md 19: off by default). */
export interface TimeInstruction {
  /** Video length in seconds. */
  videoSeconds: number;
  /** Timestamps of the sampled frames, seconds. */
  frameTimes: readonly number[];
}

/**
 * `USER_TEXT` of §1.6: pre-prompt, question, options and post-prompt, with the time
 * instruction first when given.
 *
 * @example
 * ```ts
 * const t = userText({ question: "How many chairs?" });
 * if (t !== "These are frames of a video.\nHow many chairs?\nPlease answer the question using a single word or phrase.") throw new Error(t);
 * ```
 */
export function userText(q: PromptQuestion, time?: TimeInstruction): string {
  const options = q.options ?? [];
  const body = options.length
    ? `${PRE_PROMPT}\n${q.question}\nOptions:\n${options.join("\n")}\n${MC_POST_PROMPT}`
    : `${PRE_PROMPT}\n${q.question}\n${NA_POST_PROMPT}`;
  return time ? `${timeInstruction(time)}\n${body}` : body;
}

/**
 * The time instruction verbatim, including the reference's missing space before "Please".
 *
 * @example
 * ```ts
 * const s = timeInstruction({ videoSeconds: 2, frameTimes: [0, 1.5] });
 * if (!s.endsWith("located at 0.00s,1.50s.Please answer the following questions related to this video.")) throw new Error(s);
 * ```
 */
export function timeInstruction(t: TimeInstruction): string {
  const times = t.frameTimes.map((s) => `${s.toFixed(2)}s`).join(",");
  return `The video lasts for ${t.videoSeconds.toFixed(2)} seconds, and ${t.frameTimes.length} ` +
    `frames are uniformly sampled from it. These frames are located at ${times}.Please answer ` +
    `the following questions related to this video.`;
}

/**
 * The full ChatML prompt string of `conv_templates["qwen_1_5"]` with one `<image>`.
 *
 * @example
 * ```ts
 * const p = chatPrompt("Hi");
 * if (!p.startsWith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<image>\nHi<|im_end|>")) throw new Error();
 * if (!p.endsWith("<|im_start|>assistant\n")) throw new Error();
 * ```
 */
export function chatPrompt(user: string): string {
  return `<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n` +
    `${IMAGE_PLACEHOLDER}\n${user}<|im_end|>\n<|im_start|>assistant\n`;
}

/** Token ids of a prompt and where the visual block goes. */
export interface PromptIds {
  /** Ids with {@link IMAGE_TOKEN_INDEX} at the splice point. */
  ids: number[];
  /** Index of the sentinel in `ids`. */
  imageAt: number;
}

/**
 * `tokenizer_image_token`: splits `prompt` on `<image>`, encodes each chunk without special
 * tokens, joins with -200. Exactly one `<image>` is expected.
 *
 * @example
 * ```ts
 * const enc = { encode: (s: string) => [...s].map((c) => c.charCodeAt(0)) };
 * const p = promptIds("a<image>b", enc);
 * if (p.ids.join() !== "97,-200,98" || p.imageAt !== 1) throw new Error();
 * ```
 */
export function promptIds(
  prompt: string,
  tokenizer: { encode(text: string): number[] },
): PromptIds {
  const chunks = prompt.split(IMAGE_PLACEHOLDER);
  if (chunks.length !== 2) {
    throw new DataError(
      "prompt",
      IMAGE_PLACEHOLDER,
      "exactly one placeholder",
      `${chunks.length - 1}`,
    );
  }
  const before = tokenizer.encode(chunks[0]);
  return {
    ids: [...before, IMAGE_TOKEN_INDEX, ...tokenizer.encode(chunks[1])],
    imageAt: before.length,
  };
}

/**
 * `prepare_inputs_labels_for_multimodal`'s splice: text embeddings before the sentinel, the
 * visual rows, text embeddings after; `[L, width]` with L = ids - 1 + visual rows.
 *
 * @example
 * ```ts
 * const e = spliceEmbeddings(Float32Array.of(1, 2), Float32Array.of(9, 9, 9), 1, 1);
 * if (e.join() !== "1,9,9,9,2") throw new Error();
 * ```
 */
export function spliceEmbeddings(
  text: Float32Array,
  visual: Float32Array,
  imageAt: number,
  width: number,
): Float32Array {
  const out = new Float32Array(text.length + visual.length);
  out.set(text.subarray(0, imageAt * width));
  out.set(visual, imageAt * width);
  out.set(text.subarray(imageAt * width), imageAt * width + visual.length);
  return out;
}
