/**
 * The exact (erf) GELU of `nn.GELU()`: a float64 reference and the WGSL function the linear
 * kernel's epilogue uses.
 *
 * @module
 */

/**
 * The error function in float64: Maclaurin series below 3, continued fraction of erfc above
 * (both accurate to about 1e-14, far below float32 rounding).
 *
 * @example
 * ```ts
 * if (Math.abs(erf(1) - 0.8427007929497149) > 1e-14) throw new Error();
 * if (erf(-1) !== -erf(1) || erf(0) !== 0) throw new Error();
 * ```
 */
export function erf(x: number): number {
  if (x < 0) return -erf(-x);
  if (x < 3) {
    // sum_n (-1)^n x^(2n+1) / (n! (2n+1)) * 2/sqrt(pi)
    let term = x, sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= -x * x / n;
      sum += term / (2 * n + 1);
    }
    return sum * 2 / Math.sqrt(Math.PI);
  }
  return 1 - erfcLarge(x);
}

// erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated backwards.
function erfcLarge(x: number): number {
  let k = x;
  for (let n = 60; n >= 1; n--) k = x + n / 2 / k;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / k;
}

/**
 * `x * (1 + erf(x / sqrt 2)) / 2` in float64 (erfc for negative x, so the tail keeps its
 * relative precision).
 *
 * @example
 * ```ts
 * if (Math.abs(gelu(1) - 0.8413447460685429) > 1e-14) throw new Error();
 * ```
 */
export function gelu(x: number): number {
  const z = x / Math.SQRT2;
  if (z > -3) return 0.5 * x * (1 + erf(z));
  return 0.5 * x * erfcLarge(-z);
}

/**
 * WGSL `gelu(x: f32) -> f32`. erfc from Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7),
 * used as erfc for negative arguments so the negative tail keeps its relative precision.
 */
export const GELU_WGSL = /* wgsl */ `
fn erfc_pos(z: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26, z >= 0.
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return poly * exp(-z * z);
}
fn gelu(x: f32) -> f32 {
  let z = x * 0.70710678118654752;
  let c = erfc_pos(abs(z));
  return 0.5 * x * select(2.0 - c, c, z < 0.0);
}`;
