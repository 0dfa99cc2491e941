/**
 * `vlm3r export`: a question set as a Hugging Face dataset folder (Parquet shards and a
 * dataset card).
 *
 * @module
 */

import { outputFolderProblem } from "../io/atomic.ts";
import { exportHf } from "../qa/hf_export.ts";
import denoJson from "../deno.json" with { type: "json" };
import { type Command, type Context, UsageError } from "./_command.ts";

/** The `export` command. */
export const exportCommand: Command = {
  name: "export",
  summary: "publish questions as a Hugging Face dataset (Parquet shards and a dataset card)",
  usage: "vlm3r export --format hf --questions Q.jsonl --out DIR [--split NAME] [--name TITLE] " +
    "[--rows-per-file N]",
  examples: [
    "vlm3r export --format hf --questions vsi_val.jsonl --out hf/vlm3r-vsi --split test",
    "vlm3r export --format hf --questions train.jsonl --out hf/vlm3r-train --rows-per-file 100000",
  ],
  options: {
    format: {
      type: "string",
      value: "FMT",
      description: "hf: data/<split>-NNNNN-of-MMMMM.parquet and README.md (the dataset card)",
      choices: ["hf"],
      default: "hf",
    },
    questions: {
      type: "string",
      value: "Q.jsonl",
      description: "questions as gen and merge write them (JSON lines); its .gen.json beside it " +
        "gives the card the command and seed",
    },
    out: { type: "string", value: "DIR", description: "the dataset folder (created if needed)" },
    split: { type: "string", value: "NAME", description: "the split's name", default: "train" },
    name: { type: "string", value: "TITLE", description: "the dataset's title in the card" },
    "rows-per-file": {
      type: "string",
      value: "N",
      description: "questions per Parquet file",
      default: "250000",
    },
  },
  run: runExport,
};

async function runExport(ctx: Context): Promise<number> {
  ctx.string("format");
  const questions = ctx.string("questions", true);
  const out = ctx.string("out", true);
  const split = ctx.string("split") ?? "train";
  if (!/^[\w.]+$/.test(split)) {
    throw new UsageError(`--split must be a plain name (letters, digits, _ and .), got '${split}'`);
  }
  const rowsPerFile = ctx.int("rows-per-file", 250_000, { min: 1, max: 1e9 });
  const problem = outputFolderProblem(out);
  if (problem) throw new UsageError(`--out ${problem}`);
  const stat = await Deno.stat(questions).catch(() => undefined);
  if (!stat?.isFile) throw new Error(`--questions ${questions}: no such file`);
  let provenance: Record<string, unknown> | undefined;
  try {
    provenance = JSON.parse(await Deno.readTextFile(`${questions}.gen.json`));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new Error(`${questions}.gen.json: not readable JSON (${(e as Error).message})`);
    }
    ctx.err(
      `warning: no ${questions}.gen.json (written by vlm3r gen and merge): the card cannot ` +
        "name the command and seed",
    );
  }
  let bar: ReturnType<Context["progress"]> | undefined;
  let summary;
  try {
    summary = await exportHf(questions, out, {
      split,
      rowsPerFile,
      name: ctx.string("name"),
      provenance,
      version: denoJson.version,
      onProgress: (rows, total) => {
        bar ??= ctx.progress("export", total, "questions");
        bar.set(rows);
      },
    });
  } finally {
    bar?.done();
  }
  for (const f of summary.removed) ctx.err(`removed ${f}, a shard of an earlier export`);
  ctx.out(
    `${summary.rows} questions of ${summary.counts.size} types -> ${summary.files.length} ` +
      `Parquet file${summary.files.length === 1 ? "" : "s"} and ${summary.card}`,
  );
  return 0;
}
