/**
 * Answer-letter balancing (data-reference §3.2, DECISIONS 12): each question's correct option
 * goes to one of the letters used least so far by its question type, over the whole run, and
 * the other options are shuffled around it. Unlike the reference, the counts are global (not
 * reset per scene) and cover only as many letters as the question has options, so a 2-option
 * task alternates A and B instead of degrading to a plain shuffle.
 *
 * @module
 */

import type { Rng } from "../geometry/rng.ts";

/** Option letters in order. */
export const LETTERS = ["A", "B", "C", "D", "E", "F"] as const;

/** The ordered options and the letter of the answer. */
export interface Lettered<T> {
  options: T[];
  letter: string;
}

/**
 * Letter counts per question type over a run. Feed questions in a fixed order with one
 * stream per type, and the result is deterministic.
 *
 * @example
 * ```ts
 * import { Rng } from "../geometry/rng.ts";
 * const b = new LetterBalancer(), rng = new Rng(1);
 * const letters = [0, 1, 2, 3].map(() => b.order("t", ["x", "y", "z", "w"], "x", rng).letter);
 * if ([...letters].sort().join("") !== "ABCD") throw new Error(letters.join());
 * ```
 */
export class LetterBalancer {
  #counts = new Map<string, number[]>();

  /**
   * Orders `options` (which contain `answer` once) for a question of type `key`: the answer
   * takes a least-used letter, drawn uniformly; the rest are shuffled.
   */
  order<T>(key: string, options: readonly T[], answer: T, rng: Rng): Lettered<T> {
    const k = options.length;
    const at = options.indexOf(answer);
    if (at < 0) throw new Error(`the answer ${String(answer)} is not among the options`);
    if (k > LETTERS.length) throw new Error(`${k} options; at most ${LETTERS.length}`);
    const counts = this.#counts.get(`${key}#${k}`) ?? new Array(k).fill(0);
    this.#counts.set(`${key}#${k}`, counts);
    const min = Math.min(...counts);
    const least = counts.flatMap((c, i) => (c === min ? [i] : []));
    const target = rng.pick(least);
    const rest = rng.shuffle(options.filter((_, i) => i !== at));
    rest.splice(target, 0, answer);
    counts[target]++;
    return { options: rest, letter: LETTERS[target] };
  }

  /** Letter counts so far per key (`type#options`). */
  counts(): Map<string, number[]> {
    return new Map([...this.#counts].map(([k, v]) => [k, [...v]]));
  }
}
