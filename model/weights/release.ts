/**
 * The VLM-3R release as users download it, read directly: the LLaVA-Video base folder (sharded
 * safetensors, tokenizer, `generation_config.json`), the VLM-3R LoRA folder (`config.json`,
 * `adapter_config.json`, `adapter_model.bin|.safetensors`, `non_lora_trainables.bin`) and
 * CUT3R's `.pth`, as one {@link TensorSource} with the canonical names of `architecture.ts`,
 * following the reference loader (model-reference.md §6.3, §11):
 * - the config from `lora/config.json` (`base/config.json` is not read);
 * - LoRA merged, `W += (alpha / r) B A`, for every module the adapter holds (checked against
 *   `target_modules`), in f32 as PEFT's `(B @ A) * scaling` (summed over the rank in one fixed
 *   order: {@link loraMerge}), per tensor and per row range on demand;
 * - `non_lora_trainables.bin` (prefix `base_model.`, then one `model.`, stripped) replacing the
 *   base's projector and adding the fusion block;
 * - CUT3R's state dict (`module.` stripped) as `cut3r.<key>`; `dec_blocks_state.*` copied from
 *   `dec_blocks.*` when absent, as CUT3R's loader does;
 * - embedding and lm_head cut to `len(tokenizer)` rows;
 * - unused tensors dropped (SigLIP's last layer, post-norm and head; CUT3R's ray-map encoder,
 *   masked tokens and heads) and listed.
 * A missing or mis-shaped tensor is one `DataError` line naming the file, the key, the expected
 * and the found shape.
 *
 * @module
 */

import { DataError } from "../../io/errors.ts";
import { architecture, CUT3R_PREFIX, type TensorSpec } from "./architecture.ts";
import {
  cut3rConfig,
  fusionConfig,
  generationConfig,
  llmConfig,
  type ModelConfig,
  multimodalConfig,
  readJson,
  SO400M,
  SO400M_ID,
  tokenizerFacts,
  visionConfig,
} from "./config.ts";
import {
  type HostTensor,
  openSafetensors,
  readSafetensorsHeader,
  type SafetensorsEntry,
  type StoredDType,
} from "./safetensors.ts";
import {
  checkRows,
  type RawTensor,
  type RowRange,
  type TensorInfo,
  type TensorSource,
} from "./source.ts";
import { checkpointArg, openTorch, tensorsOf, type TorchFile, torchSource } from "./torch.ts";

/** Where the three downloads are. */
export interface ReleasePaths {
  /** LLaVA-Video-7B-Qwen2 folder. */
  base: string;
  /** VLM-3R LoRA folder. */
  lora: string;
  /** CUT3R `.pth`. */
  cut3r: string;
  /**
   * SigLIP's vision config (a `config.json`, or a folder holding one). Optional when the
   * release names google/siglip-so400m-patch14-384, whose defaults are then used.
   */
  siglip?: string;
}

/** Options of {@link openRelease}. */
export interface OpenReleaseOptions {
  /** Collect missing and mis-shaped tensors in `problems` instead of throwing the first. */
  lenient?: boolean;
}

/** A tensor of the release the model does not use. */
export interface DroppedTensor {
  /** File it is in. */
  file: string;
  /** Its key there. */
  key: string;
  shape: readonly number[];
}

/** The release, read. */
export interface Release {
  /** Every tensor the model uses, canonical names, model order. */
  source: TensorSource;
  config: ModelConfig;
  /** The architecture table checked. */
  specs: TensorSpec[];
  /** Where each canonical tensor comes from (`file: key`, `+ LoRA` when merged). */
  origin: Map<string, string>;
  /** Tensors present but unused. */
  dropped: DroppedTensor[];
  /** Missing or mis-shaped tensors (only with `lenient`; otherwise the first is thrown). */
  problems: DataError[];
  /** Every file read, for provenance. */
  files: string[];
  /** Tokenizer and generation files of the base folder (copied into a converted model). */
  tokenizerFiles: string[];
  lora: { r: number; alpha: number; scale: number; modules: string[] };
}

/** Tokenizer files a base folder may hold (copied by `vlm3r convert`). */
export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "added_tokens.json",
  "special_tokens_map.json",
  "vocab.json",
  "merges.txt",
  "generation_config.json",
];

/** Where a tensor's stored rows lie: row `i` is `rowBytes` bytes at `offset + i * rowBytes`. */
export interface StoredRows {
  file: string;
  offset: number;
  rowBytes: number;
  dtype: StoredDType;
}

/** A LoRA merged on read, `W += scale B A`: its operands, read separately. */
export interface LoraOperands {
  scale: number;
  /** Its rank r. */
  rank: number;
  /** `A` [r, in], float32. */
  a(): Promise<Float32Array>;
  /** Rows of `B` [out, r], float32. */
  b(rows: RowRange): Promise<Float32Array>;
  /** Rows of the base weight, as stored. */
  base(rows: RowRange): Promise<RawTensor>;
}

/**
 * How a tensor of a release is produced, for readers that keep their own buffers (`convert`
 * reads file ranges straight into reused memory and merges with its own kernels): where its
 * stored rows lie (for a merged weight, its base's), and the LoRA merged into it.
 */
export interface TensorPlan {
  stored?: StoredRows;
  lora?: LoraOperands;
}

interface Producer {
  info: TensorInfo;
  /** File and key it is read from (the base weight, for a merged one). */
  file: string;
  key: string;
  origin: string;
  raw(rows?: RowRange): Promise<RawTensor>;
  read(rows?: RowRange): Promise<HostTensor>;
  stored?: StoredRows;
  lora?: LoraOperands;
}

// The plans of each release's own source; a wrapper of that source (a test's broken copy) has
// none, so a reader falls back to what the wrapper's methods return.
const plans = new WeakMap<TensorSource, Map<string, Producer>>();

/**
 * The {@link TensorPlan} of `name` when `source` is the `source` of an {@link openRelease}
 * result itself (undefined for any other source, or a name it lacks).
 */
export function tensorPlan(source: TensorSource, name: string): TensorPlan | undefined {
  const p = plans.get(source)?.get(name);
  return p && { stored: p.stored, lora: p.lora };
}

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;
const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function passthrough(
  src: TensorSource,
  file: string,
  key: string,
  entry?: SafetensorsEntry,
): Producer {
  const info = src.info(key)!;
  // The file range only when it is unambiguously the tensor the source reads.
  const stored = entry && entry.dtype === info.dtype && same(entry.shape, info.shape) &&
      info.shape.length > 0 && info.shape[0] > 0
    ? {
      file: entry.file,
      offset: entry.offset,
      rowBytes: entry.bytes / info.shape[0],
      dtype: entry.dtype,
    }
    : undefined;
  return {
    info,
    file,
    key,
    origin: `${file}: ${key}`,
    raw: (rows) => src.readRaw(key, rows),
    read: (rows) => src.read(key, rows),
    stored,
  };
}

/** Each tensor's entry in the base folder's shards (names found in two files left out). */
async function shardEntries(files: string[]): Promise<Map<string, SafetensorsEntry>> {
  const out = new Map<string, SafetensorsEntry>();
  const twice = new Set<string>();
  for (const f of files) {
    if (!f.endsWith(".safetensors")) continue;
    for (const e of (await readSafetensorsHeader(f)).entries) {
      if (out.has(e.name)) twice.add(e.name);
      out.set(e.name, e);
    }
  }
  for (const n of twice) out.delete(n);
  return out;
}

/**
 * Reads the release; tensors are read (and LoRA merged) only when asked for.
 *
 * @example
 * ```ts ignore
 * const r = await openRelease({ base: "LLaVA-Video-7B-Qwen2", lora: "vlm-3r-lora", cut3r: "cut3r_512_dpt_4_64.pth" });
 * const q = await r.source.read("model.layers.0.self_attn.q_proj.weight"); // merged
 * ```
 */
export async function openRelease(
  paths: ReleasePaths,
  options: OpenReleaseOptions = {},
): Promise<Release> {
  const base = paths.base.replace(/\/+$/, ""), lora = paths.lora.replace(/\/+$/, "");
  const files: string[] = [];

  // --- configuration
  const cfgPath = `${lora}/config.json`;
  const cfg = await readJson(cfgPath);
  files.push(cfgPath);
  const tokenizer = await tokenizerFacts(base);
  files.push(tokenizer.file);
  const mm = multimodalConfig(cfg, cfgPath);
  let vision;
  if (paths.siglip) {
    const p = (await Deno.stat(paths.siglip)).isDirectory
      ? `${paths.siglip.replace(/\/+$/, "")}/config.json`
      : paths.siglip;
    vision = visionConfig(await readJson(p), p, mm.visionSelectLayer);
    files.push(p);
  } else {
    const id = String(cfg.mm_vision_tower ?? "");
    if (!id.includes("siglip-so400m-patch14-384")) {
      throw new DataError(
        cfgPath,
        "mm_vision_tower",
        `${SO400M_ID}, or that tower's config.json given as the SigLIP config (--siglip)`,
        id || "none",
      );
    }
    vision = visionConfig(SO400M, `${SO400M_ID} defaults`, mm.visionSelectLayer);
  }
  const genPath = `${base}/generation_config.json`;
  const gen = (await exists(genPath)) ? await readJson(genPath) : undefined;
  if (gen) files.push(genPath);
  const cut3rFile = await openTorch(paths.cut3r);
  files.push(paths.cut3r);
  const ctor = checkpointArg(cut3rFile.root, "model");
  if (typeof ctor !== "string") {
    throw new DataError(paths.cut3r, "args.model", "the model constructor string", String(ctor));
  }
  const config: ModelConfig = {
    llm: llmConfig(cfg, cfgPath, tokenizer.length),
    vision,
    cut3r: cut3rConfig(ctor, paths.cut3r),
    fusion: fusionConfig(cfg, cfgPath),
    mm,
    tokenizer,
    generation: generationConfig(gen, genPath, Number(cfg.eos_token_id ?? 151645)),
  };
  if (mm.projectorType !== "mlp2x_gelu") {
    throw new DataError(cfgPath, "mm_projector_type", "mlp2x_gelu", mm.projectorType);
  }
  const specs = architecture(config);

  // --- tensors
  const baseSrc = await openSafetensors(base);
  const shardFiles: string[] = [];
  for await (const f of Deno.readDir(base)) {
    if (f.name.endsWith(".safetensors") || f.name === "model.safetensors.index.json") {
      shardFiles.push(`${base}/${f.name}`);
    }
  }
  files.push(...shardFiles.sort());
  const entries = await shardEntries(shardFiles);
  const producers = new Map<string, Producer>();
  const dropped: DroppedTensor[] = [];
  const used = new Set(specs.map((s) => s.name));
  const vocabRows = new Set(["model.embed_tokens.weight", "lm_head.weight"]);
  for (const key of baseSrc.names) {
    if (used.has(key)) producers.set(key, passthrough(baseSrc, base, key, entries.get(key)));
    else dropped.push({ file: base, key, shape: baseSrc.info(key)!.shape });
  }

  const nonLoraPath = `${lora}/non_lora_trainables.bin`;
  const nonLora = await openTorch(nonLoraPath);
  files.push(nonLoraPath);
  const nlTensors = tensorsOf(nonLora.root);
  const nlSrc = torchSource(nonLora, nlTensors, nonLoraPath);
  for (const key of nlTensors.keys()) {
    // The reference strips "base_model." and then one "model." (builder.py, LoRA branch).
    let name = key.startsWith("base_model.") ? key.slice("base_model.".length) : key;
    if (name.startsWith("model.model.")) name = name.slice("model.".length);
    if (!used.has(name)) {
      dropped.push({ file: nonLoraPath, key, shape: nlTensors.get(key)!.shape });
      continue;
    }
    const replaced = producers.get(name);
    if (replaced) dropped.push({ file: base, key: name, shape: replaced.info.shape });
    producers.set(name, passthrough(nlSrc, nonLoraPath, key));
  }

  // CUT3R: the state dict under "model" (or the whole file), "module." stripped.
  const sd = cut3rFile.root instanceof Map && cut3rFile.root.has("model")
    ? tensorsOf(cut3rFile.root.get("model")!)
    : tensorsOf(cut3rFile.root);
  const cut3rSrc = torchSource(cut3rFile, sd, paths.cut3r);
  const cutKeys = new Map<string, string>();
  for (const key of sd.keys()) cutKeys.set(key.replace(/^module\./, ""), key);
  if (![...cutKeys.keys()].some((k) => k.startsWith("dec_blocks_state."))) {
    for (const [k, key] of [...cutKeys]) {
      if (k.startsWith("dec_blocks.")) {
        cutKeys.set(k.replace(/^dec_blocks\./, "dec_blocks_state."), key);
      }
    }
  }
  for (const [k, key] of cutKeys) {
    const name = CUT3R_PREFIX + k;
    if (used.has(name)) producers.set(name, passthrough(cut3rSrc, paths.cut3r, key));
    else dropped.push({ file: paths.cut3r, key, shape: sd.get(key)!.shape });
  }

  // --- LoRA
  const loraInfo = await mergeLora(lora, producers, files);

  // --- check against the architecture
  const problems: DataError[] = [];
  const where = (s: TensorSpec) =>
    s.component === "cut3r"
      ? [paths.cut3r, s.name.slice(CUT3R_PREFIX.length)]
      : s.component === "fusion"
      ? [nonLoraPath, `base_model.model.${s.name}`]
      : [base, s.name];
  for (const s of specs) {
    const p = producers.get(s.name);
    const [file, key] = where(s);
    const want = vocabRows.has(s.name) ? [config.llm.checkpointVocab, s.shape[1]] : s.shape;
    if (!p) problems.push(new DataError(file, key, `a tensor ${shapeText(want)}`, "missing"));
    else if (!same(p.info.shape, want)) {
      problems.push(new DataError(p.file, p.key, shapeText(want), shapeText(p.info.shape)));
    }
  }
  if (problems.length && !options.lenient) throw problems[0];

  // Embedding and lm_head keep len(tokenizer) rows (§11.1).
  for (const name of vocabRows) {
    const p = producers.get(name);
    if (!p || !same(p.info.shape, [config.llm.checkpointVocab, config.llm.hidden])) continue;
    producers.set(name, cutRows(p, config.llm.vocab, name));
  }

  const origin = new Map<string, string>();
  const names = specs.map((s) => s.name).filter((n) => producers.has(n));
  for (const n of names) origin.set(n, producers.get(n)!.origin);
  const get = (name: string) => {
    const p = producers.get(name);
    if (!p) throw new DataError("release", name, "a tensor of that name", "none");
    return p;
  };
  const source: TensorSource = {
    names,
    info: (name) => producers.get(name)?.info,
    read: (name, rows) => get(name).read(rows),
    readRaw: (name, rows) => get(name).raw(rows),
  };
  plans.set(source, producers);
  const tokenizerFiles: string[] = [];
  for (const f of TOKENIZER_FILES) {
    if (await exists(`${base}/${f}`)) tokenizerFiles.push(`${base}/${f}`);
  }
  return {
    source,
    config,
    specs,
    origin,
    dropped,
    problems,
    files,
    tokenizerFiles,
    lora: loraInfo,
  };
}

function cutRows(p: Producer, rows: number, name: string): Producer {
  const [, ...rest] = p.info.shape;
  const clip = (r?: RowRange) => {
    const range = r ?? { start: 0, count: rows };
    checkRows("release", name, rows, range);
    return range;
  };
  return {
    ...p,
    info: { shape: [rows, ...rest], dtype: p.info.dtype },
    origin: `${p.origin} (first ${rows} rows)`,
    raw: (r) => p.raw(clip(r)),
    read: (r) => p.read(clip(r)),
  };
}

/** Replaces each adapted linear's producer by one that merges `W + scale B A` on read. */
async function mergeLora(lora: string, producers: Map<string, Producer>, files: string[]) {
  const acPath = `${lora}/adapter_config.json`;
  const ac = await readJson(acPath);
  files.push(acPath);
  const r = Number(ac.r), alpha = Number(ac.lora_alpha);
  if (!(r > 0) || !Number.isFinite(alpha)) {
    throw new DataError(acPath, "r, lora_alpha", "positive numbers", `${ac.r}, ${ac.lora_alpha}`);
  }
  if (ac.fan_in_fan_out === true) throw new DataError(acPath, "fan_in_fan_out", "false");
  for (const k of ["rank_pattern", "alpha_pattern"]) {
    const v = ac[k];
    if (v && typeof v === "object" && Object.keys(v).length) {
      throw new DataError(
        acPath,
        k,
        "empty (per-module ranks are not supported)",
        JSON.stringify(v),
      );
    }
  }
  const scale = ac.use_rslora === true ? alpha / Math.sqrt(r) : alpha / r;
  const targets = ac.target_modules;
  const matches = (module: string): boolean => {
    if (typeof targets === "string") return new RegExp(`^(?:${targets})$`).test(module);
    if (!Array.isArray(targets)) return false;
    return targets.some((t) => module === t || module.endsWith(`.${t}`));
  };

  let adapter: TensorSource, adapterPath = `${lora}/adapter_model.safetensors`;
  if (await exists(adapterPath)) adapter = await openSafetensors(adapterPath);
  else {
    adapterPath = `${lora}/adapter_model.bin`;
    const f: TorchFile = await openTorch(adapterPath);
    adapter = torchSource(f, tensorsOf(f.root), adapterPath);
  }
  files.push(adapterPath);
  const pairs = new Map<string, { a?: string; b?: string }>();
  for (const key of adapter.names) {
    const m = /^(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$/.exec(key);
    if (!m) continue;
    const pair = pairs.get(m[1]) ?? {};
    if (m[2] === "A") pair.a = key;
    else pair.b = key;
    pairs.set(m[1], pair);
  }
  if (Array.isArray(targets) && targets.every((t) => String(t).includes("."))) {
    for (const t of targets) {
      if (!pairs.has(String(t))) {
        throw new DataError(
          adapterPath,
          `base_model.model.${t}.lora_A.weight`,
          "a tensor (a target of adapter_config.json)",
          "missing",
        );
      }
    }
  }
  for (const [module, pair] of pairs) {
    if (!matches(module)) {
      throw new DataError(
        acPath,
        "target_modules",
        `to include ${module} (the adapter holds its LoRA)`,
      );
    }
    if (!pair.a || !pair.b) {
      throw new DataError(
        adapterPath,
        `${module}.lora_${pair.a ? "B" : "A"}.weight`,
        "a tensor",
        "missing",
      );
    }
    const name = `${module}.weight`;
    const w = producers.get(name);
    if (!w) throw new DataError(adapterPath, pair.a, `a base weight ${name} to merge into`, "none");
    const [out, inp] = w.info.shape;
    const aShape = adapter.info(pair.a)!.shape, bShape = adapter.info(pair.b)!.shape;
    if (!same(aShape, [r, inp])) {
      throw new DataError(adapterPath, pair.a, shapeText([r, inp]), shapeText(aShape));
    }
    if (!same(bShape, [out, r])) {
      throw new DataError(adapterPath, pair.b, shapeText([out, r]), shapeText(bShape));
    }
    producers.set(name, merged(w, adapter, pair.a, pair.b, scale, `${adapterPath}: ${module}`));
  }
  return { r, alpha, scale, modules: [...pairs.keys()] };
}

function merged(
  w: Producer,
  adapter: TensorSource,
  aKey: string,
  bKey: string,
  scale: number,
  loraOrigin: string,
): Producer {
  const [out, inp] = w.info.shape;
  const lora: LoraOperands = {
    scale,
    rank: adapter.info(aKey)!.shape[0],
    a: async () => (await adapter.read(aKey)).data,
    b: async (rows) => (await adapter.read(bKey, rows)).data,
    base: (rows) => w.raw(rows),
  };
  const read = async (rows?: RowRange): Promise<HostTensor> => {
    const range = rows ?? { start: 0, count: out };
    const base = await w.read(range);
    loraMerge(base.data, await lora.b(range), await lora.a(), inp, scale);
    return { shape: base.shape, data: base.data, stored: "F32" };
  };
  return {
    ...w,
    info: { shape: w.info.shape, dtype: "F32" },
    origin: `${w.origin} + LoRA ${loraOrigin}`,
    lora,
    read,
    async raw(rows) {
      const t = await read(rows);
      return {
        shape: t.shape,
        dtype: "F32",
        bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      };
    },
  };
}

/**
 * `w += scale * (b @ a)` in place, in f32: `w` [rows, inp], `b` [rows, r], `a` [r, inp]. Each
 * element's products are rounded to f32 and summed in f32 over k = 0..r-1 in order (no fused
 * multiply-add), the sum scaled (in f64) and rounded to f32, then added in f32: PEFT's
 * `W + (B @ A) * scaling` in f32, in one fixed summation order. The reference of the
 * WebAssembly merge `convert` runs (model/weights/wasm/), which gives the same bits.
 *
 * @example
 * ```ts
 * const w = new Float32Array([1, 1]);
 * loraMerge(w, new Float32Array([2]), new Float32Array([3, 4]), 2, 0.5);
 * if (w.join() !== "4,5") throw new Error();
 * ```
 */
export function loraMerge(
  w: Float32Array,
  b: Float32Array,
  a: Float32Array,
  inp: number,
  scale: number,
): void {
  const rows = w.length / inp, r = a.length / inp;
  const acc = new Float32Array(inp); // each += rounds the sum to f32
  const f = Math.fround;
  for (let o = 0; o < rows; o++) {
    acc.fill(0);
    for (let k = 0; k < r; k++) {
      const bk = b[o * r + k];
      const off = k * inp;
      for (let i = 0; i < inp; i++) acc[i] += f(bk * a[off + i]);
    }
    const off = o * inp;
    for (let i = 0; i < inp; i++) w[off + i] = f(w[off + i] + f(scale * acc[i]));
  }
}

/** Raw bytes of float32 values (a copy-free view when possible). */
export function f32Bytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
