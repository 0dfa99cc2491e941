/**
 * VLM-3R's spatial tower: the parts of CUT3R (`ARCroco3DStereo`) that feed the fusion block,
 * model-reference.md §3. The encoder (a ViT with 2D RoPE, no absolute position embedding) runs
 * batched over frames; the decoder runs frame after frame, because its state carries the scene:
 *
 * 1. State init once: `s = decoder_embed_state(register_tokens)`; pose memory `mem` learned.
 * 2. Per frame t: `g = mean(F_t)`; the pose query is the learned pose token at t = 0, else read
 *    from the memory (`[proj_q(g), masked_token]` through the read blocks, last half).
 * 3. Two branches of decoder blocks, both reading the previous layer's outputs: the state
 *    (`y`, RoPE at the state grid) and the image (`x = [pose, decoder_embed(F_t)]`, RoPE at
 *    `(-1, -1)` then the patch grid).
 * 4. `dec_norm(x)` gives the camera token (row 0) and the patch tokens; `dec_norm_state(y)` is
 *    the next state; the memory is rewritten with `[proj_q(g), camera token]`.
 *
 * Not run: the ray-map encoder (its contribution is multiplied by 0), the DPT, pose and RGB
 * heads (their outputs are never used by VLM-3R).
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import type { Batch, DType, Gpu, GpuTensor } from "../kernels/device.ts";
import { layerNorm } from "../kernels/layer_norm.ts";
import { linear } from "../kernels/linear.ts";
import { patchEmbed } from "../kernels/patch_embed.ts";
import { rope2dTable, ROPE_BASE } from "../kernels/rope2d.ts";
import { tokenMean } from "../kernels/token_mean.ts";
import type { LinearWeights, NormWeights } from "./fusion.ts";
import type { TensorSource } from "./weights/source.ts";
import {
  attend,
  BatchChain,
  checkPrecision,
  copyRows,
  destroyAll,
  type GpuAttention,
  type GpuLinear,
  type GpuNorm,
  residual,
  type RopeTables,
  rowsOf,
  type TowerOptions,
  uploadLinear,
  uploadNorm,
  WeightReader,
} from "./_towers.ts";

/** Shape of a CUT3R model (the keyword arguments of its constructor, model-reference.md §3.1). */
export interface Cut3rConfig {
  /** Encoder width (`enc_embed_dim`, 1024). */
  encDim: number;
  /** Encoder blocks (`enc_depth`, 24). */
  encDepth: number;
  /** Encoder heads (`enc_num_heads`, 16). */
  encHeads: number;
  /** Decoder width (`dec_embed_dim`, 768). */
  decDim: number;
  /** Decoder layers, per branch (`dec_depth`, 12). */
  decDepth: number;
  /** Heads of the image branch and the pose memory (`dec_num_heads`, 12). */
  decHeads: number;
  /** Heads of the state branch (`state_dec_num_heads`, 16: not visible in the weights). */
  stateHeads: number;
  /** State tokens (`state_size`, 768). */
  stateSize: number;
  /** Pose-memory slots (`local_mem_size`, 256). */
  memSize: number;
  /** Patch side in pixels (`patch_size`, 16). */
  patch: number;
  /** RoPE frequency base (`pos_embed='RoPE100'`). */
  ropeBase: number;
  /** Layer-norm eps (CroCo's 1e-6). */
  eps: number;
  /** MLP width over block width (4). */
  mlpRatio: number;
}

/** `cut3r_512_dpt_4_64.pth`, the checkpoint VLM-3R uses (model-reference.md §3.1). */
export const CUT3R_512_DPT_4_64: Cut3rConfig = {
  encDim: 1024,
  encDepth: 24,
  encHeads: 16,
  decDim: 768,
  decDepth: 12,
  decHeads: 12,
  stateHeads: 16,
  stateSize: 768,
  memSize: 256,
  patch: 16,
  ropeBase: ROPE_BASE,
  eps: 1e-6,
  mlpRatio: 4,
};

/** Where CUT3R's tensors live in vlm3r's naming: `cut3r.` + the `.pth` state-dict key. */
export const CUT3R_PREFIX = "cut3r.";

/**
 * The model's shape from its constructor's keyword arguments (`cut3rArgs` of
 * `model/weights/config.ts`, or a JSON of them), with CroCo's and CUT3R's defaults for the rest (`state_dec_num_heads` 16,
 * `local_mem_size` 256, `patch_size` 16, eps 1e-6, MLP ratio 4). Only what VLM-3R runs is
 * accepted: RoPE positions (`pos_embed='RoPE<base>'`), a 2D state grid and the pose head.
 * `file` names the source in errors.
 *
 * @example
 * ```ts
 * import { cut3rArgs } from "./weights/config.ts";
 * const c = cut3rConfig(cut3rArgs("M(C(enc_embed_dim=1024, enc_depth=24, enc_num_heads=16, dec_embed_dim=768, dec_depth=12, dec_num_heads=12, state_size=768, pos_embed='RoPE100', pose_head=True))", "args"), "args");
 * if (JSON.stringify(c) !== JSON.stringify(CUT3R_512_DPT_4_64)) throw new Error();
 * ```
 */
export function cut3rConfig(args: Record<string, unknown>, file: string): Cut3rConfig {
  const num = (key: string, fallback?: number, alias?: string): number => {
    const x = args[key] ?? (alias ? args[alias] : undefined) ?? fallback;
    if (typeof x !== "number" || !(x > 0)) {
      throw new DataError(file, key, "a positive number", JSON.stringify(x ?? null));
    }
    return x;
  };
  let ropeBase = typeof args.rope_base === "number" ? args.rope_base : NaN;
  if (Number.isNaN(ropeBase)) {
    const pe = String(args.pos_embed ?? "cosine");
    const m = pe.match(/^RoPE(\d+(?:\.\d+)?)$/);
    if (!m) throw new DataError(file, "pos_embed", "RoPE<base> (e.g. 'RoPE100')", `'${pe}'`);
    ropeBase = Number(m[1]);
  }
  if ((args.state_pe ?? "2d") !== "2d") {
    throw new DataError(file, "state_pe", "'2d'", `'${args.state_pe}'`);
  }
  if (args.pose_head === false) throw new DataError(file, "pose_head", "True", "False");
  const c: Cut3rConfig = {
    encDim: num("enc_embed_dim", 768),
    encDepth: num("enc_depth", 12),
    encHeads: num("enc_num_heads", 12),
    decDim: num("dec_embed_dim", 512),
    decDepth: num("dec_depth", 8),
    decHeads: num("dec_num_heads", 16),
    stateHeads: num("state_dec_num_heads", 16),
    stateSize: num("state_size", 324),
    memSize: num("local_mem_size", 256),
    patch: num("patch_size", 16, "patch"),
    ropeBase,
    eps: num("layer_norm_eps", 1e-6),
    mlpRatio: num("mlp_ratio", 4),
  };
  for (
    const [w, h, key] of [
      [c.encDim, c.encHeads, "enc_num_heads"],
      [c.decDim, c.decHeads, "dec_num_heads"],
      [c.decDim, c.stateHeads, "state_dec_num_heads"],
    ] as const
  ) {
    if (w % h !== 0 || (w / h) % 4 !== 0) {
      throw new DataError(file, key, `heads whose width divides by 4 (2D RoPE)`, `${w}/${h}`);
    }
  }
  return c;
}

/**
 * Positions `(y, x)` of a `rows x cols` grid, row-major (CroCo's `PositionGetter`).
 *
 * @example
 * ```ts
 * if (gridPositions(2, 2).join() !== "0,0,0,1,1,0,1,1") throw new Error();
 * ```
 */
export function gridPositions(rows: number, cols: number): number[] {
  return Array.from({ length: rows * cols }, (_, i) => [Math.floor(i / cols), i % cols]).flat();
}

/**
 * Positions of the state tokens: `(j div w, j mod w)` with `w = floor(sqrt(S))`, made even
 * (`_encode_state`): width 28 for the 768 tokens.
 *
 * @example
 * ```ts
 * const p = statePositions(27); // width int(sqrt 27) = 5 is odd: 6
 * if (p[2 * 26] !== 4 || p[2 * 26 + 1] !== 2) throw new Error();
 * ```
 */
export function statePositions(size: number): number[] {
  let w = Math.floor(Math.sqrt(size));
  if (w % 2 === 1) w++;
  return Array.from({ length: size }, (_, j) => [Math.floor(j / w), j % w]).flat();
}

/** An encoder block's tensors (`enc_blocks.{i}`). */
export interface EncoderBlockWeights {
  norm1: NormWeights;
  q: LinearWeights;
  k: LinearWeights;
  v: LinearWeights;
  proj: LinearWeights;
  norm2: NormWeights;
  fc1: LinearWeights;
  fc2: LinearWeights;
}

/** A decoder block's tensors (`dec_blocks.{i}`, `dec_blocks_state.{i}`, the pose memory's). */
export interface DecoderBlockWeights extends EncoderBlockWeights {
  /** `norm_y`: the norm of what the cross-attention reads. */
  normY: NormWeights;
  cq: LinearWeights;
  ck: LinearWeights;
  cv: LinearWeights;
  cproj: LinearWeights;
  norm3: NormWeights;
}

/** Every tensor of CUT3R that VLM-3R runs. */
export interface Cut3rWeights {
  config: Cut3rConfig;
  /** `patch_embed.proj` as a linear layer `[E, 3*p*p]`. */
  patch: LinearWeights;
  enc: EncoderBlockWeights[];
  encNorm: NormWeights;
  decoderEmbed: LinearWeights;
  decoderEmbedState: LinearWeights;
  /** `[S, E]`. */
  registerTokens: Float32Array;
  /** `[D]`. */
  poseToken: Float32Array;
  dec: DecoderBlockWeights[];
  decState: DecoderBlockWeights[];
  decNorm: NormWeights;
  decNormState: NormWeights;
  /** `pose_retriever.proj_q`, E -> D. */
  projQ: LinearWeights;
  /** `pose_retriever.masked_token`, `[D]`. */
  maskedToken: Float32Array;
  /** `pose_retriever.mem`, `[M, 2D]`. */
  mem: Float32Array;
  read: DecoderBlockWeights[];
  write: DecoderBlockWeights[];
}

/** Options of {@link loadCut3rWeights}. */
export interface Cut3rLoadOptions {
  /** Prefix of the tensor names (default {@link CUT3R_PREFIX}; "" for a bare state dict). */
  prefix?: string;
  /** Names the source in errors (default "weights"). */
  label?: string;
}

/**
 * Reads CUT3R's tensors from `source` by the checkpoint's state-dict keys under `prefix` (a
 * `module.` after the prefix is accepted, as CUT3R's loader strips it), checking every shape.
 * Missing `dec_blocks_state.*` are taken from `dec_blocks.*`, as CUT3R's `load_state_dict`
 * does. The ray-map encoder, masked image/ray tokens and the heads are not read.
 *
 * @example
 * ```ts ignore
 * const w = await loadCut3rWeights(source, CUT3R_512_DPT_4_64);
 * ```
 */
export async function loadCut3rWeights(
  source: TensorSource,
  config: Cut3rConfig,
  options: Cut3rLoadOptions = {},
): Promise<Cut3rWeights> {
  let prefix = options.prefix ?? CUT3R_PREFIX;
  const label = options.label ?? "weights";
  if (!source.info(`${prefix}patch_embed.proj.weight`)) {
    if (source.info(`${prefix}module.patch_embed.proj.weight`)) prefix += "module.";
  }
  const r = new WeightReader(source, prefix, label);
  const { encDim: e, decDim: d, patch: p, mlpRatio } = config;
  const enc = async (key: string, w: number): Promise<EncoderBlockWeights> => {
    const qkv = await r.linear(`${key}.attn.qkv`, 3 * w, w);
    return {
      norm1: await r.norm(`${key}.norm1`, w),
      q: rowsOf(qkv, 0, w),
      k: rowsOf(qkv, 1, w),
      v: rowsOf(qkv, 2, w),
      proj: await r.linear(`${key}.attn.proj`, w, w),
      norm2: await r.norm(`${key}.norm2`, w),
      fc1: await r.linear(`${key}.mlp.fc1`, mlpRatio * w, w),
      fc2: await r.linear(`${key}.mlp.fc2`, w, mlpRatio * w),
    };
  };
  const dec = async (key: string, w: number): Promise<DecoderBlockWeights> => ({
    ...(await enc(key, w)),
    normY: await r.norm(`${key}.norm_y`, w),
    cq: await r.linear(`${key}.cross_attn.projq`, w, w),
    ck: await r.linear(`${key}.cross_attn.projk`, w, w),
    cv: await r.linear(`${key}.cross_attn.projv`, w, w),
    cproj: await r.linear(`${key}.cross_attn.proj`, w, w),
    norm3: await r.norm(`${key}.norm3`, w),
  });
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const many = async <T>(n: number, f: (i: number) => Promise<T>) => {
    const out: T[] = [];
    for (const i of range(n)) out.push(await f(i));
    return out;
  };
  const depthOf = (key: string) => {
    let n = 0;
    while (r.has(`${key}.${n}.norm1.weight`)) n++;
    return n;
  };
  const stateKey = r.has("dec_blocks_state.0.norm1.weight") ? "dec_blocks_state" : "dec_blocks";
  const memDepth = depthOf("pose_retriever.read_blocks");
  if (memDepth === 0) {
    throw new DataError(
      label,
      `${prefix}pose_retriever.read_blocks.0.norm1.weight`,
      "a tensor",
      "none",
    );
  }
  return {
    config,
    patch: {
      weight: await r.tensor("patch_embed.proj.weight", [e, 3, p, p]),
      bias: await r.tensor("patch_embed.proj.bias", [e]),
      out: e,
      in: 3 * p * p,
    },
    enc: await many(config.encDepth, (i) => enc(`enc_blocks.${i}`, e)),
    encNorm: await r.norm("enc_norm", e),
    decoderEmbed: await r.linear("decoder_embed", d, e),
    decoderEmbedState: await r.linear("decoder_embed_state", d, e),
    registerTokens: await r.tensor("register_tokens.weight", [config.stateSize, e]),
    poseToken: await r.tensor("pose_token", [1, 1, d]),
    dec: await many(config.decDepth, (i) => dec(`dec_blocks.${i}`, d)),
    decState: await many(config.decDepth, (i) => dec(`${stateKey}.${i}`, d)),
    decNorm: await r.norm("dec_norm", d),
    decNormState: await r.norm("dec_norm_state", d),
    projQ: await r.linear("pose_retriever.proj_q", d, e),
    maskedToken: await r.tensor("pose_retriever.masked_token", [1, 1, d]),
    mem: await r.tensor("pose_retriever.mem", [1, config.memSize, 2 * d]),
    read: await many(memDepth, (i) => dec(`pose_retriever.read_blocks.${i}`, 2 * d)),
    write: await many(
      depthOf("pose_retriever.write_blocks"),
      (i) => dec(`pose_retriever.write_blocks.${i}`, 2 * d),
    ),
  };
}

/** An encoder block on the GPU ({@link uploadCut3rBlock}). */
export interface GpuCut3rBlock {
  norm1: GpuNorm;
  attn: GpuAttention;
  norm2: GpuNorm;
  fc1: GpuLinear;
  fc2: GpuLinear;
}

/** A decoder block on the GPU ({@link uploadCut3rBlock}). */
export interface GpuCut3rDecoderBlock extends GpuCut3rBlock {
  normY: GpuNorm;
  cross: GpuAttention;
  norm3: GpuNorm;
}

/** Uploads an encoder or decoder block with `heads` heads, weights in `precision`. */
export function uploadCut3rBlock<B extends EncoderBlockWeights>(
  gpu: Gpu,
  blk: B,
  heads: number,
  precision: DType,
): B extends DecoderBlockWeights ? GpuCut3rDecoderBlock : GpuCut3rBlock;
export function uploadCut3rBlock(
  gpu: Gpu,
  blk: EncoderBlockWeights | DecoderBlockWeights,
  heads: number,
  precision: DType,
): GpuCut3rBlock | GpuCut3rDecoderBlock {
  const lin = (l: LinearWeights) => uploadLinear(gpu, l, precision);
  const out: GpuCut3rBlock = {
    norm1: uploadNorm(gpu, blk.norm1),
    attn: { q: lin(blk.q), k: lin(blk.k), v: lin(blk.v), o: lin(blk.proj), heads },
    norm2: uploadNorm(gpu, blk.norm2),
    fc1: lin(blk.fc1),
    fc2: lin(blk.fc2),
  };
  if (!("normY" in blk)) return out;
  return {
    ...out,
    normY: uploadNorm(gpu, blk.normY),
    cross: { q: lin(blk.cq), k: lin(blk.ck), v: lin(blk.cv), o: lin(blk.cproj), heads },
    norm3: uploadNorm(gpu, blk.norm3),
  };
}

/** RoPE tables for a block's queries and keys (see `rope2dTable`); absent: no RoPE. */
export type { RopeTables };

/**
 * Records one CUT3R block on `x` `[B, N, D]`: `x += attn(LN1 x)` (RoPE `self`); for a decoder
 * block with `mem` `[B, M, D]`, `x += cross(LN2 x, norm_y(mem))` (RoPE `cross`: q at x's
 * positions, k at mem's); then `x += mlp(LN x)` with the exact GELU. `act` is the storage of
 * q, k, v and the attention output.
 */
export async function cut3rBlock(
  b: Batch,
  blk: GpuCut3rBlock | GpuCut3rDecoderBlock,
  x: GpuTensor,
  mem: GpuTensor | null,
  rope: { self: RopeTables; cross?: RopeTables },
  eps: number,
  act: DType = "f32",
): Promise<GpuTensor> {
  let h = await residual(b, x, blk.norm1, eps, (n) => attend(b, n, n, blk.attn, rope.self, act));
  let mlpNorm = blk.norm2;
  if (mem) {
    const d = blk as GpuCut3rDecoderBlock;
    const ym = await layerNorm(b, mem, d.normY.g, d.normY.b, eps);
    h = await residual(b, h, d.norm2, eps, (n) => attend(b, n, ym, d.cross, rope.cross ?? {}, act));
    mlpNorm = d.norm3;
  }
  return await residual(b, h, mlpNorm, eps, async (n) => {
    const hidden = await linear(b, n, blk.fc1.w, blk.fc1.b, { gelu: true });
    return await linear(b, hidden, blk.fc2.w, blk.fc2.b);
  });
}

/** RoPE tables of one grid: per branch, its own positions and the other's. */
interface Tables {
  /** Encoder: patches at the encoder's head dim. */
  enc: GpuTensor;
  /** Image branch head dim: image positions (pose token first), state positions. */
  img: GpuTensor;
  stateForImg: GpuTensor;
  /** State branch head dim: state positions, image positions. */
  state: GpuTensor;
  imgForState: GpuTensor;
}

/** Options of {@link Cut3rTower.run}. */
export interface Cut3rRunOptions {
  /** Also return the intermediate values the golden tests compare. */
  capture?: boolean;
}

/** What {@link Cut3rTower.run} returns. */
export interface Cut3rResult {
  /**
   * `[F, 1 + T, D]`: per frame the camera token then the T patch tokens, after `dec_norm`
   * (VLM-3R's `Z3D`, the fusion block's keys and values).
   */
  tokens: Float32Array;
  /** With `capture`: `[F, T, E]` encoder output (after `enc_norm`). */
  encoder?: Float32Array;
  /** With `capture`: `[S, D]` initial state. */
  stateInit?: Float32Array;
  /** With `capture`: `[F, D]` pose query fed to the decoder per frame. */
  poseQueries?: Float32Array;
  /** With `capture`: `[F, S, D]` state after each frame. */
  states?: Float32Array;
  /** With `capture`: `[F, M, 2D]` pose memory after each frame. */
  mems?: Float32Array;
}

/** CUT3R on the GPU: weights uploaded once; the encoder batched, the decoder per frame. */
export class Cut3rTower {
  /** The model's shape. */
  readonly config: Cut3rConfig;
  readonly #gpu: Gpu;
  readonly #act: DType;
  readonly #budget: number;
  readonly #w: {
    patch: GpuLinear;
    enc: GpuCut3rBlock[];
    encNorm: GpuNorm;
    decoderEmbed: GpuLinear;
    decoderEmbedState: GpuLinear;
    registerTokens: GpuTensor;
    poseToken: GpuTensor;
    dec: GpuCut3rDecoderBlock[];
    decState: GpuCut3rDecoderBlock[];
    decNorm: GpuNorm;
    decNormState: GpuNorm;
    projQ: GpuLinear;
    maskedToken: GpuTensor;
    mem: GpuTensor;
    read: GpuCut3rDecoderBlock[];
    write: GpuCut3rDecoderBlock[];
  };
  readonly #tables = new Map<number, Tables>();

  /**
   * Uploads `weights` (in f16 with `precision: "f16"`).
   *
   * @example
   * ```ts ignore
   * const tower = new Cut3rTower(gpu, await loadCut3rWeights(source, CUT3R_512_DPT_4_64));
   * const { tokens } = await tower.run(pixels432, 32); // [32, 730, 768]
   * ```
   */
  constructor(gpu: Gpu, weights: Cut3rWeights, options: TowerOptions = {}) {
    const c = this.config = weights.config;
    this.#gpu = gpu;
    this.#act = options.precision ?? "f32";
    this.#budget = options.batchBytes ?? 2 ** 29;
    checkPrecision(gpu, this.#act, "cut3r");
    const lin = (l: LinearWeights) => uploadLinear(gpu, l, this.#act);
    const norm = (n: NormWeights) => uploadNorm(gpu, n);
    const block = (b: EncoderBlockWeights, heads: number) =>
      uploadCut3rBlock(gpu, b, heads, this.#act);
    const dec = (b: DecoderBlockWeights, heads: number) =>
      uploadCut3rBlock(gpu, b, heads, this.#act);
    const w = weights, d = c.decDim;
    this.#w = {
      patch: lin(w.patch),
      enc: w.enc.map((b) => block(b, c.encHeads)),
      encNorm: norm(w.encNorm),
      decoderEmbed: lin(w.decoderEmbed),
      decoderEmbedState: lin(w.decoderEmbedState),
      registerTokens: gpu.tensor(w.registerTokens, [1, c.stateSize, c.encDim]),
      poseToken: gpu.tensor(w.poseToken, [1, 1, d]),
      dec: w.dec.map((b) => dec(b, c.decHeads)),
      decState: w.decState.map((b) => dec(b, c.stateHeads)),
      decNorm: norm(w.decNorm),
      decNormState: norm(w.decNormState),
      projQ: lin(w.projQ),
      maskedToken: gpu.tensor(w.maskedToken, [1, 1, d]),
      mem: gpu.tensor(w.mem, [1, c.memSize, 2 * d]),
      read: w.read.map((b) => dec(b, c.decHeads)),
      write: w.write.map((b) => dec(b, c.decHeads)),
    };
  }

  /** The RoPE tables of a `g x g` patch grid (made once per grid size). */
  #tablesFor(g: number): Tables {
    let t = this.#tables.get(g);
    if (t) return t;
    const c = this.config, gpu = this.#gpu;
    const patches = gridPositions(g, g), img = [-1, -1, ...patches];
    const state = statePositions(c.stateSize);
    const table = (pos: number[], dim: number) =>
      gpu.tensor(rope2dTable(pos, dim, c.ropeBase), [pos.length / 2, dim]);
    const dImg = c.decDim / c.decHeads, dState = c.decDim / c.stateHeads;
    t = {
      enc: table(patches, c.encDim / c.encHeads),
      img: table(img, dImg),
      stateForImg: table(state, dImg),
      state: table(state, dState),
      imgForState: table(img, dState),
    };
    this.#tables.set(g, t);
    return t;
  }

  /**
   * Frames per encoder chunk: the widest activation of a chunk must fit one binding, and one
   * block's temporaries the batch budget.
   */
  chunkFrames(tokens: number): number {
    const c = this.config;
    const widest = tokens * Math.max(c.mlpRatio * c.encDim, 3 * c.patch ** 2) * 4;
    const binding = Math.floor(this.#gpu.limits.maxStorageBufferBindingSize / widest);
    return Math.max(1, Math.min(binding, Math.floor(this.#budget / this.#blockBytes(tokens))));
  }

  /** Temporaries of one encoder block over one frame of `tokens` tokens. */
  #blockBytes(tokens: number): number {
    return tokens * this.config.encDim * (10 + 2 * this.config.mlpRatio) * 4;
  }

  /**
   * Runs `frames` frames of `pixels` `[F, 3, S, S]` (normalised to [-1, 1]; S a multiple of
   * the patch side, 432 in VLM-3R) through the encoder and the recurrent decoder, the state
   * and memory starting fresh.
   */
  async run(
    pixels: Float32Array,
    frames: number,
    options: Cut3rRunOptions = {},
  ): Promise<Cut3rResult> {
    const c = this.config, gpu = this.#gpu;
    const side = Math.round(Math.sqrt(pixels.length / (3 * frames)));
    if (!(frames >= 1) || pixels.length !== frames * 3 * side * side || side % c.patch !== 0) {
      throw new RangeError(
        `cut3r: ${pixels.length} pixel values are not ${frames} square RGB frames with a side that is a multiple of ${c.patch}`,
      );
    }
    const g = side / c.patch, t = g * g, d = c.decDim, e = c.encDim, s = c.stateSize;
    const tables = this.#tablesFor(g);
    const store = gpu.output([frames, t, e]);
    const tokens = gpu.output([frames, 1 + t, d]);
    const capture = options.capture
      ? {
        stateInit: gpu.output([s, d]),
        poseQueries: gpu.output([frames, d]),
        states: gpu.output([frames, s, d]),
        mems: gpu.output([frames, c.memSize, 2 * d]),
      }
      : undefined;
    const persistent: GpuTensor[] = [];
    const keep = (shape: number[]) => {
      const x = gpu.empty(shape);
      persistent.push(x);
      return x;
    };
    try {
      const chain = new BatchChain(gpu, this.#budget);
      await this.#encode(chain, pixels, frames, side, store, tables);
      // State and memory start from the learned tokens.
      const state = keep([1, s, d]), mem = keep([1, c.memSize, 2 * d]);
      let b = await chain.next(s * (e + d) * 4);
      const s0 = await linear(
        b,
        this.#w.registerTokens,
        this.#w.decoderEmbedState.w,
        this.#w.decoderEmbedState.b,
      );
      copyRows(b, s0, 0, state, 0, s, d);
      if (capture) copyRows(b, s0, 0, capture.stateInit, 0, s, d);
      copyRows(b, this.#w.mem, 0, mem, 0, c.memSize, 2 * d);
      const x = keep([1, 1 + t, d]), y = keep([1, s, d]), gq = keep([1, 1, d]);
      for (let f = 0; f < frames; f++) {
        // The frame's tokens, its image-level feature and its pose query.
        b = await chain.next((t * (e + d) + c.memSize * 2 * d * 12) * 4);
        const feat = b.alloc([1, t, e]);
        copyRows(b, store, f * t, feat, 0, t, e);
        const q = await linear(b, await tokenMean(b, feat), this.#w.projQ.w, this.#w.projQ.b);
        copyRows(b, q, 0, gq, 0, 1, d);
        let pose = this.#w.poseToken;
        if (f > 0) {
          const h0 = b.alloc([1, 1, 2 * d]);
          copyRows(b, q, 0, h0, 0, 1, d);
          copyRows(b, this.#w.maskedToken, 0, h0, 1, 1, d);
          let h = h0;
          for (const blk of this.#w.read) {
            h = await cut3rBlock(b, blk, h, mem, { self: {} }, c.eps, this.#act);
          }
          pose = b.alloc([1, 1, d]);
          copyRows(b, h, 1, pose, 0, 1, d);
        }
        if (capture) copyRows(b, pose, 0, capture.poseQueries, f, 1, d);
        copyRows(b, pose, 0, x, 0, 1, d);
        const emb = await linear(b, feat, this.#w.decoderEmbed.w, this.#w.decoderEmbed.b);
        copyRows(b, emb, 0, x, 1, t, d);
        copyRows(b, state, 0, y, 0, s, d);
        // Both branches read the previous layer's outputs.
        for (let l = 0; l < c.decDepth; l++) {
          b = await chain.next((1 + t + s) * d * (14 + 2 * c.mlpRatio) * 4);
          const ropeImg = { q: tables.img, k: tables.img };
          const ropeState = { q: tables.state, k: tables.state };
          const ny = await cut3rBlock(
            b,
            this.#w.decState[l],
            y,
            x,
            {
              self: ropeState,
              cross: { q: tables.state, k: tables.imgForState },
            },
            c.eps,
            this.#act,
          );
          const nx = await cut3rBlock(
            b,
            this.#w.dec[l],
            x,
            y,
            {
              self: ropeImg,
              cross: { q: tables.img, k: tables.stateForImg },
            },
            c.eps,
            this.#act,
          );
          copyRows(b, ny, 0, y, 0, s, d);
          copyRows(b, nx, 0, x, 0, 1 + t, d);
        }
        // Outputs, the next state, and the memory write.
        b = await chain.next(((1 + t + s) * d + c.memSize * 2 * d * 14) * 4);
        const out = await layerNorm(b, x, this.#w.decNorm.g, this.#w.decNorm.b, c.eps);
        const next = await layerNorm(b, y, this.#w.decNormState.g, this.#w.decNormState.b, c.eps);
        copyRows(b, out, 0, tokens, f * (1 + t), 1 + t, d);
        copyRows(b, next, 0, state, 0, s, d);
        const wtok = b.alloc([1, 1, 2 * d]);
        copyRows(b, gq, 0, wtok, 0, 1, d);
        copyRows(b, out, 0, wtok, 1, 1, d);
        let mm: GpuTensor = mem;
        for (const blk of this.#w.write) {
          mm = await cut3rBlock(b, blk, mm, wtok, { self: {} }, c.eps, this.#act);
        }
        if (mm !== mem) copyRows(b, mm, 0, mem, 0, c.memSize, 2 * d);
        if (capture) {
          copyRows(b, next, 0, capture.states, f * s, s, d);
          copyRows(b, mm, 0, capture.mems, f * c.memSize, c.memSize, 2 * d);
        }
      }
      const wanted = capture
        ? [tokens, store, capture.stateInit, capture.poseQueries, capture.states, capture.mems]
        : [tokens];
      const got = await chain.read(wanted);
      return capture
        ? {
          tokens: got[0],
          encoder: got[1],
          stateInit: got[2],
          poseQueries: got[3],
          states: got[4],
          mems: got[5],
        }
        : { tokens: got[0] };
    } finally {
      destroyAll([store, tokens, capture, persistent]);
    }
  }

  /** The encoder over all frames, in chunks; `enc_norm` output into `store` `[F, T, E]`. */
  async #encode(
    chain: BatchChain,
    pixels: Float32Array,
    frames: number,
    side: number,
    store: GpuTensor,
    tables: Tables,
  ): Promise<void> {
    const c = this.config, e = c.encDim, g = side / c.patch, t = g * g;
    const plane = 3 * side * side;
    const chunk = this.chunkFrames(t);
    for (let f0 = 0; f0 < frames; f0 += chunk) {
      const n = Math.min(chunk, frames - f0);
      const x = this.#gpu.empty([n, t, e]);
      try {
        let b = await chain.next(n * t * (3 * c.patch ** 2 + e) * 4);
        const px = b.upload(pixels.subarray(f0 * plane, (f0 + n) * plane), [n, 3, side, side]);
        copyRows(
          b,
          await patchEmbed(b, px, this.#w.patch.w, this.#w.patch.b, c.patch),
          0,
          x,
          0,
          n * t,
          e,
        );
        for (const blk of this.#w.enc) {
          b = await chain.next(n * this.#blockBytes(t));
          const rope = { q: tables.enc, k: tables.enc };
          copyRows(
            b,
            await cut3rBlock(b, blk, x, null, { self: rope }, c.eps, this.#act),
            0,
            x,
            0,
            n * t,
            e,
          );
        }
        b = await chain.next(n * t * e * 4);
        const normed = await layerNorm(b, x, this.#w.encNorm.g, this.#w.encNorm.b, c.eps);
        copyRows(b, normed, 0, store, f0 * t, n * t, e);
        // x is reused by the next chunk's batch only after this one is submitted.
        await chain.read([]);
      } finally {
        x.buffer.destroy();
      }
    }
  }

  /** Frees the uploaded weights and tables. */
  destroy(): void {
    destroyAll([this.#w, [...this.#tables.values()]]);
  }
}
