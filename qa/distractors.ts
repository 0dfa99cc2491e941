/**
 * Wrong answers for numerical questions: numeric distractors (data-reference §3.3) and the
 * counting task's offsets (§4.1).
 *
 * @module
 */

import type { Rng } from "../geometry/rng.ts";
import { pyRound, roundHalfEven } from "./rounding.ts";
import type { Compat } from "./types.ts";

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

/** DECISIONS 20: differences within this of EPS count as EPS apart (float noise, not spacing). */
export const SPACING_TOLERANCE = 1e-9;

/** Most times the range is widened when the reference's bounds cannot hold the options. */
const MAX_WIDENINGS = 10;

/**
 * Three distractors for the ground truth `g`, then `g`: spread so that no two of the four
 * values are closer than `EPS = ceil(g * margin * 10^d) / 10^d`, redrawing the offending ones
 * for up to 31 passes (data-reference §3.3). Undefined for `g <= 0` (it cannot be scored).
 *
 * `compat` `vlm3r` (DECISIONS 20): distances are compared with {@link SPACING_TOLERANCE}, so
 * `0.6 - 0.4` is 0.2 apart; and when 31 passes find nothing (the bounds of a small answer hold
 * too few values: 0.2 m leaves only 0.1 and 0.3), the upper bound is raised by EPS and the
 * draw repeated, so every answer gets its options. `reference`: the reference's `<` and its
 * `"E"` (undefined: the caller drops the question).
 *
 * @example
 * ```ts
 * import { Rng } from "../geometry/rng.ts";
 * const opts = numericOptions(new Rng(3), 4.2)!;
 * if (opts.length !== 4 || opts[3] !== 4.2) throw new Error();
 * if (opts.some((a, i) => opts.some((b, j) => i !== j && Math.abs(a - b) < 0.9 - 1e-9))) throw new Error();
 * // 0.6: options 0.2 apart; the reference's comparison finds none.
 * if (numericOptions(new Rng(1), 0.6)!.length !== 4) throw new Error();
 * if (numericOptions(new Rng(1), 0.6, {}, "reference") !== undefined) throw new Error();
 * ```
 */
export function numericOptions(
  rng: Rng,
  g: number,
  bounds: DistractorBounds = {},
  compat: Compat = "vlm3r",
): number[] | undefined {
  const { margin = 0.2, lower = 0.25, upper = 1.75, decimals = 1 } = bounds;
  // A ground truth of 0 cannot be scored (relative accuracy divides by it): no question.
  if (!(g > 0)) return undefined;
  const scale = 10 ** decimals;
  const eps = Math.ceil(g * margin * scale) / scale;
  const strict = compat === "reference";
  const near = (a: number, b: number) => Math.abs(a - b) < (strict ? eps : eps - SPACING_TOLERANCE);
  for (let widen = 0; widen <= (strict ? 0 : MAX_WIDENINGS); widen++) {
    const hi = g * upper + widen * eps;
    const draw = () => {
      const x = rng.uniform(g * lower, hi);
      return decimals === 0 ? roundHalfEven(x) : pyRound(x, decimals);
    };
    const choices = [draw(), draw(), draw()];
    const closeAt = (i: number) =>
      choices.some((c, j) => j !== i && near(choices[i], c)) || near(choices[i], g);
    const tooClose = () => choices.some((_, i) => closeAt(i));
    for (let pass = 0; pass <= 30 && tooClose(); pass++) {
      for (let i = 0; i < 3; i++) if (closeAt(i)) choices[i] = draw();
    }
    if (!tooClose()) return [...choices, g];
  }
  return undefined;
}

/**
 * How a family gets the options of its numerical questions, so that the run's settings decide
 * in one place ({@link optionSource}).
 */
export interface OptionSource {
  /**
   * Options for the ground truth `g` (the answer last); `null` when the records carry none
   * (keep the question); undefined when the question must be dropped (`g <= 0`, or the
   * reference's `"E"` under `--compat reference`).
   */
  numeric(g: number, bounds?: DistractorBounds): number[] | null | undefined;
  /** Options of a count (never fails); `null` when the records carry none. */
  count(g: number): number[] | null;
}

/**
 * The option source of one scene and task. Default (DECISIONS 20): without `naOptions` no
 * distractor is drawn at all, so nothing about a question depends on them; with it, they come
 * from `rng.child("distractors")`, leaving `rng` to the choice of questions. `compat:
 * "reference"` draws them from `rng` itself whatever `naOptions` says, and drops a question
 * whose draw fails, as the reference does.
 *
 * @example
 * ```ts
 * import { Rng } from "../geometry/rng.ts";
 * if (optionSource({}, new Rng(0)).numeric(0.2) !== null) throw new Error("no options: kept");
 * if (optionSource({}, new Rng(0)).numeric(0) !== undefined) throw new Error("0 m: dropped");
 * if (optionSource({ naOptions: true }, new Rng(0)).numeric(0.2)!.length !== 4) throw new Error();
 * if (optionSource({ compat: "reference" }, new Rng(0)).numeric(0.2) !== undefined) throw new Error();
 * ```
 */
export function optionSource(
  run: { naOptions?: boolean; compat?: Compat },
  rng: Rng,
): OptionSource {
  if (run.compat === "reference") {
    return {
      numeric: (g, bounds) => numericOptions(rng, g, bounds, "reference"),
      count: (g) => countOptions(rng, g),
    };
  }
  if (!run.naOptions) {
    return { numeric: (g) => (g > 0 ? null : undefined), count: () => null };
  }
  const own = rng.child("distractors");
  return {
    numeric: (g, bounds) => numericOptions(own, g, bounds),
    count: (g) => countOptions(own, g),
  };
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
