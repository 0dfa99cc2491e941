// The tower stages of vlm3r-tiny, a whole VLM-3R in the release layout whose golden the
// reference code computed: pixel_values -> SigLIP -> siglip_out; pixel_values_cut3r -> CUT3R ->
// camera_tokens, patch_tokens; then the existing fusion, projector and pooling -> fused,
// projected, pooled, sequence; and the splice into the text embeddings -> inputs_embeds.
//
// CUT3R's weights (cut3r/cut3r_tiny.pth) and the fusion block's (lora/non_lora_trainables.bin)
// are read from the torch pickles as they ship.
import { assert, assertEquals } from "../assert.ts";
import { sharedFixture, testGpu } from "../_support.ts";
import { acquireGpu, type Gpu } from "../../kernels/device.ts";
import { nmse } from "../../kernels/nmse.ts";
import { readSafetensors } from "../../model/weights/safetensors.ts";
import { cut3rArgs } from "../../model/weights/config.ts";
import type { HostTensor } from "../../model/weights/safetensors.ts";
import { mapSource, type TensorSource } from "../../model/weights/source.ts";
import { openTorch, tensorsOf, torchSource } from "../../model/weights/torch.ts";
import { loadSiglipWeights, siglipConfig, SiglipTower } from "../../model/siglip.ts";
import { CUT3R_PREFIX, cut3rConfig, Cut3rTower, loadCut3rWeights } from "../../model/cut3r.ts";
import { FusionProjector, fusionProjectorWeights } from "../../model/fusion.ts";
import { spliceVisualTokens } from "../../model/splice.ts";

/** A torch pickle (`.pth`, `.bin`) as a TensorSource named by its (nested) state-dict keys. */
async function readPickle(path: string): Promise<TensorSource> {
  const file = await openTorch(path);
  return torchSource(file, tensorsOf(file.root));
}

const dir = sharedFixture("vlm3r-tiny");
const opts = {
  sanitizeResources: false,
  sanitizeOps: false,
  ignore: !dir || !(await testGpu()),
};
const GOLDEN_BOUND = 1e-6;
const FRAMES = 4;

function check(label: string, got: Float32Array, want: HostTensor | undefined) {
  const err = nmse(got, want!.data);
  if (Deno.env.get("VLM3R_SHOW_NMSE")) console.log(`${label}: NMSE ${err.toExponential(2)}`);
  assert(err <= GOLDEN_BOUND, `${label}: NMSE ${err.toExponential(2)} > ${GOLDEN_BOUND}`);
}

/** The base checkpoint's two shards as one source (as the release reader will see them). */
async function baseShards(): Promise<Map<string, HostTensor>> {
  const all = new Map<string, HostTensor>();
  for (const i of [1, 2]) {
    const shard = await readSafetensors(`${dir}/base/model-0000${i}-of-00002.safetensors`);
    for (const [k, v] of shard) all.set(k, v);
  }
  return all;
}

async function siglipOut(gpu: Gpu, base: Map<string, HostTensor>, pixels: Float32Array) {
  const config = siglipConfig(
    JSON.parse(await Deno.readTextFile(`${dir}/siglip/config.json`)),
    "siglip",
  );
  const tower = new SiglipTower(gpu, await loadSiglipWeights(mapSource(base), config));
  try {
    return (await tower.run(pixels, FRAMES)).output;
  } finally {
    tower.destroy();
  }
}

Deno.test("vlm3r-tiny: pixel_values -> SigLIP (base shards) -> siglip_out", opts, async () => {
  const inputs = await readSafetensors(`${dir}/golden/inputs.safetensors`);
  const golden = await readSafetensors(`${dir}/golden/outputs.safetensors`);
  const gpu = await acquireGpu();
  check(
    "siglip_out",
    await siglipOut(gpu, await baseShards(), inputs.get("pixel_values")!.data),
    golden.get("siglip_out"),
  );
  gpu.destroy();
});

Deno.test(
  "vlm3r-tiny: sequence spliced into the text embeddings -> inputs_embeds",
  opts,
  async () => {
    const inputs = await readSafetensors(`${dir}/golden/inputs.safetensors`);
    const golden = await readSafetensors(`${dir}/golden/outputs.safetensors`);
    const ids = inputs.get("input_ids")!.data;
    assertEquals([ids.length, ids.indexOf(-200)], [92, 14]);
    const embeds = await spliceVisualTokens(
      ids,
      golden.get("sequence")!.data,
      mapSource(await baseShards()),
    );
    assertEquals(embeds.length, 171 * 64);
    check("inputs_embeds (golden sequence)", embeds, golden.get("inputs_embeds"));
  },
);

Deno.test({
  ...opts,
  name: "vlm3r-tiny: the whole tower chain, every stage within 1e-6",
  fn: async () => {
    const inputs = await readSafetensors(`${dir}/golden/inputs.safetensors`);
    const golden = await readSafetensors(`${dir}/golden/outputs.safetensors`);
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/golden/meta.json`));
    const base = await baseShards();
    const gpu = await acquireGpu();
    // SigLIP from the base shards.
    const hv = await siglipOut(gpu, base, inputs.get("pixel_values")!.data);
    check("siglip_out", hv, golden.get("siglip_out"));
    // CUT3R from the .pth, under vlm3r's names (cut3r. + state-dict key).
    const pth = await readPickle(`${dir}/cut3r/cut3r_tiny.pth`);
    const config = cut3rConfig(
      cut3rArgs(meta.cut3r_model_string, "cut3r_tiny.pth"),
      "cut3r_tiny.pth",
    );
    const inner = ["", "model.", "module.", "model.module."].find((p) =>
      pth.info(`${p}patch_embed.proj.weight`)
    );
    assert(inner !== undefined, "no patch_embed.proj.weight in cut3r_tiny.pth");
    const cut3r = new Cut3rTower(
      gpu,
      await loadCut3rWeights(renamed(pth, inner, CUT3R_PREFIX), config, {
        label: "cut3r_tiny.pth",
      }),
    );
    const { tokens } = await cut3r.run(inputs.get("pixel_values_cut3r")!.data, FRAMES);
    cut3r.destroy();
    const d = config.decDim, t = 49;
    const camera = new Float32Array(FRAMES * d), patches = new Float32Array(FRAMES * t * d);
    for (let f = 0; f < FRAMES; f++) {
      camera.set(tokens.subarray(f * (1 + t) * d, (f * (1 + t) + 1) * d), f * d);
      patches.set(tokens.subarray((f * (1 + t) + 1) * d, (f + 1) * (1 + t) * d), f * t * d);
    }
    check("camera_tokens", camera, golden.get("camera_tokens"));
    check("patch_tokens", patches, golden.get("patch_tokens"));
    // Fusion and projector from non_lora_trainables.bin (they replace the base's projector),
    // the newline from the base.
    const lora = await readPickle(`${dir}/lora/non_lora_trainables.bin`);
    const fusionTensors = new Map<string, HostTensor>();
    for (const name of lora.names) fusionTensors.set(name, await lora.read(name));
    fusionTensors.set("model.image_newline", base.get("model.image_newline")!);
    const fp = new FusionProjector(
      gpu,
      fusionProjectorWeights(fusionTensors, "non_lora_trainables.bin"),
      {
        heads: 18,
      },
    );
    const out = await fp.run(hv, tokens, FRAMES, ["fused", "projected", "pooled", "sequence"]);
    for (const k of ["fused", "projected", "pooled", "sequence"] as const) {
      check(k, out[k]!, golden.get(k));
    }
    const embeds = await spliceVisualTokens(
      inputs.get("input_ids")!.data,
      out.sequence!,
      mapSource(base),
    );
    check("inputs_embeds", embeds, golden.get("inputs_embeds"));
    gpu.destroy();
  },
});

/** `source` with the names under `from` seen under `to` instead (others hidden). */
function renamed(source: TensorSource, from: string, to: string): TensorSource {
  const back = (name: string) => name.startsWith(to) ? from + name.slice(to.length) : undefined;
  return {
    names: source.names.filter((n) => n.startsWith(from)).map((n) => to + n.slice(from.length)),
    info: (name) => {
      const b = back(name);
      return b === undefined ? undefined : source.info(b);
    },
    read: (name, rows) => source.read(back(name) ?? name, rows),
    readRaw: (name, rows) => source.readRaw(back(name) ?? name, rows),
  };
}
