/**
 * VLM-3R end to end (model-reference.md, §11 wins): a video's sampled frames through
 * preprocessing, SigLIP and CUT3R, the fusion block, projector, pooling and newlines into the
 * visual sequence; the ChatML prompt around it; Qwen2's greedy answer with the repetition
 * penalty. What does not depend on the question is cached per video ({@link VideoCache}): the
 * visual sequence, and the keys and values of the prompt prefix up to the question.
 *
 * Every question runs the same way, cached or not: the prefix (system prompt, user header,
 * visual rows, the question-independent text after them) is prefilled on its own and its keys
 * and values kept; the question's own tokens are prefilled after them. A follow-up question
 * on a cached video therefore computes exactly what a cold run computes after the prefix, and
 * gives the same tokens.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import { acquireGpu, type Gpu } from "../kernels/device.ts";
import {
  cacheKey,
  type CacheStats,
  type PrefixEntry,
  VideoCache,
  type VisualEntry,
} from "./cache.ts";
import { cut3rConfig, Cut3rTower, loadCut3rWeights } from "./cut3r.ts";
import { FusionProjector, fusionProjectorWeights } from "./fusion.ts";
import { decodeAnswer, generate } from "./generate.ts";
import { preprocessFrames, type ShortVideo } from "./preprocess.ts";
import {
  chatPrompt,
  IMAGE_PLACEHOLDER,
  IMAGE_TOKEN_INDEX,
  PRE_PROMPT,
  spliceEmbeddings,
  timeInstruction,
  userText,
} from "./prompt.ts";
import { type KvSnapshot, Qwen2 } from "./qwen2.ts";
import type { Qwen2Config } from "./qwen2_config.ts";
import { loadSiglipWeights, SIGLIP_PREFIX, type SiglipConfig, SiglipTower } from "./siglip.ts";
import { Tokenizer } from "./tokenizer.ts";
import {
  type LoadedVideo,
  type LoadVideoOptions,
  type ProbedVideo,
  probeVideo,
} from "./video_input.ts";
import { openModel } from "./weights/convert.ts";
import { cut3rArgs, type ModelConfig } from "./weights/config.ts";
import { openRelease, type ReleasePaths } from "./weights/release.ts";
import type { HostTensor } from "./weights/safetensors.ts";
import type { TensorSource } from "./weights/source.ts";
import { createHash } from "node:crypto";

/** Where the weights are: a converted model folder, or the release as downloaded. */
export type ModelLocation = { model: string } | ReleasePaths;

/** Options of {@link Vlm3r.open}. */
export interface Vlm3rOptions {
  /**
   * Storage of weights and activations of the towers, fusion and language model: "f16" needs
   * `shader-f16`. Default: "f16" on a GPU that has it, "f32" on CPU adapters. Quantised
   * language-model linears of a converted model stay int8/int4 either way.
   */
  precision?: "f32" | "f16";
  /** The device (default: {@link acquireGpu}). */
  gpu?: Gpu;
  /** The per-video cache (default: in memory only). */
  cache?: VideoCache;
}

/** What to ask about a video. */
export interface Question {
  question: string;
  /** Multiple-choice options as shown (`"A. chair"`); none for a numeric question. */
  options?: readonly string[] | null;
}

/** Options of {@link Vlm3r.ask}. */
export interface AskOptions {
  /** Frames to sample (default 32). */
  frames?: number;
  /** Short-video behaviour (default "fewer"). */
  shortVideo?: ShortVideo;
  /** Decoder of video files. */
  decoder?: LoadVideoOptions["decoder"];
  /** Frame rate of a frame folder (for the time instruction). */
  fps?: number;
  /** Add the time instruction (DECISIONS 19: off by default, as the benchmark eval). */
  timeInstruction?: boolean;
  /** New tokens at most (default 16, as the eval). */
  maxNewTokens?: number;
  /** Also return the raw logits of the prompt's last position. */
  logits?: boolean;
}

/** Seconds spent in each stage of a question (0 for stages served from the cache). */
export interface StageTimes {
  /** Reading and hashing the video, decoding the sampled frames. */
  decode: number;
  preprocess: number;
  siglip: number;
  cut3r: number;
  /** Fusion, projector, pooling and newlines. */
  fusion: number;
  /** The prompt prefix (system, header, visual rows), or restoring it from the cache. */
  prefix: number;
  /** The question's own tokens and the first answer token. */
  prefill: number;
  /** The remaining answer tokens. */
  decodeTokens: number;
}

/** An answer. */
export interface Answer {
  /** The decoded answer, special tokens skipped, stripped. */
  text: string;
  /** Generated ids (a stop id included). */
  ids: number[];
  /** The prompt's token ids with -200 where the visual rows go (`tokenizer_image_token`). */
  promptIds: number[];
  /** Prompt length in tokens (visual rows included). */
  promptLength: number;
  /** Visual rows spliced into the prompt. */
  visualTokens: number;
  /** Frames used and their indices in the video. */
  frames: number[];
  /** What the cache provided. */
  cached: { visual: boolean; prefix: boolean };
  seconds: StageTimes;
  /** Answer tokens per second after the first. */
  decodeTokensPerSecond: number | null;
  /** With `logits`: the prompt's last position. */
  logits?: Float32Array;
}

const now = () => performance.now() / 1000;

/** VLM-3R on one device: both towers, fusion and projector, the language model, loaded once. */
export class Vlm3r {
  readonly #siglip: SiglipTower;
  readonly #cut3r: Cut3rTower;
  readonly #fusion: FusionProjector;
  readonly #llm: Qwen2;
  readonly #embedTokens: (ids: number[]) => Promise<Float32Array>;
  /** Times the towers ran (a video served from the cache does not count). */
  towerRuns = 0;

  private constructor(
    readonly gpu: Gpu,
    readonly config: ModelConfig,
    readonly tokenizer: Tokenizer,
    /** Hash of the model's files as given (keys the cache). */
    readonly modelId: string,
    readonly precision: "f32" | "f16",
    readonly cache: VideoCache,
    parts: { siglip: SiglipTower; cut3r: Cut3rTower; fusion: FusionProjector; llm: Qwen2 },
  ) {
    this.#siglip = parts.siglip;
    this.#cut3r = parts.cut3r;
    this.#fusion = parts.fusion;
    this.#llm = parts.llm;
    this.#embedTokens = (ids) => this.#llm.embed(Uint32Array.from(ids));
  }

  /**
   * Loads the model: a converted folder (`vlm3r convert`) or the release (base folder, LoRA
   * folder, CUT3R `.pth`). Missing files and tensors of another shape are `DataError`s.
   *
   * @example
   * ```ts ignore
   * const vlm = await Vlm3r.open({ model: "models/vlm3r-f16" });
   * const a = await vlm.ask("room.mp4", { question: "How many chairs are in the room?" });
   * console.log(a.text);
   * ```
   */
  static async open(where: ModelLocation, options: Vlm3rOptions = {}): Promise<Vlm3r> {
    return await Vlm3r.fromWeights(await openWeights(where), options);
  }

  /**
   * Loads the model from weights already opened: a source of canonical names (a converted
   * model, the release, or random weights for benchmarks), the config, the folder of the
   * tokenizer files, and an id of the weights that keys the cache.
   */
  static async fromWeights(weights: ModelWeights, options: Vlm3rOptions = {}): Promise<Vlm3r> {
    const { source, config, tokenizerDir, modelId } = weights;
    const tokenizer = await Tokenizer.load(tokenizerDir);
    const gpu = options.gpu ?? await acquireGpu();
    const precision = options.precision ?? (gpu.f16 && !gpu.cpu ? "f16" : "f32");
    if (precision === "f16" && !gpu.f16) {
      throw new DataError("--dtype", "f16", "an adapter with shader-f16", gpu.adapter);
    }
    const v = config.vision;
    const siglipCfg: SiglipConfig = {
      hidden: v.hidden,
      heads: v.heads,
      intermediate: v.intermediate,
      layers: v.layers,
      patch: v.patchSize,
      image: v.imageSize,
      channels: 3,
      eps: v.layerNormEps,
    };
    const siglip = new SiglipTower(
      gpu,
      await loadSiglipWeights(source, siglipCfg, { prefix: SIGLIP_PREFIX, label: "model" }),
      { precision },
    );
    const where = "CUT3R args.model";
    const cut3rCfg = cut3rConfig(cut3rArgs(config.cut3r.constructor, where), where);
    const cut3r = new Cut3rTower(
      gpu,
      await loadCut3rWeights(source, cut3rCfg, { label: "model" }),
      {
        precision,
      },
    );
    const fusionTensors = new Map<string, HostTensor>();
    for (const name of source.names) {
      if (
        (name.startsWith("model.fusion_block.") && !name.includes(".folded.")) ||
        name.startsWith("model.mm_projector.") || name === "model.image_newline"
      ) {
        fusionTensors.set(name, await source.read(name));
      }
    }
    const fusion = new FusionProjector(gpu, fusionProjectorWeights(fusionTensors, "model"), {
      heads: config.fusion.heads,
      precision,
      poolFirst: true,
    });
    const l = config.llm;
    const rows = source.info("model.embed_tokens.weight")?.shape[0] ?? l.vocab;
    const llmCfg: Qwen2Config = {
      hidden: l.hidden,
      intermediate: l.intermediate,
      layers: l.layers,
      heads: l.heads,
      kvHeads: l.kvHeads,
      headDim: l.headDim,
      vocab: rows,
      ropeTheta: l.ropeTheta,
      rmsEps: l.rmsNormEps,
    };
    const llm = await Qwen2.load(gpu, source, llmCfg, {
      dtype: precision,
      vocab: Math.min(rows, config.tokenizer.length),
    });
    return new Vlm3r(
      gpu,
      config,
      tokenizer,
      modelId,
      precision,
      options.cache ?? new VideoCache({ dir: null }),
      { siglip, cut3r, fusion, llm },
    );
  }

  /** The adapter's name. */
  get adapter(): string {
    return this.gpu.adapter;
  }

  /** What the per-video cache did so far. */
  get cacheStats(): CacheStats {
    return this.cache.stats;
  }

  /** The towers' input sizes: SigLIP's image side, and CUT3R's (its patch times SigLIP's grid). */
  get inputSizes(): { siglip: number; cut3r: number } {
    const v = this.config.vision;
    const grid = Math.floor(v.imageSize / v.patchSize);
    return { siglip: v.imageSize, cut3r: grid * this.#cut3r.config.patch };
  }

  /**
   * The visual sequence of frames already decoded: `[rows, hidden]` (pooled rows and their
   * newlines, frame after frame). Fills `seconds`' tower stages.
   */
  async encodeFrames(
    video: Pick<LoadedVideo, "frames">,
    seconds: StageTimes = emptyTimes(),
  ): Promise<VisualEntry> {
    this.towerRuns++;
    let t = now();
    const px = preprocessFrames(video.frames, this.inputSizes);
    seconds.preprocess = now() - t;
    t = now();
    const hv = (await this.#siglip.run(px.siglip, px.frames)).output;
    seconds.siglip = now() - t;
    t = now();
    const z3d = (await this.#cut3r.run(px.cut3r, px.frames)).tokens;
    seconds.cut3r = now() - t;
    t = now();
    const { sequence } = await this.#fusion.run(hv, z3d, px.frames, ["sequence"]);
    seconds.fusion = now() - t;
    const width = this.config.llm.hidden;
    return { sequence: sequence!, rows: sequence!.length / width, width };
  }

  /**
   * Answers `question` about `video` (a video file or a folder of frame images): frames,
   * towers and the prompt prefix come from the cache when this video was seen with these
   * options; the answer is greedy with the model's repetition penalty and stop ids.
   */
  async ask(video: string, question: Question, options: AskOptions = {}): Promise<Answer> {
    const seconds = emptyTimes();
    const t = now();
    const frames = options.frames ?? 32;
    const probed = await probeVideo(video, {
      frames,
      shortVideo: options.shortVideo,
      decoder: options.decoder,
      fps: options.fps,
    });
    seconds.decode = now() - t;
    return await this.askLoaded(probed, question, options, seconds);
  }

  /**
   * {@link ask} for a video already opened: decoded (`loadVideo`), or probed (`probeVideo`),
   * whose frames are then decoded only if the cache lacks its visual sequence; `seconds` may
   * carry the time spent opening it.
   */
  async askLoaded(
    video: LoadedVideo | ProbedVideo,
    question: Question,
    options: AskOptions = {},
    seconds: StageTimes = emptyTimes(),
  ): Promise<Answer> {
    const visualKey = cacheKey([
      "visual",
      this.modelId,
      this.precision,
      video.hash,
      video.indices.join(","),
    ]);
    let visual = await this.cache.visual(visualKey);
    const visualCached = !!visual;
    if (!visual) {
      const t0 = now();
      const frames = "frames" in video ? video.frames : await video.decode();
      seconds.decode += now() - t0;
      visual = await this.encodeFrames({ frames }, seconds);
      await this.cache.putVisual(visualKey, visual);
    }

    // The prompt, split at the visual block: head ids, visual rows, then the text after them,
    // whose question-independent start (the pre-prompt, after the time instruction when asked)
    // is part of the cached prefix.
    let time = "";
    if (options.timeInstruction) {
      if (!video.fps) {
        throw new DataError(
          video.path,
          "fps",
          "a frame rate for the time instruction (give --fps for a frame folder)",
          "none",
        );
      }
      time = timeInstruction({
        videoSeconds: video.total / video.fps,
        frameTimes: video.indices.map((i) => i / video.fps!),
      }) + "\n";
    }
    const user = `${time}${userText(question)}`;
    const [before, after] = chatPrompt(user).split(IMAGE_PLACEHOLDER);
    const headIds = this.tokenizer.encode(before);
    const restIds = this.tokenizer.encode(after);
    const tailIds = this.tokenizer.encode(`\n${time}${PRE_PROMPT}\n`);
    const prefixKey = cacheKey([
      "prefix",
      visualKey,
      this.#llm.kvDtype,
      headIds.join(","),
      tailIds.join(","),
    ]);

    let t = now();
    let prefix = await this.cache.prefix(prefixKey);
    const prefixCached = !!prefix;
    if (!prefix) prefix = await this.#prefix(headIds, visual, tailIds, prefixKey);
    // Continue after the longest stretch of the prefix's tail this prompt shares.
    let common = 0;
    while (
      common < prefix.tail.length && common < restIds.length &&
      prefix.tail[common] === restIds[common]
    ) common++;
    const keep = headIds.length + visual.rows + common;
    const question_ = restIds.slice(common);
    if (!question_.length) {
      throw new DataError("prompt", "question", "text after the cached prefix", "none");
    }
    const maxNew = options.maxNewTokens ?? 16;
    const cache = this.#llm.restoreKv(
      truncate(prefix.snapshot, keep),
      keep + question_.length + maxNew,
    );
    seconds.prefix = now() - t;
    try {
      t = now();
      let firstAt = 0;
      const gen = await generate(this.#llm, cache, { ids: Uint32Array.from(question_) }, {
        maxNewTokens: maxNew,
        eos: this.config.generation.eosTokenIds,
        repetitionPenalty: this.config.generation.repetitionPenalty,
        logits: options.logits,
        onToken: (k: number) => {
          if (k === 0) firstAt = now();
        },
      });
      seconds.prefill = firstAt - t;
      seconds.decodeTokens = now() - firstAt;
      return {
        text: decodeAnswer(this.tokenizer, gen.ids),
        ids: gen.ids,
        promptIds: [...headIds, IMAGE_TOKEN_INDEX, ...restIds],
        promptLength: headIds.length + visual.rows + restIds.length,
        visualTokens: visual.rows,
        frames: video.indices,
        cached: { visual: visualCached, prefix: prefixCached },
        seconds,
        decodeTokensPerSecond: gen.ids.length > 1 && seconds.decodeTokens > 0
          ? (gen.ids.length - 1) / seconds.decodeTokens
          : null,
        ...(gen.logits ? { logits: gen.logits } : {}),
      };
    } finally {
      cache.destroy();
    }
  }

  /** Prefills head + visual rows + tail into a fresh cache and keeps its keys and values. */
  async #prefix(
    head: number[],
    visual: VisualEntry,
    tail: number[],
    key: string,
  ): Promise<PrefixEntry> {
    const text = await this.#embedTokens([...head, ...tail]);
    const embeds = spliceEmbeddings(text, visual.sequence, head.length, visual.width);
    const length = head.length + visual.rows + tail.length;
    const cache = this.#llm.cache(length);
    try {
      await this.#llm.prefill(cache, { embeds }, { choose: false });
      const entry = { snapshot: await this.#llm.saveKv(cache), tail };
      await this.cache.putPrefix(key, entry);
      return entry;
    } finally {
      cache.destroy();
    }
  }

  /** Frees the device's buffers (and the device, when `open` acquired it). */
  destroy(): void {
    this.#siglip.destroy();
    this.#cut3r.destroy();
    this.#fusion.destroy();
    this.#llm.destroy();
  }
}

function truncate(s: KvSnapshot, length: number): KvSnapshot {
  if (length === s.length) return s;
  const row = s.k[0].byteLength / s.length;
  const cut = (b: Uint8Array) => b.subarray(0, length * row);
  return { length, dtype: s.dtype, k: s.k.map(cut), v: s.v.map(cut) };
}

/** All stage times zero. */
export function emptyTimes(): StageTimes {
  return {
    decode: 0,
    preprocess: 0,
    siglip: 0,
    cut3r: 0,
    fusion: 0,
    prefix: 0,
    prefill: 0,
    decodeTokens: 0,
  };
}

/** A model's tensors and config, where its tokenizer is, and an id of its weights. */
export interface ModelWeights {
  source: TensorSource;
  config: ModelConfig;
  /** Folder holding `tokenizer.json` (and `generation_config.json`). */
  tokenizerDir: string;
  /** Keys the per-video cache: different weights, different id. */
  modelId: string;
}

/** Opens a converted model folder or the release (see {@link Vlm3r.open}). */
export async function openWeights(where: ModelLocation): Promise<ModelWeights> {
  if ("model" in where) {
    const m = await openModel(where.model);
    const manifest = await Deno.readFile(`${m.dir}/manifest.json`);
    return {
      source: m.source,
      config: m.config,
      tokenizerDir: m.dir,
      modelId: createHash("sha256").update(manifest).digest("hex"),
    };
  }
  const r = await openRelease(where);
  // The release is keyed by its files' names, sizes and times (hashing 20 GB per start would
  // cost more than the cache saves); a converted model by its manifest.
  const parts: (string | number)[] = ["release"];
  for (const f of [...r.files].sort()) {
    const st = await Deno.stat(f);
    parts.push(f, st.size, st.mtime?.getTime() ?? 0);
  }
  return {
    source: r.source,
    config: r.config,
    tokenizerDir: where.base,
    modelId: cacheKey(parts),
  };
}
