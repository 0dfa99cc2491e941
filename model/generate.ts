/**
 * Greedy generation as the reference runs it (model-reference.md §1.7, §11.6-7): no sampling,
 * HF's repetition penalty on the generated ids (from `generation_config.json`, 1.05 for
 * LLaVA-Video), stop at an eos id of `generation_config.json` or after `max_new_tokens`,
 * decode the new ids with `skip_special_tokens` and strip. Each step reads back only the chosen
 * token id.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import type { KvCache, Qwen2 } from "./qwen2.ts";

/** The fields of `generation_config.json` greedy decoding uses. */
export interface GenerationConfig {
  /** Ids that end generation (`eos_token_id`, a number or a list). */
  eos: number[];
  /** `repetition_penalty` (1 when absent). */
  repetitionPenalty: number;
}

/**
 * Reads `generation_config.json`'s eos ids and repetition penalty (`file` names it in errors).
 *
 * @example
 * ```ts
 * const g = generationConfig({ eos_token_id: [151645, 151643], repetition_penalty: 1.05 });
 * if (g.eos.join() !== "151645,151643" || g.repetitionPenalty !== 1.05) throw new Error();
 * ```
 */
export function generationConfig(
  json: Record<string, unknown>,
  file = "generation_config.json",
): GenerationConfig {
  const eos = json.eos_token_id;
  const list = Array.isArray(eos) ? eos : eos === undefined ? [] : [eos];
  if (!list.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new DataError(file, "eos_token_id", "an id or a list of ids", JSON.stringify(eos));
  }
  const p = json.repetition_penalty ?? 1;
  if (typeof p !== "number" || !(p > 0)) {
    throw new DataError(file, "repetition_penalty", "a positive number", String(p));
  }
  return { eos: list as number[], repetitionPenalty: p };
}

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** At most this many new tokens (16 in the eval, 1024 in the demo). */
  maxNewTokens: number;
  /** Stop ids (the generated stop id is kept in `ids`, dropped by decoding). */
  eos?: readonly number[];
  /** Repetition penalty on generated ids (1 = none). */
  repetitionPenalty?: number;
  /** Also return the raw logits of the prompt's last position. */
  logits?: boolean;
  /** Called as each new token is chosen (`k` from 0), e.g. to time the first one. */
  onToken?: (k: number, id: number) => void;
}

/** What {@link generate} produced. */
export interface Generation {
  /** The new token ids, the stop id included when one ended it. */
  ids: number[];
  /** Why it stopped. */
  stop: "eos" | "length";
  /** With `logits`: the raw logits of the prompt's last position. */
  logits?: Float32Array;
}

/**
 * Greedy decoding from a prompt (embeddings `[T, hidden]`, or `{ ids }`) prefilled after what
 * `cache` holds (sized for it plus the prompt plus `maxNewTokens`).
 *
 * @example
 * ```ts ignore
 * const cache = model.cache(prompt.length / hidden + 16);
 * const { ids } = await generate(model, cache, prompt, { maxNewTokens: 16, eos: [151645, 151643], repetitionPenalty: 1.05 });
 * const answer = decodeAnswer(tokenizer, ids);
 * ```
 */
export async function generate(
  model: Qwen2,
  cache: KvCache,
  prompt: Float32Array | { ids: Uint32Array },
  options: GenerateOptions,
): Promise<Generation> {
  const penalty = options.repetitionPenalty ?? 1;
  const eos = new Set(options.eos ?? []);
  if (!(options.maxNewTokens >= 1)) {
    throw new RangeError(`maxNewTokens must be at least 1, got ${options.maxNewTokens}`);
  }
  const ids: number[] = [];
  const input = prompt instanceof Float32Array ? { embeds: prompt } : prompt;
  const first = await model.prefill(cache, input, {
    penalty,
    ...(options.logits ? { logits: "last" as const } : {}),
  });
  let id = first.id;
  const logits = first.logits ? { logits: first.logits } : {};
  for (;;) {
    options.onToken?.(ids.length, id);
    ids.push(id);
    if (eos.has(id)) return { ids, stop: "eos", ...logits };
    if (ids.length >= options.maxNewTokens) return { ids, stop: "length", ...logits };
    ({ id } = await model.decode(cache, { penalty }));
  }
}

/**
 * The answer text: the new ids decoded with special tokens skipped, then stripped.
 *
 * @example
 * ```ts
 * const tok = { decode: (ids: readonly number[]) => ids.map((i) => String.fromCharCode(i)).join("") };
 * if (decodeAnswer(tok, [32, 65, 32]) !== "A") throw new Error();
 * ```
 */
export function decodeAnswer(
  tokenizer: { decode(ids: readonly number[], skipSpecial?: boolean): string },
  ids: readonly number[],
): string {
  return tokenizer.decode(ids, true).trim();
}
