/**
 * Random VLM-3R weights of any size, made on demand: a {@link TensorSource} over the
 * architecture table whose tensors are seeded pseudo-random values (weights scaled by
 * `1/sqrt(fan_in)`, norms near 1, small biases), produced per tensor or per row range without
 * touching the disk. Benchmarks use it for models of the real width (and, on a GPU, the real
 * depth) that cannot be downloaded here; `quantize` gives the language model's linears as a
 * converted model stores them (int8 or int4, model/weights/source.ts).
 *
 * @module
 */

import { DataError } from "../../io/errors.ts";
import { architecture, type TensorSpec } from "./architecture.ts";
import type { ModelConfig } from "./config.ts";
import { quantizeInt4, quantizeInt8 } from "./quant.ts";
import type { HostTensor } from "./safetensors.ts";
import {
  checkRows,
  INT4_GROUP,
  type RawTensor,
  type RowRange,
  type TensorInfo,
  type TensorSource,
} from "./source.ts";
import { tinyConfig } from "./tiny.ts";

/** Options of {@link randomSource}. */
export interface RandomOptions {
  /** Seed of the values (default 0). */
  seed?: number;
  /** Language-model linears stored quantised, as `vlm3r convert --quantize` stores them. */
  quantize?: "none" | "int8" | "int4";
}

/**
 * VLM-3R's real widths (model-reference.md §2-§6) with `layers` layers in each stack (SigLIP,
 * CUT3R's encoder and decoder, Qwen2; `full` for the real depths), the tiny model's tokenizer
 * facts and generation config.
 *
 * @example
 * ```ts
 * const c = realWidthConfig(1);
 * if (c.llm.hidden !== 3584 || c.llm.layers !== 1 || c.vision.grid !== 27) throw new Error();
 * ```
 */
export function realWidthConfig(layers: number | "full"): ModelConfig {
  const tiny = tinyConfig();
  const n = (full: number) => (layers === "full" ? full : Math.min(layers, full));
  return {
    ...tiny,
    llm: {
      ...tiny.llm,
      hidden: 3584,
      intermediate: 18944,
      layers: n(28),
      heads: 28,
      kvHeads: 4,
      headDim: 128,
      vocab: 151647,
      checkpointVocab: 152064,
    },
    vision: {
      ...tiny.vision,
      hidden: 1152,
      intermediate: 4304,
      heads: 16,
      headDim: 72,
      layers: n(26),
      checkpointLayers: n(26) + 1,
      imageSize: 384,
      patchSize: 14,
      grid: 27,
    },
    cut3r: {
      ...tiny.cut3r,
      encDim: 1024,
      encDepth: n(24),
      encHeads: 16,
      decDim: 768,
      decDepth: n(12),
      decHeads: 12,
      stateHeads: 16,
      stateSize: 768,
      memSize: 256,
      patchSize: 16,
      imgSize: [432, 432],
      constructor: `ARCroco3DStereo(ARCroco3DStereoConfig(state_size=768, state_pe='2d', ` +
        `state_dec_num_heads=16, local_mem_size=256, pos_embed='RoPE100', rgb_head=True, ` +
        `pose_head=True, img_size=(432, 432), enc_embed_dim=1024, enc_depth=${n(24)}, ` +
        `enc_num_heads=16, dec_embed_dim=768, dec_depth=${n(12)}, dec_num_heads=12))`,
    },
    fusion: { ...tiny.fusion, width: 1152, spatialDim: 768 },
  };
}

/** A 32-bit hash of a string (FNV-1a), to seed each tensor apart. */
function hash(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Elements of `rows` of a tensor: one xorshift32 stream per 64-element block (seeded by the
 * name, the seed and the block), so any row range is made alone and alike.
 */
function fillRows(spec: TensorSpec, seed: number, rows: RowRange): Float32Array {
  const width = spec.shape.slice(1).reduce((a, b) => a * b, 1);
  const from = rows.start * width, to = (rows.start + rows.count) * width;
  const fanIn = spec.shape.length >= 2 ? width : spec.shape[0];
  const isNorm = /norm.*\.weight$|layernorm\.weight$|norm\.weight$/.test(spec.name) &&
    spec.shape.length === 1;
  const isBias = spec.name.endsWith(".bias") || spec.name.endsWith("_bias");
  const scale = isNorm ? 0.1 : isBias ? 0.02 : 1 / Math.sqrt(fanIn);
  const out = new Float32Array(to - from);
  const base = hash(spec.name, seed);
  for (let b = Math.floor(from / 64); b * 64 < to; b++) {
    let x = (base ^ Math.imul(b + 1, 0x9e3779b1)) >>> 0 || 1;
    for (let k = 0; k < 64; k++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      const i = b * 64 + k;
      if (i >= from && i < to) out[i - from] = (isNorm ? 1 : 0) + scale * (x / 2 ** 31 - 1);
    }
  }
  return out;
}

/**
 * Random weights for `config` as a {@link TensorSource} (see the module documentation). The
 * same seed gives the same values, whatever rows are asked in whatever order.
 *
 * @example
 * ```ts
 * const src = randomSource(realWidthConfig(1));
 * const a = await src.read("model.norm.weight", { start: 0, count: 1 });
 * const b = await src.read("model.norm.weight");
 * if (a.data[0] !== b.data[0] || b.shape[0] !== 3584) throw new Error();
 * ```
 */
export function randomSource(config: ModelConfig, options: RandomOptions = {}): TensorSource {
  const seed = options.seed ?? 0;
  const quantize = options.quantize ?? "none";
  const specs = new Map<string, TensorSpec>();
  const names: string[] = [];
  const infos = new Map<string, TensorInfo>();
  for (const s of architecture(config)) {
    if (s.llmLinear && quantize !== "none") {
      const [out, inp] = s.shape;
      const q = s.name.replace(/\.weight$/, "");
      specs.set(`${q}.qweight`, s);
      specs.set(`${q}.scales`, s);
      names.push(`${q}.qweight`, `${q}.scales`);
      infos.set(
        `${q}.qweight`,
        quantize === "int8"
          ? { shape: [out, inp], dtype: "I8" }
          : { shape: [out, inp / 2], dtype: "U8" },
      );
      infos.set(
        `${q}.scales`,
        quantize === "int8"
          ? { shape: [out], dtype: "F16" }
          : { shape: [out, Math.ceil(inp / INT4_GROUP)], dtype: "F16" },
      );
    } else {
      specs.set(s.name, s);
      names.push(s.name);
      infos.set(s.name, { shape: s.shape, dtype: "F32" });
    }
  }
  const get = (name: string) => {
    const s = specs.get(name);
    if (!s) throw new DataError("random weights", name, "a tensor of that name", "none");
    return s;
  };
  const raw = (name: string, rows?: RowRange): Promise<RawTensor> => {
    const spec = get(name), info = infos.get(name)!;
    const r = rows ?? { start: 0, count: info.shape[0] };
    checkRows("random weights", name, info.shape[0], r);
    const shape = [r.count, ...info.shape.slice(1)];
    if (info.dtype === "F32") {
      const v = fillRows(spec, seed, r);
      return Promise.resolve({ shape, dtype: "F32", bytes: new Uint8Array(v.buffer) });
    }
    const cols = spec.shape[1];
    const w = fillRows(spec, seed, r);
    const q = quantize === "int8" ? quantizeInt8(w, cols) : quantizeInt4(w, cols);
    return Promise.resolve(
      name.endsWith(".qweight")
        ? { shape, dtype: info.dtype, bytes: q.qweight }
        : { shape, dtype: "F16", bytes: q.scales },
    );
  };
  return {
    names,
    info: (name) => infos.get(name),
    readRaw: raw,
    async read(name, rows): Promise<HostTensor> {
      const info = infos.get(name);
      if (info?.dtype === "F32") {
        const r = await raw(name, rows);
        return {
          shape: [...r.shape],
          data: new Float32Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength / 4),
          stored: "F32",
        };
      }
      throw new DataError("random weights", name, "a float tensor to widen", info?.dtype ?? "none");
    },
  };
}
