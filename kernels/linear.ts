/**
 * Linear layer `Y = X W^T + b` with `X [M, K]`, `W [N, K]` (PyTorch's layout), `b [N]`, any M,
 * N and K, and an optional exact-GELU epilogue. Tiled: each workgroup computes a BM x BN block
 * of Y through workgroup-memory tiles of X and W, each invocation a TM x TN register block.
 * X, W and Y may each be f16 in memory, W also int8 or int4 (see linear_q.ts, dequantised in
 * the kernel); accumulation is f32. Y may be a column block of a wider tensor (`into`), so a
 * weight split by rows (a 152,064-row lm_head over the binding limit) writes one Y.
 *
 * @module
 */

import { type Batch, type DType, type GpuTensor, numel } from "./device.ts";
import { checkTensor, enables, grid, need, u32s } from "./_wgsl.ts";
import { gelu, GELU_WGSL } from "./gelu.ts";
import {
  type Weight,
  weightBuffers,
  weightEnables,
  type WeightFormat,
  weightFormat,
  weightWgsl,
} from "./linear_q.ts";

/** Tile sizes of the linear kernel. */
export interface LinearTiles {
  /** Rows of Y per workgroup. */
  bm: number;
  /** Columns of Y per workgroup. */
  bn: number;
  /** Depth of one K step. */
  bk: number;
  /** Rows of Y per invocation. */
  tm: number;
  /** Columns of Y per invocation. */
  tn: number;
}

/** Tiles for GPUs: 256 invocations, each an 8x8 block (the classic SGEMM shape). */
export const DEFAULT_TILES: LinearTiles = { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 };

/**
 * Tiles for CPU adapters (lavapipe, llvmpipe), where each load costs like many FMAs: 16x16
 * blocks halve the loads per FMA of 8x8 and measured 1.7x faster on lavapipe.
 */
export const CPU_TILES: LinearTiles = { bm: 128, bn: 128, bk: 8, tm: 16, tn: 16 };

/**
 * Shape of the uniform-window kernel for CPU adapters: X is repacked into windows of `rm` rows
 * by `kc` columns (k-major, 64 KiB: the uniform-binding limit), and one dispatch per window
 * multiplies it against all of W, each invocation accumulating an `rm` x 4 block of Y.
 */
export interface LinearWindow {
  /** Rows of X (and Y) per window. */
  rm: number;
  /** Depth (columns of X) per window. */
  kc: number;
  /** Invocations per workgroup (each owns 4 columns of Y). */
  wg: number;
}

/**
 * The window for CPU adapters. Why windows: Mesa's llvmpipe/lavapipe (22.x) reads storage and
 * workgroup memory one SIMD lane at a time behind a branch (~20 cycles a value, measured), but
 * a uniform buffer at a uniform offset with one scalar load and a broadcast. Reading X from a
 * uniform window and only W from storage makes one storage read feed 64 FMAs; measured 4x
 * the tiled kernel's throughput on lavapipe (see bench/kernels.ts).
 */
export const CPU_WINDOW: LinearWindow = { rm: 64, kc: 256, wg: 8 };

/** Element types of the three tensors. */
export interface LinearTypes {
  /** X in memory. */
  x: DType;
  /** W in memory. */
  w: WeightFormat;
  /** Y in memory. */
  y: DType;
}

/** WGSL source of the tiled linear kernel. *
 * @example
 * ```ts
 * const src = linearWgsl({ x: "f16", w: "f16", y: "f32" }, true);
 * if (!src.startsWith("enable f16;") || !src.includes("fn gelu")) throw new Error();
 * ```
 */
export function linearWgsl(
  types: LinearTypes,
  geluEpilogue: boolean,
  tiles: LinearTiles = DEFAULT_TILES,
): string {
  const { bm, bn, bk, tm, tn } = tiles;
  const threads = (bm / tm) * (bn / tn);
  const tx = bn / tn;
  // Fully unrolled register block: the CPU adapters keep scalars in registers but spill
  // dynamically indexed private arrays to memory.
  const rows = range(tm), cols = range(tn);
  const decl = rows.flatMap((i) => cols.map((j) => `  var c${i}_${j} = 0.0;`)).join("\n");
  const inner = [
    ...rows.map((i) => `      let a${i} = xs[xo + ${i * (bm / tm)}u];`),
    ...cols.map((j) => `      let b${j} = ws[wo + ${j * tx}u];`),
    ...rows.flatMap((i) => cols.map((j) => `      c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`)),
  ].join("\n");
  const store = rows.flatMap((i) =>
    cols.map((j) => `  store(m0 + ty + ${i * (bm / tm)}u, n0 + txx + ${j * tx}u, c${i}_${j});`)
  ).join("\n");
  const quant = types.w === "int8" || types.w === "int4";
  const f16 = [types.x, types.y].includes("f16") || types.w === "f16";
  return /* wgsl */ `${f16 ? "enable f16;\n" : ""}
struct P { m: u32, n: u32, k: u32, ldy: u32, n0: u32 }
@group(0) @binding(0) var<storage, read> x: array<${types.x}>;
${weightWgsl(types.w, 1, 4)}
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<${types.y}>;
@group(0) @binding(${quant ? 5 : 4}) var<uniform> p: P;
// Tiles stored k-major so an invocation reads its TM (TN) values from one row.
var<workgroup> xs: array<f32, ${bk * bm}>;
var<workgroup> ws: array<f32, ${bk * bn}>;
${geluEpilogue ? GELU_WGSL : ""}

fn store(gm: u32, gn: u32, acc: f32) {
  if (gm >= p.m || gn >= p.n) { return; }
  var v = acc + b[gn];
  ${geluEpilogue ? "v = gelu(v);" : ""}
  y[gm * p.ldy + p.n0 + gn] = ${types.y}(v);
}

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let m0 = wg.y * ${bm}u;
  let n0 = wg.x * ${bn}u;
  let ty = t / ${tx}u;
  let txx = t % ${tx}u;
${decl}
  for (var k0 = 0u; k0 < p.k; k0 += ${bk}u) {
    for (var e = t; e < ${bm * bk}u; e += ${threads}u) {
      let r = e / ${bk}u;
      let c = e % ${bk}u;
      let gm = m0 + r;
      let gk = k0 + c;
      var v = 0.0;
      if (gm < p.m && gk < p.k) { v = f32(x[gm * p.k + gk]); }
      xs[c * ${bm}u + r] = v;
    }
    for (var e = t; e < ${bn * bk}u; e += ${threads}u) {
      let r = e / ${bk}u;
      let c = e % ${bk}u;
      let gn = n0 + r;
      let gk = k0 + c;
      var v = 0.0;
      if (gn < p.n && gk < p.k) { v = wl(gn, gk, p.k); }
      ws[c * ${bn}u + r] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${bk}u; kk++) {
      let xo = kk * ${bm}u + ty;
      let wo = kk * ${bn}u + txx;
${inner}
    }
    workgroupBarrier();
  }
${store}
}`;
}
/**
 * WGSL of the naive linear kernel: one invocation per output, reading X and W from memory.
 * Kept as the benchmark's yardstick for the tiled kernel.
 *
 * @example
 * ```ts
 * if (!linearNaiveWgsl().includes("@workgroup_size(16, 16)")) throw new Error();
 * ```
 */
export function linearNaiveWgsl(): string {
  return /* wgsl */ `
struct P { m: u32, n: u32, k: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.n || g.y >= p.m) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.k; k++) { s += x[g.y * p.k + k] * w[g.x * p.k + k]; }
  y[g.y * p.n + g.x] = s + b[g.x];
}`;
}

/**
 * WGSL of the uniform-window linear kernel (see {@link CPU_WINDOW}): one dispatch per X window,
 * invocation `i` owns columns `4i .. 4i+3` of Y for the window's rows, adds its partial sums to
 * Y (the first window of a row block stores them with the bias, the last applies GELU). Y rows
 * are `ldy` wide and this kernel's columns start at `n0` (both multiples of 4).
 *
 * @example
 * ```ts
 * const src = linearWindowWgsl("f32", false, CPU_WINDOW);
 * if (!src.includes("var<uniform> xu: array<vec4f, 4096>")) throw new Error();
 * ```
 */
export function linearWindowWgsl(
  wType: WeightFormat,
  geluEpilogue: boolean,
  win: LinearWindow = CPU_WINDOW,
): string {
  const { rm, kc, wg } = win;
  const rows = range(rm), cols = range(4), xyzw = ["x", "y", "z", "w"];
  const v4 = rm / 4;
  const decl = rows.flatMap((i) => cols.map((j) => `  var c${i}_${j} = 0.0;`)).join("\n");
  const inner = [
    ...cols.map((j) => `    let b${j} = wl(n0 + ${j}u, p.k0 + k, p.k);`),
    ...range(v4).map((i) => `    let a${i} = xu[k * ${v4}u + ${i}u];`),
    ...rows.flatMap((i) =>
      cols.map((j) => `    c${i}_${j} = fma(a${i >> 2}.${xyzw[i & 3]}, b${j}, c${i}_${j});`)
    ),
  ].join("\n");
  const store = rows.map((i) =>
    `  store(p.m0 + ${i}u, n0, vec4f(${cols.map((j) => `c${i}_${j}`).join(", ")}));`
  ).join("\n");
  const quant = wType === "int8" || wType === "int4";
  return /* wgsl */ `${weightEnables(wType)}
struct P { n: u32, k: u32, m0: u32, k0: u32, kc: u32, first: u32, last: u32, ldy: u32, n0: u32, m: u32 }
@group(0) @binding(0) var<uniform> xu: array<vec4f, ${rm * kc / 4}>;
${weightWgsl(wType, 1, 4)}
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(${quant ? 5 : 4}) var<uniform> p: P;
${geluEpilogue ? GELU_WGSL : ""}

fn store(m: u32, n: u32, acc: vec4f) {
  if (m >= p.m) { return; }
  let o = (m * p.ldy + p.n0 + n) / 4u;
  var v = select(y[o], vec4f(0.0), p.first == 1u) + acc + select(vec4f(0.0), b[n / 4u], p.first == 1u);
  ${
    geluEpilogue
      ? "if (p.last == 1u) { v = vec4f(gelu(v.x), gelu(v.y), gelu(v.z), gelu(v.w)); }"
      : ""
  }
  y[o] = v;
}

@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let n0 = g.x * 4u;
${decl}
  for (var k = 0u; k < p.kc; k++) {
${inner}
  }
${store}
}`;
}

/**
 * WGSL of the repacking that feeds {@link linearWindowWgsl}: X `[M, K]` to windows
 * `[M/rm][K/kc][kc][rm]` (zero-padded), each a contiguous 64 KiB block.
 */
function windowPackWgsl(xType: DType, win: LinearWindow): string {
  const { rm, kc } = win;
  return /* wgsl */ `${enables(xType)}
struct Q { m: u32, k: u32, kb: u32, total: u32 }
@group(0) @binding(0) var<storage, read> x: array<${xType}>;
@group(0) @binding(1) var<storage, read_write> xp: array<f32>;
@group(0) @binding(2) var<uniform> q: Q;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let e = (wg.y * nw.x + wg.x) * 64u + t;
  if (e >= q.total) { return; }
  let r = e % ${rm}u;
  let c = (e / ${rm}u) % ${kc}u;
  let blk = e / ${rm * kc}u;
  let m = (blk / q.kb) * ${rm}u + r;
  let k = (blk % q.kb) * ${kc}u + c;
  var v = 0.0;
  if (m < q.m && k < q.k) { v = f32(x[m * q.k + k]); }
  xp[e] = v;
}`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Options of {@link linear}. */
export interface LinearOptions {
  /** Apply the exact GELU to the result. */
  gelu?: boolean;
  /** Element type of Y (default f32). */
  out?: DType;
  /** Tile sizes (default {@link CPU_TILES} on a CPU adapter, else {@link DEFAULT_TILES}). */
  tiles?: LinearTiles;
  /** Use the naive one-invocation-per-output kernel (f32 only; for benchmarks). */
  naive?: boolean;
  /**
   * Use the uniform-window kernel ({@link CPU_WINDOW}): default on CPU adapters when Y is f32
   * and N a multiple of 32; `true` insists (an error names what does not fit), `false` never.
   */
  windowed?: boolean;
  /**
   * Write into columns `col .. col + N - 1` of `y` (`[..., ldy]`, Y's dtype) instead of a new
   * tensor: the parts of a weight split by rows fill one output.
   */
  into?: { y: GpuTensor; col: number };
}

/**
 * Records `Y = X W^T + b` (then GELU when asked). X is `[..., K]`, Y `[..., N]`.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const x = b.upload(new Float32Array([1, 2]), [1, 2]);
 * const w = b.upload(new Float32Array([1, 0, 1, 1, 0, 2]), [3, 2]);
 * const bias = b.upload(new Float32Array([0, 0, 1]), [3]);
 * const [y] = await b.read([await linear(b, x, w, bias)]);
 * if (y.join() !== "1,3,5") throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function linear(
  batch: Batch,
  x: GpuTensor,
  w: Weight,
  bias: GpuTensor,
  options: LinearOptions = {},
): Promise<GpuTensor> {
  const kn = options.naive ? "linear_naive" : options.gelu ? "linear_gelu" : "linear";
  need(w.shape.length === 2, kn, `w: expected [N, K], got [${w.shape}]`);
  const [n, k] = w.shape;
  need(x.shape[x.shape.length - 1] === k, kn, `x: expected last axis ${k}, got [${x.shape}]`);
  checkTensor(kn, "bias", bias, [n], "f32");
  const m = numel(x) / k;
  const into = options.into;
  const out = into?.y.dtype ?? options.out ?? "f32";
  const ldy = into ? into.y.shape[into.y.shape.length - 1] : n;
  const col = into?.col ?? 0;
  if (into) {
    need(
      numel(into.y) === m * ldy && col + n <= ldy,
      kn,
      `into: [${into.y.shape}] has no ${m} x ${n} block at column ${col}`,
    );
  }
  const y = into?.y ?? batch.alloc([...x.shape.slice(0, -1), n], out);
  const wf = weightFormat(w);
  const misfit = windowMisfit(batch.gpu.limits, n, k, m, out) ??
    (ldy % 4 || col % 4 ? `Y columns ${col} of ${ldy} are not vec4-aligned` : null);
  if (options.windowed) need(!misfit && !options.naive, kn, `window kernel: ${misfit ?? "naive"}`);
  const windowed = options.windowed ??
    (batch.gpu.cpu && !misfit && !options.naive && !options.tiles);
  const [wbuf, scales] = weightBuffers(w);
  if (windowed) {
    await linearWindowed(batch, kn, x, w, bias, y, !!options.gelu, [ldy, col]);
    return y;
  }
  const tiles = options.tiles ?? (batch.gpu.cpu ? CPU_TILES : DEFAULT_TILES);
  let code: string;
  let groups: [number, number];
  if (options.naive) {
    need(
      x.dtype === "f32" && wf === "f32" && out === "f32" && !options.gelu && !into,
      kn,
      "f32 only",
    );
    code = linearNaiveWgsl();
    groups = [Math.ceil(n / 16), Math.ceil(m / 16)];
  } else {
    code = linearWgsl({ x: x.dtype, w: wf, y: out }, !!options.gelu, tiles);
    groups = [Math.ceil(n / tiles.bn), Math.ceil(m / tiles.bm)];
  }
  const pipeline = await batch.gpu.pipeline(kn, code);
  const bindings = [x.buffer, wbuf, bias.buffer, y.buffer, ...(scales ? [scales] : [])];
  const u = options.naive ? u32s(m, n, k) : u32s(m, n, k, ldy, col);
  batch.dispatch(kn, pipeline, bindings, u, groups);
  return y;
}

/** Why the window kernel cannot take this shape, or null when it can. */
function windowMisfit(
  limits: GPUSupportedLimits,
  n: number,
  k: number,
  m: number,
  out: DType,
  win = CPU_WINDOW,
): string | null {
  if (out !== "f32") return "Y must be f32 (partial sums are added in place)";
  if (n % (4 * win.wg) !== 0) return `N = ${n} is not a multiple of ${4 * win.wg}`;
  if (limits.maxUniformBufferBindingSize < win.rm * win.kc * 4) {
    return `uniform bindings of ${limits.maxUniformBufferBindingSize} bytes are too small`;
  }
  const rows = Math.ceil(m / win.rm) * win.rm;
  const bytes = rows * Math.ceil(k / win.kc) * win.kc * 4;
  if (bytes > limits.maxStorageBufferBindingSize) return `${bytes} bytes exceed the binding limit`;
  return null;
}

async function linearWindowed(
  batch: Batch,
  kn: string,
  x: GpuTensor,
  w: Weight,
  bias: GpuTensor,
  y: GpuTensor,
  geluEpilogue: boolean,
  [ldy, col]: [number, number],
  win = CPU_WINDOW,
): Promise<void> {
  const [n, k] = w.shape;
  const m = numel(x) / k;
  const { rm, kc, wg } = win;
  const mb = Math.ceil(m / rm), kb = Math.ceil(k / kc);
  const xp = batch.alloc([mb * kb * kc * rm], "f32", true);
  const pack = await batch.gpu.pipeline(`${kn}_pack`, windowPackWgsl(x.dtype, win));
  batch.dispatch(
    `${kn}_pack`,
    pack,
    [x.buffer, xp.buffer],
    u32s(m, k, kb, numel(xp)),
    grid(Math.ceil(numel(xp) / 64)),
  );
  const kernel = await batch.gpu.pipeline(kn, linearWindowWgsl(weightFormat(w), geluEpilogue, win));
  const [wbuf, scales] = weightBuffers(w);
  const bytes = rm * kc * 4;
  // Depth-major: the slice of W one depth window reads stays in cache across the row blocks.
  for (let j = 0; j < kb; j++) {
    for (let i = 0; i < mb; i++) {
      const window = { buffer: xp.buffer, offset: (i * kb + j) * bytes, size: bytes };
      batch.dispatch(
        kn,
        kernel,
        [window, wbuf, bias.buffer, y.buffer, ...(scales ? [scales] : [])],
        u32s(
          n,
          k,
          i * rm,
          j * kc,
          Math.min(kc, k - j * kc),
          +(j === 0),
          +(j === kb - 1),
          ldy,
          col,
          m,
        ),
        [n / (4 * wg)],
      );
    }
  }
}

/**
 * Float64 reference of {@link linear}: `x` is `M x K`, `w` is `N x K`, result `M x N`.
 *
 * @example
 * ```ts
 * const y = linearRef([1, 2], [1, 0, 1, 1, 0, 2], [0, 0, 1], 2);
 * if (y.join() !== "1,3,5") throw new Error();
 * ```
 */
export function linearRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias: ArrayLike<number>,
  k: number,
  options: { gelu?: boolean } = {},
): Float64Array {
  const m = x.length / k, n = w.length / k;
  const y = new Float64Array(m * n);
  const row = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < k; c++) row[c] = x[i * k + c];
    for (let j = 0; j < n; j++) {
      let s = bias[j];
      const o = j * k;
      for (let c = 0; c < k; c++) s += row[c] * w[o + c];
      y[i * n + j] = options.gelu ? gelu(s) : s;
    }
  }
  return y;
}
