/**
 * Benchmark of the Qwen2 decoder on WebGPU: prefill tokens/s, decode tokens/s, GB/s of weights
 * streamed per decode token and the GPU memory the model holds, for
 * - `qwen2-small` (the golden's shape: 2 layers, hidden 896, 7/1 heads of 128, MLP 400, vocab
 *   512; random weights),
 * - one real-size Qwen2-7B layer (hidden 3584, 28/4 heads of 128, MLP 18944; random weights,
 *   a 64-row lm_head so the layer dominates) at `--tokens` prompt lengths,
 * - with `--full`, the whole Qwen2-7B shape (28 layers, 151,647-row vocabulary): for GPUs
 *   with the memory for it (about 16 GB in f16, 5 GB in int4),
 * each in the weight formats of `--variants` (f32, f16, int8, int4; int8/int4 codes are random,
 * as a converted model stores them). On CPU adapters the same 7B layer also runs on
 * onnxruntime-web (wasm, fp32, model/qwen2_onnx.ts) as the baseline of its prefill (`--no-ort`
 * skips it; up to 2,048 tokens, beyond which its score matrix outgrows wasm memory). Prints a table, or with `--json` one object
 * `{adapter, rows: [...]}`.
 *
 *   deno task bench:llm [-- --json] [--tokens 1024,7168] [--variants f32,f16,int8,int4]
 *                       [--decode 8] [--full] [--no-ort]
 *
 * Default `--tokens`: 1024,7168 on a GPU; 128 on a CPU adapter, where one 7B layer's prefill
 * at 1,024 tokens takes minutes (pass it explicitly to measure it there).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Rng } from "../geometry/rng.ts";
import { acquireGpu, type Gpu } from "../kernels/device.ts";
import { INT4_GROUP } from "../kernels/linear_q.ts";
import { Qwen2 } from "../model/qwen2.ts";
import { GLOBAL_NAMES, layerNames, type Qwen2Config } from "../model/qwen2_config.ts";
import type { HostTensor } from "../model/weights/safetensors.ts";
import type { RawTensor, TensorInfo, TensorSource } from "../model/weights/source.ts";
import { qwen2Onnx } from "../model/qwen2_onnx.ts";
import { ORT_THREADS, OrtModel } from "../model/ort_baseline.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "boolean", default: false },
    tokens: { type: "string" },
    variants: { type: "string", default: "f32,f16,int8,int4" },
    decode: { type: "string", default: "8" },
    full: { type: "boolean", default: false },
    "no-ort": { type: "boolean", default: false },
  },
});
const log = (s: string) => values.json || console.error(s);
type Variant = "f32" | "f16" | "int8" | "int4";

/** qwen2-small's shape (shared/fixtures/qwen2-small/config.json). */
const SMALL: Qwen2Config = {
  hidden: 896,
  intermediate: 400,
  layers: 2,
  heads: 7,
  kvHeads: 1,
  headDim: 128,
  vocab: 512,
  ropeTheta: 1e6,
  rmsEps: 1e-6,
};
/** Qwen2-7B (model-reference.md §6.2), vocabulary cut to len(tokenizer) (§11.1). */
const QWEN2_7B: Qwen2Config = {
  hidden: 3584,
  intermediate: 18944,
  layers: 28,
  heads: 28,
  kvHeads: 4,
  headDim: 128,
  vocab: 151647,
  ropeTheta: 1e6,
  rmsEps: 1e-6,
};

interface Row {
  model: string;
  variant: Variant;
  tokens: number;
  prefillTokS: number;
  decodeTokS: number;
  decodeGBs: number;
  gpuMB: number;
}
const rows: Row[] = [];
const ortRows: { tokens: number; ms: number; tokS: number }[] = [];

/**
 * Random weights of `config` generated on demand (N(0, 1/fan_in) linears, norms near 1), as
 * float or, for int8/int4, random codes and scales of the converted layout.
 */
function randomSource(config: Qwen2Config, variant: Variant): TensorSource {
  const c = config, hd = c.headDim;
  const shapes = new Map<string, number[]>();
  const linears = new Set<string>();
  const lin = (p: string, n: number, k: number, bias = false) => {
    linears.add(p);
    if (variant === "int8" || variant === "int4") {
      shapes.set(`${p}.qweight`, variant === "int8" ? [n, k] : [n, k / 2]);
      shapes.set(`${p}.scales`, variant === "int8" ? [n] : [n, Math.ceil(k / INT4_GROUP)]);
    } else shapes.set(`${p}.weight`, [n, k]);
    if (bias) shapes.set(`${p}.bias`, [n]);
  };
  for (let i = 0; i < c.layers; i++) {
    const n = layerNames(i);
    lin(n.q, c.heads * hd, c.hidden, true);
    lin(n.k, c.kvHeads * hd, c.hidden, true);
    lin(n.v, c.kvHeads * hd, c.hidden, true);
    lin(n.o, c.hidden, c.heads * hd);
    lin(n.gate, c.intermediate, c.hidden);
    lin(n.up, c.intermediate, c.hidden);
    lin(n.down, c.hidden, c.intermediate);
    shapes.set(n.inNorm, [c.hidden]);
    shapes.set(n.postNorm, [c.hidden]);
  }
  shapes.set(GLOBAL_NAMES.embed, [c.vocab, c.hidden]);
  shapes.set(GLOBAL_NAMES.norm, [c.hidden]);
  lin(GLOBAL_NAMES.lmHead, c.vocab, c.hidden);
  const info = (name: string): TensorInfo | undefined => {
    const s = shapes.get(name);
    if (!s) return undefined;
    const dtype = name.endsWith(".qweight")
      ? (variant === "int8" ? "I8" : "U8")
      : name.endsWith(".scales")
      ? "F16"
      : "F32";
    return { shape: s, dtype };
  };
  const read = (name: string, r?: { start: number; count: number }): Promise<HostTensor> => {
    const s = shapes.get(name)!;
    const start = r?.start ?? 0, count = r?.count ?? s[0];
    const width = s.slice(1).reduce((a, b) => a * b, 1);
    // A fast uniform generator (7.6 B values for --full): xorshift32 seeded by name and rows,
    // scaled to the standard deviation wanted.
    let st = new Rng(`${name}@${start}`).nextUint32() | 1;
    const uniform = () => {
      st ^= st << 13;
      st ^= st >>> 17;
      st ^= st << 5;
      return (st >>> 0) / 4294967296;
    };
    const fill = (mean: number, std: number) => {
      const a = Math.sqrt(3) * std;
      for (let i = 0; i < data.length; i++) data[i] = mean + a * (2 * uniform() - 1);
    };
    const data = new Float32Array(count * width);
    if (name.endsWith(".qweight")) {
      for (let i = 0; i < data.length; i++) {
        const u = Math.floor(uniform() * 256);
        data[i] = variant === "int8" ? Math.max(-127, u - 128) : u;
      }
    } else if (name.endsWith(".scales")) {
      // Weights of standard deviation 1/sqrt(K): codes uniform over +-127 (std 73) or 0..15
      // around 8 (std 4.6).
      const q = shapes.get(name.replace(/\.scales$/, ".qweight"))!;
      const k = variant === "int8" ? q[1] : 2 * q[1];
      data.fill(1 / ((variant === "int8" ? 73 : 4.6) * Math.sqrt(k)));
    } else if (s.length === 1 && !name.endsWith(".bias")) {
      fill(1, 0.1);
    } else {
      const std = name.endsWith(".bias")
        ? 0.1
        : name === GLOBAL_NAMES.embed
        ? 0.5
        : 1 / Math.sqrt(s[1]);
      fill(0, std);
    }
    return Promise.resolve({ shape: [count, ...s.slice(1)], data, stored: info(name)!.dtype });
  };
  return {
    names: [...shapes.keys()],
    info,
    read,
    async readRaw(name, r): Promise<RawTensor> {
      const t = await read(name, r);
      return { shape: t.shape, dtype: "F32", bytes: new Uint8Array(t.data.buffer) };
    },
  };
}

async function benchModel(
  gpu: Gpu,
  name: string,
  config: Qwen2Config,
  variant: Variant,
  tokens: number[],
): Promise<void> {
  if (variant === "f16" && !gpu.f16) {
    log(`${name} ${variant}: skipped (no shader-f16)`);
    return;
  }
  log(`${name} ${variant}: loading random weights...`);
  const model = await Qwen2.load(gpu, randomSource(config, variant), config, {
    dtype: variant === "f16" ? "f16" : "f32",
  });
  const steps = Math.max(1, Number(values.decode));
  const rng = new Rng(`${name}-prompt`);
  // Warm-up: compile every pipeline on a short prompt.
  {
    const cache = model.cache(8 + 2);
    const x = Float32Array.from({ length: 8 * config.hidden }, () => rng.normal());
    await model.prefill(cache, { embeds: x });
    await model.decode(cache);
    cache.destroy();
  }
  for (const t of tokens) {
    const embeds = Float32Array.from({ length: t * config.hidden }, () => rng.normal());
    const cache = model.cache(t + steps + 1);
    const t0 = performance.now();
    await model.prefill(cache, { embeds });
    const prefillS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    for (let s = 0; s < steps; s++) await model.decode(cache, { penalty: 1.05 });
    const stepS = (performance.now() - t1) / 1000 / steps;
    const c = config, chunk = Math.min(512, t);
    const workspace = chunk * 4 *
      (5 * c.hidden + 3 * c.heads * c.headDim + 2 * c.kvHeads * c.headDim + 3 * c.intermediate);
    const row: Row = {
      model: name,
      variant,
      tokens: t,
      prefillTokS: +(t / prefillS).toFixed(1),
      decodeTokS: +(1 / stepS).toFixed(2),
      decodeGBs: +(model.decodeWeightBytes / stepS / 1e9).toFixed(3),
      gpuMB: Math.round((model.weightMemory + cache.bytes + workspace) / 2 ** 20),
    };
    rows.push(row);
    log(
      `  ${t} tokens: prefill ${row.prefillTokS} tok/s, decode ${row.decodeTokS} tok/s ` +
        `(${row.decodeGBs} GB/s of weights), ${row.gpuMB} MB`,
    );
    cache.destroy();
  }
  model.destroy();
}

async function benchOrt(c: Qwen2Config, t: number): Promise<void> {
  if (t > 2048) {
    log(`onnxruntime-web: ${t} tokens skipped (its [28, T, T] score matrix outgrows wasm memory)`);
    return;
  }
  log(`7B layer on onnxruntime-web (wasm, ${ORT_THREADS} threads, fp32), ${t} tokens...`);
  // The same random weights as the f32 WGSL rows (the source is deterministic by name).
  const onnx = await qwen2Onnx(randomSource(c, "f32"), c, { tokens: t });
  const ort = await OrtModel.create(onnx, ORT_THREADS);
  const x = Float32Array.from({ length: t * c.hidden }, (_, i) => Math.sin(i));
  await ort.run({ x: [x, [t, c.hidden]] });
  const t0 = performance.now();
  await ort.run({ x: [x, [t, c.hidden]] });
  const ms = performance.now() - t0;
  await ort.release();
  ortRows.push({ tokens: t, ms: +ms.toFixed(0), tokS: +(t / ms * 1000).toFixed(1) });
  log(`  ${ms.toFixed(0)} ms (${(t / ms * 1000).toFixed(1)} tok/s)`);
}

const gpu = await acquireGpu();
const tokens = (values.tokens ?? (gpu.cpu ? "128" : "1024,7168")).split(",").map(Number);
const variants = values.variants.split(",") as Variant[];
log(`adapter: ${gpu.adapter}${gpu.f16 ? " (shader-f16)" : ""}${gpu.cpu ? ", a CPU adapter" : ""}`);
for (const v of variants) await benchModel(gpu, "qwen2-small", SMALL, v, [37]);
const layer: Qwen2Config = { ...QWEN2_7B, layers: 1, vocab: 64 };
for (const v of variants) await benchModel(gpu, "qwen2-7b 1 layer", layer, v, tokens);
if (values.full) {
  for (const v of variants) await benchModel(gpu, "qwen2-7b", QWEN2_7B, v, tokens);
}
if (gpu.cpu && !values["no-ort"]) { for (const t of tokens) await benchOrt(layer, t); }
gpu.destroy();

if (values.json) {
  console.log(JSON.stringify({ adapter: gpu.adapter, rows, ort: ortRows }));
} else {
  console.log(`adapter: ${gpu.adapter}`);
  console.log(
    "| model | weights | prompt tokens | prefill tok/s | decode tok/s | decode GB/s | GPU MB |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.model} | ${r.variant} | ${r.tokens} | ${r.prefillTokS} | ${r.decodeTokS} | ${r.decodeGBs} | ${r.gpuMB} |`,
    );
  }
  if (ortRows.length) {
    console.log(`\nonnxruntime-web wasm (${ORT_THREADS} threads), the same 7B layer in fp32:`);
    console.log("| prompt tokens | ms | prefill tok/s | WGSL f32 / ORT |");
    console.log("|---|---|---|---|");
    for (const r of ortRows) {
      const w = rows.find((x) =>
        x.model === "qwen2-7b 1 layer" && x.variant === "f32" && x.tokens === r.tokens
      );
      const ratio = w ? (w.prefillTokS / r.tokS).toFixed(2) : "";
      console.log(`| ${r.tokens} | ${r.ms} | ${r.tokS} | ${ratio} |`);
    }
  }
}
