/**
 * Qwen2's shape (from a checkpoint's `config.json`) and the tensor names of its decoder, shared
 * by the WebGPU engine (qwen2.ts) and its CPU reference (qwen2_ref.ts).
 *
 * @module
 */

import { DataError } from "../io/errors.ts";

/** The decoder's shape and constants (model-reference.md §6.2). */
export interface Qwen2Config {
  /** Residual width (3584 for Qwen2-7B). */
  hidden: number;
  /** MLP intermediate width (18944). */
  intermediate: number;
  /** Decoder layers (28). */
  layers: number;
  /** Query heads (28). */
  heads: number;
  /** KV heads (4). */
  kvHeads: number;
  /** Head dimension, hidden / heads (128). */
  headDim: number;
  /** Rows of the embedding and lm_head as stored (152064). */
  vocab: number;
  /** RoPE base (1e6). */
  ropeTheta: number;
  /** RMSNorm epsilon (1e-6). */
  rmsEps: number;
}

/**
 * Reads the Qwen2 fields of an HF `config.json` object (`file` names it in errors); a
 * `{config: {...}}` wrapper (the qwen2-small fixture) is accepted.
 *
 * @example
 * ```ts
 * const c = qwen2Config({
 *   hidden_size: 64, intermediate_size: 160, num_hidden_layers: 2, num_attention_heads: 4,
 *   num_key_value_heads: 2, vocab_size: 152064, rope_theta: 1e6, rms_norm_eps: 1e-6,
 * });
 * if (c.headDim !== 16) throw new Error();
 * ```
 */
export function qwen2Config(json: Record<string, unknown>, file = "config.json"): Qwen2Config {
  const src = (typeof json.config === "object" && json.config ? json.config : json) as Record<
    string,
    unknown
  >;
  const num = (key: string, fallback?: number): number => {
    const v = src[key] ?? fallback;
    if (typeof v !== "number" || !(v > 0)) {
      throw new DataError(file, key, "a positive number", v === undefined ? "none" : String(v));
    }
    return v;
  };
  const hidden = num("hidden_size"), heads = num("num_attention_heads");
  const kvHeads = num("num_key_value_heads", heads);
  if (hidden % heads || heads % kvHeads) {
    throw new DataError(
      file,
      "num_attention_heads",
      `a divisor of hidden_size ${hidden} and a multiple of num_key_value_heads ${kvHeads}`,
      String(heads),
    );
  }
  return {
    hidden,
    intermediate: num("intermediate_size"),
    layers: num("num_hidden_layers"),
    heads,
    kvHeads,
    headDim: hidden / heads,
    vocab: num("vocab_size"),
    ropeTheta: num("rope_theta", 10000),
    rmsEps: num("rms_norm_eps", 1e-6),
  };
}

/** Names of layer `i`'s tensors (HF / reference key names, without `.weight`). */
export function layerNames(i: number) {
  const p = `model.layers.${i}.`;
  return {
    q: `${p}self_attn.q_proj`,
    k: `${p}self_attn.k_proj`,
    v: `${p}self_attn.v_proj`,
    o: `${p}self_attn.o_proj`,
    gate: `${p}mlp.gate_proj`,
    up: `${p}mlp.up_proj`,
    down: `${p}mlp.down_proj`,
    inNorm: `${p}input_layernorm.weight`,
    postNorm: `${p}post_attention_layernorm.weight`,
  };
}

/** The embedding, final norm and lm_head names. */
export const GLOBAL_NAMES = {
  embed: "model.embed_tokens.weight",
  norm: "model.norm.weight",
  lmHead: "lm_head",
} as const;
