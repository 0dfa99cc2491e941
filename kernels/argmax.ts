/**
 * Greedy choice on the GPU: the index of the largest logit (the first one on ties, as
 * `torch.argmax`) among the first `n`, after HF's repetition penalty on the ids already
 * generated (model-reference.md §1.7: a positive logit is divided by the penalty, a negative
 * one multiplied, once per distinct id). The generated ids live in a bitset on the GPU that
 * the kernel itself updates with its choice, so a decode loop reads back only the chosen id.
 *
 * Two dispatches: workgroups reduce blocks of 4,096 logits to (value, index) pairs, then one
 * workgroup reduces those and writes the id.
 *
 * @module
 */

import { type Batch, type GpuTensor, numel } from "./device.ts";
import { grid, need, u32s } from "./_wgsl.ts";

const THREADS = 256;
const BLOCK = 4096;

const BEST = /* wgsl */ `
var<workgroup> bv: array<f32, ${THREADS}>;
var<workgroup> bi: array<u32, ${THREADS}>;
fn better(v: f32, i: u32, w: f32, j: u32) -> bool { return v > w || (v == w && i < j); }
fn reduce(t: u32) {
  for (var s = ${THREADS / 2}u; s > 0u; s >>= 1u) {
    if (t < s && better(bv[t + s], bi[t + s], bv[t], bi[t])) {
      bv[t] = bv[t + s];
      bi[t] = bi[t + s];
    }
    workgroupBarrier();
  }
}`;

/** WGSL of the two argmax stages. *
 * @example
 * ```ts
 * if (!argmaxWgsl(2).includes("seen[bi[0] >> 5u]")) throw new Error();
 * ```
 */
export function argmaxWgsl(stage: 1 | 2): string {
  if (stage === 1) {
    return /* wgsl */ `
struct P { n: u32, pen: f32, use_pen: u32, gx: u32, at: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> seen: array<u32>;
@group(0) @binding(2) var<storage, read_write> part: array<u32>;
@group(0) @binding(3) var<uniform> p: P;
${BEST}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let g = wg.y * p.gx + wg.x;
  var v = -3.0e38;
  var vi = 0xffffffffu;
  let end = min(p.n, (g + 1u) * ${BLOCK}u);
  for (var i = g * ${BLOCK}u + t; i < end; i += ${THREADS}u) {
    var x = logits[p.at + i];
    if (p.use_pen == 1u && ((seen[i >> 5u] >> (i & 31u)) & 1u) == 1u) {
      x = select(x / p.pen, x * p.pen, x < 0.0);
    }
    if (better(x, i, v, vi)) { v = x; vi = i; }
  }
  bv[t] = v;
  bi[t] = vi;
  workgroupBarrier();
  reduce(t);
  if (t == 0u) {
    part[2u * g] = bitcast<u32>(bv[0]);
    part[2u * g + 1u] = bi[0];
  }
}`;
  }
  return /* wgsl */ `
struct P { groups: u32, mark: u32, slot: u32 }
@group(0) @binding(0) var<storage, read> part: array<u32>;
@group(0) @binding(1) var<storage, read_write> seen: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> p: P;
${BEST}
@compute @workgroup_size(${THREADS})
fn main(@builtin(local_invocation_index) t: u32) {
  var v = -3.0e38;
  var vi = 0xffffffffu;
  for (var g = t; g < p.groups; g += ${THREADS}u) {
    let w = bitcast<f32>(part[2u * g]);
    let j = part[2u * g + 1u];
    if (better(w, j, v, vi)) { v = w; vi = j; }
  }
  bv[t] = v;
  bi[t] = vi;
  workgroupBarrier();
  reduce(t);
  if (t == 0u) {
    out[p.slot] = bi[0];
    if (p.mark == 1u) { seen[bi[0] >> 5u] |= 1u << (bi[0] & 31u); }
  }
}`;
}

/** Options of {@link argmax}. */
export interface ArgmaxOptions {
  /** Consider only the first `n` logits (the tokenizer's vocabulary; default all). */
  n?: number;
  /** The row of a `[rows, V]` logits tensor (default 0). */
  row?: number;
  /** Repetition penalty (1 = none); the ids in `seen` are penalised. */
  penalty?: number;
  /**
   * Bitset of ids generated so far, `[ceil(V / 32)]` u32: read for the penalty, and the
   * chosen id is added to it.
   */
  seen?: GpuTensor;
  /** Write the id to element `slot` of this u32 tensor (default a new `[1]` tensor). */
  out?: GpuTensor;
  /** Element of `out` (default 0). */
  slot?: number;
}

/**
 * Records the greedy choice over logits `[..., V]` f32; returns the u32 tensor holding the id.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const seen = b.upload(new Uint32Array([0b100]), [1]); // id 2 was generated
 * const logits = b.upload(new Float32Array([1, 3, 3.1, -2]), [4]);
 * const id = await argmax(b, logits, { penalty: 1.05, seen });
 * const [got, bits] = await b.read([id, seen]);
 * if (got[0] !== 1 || bits[0] !== 0b110) throw new Error(`${got} ${bits}`);
 * gpu.destroy();
 * ```
 */
export async function argmax(
  batch: Batch,
  logits: GpuTensor,
  options: ArgmaxOptions = {},
): Promise<GpuTensor> {
  const kn = "argmax";
  need(logits.dtype === "f32", kn, `logits: expected f32, got ${logits.dtype}`);
  const v = logits.shape[logits.shape.length - 1];
  const n = options.n ?? v, row = options.row ?? 0;
  need(n > 0 && n <= v, kn, `n = ${n} outside 1..${v}`);
  need((row + 1) * v <= numel(logits), kn, `row ${row} outside [${logits.shape}]`);
  const penalty = options.penalty ?? 1;
  const seen = options.seen;
  need(penalty > 0, kn, `penalty ${penalty} is not positive`);
  if (seen) {
    need(
      seen.dtype === "u32" && numel(seen) * 32 >= n,
      kn,
      `seen: expected ${Math.ceil(n / 32)} u32`,
    );
  }
  need(penalty === 1 || !!seen, kn, "a penalty needs the seen bitset");
  const out = options.out ?? batch.alloc([1], "u32");
  const slot = options.slot ?? 0;
  need(out.dtype === "u32" && slot < numel(out), kn, `out: slot ${slot} outside [${out.shape}]`);
  const groups = Math.ceil(n / BLOCK);
  const [gx, gy] = grid(groups);
  const part = batch.alloc([2 * groups], "u32");
  const bits = seen ?? batch.alloc([1], "u32");
  const u1 = u32s(n, 0, +(penalty !== 1), gx, row * v);
  new Float32Array(u1, 4, 1)[0] = penalty;
  const s1 = await batch.gpu.pipeline(`${kn}_blocks`, argmaxWgsl(1));
  batch.dispatch(kn, s1, [logits.buffer, bits.buffer, part.buffer], u1, [gx, gy]);
  const s2 = await batch.gpu.pipeline(`${kn}_final`, argmaxWgsl(2));
  batch.dispatch(kn, s2, [part.buffer, bits.buffer, out.buffer], u32s(groups, +!!seen, slot), [1]);
  return out;
}

/**
 * Reference of {@link argmax}: penalised scores (as HF's `RepetitionPenaltyLogitsProcessor`,
 * in f32) and the first index of their maximum among the first `n`.
 *
 * @example
 * ```ts
 * if (argmaxRef([1, 3, 3.1, -2], { penalty: 1.05, generated: [2] }) !== 1) throw new Error();
 * ```
 */
export function argmaxRef(
  logits: ArrayLike<number>,
  options: { n?: number; penalty?: number; generated?: Iterable<number> } = {},
): number {
  const n = options.n ?? logits.length;
  const scores = penalizeRef(Float32Array.from({ length: n }, (_, i) => logits[i]), options);
  let best = 0;
  for (let i = 1; i < n; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/**
 * HF's repetition penalty on f32 scores: for each distinct id in `generated`, a negative score
 * times `penalty`, any other divided by it (in place; returns `scores`).
 *
 * @example
 * ```ts
 * const s = penalizeRef(new Float32Array([2, -2]), { penalty: 2, generated: [0, 1, 1] });
 * if (s.join() !== "1,-4") throw new Error();
 * ```
 */
export function penalizeRef(
  scores: Float32Array,
  options: { penalty?: number; generated?: Iterable<number> },
): Float32Array {
  const p = options.penalty ?? 1;
  if (p === 1) return scores;
  for (const id of new Set(options.generated ?? [])) {
    if (id < scores.length) scores[id] = scores[id] < 0 ? scores[id] * p : scores[id] / p;
  }
  return scores;
}
