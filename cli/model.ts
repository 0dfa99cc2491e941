/**
 * `vlm3r model tiny`: a random tiny VLM-3R, in the release layout or already converted, for
 * the demo and tests (model/weights/tiny.ts).
 *
 * @module
 */

import { convertRelease } from "../model/weights/convert.ts";
import { openRelease } from "../model/weights/release.ts";
import { writeTinyRelease } from "../model/weights/tiny.ts";
import { type Command, type Context, UsageError } from "./_command.ts";

/** The `model` command. */
export const model: Command = {
  name: "model",
  summary: "make models: 'tiny' writes a random tiny VLM-3R (real tokenizer) for demos and tests",
  usage: "vlm3r model tiny --out DIR [--seed S] [--layout release|converted] [--force]",
  examples: [
    "vlm3r model tiny --out models/tiny-release",
    "vlm3r model tiny --out models/tiny --layout converted --seed 3",
  ],
  positionals: "tiny",
  options: {
    out: { type: "string", value: "DIR", description: "folder to write" },
    seed: { type: "string", value: "S", description: "seed of the random weights", default: "0" },
    layout: {
      type: "string",
      value: "L",
      description:
        "release: base/ lora/ cut3r/ siglip/ as downloaded; converted: a model folder (f32)",
      choices: ["release", "converted"],
      default: "release",
    },
    force: { type: "boolean", description: "replace DIR if it exists" },
  },
  run,
};

async function run(ctx: Context): Promise<number> {
  const [what, ...rest] = ctx.positionals;
  if (what !== "tiny" || rest.length) {
    throw new UsageError(`expected 'vlm3r model tiny', got '${ctx.positionals.join(" ")}'`);
  }
  const out = ctx.string("out", true).replace(/\/+$/, "");
  const seed = ctx.int("seed", 0, { min: 0 });
  const layout = ctx.string("layout") ?? "release";
  const present = await Deno.stat(out).then(() => true, () => false);
  if (present && !ctx.flag("force")) {
    throw new UsageError(`--out ${out} exists (use --force to replace it)`);
  }
  const tmp = `${out}.partial`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  try {
    await writeTinyRelease(tmp, seed);
    if (layout === "converted") {
      const release = await openRelease({
        base: `${tmp}/base`,
        lora: `${tmp}/lora`,
        cut3r: `${tmp}/cut3r/cut3r_tiny.pth`,
        siglip: `${tmp}/siglip`,
      });
      await convertRelease(release, `${tmp}.converted`, { dtype: "f32" });
      await Deno.remove(tmp, { recursive: true });
      await Deno.rename(`${tmp}.converted`, tmp);
    }
    if (present) await Deno.remove(out, { recursive: true });
    await Deno.rename(tmp, out);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    await Deno.remove(`${tmp}.converted`, { recursive: true }).catch(() => {});
    throw e;
  }
  ctx.out(
    layout === "release"
      ? `wrote ${out}: base/ lora/ cut3r/cut3r_tiny.pth siglip/ (seed ${seed}); convert with ` +
        `vlm3r convert --base ${out}/base --lora ${out}/lora --cut3r ${out}/cut3r/cut3r_tiny.pth ` +
        `--siglip ${out}/siglip --out MODEL`
      : `wrote ${out}: a converted tiny model (f32, seed ${seed})`,
  );
  return 0;
}
