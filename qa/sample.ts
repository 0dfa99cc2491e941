/**
 * Seeded sampling helpers with the semantics of the reference's Python calls
 * (`random.sample`, `itertools.combinations`), drawn from vlm3r's {@link Rng}.
 *
 * @module
 */

import type { Rng } from "../geometry/rng.ts";

/**
 * `k` distinct items drawn uniformly, kept in their original order; all items when there are
 * at most `k` (the reference subsamples only lists longer than the cap).
 *
 * @example
 * ```ts
 * import { Rng } from "../geometry/rng.ts";
 * const s = sampleInOrder(new Rng(1), [1, 2, 3, 4, 5], 3);
 * if (s.length !== 3 || s.some((x, i) => i > 0 && x < s[i - 1])) throw new Error();
 * if (sampleInOrder(new Rng(1), [1, 2], 3).length !== 2) throw new Error();
 * ```
 */
export function sampleInOrder<T>(rng: Rng, items: readonly T[], k: number): T[] {
  if (items.length <= k) return [...items];
  const idx = items.map((_, i) => i);
  // Partial Fisher-Yates: the first k of a uniformly shuffled index list.
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.next() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((a, b) => a - b).map((i) => items[i]);
}

/**
 * All `k`-combinations in `itertools.combinations` order (lexicographic by position).
 *
 * @example
 * ```ts
 * const c = [...combinations(["a", "b", "c"], 2)].map((x) => x.join(""));
 * if (c.join() !== "ab,ac,bc") throw new Error(c.join());
 * ```
 */
export function* combinations<T>(items: readonly T[], k: number): Generator<T[]> {
  const n = items.length;
  if (k > n || k < 0) return;
  const idx = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield idx.map((i) => items[i]);
    let i = k - 1;
    while (i >= 0 && idx[i] === i + n - k) i--;
    if (i < 0) return;
    idx[i]++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1] + 1;
  }
}

/**
 * Number of `k`-combinations of `n` items.
 *
 * @example
 * ```ts
 * if (binomial(5, 2) !== 10 || binomial(2, 3) !== 0) throw new Error();
 * ```
 */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}
