// `vlm3r model tiny`, `vlm3r convert` and `vlm3r inspect` end to end through the CLI.
import { assert, assertEquals } from "../../assert.ts";
import { capture, sharedFixture } from "../../_support.ts";
import { main } from "../../../cli/main.ts";
import { openRelease } from "../../../model/weights/release.ts";
import { openModel } from "../../../model/weights/convert.ts";
import { tinyConfig } from "../../../model/weights/tiny.ts";
import { architecture } from "../../../model/weights/architecture.ts";

const fixture = sharedFixture("vlm3r-tiny");
const tmp = await Deno.makeTempDir();
const rel = `${tmp}/rel`;
const paths = (d: string) => ({
  base: `${d}/base`,
  lora: `${d}/lora`,
  cut3r: `${d}/cut3r/cut3r_tiny.pth`,
  siglip: `${d}/siglip`,
});

async function tree(d: string, prefix = ""): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const f of Deno.readDir(d)) {
    if (f.isDirectory) {
      for (const [k, v] of await tree(`${d}/${f.name}`, `${prefix}${f.name}/`)) out.set(k, v);
    } else out.set(prefix + f.name, await Deno.readFile(`${d}/${f.name}`));
  }
  return out;
}
const equalBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

Deno.test("model tiny: a release that reads back as the tiny config, deterministic by seed", async () => {
  const io = capture();
  assertEquals(await main(["model", "tiny", "--out", rel, "--seed", "5"], io), 0, io.err);
  assert(io.out.startsWith(`wrote ${rel}`), io.out);
  const r = await openRelease(paths(rel));
  assertEquals(
    JSON.stringify({
      ...r.config,
      tokenizer: undefined,
      vision: { ...r.config.vision, source: "" },
    }),
    JSON.stringify({
      ...tinyConfig(),
      tokenizer: undefined,
      vision: { ...tinyConfig().vision, source: "" },
    }),
  );
  assertEquals(r.config.tokenizer.length, 151647);
  assertEquals(r.dropped.length, 56);
  assertEquals(r.lora.modules.length, 14);
  // Same seed, same bytes; another seed, other weights.
  assertEquals(await main(["model", "tiny", "--out", `${tmp}/again`, "--seed", "5"], capture()), 0);
  const a = await tree(rel), b = await tree(`${tmp}/again`);
  assertEquals([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, v] of a) assert(equalBytes(v, b.get(k)!), `${k} differs`);
  assertEquals(await main(["model", "tiny", "--out", `${tmp}/other`, "--seed", "6"], capture()), 0);
  const c = await tree(`${tmp}/other`);
  assert(!equalBytes(a.get("lora/adapter_model.bin")!, c.get("lora/adapter_model.bin")!));
  assert(equalBytes(a.get("base/tokenizer.json")!, c.get("base/tokenizer.json")!));
  await Deno.remove(`${tmp}/again`, { recursive: true });
  await Deno.remove(`${tmp}/other`, { recursive: true });
});

Deno.test({
  name: "model tiny mirrors vlm3r-tiny: tokenizer byte for byte, same tensors and shapes",
  ignore: !fixture,
}, async () => {
  const ours = await Deno.readFile(`${rel}/base/tokenizer.json`);
  assert(
    equalBytes(ours, await Deno.readFile(`${fixture}/base/tokenizer.json`)),
    "tokenizer.json differs",
  );
  const fx = await openRelease(paths(fixture!));
  const mine = await openRelease(paths(rel));
  assertEquals(mine.source.names, fx.source.names);
  for (const n of fx.source.names) {
    assertEquals(mine.source.info(n)!.shape, fx.source.info(n)!.shape, n);
  }
  assertEquals(architecture(mine.config).length, architecture(fx.config).length);
});

Deno.test("convert and inspect through the CLI; an incomplete download is reported", async () => {
  const out = `${tmp}/model`;
  let io = capture();
  const args = [
    "convert",
    "--base",
    `${rel}/base`,
    "--lora",
    `${rel}/lora`,
    "--cut3r",
    `${rel}/cut3r/cut3r_tiny.pth`,
    "--siglip",
    `${rel}/siglip`,
  ];
  assertEquals(await main([...args, "--out", out, "--quantize", "int8", "-q"], io), 0, io.err);
  assert(
    /^wrote .*: 333 tensors, .* \(f16, quantize int8\); vocabulary 151647 rows; dropped 56 unused tensors\n$/
      .test(io.out),
    io.out,
  );
  io = capture();
  assertEquals(await main([...args, "--out", out], io), 2);
  assert(io.err.includes("exists (use --force"), io.err);
  const m = await openModel(out);
  assertEquals(m.manifest.quantize, "int8");
  assertEquals(m.manifest.sources.length, 11);

  io = capture();
  assertEquals(await main(["inspect", out, "--json"], io), 0, io.err);
  const report = JSON.parse(io.out);
  assertEquals([report.kind, report.missing, report.mismatched, report.unused], [
    "model",
    [],
    [],
    [],
  ]);
  assert(report.parameters.cut3r > 0 && report.parameters.vision > 0 && report.parameters.llm > 0);
  io = capture();
  assertEquals(await main(["inspect", rel], io), 0, io.err);
  assert(io.out.includes("unused (dropped when converting) (56):"), io.out);
  assert(
    io.out.includes("model.vision_tower.vision_tower.vision_model.encoder.layers.1.mlp.fc2.weight"),
    io.out,
  );
  io = capture();
  assertEquals(await main(["inspect", `${rel}/cut3r/cut3r_tiny.pth`, "--json"], io), 0, io.err);
  const pth = JSON.parse(io.out);
  assertEquals([pth.kind, pth.missing.length, pth.unused.length], ["torch", 0, 34]);

  // An incomplete download: a shard missing, a tensor of the CUT3R checkpoint missing.
  await Deno.rename(`${rel}/base/model-00002-of-00002.safetensors`, `${tmp}/shard2`);
  io = capture();
  assertEquals(await main(["inspect", rel], io), 1);
  assertEquals(
    io.err,
    `vlm3r inspect: ${rel}/base/model.safetensors.index.json: weight_map: expected shard model-00002-of-00002.safetensors to exist, got missing\n`,
  );
  await Deno.rename(`${tmp}/shard2`, `${rel}/base/model-00002-of-00002.safetensors`);

  io = capture();
  assertEquals(await main(["model", "tiny"], io), 2);
  io = capture();
  assertEquals(await main(["inspect"], io), 2);
  assert(io.err.includes("give a PATH"), io.err);
});

Deno.test("model tiny --layout converted opens as a model", async () => {
  const io = capture();
  assertEquals(
    await main(["model", "tiny", "--out", `${tmp}/conv`, "--layout", "converted"], io),
    0,
    io.err,
  );
  const m = await openModel(`${tmp}/conv`);
  assertEquals(m.config.llm.vocab, 151647);
  assertEquals(m.source.info("lm_head.weight")!.shape, [151647, 64]);
  assertEquals(m.manifest.dtype, "f32");
});

Deno.test("cleanup", async () => {
  await Deno.remove(tmp, { recursive: true });
});
