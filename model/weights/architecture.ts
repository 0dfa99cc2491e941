/**
 * Every tensor VLM-3R's inference reads, by canonical name and shape, in model order: the
 * table the release reader, `vlm3r convert` and `vlm3r inspect` check checkpoints against, and
 * that the engines load by. Names (model-reference.md §2, §3.5, §4-§6):
 * - language model: `model.embed_tokens.weight`, `model.layers.{i}.…`, `model.norm.weight`,
 *   `lm_head.weight` (embedding and lm_head cut to `len(tokenizer)` rows);
 * - SigLIP: `model.vision_tower.vision_tower.vision_model.…` (the layers used only);
 * - `model.image_newline`, `model.fusion_block.…`, `model.mm_projector.{0,2}.…`;
 * - CUT3R: `cut3r.` + the checkpoint's state-dict key (`module.` stripped), the parts used only.
 *
 * @module
 */

import type { ModelConfig } from "./config.ts";

/** The model part a tensor belongs to. */
export type Component = "llm" | "vision" | "fusion" | "projector" | "cut3r";

/** One expected tensor. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly component: Component;
  /** A language-model linear weight `[out, in]` (what `--quantize` applies to). */
  readonly llmLinear?: boolean;
}

/** Prefix of the SigLIP tensors. */
export const VISION_PREFIX = "model.vision_tower.vision_tower.vision_model.";
/** Prefix of the CUT3R tensors. */
export const CUT3R_PREFIX = "cut3r.";

/**
 * The tensors of VLM-3R with `config`'s sizes, in model order.
 *
 * @example
 * ```ts ignore
 * const specs = architecture(config);
 * specs.find((s) => s.name === "lm_head.weight")!.shape; // [151647, 3584]
 * ```
 */
export function architecture(config: ModelConfig): TensorSpec[] {
  const out: TensorSpec[] = [];
  const add = (component: Component, name: string, shape: number[], llmLinear = false) =>
    out.push({ name, shape, component, ...(llmLinear ? { llmLinear } : {}) });

  const l = config.llm;
  const q = l.heads * l.headDim, kv = l.kvHeads * l.headDim;
  add("llm", "model.embed_tokens.weight", [l.vocab, l.hidden]);
  for (let i = 0; i < l.layers; i++) {
    const p = `model.layers.${i}.`;
    add("llm", `${p}input_layernorm.weight`, [l.hidden]);
    add("llm", `${p}self_attn.q_proj.weight`, [q, l.hidden], true);
    add("llm", `${p}self_attn.q_proj.bias`, [q]);
    add("llm", `${p}self_attn.k_proj.weight`, [kv, l.hidden], true);
    add("llm", `${p}self_attn.k_proj.bias`, [kv]);
    add("llm", `${p}self_attn.v_proj.weight`, [kv, l.hidden], true);
    add("llm", `${p}self_attn.v_proj.bias`, [kv]);
    add("llm", `${p}self_attn.o_proj.weight`, [l.hidden, q], true);
    add("llm", `${p}post_attention_layernorm.weight`, [l.hidden]);
    add("llm", `${p}mlp.gate_proj.weight`, [l.intermediate, l.hidden], true);
    add("llm", `${p}mlp.up_proj.weight`, [l.intermediate, l.hidden], true);
    add("llm", `${p}mlp.down_proj.weight`, [l.hidden, l.intermediate], true);
  }
  add("llm", "model.norm.weight", [l.hidden]);
  add("llm", "lm_head.weight", [l.vocab, l.hidden]);

  const v = config.vision, vp = VISION_PREFIX;
  add("vision", `${vp}embeddings.patch_embedding.weight`, [v.hidden, 3, v.patchSize, v.patchSize]);
  add("vision", `${vp}embeddings.patch_embedding.bias`, [v.hidden]);
  add("vision", `${vp}embeddings.position_embedding.weight`, [v.grid * v.grid, v.hidden]);
  for (let i = 0; i < v.layers; i++) {
    const p = `${vp}encoder.layers.${i}.`;
    for (const n of ["layer_norm1", "layer_norm2"]) {
      add("vision", `${p}${n}.weight`, [v.hidden]);
      add("vision", `${p}${n}.bias`, [v.hidden]);
    }
    for (const n of ["q_proj", "k_proj", "v_proj", "out_proj"]) {
      add("vision", `${p}self_attn.${n}.weight`, [v.hidden, v.hidden]);
      add("vision", `${p}self_attn.${n}.bias`, [v.hidden]);
    }
    add("vision", `${p}mlp.fc1.weight`, [v.intermediate, v.hidden]);
    add("vision", `${p}mlp.fc1.bias`, [v.intermediate]);
    add("vision", `${p}mlp.fc2.weight`, [v.hidden, v.intermediate]);
    add("vision", `${p}mlp.fc2.bias`, [v.hidden]);
  }

  add("projector", "model.image_newline", [l.hidden]);
  const f = config.fusion, d = f.width, ds = f.spatialDim, fb = "model.fusion_block.";
  const lin = (c: Component, name: string, o: number, i: number) => {
    add(c, `${name}.weight`, [o, i]);
    add(c, `${name}.bias`, [o]);
  };
  const norm = (c: Component, name: string, n: number) => {
    add(c, `${name}.weight`, [n]);
    add(c, `${name}.bias`, [n]);
  };
  norm("fusion", `${fb}clip_norm`, d);
  norm("fusion", `${fb}spatial_encoder_norm`, ds);
  lin("fusion", `${fb}clip_query_proj`, d, d);
  lin("fusion", `${fb}spatial_encoder_key_proj`, d, ds);
  lin("fusion", `${fb}spatial_encoder_value_proj`, d, ds);
  add("fusion", `${fb}cross_attention.in_proj_weight`, [3 * d, d]);
  add("fusion", `${fb}cross_attention.in_proj_bias`, [3 * d]);
  lin("fusion", `${fb}cross_attention.out_proj`, d, d);
  lin("fusion", `${fb}out_proj`, d, d);
  norm("fusion", `${fb}out_norm`, d);
  lin("projector", "model.mm_projector.0", l.hidden, d);
  lin("projector", "model.mm_projector.2", l.hidden, l.hidden);

  const c = config.cut3r, cp = CUT3R_PREFIX, E = c.encDim, D = c.decDim;
  const mlpE = Math.round(E * c.mlpRatio);
  add("cut3r", `${cp}patch_embed.proj.weight`, [E, 3, c.patchSize, c.patchSize]);
  add("cut3r", `${cp}patch_embed.proj.bias`, [E]);
  for (let i = 0; i < c.encDepth; i++) {
    const p = `${cp}enc_blocks.${i}.`;
    norm("cut3r", `${p}norm1`, E);
    lin("cut3r", `${p}attn.qkv`, 3 * E, E);
    lin("cut3r", `${p}attn.proj`, E, E);
    norm("cut3r", `${p}norm2`, E);
    lin("cut3r", `${p}mlp.fc1`, mlpE, E);
    lin("cut3r", `${p}mlp.fc2`, E, mlpE);
  }
  norm("cut3r", `${cp}enc_norm`, E);
  lin("cut3r", `${cp}decoder_embed`, D, E);
  lin("cut3r", `${cp}decoder_embed_state`, D, E);
  add("cut3r", `${cp}register_tokens.weight`, [c.stateSize, E]);
  add("cut3r", `${cp}pose_token`, [1, 1, D]);
  const decoderBlock = (p: string, w: number) => {
    const mlp = Math.round(w * c.mlpRatio);
    norm("cut3r", `${p}norm1`, w);
    lin("cut3r", `${p}attn.qkv`, 3 * w, w);
    lin("cut3r", `${p}attn.proj`, w, w);
    for (const n of ["projq", "projk", "projv", "proj"]) lin("cut3r", `${p}cross_attn.${n}`, w, w);
    norm("cut3r", `${p}norm2`, w);
    norm("cut3r", `${p}norm3`, w);
    lin("cut3r", `${p}mlp.fc1`, mlp, w);
    lin("cut3r", `${p}mlp.fc2`, w, mlp);
    norm("cut3r", `${p}norm_y`, w);
  };
  for (let i = 0; i < c.decDepth; i++) decoderBlock(`${cp}dec_blocks.${i}.`, D);
  for (let i = 0; i < c.decDepth; i++) decoderBlock(`${cp}dec_blocks_state.${i}.`, D);
  norm("cut3r", `${cp}dec_norm`, D);
  norm("cut3r", `${cp}dec_norm_state`, D);
  lin("cut3r", `${cp}pose_retriever.proj_q`, D, E);
  add("cut3r", `${cp}pose_retriever.masked_token`, [1, 1, D]);
  add("cut3r", `${cp}pose_retriever.mem`, [1, c.memSize, 2 * D]);
  // LocalMemory's depth: 2 write and 2 read blocks (CUT3R's default, not in the config).
  for (let i = 0; i < 2; i++) decoderBlock(`${cp}pose_retriever.write_blocks.${i}.`, 2 * D);
  for (let i = 0; i < 2; i++) decoderBlock(`${cp}pose_retriever.read_blocks.${i}.`, 2 * D);
  return out;
}

/** Parameters per component of a list of specs (or of found shapes). */
export function parametersPerComponent(
  specs: readonly { shape: readonly number[]; component: Component }[],
): Record<Component, number> {
  const out: Record<Component, number> = { llm: 0, vision: 0, fusion: 0, projector: 0, cut3r: 0 };
  for (const s of specs) out[s.component] += s.shape.reduce((a, b) => a * b, 1);
  return out;
}

/** The component of a canonical tensor name. */
export function componentOf(name: string): Component {
  if (name.startsWith(CUT3R_PREFIX)) return "cut3r";
  if (name.startsWith("model.vision_tower.")) return "vision";
  if (name.startsWith("model.fusion_block.")) return "fusion";
  if (name.startsWith("model.mm_projector.") || name === "model.image_newline") return "projector";
  return "llm";
}
