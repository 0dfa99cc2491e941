/**
 * `vlm3r convert`: the VLM-3R release as downloaded (base folder, LoRA folder, CUT3R `.pth`)
 * into one model folder the engine loads fast (model/weights/convert.ts).
 *
 * @module
 */

import { convertRelease, DEFAULT_MAX_BINDING } from "../model/weights/convert.ts";
import { openRelease } from "../model/weights/release.ts";
import { type Command, type Context, UsageError } from "./_command.ts";

/** The `convert` command. */
export const convert: Command = {
  name: "convert",
  summary: "merge the VLM-3R release (base + LoRA + CUT3R) into a GPU-ready model folder",
  usage: "vlm3r convert --base DIR --lora DIR --cut3r FILE --out MODEL [--siglip CONFIG] " +
    "[--dtype f16|f32] [--quantize none|int8|int4] [--fold-fusion] [--max-binding-mib N] [--force]",
  examples: [
    "vlm3r convert --base LLaVA-Video-7B-Qwen2 --lora vlm-3r-llava-qwen2-lora " +
    "--cut3r cut3r_512_dpt_4_64.pth --out models/vlm3r-f16",
    "vlm3r convert --base tiny/base --lora tiny/lora --cut3r tiny/cut3r/cut3r_tiny.pth " +
    "--siglip tiny/siglip --out models/tiny --quantize int4",
  ],
  options: {
    base: {
      type: "string",
      value: "DIR",
      description: "LLaVA-Video-7B-Qwen2 folder (shards, tokenizer)",
    },
    lora: {
      type: "string",
      value: "DIR",
      description: "VLM-3R LoRA folder (config.json, adapter, non_lora_trainables.bin)",
    },
    cut3r: {
      type: "string",
      value: "FILE",
      description: "CUT3R checkpoint (cut3r_512_dpt_4_64.pth)",
    },
    siglip: {
      type: "string",
      value: "CONFIG",
      description: "SigLIP vision config.json (or its folder)",
      default: "google/siglip-so400m-patch14-384's geometry",
    },
    out: { type: "string", value: "MODEL", description: "model folder to write" },
    dtype: {
      type: "string",
      value: "T",
      description: "storage of matrices (vectors stay f32)",
      choices: ["f16", "f32"],
      default: "f16",
    },
    quantize: {
      type: "string",
      value: "Q",
      description: "quantise the language model's linears (never the towers)",
      choices: ["none", "int8", "int4"],
      default: "none",
    },
    "fold-fusion": {
      type: "boolean",
      description: "also store the fusion's stacked linears folded",
    },
    "max-binding-mib": {
      type: "string",
      value: "N",
      description: "largest shard and tensor piece, MiB (the GPU binding limit)",
      default: String(DEFAULT_MAX_BINDING / 2 ** 20),
    },
    force: { type: "boolean", description: "replace MODEL if it exists" },
  },
  run,
};

async function run(ctx: Context): Promise<number> {
  const base = ctx.string("base", true), lora = ctx.string("lora", true);
  const cut3r = ctx.string("cut3r", true), out = ctx.string("out", true);
  const siglip = ctx.string("siglip");
  const dtype = (ctx.string("dtype") ?? "f16") as "f16" | "f32";
  const quantize = (ctx.string("quantize") ?? "none") as "none" | "int8" | "int4";
  const mib = ctx.int("max-binding-mib", DEFAULT_MAX_BINDING / 2 ** 20, { min: 1, max: 4096 });
  if (!ctx.flag("force") && await Deno.stat(out).then(() => true, () => false)) {
    throw new UsageError(`--out ${out} exists (use --force to replace it)`);
  }
  const release = await openRelease({ base, lora, cut3r, siglip });
  const provenance = release.files.map((path) => ({
    role: roleOf(path, { base, lora, cut3r }),
    path,
  }));
  let bar: ReturnType<Context["progress"]> | undefined;
  const manifest = await convertRelease(release, out, {
    dtype,
    quantize,
    foldFusion: ctx.flag("fold-fusion"),
    maxBindingBytes: mib * 2 ** 20,
    provenance,
    replace: ctx.flag("force"),
    onProgress(done, total) {
      bar ??= ctx.progress("convert", Math.ceil(total / 2 ** 20), "MiB");
      bar.set(Math.floor(done / 2 ** 20));
    },
  });
  bar?.done();
  const bytes = manifest.shards.reduce((a, s) => a + s.bytes, 0);
  ctx.out(
    `wrote ${out}: ${manifest.tensors.length} tensors, ${(bytes / 2 ** 20).toFixed(1)} MiB in ` +
      `${manifest.shards.length} shards (${dtype}, quantize ${quantize}); vocabulary ` +
      `${manifest.config.llm.vocab} rows; dropped ${release.dropped.length} unused tensors`,
  );
  return 0;
}

function roleOf(path: string, p: { base: string; lora: string; cut3r: string }): string {
  if (path === p.cut3r) return "cut3r";
  if (path.startsWith(p.lora.replace(/\/+$/, ""))) return "lora";
  if (path.startsWith(p.base.replace(/\/+$/, ""))) return "base";
  return "siglip";
}
