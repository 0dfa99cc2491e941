/**
 * `deno task bench:convert`: `vlm3r convert` throughput and peak memory on a generated release
 * of realistic width (Qwen2-7B's 3584-wide layer with its r=128 LoRA, the real 152,064-row
 * embedding and lm_head in bf16, SigLIP so400m width, the real projector and fusion; a tiny
 * CUT3R), against a plain copy of the same input bytes.
 *
 * Options: `--layers N` (default 1), `--vocab N` (default 152064, at least len(tokenizer)),
 * `--quantize none|int8|int4` (default none), `--keep DIR` (keep the generated files there; a
 * release already kept there is reused, not generated again), `--quick` (Qwen2-0.5B's 896-wide
 * layer instead of 7B's: about a quarter of the bytes, for iterating; report the full figures),
 * `--before DIR` (also time DIR/cli/main.ts, another checkout such as the main branch, on the
 * same release in the same run).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { architecture } from "../model/weights/architecture.ts";
import { SafetensorsWriter } from "../model/weights/safetensors.ts";
import {
  loraConfigJson,
  qwen2TokenizerJson,
  toBf16Bytes,
  writeTinyRelease,
} from "../model/weights/tiny.ts";
import { type TorchWriteTensor, writeTorch } from "../model/weights/torch.ts";
import { cut3rConfig, visionConfig } from "../model/weights/config.ts";
import { TINY_CUT3R } from "../model/weights/tiny.ts";
import type { ModelConfig } from "../model/weights/config.ts";
import { runCli, time } from "./_util.ts";

const { values: opt } = parseArgs({
  args: Deno.args,
  options: {
    layers: { type: "string", default: "1" },
    vocab: { type: "string", default: "152064" },
    quantize: { type: "string", default: "none" },
    keep: { type: "string" },
    quick: { type: "boolean", default: false },
    before: { type: "string" },
  },
});
const layers = Number(opt.layers), vocab = Math.max(151647, Number(opt.vocab)); // >= len(tokenizer)
// Qwen2-7B (LLaVA-Video-7B-Qwen2), or Qwen2-0.5B's width with --quick.
const [H, I, HEADS, KV] = opt.quick ? [896, 4864, 14, 2] : [3584, 18944, 28, 4];
const R = 128;

const siglip = {
  hidden_size: 1152,
  intermediate_size: 4304,
  num_attention_heads: 16,
  num_hidden_layers: 2,
  image_size: 384,
  patch_size: 14,
  layer_norm_eps: 1e-6,
  hidden_act: "gelu_pytorch_tanh",
};
const config = {
  llm: {
    hidden: H,
    intermediate: I,
    layers,
    heads: HEADS,
    kvHeads: KV,
    headDim: H / HEADS,
    vocab: Math.min(151647, vocab),
    checkpointVocab: vocab,
  },
  vision: visionConfig({ vision_config: siglip }, "bench", -2),
  cut3r: cut3rConfig(TINY_CUT3R, "bench"),
  fusion: { type: "cross_attention", heads: 18, width: 1152, spatialDim: 64 },
} as unknown as ModelConfig;

// Fast deterministic fill: xorshift32 uniform in [-scale, scale], in chunks.
function fill(
  n: number,
  scale: number,
  seed: number,
  emit: (chunk: Float32Array) => Promise<void>,
) {
  let s = seed | 1;
  const chunk = new Float32Array(Math.min(n, 1 << 22));
  return (async () => {
    for (let done = 0; done < n; done += chunk.length) {
      const c = Math.min(chunk.length, n - done);
      for (let i = 0; i < c; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        chunk[i] = ((s >>> 0) / 2 ** 31 - 1) * scale;
      }
      await emit(chunk.subarray(0, c));
    }
  })();
}

async function generate(dir: string) {
  await writeTinyRelease(`${dir}/tiny`, 0);
  for (const d of ["base", "lora", "cut3r", "siglip"]) {
    await Deno.mkdir(`${dir}/${d}`, { recursive: true });
  }
  await Deno.rename(`${dir}/tiny/cut3r/cut3r_tiny.pth`, `${dir}/cut3r/cut3r_tiny.pth`);
  await Deno.remove(`${dir}/tiny`, { recursive: true });
  const json = (p: string, v: unknown) =>
    Deno.writeTextFile(`${dir}/${p}`, JSON.stringify(v, null, 2));
  await json("lora/config.json", {
    ...loraConfigJson(),
    hidden_size: H,
    intermediate_size: I,
    num_attention_heads: HEADS,
    num_key_value_heads: KV,
    num_hidden_layers: layers,
    vocab_size: vocab,
    mm_hidden_size: 1152,
  });
  await json("siglip/config.json", { vision_config: siglip });
  await json("base/generation_config.json", {
    eos_token_id: [151645, 151643],
    repetition_penalty: 1.05,
  });
  await Deno.writeTextFile(`${dir}/base/tokenizer.json`, await qwen2TokenizerJson());
  const specs = architecture(config);
  const base = specs.filter((s) =>
    s.component !== "cut3r" && !s.name.startsWith("model.fusion_block.")
  )
    .map((s) => /embed_tokens|lm_head/.test(s.name) ? { ...s, shape: [vocab, H] } : s);
  const shards = [
    base.filter((s) => s.name === "model.embed_tokens.weight"),
    base.filter((s) => s.name !== "model.embed_tokens.weight"),
  ];
  const weightMap: Record<string, string> = {};
  for (const [i, list] of shards.entries()) {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    const w = await SafetensorsWriter.create(
      `${dir}/base/${file}`,
      list.map((s) => ({ name: s.name, dtype: "BF16", shape: s.shape })),
    );
    for (const [j, s] of list.entries()) {
      weightMap[s.name] = file;
      const n = s.shape.reduce((a, b) => a * b, 1);
      const scale = s.shape.length > 1 ? Math.sqrt(3 / s.shape[1]) : 0.1;
      await fill(n, scale, i * 1000 + j + 1, (c) => w.write(s.name, toBf16Bytes(c)));
    }
    await w.close();
  }
  await json("base/model.safetensors.index.json", { metadata: {}, weight_map: weightMap });
  const targets = specs.filter((s) => s.llmLinear);
  await json("lora/adapter_config.json", {
    r: R,
    lora_alpha: 2 * R,
    target_modules: targets.map((s) => s.name.replace(/\.weight$/, "")),
    peft_type: "LORA",
  });
  const adapter = new Map<string, TorchWriteTensor>();
  let seed = 7;
  const tensor = async (shape: number[], scale: number): Promise<TorchWriteTensor> => {
    const parts: Uint8Array[] = [];
    await fill(
      shape.reduce((a, b) => a * b, 1),
      scale,
      seed++,
      (c) => Promise.resolve(void parts.push(toBf16Bytes(c.slice()))),
    );
    const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) bytes.set(p, (at += p.length) - p.length);
    return { shape, dtype: "BF16", bytes };
  };
  for (const s of targets) {
    const m = `base_model.model.${s.name.replace(/\.weight$/, "")}`;
    adapter.set(`${m}.lora_A.weight`, await tensor([R, s.shape[1]], 0.01));
    adapter.set(`${m}.lora_B.weight`, await tensor([s.shape[0], R], 0.01));
  }
  await writeTorch(`${dir}/lora/adapter_model.bin`, adapter);
  const nonLora = new Map<string, TorchWriteTensor>();
  for (const s of specs.filter((s) => /^model\.(fusion_block|mm_projector)\./.test(s.name))) {
    nonLora.set(`base_model.model.${s.name}`, await tensor([...s.shape], 0.05));
  }
  await writeTorch(`${dir}/lora/non_lora_trainables.bin`, nonLora);
}

async function bytesUnder(dir: string): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) {
      const sub = await bytesUnder(p);
      files.push(...sub.files);
      bytes += sub.bytes;
    } else {
      files.push(p);
      bytes += (await Deno.stat(p)).size;
    }
  }
  return { files, bytes };
}

const dir = opt.keep ?? await Deno.makeTempDir({ prefix: "vlm3r-bench-convert-" });
try {
  const kept = await Deno.stat(`${dir}/release/done`).then(() => true, () => false);
  const [, genS] = kept ? [undefined, 0] : await time(async () => {
    await Deno.remove(`${dir}/release`, { recursive: true }).catch(() => {});
    await generate(`${dir}/release`);
    await Deno.writeTextFile(`${dir}/release/done`, "");
  });
  const input = await bytesUnder(`${dir}/release`);
  await Deno.mkdir(`${dir}/copy`);
  const [, copyS] = await time(async () => {
    for (const [i, f] of input.files.entries()) await Deno.copyFile(f, `${dir}/copy/${i}`);
  });
  // What convert also does before it renames its output into place: flush it to disk.
  const [, syncS] = await time(async () => {
    for (const i of input.files.keys()) {
      using f = await Deno.open(`${dir}/copy/${i}`, { read: true });
      await f.syncData();
    }
  });
  await Deno.remove(`${dir}/copy`, { recursive: true });
  const r = `${dir}/release`;
  const convert = async (out: string, cli?: string) => {
    await Deno.remove(out, { recursive: true }).catch(() => {});
    const res = await runCli([
      "convert",
      "--base",
      `${r}/base`,
      "--lora",
      `${r}/lora`,
      "--cut3r",
      `${r}/cut3r/cut3r_tiny.pth`,
      "--siglip",
      `${r}/siglip`,
      "--out",
      out,
      "--quantize",
      String(opt.quantize),
      "-q",
    ], cli);
    await Deno.remove(out, { recursive: true });
    return res;
  };
  const run = await convert(`${dir}/model`);
  const before = opt.before
    ? await convert(`${dir}/model-before`, `${opt.before.replace(/\/+$/, "")}/cli/main.ts`)
    : undefined;
  const largest = vocab * H * 4; // the embedding, widened to f32 (the largest tensor read)
  const mb = input.bytes / 1e6;
  const rows = [
    [
      "input (generated release)",
      `${mb.toFixed(0)} MB`,
      kept ? `reused from ${dir}` : `generated in ${genS.toFixed(1)} s`,
    ],
    ["plain copy", `${(mb / copyS).toFixed(0)} MB/s`, `${copyS.toFixed(1)} s`],
    [
      "plain copy, then fsync",
      `${(mb / (copyS + syncS)).toFixed(0)} MB/s`,
      `${(copyS + syncS).toFixed(1)} s (convert syncs its output too)`,
    ],
    [
      `vlm3r convert (f16, quantize ${opt.quantize})`,
      `${(mb / run.seconds).toFixed(0)} MB/s`,
      `${run.seconds.toFixed(1)} s`,
    ],
    ["convert / copy speed", `${(copyS / run.seconds).toFixed(2)}x`, "aim >= 0.3x"],
    [
      "convert peak RSS",
      `${run.peakMb ?? "?"} MB`,
      `largest tensor ${(largest / 2 ** 20).toFixed(0)} MiB f32 (${
        (vocab * H * 2 / 2 ** 20).toFixed(0)
      } MiB bf16)`,
    ],
    [
      "peak RSS / largest tensor (bf16)",
      `${((run.peakMb ?? NaN) / (vocab * H * 2 / 2 ** 20)).toFixed(2)}x`,
      "aim < 2x",
    ],
    ...(before
      ? [
        [
          "before: convert",
          `${(mb / before.seconds).toFixed(0)} MB/s`,
          `${before.seconds.toFixed(1)} s, ${opt.before}`,
        ],
        ["before: convert / copy speed", `${(copyS / before.seconds).toFixed(2)}x`, ""],
        ["before: convert peak RSS", `${before.peakMb ?? "?"} MB`, ""],
      ]
      : []),
  ];
  console.log(
    `vlm3r convert: ${layers} Qwen2-${
      opt.quick ? "0.5B" : "7B"
    } layer(s) + LoRA r=${R}, vocabulary ${vocab} x ${H}, SigLIP so400m width, tiny CUT3R`,
  );
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")[0];
  console.log(
    `machine: ${navigator.hardwareConcurrency} logical cores, load average ${load} at the end`,
  );
  for (const [a, b, c] of rows) console.log(`| ${a.padEnd(36)} | ${b.padStart(12)} | ${c}`);
} finally {
  if (!opt.keep) await Deno.remove(dir, { recursive: true });
}
