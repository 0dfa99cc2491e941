/**
 * Benchmark of the vision towers on the WebGPU kernels (random weights; times do not depend on
 * the values):
 *
 * 1. The golden-sized towers, siglip-small (384 px, 27x27 tokens of 144, 2 layers) and
 *    cut3r-tiny (64 px, 16 tokens), at 1 and 32 frames: time, time per frame, GFLOP/s and peak
 *    GPU memory (bytes of live buffers this process created, weights included).
 * 2. One real-size layer of each tower at 729 tokens: SigLIP (1152, 16 heads of 72, MLP 4304),
 *    a CUT3R encoder block (1024, 16 x 64, RoPE) and one CUT3R decoder layer (both branches:
 *    730 image tokens of 768 in 12 heads of 64, the 768 state tokens in 16 heads of 48, RoPE,
 *    cross-attention each way), each beside the same layer as an ONNX graph on
 *    onnxruntime-web's wasm backend (2 threads); the last column is the NMSE between the two.
 * 3. With `--full`: both towers at full size (SigLIP-so400m's 26 layers, CUT3R's 24 + 12 x 2
 *    layers and pose memory) on `--full-frames` frames (32), for a machine with a real GPU.
 *    `--full-layers N` cuts every stack to N layers (a smoke test on a CPU adapter).
 *
 *   deno task bench:towers [-- --json] [--reps 2] [--frames 1,32] [--precision f32|f16]
 *                          [--no-layers] [--no-ort] [--full] [--full-frames 32] [--full-layers N]
 *
 * Times are the best of `--reps` runs after one warm-up (pipeline compilation); compare ratios
 * within one run, not absolute figures across machines.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { acquireGpu, type DType, type Gpu } from "../kernels/device.ts";
import { nmse } from "../kernels/nmse.ts";
import { rope2dTable } from "../kernels/rope2d.ts";
import type { LinearWeights, NormWeights } from "../model/fusion.ts";
import { OnnxGraph } from "../model/onnx.ts";
import { ORT_THREADS, OrtModel } from "../model/ort_baseline.ts";
import {
  SIGLIP_SO400M,
  type SiglipConfig,
  siglipLayer,
  type SiglipLayerWeights,
  siglipTokens,
  SiglipTower,
  type SiglipWeights,
  uploadSiglipLayer,
} from "../model/siglip.ts";
import {
  CUT3R_512_DPT_4_64,
  cut3rBlock,
  type Cut3rConfig,
  Cut3rTower,
  type Cut3rWeights,
  type DecoderBlockWeights,
  type EncoderBlockWeights,
  gridPositions,
  statePositions,
  uploadCut3rBlock,
} from "../model/cut3r.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "boolean", default: false },
    reps: { type: "string", default: "2" },
    frames: { type: "string", default: "1,32" },
    precision: { type: "string", default: "f32" },
    "no-layers": { type: "boolean", default: false },
    "no-ort": { type: "boolean", default: false },
    full: { type: "boolean", default: false },
    "full-frames": { type: "string", default: "32" },
    "full-layers": { type: "string" },
  },
});
const reps = Math.max(1, Number(values.reps));
const frameCounts = values.frames.split(",").map(Number);
const precision = values.precision as DType;
if (precision !== "f32" && precision !== "f16") {
  console.error(`bench:towers: --precision must be f32 or f16, got ${values.precision}`);
  Deno.exit(2);
}
const log = (s: string) => values.json || console.error(s);

// ---------------------------------------------------------------------------------------------
// Random weights: one cheap generator; arrays of one shape are shared by every layer (the GPU
// still gets its own copy per layer), so full-size towers build in seconds.

let seed = 0x9e3779b9;
function uniform(n: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    out[i] = ((seed >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}
const shared = new Map<string, Float32Array>();
function arr(key: string, n: number, scale: number, offset = 0): Float32Array {
  const k = `${key}:${n}:${scale}:${offset}`;
  let a = shared.get(k);
  if (!a) {
    a = uniform(n, scale);
    if (offset) { for (let i = 0; i < n; i++) a[i] += offset; }
    shared.set(k, a);
  }
  return a;
}
// Uniform with the variance of N(0, 1/fan_in): half-width sqrt(3 / fan_in).
const lin = (out: number, inp: number): LinearWeights => ({
  weight: arr("w", out * inp, Math.sqrt(3 / inp)),
  bias: arr("b", out, 0.02),
  out,
  in: inp,
});
const norm = (d: number): NormWeights => ({
  weight: arr("g", d, 0.1, 1),
  bias: arr("nb", d, 0.04),
});

function siglipLayerWeights(c: SiglipConfig): SiglipLayerWeights {
  const d = c.hidden;
  return {
    norm1: norm(d),
    q: lin(d, d),
    k: lin(d, d),
    v: lin(d, d),
    out: lin(d, d),
    norm2: norm(d),
    fc1: lin(c.intermediate, d),
    fc2: lin(d, c.intermediate),
  };
}

function siglipWeights(c: SiglipConfig): SiglipWeights {
  return {
    config: c,
    patch: lin(c.hidden, c.channels * c.patch ** 2),
    position: arr("pos", siglipTokens(c) * c.hidden, 0.5),
    layers: Array.from({ length: c.layers }, () => siglipLayerWeights(c)),
  };
}

function encBlock(w: number, r: number): EncoderBlockWeights {
  return {
    norm1: norm(w),
    q: lin(w, w),
    k: lin(w, w),
    v: lin(w, w),
    proj: lin(w, w),
    norm2: norm(w),
    fc1: lin(r * w, w),
    fc2: lin(w, r * w),
  };
}

function decBlock(w: number, r: number): DecoderBlockWeights {
  return {
    ...encBlock(w, r),
    normY: norm(w),
    cq: lin(w, w),
    ck: lin(w, w),
    cv: lin(w, w),
    cproj: lin(w, w),
    norm3: norm(w),
  };
}

function cut3rWeights(c: Cut3rConfig): Cut3rWeights {
  const e = c.encDim, d = c.decDim, r = c.mlpRatio;
  return {
    config: c,
    patch: lin(e, 3 * c.patch ** 2),
    enc: Array.from({ length: c.encDepth }, () => encBlock(e, r)),
    encNorm: norm(e),
    decoderEmbed: lin(d, e),
    decoderEmbedState: lin(d, e),
    registerTokens: arr("reg", c.stateSize * e, 1),
    poseToken: arr("pose", d, 0.5),
    dec: Array.from({ length: c.decDepth }, () => decBlock(d, r)),
    decState: Array.from({ length: c.decDepth }, () => decBlock(d, r)),
    decNorm: norm(d),
    decNormState: norm(d),
    projQ: lin(d, e),
    maskedToken: arr("mask", d, 0.2),
    mem: arr("mem", c.memSize * 2 * d, 0.2),
    read: [decBlock(2 * d, r), decBlock(2 * d, r)],
    write: [decBlock(2 * d, r), decBlock(2 * d, r)],
  };
}

// ---------------------------------------------------------------------------------------------
// FLOPs (a multiply-add counts 2; attention counts QK^T and AV).

const linF = (m: number, k: number, n: number) => 2 * m * k * n;
const attF = (nq: number, nk: number, width: number) => 4 * nq * nk * width;

function siglipLayerFlops(c: SiglipConfig): number {
  const t = siglipTokens(c), d = c.hidden;
  return 4 * linF(t, d, d) + 2 * linF(t, d, c.intermediate) + attF(t, t, d);
}

function siglipFlops(c: SiglipConfig, frames: number): number {
  const t = siglipTokens(c);
  return frames * (linF(t, c.channels * c.patch ** 2, c.hidden) + c.layers * siglipLayerFlops(c));
}

/** One block: self-attention over n tokens, cross into m (when given), MLP; width w. */
function blockFlops(n: number, w: number, r: number, m?: number): number {
  let f = 4 * linF(n, w, w) + attF(n, n, w) + 2 * linF(n, w, r * w);
  if (m !== undefined) f += 2 * linF(n, w, w) + 2 * linF(m, w, w) + attF(n, m, w);
  return f;
}

function decoderLayerFlops(c: Cut3rConfig, t: number): number {
  const n = 1 + t, s = c.stateSize;
  return blockFlops(n, c.decDim, c.mlpRatio, s) + blockFlops(s, c.decDim, c.mlpRatio, n);
}

function cut3rFlops(c: Cut3rConfig, frames: number, t: number): number {
  const e = c.encDim, d = c.decDim, r = c.mlpRatio, m = c.memSize;
  const enc = linF(t, 3 * c.patch ** 2, e) + c.encDepth * blockFlops(t, e, r);
  const dec = linF(t, e, d) + linF(1, e, d) + c.decDepth * decoderLayerFlops(c, t);
  const read = 2 * blockFlops(1, 2 * d, r, m), write = 2 * blockFlops(m, 2 * d, r, 1);
  const init = linF(c.stateSize, e, d);
  return init + frames * (enc + dec + write) + (frames - 1) * read;
}

// ---------------------------------------------------------------------------------------------
// Peak GPU memory: bytes of live buffers this process created (weights, activations, staging).

/** Live and peak bytes of the device's buffers (`Gpu.memory`); `peak = live` starts anew. */
interface MemoryMeter {
  readonly live: number;
  peak: number;
}

function meter(gpu: Gpu): MemoryMeter {
  return {
    get live() {
      return gpu.memory.current;
    },
    get peak() {
      return gpu.memory.peak;
    },
    set peak(_: number) {
      gpu.resetPeak();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Timing and rows

interface Row {
  name: string;
  impl: "wgsl" | "ort";
  frames: number;
  ms: number;
  msPerFrame: number;
  gflops: number;
  peakMb?: number;
  nmseVsOrt?: number;
}
const rows: Row[] = [];

async function best(fn: () => Promise<unknown>, times = reps): Promise<number> {
  await fn();
  let min = Infinity;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

function record(r: Omit<Row, "msPerFrame" | "gflops">, flops: number): Row {
  const row: Row = {
    ...r,
    ms: +r.ms.toFixed(1),
    msPerFrame: +(r.ms / r.frames).toFixed(1),
    gflops: +(flops / r.ms / 1e6).toFixed(2),
  };
  rows.push(row);
  const mem = row.peakMb !== undefined ? `, peak ${row.peakMb} MB` : "";
  log(
    `  ${row.name} [${row.impl}] ${row.frames} frame(s): ${row.ms} ms, ${row.gflops} GFLOP/s${mem}`,
  );
  return row;
}

const mb = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);

// ---------------------------------------------------------------------------------------------
// 1 and 3: whole towers

const SIGLIP_SMALL: SiglipConfig = {
  ...SIGLIP_SO400M,
  hidden: 144,
  heads: 2,
  intermediate: 1160,
  layers: 2,
};
const CUT3R_TINY: Cut3rConfig = {
  encDim: 64,
  encDepth: 2,
  encHeads: 4,
  decDim: 48,
  decDepth: 3,
  decHeads: 3,
  stateHeads: 4,
  stateSize: 27,
  memSize: 8,
  patch: 16,
  ropeBase: 100,
  eps: 1e-6,
  mlpRatio: 4,
};

async function benchSiglip(
  gpu: Gpu,
  m: MemoryMeter,
  name: string,
  c: SiglipConfig,
  counts: number[],
) {
  const base = m.live;
  const tower = new SiglipTower(gpu, siglipWeights(c), { precision });
  const plane = c.channels * c.image * c.image;
  for (const f of counts) {
    log(`${name}, ${f} frame(s)`);
    const pixels = uniform(f * plane, 1);
    m.peak = m.live;
    const ms = await best(() => tower.run(pixels, f), f > 1 ? 1 : reps);
    record({ name, impl: "wgsl", frames: f, ms, peakMb: mb(m.peak - base) }, siglipFlops(c, f));
  }
  tower.destroy();
}

async function benchCut3r(
  gpu: Gpu,
  m: MemoryMeter,
  name: string,
  c: Cut3rConfig,
  side: number,
  counts: number[],
) {
  const base = m.live;
  const tower = new Cut3rTower(gpu, cut3rWeights(c), { precision });
  const t = (side / c.patch) ** 2;
  for (const f of counts) {
    log(`${name}, ${f} frame(s)`);
    const pixels = uniform(f * 3 * side * side, 1);
    m.peak = m.live;
    const ms = await best(() => tower.run(pixels, f), f > 1 ? 1 : reps);
    record({ name, impl: "wgsl", frames: f, ms, peakMb: mb(m.peak - base) }, cut3rFlops(c, f, t));
  }
  tower.destroy();
}

// ---------------------------------------------------------------------------------------------
// 2: one real-size layer, WGSL beside ONNX on onnxruntime-web

/** Builds ONNX graphs of the towers' layers. */
class Onnx {
  readonly g: OnnxGraph;
  #k = 0;
  constructor(name: string) {
    this.g = new OnnxGraph(name);
  }
  c(dims: number[], data: Float32Array): string {
    return this.g.initializer(`c${this.#k++}`, dims, data);
  }
  shape(...dims: number[]): string {
    return this.g.initializer(`s${this.#k++}`, [dims.length], BigInt64Array.from(dims.map(BigInt)));
  }
  scalar(v: number): string {
    return this.c([], new Float32Array([v]));
  }
  op(op: string, inputs: string[], attrs: Record<string, number | number[]> = {}): string {
    return this.g.node(op, inputs, undefined, attrs);
  }
  lin(x: string, l: LinearWeights): string {
    const wt = new Float32Array(l.in * l.out);
    for (let i = 0; i < l.out; i++) {
      for (let j = 0; j < l.in; j++) wt[j * l.out + i] = l.weight[i * l.in + j];
    }
    return this.op("Add", [
      this.op("MatMul", [x, this.c([l.in, l.out], wt)]),
      this.c([l.out], l.bias),
    ]);
  }
  norm(x: string, n: NormWeights, eps: number): string {
    const d = n.weight.length;
    return this.g.node(
      "LayerNormalization",
      [x, this.c([d], n.weight), this.c([d], n.bias)],
      undefined,
      {
        axis: -1,
        epsilon: { float: eps },
      },
    );
  }
  geluErf(x: string): string {
    const erf = this.op("Erf", [this.op("Mul", [x, this.scalar(Math.SQRT1_2)])]);
    return this.op("Mul", [
      this.op("Mul", [x, this.op("Add", [erf, this.scalar(1)])]),
      this.scalar(0.5),
    ]);
  }
  geluTanh(x: string): string {
    const cube = this.op("Mul", [this.op("Mul", [x, x]), x]);
    const inner = this.op("Mul", [
      this.op("Add", [x, this.op("Mul", [cube, this.scalar(0.044715)])]),
      this.scalar(Math.sqrt(2 / Math.PI)),
    ]);
    const t = this.op("Add", [this.op("Tanh", [inner]), this.scalar(1)]);
    return this.op("Mul", [this.op("Mul", [x, t]), this.scalar(0.5)]);
  }
  /** 2D RoPE of `x` `[1, n, heads*hd]` with a `rope2dTable` `[n, hd]`. */
  rope(x: string, n: number, heads: number, hd: number, table: Float32Array): string {
    const q = hd / 4;
    const cos = new Float32Array(n * 2 * q), sin = new Float32Array(n * 2 * q);
    for (let t = 0; t < n; t++) {
      cos.set(table.subarray(t * hd, t * hd + hd / 2), t * 2 * q);
      sin.set(table.subarray(t * hd + hd / 2, (t + 1) * hd), t * 2 * q);
    }
    // [1, n, heads, 2 halves (y, x), 2 (u, v), Q]
    const r = this.op("Reshape", [x, this.shape(1, n, heads, 2, 2, q)]);
    const slice = (i: number) =>
      this.op("Slice", [r, this.shape(i), this.shape(i + 1), this.shape(4)]);
    const u = slice(0), v = slice(1);
    const cs = this.c([1, n, 1, 2, 1, q], cos), sn = this.c([1, n, 1, 2, 1, q], sin);
    const nu = this.op("Sub", [this.op("Mul", [u, cs]), this.op("Mul", [v, sn])]);
    const nv = this.op("Add", [this.op("Mul", [v, cs]), this.op("Mul", [u, sn])]);
    return this.op("Reshape", [
      this.op("Concat", [nu, nv], { axis: 4 }),
      this.shape(1, n, heads * hd),
    ]);
  }
  attention(q: string, k: string, v: string, heads: number, hd: number): string {
    const split = this.shape(0, 0, heads, hd);
    const t = (x: string, perm: number[]) =>
      this.op("Transpose", [this.op("Reshape", [x, split])], { perm });
    const s = this.op("Mul", [
      this.op("MatMul", [t(q, [0, 2, 1, 3]), t(k, [0, 2, 3, 1])]),
      this.scalar(1 / Math.sqrt(hd)),
    ]);
    const o = this.op("MatMul", [this.op("Softmax", [s], { axis: -1 }), t(v, [0, 2, 1, 3])]);
    return this.op("Reshape", [
      this.op("Transpose", [o], { perm: [0, 2, 1, 3] }),
      this.shape(0, 0, heads * hd),
    ]);
  }
}

interface Rope {
  q?: Float32Array;
  k?: Float32Array;
}

/** A CUT3R block (or a SigLIP layer, `tanh`) as ONNX; `n`, `m` token counts of x and mem. */
function blockOnnx(
  o: Onnx,
  x: string,
  mem: string | null,
  blk: EncoderBlockWeights | DecoderBlockWeights,
  s: {
    n: number;
    m?: number;
    heads: number;
    eps: number;
    tanh?: boolean;
    self: Rope;
    cross?: Rope;
  },
): string {
  const w = blk.q.out, hd = w / s.heads;
  const rope = (y: string, n: number, table?: Float32Array) =>
    table ? o.rope(y, n, s.heads, hd, table) : y;
  const h1 = o.norm(x, blk.norm1, s.eps);
  const a = o.attention(
    rope(o.lin(h1, blk.q), s.n, s.self.q),
    rope(o.lin(h1, blk.k), s.n, s.self.k),
    o.lin(h1, blk.v),
    s.heads,
    hd,
  );
  let h = o.op("Add", [x, o.lin(a, blk.proj)]);
  let mlpNorm = blk.norm2;
  if (mem && "normY" in blk) {
    const ym = o.norm(mem, blk.normY, s.eps);
    const hn = o.norm(h, blk.norm2, s.eps);
    const ca = o.attention(
      rope(o.lin(hn, blk.cq), s.n, s.cross?.q),
      rope(o.lin(ym, blk.ck), s.m!, s.cross?.k),
      o.lin(ym, blk.cv),
      s.heads,
      hd,
    );
    h = o.op("Add", [h, o.lin(ca, blk.cproj)]);
    mlpNorm = blk.norm3;
  }
  const pre = o.lin(o.norm(h, mlpNorm, s.eps), blk.fc1);
  return o.op("Add", [h, o.lin(s.tanh ? o.geluTanh(pre) : o.geluErf(pre), blk.fc2)]);
}

async function ortRun(model: Uint8Array, inputs: Record<string, [Float32Array, number[]]>) {
  const ort = await OrtModel.create(model, ORT_THREADS);
  let out: Record<string, Float32Array> = {};
  const ms = await best(async () => (out = await ort.run(inputs)));
  await ort.release();
  return { ms, out };
}

async function benchLayers(gpu: Gpu, m: MemoryMeter) {
  const T = 729, G = 27;
  // SigLIP layer
  {
    const c = SIGLIP_SO400M, name = "siglip layer 729x1152 (16x72, mlp 4304)";
    log(name);
    const l = siglipLayerWeights(c);
    const x = uniform(T * c.hidden, 1);
    const flops = siglipLayerFlops(c);
    const base = m.live;
    const gl = uploadSiglipLayer(gpu, l, c.heads, precision);
    const xt = gpu.tensor(x, [1, T, c.hidden]);
    let y: Float32Array = new Float32Array();
    m.peak = m.live;
    const ms = await best(async () => {
      const b = gpu.batch();
      [y] = await b.read([await siglipLayer(b, xt, gl, c.eps, precision)]);
    });
    const row = record({ name, impl: "wgsl", frames: 1, ms, peakMb: mb(m.peak - base) }, flops);
    if (!values["no-ort"]) {
      const o = new Onnx("siglip_layer");
      o.g.input("x", [1, T, c.hidden]);
      const out = blockOnnx(o, "x", null, { ...l, proj: l.out }, {
        n: T,
        heads: c.heads,
        eps: c.eps,
        tanh: true,
        self: {},
      });
      o.g.node("Identity", [out], ["y"]);
      o.g.output("y", [1, T, c.hidden]);
      const r = await ortRun(o.g.model(), { x: [x, [1, T, c.hidden]] });
      row.nmseVsOrt = nmse(y, r.out.y);
      record({ name, impl: "ort", frames: 1, ms: r.ms }, flops);
    }
    destroyGpu([gl, xt]);
  }
  // CUT3R encoder block
  const cc = CUT3R_512_DPT_4_64;
  {
    const e = cc.encDim, hd = e / cc.encHeads, name = "cut3r encoder block 729x1024 (16x64, RoPE)";
    log(name);
    const blk = encBlock(e, cc.mlpRatio);
    const x = uniform(T * e, 1);
    const table = rope2dTable(gridPositions(G, G), hd, cc.ropeBase);
    const flops = blockFlops(T, e, cc.mlpRatio);
    const base = m.live;
    const gb = uploadCut3rBlock(gpu, blk, cc.encHeads, precision);
    const xt = gpu.tensor(x, [1, T, e]), tt = gpu.tensor(table, [T, hd]);
    let y: Float32Array = new Float32Array();
    m.peak = m.live;
    const ms = await best(async () => {
      const b = gpu.batch();
      const out = await cut3rBlock(b, gb, xt, null, { self: { q: tt, k: tt } }, cc.eps, precision);
      [y] = await b.read([out]);
    });
    const row = record({ name, impl: "wgsl", frames: 1, ms, peakMb: mb(m.peak - base) }, flops);
    if (!values["no-ort"]) {
      const o = new Onnx("cut3r_encoder_block");
      o.g.input("x", [1, T, e]);
      const out = blockOnnx(o, "x", null, blk, {
        n: T,
        heads: cc.encHeads,
        eps: cc.eps,
        self: { q: table, k: table },
      });
      o.g.node("Identity", [out], ["y"]);
      o.g.output("y", [1, T, e]);
      const r = await ortRun(o.g.model(), { x: [x, [1, T, e]] });
      row.nmseVsOrt = nmse(y, r.out.y);
      record({ name, impl: "ort", frames: 1, ms: r.ms }, flops);
    }
    destroyGpu([gb, xt, tt]);
  }
  // CUT3R decoder layer: both branches, each reading the other's previous output.
  {
    const d = cc.decDim, s = cc.stateSize, n = 1 + T;
    const di = d / cc.decHeads, ds = d / cc.stateHeads;
    const name = "cut3r decoder layer 730+768 tokens x768 (12x64 and 16x48, RoPE, cross)";
    log(name);
    const bImg = decBlock(d, cc.mlpRatio), bState = decBlock(d, cc.mlpRatio);
    const x = uniform(n * d, 1), y = uniform(s * d, 1);
    const img = [-1, -1, ...gridPositions(G, G)], st = statePositions(s);
    const tab = {
      img: rope2dTable(img, di, cc.ropeBase),
      stateForImg: rope2dTable(st, di, cc.ropeBase),
      state: rope2dTable(st, ds, cc.ropeBase),
      imgForState: rope2dTable(img, ds, cc.ropeBase),
    };
    const flops = decoderLayerFlops(cc, T);
    const base = m.live;
    const gi = uploadCut3rBlock(gpu, bImg, cc.decHeads, precision);
    const gs = uploadCut3rBlock(gpu, bState, cc.stateHeads, precision);
    const xt = gpu.tensor(x, [1, n, d]), yt = gpu.tensor(y, [1, s, d]);
    const t = {
      img: gpu.tensor(tab.img, [n, di]),
      stateForImg: gpu.tensor(tab.stateForImg, [s, di]),
      state: gpu.tensor(tab.state, [s, ds]),
      imgForState: gpu.tensor(tab.imgForState, [n, ds]),
    };
    let nx: Float32Array = new Float32Array(), ny: Float32Array = new Float32Array();
    m.peak = m.live;
    const ms = await best(async () => {
      const b = gpu.batch();
      const oy = await cut3rBlock(
        b,
        gs,
        yt,
        xt,
        {
          self: { q: t.state, k: t.state },
          cross: { q: t.state, k: t.imgForState },
        },
        cc.eps,
        precision,
      );
      const ox = await cut3rBlock(
        b,
        gi,
        xt,
        yt,
        {
          self: { q: t.img, k: t.img },
          cross: { q: t.img, k: t.stateForImg },
        },
        cc.eps,
        precision,
      );
      [nx, ny] = await b.read([ox, oy]);
    });
    const row = record({ name, impl: "wgsl", frames: 1, ms, peakMb: mb(m.peak - base) }, flops);
    if (!values["no-ort"]) {
      const o = new Onnx("cut3r_decoder_layer");
      o.g.input("x", [1, n, d]);
      o.g.input("y", [1, s, d]);
      const oy = blockOnnx(o, "y", "x", bState, {
        n: s,
        m: n,
        heads: cc.stateHeads,
        eps: cc.eps,
        self: { q: tab.state, k: tab.state },
        cross: { q: tab.state, k: tab.imgForState },
      });
      const ox = blockOnnx(o, "x", "y", bImg, {
        n,
        m: s,
        heads: cc.decHeads,
        eps: cc.eps,
        self: { q: tab.img, k: tab.img },
        cross: { q: tab.img, k: tab.stateForImg },
      });
      o.g.node("Identity", [ox], ["nx"]);
      o.g.node("Identity", [oy], ["ny"]);
      o.g.output("nx", [1, n, d]);
      o.g.output("ny", [1, s, d]);
      const r = await ortRun(o.g.model(), { x: [x, [1, n, d]], y: [y, [1, s, d]] });
      const both = new Float32Array([...nx, ...ny]);
      row.nmseVsOrt = nmse(both, new Float32Array([...r.out.nx, ...r.out.ny]));
      record({ name, impl: "ort", frames: 1, ms: r.ms }, flops);
    }
    destroyGpu([gi, gs, xt, yt, t]);
  }
}

function destroyGpu(value: unknown): void {
  if (!value || typeof value !== "object" || ArrayBuffer.isView(value)) return;
  if ("buffer" in value && value.buffer instanceof GPUBuffer) return value.buffer.destroy();
  for (const v of Object.values(value)) destroyGpu(v);
}

// ---------------------------------------------------------------------------------------------

const gpu = await acquireGpu();
const mem = meter(gpu);
log(
  `adapter: ${gpu.adapter}${gpu.cpu ? " (CPU)" : ""}${gpu.f16 ? ", shader-f16" : ""}; ` +
    `precision ${precision}; ORT wasm ${ORT_THREADS} threads`,
);
if (precision === "f16" && !gpu.f16) {
  console.error(`bench:towers: ${gpu.adapter} lacks shader-f16`);
  Deno.exit(2);
}
await benchSiglip(gpu, mem, "siglip-small (384 px, 144 wide, 2 layers)", SIGLIP_SMALL, frameCounts);
await benchCut3r(gpu, mem, "cut3r-tiny (64 px, 16 tokens)", CUT3R_TINY, 64, frameCounts);
if (!values["no-layers"]) await benchLayers(gpu, mem);
if (values.full) {
  const f = Number(values["full-frames"]);
  const depth = values["full-layers"] === undefined ? undefined : Number(values["full-layers"]);
  const sc = { ...SIGLIP_SO400M, layers: depth ?? SIGLIP_SO400M.layers };
  const cc = {
    ...CUT3R_512_DPT_4_64,
    encDepth: depth ?? CUT3R_512_DPT_4_64.encDepth,
    decDepth: depth ?? CUT3R_512_DPT_4_64.decDepth,
  };
  const tag = depth === undefined ? "" : `, ${depth} layer(s) per stack`;
  await benchSiglip(gpu, mem, `siglip-so400m full (384 px${tag})`, sc, [f]);
  await benchCut3r(gpu, mem, `cut3r full (432 px, 729 tokens${tag})`, cc, 432, [f]);
}
const adapter = gpu.adapter;
gpu.destroy();

if (values.json) {
  console.log(JSON.stringify({ adapter, precision, rows }));
} else {
  console.log(
    `adapter: ${adapter}; precision ${precision}; onnxruntime-web wasm, ${ORT_THREADS} threads`,
  );
  console.log(
    "| name | impl | frames | ms | ms/frame | GFLOP/s | peak GPU MB | x ORT | NMSE vs ORT |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const o = rows.find((x) => x.name === r.name && x.impl === "ort" && x.frames === r.frames);
    const vs = o && r.impl === "wgsl" ? (r.gflops / o.gflops).toFixed(2) : "";
    const err = r.nmseVsOrt === undefined ? "" : r.nmseVsOrt.toExponential(1);
    console.log(
      `| ${r.name} | ${r.impl} | ${r.frames} | ${r.ms} | ${r.msPerFrame} | ${r.gflops} | ${
        r.peakMb ?? ""
      } | ${vs} | ${err} |`,
    );
  }
}
