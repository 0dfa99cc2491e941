/**
 * The three roundings the reference generators use, reproduced exactly because answers are
 * compared as numbers:
 *
 * - {@link roundHalfEven}: Python's `round(x)` (to an integer, ties to even);
 * - {@link pyRound}: Python's `round(x, n)` on a float (the exact decimal value, rounded);
 * - {@link npRound}: numpy's `round(x, n)`, which Python's `round` calls on numpy floats
 *   (`rint(x * 10^n) / 10^n`): distances computed with numpy round this way.
 *
 * @module
 */

/**
 * Python's `round(x)`: nearest integer, ties to even.
 *
 * @example
 * ```ts
 * if (roundHalfEven(2.5) !== 2 || roundHalfEven(3.5) !== 4 || roundHalfEven(-0.6) !== -1) {
 *   throw new Error();
 * }
 * ```
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f; // exact for |x| < 2^52
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Python's `round(x, digits)` for a float and `digits >= 1`: the exact binary value rounded to
 * `digits` decimals. (No float lies exactly halfway between two such decimals, so JavaScript's
 * `toFixed`, which rounds the exact value, gives the same digits.)
 *
 * @example
 * ```ts
 * // 0.15 is 0.1499999999999999944... as a double: Python rounds it down.
 * if (pyRound(0.15, 1) !== 0.1 || pyRound(28.734, 1) !== 28.7) throw new Error();
 * ```
 */
export function pyRound(x: number, digits: number): number {
  if (digits === 0) return roundHalfEven(x);
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x;
  return Number(x.toFixed(digits));
}

/**
 * numpy's `round(x, digits)`: `rint(x * 10^digits) / 10^digits` with ties to even, two
 * roundings that can differ from {@link pyRound}.
 *
 * @example
 * ```ts
 * // 0.15 * 10 rounds to 1.5 exactly, and rint(1.5) = 2.
 * if (npRound(0.15, 1) !== 0.2 || npRound(0.25, 1) !== 0.2) throw new Error();
 * ```
 */
export function npRound(x: number, digits: number): number {
  const f = 10 ** digits;
  return roundHalfEven(x * f) / f;
}
