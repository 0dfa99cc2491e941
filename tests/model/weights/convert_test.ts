// `convert` on vlm3r-tiny: every dtype and quantisation loads back to the release's tensors
// within the documented bounds, output is byte-identical across runs, quantisation never
// touches the towers, pieces respect the binding limit, and a failed run leaves nothing.
import { assert, assertEquals } from "../../assert.ts";
import { sharedFixture } from "../../_support.ts";
import { openRelease, type Release } from "../../../model/weights/release.ts";
import {
  convertRelease,
  dequantizedSource,
  type Manifest,
  openModel,
} from "../../../model/weights/convert.ts";
import { foldLinear, fusionProjectorWeights } from "../../../model/fusion.ts";
import { roundF16 } from "../../../kernels/device.ts";
import type { HostTensor } from "../../../model/weights/safetensors.ts";
import { INT4_GROUP } from "../../../model/weights/source.ts";

const dir = sharedFixture("vlm3r-tiny");
const skip = dir === undefined;
let cached: Release | undefined;
const release = async () =>
  cached ??= await openRelease({
    base: `${dir}/base`,
    lora: `${dir}/lora`,
    cut3r: `${dir}/cut3r/cut3r_tiny.pth`,
    siglip: `${dir}/siglip`,
  });
const show = Deno.env.get("VLM3R_SHOW_ERR") !== undefined;

async function withTemp(fn: (tmp: string) => Promise<void>) {
  const tmp = await Deno.makeTempDir();
  try {
    await fn(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

async function filesOf(d: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const f of Deno.readDir(d)) out.set(f.name, await Deno.readFile(`${d}/${f.name}`));
  return out;
}

Deno.test({
  name: "convert f32: exact round trip; pieces and shards within the binding limit",
  ignore: skip,
}, async () => {
  const r = await release();
  await withTemp(async (tmp) => {
    const limit = 1 << 20;
    const manifest = await convertRelease(r, `${tmp}/m`, {
      dtype: "f32",
      maxBindingBytes: limit,
      provenance: [{ role: "lora/config.json", path: `${dir}/lora/config.json` }],
    });
    for await (const f of Deno.readDir(`${tmp}/m`)) {
      if (f.name.endsWith(".safetensors")) {
        assert((await Deno.stat(`${tmp}/m/${f.name}`)).size <= limit, f.name);
      }
    }
    const emb = manifest.tensors.find((t) => t.name === "model.embed_tokens.weight")!;
    assert(emb.pieces.length > 30, `${emb.pieces.length} pieces`);
    const model = await openModel(`${tmp}/m`);
    assertEquals(model.source.names, r.source.names);
    assertEquals(JSON.stringify(model.config), JSON.stringify(r.config));
    for (const name of r.source.names) {
      const a = await r.source.read(name), b = await model.source.read(name);
      assertEquals(b.shape, a.shape, name);
      assert(a.data.every((v, i) => Object.is(v, b.data[i])), `${name} differs`);
    }
    // Rows across a piece boundary.
    const [p0] = emb.pieces;
    const edge = p0.rows[1] - 2;
    const whole = await r.source.read("lm_head.weight", { start: edge, count: 5 });
    const part = await model.source.read("lm_head.weight", { start: edge, count: 5 });
    assertEquals([...part.data], [...whole.data]);
    // Tokenizer files copied; provenance sha256 as sha256sum computes it.
    for (
      const f of [
        "tokenizer.json",
        "tokenizer_config.json",
        "added_tokens.json",
        "generation_config.json",
      ]
    ) {
      assert(model.manifest.tokenizer.files.includes(f), f);
      assertEquals(
        (await Deno.readFile(`${tmp}/m/${f}`)).length,
        (await Deno.readFile(`${dir}/base/${f}`)).length,
      );
    }
    const sum = new TextDecoder().decode(
      (await new Deno.Command("sha256sum", { args: [`${dir}/lora/config.json`], stdout: "piped" })
        .output()).stdout,
    ).split(" ")[0];
    assertEquals(model.manifest.sources[0].sha256, sum);
    assertEquals(
      model.manifest.sources[0].bytes,
      (await Deno.stat(`${dir}/lora/config.json`)).size,
    );
  });
});

/** Largest error of `got` against `want` relative to the documented bound, and the NMSE. */
function check(name: string, want: HostTensor, got: HostTensor, bound: (i: number) => number) {
  let worst = 0, err = 0, ref = 0;
  for (let i = 0; i < want.data.length; i++) {
    const d = Math.abs(want.data[i] - got.data[i]);
    worst = Math.max(worst, d / bound(i));
    err += d * d;
    ref += want.data[i] * want.data[i];
  }
  assert(worst <= 1, `${name}: error ${worst.toFixed(3)} x the bound`);
  return { worst, nmse: ref ? err / ref : 0 };
}

// int8 also checks the f16 storage of every other matrix; int4 also reruns for byte identity.
for (const quantize of ["int8", "int4"] as const) {
  Deno.test({
    name:
      `convert f16 --quantize ${quantize}: within the documented bounds, towers untouched, byte-identical reruns`,
    ignore: skip,
  }, async () => {
    const r = await release();
    await withTemp(async (tmp) => {
      const manifest: Manifest = await convertRelease(r, `${tmp}/a`, { dtype: "f16", quantize });
      if (quantize === "int4") {
        await convertRelease(r, `${tmp}/b`, { dtype: "f16", quantize });
        const a = await filesOf(`${tmp}/a`), b = await filesOf(`${tmp}/b`);
        assertEquals([...a.keys()].sort(), [...b.keys()].sort());
        for (const [k, v] of a) {
          assert(
            v.length === b.get(k)!.length && v.every((x, i) => x === b.get(k)![i]),
            `${k} differs`,
          );
        }
      }
      const model = await openModel(`${tmp}/a`);
      const src = dequantizedSource(model);
      assertEquals(src.names, r.source.names);
      const linears = new Set(r.specs.filter((s) => s.llmLinear).map((s) => s.name));
      let worstNmse = 0, worstRatio = 0;
      for (const name of r.source.names) {
        const want = await r.source.read(name), got = await src.read(name);
        assertEquals(got.shape, want.shape, name);
        const stored = manifest.tensors.filter((t) =>
          t.name.startsWith(name.replace(/\.weight$/, ""))
        );
        const cols = want.shape[want.shape.length - 1];
        if (linears.has(name)) {
          assert(stored.some((t) => t.name.endsWith(".qweight")), `${name} quantised`);
          const group = quantize === "int8" ? cols : INT4_GROUP,
            levels = quantize === "int8" ? 127 : 7;
          const max = (i: number) => {
            const r0 = Math.floor(i / cols), g = Math.floor((i % cols) / group);
            let m = 0;
            for (
              let j = r0 * cols + g * group;
              j < Math.min((r0 + 1) * cols, r0 * cols + (g + 1) * group);
              j++
            ) {
              m = Math.max(m, Math.abs(want.data[j]));
            }
            return m;
          };
          const res = check(
            name,
            want,
            got,
            (i) => max(i) / levels / 2 * (1 + 2 ** -10) + 2 ** -24,
          );
          worstNmse = Math.max(worstNmse, res.nmse);
          worstRatio = Math.max(worstRatio, res.worst);
        } else if (want.shape.length >= 2) {
          // f16 storage: round to nearest, |error| <= |w| 2^-11 (+ subnormals).
          assert(!stored.some((t) => t.name.endsWith(".qweight")), `${name} must not be quantised`);
          check(name, want, got, (i) => Math.abs(want.data[i]) * 2 ** -11 + 2 ** -25);
          const f16 = roundF16(want.data);
          assert(f16.every((v, i) => Object.is(v, got.data[i])), `${name}: not the f16 rounding`);
        } else {
          assert(want.data.every((v, i) => Object.is(v, got.data[i])), `${name}: vectors stay f32`);
        }
      }
      if (show) {
        console.log(
          `${quantize}: worst linear NMSE ${worstNmse.toExponential(2)}, worst error ${
            worstRatio.toFixed(3)
          } x bound`,
        );
      }
      for (const t of manifest.tensors) {
        if (t.component !== "llm") assert(!t.quantized, `${t.name} (${t.component}) quantised`);
      }
    });
  });
}

Deno.test(
  { name: "convert --fold-fusion adds the exactly folded fusion linears", ignore: skip },
  async () => {
    const r = await release();
    await withTemp(async (tmp) => {
      await convertRelease(r, `${tmp}/m`, { dtype: "f32", foldFusion: true });
      const model = await openModel(`${tmp}/m`);
      const tensors = new Map<string, HostTensor>();
      for (const n of r.source.names) {
        if (/fusion_block|mm_projector|image_newline/.test(n)) {
          tensors.set(n, await r.source.read(n));
        }
      }
      const w = fusionProjectorWeights(tensors, "release");
      const want = foldLinear(w.inK, w.spatialKey);
      const got = await model.source.read("model.fusion_block.folded.key.weight");
      assertEquals(got.shape, [144, 64]);
      assertEquals([...got.data], [...want.weight]);
      assertEquals([...(await model.source.read("model.fusion_block.folded.key.bias")).data], [
        ...want.bias,
      ]);
    });
  },
);

Deno.test(
  { name: "a failed conversion leaves no model and no partial folder", ignore: skip },
  async () => {
    const r = await release();
    await withTemp(async (tmp) => {
      const broken: Release = {
        ...r,
        source: {
          ...r.source,
          names: r.source.names,
          info: r.source.info,
          readRaw: (name, rows) =>
            name === "cut3r.dec_norm.weight"
              ? Promise.reject(new Error("disk gone"))
              : r.source.readRaw(name, rows),
          read: (name, rows) =>
            name === "cut3r.dec_norm.weight"
              ? Promise.reject(new Error("disk gone"))
              : r.source.read(name, rows),
        },
      };
      const err = await convertRelease(broken, `${tmp}/m`, { dtype: "f16" }).catch((e) => e);
      assert(err instanceof Error && err.message === "disk gone", String(err));
      assertEquals([...Deno.readDirSync(tmp)].length, 0);
    });
  },
);
