/**
 * `vlm3r meta`: scene and frame metadata of a split from ScanNet, ScanNet++ or ARKitScenes.
 *
 * @module
 */

import { DEFAULT_LABELS, type LabelMap, parseLabelMap } from "../scene/labels.ts";
import { DEFAULT_FRAMES } from "../scene/meta.ts";
import { cleanupOnInterrupt, outputFolderProblem } from "../io/atomic.ts";
import {
  readSceneList,
  removeOwnMetaTemps,
  runMeta,
  splitFromListFile,
} from "../scene/meta_run.ts";
import { type DatasetName, DATASETS } from "../scene/metadata.ts";
import { readJsonFile } from "../scene/raw.ts";
import { type Command, type Context, UsageError } from "./_command.ts";
import { commandLine, commandShard } from "./gen.ts";
import type { Progress } from "./progress.ts";

/** The `meta` command. */
export const meta: Command = {
  name: "meta",
  summary:
    "scene and frame metadata (boxes, rooms, poses, 2D boxes) from ScanNet, ScanNet++, ARKitScenes",
  usage:
    "vlm3r meta --dataset NAME --root RAW --out PROCESSED [--split NAME] [--scenes LIST.txt] " +
    "[--frames 32] [--workers N] [--seed S] [--labels MAP.json] [--format json|jsonl] [--strict] " +
    "[--shard K/N] [--resume]",
  examples: [
    "vlm3r meta --dataset scannet --root data/synth --out processed --split val",
    "vlm3r meta --dataset scannet --root ScanNet --out processed --scenes scannetv2_val.txt --workers 4",
    "vlm3r meta --dataset arkitscenes --root ARKitScenes/3dod --out processed --split val --format jsonl",
    "vlm3r meta --dataset scannet --root ScanNet --out processed --split train --shard 3/8 --resume",
  ],
  options: {
    dataset: {
      type: "string",
      value: "NAME",
      description: "which raw layout --root holds",
      choices: DATASETS,
    },
    root: {
      type: "string",
      value: "RAW",
      description: "the dataset's raw folder (ScanNet: holds scans/ or the scan folders)",
    },
    out: {
      type: "string",
      value: "PROCESSED",
      description: "processed folder: metadata/<split>/, and the sampled color/ and depth/ frames",
    },
    split: {
      type: "string",
      value: "NAME",
      description: "split name (default: the last _ token of the --scenes file name, else val)",
    },
    scenes: {
      type: "string",
      value: "LIST.txt",
      description: "scene names, one per line (default: every scene under --root)",
    },
    frames: {
      type: "string",
      value: "K",
      description: "frames sampled per scene",
      default: String(DEFAULT_FRAMES),
    },
    workers: {
      type: "string",
      value: "N",
      description: "scenes in parallel",
      default: "CPU count",
    },
    seed: {
      type: "string",
      value: "S",
      description: "seed of room-size sampling (and of the ARKitScenes scan per visit)",
      default: "0",
    },
    labels: {
      type: "string",
      value: "MAP.json",
      description: 'label map {"raw label": "category"} replacing the built-in one',
    },
    format: {
      type: "string",
      value: "FMT",
      description: "json: one object per file; jsonl: one scene per line",
      choices: ["json", "jsonl"],
      default: "json",
    },
    strict: { type: "boolean", description: "stop at the first failing scene, write nothing" },
    "keep-going": {
      type: "boolean",
      description: "skip failing scenes, write the rest, exit 1 (the default)",
    },
    shard: {
      type: "string",
      value: "K/N",
      description: "extract shard K of N (K from 1): frames into place and a shard file " +
        "metadata/<split>/<dataset>_meta_<split>.shard-K-of-N.jsonl; vlm3r merge writes the " +
        "metadata (default in a Slurm job array: its task's place and count)",
    },
    resume: {
      type: "boolean",
      description: "take over what a killed run with the same settings staged; keep the staged " +
        "scenes when interrupted",
    },
  },
  run: runMetaCommand,
};

async function runMetaCommand(ctx: Context): Promise<number> {
  const dataset = ctx.string("dataset", true) as DatasetName;
  const root = ctx.string("root", true);
  const out = ctx.string("out", true);
  // Checked once here, not discovered by every scene as it writes its frames.
  const outProblem = outputFolderProblem(out);
  if (outProblem) throw new UsageError(`--out ${outProblem}`);
  const scenesFile = ctx.string("scenes");
  const split = ctx.string("split") ?? (scenesFile ? splitFromListFile(scenesFile) : "val");
  if (!/^[\w.-]+$/.test(split)) {
    throw new UsageError(`--split must be a plain name, got '${split}'`);
  }
  const frames = ctx.int("frames", DEFAULT_FRAMES, { min: 1, max: 100000 });
  const workers = ctx.int("workers", navigator.hardwareConcurrency, { min: 1, max: 256 });
  const seed = ctx.string("seed") ?? "0";
  const format = (ctx.string("format") ?? "json") as "json" | "jsonl";
  if (ctx.flag("strict") && ctx.flag("keep-going")) {
    throw new UsageError("--strict and --keep-going exclude each other");
  }
  const labelsFile = ctx.string("labels");
  const labels: LabelMap = labelsFile
    ? parseLabelMap(await readJsonFile(labelsFile), labelsFile)
    : DEFAULT_LABELS[dataset];
  const scenes = scenesFile ? await readSceneList(scenesFile) : undefined;
  const shard = commandShard(ctx, (l) => ctx.err(l));
  const sharded = shard !== undefined && shard.n > 1;
  const resume = ctx.flag("resume");

  // The bar starts once the scenes are counted.
  let bar: Progress | undefined;
  let summary;
  // Ctrl-C removes the staged frames and half-written files, then exits 130.
  const interrupted = () => {
    bar?.done();
    removeOwnMetaTemps(out, dataset, split, resume);
    ctx.err(
      resume
        ? `vlm3r meta: interrupted; the scenes done are kept for the next run with --resume`
        : `vlm3r meta: interrupted; its temporary files are removed`,
    );
  };
  try {
    summary = await cleanupOnInterrupt(interrupted, () =>
      runMeta({
        dataset,
        root,
        out,
        split,
        scenes,
        labels,
        frames,
        seed,
        workers,
        format,
        strict: ctx.flag("strict"),
        shard,
        resume,
        command: commandLine(ctx, shard ? { shard: `${shard.k}/${shard.n}` } : {}),
        onNote: (message) => ctx.err(message),
        onProgress: (done, total) => {
          bar ??= ctx.progress(`meta ${dataset} ${split}`, total, "scenes");
          bar.set(done);
        },
        onFailure: (scene, message) => ctx.err(`skipped ${scene}: ${message}`),
        onWarning: (message) => ctx.err(`warning: ${message}`),
      }));
  } finally {
    bar?.done();
  }

  for (const t of summary.removedTemps) ctx.err(`removed ${t}, left by an interrupted run`);
  const r = summary.reports;
  const sum = (f: (x: (typeof r)[number]) => number) => r.reduce((s, x) => s + f(x), 0);
  const of = sharded
    ? `shard ${shard.k}/${shard.n}: ${summary.scenes} of ${summary.total} scenes`
    : `${summary.scenes} scenes`;
  ctx.out(
    `${dataset} ${split}: ${of}, ${r.length} ok, ${summary.failed.length} failed; ` +
      `${sum((x) => x.frames)} frames (${
        sum((x) => x.invalidPoses)
      } with invalid poses dropped), ` +
      `${sum((x) => x.sampled)} sampled (${sum((x) => x.renderedMasks)} with rendered 2D boxes); ` +
      `${sum((x) => x.objects)} objects`,
  );
  for (const f of summary.written) ctx.out(`wrote ${f}`);
  if (sharded && summary.written.length) {
    ctx.out(`vlm3r merge --out ${out} with the ${shard.n} shard files writes the metadata`);
  }
  if (summary.stoppedEarly) {
    ctx.err(`vlm3r meta: stopped at the first failing scene (--strict); nothing written`);
  }
  if (summary.total === 0) {
    ctx.err(`vlm3r meta: no ${dataset} scenes found under ${root}`);
    return 1;
  }
  return summary.failed.length > 0 ? 1 : 0;
}
