// The release layout read from vlm3r-tiny's raw files (base shards, LoRA pickles, CUT3R .pth)
// against the goldens the reference code made from the same files.
import { assert, assertEquals } from "../../assert.ts";
import { sharedFixture } from "../../_support.ts";
import { openRelease, type Release } from "../../../model/weights/release.ts";
import { architecture } from "../../../model/weights/architecture.ts";
import { readSafetensors } from "../../../model/weights/safetensors.ts";
import { fusionProjectorRef, fusionProjectorWeights } from "../../../model/fusion.ts";
import type { HostTensor } from "../../../model/weights/safetensors.ts";
import { nmse } from "../../../kernels/nmse.ts";
import { DataError } from "../../../io/errors.ts";

const dir = sharedFixture("vlm3r-tiny");
const skip = dir === undefined;
const paths = dir
  ? {
    base: `${dir}/base`,
    lora: `${dir}/lora`,
    cut3r: `${dir}/cut3r/cut3r_tiny.pth`,
    siglip: `${dir}/siglip`,
  }
  : { base: "", lora: "", cut3r: "" };
let cached: Release | undefined;
const release = async () => cached ??= await openRelease(paths);

Deno.test(
  { name: "merged LLM linears equal the golden merge (max abs <= 1e-6)", ignore: skip },
  async () => {
    const r = await release();
    const golden = await readSafetensors(`${dir}/golden/merged_llm_linears.safetensors`);
    assertEquals(golden.size, 14);
    for (const [name, want] of golden) {
      const got = await r.source.read(name);
      assertEquals(got.shape, want.shape, name);
      let max = 0;
      for (let i = 0; i < want.data.length; i++) {
        max = Math.max(
          max,
          Math.abs(got.data[i] - want.data[i]),
        );
      }
      assert(max <= 1e-6, `${name}: max abs diff ${max}`);
      assert(r.origin.get(name)!.includes("+ LoRA"), `${name} is merged`);
    }
    // A row range of a merged tensor is the same rows of the whole.
    const name = "model.layers.1.mlp.down_proj.weight";
    const whole = await r.source.read(name),
      part = await r.source.read(name, { start: 5, count: 3 });
    assertEquals([...part.data], [...whole.data.subarray(5 * 160, 8 * 160)]);
  },
);

Deno.test({
  name: "fusion and projector from non_lora_trainables.bin reproduce the goldens",
  ignore: skip,
}, async () => {
  const r = await release();
  const tensors = new Map<string, HostTensor>();
  for (const n of r.source.names) {
    if (
      n.startsWith("model.fusion_block.") || n.startsWith("model.mm_projector.") ||
      n === "model.image_newline"
    ) {
      tensors.set(n, await r.source.read(n));
    }
  }
  assert(r.origin.get("model.mm_projector.0.weight")!.includes("non_lora_trainables.bin"));
  assert(r.dropped.some((d) => d.key === "model.mm_projector.0.weight" && d.file.endsWith("base")));
  const w = fusionProjectorWeights(tensors, "release");
  const out = await readSafetensors(`${dir}/golden/outputs.safetensors`);
  const frames = 4, cam = out.get("camera_tokens")!.data, patch = out.get("patch_tokens")!.data;
  const z3d = new Float32Array(frames * 50 * 64);
  for (let f = 0; f < frames; f++) {
    z3d.set(cam.subarray(f * 64, (f + 1) * 64), f * 50 * 64);
    z3d.set(patch.subarray(f * 49 * 64, (f + 1) * 49 * 64), f * 50 * 64 + 64);
  }
  const got = fusionProjectorRef(
    w,
    out.get("siglip_out")!.data,
    z3d,
    frames,
    r.config.fusion.heads,
  );
  for (const k of ["fused", "projected", "sequence"] as const) {
    const e = nmse(got[k], out.get(k)!.data);
    assert(e <= 1e-10, `${k}: NMSE ${e}`);
  }
});

Deno.test(
  { name: "embedding and lm_head keep len(tokenizer) = 151,647 rows", ignore: skip },
  async () => {
    const r = await release();
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/golden/meta.json`));
    assertEquals(r.config.tokenizer.length, meta.len_tokenizer);
    assertEquals(r.config.tokenizer.length, 151647);
    for (const name of ["model.embed_tokens.weight", "lm_head.weight"]) {
      assertEquals(r.source.info(name)!.shape, [151647, 64]);
      const last = await r.source.read(name, { start: 151646, count: 1 });
      assertEquals(last.shape, [1, 64]);
      let threw = false;
      try {
        await r.source.read(name, { start: 151647, count: 1 });
      } catch (e) {
        threw = e instanceof DataError;
      }
      assert(threw, `${name}: row 151647 is cut`);
    }
  },
);

Deno.test({
  name: "configuration from lora/config.json, siglip/config.json, args.model, generation_config",
  ignore: skip,
}, async () => {
  const { config } = await release();
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/golden/meta.json`));
  const s = meta.sizes;
  assertEquals(
    [
      config.llm.hidden,
      config.llm.heads,
      config.llm.kvHeads,
      config.llm.intermediate,
      config.llm.layers,
      config.llm.checkpointVocab,
    ],
    [s.llm.hidden, s.llm.heads, s.llm.kv, s.llm.inter, s.llm.layers, s.llm.vocab],
  );
  assertEquals(config.llm.headDim, 16);
  assertEquals(config.llm.ropeTheta, 1e6);
  assertEquals(
    [
      config.vision.hidden,
      config.vision.heads,
      config.vision.intermediate,
      config.vision.checkpointLayers,
      config.vision.imageSize,
      config.vision.patchSize,
    ],
    [
      s.siglip.hidden,
      s.siglip.heads,
      s.siglip.inter,
      s.siglip.layers,
      s.siglip.image,
      s.siglip.patch,
    ],
  );
  assertEquals([config.vision.layers, config.vision.grid, config.vision.headDim], [2, 7, 72]);
  const c = s.cut3r;
  assertEquals(
    [
      config.cut3r.encDim,
      config.cut3r.encDepth,
      config.cut3r.encHeads,
      config.cut3r.decDim,
      config.cut3r.decDepth,
      config.cut3r.decHeads,
      config.cut3r.stateSize,
      config.cut3r.stateHeads,
      config.cut3r.memSize,
    ],
    [
      c.enc,
      c.enc_depth,
      c.enc_heads,
      c.dec,
      c.dec_depth,
      c.dec_heads,
      c.state,
      c.state_heads,
      c.mem,
    ],
  );
  assertEquals(config.cut3r.imgSize, [112, 112]);
  assertEquals(config.cut3r.constructor, meta.cut3r_model_string);
  assertEquals([config.fusion.heads, config.fusion.width, config.fusion.spatialDim], [
    s.fusion_heads,
    144,
    64,
  ]);
  assertEquals(config.generation.eosTokenIds, [151645, 151643]);
  assertEquals(config.generation.repetitionPenalty, 1.05);
  assertEquals(config.mm.spatialSelectFeature, "all");
  assertEquals(config.tokenizer.added["<image>"], 151646);
});

// Every SigLIP and CUT3R tensor the towers use, with its shape: the architecture table against
// the files, and the table itself against the fixture's documented sizes.
Deno.test({
  name: "architecture table: every SigLIP and CUT3R tensor the towers use",
  ignore: skip,
}, async () => {
  const r = await release();
  const specs = architecture(r.config).filter((s) =>
    s.component === "vision" || s.component === "cut3r"
  );
  for (const s of specs) assertEquals(r.source.info(s.name)?.shape, s.shape, s.name);
  const vp = "model.vision_tower.vision_tower.vision_model.";
  const spot: [string, number[]][] = [
    [`${vp}embeddings.patch_embedding.weight`, [144, 3, 14, 14]],
    [`${vp}embeddings.position_embedding.weight`, [49, 144]],
    [`${vp}encoder.layers.1.mlp.fc1.weight`, [376, 144]],
    ["cut3r.patch_embed.proj.weight", [128, 3, 16, 16]],
    ["cut3r.enc_blocks.1.attn.qkv.weight", [384, 128]],
    ["cut3r.register_tokens.weight", [27, 128]],
    ["cut3r.decoder_embed.weight", [64, 128]],
    ["cut3r.dec_blocks_state.1.cross_attn.projk.weight", [64, 64]],
    ["cut3r.pose_retriever.mem", [1, 8, 128]],
    ["cut3r.pose_retriever.read_blocks.1.mlp.fc1.weight", [512, 128]],
    ["cut3r.pose_token", [1, 1, 64]],
  ];
  for (const [name, shape] of spot) {
    assertEquals(specs.find((s) => s.name === name)?.shape, shape, name);
  }
  // Exactly the unused parts are dropped: SigLIP's third layer and post-norm, CUT3R's ray-map
  // encoder, masked tokens and head.
  const unusedVision = r.dropped.filter((d) => d.key.startsWith(vp)).map((d) => d.key);
  assert(
    unusedVision.every((k) => k.includes("encoder.layers.2.") || k.includes("post_layernorm")),
    unusedVision.join(),
  );
  assertEquals(unusedVision.length, 16 + 2);
  const unusedCut3r = r.dropped.filter((d) => d.file.endsWith(".pth")).map((d) => d.key);
  const expectedUnused =
    /^(patch_embed_ray_map|enc_blocks_ray_map|enc_norm_ray_map|masked_img_token|masked_ray_map_token|downstream_head)/;
  assert(unusedCut3r.every((k) => expectedUnused.test(k)), unusedCut3r.join());
  assertEquals(specs.filter((s) => s.component === "cut3r").length + unusedCut3r.length, 312);
  // The pose_retriever tensors share one storage at different offsets: each reads its own.
  const mem = await r.source.read("cut3r.pose_retriever.mem");
  const masked = await r.source.read("cut3r.pose_retriever.masked_token");
  assert(mem.data.some((x) => x !== 0) && masked.data.some((x) => x !== 0));
  assert(mem.data[0] !== masked.data[0]);
});

Deno.test({
  name: "a mis-shaped or missing tensor is one line naming file, key, expected and found",
  ignore: skip,
}, async () => {
  const tmp = await Deno.makeTempDir();
  try {
    // A LoRA config claiming a wider language model than the files hold.
    await Deno.mkdir(`${tmp}/lora`);
    for await (const f of Deno.readDir(`${dir}/lora`)) {
      await Deno.copyFile(`${dir}/lora/${f.name}`, `${tmp}/lora/${f.name}`);
    }
    const cfg = JSON.parse(await Deno.readTextFile(`${dir}/lora/config.json`));
    cfg.intermediate_size = 168;
    await Deno.writeTextFile(`${tmp}/lora/config.json`, JSON.stringify(cfg));
    const err = await openRelease({ ...paths, lora: `${tmp}/lora` }).catch((e) => e);
    assert(err instanceof DataError, String(err));
    assertEquals(err.message.split("\n").length, 1);
    assert(
      /base: model\.layers\.0\.mlp\.(gate|up|down)_proj\.weight: expected \[(168, 64|64, 168)\], got \[(160, 64|64, 160)\]/
        .test(err.message),
      err.message,
    );
    const lenient = await openRelease({ ...paths, lora: `${tmp}/lora` }, { lenient: true });
    assertEquals(lenient.problems.length, 6);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
