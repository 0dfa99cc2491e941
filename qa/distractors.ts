/**
 * Wrong answers for numerical questions: numeric distractors (data-reference §3.3) and the
 * counting task's offsets (§4.1).
 *
 * @module
 */

import type { Rng } from "../geometry/rng.ts";
import { pyRound, roundHalfEven } from "./rounding.ts";

/** Bounds of {@link numericOptions}. */
export interface DistractorBounds {
  /** Minimum relative spacing between any two values (default 0.20). */
  margin?: number;
  /** Distractors are drawn from `[g * lower, g * upper]` (defaults 0.25 and 1.75). */
  lower?: number;
  upper?: number;
  /** Decimals of the distractors; 0 makes them integers (default 1). */
  decimals?: number;
}

/** Bounds of the object-size task: integer centimetres (data-reference §3.3 table). */
export const SIZE_BOUNDS: DistractorBounds = { lower: 0.4, upper: 1.8, decimals: 0 };

/**
 * Three distractors for the ground truth `g`, then `g`: spread so that no two of the four
 * values are closer than `EPS = ceil(g * margin * 10^d) / 10^d`, redrawing the offending ones
 * for up to 31 passes. Undefined when that fails (the reference's `"E"`: the question is
 * dropped), and for `g <= 0`.
 *
 * @example
 * ```ts
 * import { Rng } from "../geometry/rng.ts";
 * const opts = numericOptions(new Rng(3), 4.2)!;
 * if (opts.length !== 4 || opts[3] !== 4.2) throw new Error();
 * if (opts.some((a, i) => opts.some((b, j) => i !== j && Math.abs(a - b) < 0.9))) throw new Error();
 * ```
 */
export function numericOptions(
  rng: Rng,
  g: number,
  bounds: DistractorBounds = {},
): number[] | undefined {
  const { margin = 0.2, lower = 0.25, upper = 1.75, decimals = 1 } = bounds;
  // A ground truth of 0 cannot be scored (relative accuracy divides by it): no question.
  if (!(g > 0)) return undefined;
  const scale = 10 ** decimals;
  const eps = Math.ceil(g * margin * scale) / scale;
  const draw = () => {
    const x = rng.uniform(g * lower, g * upper);
    return decimals === 0 ? roundHalfEven(x) : pyRound(x, decimals);
  };
  const choices = [draw(), draw(), draw()];
  const closeAt = (i: number) =>
    choices.some((c, j) => j !== i && Math.abs(choices[i] - c) < eps) ||
    Math.abs(choices[i] - g) < eps;
  const tooClose = () => choices.some((_, i) => closeAt(i));
  for (let pass = 0; pass <= 30 && tooClose(); pass++) {
    for (let i = 0; i < 3; i++) if (closeAt(i)) choices[i] = draw();
  }
  if (tooClose()) return undefined;
  return [...choices, g];
}

/**
 * Options of the counting task: the count `g` and three distinct counts `max(1, g + offset)`,
 * offsets drawn from +-1..3, then from +-1..5 when those run out.
 *
 * @example
 * ```ts
 * import { Rng } from "../geometry/rng.ts";
 * const o = countOptions(new Rng(1), 2);
 * if (o.length !== 4 || new Set(o).size !== 4 || o[0] !== 2 || Math.min(...o) < 1) throw new Error();
 * ```
 */
export function countOptions(rng: Rng, g: number): number[] {
  const choices = [g];
  let offsets = [-3, -2, -1, 1, 2, 3];
  while (choices.length < 4) {
    if (offsets.length === 0) {
      offsets = [-5, -4, -3, -2, -1, 1, 2, 3, 4, 5].filter((o) =>
        !choices.some((c) => c - g === o)
      );
    }
    const at = Math.floor(rng.next() * offsets.length);
    const candidate = Math.max(1, g + offsets[at]);
    offsets.splice(at, 1);
    if (!choices.includes(candidate)) choices.push(candidate);
  }
  return choices;
}
