// The fusion block + projector + pooling against PyTorch's golden tensors (fusion-tiny: real key
// names and module structure at tiny sizes), in every option combination.
import { assert, assertEquals } from "../assert.ts";
import { acquireGpu } from "../../kernels/device.ts";
import { nmse } from "../../kernels/nmse.ts";
import { readSafetensors } from "../../model/weights/safetensors.ts";
import {
  type FusionOutput,
  FusionProjector,
  fusionProjectorRef,
  fusionProjectorWeights,
} from "../../model/fusion.ts";
import { DataError } from "../../io/errors.ts";
import { testGpu } from "../_support.ts";

const dir = new URL("../fixtures/fusion-tiny/", import.meta.url).pathname;
const config = JSON.parse(await Deno.readTextFile(`${dir}config.json`));
const inputs = await readSafetensors(`${dir}inputs.safetensors`);
const golden = await readSafetensors(`${dir}outputs.safetensors`);
const weights = fusionProjectorWeights(
  await readSafetensors(`${dir}weights.safetensors`),
  "weights",
);
const hv = inputs.get("hv")!.data, z3d = inputs.get("z3d")!.data;
const frames: number = config.frames, heads: number = config.heads;
const maybeGpu = await testGpu();
const gpu = maybeGpu!;
const opts = { sanitizeResources: false, sanitizeOps: false, ignore: !maybeGpu };
const GOLDEN_BOUND = 1e-6;

function checkAll(label: string, got: Partial<Record<FusionOutput, Float32Array>>, bound: number) {
  for (const [name, data] of Object.entries(got)) {
    const err = nmse(data, golden.get(name)!.data);
    if (Deno.env.get("VLM3R_SHOW_NMSE")) {
      console.log(`${label} ${name}: NMSE ${err.toExponential(2)}`);
    }
    assert(err <= bound, `${label} ${name}: NMSE ${err.toExponential(2)} > ${bound}`);
  }
}

Deno.test("the float64 reference matches PyTorch's golden tensors", () => {
  checkAll("reference", fusionProjectorRef(weights, hv, z3d, frames, heads), 1e-10);
});

Deno.test(
  "WGSL fusion + projector + pooling match PyTorch in f32, every option",
  opts,
  async () => {
    for (const fold of [false, true]) {
      for (const poolFirst of [false, true]) {
        const fp = new FusionProjector(gpu, weights, { heads, fold, poolFirst });
        const outs: FusionOutput[] = poolFirst
          ? ["fused", "pooled", "sequence"]
          : ["fused", "projected", "pooled", "sequence"];
        const got = await fp.run(hv, z3d, frames, outs);
        assertEquals(Object.keys(got).sort(), [...outs].sort());
        checkAll(`fold=${fold} poolFirst=${poolFirst}`, got, GOLDEN_BOUND);
      }
    }
  },
);

Deno.test("frames run in chunks give the same sequence as one batch", opts, async () => {
  const small = await acquireGpu();
  // A binding limit of one frame's widest activation forces one frame per chunk.
  Object.defineProperty(small, "limits", {
    value: { ...small.limits, maxStorageBufferBindingSize: 49 * 128 * 4 },
  });
  const got = await new FusionProjector(small, weights, { heads }).run(hv, z3d, frames, [
    "sequence",
    "fused",
  ]);
  checkAll("chunked", got, GOLDEN_BOUND);
  small.destroy();
});

Deno.test("f16 storage stays close to PyTorch", { ...opts, ignore: !maybeGpu?.f16 }, async () => {
  const fp = new FusionProjector(gpu, weights, {
    heads,
    fold: true,
    poolFirst: true,
    precision: "f16",
  });
  // Documented bound for f16 storage of weights, q/k/v and attention output: 1e-4.
  checkAll("f16", await fp.run(hv, z3d, frames, ["fused", "sequence"]), 1e-4);
});
if (maybeGpu && !gpu.f16) {
  console.log(`f16 fusion test skipped: adapter ${gpu.adapter} lacks shader-f16`);
}

Deno.test("bf16 weights on disk load by the same key names", opts, async () => {
  const bf = fusionProjectorWeights(
    await readSafetensors(`${dir}weights-bf16.safetensors`),
    "bf16",
  );
  const got = await new FusionProjector(gpu, bf, { heads, fold: true }).run(hv, z3d, frames, [
    "sequence",
  ]);
  assert(
    nmse(got.sequence!, fusionProjectorRef(bf, hv, z3d, frames, heads).sequence) <= GOLDEN_BOUND,
  );
  // bf16 rounding of the weights moves the result away from the f32 golden tensors, a little.
  const drift = nmse(got.sequence!, golden.get("sequence")!.data);
  assert(drift > 1e-9 && drift < 1e-2, `bf16 drift ${drift}`);
});

Deno.test("a missing or misshapen weight names the file and the key", async () => {
  const tensors = await readSafetensors(`${dir}weights.safetensors`);
  tensors.delete("model.fusion_block.out_norm.bias");
  let err: unknown;
  try {
    fusionProjectorWeights(tensors, "w.safetensors");
  } catch (e) {
    err = e;
  }
  assert(err instanceof DataError);
  assertEquals(
    err.message,
    "w.safetensors: model.fusion_block.out_norm.bias: expected a tensor [96], got none",
  );
});
