/**
 * VLM-3R's visual tower, SigLIP-so400m-patch14-384 truncated as the reference runs it
 * (model-reference.md §2): the patch convolution (14 px, the last 6 px of 384 dropped), the
 * learned position embedding, then the pre-norm encoder layers but the last one, and no
 * post-norm: the hidden state after layer 26 of 27 (`mm_vision_select_layer = -2`). Frames
 * run batched, in chunks that fit the device's binding limit.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import type { Batch, DType, Gpu, GpuTensor } from "../kernels/device.ts";
import { geluTanh } from "../kernels/gelu.ts";
import { linear } from "../kernels/linear.ts";
import { patchEmbed } from "../kernels/patch_embed.ts";
import { addPositionEmbedding } from "../kernels/pos_embed.ts";
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
  padHidden,
  residual,
  type TowerOptions,
  uploadLinear,
  uploadNorm,
  WeightReader,
} from "./_towers.ts";

/** Shape of a SigLIP vision tower as VLM-3R runs it. */
export interface SiglipConfig {
  /** Width of the tokens (1152). */
  hidden: number;
  /** Attention heads (16; head dim 72). */
  heads: number;
  /** MLP width (4304). */
  intermediate: number;
  /** Encoder layers run: the checkpoint's count minus one (26). */
  layers: number;
  /** Patch side in pixels (14). */
  patch: number;
  /** Input side in pixels (384). */
  image: number;
  /** Input channels (3). */
  channels: number;
  /** Layer-norm eps (1e-6). */
  eps: number;
}

/** google/siglip-so400m-patch14-384 with its last layer dropped (model-reference.md §2). */
export const SIGLIP_SO400M: SiglipConfig = {
  hidden: 1152,
  heads: 16,
  intermediate: 4304,
  layers: 26,
  patch: 14,
  image: 384,
  channels: 3,
  eps: 1e-6,
};

/** Where the tower's tensors live in the LLaVA-Video base checkpoint. */
export const SIGLIP_PREFIX = "model.vision_tower.vision_tower.vision_model.";

/**
 * The tower's shape from a vision config (`siglip/config.json`, flat or under
 * `vision_config`; missing fields take the so400m values of VLM-3R's `SigLipVisionConfig`).
 * The layers run are `num_hidden_layers - 1`. `file` names the config in errors.
 *
 * @example
 * ```ts
 * const c = siglipConfig({ vision_config: { hidden_size: 144, num_attention_heads: 2, num_hidden_layers: 3 } }, "c.json");
 * if (c.layers !== 2 || c.hidden / c.heads !== 72 || c.image !== 384) throw new Error();
 * ```
 */
export function siglipConfig(json: unknown, file: string): SiglipConfig {
  const root = (json ?? {}) as Record<string, unknown>;
  const v = (root.vision_config ?? root) as Record<string, unknown>;
  const num = (key: string, fallback: number, min = 1): number => {
    const x = v[key] ?? fallback;
    if (typeof x !== "number" || !(x >= min)) {
      throw new DataError(file, key, `a number >= ${min}`, JSON.stringify(x));
    }
    return x;
  };
  const act = v.hidden_act ?? "gelu_pytorch_tanh";
  if (act !== "gelu_pytorch_tanh") {
    throw new DataError(file, "hidden_act", "gelu_pytorch_tanh", JSON.stringify(act));
  }
  const c: SiglipConfig = {
    hidden: num("hidden_size", 1152),
    heads: num("num_attention_heads", 16),
    intermediate: num("intermediate_size", 4304),
    layers: num("num_hidden_layers", 27, 2) - 1,
    patch: num("patch_size", 14),
    image: num("image_size", 384),
    channels: num("num_channels", 3),
    eps: num("layer_norm_eps", 1e-6, 0),
  };
  if (c.hidden % c.heads !== 0) {
    throw new DataError(file, "num_attention_heads", `a divisor of ${c.hidden}`, `${c.heads}`);
  }
  if (c.image < c.patch) throw new DataError(file, "image_size", `>= ${c.patch}`, `${c.image}`);
  return c;
}

/** Tokens per frame: the patch grid, `floor(image / patch)^2` (729). */
export function siglipTokens(c: SiglipConfig): number {
  return Math.floor(c.image / c.patch) ** 2;
}

/** One encoder layer's tensors. */
export interface SiglipLayerWeights {
  norm1: NormWeights;
  q: LinearWeights;
  k: LinearWeights;
  v: LinearWeights;
  out: LinearWeights;
  norm2: NormWeights;
  fc1: LinearWeights;
  fc2: LinearWeights;
}

/** Every tensor the truncated tower uses. */
export interface SiglipWeights {
  config: SiglipConfig;
  /** The patch convolution as a linear layer `[hidden, C*p*p]`. */
  patch: LinearWeights;
  /** `[tokens, hidden]`. */
  position: Float32Array;
  layers: SiglipLayerWeights[];
}

/** Options of {@link loadSiglipWeights}. */
export interface LoadOptions {
  /** Prefix of the tensor names (default {@link SIGLIP_PREFIX}). */
  prefix?: string;
  /** Names the source in errors (default "weights"). */
  label?: string;
}

/**
 * Reads the tower's tensors from `source` by the checkpoint's names (`embeddings.*`,
 * `encoder.layers.{i}.*` under `prefix`), checking every shape; the unused last layer and
 * `post_layernorm` are not read. A missing or misshapen tensor is a `DataError` naming it.
 *
 * @example
 * ```ts ignore
 * const w = await loadSiglipWeights(source, SIGLIP_SO400M);
 * ```
 */
export async function loadSiglipWeights(
  source: TensorSource,
  config: SiglipConfig,
  options: LoadOptions = {},
): Promise<SiglipWeights> {
  const r = new WeightReader(source, options.prefix ?? SIGLIP_PREFIX, options.label ?? "weights");
  const { hidden: d, intermediate: m, patch: p, channels: c } = config;
  const conv = await r.tensor("embeddings.patch_embedding.weight", [d, c, p, p]);
  const patch = {
    weight: conv,
    bias: await r.tensor("embeddings.patch_embedding.bias", [d]),
    out: d,
    in: c * p * p,
  };
  const position = await r.tensor("embeddings.position_embedding.weight", [
    siglipTokens(config),
    d,
  ]);
  const layers: SiglipLayerWeights[] = [];
  for (let i = 0; i < config.layers; i++) {
    const l = `encoder.layers.${i}.`;
    layers.push({
      norm1: await r.norm(`${l}layer_norm1`, d),
      q: await r.linear(`${l}self_attn.q_proj`, d, d),
      k: await r.linear(`${l}self_attn.k_proj`, d, d),
      v: await r.linear(`${l}self_attn.v_proj`, d, d),
      out: await r.linear(`${l}self_attn.out_proj`, d, d),
      norm2: await r.norm(`${l}layer_norm2`, d),
      fc1: await r.linear(`${l}mlp.fc1`, m, d),
      fc2: await r.linear(`${l}mlp.fc2`, d, m),
    });
  }
  return { config, patch, position, layers };
}

/** One encoder layer on the GPU ({@link uploadSiglipLayer}). */
export interface GpuSiglipLayer {
  norm1: GpuNorm;
  attn: GpuAttention;
  norm2: GpuNorm;
  fc1: GpuLinear;
  fc2: GpuLinear;
}

/**
 * Uploads one encoder layer with `heads` attention heads, weights in `precision`, the MLP width
 * padded to a multiple of 32 (exact, see `padHidden`).
 */
export function uploadSiglipLayer(
  gpu: Gpu,
  l: SiglipLayerWeights,
  heads: number,
  precision: DType,
): GpuSiglipLayer {
  const lin = (w: LinearWeights) => uploadLinear(gpu, w, precision);
  const [fc1, fc2] = padHidden(l.fc1, l.fc2);
  return {
    norm1: uploadNorm(gpu, l.norm1),
    attn: { q: lin(l.q), k: lin(l.k), v: lin(l.v), o: lin(l.out), heads },
    norm2: uploadNorm(gpu, l.norm2),
    fc1: lin(fc1),
    fc2: lin(fc2),
  };
}

/**
 * Records one pre-norm encoder layer on `x` `[F, T, hidden]`:
 * `h = x + out_proj(attn(LN1 x))`, then `h + fc2(gelu_tanh(fc1(LN2 h)))`. `act` is the storage
 * of q, k, v and the attention output.
 */
export async function siglipLayer(
  b: Batch,
  x: GpuTensor,
  layer: GpuSiglipLayer,
  eps: number,
  act: DType = "f32",
): Promise<GpuTensor> {
  const h = await residual(b, x, layer.norm1, eps, (y) => attend(b, y, y, layer.attn, {}, act));
  return await residual(b, h, layer.norm2, eps, async (y) => {
    const m = await geluTanh(b, await linear(b, y, layer.fc1.w, layer.fc1.b));
    return await linear(b, m, layer.fc2.w, layer.fc2.b);
  });
}

/** Options of {@link SiglipTower.run}. */
export interface SiglipRunOptions {
  /** Also return the hidden states: the embeddings, then the output of every layer. */
  hidden?: boolean;
}

/** What {@link SiglipTower.run} returns. */
export interface SiglipResult {
  /** `[F, tokens, hidden]`: the last layer's output (VLM-3R's `Hv`). */
  output: Float32Array;
  /** With `hidden`: `layers + 1` arrays `[F, tokens, hidden]` (index 0 the embeddings). */
  hidden?: Float32Array[];
}

/** The tower on the GPU: weights uploaded once; frames run batched. */
export class SiglipTower {
  /** The tower's shape. */
  readonly config: SiglipConfig;
  /** Tokens per frame. */
  readonly tokens: number;
  readonly #gpu: Gpu;
  readonly #act: DType;
  readonly #budget: number;
  readonly #patch: GpuLinear;
  readonly #position: GpuTensor;
  readonly #layers: GpuSiglipLayer[];

  /**
   * Uploads `weights` (in f16 with `precision: "f16"`).
   *
   * @example
   * ```ts ignore
   * const tower = new SiglipTower(gpu, await loadSiglipWeights(source, SIGLIP_SO400M));
   * const { output } = await tower.run(pixels, 32); // [32, 729, 1152]
   * ```
   */
  constructor(gpu: Gpu, weights: SiglipWeights, options: TowerOptions = {}) {
    this.config = weights.config;
    this.tokens = siglipTokens(this.config);
    this.#gpu = gpu;
    this.#act = options.precision ?? "f32";
    this.#budget = options.batchBytes ?? 2 ** 29;
    checkPrecision(gpu, this.#act, "siglip");
    const lin = (l: LinearWeights) => uploadLinear(gpu, l, this.#act);
    this.#patch = lin(weights.patch);
    this.#position = gpu.tensor(weights.position, [this.tokens, this.config.hidden]);
    this.#layers = weights.layers.map((l) =>
      uploadSiglipLayer(gpu, l, this.config.heads, this.#act)
    );
  }

  /**
   * Frames per chunk: the widest activation of a chunk must fit one storage binding, and one
   * layer's temporaries the batch budget (a chunk of 8 real-size frames is 5832 rows, plenty
   * for a GPU).
   */
  chunkFrames(): number {
    const c = this.config;
    const mlp = Math.ceil(c.intermediate / 32) * 32; // padded, see uploadSiglipLayer
    const widest = this.tokens * Math.max(mlp, c.channels * c.patch ** 2, 3 * c.hidden) * 4;
    const binding = Math.floor(this.#gpu.limits.maxStorageBufferBindingSize / widest);
    return Math.max(1, Math.min(binding, Math.floor(this.#budget / this.#layerBytes(1))));
  }

  /** Temporaries of one layer over `n` frames: ~10 activations of width d, 2 of the MLP's. */
  #layerBytes(n: number): number {
    const c = this.config;
    return n * this.tokens * (10 * c.hidden + 2 * Math.ceil(c.intermediate / 32) * 32) * 4;
  }

  /**
   * Runs `frames` frames of `pixels` `[F, C, image, image]` (normalised to [-1, 1], as
   * `preprocessFrames` makes them).
   */
  async run(
    pixels: Float32Array,
    frames: number,
    options: SiglipRunOptions = {},
  ): Promise<SiglipResult> {
    const c = this.config, t = this.tokens, d = c.hidden;
    const plane = c.channels * c.image * c.image;
    if (!(frames >= 1) || pixels.length !== frames * plane) {
      throw new RangeError(
        `siglip: ${pixels.length} pixel values are not ${frames} frames of ${c.channels}x${c.image}x${c.image}`,
      );
    }
    const output = new Float32Array(frames * t * d);
    const hidden = options.hidden
      ? Array.from({ length: c.layers + 1 }, () => new Float32Array(frames * t * d))
      : undefined;
    const chunk = this.chunkFrames();
    for (let f0 = 0; f0 < frames; f0 += chunk) {
      const n = Math.min(chunk, frames - f0);
      const got = await this.#chunk(pixels.subarray(f0 * plane, (f0 + n) * plane), n, !!hidden);
      output.set(got.at(-1)!, f0 * t * d);
      hidden?.forEach((h, i) => h.set(got[i], f0 * t * d));
    }
    return { output, hidden };
  }

  /** One chunk of `n` frames: the final state, or every hidden state when asked. */
  async #chunk(pixels: Float32Array, n: number, all: boolean): Promise<Float32Array[]> {
    const c = this.config, t = this.tokens, d = c.hidden;
    const chain = new BatchChain(this.#gpu, this.#budget);
    const x = this.#gpu.empty([n, t, d]);
    const states: Float32Array[] = [];
    const layerBytes = this.#layerBytes(n);
    try {
      let b = await chain.next(n * t * (c.channels * c.patch ** 2 + 2 * d) * 4);
      const px = b.upload(pixels, [n, c.channels, c.image, c.image]);
      const emb = await patchEmbed(b, px, this.#patch.w, this.#patch.b, c.patch);
      copyRows(b, await addPositionEmbedding(b, emb, this.#position), 0, x, 0, n * t, d);
      if (all) states.push((await chain.read([x]))[0]);
      for (const layer of this.#layers) {
        b = await chain.next(layerBytes);
        const out = await siglipLayer(b, x, layer, c.eps, this.#act);
        copyRows(b, out, 0, x, 0, n * t, d);
        if (all) states.push((await chain.read([x]))[0]);
      }
      if (!all) states.push((await chain.read([x]))[0]);
      return states;
    } finally {
      x.buffer.destroy();
    }
  }

  /** Frees the uploaded weights. */
  destroy(): void {
    destroyAll([this.#patch, this.#position, this.#layers]);
  }
}
