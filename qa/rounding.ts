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
 * `digits` decimals, ties (values like 0.25, exact in binary) to even.
 *
 * @example
 * ```ts
 * // 0.15 is 0.1499999999999999944... as a double: Python rounds it down.
 * if (pyRound(0.15, 1) !== 0.1 || pyRound(28.734, 1) !== 28.7) throw new Error();
 * if (pyRound(0.25, 1) !== 0.2 || pyRound(28.75, 1) !== 28.8) throw new Error("ties to even");
 * ```
 */
export function pyRound(x: number, digits: number): number {
  if (digits === 0) return roundHalfEven(x);
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x;
  const m = Math.abs(x);
  // toFixed rounds the exact binary value; only an exact tie needs care (it rounds those up).
  // Forty more digits show whether the value is exactly halfway: a double next to a tie
  // differs from it well within them.
  const fine = m.toFixed(Math.min(100, digits + 40));
  const cut = fine.indexOf(".") + 1 + digits;
  let r: number;
  if (/^50*$/.test(fine.slice(cut))) {
    const kept = fine.slice(0, cut);
    r = Number(kept[kept.length - 1]) % 2 === 0 ? Number(kept) : Number(m.toFixed(digits));
  } else r = Number(m.toFixed(digits));
  return x < 0 ? -r : r;
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
