/**
 * Causal grouped-query attention over a KV cache, flash style, for prefill and decode alike.
 *
 * q `[T, H*D]` (f32, already rotated) holds T new tokens whose keys and values are already in
 * the cache at rows `past .. past + T - 1`; token i attends keys `0 .. past + i` (causal by
 * sequence index, whatever the position ids). The cache is `[rows, KV*D]` (f32 or f16); query
 * head h reads KV head `floor(h / (H / KV))` directly, without copies.
 *
 * A workgroup takes 16 (token, query-head) rows of one KV group, so the 7 query heads of a
 * Qwen2 group share each key and value tile it loads into workgroup memory; per tile of 32 keys
 * it computes the 16 x 32 scores, updates each row's running maximum and sum (online softmax)
 * and adds the weighted values to output accumulators held in registers. No score matrix is
 * stored. Decode (one token, a long cache) also splits the key range over workgroups and
 * merges their partial results in a second pass (flash-decoding).
 *
 * @module
 */

import { type Batch, type DType, type GpuTensor, numel } from "./device.ts";
import { enables, grid, need, u32s } from "./_wgsl.ts";

/** Rows (token x query head) per workgroup. */
const BR = 16;
/** Keys per tile. */
const BK = 32;
const THREADS = 64;
/** Keys per split of a decode step's cache, at least (see {@link causalAttention}). */
const SPLIT_KEYS = 256;

/**
 * WGSL of the attention kernel for head dimension `d` and cache type `kv`.
 *
 * @example
 * ```ts
 * if (!causalAttentionWgsl(128, "f16").includes("a15_1")) throw new Error();
 * ```
 */
export function causalAttentionWgsl(d: number, kv: DType): string {
  const cd = Math.ceil(d / THREADS);
  const rs = Array.from({ length: BR }, (_, r) => r);
  const cs = Array.from({ length: cd }, (_, c) => c);
  const each = (f: (r: number, c: number) => string) =>
    cs.flatMap((c) => rs.map((r) => f(r, c))).join("\n");
  return /* wgsl */ `${enables(kv)}
struct P { t: u32, past: u32, heads: u32, kvh: u32, group: u32, scale: f32, klen: u32, nsplit: u32 }
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<${kv}>;
@group(0) @binding(2) var<storage, read> v: array<${kv}>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;
@group(0) @binding(4) var<storage, read_write> part: array<f32>;
@group(0) @binding(5) var<uniform> p: P;
var<workgroup> qs: array<f32, ${BR * d}>;
var<workgroup> kvs: array<f32, ${BK * d}>;
var<workgroup> sc: array<f32, ${BR * BK}>;
var<workgroup> corr: array<f32, ${BR}>;
var<workgroup> ml: array<vec2f, ${BR}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let kh = wg.y;
  let split = wg.z;
  let rows = p.t * p.group;
  let r0 = wg.x * ${BR}u;
  let kw = p.kvh * ${d}u;
  let qw = p.heads * ${d}u;
  for (var e = t; e < ${BR * d}u; e += ${THREADS}u) {
    let gr = r0 + e / ${d}u;
    var x = 0.0;
    if (gr < rows) {
      let h = kh * p.group + gr % p.group;
      x = q[(gr / p.group) * qw + h * ${d}u + e % ${d}u] * p.scale;
    }
    qs[e] = x;
  }
  // Keys this workgroup may need: up to its last token's causal limit, within its split.
  let last = (min(rows, r0 + ${BR}u) - 1u) / p.group;
  let kbeg = split * p.klen;
  let kend = min(p.past + last + 1u, kbeg + p.klen);
  var m = -3.0e38;
  var l = 0.0;
${cs.map((c) => `  let c${c} = min(t + ${c * THREADS}u, ${d - 1}u);`).join("\n")}
${each((r, c) => `  var a${r}_${c} = 0.0;`)}
  for (var k0 = kbeg; k0 < kend; k0 += ${BK}u) {
    workgroupBarrier();
    for (var e = t; e < ${BK * d}u; e += ${THREADS}u) {
      let key = k0 + e / ${d}u;
      var x = 0.0;
      if (key < kend) { x = f32(k[key * kw + kh * ${d}u + e % ${d}u]); }
      kvs[e] = x;
    }
    workgroupBarrier();
    for (var e = t; e < ${BR * BK}u; e += ${THREADS}u) {
      let r = e / ${BK}u;
      let j = e % ${BK}u;
      let key = k0 + j;
      var s = -3.0e38;
      if (r0 + r < rows && key < kend && key <= p.past + (r0 + r) / p.group) {
        var dot = 0.0;
        for (var c = 0u; c < ${d}u; c++) { dot = fma(qs[r * ${d}u + c], kvs[j * ${d}u + c], dot); }
        s = dot;
      }
      sc[e] = s;
    }
    workgroupBarrier();
    for (var e = t; e < ${BK * d}u; e += ${THREADS}u) {
      let key = k0 + e / ${d}u;
      var x = 0.0;
      if (key < kend) { x = f32(v[key * kw + kh * ${d}u + e % ${d}u]); }
      kvs[e] = x;
    }
    if (t < ${BR}u) {
      var mx = m;
      for (var j = 0u; j < ${BK}u; j++) { mx = max(mx, sc[t * ${BK}u + j]); }
      var sum = 0.0;
      for (var j = 0u; j < ${BK}u; j++) {
        let s = sc[t * ${BK}u + j];
        let pj = select(0.0, exp(s - mx), s > -1.0e38);
        sc[t * ${BK}u + j] = pj;
        sum += pj;
      }
      let cr = exp(m - mx);
      l = l * cr + sum;
      m = mx;
      corr[t] = cr;
    }
    workgroupBarrier();
${each((r, c) => `    a${r}_${c} *= corr[${r}u];`)}
    for (var j = 0u; j < ${BK}u; j++) {
${cs.map((c) => `      let v${c} = kvs[j * ${d}u + c${c}];`).join("\n")}
${each((r, c) => `      a${r}_${c} = fma(sc[${r * BK}u + j], v${c}, a${r}_${c});`)}
    }
  }
  if (t < ${BR}u) { ml[t] = vec2f(m, l); }
  workgroupBarrier();
${
    each((r, c) =>
      `  if (t + ${
        c * THREADS
      }u < ${d}u && r0 + ${r}u < rows) { put(r0 + ${r}u, c${c}, a${r}_${c}, ml[${r}u], kh, split); }`
    )
  }
}

fn put(gr: u32, c: u32, a: f32, mlr: vec2f, kh: u32, split: u32) {
  if (p.nsplit == 1u) {
    let h = kh * p.group + gr % p.group;
    o[(gr / p.group) * p.heads * ${d}u + h * ${d}u + c] = a / mlr.y;
    return;
  }
  let base = ((split * p.kvh + kh) * p.t * p.group + gr) * ${d + 2}u;
  part[base + c] = a;
  if (c == 0u) {
    part[base + ${d}u] = mlr.x;
    part[base + ${d + 1}u] = mlr.y;
  }
}`;
}

/** WGSL of the pass that merges the partial results of the key splits. */
export function attentionMergeWgsl(d: number): string {
  return /* wgsl */ `
struct P { t: u32, heads: u32, kvh: u32, group: u32, nsplit: u32, total: u32, gx: u32 }
@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let e = (wg.y * p.gx + wg.x) * ${THREADS}u + t;
  if (e >= p.total) { return; }
  let c = e % ${d}u;
  let rows = p.t * p.group;
  let gr = (e / ${d}u) % rows;
  let kh = e / (${d}u * rows);
  var mx = -3.0e38;
  for (var s = 0u; s < p.nsplit; s++) {
    mx = max(mx, part[((s * p.kvh + kh) * rows + gr) * ${d + 2}u + ${d}u]);
  }
  var l = 0.0;
  var a = 0.0;
  for (var s = 0u; s < p.nsplit; s++) {
    let base = ((s * p.kvh + kh) * rows + gr) * ${d + 2}u;
    let w = exp(part[base + ${d}u] - mx);
    l += part[base + ${d + 1}u] * w;
    a += part[base + c] * w;
  }
  let h = kh * p.group + gr % p.group;
  o[(gr / p.group) * p.heads * ${d}u + h * ${d}u + c] = a / l;
}`;
}

/** Shape of a {@link causalAttention} call. */
export interface CausalAttentionOptions {
  /** Query heads H (q's last axis is H * D). */
  heads: number;
  /** KV heads (the cache's last axis is KV * D); H is a multiple of it. */
  kvHeads: number;
  /** Keys already in the cache before these T tokens. */
  past: number;
  /** Key splits (default: 1 for prefill; decode splits caches over 256 keys, up to 32 ways). */
  splits?: number;
  /** Write the result here instead of a new tensor (`[T, H*D]` f32). */
  out?: GpuTensor;
}

/**
 * Records causal attention of q `[T, H*D]` f32 over the cache rows `0 .. past + T - 1` of
 * `k` and `v` (`[rows, KV*D]`, f32 or f16). Returns `[T, H*D]` f32.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * // Two tokens, one head of width 2: token 0 sees only key 0, token 1 sees both.
 * const q = b.upload(new Float32Array([1, 0, 1, 0]), [2, 2]);
 * const k = b.upload(new Float32Array([1, 0, 0, 1]), [2, 2]);
 * const v = b.upload(new Float32Array([1, 2, 3, 4]), [2, 2]);
 * const [o] = await b.read([await causalAttention(b, q, k, v, { heads: 1, kvHeads: 1, past: 0 })]);
 * const w = 1 / (1 + Math.exp(-Math.SQRT1_2));
 * if (o[0] !== 1 || Math.abs(o[2] - (w + 3 * (1 - w))) > 1e-5) throw new Error(`${o}`);
 * gpu.destroy();
 * ```
 */
export async function causalAttention(
  batch: Batch,
  q: GpuTensor,
  k: GpuTensor,
  v: GpuTensor,
  options: CausalAttentionOptions,
): Promise<GpuTensor> {
  const kn = "causal_attention";
  const { heads, kvHeads, past } = options;
  need(q.dtype === "f32", kn, `q: expected f32, got ${q.dtype}`);
  need(heads % kvHeads === 0, kn, `${heads} query heads are not a multiple of ${kvHeads}`);
  const qw = q.shape[q.shape.length - 1], d = qw / heads;
  need(Number.isInteger(d), kn, `q: last axis ${qw} is not ${heads} heads`);
  const t = numel(q) / qw, kw = kvHeads * d;
  need(
    k.dtype === v.dtype && k.dtype !== "u32",
    kn,
    `k, v: one float type, got ${k.dtype}/${v.dtype}`,
  );
  need(
    k.shape[k.shape.length - 1] === kw && numel(k) === numel(v) && numel(k) >= (past + t) * kw,
    kn,
    `cache: expected [>= ${past + t}, ${kw}], got [${k.shape}] and [${v.shape}]`,
  );
  const wgBytes = ((BR + BK) * d + BR * BK + 3 * BR) * 4;
  need(
    wgBytes <= batch.gpu.limits.maxComputeWorkgroupStorageSize,
    kn,
    `head dimension ${d} needs ${wgBytes} bytes of workgroup memory`,
  );
  const group = heads / kvHeads, rows = t * group, nk = past + t;
  const splits = options.splits ??
    (rows <= BR ? Math.min(32, Math.max(1, Math.floor(nk / SPLIT_KEYS))) : 1);
  const klen = Math.ceil(Math.ceil(nk / splits) / BK) * BK;
  const nsplit = Math.ceil(nk / klen);
  const o = options.out ?? batch.alloc([t, qw]);
  need(o.dtype === "f32" && numel(o) === t * qw, kn, `out: expected ${t} x ${qw} f32`);
  const part = nsplit > 1 ? batch.alloc([nsplit * kvHeads * rows * (d + 2)]) : batch.alloc([1]);
  const u = u32s(t, past, heads, kvHeads, group, 0, klen, nsplit);
  new Float32Array(u, 20, 1)[0] = 1 / Math.sqrt(d);
  const pipeline = await batch.gpu.pipeline(
    `${kn}_d${d}_${k.dtype}`,
    causalAttentionWgsl(d, k.dtype),
  );
  batch.dispatch(kn, pipeline, [q.buffer, k.buffer, v.buffer, o.buffer, part.buffer], u, [
    Math.ceil(rows / BR),
    kvHeads,
    nsplit,
  ]);
  if (nsplit > 1) {
    const total = kvHeads * rows * d;
    const [gx, gy] = grid(Math.ceil(total / THREADS));
    const merge = await batch.gpu.pipeline(`${kn}_merge_d${d}`, attentionMergeWgsl(d));
    batch.dispatch(
      `${kn}_merge`,
      merge,
      [part.buffer, o.buffer],
      u32s(t, heads, kvHeads, group, nsplit, total, gx),
      [gx, gy],
    );
  }
  return o;
}

/**
 * Float64 reference of {@link causalAttention}: explicit scores over keys `0 .. past + i`,
 * max-subtracted softmax; `k` and `v` hold at least `past + T` rows of `kvHeads * d`.
 *
 * @example
 * ```ts
 * const o = causalAttentionRef([1, 0], [1, 0, 0, 1], [1, 2, 3, 4], { heads: 1, kvHeads: 1, past: 1 });
 * const w = 1 / (1 + Math.exp(-Math.SQRT1_2));
 * if (Math.abs(o[0] - (w + 3 * (1 - w))) > 1e-12) throw new Error();
 * ```
 */
export function causalAttentionRef(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  s: { heads: number; kvHeads: number; past: number; d?: number },
): Float64Array {
  const d = s.d ?? inferD(q, k, s);
  const qw = s.heads * d, kw = s.kvHeads * d, t = q.length / qw, group = s.heads / s.kvHeads;
  const scale = 1 / Math.sqrt(d);
  const o = new Float64Array(q.length);
  const sc = new Float64Array(s.past + t);
  for (let i = 0; i < t; i++) {
    const n = s.past + i + 1;
    for (let h = 0; h < s.heads; h++) {
      const qo = i * qw + h * d, ko = Math.floor(h / group) * d;
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += q[qo + c] * k[j * kw + ko + c];
        sc[j] = dot * scale;
        if (sc[j] > max) max = sc[j];
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += sc[j] = Math.exp(sc[j] - max);
      for (let j = 0; j < n; j++) {
        const w = sc[j] / sum;
        for (let c = 0; c < d; c++) o[qo + c] += w * v[j * kw + ko + c];
      }
    }
  }
  return o;
}

// Without an explicit d: the cache holds exactly past + T rows, so d follows from the sizes.
function inferD(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  s: { heads: number; kvHeads: number; past: number },
): number {
  // q = T * H * d, k = (past + T) * KV * d  =>  solve for d over divisors.
  for (let d = 1; d <= q.length; d++) {
    const t = q.length / (s.heads * d);
    if (Number.isInteger(t) && (s.past + t) * s.kvHeads * d === k.length) return d;
  }
  throw new RangeError("causalAttentionRef: cannot infer the head dimension; pass d");
}
