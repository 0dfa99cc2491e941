/**
 * The comparison every kernel test uses: normalised mean squared error.
 *
 * @module
 */

/**
 * `sum((a - e)^2) / sum(e^2)`, in float64; 0 for two all-zero arrays, Infinity on a length
 * mismatch or a non-finite value in `actual`.
 *
 * @example
 * ```ts
 * if (nmse(new Float32Array([1, 2]), new Float32Array([1, 2])) !== 0) throw new Error();
 * if (Math.abs(nmse([1.1, 2], [1, 2]) - 0.01 / 5) > 1e-12) throw new Error();
 * ```
 */
export function nmse(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let err = 0, ref = 0;
  for (let i = 0; i < actual.length; i++) {
    if (!Number.isFinite(actual[i])) return Infinity;
    const d = actual[i] - expected[i];
    err += d * d;
    ref += expected[i] * expected[i];
  }
  return err === 0 ? 0 : err / ref;
}
