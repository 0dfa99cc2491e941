/**
 * The configuration of a VLM-3R model, gathered from where the reference takes each part
 * (model-reference.md §11): the language model and multimodal fields from the LoRA release's
 * `config.json` (the base folder's is not read), SigLIP's geometry from the vision model's own
 * config (google/siglip-so400m-patch14-384's defaults when the release names that tower and no
 * config is given), CUT3R's from the checkpoint's `args.model` constructor string (parsed as
 * data, never evaluated), the fusion's 18 heads (a constant of the reference builder), the
 * tokenizer's length and the generation config's stop ids and repetition penalty.
 *
 * @module
 */

import { DataError } from "../../io/errors.ts";

/** The Qwen2 language model. */
export interface LlmConfig {
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ropeTheta: number;
  rmsNormEps: number;
  maxPositions: number;
  /** Embedding and lm_head rows kept: `len(tokenizer)` (§11.1: 151,647 for LLaVA-Video). */
  vocab: number;
  /** Rows in the checkpoint (`vocab_size`, 152,064). */
  checkpointVocab: number;
}

/** The SigLIP vision tower, as used (its last layer, post-norm and head dropped). */
export interface VisionConfig {
  hidden: number;
  intermediate: number;
  heads: number;
  headDim: number;
  /** Encoder layers run: `num_hidden_layers + mm_vision_select_layer + 1` (26 of 27). */
  layers: number;
  /** Encoder layers in the checkpoint. */
  checkpointLayers: number;
  imageSize: number;
  patchSize: number;
  /** Patches per side: `floor(imageSize / patchSize)`. */
  grid: number;
  layerNormEps: number;
  hiddenAct: string;
  /** Where the geometry came from (a file, or the so400m defaults). */
  source: string;
}

/** The CUT3R spatial encoder (`ARCroco3DStereo`), as used by VLM-3R. */
export interface Cut3rConfig {
  encDim: number;
  encDepth: number;
  encHeads: number;
  decDim: number;
  decDepth: number;
  decHeads: number;
  /** Heads of the state branch (`state_dec_num_heads`). */
  stateHeads: number;
  /** State tokens (`state_size`). */
  stateSize: number;
  /** Pose-memory slots (`local_mem_size`). */
  memSize: number;
  patchSize: number;
  /** Training image size `[h, w]`; VLM-3R feeds 432x432. */
  imgSize: [number, number];
  mlpRatio: number;
  posEmbed: string;
  statePe: string;
  /** The checkpoint's `args.model`. */
  constructor: string;
}

/** The fusion block (`CrossAttentionFusion`). */
export interface FusionConfig {
  type: string;
  /** The reference builder's constant 18 (§11.2). */
  heads: number;
  /** `mm_hidden_size` (the SigLIP width). */
  width: number;
  /** `spatial_feature_dim` (CUT3R's decoder width). */
  spatialDim: number;
}

/** The multimodal glue: projector, pooling, newlines, feature selection. */
export interface MultimodalConfig {
  projectorType: string;
  poolMode: string;
  poolStride: number;
  newlinePosition: string;
  spatialSelectFeature: string;
  visionSelectLayer: number;
  addTimeInstruction: boolean;
}

/** Tokenizer facts the engine needs before loading the tokenizer itself. */
export interface TokenizerFacts {
  /** `len(tokenizer)`: vocabulary plus added tokens. */
  length: number;
  /** Added (special) tokens by content. */
  added: Record<string, number>;
  /** The file it was read from. */
  file: string;
}

/** Generation defaults from `generation_config.json`. */
export interface GenerationConfig {
  /** Ids that end generation. */
  eosTokenIds: number[];
  padTokenId: number | null;
  bosTokenId: number | null;
  repetitionPenalty: number;
  doSample: boolean;
  temperature: number;
  topP: number;
  topK: number;
}

/** Everything the engine needs to build VLM-3R. */
export interface ModelConfig {
  llm: LlmConfig;
  vision: VisionConfig;
  cut3r: Cut3rConfig;
  fusion: FusionConfig;
  mm: MultimodalConfig;
  tokenizer: TokenizerFacts;
  generation: GenerationConfig;
}

/** Heads of the fusion attention: hard-coded in the reference builder (§11.2). */
export const FUSION_HEADS = 18;

/**
 * `google/siglip-so400m-patch14-384` (`SigLipVisionConfig` defaults in the reference,
 * model-reference.md §2): used when the release names that tower and no vision config is given.
 */
export const SO400M = {
  hidden_size: 1152,
  intermediate_size: 4304,
  num_attention_heads: 16,
  num_hidden_layers: 27,
  image_size: 384,
  patch_size: 14,
  layer_norm_eps: 1e-6,
  hidden_act: "gelu_pytorch_tanh",
} as const;

/** The vision tower id whose geometry {@link SO400M} is. */
export const SO400M_ID = "google/siglip-so400m-patch14-384";

type Json = Record<string, unknown>;

function num(obj: Json, key: string, file: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new DataError(file, key, "a number", v === undefined ? "none" : JSON.stringify(v));
  }
  return v;
}

function str(obj: Json, key: string, file: string, fallback?: string): string {
  const v = obj[key] ?? fallback;
  if (typeof v !== "string") {
    throw new DataError(file, key, "a string", v === undefined ? "none" : JSON.stringify(v));
  }
  return v;
}

/** Reads a JSON object file; a bad file is one `DataError` line. */
export async function readJson(path: string): Promise<Json> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new DataError(path, "file", "to exist", "missing");
    throw e;
  }
  try {
    const v = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error();
    return v;
  } catch {
    throw new DataError(path, "JSON", "an object");
  }
}

/** The language-model part of a LLaVA-Qwen `config.json`; `vocab` is `len(tokenizer)`. */
export function llmConfig(cfg: Json, file: string, vocab: number): LlmConfig {
  const hidden = num(cfg, "hidden_size", file), heads = num(cfg, "num_attention_heads", file);
  const checkpointVocab = num(cfg, "vocab_size", file);
  if (vocab > checkpointVocab) {
    throw new DataError(file, "vocab_size", `>= len(tokenizer) = ${vocab}`, `${checkpointVocab}`);
  }
  return {
    hidden,
    intermediate: num(cfg, "intermediate_size", file),
    layers: num(cfg, "num_hidden_layers", file),
    heads,
    kvHeads: num(cfg, "num_key_value_heads", file, heads),
    headDim: hidden / heads,
    ropeTheta: num(cfg, "rope_theta", file, 10000),
    rmsNormEps: num(cfg, "rms_norm_eps", file, 1e-6),
    maxPositions: num(cfg, "max_position_embeddings", file, 32768),
    vocab,
    checkpointVocab,
  };
}

/**
 * SigLIP geometry from a vision config (`vision_config` of a SigLIP `config.json`, or a flat
 * `SiglipVisionConfig`); `selectLayer` is `mm_vision_select_layer` (-2).
 */
export function visionConfig(cfg: Json, source: string, selectLayer: number): VisionConfig {
  const v = (cfg.vision_config ?? cfg) as Json;
  const hidden = num(v, "hidden_size", source), heads = num(v, "num_attention_heads", source);
  const checkpointLayers = num(v, "num_hidden_layers", source);
  const imageSize = num(v, "image_size", source), patchSize = num(v, "patch_size", source);
  const layers = checkpointLayers + selectLayer + 1;
  if (selectLayer >= 0 || layers < 1) {
    throw new DataError(
      source,
      "mm_vision_select_layer",
      "a negative layer index",
      `${selectLayer}`,
    );
  }
  return {
    hidden,
    intermediate: num(v, "intermediate_size", source),
    heads,
    headDim: hidden / heads,
    layers,
    checkpointLayers,
    imageSize,
    patchSize,
    grid: Math.floor(imageSize / patchSize),
    layerNormEps: num(v, "layer_norm_eps", source, 1e-6),
    hiddenAct: str(v, "hidden_act", source, "gelu_pytorch_tanh"),
    source,
  };
}

// CroCo and ARCroco3DStereoConfig defaults (CUT3R src/croco/models/croco.py, src/dust3r/model.py).
const CUT3R_DEFAULTS: Json = {
  img_size: 224,
  patch_size: 16,
  enc_embed_dim: 768,
  enc_depth: 12,
  enc_num_heads: 12,
  dec_embed_dim: 512,
  dec_depth: 8,
  dec_num_heads: 16,
  mlp_ratio: 4,
  pos_embed: "cosine",
  state_size: 324,
  local_mem_size: 256,
  state_pe: "2d",
  state_dec_num_heads: 16,
  pose_head: false,
};

/**
 * The keyword arguments of CUT3R's constructor string (`ckpt["args"].model`), e.g.
 * `ARCroco3DStereo(ARCroco3DStereoConfig(state_size=768, pos_embed='RoPE100', ...))`, over
 * CUT3R's defaults for what it leaves out. The string is parsed as a Python call expression of
 * literals (tuples become arrays); nothing is evaluated. `file` names the source in errors.
 *
 * @example
 * ```ts
 * const a = cut3rArgs("M(C(state_size=27, pos_embed='RoPE100', img_size=(112, 112), pose_head=True))", "x.pth");
 * if (a.state_size !== 27 || a.pos_embed !== "RoPE100" || a.pose_head !== true) throw new Error();
 * if (a.enc_depth !== 12) throw new Error("a default");
 * ```
 */
export function cut3rArgs(model: string, file: string): Json {
  const call = parsePython(model, `${file}: args.model`);
  if (!(call instanceof PyCall)) {
    throw new DataError(file, "args.model", "a constructor call", model.slice(0, 60));
  }
  // ARCroco3DStereo(ARCroco3DStereoConfig(...)) or keyword arguments on the outer call.
  const kw: Json = { ...CUT3R_DEFAULTS };
  const inner = call.args.find((a) => a instanceof PyCall) as PyCall | undefined;
  Object.assign(kw, inner?.kwargs ?? {}, call.kwargs);
  return kw;
}

/**
 * CUT3R's configuration from its checkpoint's constructor string ({@link cut3rArgs}).
 *
 * @example
 * ```ts
 * const c = cut3rConfig("ARCroco3DStereo(ARCroco3DStereoConfig(pose_head=True, enc_embed_dim=1024, img_size=(512, 512), depth_mode=('exp', -inf, inf)))", "x.pth");
 * if (c.encDim !== 1024 || c.imgSize[1] !== 512 || c.stateHeads !== 16 || c.decDepth !== 8) throw new Error();
 * ```
 */
export function cut3rConfig(model: string, file: string): Cut3rConfig {
  const kw = cut3rArgs(model, file);
  const where = `${file}: args.model`;
  if (kw.pose_head !== true) {
    throw new DataError(
      where,
      "pose_head",
      "True (VLM-3R reads CUT3R's pose token)",
      String(kw.pose_head),
    );
  }
  const img = kw.img_size;
  const imgSize: [number, number] = Array.isArray(img)
    ? [Number(img[0]), Number(img[1])]
    : [Number(img), Number(img)];
  return {
    encDim: num(kw, "enc_embed_dim", where),
    encDepth: num(kw, "enc_depth", where),
    encHeads: num(kw, "enc_num_heads", where),
    decDim: num(kw, "dec_embed_dim", where),
    decDepth: num(kw, "dec_depth", where),
    decHeads: num(kw, "dec_num_heads", where),
    stateHeads: num(kw, "state_dec_num_heads", where),
    stateSize: num(kw, "state_size", where),
    memSize: num(kw, "local_mem_size", where),
    patchSize: num(kw, "patch_size", where),
    imgSize,
    mlpRatio: num(kw, "mlp_ratio", where),
    posEmbed: str(kw, "pos_embed", where),
    statePe: str(kw, "state_pe", where),
    constructor: model,
  };
}

/** Generation defaults; `fallbackEos` is the model config's `eos_token_id`. */
export function generationConfig(
  gen: Json | undefined,
  file: string,
  fallbackEos: number,
): GenerationConfig {
  const g = gen ?? {};
  const eos = g.eos_token_id ?? fallbackEos;
  const eosIds = (Array.isArray(eos) ? eos : [eos]).map(Number);
  if (eosIds.some((x) => !Number.isInteger(x))) {
    throw new DataError(
      file,
      "eos_token_id",
      "an integer or a list of integers",
      JSON.stringify(eos),
    );
  }
  const maybe = (k: string) => (typeof g[k] === "number" ? g[k] as number : null);
  return {
    eosTokenIds: eosIds,
    padTokenId: maybe("pad_token_id"),
    bosTokenId: maybe("bos_token_id"),
    repetitionPenalty: num(g, "repetition_penalty", file, 1),
    doSample: g.do_sample === true,
    temperature: num(g, "temperature", file, 1),
    topP: num(g, "top_p", file, 1),
    topK: num(g, "top_k", file, 50),
  };
}

/**
 * `len(tokenizer)` and the added tokens, from a folder's `tokenizer.json` (fast tokenizer) or
 * `vocab.json` + `added_tokens.json` (slow): the vocabulary and added tokens together.
 */
export async function tokenizerFacts(dir: string): Promise<TokenizerFacts> {
  const ids = new Set<number>();
  const added: Record<string, number> = {};
  let file = `${dir}/tokenizer.json`;
  try {
    const tok = await readJson(file);
    const model = tok.model as Json | undefined;
    const vocab = model?.vocab;
    if (!vocab || typeof vocab !== "object") throw new DataError(file, "model.vocab", "an object");
    for (const id of Object.values(vocab as Record<string, number>)) ids.add(id);
    for (const a of (tok.added_tokens ?? []) as { id: number; content: string }[]) {
      ids.add(a.id);
      added[a.content] = a.id;
    }
  } catch (e) {
    if (!(e instanceof DataError && e.got === "missing")) throw e;
    file = `${dir}/vocab.json`;
    for (const id of Object.values(await readJson(file))) ids.add(Number(id));
    try {
      for (const [k, id] of Object.entries(await readJson(`${dir}/added_tokens.json`))) {
        ids.add(Number(id));
        added[k] = Number(id);
      }
    } catch (e2) {
      if (!(e2 instanceof DataError && e2.got === "missing")) throw e2;
    }
  }
  return { length: ids.size, added, file };
}

/** The multimodal fields of a LLaVA-Qwen `config.json`. */
export function multimodalConfig(cfg: Json, file: string): MultimodalConfig {
  // The architecture the engine builds: refuse a release of another one by the field that
  // says so, rather than failing later on a missing tensor.
  const expect = (key: string, allowed: readonly string[], what: string) => {
    const v = cfg[key];
    if (!allowed.includes(v as string)) {
      throw new DataError(
        file,
        key,
        `${allowed.join(" or ")} (${what})`,
        JSON.stringify(v ?? null),
      );
    }
  };
  if (cfg.model_type !== undefined) {
    expect("model_type", ["llava_qwen"], "VLM-3R on LLaVA-Video-Qwen2");
  }
  expect("spatial_tower", ["cut3r"], "VLM-3R's spatial encoder");
  expect("mm_projector_type", ["mlp2x_gelu"], "VLM-3R's projector");
  if (cfg.spatial_tower_select_feature !== undefined) {
    expect("spatial_tower_select_feature", ["all", "all_tokens"], "camera and patch tokens");
  }
  return {
    projectorType: str(cfg, "mm_projector_type", file, "linear"),
    poolMode: str(cfg, "mm_spatial_pool_mode", file, "average"),
    poolStride: num(cfg, "mm_spatial_pool_stride", file, 2),
    newlinePosition: str(cfg, "mm_newline_position", file, "grid"),
    spatialSelectFeature: str(cfg, "spatial_tower_select_feature", file, "all"),
    visionSelectLayer: num(cfg, "mm_vision_select_layer", file, -2),
    addTimeInstruction: cfg.add_time_instruction === true,
  };
}

/** The fusion fields of a VLM-3R `config.json`. */
export function fusionConfig(cfg: Json, file: string): FusionConfig {
  const type = str(cfg, "fusion_block", file);
  if (type !== "cross_attention") {
    throw new DataError(file, "fusion_block", "cross_attention (the released VLM-3R)", type);
  }
  return {
    type,
    heads: FUSION_HEADS,
    width: num(cfg, "mm_hidden_size", file),
    spatialDim: num(cfg, "spatial_feature_dim", file),
  };
}

// ---------------------------------------------------------------------------------------------
// Python call expressions as data.

/** A call `fn(args, key=value)` found in a Python expression: data, never executed. */
export class PyCall {
  constructor(
    readonly fn: string,
    readonly args: readonly unknown[],
    readonly kwargs: Record<string, unknown>,
  ) {}
}

/**
 * Parses a Python expression made of calls, keyword arguments, tuples, lists, dicts, strings,
 * numbers, `True`/`False`/`None`, `inf`/`nan` and bare names (kept as strings): never evaluates.
 *
 * @example
 * ```ts
 * const c = parsePython("A(B(x=1, y=(2, -inf)), z='s')", "args") as PyCall;
 * if (c.fn !== "A" || c.kwargs.z !== "s" || String((c.args[0] as PyCall).kwargs.y) !== "2,-Infinity") throw new Error();
 * ```
 */
export function parsePython(src: string, where: string): unknown {
  let p = 0;
  const fail = (what: string): never => {
    throw new DataError(where, `character ${p}`, what, JSON.stringify(src.slice(p, p + 20)));
  };
  const ws = () => {
    while (p < src.length && /\s/.test(src[p])) p++;
  };
  const eat = (c: string) => {
    ws();
    if (src[p] !== c) fail(`'${c}'`);
    p++;
  };
  const seq = (
    close: string,
  ): { args: unknown[]; kwargs: Record<string, unknown>; comma: boolean } => {
    const args: unknown[] = [];
    const kwargs: Record<string, unknown> = {};
    let comma = false;
    ws();
    while (src[p] !== close) {
      const m = /^([A-Za-z_]\w*)\s*=(?!=)/.exec(src.slice(p));
      if (m) {
        p += m[0].length;
        kwargs[m[1]] = value();
      } else args.push(value());
      ws();
      if (src[p] === ",") {
        p++;
        comma = true;
        ws();
      } else if (src[p] !== close) fail(`',' or '${close}'`);
    }
    p++;
    return { args, kwargs, comma };
  };
  const value = (): unknown => {
    ws();
    const c = src[p];
    if (c === "(") {
      p++;
      const { args, comma } = seq(")");
      return args.length === 1 && !comma ? args[0] : args;
    }
    if (c === "[") {
      p++;
      return seq("]").args;
    }
    if (c === "{") {
      p++;
      const out: Record<string, unknown> = {};
      ws();
      while (src[p] !== "}") {
        const k = value();
        eat(":");
        out[String(k)] = value();
        ws();
        if (src[p] === ",") p++;
        ws();
      }
      p++;
      return out;
    }
    if (c === "'" || c === '"') {
      const q = c;
      let s = "";
      p++;
      while (p < src.length && src[p] !== q) {
        if (src[p] === "\\") {
          p++;
          const e = src[p];
          s += e === "n" ? "\n" : e === "t" ? "\t" : e;
        } else s += src[p];
        p++;
      }
      if (p >= src.length) fail("a closing quote");
      p++;
      return s;
    }
    if (c === "-" || c === "+") {
      p++;
      const v = value();
      if (typeof v !== "number") fail("a number after a sign");
      return c === "-" ? -(v as number) : v;
    }
    const numMatch = /^(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?)/i.exec(src.slice(p));
    if (numMatch) {
      p += numMatch[0].length;
      return Number(numMatch[0]);
    }
    const name = /^[A-Za-z_][\w.]*/.exec(src.slice(p));
    if (!name) return fail("a value");
    p += name![0].length;
    ws();
    if (src[p] === "(") {
      p++;
      const { args, kwargs } = seq(")");
      return new PyCall(name![0], args, kwargs);
    }
    const n = name![0];
    const consts: Record<string, unknown> = {
      True: true,
      False: false,
      None: null,
      inf: Infinity,
      nan: NaN,
    };
    return n in consts ? consts[n] : n;
  };
  const v = value();
  ws();
  if (p !== src.length) fail("the end of the expression");
  return v;
}
