/**
 * Benchmark of the WebGPU kernels and of the whole fusion + projector block (random weights at
 * VLM-3R's real sizes): WGSL on the available adapter, onnxruntime-web on wasm (2 threads), and
 * naive TypeScript (the float64 references). Prints a table with ratios, or with `--json` one
 * object `{adapter, rows: [{name, impl, frames, ms, gflops}]}`. Times are the best of `--reps`
 * runs after one warm-up; compare ratios within one run, not absolute figures across machines.
 *
 *   deno task bench:kernels [-- --json] [--frames 1,8] [--naive-frames 1] [--reps 2]
 *
 * The naive-WGSL linear rows (one invocation per output) are the yardstick of the tiled kernel.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Rng } from "../geometry/rng.ts";
import { acquireGpu, type Gpu, type GpuTensor } from "../kernels/device.ts";
import { linear, linearRef } from "../kernels/linear.ts";
import { attention, attentionRef } from "../kernels/attention.ts";
import {
  FusionProjector,
  fusionProjectorRef,
  type FusionProjectorWeights,
  type LinearWeights,
} from "../model/fusion.ts";
import { fusionProjectorOnnx } from "../model/fusion_onnx.ts";
import { OnnxGraph } from "../model/onnx.ts";
import { ORT_THREADS, OrtModel } from "../model/ort_baseline.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "boolean", default: false },
    frames: { type: "string", default: "1,8" },
    "naive-frames": { type: "string", default: "1" },
    reps: { type: "string", default: "2" },
  },
});
const frameCounts = values.frames.split(",").map(Number);
const naiveFrames = Number(values["naive-frames"]);
const reps = Math.max(1, Number(values.reps));
const log = (s: string) => values.json || console.error(s);

// VLM-3R sizes (model-reference.md §4, §5): 729 SigLIP tokens of 1152, 730 CUT3R tokens of
// 768, 18 heads of 64, projector 1152 -> 3584 -> 3584.
const T = 729, TZ = 730, D = 1152, DS = 768, DL = 3584, HEADS = 18, HD = 64, P = 14;

type Impl = "wgsl" | "ort" | "naive";
interface Row {
  name: string;
  impl: Impl;
  frames: number;
  ms: number;
  gflops: number;
}
const rows: Row[] = [];

async function best(fn: () => unknown, times = reps, warm = true): Promise<number> {
  if (warm) await fn(); // warm-up: pipeline compilation, session initialisation
  let min = Infinity;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

function record(name: string, impl: Impl, frames: number, ms: number, flops: number): void {
  const row = { name, impl, frames, ms: +ms.toFixed(1), gflops: +(flops / ms / 1e6).toFixed(3) };
  rows.push(row);
  log(`  ${name} [${impl}] ${row.ms} ms, ${row.gflops} GFLOP/s`);
}

const rng = new Rng("bench-kernels");
const randn = (n: number, scale: number) =>
  Float32Array.from({ length: n }, () => scale * rng.normal());
const layer = (out: number, inp: number): LinearWeights => ({
  weight: randn(out * inp, 1 / Math.sqrt(inp)),
  bias: randn(out, 0.02),
  out,
  in: inp,
});

function linearOnnx(l: LinearWeights, m: number): Uint8Array {
  const g = new OnnxGraph("linear");
  const wt = new Float32Array(l.in * l.out);
  for (let i = 0; i < l.out; i++) {
    for (let j = 0; j < l.in; j++) wt[j * l.out + i] = l.weight[i * l.in + j];
  }
  g.input("x", [m, l.in]);
  const y = g.node("MatMul", ["x", g.initializer("w", [l.in, l.out], wt)]);
  g.node("Add", [y, g.initializer("b", [l.out], l.bias)], ["y"]);
  g.output("y", [m, l.out]);
  return g.model();
}

function attentionOnnx(): Uint8Array {
  const g = new OnnxGraph("attention");
  const split = g.initializer(
    "split",
    [4],
    BigInt64Array.from([0n, 0n, BigInt(HEADS), BigInt(HD)]),
  );
  const heads = (x: string, perm: number[]) =>
    g.node("Transpose", [g.node("Reshape", [x, split])], undefined, { perm });
  for (const [n, t] of [["q", T], ["k", TZ], ["v", TZ]] as const) g.input(n, [1, t, D]);
  const scale = g.initializer("scale", [], new Float32Array([1 / Math.sqrt(HD)]));
  const s = g.node("Mul", [
    g.node("MatMul", [heads("q", [0, 2, 1, 3]), heads("k", [0, 2, 3, 1])]),
    scale,
  ]);
  const o = g.node("MatMul", [
    g.node("Softmax", [s], undefined, { axis: -1 }),
    heads("v", [0, 2, 1, 3]),
  ]);
  const merge = g.initializer("merge", [3], BigInt64Array.from([0n, 0n, BigInt(D)]));
  g.node("Reshape", [g.node("Transpose", [o], undefined, { perm: [0, 2, 1, 3] }), merge], ["o"]);
  g.output("o", [1, T, D]);
  return g.model();
}

async function benchLinear(gpu: Gpu, m: number, k: number, n: number): Promise<void> {
  const name = `linear ${m}x${k}->${n}`;
  log(name);
  const l = layer(n, k);
  const x = randn(m * k, 1);
  const flops = 2 * m * n * k;
  const [xg, wg, bg] = [
    gpu.tensor(x, [m, k]),
    gpu.tensor(l.weight, [n, k]),
    gpu.tensor(l.bias, [n]),
  ];
  const wgsl = (naive: boolean) => async () => {
    const b = gpu.batch();
    await linear(b, xg, wg, bg, { naive });
    await b.submit();
  };
  record(name, "wgsl", 1, await best(wgsl(false)), flops);
  // One timed run, no warm-up: the naive kernel compiles in a blink and runs for a minute.
  record(`${name} (naive wgsl)`, "wgsl", 1, await best(wgsl(true), 1, false), flops);
  for (const t of [xg, wg, bg]) t.buffer.destroy();
  const ort = await OrtModel.create(linearOnnx(l, m), ORT_THREADS);
  record(name, "ort", 1, await best(() => ort.run({ x: [x, [m, k]] })), flops);
  await ort.release();
  record(name, "naive", 1, await best(() => linearRef(x, l.weight, l.bias, k), 1, false), flops);
}

async function benchAttention(gpu: Gpu): Promise<void> {
  const name = `attention ${HEADS}x${T}q x${TZ}k d${HD}`;
  log(name);
  const [q, k, v] = [randn(T * D, 1), randn(TZ * D, 1), randn(TZ * D, 1)];
  const flops = 4 * HEADS * T * TZ * HD;
  const t: GpuTensor[] = [
    gpu.tensor(q, [1, T, D]),
    gpu.tensor(k, [1, TZ, D]),
    gpu.tensor(v, [1, TZ, D]),
  ];
  record(
    name,
    "wgsl",
    1,
    await best(async () => {
      const b = gpu.batch();
      await attention(b, t[0], t[1], t[2], { heads: HEADS });
      await b.submit();
    }),
    flops,
  );
  for (const x of t) x.buffer.destroy();
  const ort = await OrtModel.create(attentionOnnx(), ORT_THREADS);
  record(
    name,
    "ort",
    1,
    await best(() => ort.run({ q: [q, [1, T, D]], k: [k, [1, TZ, D]], v: [v, [1, TZ, D]] })),
    flops,
  );
  await ort.release();
  const s = { batch: 1, nq: T, nk: TZ, heads: HEADS };
  record(name, "naive", 1, await best(() => attentionRef(q, k, v, s), 1, false), flops);
}

/** FLOPs of the block as computed (folded linears, pooling before the second layer). */
function blockFlops(frames: number, folded: boolean): number {
  const lin = (m: number, k: number, n: number) => 2 * m * k * n;
  const fusion = folded
    ? lin(T, D, D) + 2 * lin(TZ, DS, D) + lin(T, D, D)
    : 2 * lin(T, D, D) + 2 * (lin(TZ, DS, D) + lin(TZ, D, D)) + 2 * lin(T, D, D);
  const proj = lin(T, D, DL) + (folded ? lin(P * P, T, DL) + lin(P * P, DL, DL) : lin(T, DL, DL));
  return frames * (fusion + 4 * T * TZ * D + proj);
}

async function benchBlock(gpu: Gpu, weights: FusionProjectorWeights): Promise<void> {
  const name = "fusion+projector";
  const fp = new FusionProjector(gpu, weights, { fold: true, poolFirst: true });
  const onnx = fusionProjectorOnnx(weights, {
    tokens: T,
    spatialTokens: TZ,
    fold: true,
    poolFirst: true,
  });
  const ort = await OrtModel.create(onnx, ORT_THREADS);
  for (const f of frameCounts) {
    log(`${name}, ${f} frame(s)`);
    const hv = randn(f * T * D, 1), z = randn(f * TZ * DS, 1);
    const flops = blockFlops(f, true);
    const times = f > 1 ? 1 : reps;
    record(name, "wgsl", f, await best(() => fp.run(hv, z, f, ["sequence"]), times), flops);
    record(
      name,
      "ort",
      f,
      await best(() => ort.run({ hv: [hv, [f, T, D]], z3d: [z, [f, TZ, DS]] }), times),
      flops,
    );
    if (f <= naiveFrames) {
      // The reference does the unfolded computation; its GFLOP/s counts what it does.
      const ms = await best(() => fusionProjectorRef(weights, hv, z, f), 1, false);
      record(name, "naive", f, ms, blockFlops(f, false));
    }
  }
  await ort.release();
}

const gpu = await acquireGpu();
log(`adapter: ${gpu.adapter}${gpu.f16 ? " (shader-f16)" : ""}; ORT wasm ${ORT_THREADS} threads`);
await benchLinear(gpu, T, D, DL);
await benchLinear(gpu, T, DL, DL);
await benchAttention(gpu);
log("random weights at full size (and folding them in float64)...");
const weights: FusionProjectorWeights = {
  clipNorm: { weight: randn(D, 0.1).map((x) => 1 + x), bias: randn(D, 0.1) },
  spatialNorm: { weight: randn(DS, 0.1).map((x) => 1 + x), bias: randn(DS, 0.1) },
  clipQuery: layer(D, D),
  spatialKey: layer(D, DS),
  spatialValue: layer(D, DS),
  inQ: layer(D, D),
  inK: layer(D, D),
  inV: layer(D, D),
  attnOut: layer(D, D),
  outProj: layer(D, D),
  outNorm: { weight: randn(D, 0.1).map((x) => 1 + x), bias: randn(D, 0.1) },
  proj1: layer(DL, D),
  proj2: layer(DL, DL),
  newline: randn(DL, 1),
};
await benchBlock(gpu, weights);
gpu.destroy();

if (values.json) {
  console.log(JSON.stringify({ adapter: gpu.adapter, rows }));
} else {
  const ort = (r: Row) =>
    rows.find((o) => o.name === r.name && o.impl === "ort" && o.frames === r.frames);
  const naiveWgsl = rows.filter((r) => r.name.endsWith("(naive wgsl)"));
  const yard = Math.max(...naiveWgsl.map((r) => r.gflops));
  console.log(`adapter: ${gpu.adapter}; onnxruntime-web wasm, ${ORT_THREADS} threads`);
  console.log("| name | impl | frames | ms | GFLOP/s | x ORT | x naive WGSL matmul |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const o = ort(r);
    const vsOrt = o ? (r.gflops / o.gflops).toFixed(2) : "";
    console.log(
      `| ${r.name} | ${r.impl} | ${r.frames} | ${r.ms} | ${r.gflops} | ${vsOrt} | ${
        (r.gflops / yard).toFixed(2)
      } |`,
    );
  }
}
