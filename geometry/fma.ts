/**
 * A correctly rounded fused multiply-add for JavaScript, which has none. numpy's BLAS rotates
 * points with hardware fma, and VSI-Bench's distances were made that way (DECISIONS 13), so
 * reproducing them bit for bit needs `fma(a, b, c) = RN(a * b + c)` with a single rounding.
 *
 * Method: the exact product as a sum of two doubles (Dekker), then the correctly rounded sum of
 * three doubles by rounding to odd (Boldo and Melquiond, "Emulation of FMA and correctly
 * rounded sums: proved algorithms using rounding to odd", IEEE TC 2008). Valid while no
 * intermediate overflows or falls into the subnormal range (every input and the product zero
 * or between 1e-270 and 1e290 in magnitude), which holds for coordinates in metres; outside
 * that range it falls back to exact BigInt arithmetic.
 *
 * @module
 */

/** 2^27 + 1: splits a double into two 26-bit halves (Veltkamp). */
const SPLITTER = 134217729;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** Index of the low 32-bit word of a double on this machine (little endian: 0). */
const LO = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/**
 * `[s, e]` with `s = RN(a + b)` and `s + e = a + b` exactly (Knuth's TwoSum).
 *
 * @example
 * ```ts
 * const [s, e] = twoSum(1, 2 ** -60);
 * if (s !== 1 || e !== 2 ** -60) throw new Error();
 * ```
 */
export function twoSum(a: number, b: number): [number, number] {
  const s = a + b;
  const bb = s - a;
  return [s, (a - (s - bb)) + (b - bb)];
}

/**
 * `[p, e]` with `p = RN(a * b)` and `p + e = a * b` exactly (Dekker's product), barring
 * overflow and underflow.
 *
 * @example
 * ```ts
 * const a = 1 + 2 ** -30;
 * const [p, e] = twoProduct(a, a);
 * if (p !== 1 + 2 ** -29 || e !== 2 ** -60) throw new Error();
 * ```
 */
export function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b), bl = b - bh;
  return [p, ((ah * bh - p) + ah * bl + al * bh) + al * bl];
}

/**
 * `s` (= RN(x + y), with exact error `e` != 0) moved to the neighbour with an odd last bit
 * when it is even: rounding to odd of the exact sum.
 */
function toOdd(s: number, e: number): number {
  f64[0] = s;
  if ((u32[LO] & 1) === 1) return s;
  // s is even and the exact sum lies strictly between s and its neighbour toward e, which is
  // odd: step one unit in the last place toward e.
  if ((e > 0) === (s > 0)) {
    if (++u32[LO] === 0) u32[1 - LO]++;
  } else {
    if (u32[LO]-- === 0) u32[1 - LO]--;
  }
  return f64[0];
}

/**
 * The correctly rounded `a * b + c` (round to nearest, ties to even), as hardware fma gives.
 *
 * @example
 * ```ts
 * // 0.1 * 10 - 1 is 0 in plain arithmetic, but the exact product is 1 + 2^-54.
 * if (fma(0.1, 10, -1) !== 2 ** -54) throw new Error();
 * if (fma(2, 3, 4) !== 10) throw new Error();
 * ```
 */
export function fma(a: number, b: number, c: number): number {
  const ph = a * b;
  if (!inSafeRange(a) || !inSafeRange(b) || !inSafeRange(c) || !inSafeRange(ph)) {
    return fmaExact(a, b, c);
  }
  // Dekker's exact product ph + pl = a * b (Veltkamp splitting), written out to avoid
  // allocating in this hot path; then the correctly rounded ph + pl + c: (th, tl) + ul is
  // exact, and one rounding to odd of the tail makes the final rounding to nearest exact
  // (Boldo-Melquiond's algorithm for a + b + c).
  let t = SPLITTER * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b), bl = b - bh;
  const pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl;
  const uh = c + pl;
  let v = uh - c;
  const ul = (c - (uh - v)) + (pl - v);
  const th = ph + uh;
  v = th - ph;
  const tl = (ph - (th - v)) + (uh - v);
  const s = tl + ul;
  v = s - tl;
  const e = (tl - (s - v)) + (ul - v);
  return th + (e === 0 ? s : toOdd(s, e));
}

/**
 * Zero, or a magnitude where Dekker's splitting and the error terms stay normal: the product's
 * error can be 2^-106 of it, and that must stay above the subnormal range (2^-1022).
 */
function inSafeRange(x: number): boolean {
  const m = x < 0 ? -x : x;
  return (m > 1e-270 && m < 1e290) || m === 0;
}

/** Exact sign, mantissa and exponent: x = m * 2^e with m a BigInt. */
function decompose(x: number): [bigint, number] {
  if (x === 0) return [0n, 0];
  f64[0] = x;
  const hi = u32[1 - LO], lo = u32[LO];
  const exp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0) e = -1074;
  else {
    m |= 1n << 52n;
    e = exp - 1075;
  }
  return [x < 0 ? -m : m, e];
}

/**
 * `a * b + c` computed exactly with BigInts and rounded once: slow, used as a fallback for
 * extreme magnitudes and as the reference in tests.
 *
 * @example
 * ```ts
 * if (fmaExact(0.1, 10, -1) !== 2 ** -54) throw new Error();
 * ```
 */
export function fmaExact(a: number, b: number, c: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) return a * b + c;
  const [ma, ea] = decompose(a), [mb, eb] = decompose(b), [mc, ec] = decompose(c);
  const mp = ma * mb, ep = ea + eb;
  const e = Math.min(ep, ec);
  const sum = (mp << BigInt(ep - e)) + (mc << BigInt(ec - e));
  if (sum === 0n) return mp === 0n ? (a * b) + c : 0; // signed zeros as hardware gives
  return scaleRounded(sum, e);
}

/** RN(m * 2^e) for a BigInt m, handling the subnormal range and overflow. */
function scaleRounded(m: bigint, e: number): number {
  const neg = m < 0n;
  let mag = neg ? -m : m;
  const bits = mag.toString(2).length;
  // Keep 53 significant bits, or fewer when the result is subnormal (exponent floor -1074).
  let keep = 53;
  const topExp = e + bits - 1;
  if (topExp < -1022) keep = Math.max(0, 53 - (-1022 - topExp));
  let shift = bits - keep;
  if (e + shift < -1074) shift = -1074 - e;
  if (shift > 0) {
    const s = BigInt(shift);
    const q = mag >> s, rem = mag - (q << s), half = 1n << (s - 1n);
    mag = rem > half || (rem === half && (q & 1n) === 1n) ? q + 1n : q;
    e += shift;
  }
  let r = Number(mag);
  // Multiply by 2^e in two steps so that neither factor over- or underflows prematurely.
  const e1 = Math.trunc(e / 2), e2 = e - e1;
  r = r * 2 ** e1 * 2 ** e2;
  return neg ? -r : r;
}
