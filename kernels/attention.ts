/**
 * Multi-head attention `softmax(q k^T / sqrt(D)) v`, flash style: keys and values stream
 * through workgroup memory in tiles, each invocation keeps one query's running max, sum and
 * output in registers (online softmax), and no score matrix is ever stored. No mask.
 *
 * Layout as `nn.MultiheadAttention` with batch_first: q `[B, Nq, H*D]`, k and v
 * `[B, Nk, H*D]`, output `[B, Nq, H*D]`, head h in columns `h*D .. h*D+D-1`. Nq and Nk may
 * differ (cross-attention). The head dimension is compiled in (fully unrolled dot products),
 * any D: VLM-3R uses 72 (SigLIP), 64 (CUT3R, fusion), 48 (CUT3R's state branch) and 128 (its
 * pose memory).
 *
 * @module
 */

import type { Batch, DType, GpuTensor } from "./device.ts";
import { checkTensor, enables, grid, need, u32s } from "./_wgsl.ts";

/** Invocations per workgroup. */
const THREADS = 64;
/** Keys per tile in workgroup memory (fewer for wide heads, see {@link keysPerTile}). */
const KT = 32;

/**
 * Keys per workgroup-memory tile for head dimension `d`: 32, or as many as fit the keys and
 * values of one tile in `storageBytes` of workgroup memory (16 at d = 128 on a device with the
 * WebGPU minimum of 16 KiB, which is also what an unknown limit counts as).
 *
 * @example
 * ```ts
 * if (keysPerTile(64, 16384) !== 32 || keysPerTile(128, 16384) !== 16) throw new Error();
 * if (keysPerTile(128, undefined) !== 16) throw new Error();
 * ```
 */
export function keysPerTile(d: number, storageBytes: number | undefined): number {
  const bytes = storageBytes && storageBytes > 0 ? storageBytes : 16384;
  return Math.max(1, Math.min(KT, Math.floor(bytes / (8 * d))));
}

/**
 * WGSL source of the attention kernel for head dimension `d` (any), each invocation holding
 * `qpi` queries (1 on GPUs; more on CPU adapters, where one key or value load then feeds `qpi`
 * FMAs), `kt` keys per tile.
 *
 * @example
 * ```ts
 * if (!attentionWgsl(64, "f32", 4).includes("a3_63")) throw new Error();
 * if (!attentionWgsl(72, "f32", 1, 16).includes("array<f32, 1152>")) throw new Error();
 * ```
 */
export function attentionWgsl(d: number, dtype: DType, qpi = 1, kt = KT): string {
  const ds = Array.from({ length: d }, (_, i) => i);
  const rs = Array.from({ length: qpi }, (_, r) => r);
  const each = (f: (r: number) => string) => rs.map(f).join("\n");
  const eachD = (f: (i: number) => string) => ds.map(f).join("\n");
  return /* wgsl */ `${enables(dtype)}
struct P { nq: u32, nk: u32, heads: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> q: array<${dtype}>;
@group(0) @binding(1) var<storage, read> k: array<${dtype}>;
@group(0) @binding(2) var<storage, read> v: array<${dtype}>;
@group(0) @binding(3) var<storage, read_write> o: array<${dtype}>;
@group(0) @binding(4) var<uniform> p: P;
var<workgroup> ks: array<f32, ${kt * d}>;
var<workgroup> vs: array<f32, ${kt * d}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let b = wg.z;
  let h = wg.y;
  let row = p.heads * ${d}u;
${
    each((r) =>
      `  let qi${r} = wg.x * ${THREADS * qpi}u + ${r * THREADS}u + t;
  let qb${r} = (b * p.nq + min(qi${r}, p.nq - 1u)) * row + h * ${d}u;
${ds.map((i) => `  let q${r}_${i} = f32(q[qb${r} + ${i}u]) * p.scale;`).join("\n")}
${ds.map((i) => `  var a${r}_${i} = 0.0;`).join("\n")}
  var m${r} = -3.0e38;
  var l${r} = 0.0;`
    )
  }
  var sc: array<f32, ${kt * qpi}>;
  for (var k0 = 0u; k0 < p.nk; k0 += ${kt}u) {
    let n = min(${kt}u, p.nk - k0);
    for (var e = t; e < ${kt * d}u; e += ${THREADS}u) {
      let j = e / ${d}u;
      var kv = 0.0;
      var vv = 0.0;
      if (j < n) {
        let g = (b * p.nk + k0 + j) * row + h * ${d}u + e % ${d}u;
        kv = f32(k[g]);
        vv = f32(v[g]);
      }
      ks[e] = kv;
      vs[e] = vv;
    }
    workgroupBarrier();
${each((r) => `    var mt${r} = m${r};`)}
    for (var j = 0u; j < n; j++) {
      let kb = j * ${d}u;
${each((r) => `      var s${r} = 0.0;`)}
${
    eachD((i) =>
      `      let k${i} = ks[kb + ${i}u];
${each((r) => `      s${r} = fma(q${r}_${i}, k${i}, s${r});`)}`
    )
  }
${
    each((r) =>
      `      sc[${r * kt}u + j] = s${r};
      mt${r} = max(mt${r}, s${r});`
    )
  }
    }
    // Rescale what was summed under the old maximum once per tile.
${
    each((r) =>
      `    let c${r} = exp(m${r} - mt${r});
    l${r} *= c${r};
${ds.map((i) => `    a${r}_${i} *= c${r};`).join("\n")}`
    )
  }
    for (var j = 0u; j < n; j++) {
      let vb = j * ${d}u;
${
    each((r) =>
      `      let p${r} = exp(sc[${r * kt}u + j] - mt${r});
      l${r} += p${r};`
    )
  }
${
    eachD((i) =>
      `      let v${i} = vs[vb + ${i}u];
${each((r) => `      a${r}_${i} = fma(p${r}, v${i}, a${r}_${i});`)}`
    )
  }
    }
${each((r) => `    m${r} = mt${r};`)}
    workgroupBarrier();
  }
${
    each((r) =>
      `  if (qi${r} < p.nq) {
    let inv${r} = 1.0 / l${r};
${ds.map((i) => `    o[qb${r} + ${i}u] = ${dtype}(a${r}_${i} * inv${r});`).join("\n")}
  }`
    )
  }
}`;
}

/** Invocations per workgroup of the window kernel. */
const WIN_THREADS = 8;
/** Floats in one key or value window: 64 KiB, the uniform-binding limit. */
const WIN_FLOATS = 16384;
/**
 * Queries per invocation of the window kernel. Measured on lavapipe (18 heads, 729 x 730, d 64):
 * 1: 6.2 GFLOP/s, 2 s to compile; 2: 7.4 GFLOP/s, 9 s; 4: 10.1 GFLOP/s, 36 s. Compilation is
 * once per process (and cached on disk by Mesa), but 36 s is too long a first wait.
 */
const WIN_QPI = 2;

/**
 * WGSL of attention for CPU adapters: the same online softmax, but each dispatch streams one
 * window of up to `16384 / d` keys and values of one head from two uniform buffers, which
 * Mesa's llvmpipe/lavapipe read with one scalar load and a broadcast where workgroup memory
 * costs a branch per SIMD lane (see `CPU_WINDOW` in linear.ts). The running maximum, sum and
 * output of each query live in a state buffer between the windows of a head; every window
 * also writes the normalised output, so the last one's stays.
 *
 * @example
 * ```ts
 * if (!attentionWindowWgsl(64, "f32", 4).includes("var<uniform> kw: array<vec4f, 4096>")) {
 *   throw new Error();
 * }
 * ```
 */
export function attentionWindowWgsl(d: number, dtype: DType, qpi: number): string {
  const ds = Array.from({ length: d }, (_, i) => i);
  const d4 = Array.from({ length: d / 4 }, (_, i) => i);
  const rs = Array.from({ length: qpi }, (_, r) => r);
  const each = (f: (r: number) => string) => rs.map(f).join("\n");
  const eachD = (f: (i: number) => string) => ds.map(f).join("\n");
  const xyzw = ["x", "y", "z", "w"];
  const kv = (name: string, i: number) => `${name}[j * ${d / 4}u + ${i >> 2}u].${xyzw[i & 3]}`;
  const acc = (r: number, i: number) => `vec4f(${[0, 1, 2, 3].map((c) => `a${r}_${4 * i + c}`)})`;
  const kt = Math.floor(WIN_FLOATS / d);
  // Straight-line code without per-query branches: Mesa compiles every storage access into a
  // per-lane loop, and branches around them multiply compile time. Clamped duplicate queries
  // past the end compute and store exactly what their original does.
  return /* wgsl */ `${enables(dtype)}
struct P { nq: u32, heads: u32, n: u32, first: u32, b: u32, h: u32, scale: f32 }
@group(0) @binding(0) var<uniform> kw: array<vec4f, ${WIN_FLOATS / 4}>;
@group(0) @binding(1) var<uniform> vw: array<vec4f, ${WIN_FLOATS / 4}>;
@group(0) @binding(2) var<storage, read> q: array<vec4<${dtype}>>;
@group(0) @binding(3) var<storage, read_write> st: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<${dtype}>>;
@group(0) @binding(5) var<uniform> p: P;

@compute @workgroup_size(${WIN_THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let fresh = p.first == 1u;
${
    each((r) =>
      `  let qc${r} = min(wg.x * ${WIN_THREADS * qpi}u + ${r * WIN_THREADS}u + t, p.nq - 1u);
  let qb${r} = ((p.b * p.nq + qc${r}) * p.heads + p.h) * ${d / 4}u;
  let sb${r} = ((p.b * p.heads + p.h) * p.nq + qc${r}) * ${d / 4 + 1}u;
${
        d4.map((i) =>
          `  let qv${r}_${i} = vec4f(q[qb${r} + ${i}u]) * p.scale;
  let sv${r}_${i} = select(st[sb${r} + ${i}u], vec4f(0.0), fresh);
${
            [0, 1, 2, 3].map((c) => `  var a${r}_${4 * i + c} = sv${r}_${i}.${xyzw[c]};`).join("\n")
          }`
        ).join("\n")
      }
  let ml${r} = select(st[sb${r} + ${d / 4}u], vec4f(-3.0e38, 0.0, 0.0, 0.0), fresh);
  let m${r} = ml${r}.x;
  var l${r} = ml${r}.y;`
    )
  }
  var sc: array<f32, ${kt * qpi}>;
${each((r) => `  var mt${r} = m${r};`)}
  for (var j = 0u; j < p.n; j++) {
${each((r) => `    var s${r} = 0.0;`)}
${
    eachD((i) =>
      `    let k${i} = ${kv("kw", i)};
${each((r) => `    s${r} = fma(qv${r}_${i >> 2}.${xyzw[i & 3]}, k${i}, s${r});`)}`
    )
  }
${
    each((r) =>
      `    sc[${r * kt}u + j] = s${r};
    mt${r} = max(mt${r}, s${r});`
    )
  }
  }
${
    each((r) =>
      `  let c${r} = exp(m${r} - mt${r});
  l${r} *= c${r};
${ds.map((i) => `  a${r}_${i} *= c${r};`).join("\n")}`
    )
  }
  for (var j = 0u; j < p.n; j++) {
${
    each((r) =>
      `    let p${r} = exp(sc[${r * kt}u + j] - mt${r});
    l${r} += p${r};`
    )
  }
${
    eachD((i) =>
      `    let v${i} = ${kv("vw", i)};
${each((r) => `    a${r}_${i} = fma(p${r}, v${i}, a${r}_${i});`)}`
    )
  }
  }
  // Every window leaves its state and its normalised output; the last window's output stays.
${
    each((r) =>
      `  let inv${r} = 1.0 / l${r};
${
        d4.map((i) =>
          `  st[sb${r} + ${i}u] = ${acc(r, i)};
  o[qb${r} + ${i}u] = vec4<${dtype}>(${acc(r, i)} * inv${r});`
        ).join("\n")
      }
  st[sb${r} + ${d / 4}u] = vec4f(mt${r}, l${r}, 0.0, 0.0);`
    )
  }
}`;
}

/**
 * WGSL that copies the keys (or values) of every batch item and head into 64 KiB windows of
 * `16384 / d` keys each, `[B][H][windows][keys][d]` in f32, zero-padded.
 */
function windowPackWgsl(d: number, dtype: DType): string {
  const kt = Math.floor(WIN_FLOATS / d);
  return /* wgsl */ `${enables(dtype)}
struct Q { nk: u32, heads: u32, nw: u32, total: u32 }
@group(0) @binding(0) var<storage, read> x: array<${dtype}>;
@group(0) @binding(1) var<storage, read_write> xp: array<f32>;
@group(0) @binding(2) var<uniform> q: Q;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let e = (wg.y * nwg.x + wg.x) * 64u + t;
  if (e >= q.total) { return; }
  let win = e / ${WIN_FLOATS}u;
  let i = e % ${WIN_FLOATS}u;
  let j = (win % q.nw) * ${kt}u + i / ${d}u;
  let bh = win / q.nw;
  var v = 0.0;
  if (i < ${kt * d}u && j < q.nk) {
    v = f32(x[((bh / q.heads) * q.nk + j) * q.heads * ${d}u + (bh % q.heads) * ${d}u + i % ${d}u]);
  }
  xp[e] = v;
}`;
}

/** Shape of an attention call. */
export interface AttentionShape {
  /** Number of heads H; the last axis of q, k and v is H * D. */
  heads: number;
  /**
   * Stream keys through uniform windows (default on CPU adapters for f32 when the buffers fit
   * and either D = 64 or the call is large: D >= 32 and at least 2^16 scores per head; `true`
   * insists on any D that is a multiple of 4, `false` never).
   */
  windowed?: boolean;
}

/**
 * Records attention over `heads` heads. q `[B, Nq, H*D]`, k and v `[B, Nk, H*D]`, all of one
 * dtype; the result has q's shape and dtype.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const q = b.upload(new Float32Array([1, 0]), [1, 1, 2]);
 * const k = b.upload(new Float32Array([1, 0, 0, 1]), [1, 2, 2]);
 * const v = b.upload(new Float32Array([1, 2, 3, 4]), [1, 2, 2]);
 * const [o] = await b.read([await attention(b, q, k, v, { heads: 1 })]);
 * const w = 1 / (1 + Math.exp(-Math.SQRT1_2)); // softmax of [1/sqrt2, 0]
 * if (Math.abs(o[0] - (w + 3 * (1 - w))) > 1e-5) throw new Error(`${o}`);
 * gpu.destroy();
 * ```
 */
export async function attention(
  batch: Batch,
  q: GpuTensor,
  k: GpuTensor,
  v: GpuTensor,
  shape: AttentionShape,
): Promise<GpuTensor> {
  const kn = "attention";
  need(q.shape.length === 3, kn, `q: expected [B, Nq, H*D], got [${q.shape}]`);
  const [bs, nq, width] = q.shape;
  const h = shape.heads;
  need(width % h === 0, kn, `q: last axis ${width} is not a multiple of ${h} heads`);
  need(k.shape.length === 3 && k.shape[0] === bs, kn, `k: expected [${bs}, Nk, ${width}]`);
  const nk = k.shape[1];
  need(nk > 0 && nq > 0, kn, "needs at least one query and one key");
  checkTensor(kn, "k", k, [bs, nk, width], q.dtype);
  checkTensor(kn, "v", v, [bs, nk, width], q.dtype);
  const d = width / h;
  const o = batch.alloc(q.shape, q.dtype);
  const u = new ArrayBuffer(16);
  new Uint32Array(u, 0, 3).set([nq, nk, h]);
  new Float32Array(u, 12, 1)[0] = 1 / Math.sqrt(d);
  // CPU adapters: 4 queries per invocation measured 3-5x faster on lavapipe than 1 (2 and 8
  // were slower than 4), but only pays where there are queries to share a load: with a few
  // (CUT3R's pose memory reads with 1) it would only multiply the compile time (22 s at D = 128).
  const qpi = batch.gpu.cpu && nq >= 4 * THREADS ? 4 : 1;
  const misfit = q.dtype === "f16"
    ? "f16 storage takes the tiled kernel"
    : windowMisfit(batch.gpu.limits, bs, h, nq, nk, d);
  if (shape.windowed) need(!misfit, kn, `window kernel: ${misfit}`);
  // By default for the fusion's head dimension, 64, and for calls big enough to repay a
  // compilation (each head dimension is its own shader; these take seconds on CPU adapters).
  const big = d >= 32 && nq * nk >= 1 << 16;
  if (shape.windowed ?? (batch.gpu.cpu && !misfit && (d === 64 || big))) {
    const kt = Math.floor(WIN_FLOATS / d), nw = Math.ceil(nk / kt);
    const total = bs * h * nw * WIN_FLOATS;
    const pack = await batch.gpu.pipeline(`${kn}_pack`, windowPackWgsl(d, q.dtype));
    const [kp, vp] = [k, v].map((x) => {
      const xp = batch.alloc([total], "f32", true);
      batch.dispatch(`${kn}_pack`, pack, [x.buffer, xp.buffer], u32s(nk, h, nw, total), [
        ...grid(total / 64),
      ]);
      return xp;
    });
    const state = batch.alloc([bs * h * nq * (d + 4)]);
    const kernel = await batch.gpu.pipeline(kn, attentionWindowWgsl(d, q.dtype, WIN_QPI));
    const bytes = WIN_FLOATS * 4;
    for (let b = 0; b < bs; b++) {
      for (let hh = 0; hh < h; hh++) {
        for (let i = 0; i < nw; i++) {
          const at = ((b * h + hh) * nw + i) * bytes;
          const p = new ArrayBuffer(28);
          new Uint32Array(p, 0, 6).set([nq, h, Math.min(kt, nk - i * kt), +(i === 0), b, hh]);
          new Float32Array(p, 24, 1)[0] = 1 / Math.sqrt(d);
          batch.dispatch(
            kn,
            kernel,
            [
              { buffer: kp.buffer, offset: at, size: bytes },
              { buffer: vp.buffer, offset: at, size: bytes },
              q.buffer,
              state.buffer,
              o.buffer,
            ],
            p,
            [Math.ceil(nq / (WIN_THREADS * WIN_QPI))],
          );
        }
      }
    }
    return o;
  }
  const kt = keysPerTile(d, batch.gpu.limits.maxComputeWorkgroupStorageSize);
  const pipeline = await batch.gpu.pipeline(`${kn}_d${d}`, attentionWgsl(d, q.dtype, qpi, kt));
  batch.dispatch(kn, pipeline, [q.buffer, k.buffer, v.buffer, o.buffer], u, [
    Math.ceil(nq / (THREADS * qpi)),
    h,
    bs,
  ]);
  return o;
}

/** Why the window kernel cannot take this shape, or null when it can. */
function windowMisfit(
  limits: GPUSupportedLimits,
  bs: number,
  h: number,
  nq: number,
  nk: number,
  d: number,
): string | null {
  if (d % 4 !== 0 || d > 256) return `head dimension ${d} is not a multiple of 4 up to 256`;
  if (limits.maxUniformBufferBindingSize < WIN_FLOATS * 4) {
    return `uniform bindings of ${limits.maxUniformBufferBindingSize} bytes are too small`;
  }
  const windows = bs * h * Math.ceil(nk / Math.floor(WIN_FLOATS / d)) * WIN_FLOATS * 4;
  const state = bs * h * nq * (d + 4) * 4;
  if (Math.max(windows, state) > limits.maxStorageBufferBindingSize) {
    return `${Math.max(windows, state)} bytes exceed the binding limit`;
  }
  return null;
}

/**
 * Float64 reference of {@link attention} (explicit scores, max-subtracted softmax).
 *
 * @example
 * ```ts
 * const o = attentionRef([1, 0], [1, 0, 0, 1], [1, 2, 3, 4], { batch: 1, nq: 1, nk: 2, heads: 1 });
 * const w = 1 / (1 + Math.exp(-Math.SQRT1_2));
 * if (Math.abs(o[0] - (w + 3 * (1 - w))) > 1e-12) throw new Error();
 * ```
 */
export function attentionRef(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  s: { batch: number; nq: number; nk: number; heads: number },
): Float64Array {
  const width = q.length / (s.batch * s.nq);
  const d = width / s.heads;
  const scale = 1 / Math.sqrt(d);
  const o = new Float64Array(q.length);
  const sc = new Float64Array(s.nk);
  for (let b = 0; b < s.batch; b++) {
    for (let h = 0; h < s.heads; h++) {
      for (let i = 0; i < s.nq; i++) {
        const qo = (b * s.nq + i) * width + h * d;
        let max = -Infinity;
        for (let j = 0; j < s.nk; j++) {
          const ko = (b * s.nk + j) * width + h * d;
          let dot = 0;
          for (let c = 0; c < d; c++) dot += q[qo + c] * k[ko + c];
          sc[j] = dot * scale;
          if (sc[j] > max) max = sc[j];
        }
        let sum = 0;
        for (let j = 0; j < s.nk; j++) sum += sc[j] = Math.exp(sc[j] - max);
        for (let j = 0; j < s.nk; j++) {
          const vo = (b * s.nk + j) * width + h * d, w = sc[j] / sum;
          for (let c = 0; c < d; c++) o[qo + c] += w * v[vo + c];
        }
      }
    }
  }
  return o;
}
