// Bulk element conversions and the LoRA merge of `vlm3r convert`, over raw memory laid out by
// the caller (mod.ts, convert_rows.ts): nothing here allocates, so one shared memory can serve
// several instances (worker threads), each on its own rows. Every function gives results
// bit-identical to the plain TypeScript it replaces (the tests compare them).

/** bf16 -> f32 (exact): `dst[i] = src[i] << 16`, `n` elements, `dst` apart from `src`. */
export function bf16ToF32(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(src + (<usize>i << 1));
    const at = dst + (<usize>i << 2);
    v128.store(at, i32x4.shl(i32x4.extend_low_i16x8_u(v), 16));
    v128.store(at, i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), 16);
  }
  for (; i < n; i++) {
    store<u32>(dst + (<usize>i << 2), (<u32>load<u16>(src + (<usize>i << 1))) << 16);
  }
}

// f32 bits of 2^-14 (the smallest normal f16), 65536 (the first f32 beyond f16's range after
// rounding starts there), infinity, and 0.5 (the magic addend that rounds subnormals).
const MIN_NORMAL: u32 = 0x38800000;
const OVERFLOW: u32 = 0x47800000;
const INF: u32 = 0x7f800000;
const HALF: u32 = 0x3f000000;

/**
 * Four f32 (bits) -> four f16 (in the low 16 bits of each lane), rounded to nearest even:
 * normals by adding the rounding bias below bit 13 (a carry moves into the exponent, and past
 * 65504 into infinity), subnormals by adding 0.5 in f32 so the hardware rounds to the 2^-24
 * grid, NaN -> quiet NaN with its sign (as kernels/device.ts's toF16Bytes).
 */
@inline
function f16x4(x: v128): v128 {
  const sign = v128.and(i32x4.shr_u(x, 16), i32x4.splat(0x8000));
  const a = v128.and(x, i32x4.splat(0x7fffffff));
  const odd = v128.and(i32x4.shr_u(a, 13), i32x4.splat(1));
  const normal = i32x4.shr_u(
    i32x4.add(i32x4.sub(a, i32x4.splat(0x38000000 - 0xfff)), odd),
    13,
  );
  const sub = i32x4.sub(f32x4.add(a, i32x4.splat(HALF)), i32x4.splat(HALF));
  const big = v128.bitselect(
    i32x4.splat(0x7e00),
    i32x4.splat(0x7c00),
    i32x4.gt_s(a, i32x4.splat(INF)),
  );
  let h = v128.bitselect(sub, normal, i32x4.lt_s(a, i32x4.splat(MIN_NORMAL)));
  h = v128.bitselect(big, h, i32x4.ge_s(a, i32x4.splat(OVERFLOW)));
  return v128.or(h, sign);
}

/** The scalar twin of {@link f16x4}, for the tail. */
@inline
function f16(x: u32): u32 {
  const sign = (x >> 16) & 0x8000;
  const a = x & 0x7fffffff;
  if (a >= OVERFLOW) return sign | (a > INF ? 0x7e00 : 0x7c00);
  if (a < MIN_NORMAL) {
    return sign | (reinterpret<u32>(reinterpret<f32>(a) + reinterpret<f32>(HALF)) - HALF);
  }
  return sign | ((a - (0x38000000 - 0xfff) + ((a >> 13) & 1)) >> 13);
}

/** f32 -> f16, rounded to nearest even; `dst` may equal `src` (it is written behind). */
export function f32ToF16(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const at = src + (<usize>i << 2);
    const lo = f16x4(v128.load(at)), hi = f16x4(v128.load(at, 16));
    v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_u(lo, hi));
  }
  for (; i < n; i++) {
    store<u16>(dst + (<usize>i << 1), <u16>f16(load<u32>(src + (<usize>i << 2))));
  }
}

/** bf16 -> f16 (the f16 rounding of the bf16 value); `dst` may equal `src`. */
export function bf16ToF16(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(src + (<usize>i << 1));
    const lo = f16x4(i32x4.shl(i32x4.extend_low_i16x8_u(v), 16));
    const hi = f16x4(i32x4.shl(i32x4.extend_high_i16x8_u(v), 16));
    v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_u(lo, hi));
  }
  for (; i < n; i++) {
    store<u16>(dst + (<usize>i << 1), <u16>f16((<u32>load<u16>(src + (<usize>i << 1))) << 16));
  }
}

/** f32 -> all four lanes of an f32x4, `n` elements: the LoRA `B` rows, ready to multiply. */
export function f32ToF32x4(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    v128.store(dst + (<usize>i << 4), f32x4.splat(load<f32>(src + (<usize>i << 2))));
  }
}

// Columns of A kept hot in the cache while every row block passes over them: r x 512 f32
// (256 KiB at r = 128).
const PANEL = 512;

/**
 * `w += scale * (b @ a)` in place: `w` [rows, inp] f32, `b4` [rows, r] f32x4 (each value in all
 * four lanes: {@link f32ToF32x4}), `a` [r, inp] f32. Each element's products are rounded to f32
 * and summed in f32 over k = 0..r-1 in order (no fused multiply-add), the sum scaled in f64 and
 * rounded to f32, then added in f32: exactly model/weights/release.ts's `loraMerge`, whatever
 * the blocking or the rows a thread takes.
 */
export function loraMerge(
  w: usize,
  b4: usize,
  a: usize,
  rows: i32,
  inp: i32,
  r: i32,
  scale: f64,
): void {
  for (let c0 = 0; c0 < inp; c0 += PANEL) {
    const c1 = min(c0 + PANEL, inp);
    let o = 0;
    for (; o + 4 <= rows; o += 4) {
      let c = c0;
      for (; c + 8 <= c1; c += 8) tile4x8(w, b4, a, o, c, inp, r, scale);
      for (; c < c1; c++) {
        for (let j = 0; j < 4; j++) one(w, b4, a, o + j, c, inp, r, scale);
      }
    }
    for (; o < rows; o++) {
      for (let c = c0; c < c1; c++) one(w, b4, a, o, c, inp, r, scale);
    }
  }
}

/** One element of {@link loraMerge}. */
@inline
function one(w: usize, b4: usize, a: usize, o: i32, c: i32, inp: i32, r: i32, scale: f64): void {
  let acc: f32 = 0;
  const bp = b4 + (<usize>(o * r) << 4);
  for (let k = 0; k < r; k++) {
    acc += load<f32>(bp + (<usize>k << 4)) * load<f32>(a + ((<usize>k * inp + c) << 2));
  }
  const at = w + ((<usize>o * inp + c) << 2);
  store<f32>(at, load<f32>(at) + <f32>(scale * <f64>acc));
}

/** Rows o..o+3, columns c..c+7 of {@link loraMerge}: 32 sums in eight registers. */
@inline
function tile4x8(
  w: usize,
  b4: usize,
  a: usize,
  o: i32,
  c: i32,
  inp: i32,
  r: i32,
  scale: f64,
): void {
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s10 = f32x4.splat(0), s11 = f32x4.splat(0);
  let s20 = f32x4.splat(0), s21 = f32x4.splat(0), s30 = f32x4.splat(0), s31 = f32x4.splat(0);
  const rowB = <usize>r << 4;
  let bp = b4 + (<usize>(o * r) << 4);
  let ap = a + (<usize>c << 2);
  const stepA = <usize>inp << 2;
  for (let k = 0; k < r; k++) {
    const a0 = v128.load(ap), a1 = v128.load(ap, 16);
    const b0 = v128.load(bp), b1 = v128.load(bp + rowB);
    const b2 = v128.load(bp + 2 * rowB), b3 = v128.load(bp + 3 * rowB);
    s00 = f32x4.add(s00, f32x4.mul(b0, a0));
    s01 = f32x4.add(s01, f32x4.mul(b0, a1));
    s10 = f32x4.add(s10, f32x4.mul(b1, a0));
    s11 = f32x4.add(s11, f32x4.mul(b1, a1));
    s20 = f32x4.add(s20, f32x4.mul(b2, a0));
    s21 = f32x4.add(s21, f32x4.mul(b2, a1));
    s30 = f32x4.add(s30, f32x4.mul(b3, a0));
    s31 = f32x4.add(s31, f32x4.mul(b3, a1));
    ap += stepA;
    bp += 16;
  }
  const sc = f64x2.splat(scale);
  const at = w + ((<usize>o * inp + c) << 2);
  const rowW = <usize>inp << 2;
  finish(at, s00, sc);
  finish(at + 16, s01, sc);
  finish(at + rowW, s10, sc);
  finish(at + rowW + 16, s11, sc);
  finish(at + 2 * rowW, s20, sc);
  finish(at + 2 * rowW + 16, s21, sc);
  finish(at + 3 * rowW, s30, sc);
  finish(at + 3 * rowW + 16, s31, sc);
}

/** `w[0..3] += f32(scale * sum)` (the product in f64) for four f32 sums. */
@inline
function finish(at: usize, s: v128, sc: v128): void {
  const l = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(s), sc));
  const h = f32x4.demote_f64x2_zero(
    f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(s, s, 2, 3, 0, 1)), sc),
  );
  v128.store(at, f32x4.add(v128.load(at), i32x4.shuffle(l, h, 0, 1, 4, 5)));
}
