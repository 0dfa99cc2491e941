// WGSL against onnxruntime-web on the same weights and inputs; the ONNX graph comes from our own
// protobuf writer, so this also checks the writer.
import { assert } from "../assert.ts";
import { acquireGpu } from "../../kernels/device.ts";
import { testGpu } from "../_support.ts";
import { nmse } from "../../kernels/nmse.ts";
import { readSafetensors } from "../../model/weights/safetensors.ts";
import { FusionProjector, fusionProjectorWeights } from "../../model/fusion.ts";
import { fusionProjectorOnnx } from "../../model/fusion_onnx.ts";
import { OrtModel } from "../../model/ort_baseline.ts";

const dir = new URL("../fixtures/fusion-tiny/", import.meta.url).pathname;
const opts = { sanitizeResources: false, sanitizeOps: false, ignore: !(await testGpu()) };

Deno.test("WGSL and onnxruntime-web agree on fusion + projector + pooling", opts, async () => {
  const inputs = await readSafetensors(`${dir}inputs.safetensors`);
  const golden = await readSafetensors(`${dir}outputs.safetensors`);
  const w = fusionProjectorWeights(await readSafetensors(`${dir}weights.safetensors`), "weights");
  const hv = inputs.get("hv")!, z = inputs.get("z3d")!;
  const [frames, tokens] = hv.shape, spatialTokens = z.shape[1], heads = 6;
  const gpu = await acquireGpu();
  for (const [fold, poolFirst] of [[false, false], [true, true]]) {
    const model = await OrtModel.create(
      fusionProjectorOnnx(w, { tokens, spatialTokens, heads, fold, poolFirst }),
      1,
    );
    const ort = await model.run({ hv: [hv.data, hv.shape], z3d: [z.data, z.shape] });
    await model.release();
    const wgsl = await new FusionProjector(gpu, w, { heads, fold, poolFirst })
      .run(hv.data, z.data, frames, ["fused", "pooled", "sequence"]);
    for (const name of ["fused", "pooled", "sequence"] as const) {
      const e = nmse(wgsl[name]!, ort[name]);
      assert(e <= 5e-4, `${name} fold=${fold}: WGSL vs ORT NMSE ${e}`);
      // ORT itself reproduces PyTorch, so the two agree for the right reason.
      assert(nmse(ort[name], golden.get(name)!.data) <= 1e-6, `${name}: ORT vs PyTorch`);
    }
  }
  gpu.destroy();
});
