/**
 * The benchmark metrics in IEEE double arithmetic, operation for operation as lmms-eval (numpy)
 * computes them, so scores agree to the last bit: the MRA threshold grid as `np.linspace` builds
 * it, and means as numpy's pairwise summation adds.
 *
 * @module
 */

/**
 * `np.linspace(start, stop, num)`: `i * step + start`, the last point set to `stop` exactly.
 *
 * @example
 * ```ts
 * const g = numpyLinspace(0, 1, 5);
 * if (g.join() !== "0,0.25,0.5,0.75,1") throw new Error(g.join());
 * ```
 */
export function numpyLinspace(start: number, stop: number, num: number): number[] {
  const div = num - 1;
  const step = (stop - start) / div;
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

// lmms-eval: METRICS_FOR_NA "MRA:.5:.95:.05" = mean_relative_accuracy(start=.5, end=.95,
// interval=.05), whose grid has int((end - start) / interval + 2) points: 10.999... -> 10.
const MRA_START = 0.5, MRA_END = 0.95, MRA_INTERVAL = 0.05;
const MRA_POINTS = Math.trunc((MRA_END - MRA_START) / MRA_INTERVAL + 2);

/** The 10 confidence thresholds θ of MRA, 0.50 .. 0.95, as numpy holds them. */
export const MRA_THRESHOLDS: readonly number[] = numpyLinspace(MRA_START, MRA_END, MRA_POINTS);

/** `1 - θ` per threshold: a relative error at or below it counts. */
const MRA_BOUNDS = MRA_THRESHOLDS.map((t) => 1 - t);

/**
 * Mean relative accuracy of one numerical answer: the share of thresholds θ with
 * `|pred - truth| / truth <= 1 - θ`. NaN or infinite answers score 0. `truth` must be non-zero
 * (lmms-eval would divide by zero; callers reject such questions first).
 *
 * @example
 * ```ts
 * if (meanRelativeAccuracy(2, 2) !== 1) throw new Error();
 * if (meanRelativeAccuracy(1.05, 1) !== 1) throw new Error("|e|/y = 0.05 counts at θ = 0.95");
 * if (meanRelativeAccuracy(4, 2) !== 0) throw new Error();
 * ```
 */
export function meanRelativeAccuracy(pred: number, truth: number): number {
  const rel = Math.abs(pred - truth) / truth;
  let hits = 0;
  for (const b of MRA_BOUNDS) if (rel <= b) hits++;
  return hits / MRA_BOUNDS.length;
}

// numpy's pairwise summation: below 8 items a plain loop, up to 128 eight interleaved partial
// sums, above that the two halves (split at a multiple of 8) summed recursively.
const PW_BLOCKSIZE = 128;

function pairwise(a: ArrayLike<number>, lo: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = lo; i < lo + n; i++) res += a[i];
    return res;
  }
  if (n <= PW_BLOCKSIZE) {
    const r = [a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let k = 0; k < 8; k++) r[k] += a[lo + i + k];
    }
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[lo + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, lo, n2) + pairwise(a, lo + n2, n - n2);
}

/**
 * Sum as `numpy.sum` computes it for a float64 array (pairwise summation).
 *
 * @example
 * ```ts
 * const xs = Array.from({ length: 1000 }, () => 0.1);
 * if (numpySum(xs) === xs.reduce((s, x) => s + x, 0)) throw new Error("pairwise differs here");
 * if (Math.abs(numpySum(xs) - 100) > 1e-12) throw new Error();
 * ```
 */
export function numpySum(values: ArrayLike<number>): number {
  // numpy starts from -0.0 for an empty or all-negative-zero reduction; callers never need it.
  return values.length === 0 ? 0 : pairwise(values, 0, values.length);
}

/**
 * Mean as pandas' `Series.mean()` computes it: numpy's pairwise sum over the count; NaN for
 * an empty series.
 *
 * @example
 * ```ts
 * if (pandasMean([1, 0, 1, 1]) !== 0.75 || !Number.isNaN(pandasMean([]))) throw new Error();
 * ```
 */
export function pandasMean(values: ArrayLike<number>): number {
  return values.length === 0 ? NaN : numpySum(values) / values.length;
}

/**
 * Python's built-in `sum(xs) / len(xs)` (a left-to-right sum, as in CPython up to 3.11), used
 * by lmms-eval for the relative-direction merge and the overall score.
 *
 * @example
 * ```ts
 * if (pythonMean([0.5, 0.25]) !== 0.375) throw new Error();
 * ```
 */
export function pythonMean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
