/**
 * `vlm3r merge`: joins the shard files of a `gen --shard` or `meta --shard` run into the
 * output the whole run would have written, byte for byte.
 *
 * @module
 */

import { GEN_SHARD, mergeGenShards } from "../qa/gen_run.ts";
import type { QaRecord } from "../qa/types.ts";
import { readLines } from "../io/lines.ts";
import { outputFolderProblem } from "../io/atomic.ts";
import { mergeMetaShards, META_SHARD } from "../scene/meta_run.ts";
import { type Command, type Context, UsageError } from "./_command.ts";
import {
  checkOutputFile,
  failureCounts,
  printStats,
  skipLines,
  statsRecord,
  writeProvenance,
} from "./gen.ts";

/** The `merge` command. */
export const merge: Command = {
  name: "merge",
  summary: "join the shard files of gen --shard or meta --shard into the whole run's output",
  usage: "vlm3r merge --out OUT SHARD_1 SHARD_2 ... SHARD_N",
  examples: [
    "vlm3r merge --out questions.jsonl questions.shard-*-of-8.jsonl",
    "vlm3r merge --out processed processed/metadata/val/scannet_meta_val.shard-*-of-4.jsonl",
  ],
  positionals: "SHARD...",
  options: {
    out: {
      type: "string",
      value: "OUT",
      description: "gen shards: the questions file; meta shards: the processed folder",
    },
    stats: {
      type: "boolean",
      description: "gen shards: print counts, answer letters and histograms per type",
    },
  },
  run: runMerge,
};

/** The kind of a shard file, from its header line. */
async function shardKind(path: string): Promise<string> {
  const stat = await Deno.stat(path).catch(() => undefined);
  if (!stat) throw new Error(`${path}: no such file`);
  if (!stat.isFile) throw new Error(`${path}: not a file; expected a shard file`);
  for await (const line of readLines(path)) {
    try {
      const kind = JSON.parse(line.text)?.vlm3r;
      if (kind === GEN_SHARD || kind === META_SHARD) return kind;
    } catch {
      // Reported below.
    }
    break;
  }
  throw new Error(
    `${path}:1: expected the header of a gen or meta shard file (written by --shard K/N)`,
  );
}

async function runMerge(ctx: Context): Promise<number> {
  const out = ctx.string("out", true);
  const files = ctx.positionals;
  if (files.length === 0) throw new UsageError("give the shard files to merge, 1/N to N/N");
  const kind = await shardKind(files[0]);
  for (const f of files.slice(1)) {
    if (await shardKind(f) !== kind) {
      throw new Error(`${f}: a ${await shardKind(f)} file among ${kind} files`);
    }
  }
  if (kind === META_SHARD) {
    if (ctx.flag("stats")) throw new UsageError("--stats is for gen shards");
    const problem = outputFolderProblem(out);
    if (problem) throw new UsageError(`--out ${problem}`);
    const summary = await mergeMetaShards(files, out);
    ctx.out(
      `${summary.dataset} ${summary.split}: ${summary.scenes} scenes from ${files.length} shards, ` +
        `${summary.ok} ok, ${summary.failed.length} failed`,
    );
    for (const f of summary.written) ctx.out(`wrote ${f}`);
    for (const f of summary.failed) ctx.err(`failed ${f.scene}: ${f.message}`);
    return summary.failed.length > 0 ? 1 : 0;
  }

  await checkOutputFile(out);
  const kept: QaRecord[] = [];
  let bar: ReturnType<Context["progress"]> | undefined;
  let summary;
  try {
    summary = await mergeGenShards(
      files,
      out,
      ctx.flag("stats")
        ? (records) => {
          for (const r of records) kept.push(statsRecord(r));
        }
        : undefined,
      (done, total) => {
        bar ??= ctx.progress("merge", total, "scenes");
        bar.set(done);
      },
    );
  } finally {
    bar?.done();
  }
  for (const line of skipLines(summary.tally)) ctx.err(line);
  ctx.out(
    `${summary.questions} questions of ${summary.types.size} types from ${summary.scenes} ` +
      `scenes (${files.length} shards) -> ${out}${failureCounts(summary.tally)}`,
  );
  const n = files.length;
  await writeProvenance(out, {
    command: `${summary.header.command ?? "vlm3r gen"}`.replace(
      /--shard \d+\/\d+/,
      `--shard K/${n}`,
    ) + ` (K = 1..${n}); vlm3r merge --out ${out} <the ${n} shards>`,
    run: summary.header.run,
    scenes: summary.scenes,
    questions: summary.questions,
  });
  if (ctx.flag("stats")) printStats(ctx, kept);
  const inputProblems = Number(summary.header.run.input_problems ?? 0);
  const lost = inputProblems + summary.tally.failures.length;
  if (lost > 0) {
    throw new Error(
      `${lost} input problem${lost === 1 ? "" : "s"} cost questions (` +
        (inputProblems ? `${inputProblems} reported by the shard runs` : "") +
        (inputProblems && summary.tally.failures.length ? ", " : "") +
        (summary.tally.failures.length ? `${summary.tally.failures.length} listed above` : "") +
        `); the others are in ${out}`,
    );
  }
  return 0;
}
