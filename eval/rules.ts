/**
 * Which scoring rules `vlm3r eval` applies (`--rules`):
 *
 * - `vsibench` (default): the rules the benchmarks published their numbers with (the
 *   thinking-in-space / VLM-3R lmms-eval tasks): the answer's first space-separated token,
 *   trailing dots stripped, read with Python's `float()`; "3.5m" is not a number and scores 0.
 * - `lmms-eval-latest`: today's lmms-eval VSI-Bench task (after its PR #1386; reproduced from
 *   commit 75571cfe of EvolvingLMMs-Lab/lmms-eval, `lmms_eval/tasks/vsibench/utils.py`):
 *   numerical answers are read by `extract_number`, which takes the first number in the answer,
 *   digits ("3.5m", "about 3 m") or English number words ("three", "twenty-one", "three hundred
 *   and twenty"), whichever comes first. Multiple-choice answers are read as before. VSTI-Bench
 *   has no lmms-eval task; its numerical questions get the same reading under these rules.
 *
 * Aggregation is the same under both (per-type means, relative direction merged, unweighted
 * overall); where lmms-eval-latest raises (a relative-direction level absent: KeyError; number
 * words whose value overflows a float: OverflowError), vlm3r goes on as under `vsibench` (the
 * levels present averaged; the answer scored 0).
 *
 * @module
 */

import { pythonFloat, pythonStrip } from "./parse.ts";

/** The scoring rules of `vlm3r eval --rules`. */
export type ScoringRules = "vsibench" | "lmms-eval-latest";

/** Every rule set, default first. */
export const SCORING_RULES: readonly ScoringRules[] = ["vsibench", "lmms-eval-latest"];

/** How a report names each rule set. */
export const RULES_DESCRIPTION: Record<ScoringRules, string> = {
  "vsibench": "the benchmarks' published rules (lmms-eval's VSI-Bench task as the " +
    "thinking-in-space / VLM-3R papers ran it): first token, trailing dots stripped, " +
    "case-insensitive letter match; numbers read with Python's float(); MRA over 10 " +
    "thresholds 0.50..0.95",
  "lmms-eval-latest": "today's lmms-eval VSI-Bench rules (after its PR #1386, commit " +
    "75571cfe): letters as published; numbers are the first number in the answer, digits or " +
    "English number words (extract_number: '3.5m' reads 3.5, 'three' 3); MRA over 10 " +
    "thresholds 0.50..0.95",
};

// lmms-eval's _NUMBER_WORDS.
const NUMBER_WORDS: Record<string, bigint> = {
  zero: 0n,
  one: 1n,
  two: 2n,
  three: 3n,
  four: 4n,
  five: 5n,
  six: 6n,
  seven: 7n,
  eight: 8n,
  nine: 9n,
  ten: 10n,
  eleven: 11n,
  twelve: 12n,
  thirteen: 13n,
  fourteen: 14n,
  fifteen: 15n,
  sixteen: 16n,
  seventeen: 17n,
  eighteen: 18n,
  nineteen: 19n,
  twenty: 20n,
  thirty: 30n,
  forty: 40n,
  fifty: 50n,
  sixty: 60n,
  seventy: 70n,
  eighty: 80n,
  ninety: 90n,
  hundred: 100n,
  thousand: 1000n,
};
const isNumberWord = (w: string) => Object.hasOwn(NUMBER_WORDS, w);

// `-?\d+(?:\.\d+)?` as Python's re reads it on a str: \d is any Unicode decimal digit.
const NUMBER = /-?\p{Nd}+(?:\.\p{Nd}+)?/u;
const WORD = /[a-z]+/g;

/**
 * lmms-eval's `extract_number` (lmms-eval-latest): the first number in a model's answer, as
 * digits (`-?\d+(\.\d+)?`, any script's decimal digits) or a run of English number words
 * (`and` inside a run skipped), whichever starts first; `undefined` when there is none (Python's
 * `None`). Word runs are summed as lmms-eval does (`hundred` multiplies what came before,
 * `thousand` closes a group), in exact integers rounded once, as Python's `float(int)` does;
 * a value past the float range is Infinity (where Python raises).
 *
 * @example
 * ```ts
 * if (extractNumber("3.5m") !== 3.5 || extractNumber("About three meters.") !== 3) throw new Error();
 * if (extractNumber("twenty-one") !== 21 || extractNumber("one apple, room 2") !== 1) throw new Error();
 * if (extractNumber("three hundred and twenty one") !== 321 || extractNumber("n/a") !== undefined) {
 *   throw new Error();
 * }
 * ```
 */
export function extractNumber(text: string | null): number | undefined {
  if (text === null) return undefined;
  const s = pythonStrip(text).toLowerCase();
  if (s === "") return undefined;
  const digits = NUMBER.exec(s);
  let runStart: number | undefined;
  const run: string[] = [];
  for (const m of s.matchAll(WORD)) {
    const tok = m[0];
    if (runStart === undefined) {
      if (isNumberWord(tok)) {
        runStart = m.index;
        run.push(tok);
      }
    } else if (tok === "and") {
      continue;
    } else if (isNumberWord(tok)) {
      run.push(tok);
    } else {
      break;
    }
  }
  if (digits && (runStart === undefined || digits.index < runStart)) {
    const v = pythonFloat(digits[0]);
    if (v !== undefined) return v;
  }
  if (runStart === undefined) return undefined;
  let total = 0n, current = 0n;
  for (const tok of run) {
    const v = NUMBER_WORDS[tok];
    const atLeastOne = current > 1n ? current : 1n;
    if (v === 100n) current = atLeastOne * 100n;
    else if (v === 1000n) {
      total += atLeastOne * 1000n;
      current = 0n;
    } else current += v;
  }
  return Number(total + current);
}
