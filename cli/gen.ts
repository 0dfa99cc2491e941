/**
 * `vlm3r gen`: VSI-Bench and VSTI-Bench questions from scene and frame metadata.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { cleanupOnInterrupt, removeTemps, writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { parseShard, type Shard, shardFromSlurm } from "../io/shard.ts";
import { generateQuestions, selectTasks, type SkipTally, TASKS } from "../qa/generate.ts";
import { genShardPath, type QuestionFormat, runGenStream } from "../qa/gen_run.ts";
import { loadMetadata } from "../qa/input.ts";
import { LANDMARK_RULES } from "../qa/route_planning.ts";
import { formatRouteMix, formatStats, questionStats, routeMix, skewWarnings } from "../qa/stats.ts";
import type { Compat, DistanceMode, LandmarkRule, QaRecord, TaskSpec } from "../qa/types.ts";
import { closest, type Command, type Context, UsageError } from "./_command.ts";

/** The `gen` command. */
export const gen: Command = {
  name: "gen",
  summary: "VSI-Bench and VSTI-Bench questions from scene and frame metadata",
  usage: "vlm3r gen --meta PATH[,PATH...] --out QUESTIONS.jsonl [--tasks vsi|vsti|all|TYPE,...] " +
    "[--seed S] [--per-scene N] [--cap TYPE=N,...] [options]",
  examples: [
    "vlm3r gen --tasks vsi --meta processed/metadata/val --out vsi_val.jsonl --stats",
    "vlm3r gen --tasks vsi --meta vsibench_meta_info --out vsi.jsonl",
    "vlm3r gen --tasks route_planning --meta processed/metadata/val --scenes-root ScanNet " +
    "--out routes.jsonl",
    "vlm3r gen --tasks camera_displacement,object_rel_distance --cap camera_displacement=10 " +
    "--meta processed/metadata/train --out train.json --format json --na-options",
    "vlm3r gen --meta processed/metadata/train --out train.jsonl --shard 2/8   # then vlm3r merge",
  ],
  options: {
    meta: {
      type: "string",
      value: "PATH",
      description: "metadata folders or files, comma-separated: vlm3r / reference metadata " +
        "(<dataset>_metadata_<split>.json, <dataset>_frame_metadata_<split>.json) or VSI-Bench " +
        "meta info (<dataset>_meta_info_val.json); the format is detected",
    },
    out: { type: "string", value: "FILE", description: "output file" },
    "scenes-root": {
      type: "string",
      value: "RAW",
      description: "raw dataset folder (as given to vlm3r meta --root) whose scene meshes " +
        "route_planning navigates; without it route_planning is skipped",
    },
    tasks: {
      type: "string",
      value: "LIST",
      description: "vsi, vsti, all, or question types, comma-separated",
      default: "all",
    },
    seed: { type: "string", value: "S", description: "seed; same seed, same bytes", default: "0" },
    "per-scene": {
      type: "string",
      value: "N",
      description: "questions per scene and type (default: the reference's per-type caps)",
    },
    cap: {
      type: "string",
      value: "TYPE=N,...",
      description: "per-scene cap of given types (overrides --per-scene)",
    },
    distance: {
      type: "string",
      value: "MODE",
      description: "closest-point distances: VSI-Bench's sampled recipe, or exact",
      choices: ["vsibench", "exact"],
      default: "vsibench",
    },
    format: {
      type: "string",
      value: "FMT",
      description: "one JSON object per line, or one JSON list",
      choices: ["jsonl", "json"],
      default: "jsonl",
    },
    "na-options": {
      type: "boolean",
      description: "give numerical questions multiple-choice options too (training data)",
    },
    stats: {
      type: "boolean",
      description: "print counts, answer letters and ground-truth histograms per type, and " +
        "the route-planning answer mix",
    },
    landmark: {
      type: "string",
      value: "RULE",
      description: "route planning: how a route pose finds the object naming it (the nearest " +
        "box surface within 2.5 m, or the authors' nearest axis-aligned footprint corner)",
      choices: [...LANDMARK_RULES],
      default: LANDMARK_RULES[0],
    },
    compat: {
      type: "string",
      value: "MODE",
      description: "numeric distractors: vlm3r's (compared with a tolerance, never a reason " +
        "to drop a question without options) or the reference's (DECISIONS 20)",
      choices: ["vlm3r", "reference"],
      default: "vlm3r",
    },
    workers: { type: "string", value: "N", description: "worker threads", default: "1" },
    shard: {
      type: "string",
      value: "K/N",
      description: "generate shard K of N (K from 1) into OUT.shard-K-of-N; vlm3r merge joins " +
        "them (default in a Slurm job array: its task's place and count; 1/1 for a whole run)",
    },
    resume: {
      type: "boolean",
      description: "continue the run a kill interrupted (OUT.partial), skipping finished scenes",
    },
  },
  run: runGen,
};

/** Parses `--cap type=N,...` against the selected tasks. */
function parseCaps(items: string[], tasks: readonly TaskSpec[]): Record<string, number> {
  const caps: Record<string, number> = {};
  for (const item of items) {
    const m = item.match(/^([\w-]+)=(\d+)$/);
    if (!m) throw new UsageError(`--cap expects TYPE=N items, got '${item}'`);
    const hit = tasks.filter((t) => t.name === m[1] || t.questionType === m[1]);
    if (hit.length === 0) {
      const names = tasks.map((t) => t.name);
      const hint = closest(m[1], names);
      throw new UsageError(
        `--cap names '${m[1]}', which is not a selected question type` +
          (hint ? ` (did you mean ${hint}?)` : "") + `; selected: ${names.join(", ")}`,
      );
    }
    for (const t of hit) caps[t.name] = Number(m[2]);
  }
  return caps;
}

/**
 * Checks, before any work, that `path` (the `--out` of a command that writes one file) can be
 * written: its folder exists and it is not a folder itself. The message names the path as the
 * user gave it.
 */
export async function checkOutputFile(path: string, option = "--out"): Promise<void> {
  const dir = dirname(path);
  const folder = await Deno.stat(dir).catch(() => undefined);
  if (!folder) throw new Error(`${option} ${path}: the folder ${dir} does not exist`);
  if (!folder.isDirectory) throw new Error(`${option} ${path}: ${dir} is not a folder`);
  if ((await Deno.stat(path).catch(() => undefined))?.isDirectory) {
    throw new Error(`${option} ${path}: is a folder; expected a file name`);
  }
}

/**
 * The shard a command runs: `--shard K/N`, else a Slurm job array's task (`onNote` says so),
 * else none.
 */
export function commandShard(ctx: Context, onNote: (line: string) => void): Shard | undefined {
  const given = ctx.string("shard");
  if (given !== undefined) {
    const s = parseShard(given);
    if ("error" in s) throw new UsageError(`--shard: ${s.error}`);
    return s.shard;
  }
  const slurm = shardFromSlurm((name) => Deno.env.get(name));
  if (!slurm) return undefined;
  if ("error" in slurm) throw new UsageError(slurm.error);
  if (slurm.shard.n > 1) {
    onNote(
      `shard ${slurm.shard.k}/${slurm.shard.n} from the Slurm job array ` +
        `(SLURM_ARRAY_TASK_ID ${Deno.env.get("SLURM_ARRAY_TASK_ID")}); --shard 1/1 runs it whole`,
    );
  }
  return slurm.shard;
}

/**
 * The command line a context was parsed from, for provenance: `vlm3r <name>` and its options
 * in the command's order, quoted for a POSIX shell where needed.
 *
 * @example
 * ```ts ignore
 * commandLine(ctx); // "vlm3r gen --meta vsibench_meta_info --out q.jsonl --seed 3"
 * ```
 */
export function commandLine(ctx: Context, overrides: Record<string, string> = {}): string {
  const values: Record<string, string | boolean | string[] | undefined> = {
    ...ctx.values,
    ...overrides,
  };
  const quote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`);
  const parts = ["vlm3r", ctx.command.name];
  for (const name of Object.keys(ctx.command.options)) {
    const v = values[name];
    if (v === true) parts.push(`--${name}`);
    else if (typeof v === "string") parts.push(`--${name}`, quote(v));
    else if (Array.isArray(v)) { for (const x of v) parts.push(`--${name}`, quote(x)); }
  }
  return parts.join(" ");
}

/** One line per skip reason and scene count: "skipped in 288 scenes without frame metadata: ...". */
export function skipLines(tally: SkipTally): string[] {
  const groups = new Map<string, string[]>();
  for (const [task, s] of tally.skipped) {
    for (
      const [reason, n] of [["frame metadata", s.frames], [
        "a mesh (--scenes-root)",
        s.mesh,
      ]] as const
    ) {
      if (!n) continue;
      const key = `skipped in ${n} scene${n === 1 ? "" : "s"} without ${reason}`;
      groups.set(key, [...(groups.get(key) ?? []), task]);
    }
  }
  return [
    ...[...groups].map(([key, names]) => `${key}: ${names.join(", ")}`),
    ...tally.failures.map((f) => `skipped ${f}`),
  ];
}

/** The counts of a summary line: "(2 unusable meshes)". */
export function failureCounts(tally: SkipTally): string {
  const counted = (n: number, one: string, many: string) =>
    n ? ` (${n} ${n === 1 ? one : many})` : "";
  const c = tally.failureCounts;
  return counted(c.mesh, "unusable mesh", "unusable meshes") +
    counted(c.frames, "scene with unusable frames", "scenes with unusable frames") +
    counted(c.answers, "task with non-finite answers", "tasks with non-finite answers");
}

/**
 * What `--stats` needs of a record (type, option count, letter, answer), without its text: a
 * run keeps one per question, so that its statistics cost tens of bytes per question.
 */
export function statsRecord(r: QaRecord): QaRecord {
  return {
    question_type: r.question_type,
    options: r.options ? OPTION_SLOTS[r.options.length] : null,
    mc_answer: r.mc_answer,
    ground_truth: r.ground_truth,
  } as QaRecord;
}
const OPTION_SLOTS = Array.from({ length: 7 }, (_, n) => new Array<string>(n).fill(""));

/** Writes `OUT.gen.json`: how a questions file was made (read by `vlm3r export`). */
export async function writeProvenance(
  out: string,
  p: { command: string; run: Record<string, unknown>; scenes: number; questions: number },
): Promise<void> {
  const { input, input_problems: _, ...settings } = p.run;
  await writeJsonAtomic(`${out}.gen.json`, {
    vlm3r: "gen",
    command: p.command,
    ...settings,
    input_sha256: input,
    scenes: p.scenes,
    questions: p.questions,
  });
}

/** Records as JSON lines or a JSON list (indent 4, as the reference writes). */
function serialise(records: readonly QaRecord[], format: string): string {
  return format === "json"
    ? JSON.stringify(records, null, 4) + "\n"
    : records.map((r) => JSON.stringify(r)).join("\n") + (records.length ? "\n" : "");
}

async function runGen(ctx: Context): Promise<number> {
  const metaPaths = ctx.list("meta");
  if (metaPaths.length === 0) throw new UsageError("--meta is required");
  const out = ctx.string("out", true);
  const names = ctx.list("tasks", ["all"]);
  const { tasks, unknown } = selectTasks(names);
  if (unknown.length > 0) {
    const valid = ["vsi", "vsti", "all", ...TASKS.map((t) => t.name)];
    const hint = closest(unknown[0], valid);
    throw new UsageError(
      `--tasks: unknown '${unknown[0]}'${hint ? ` (did you mean ${hint}?)` : ""}; valid: ${
        valid.join(", ")
      }`,
    );
  }
  if (tasks.length === 0) throw new UsageError("--tasks selects no question type");
  const perScene = ctx.values["per-scene"] === undefined
    ? undefined
    : ctx.int("per-scene", 0, { min: 0, max: 1e9 });
  const caps: Record<string, number> = {};
  if (perScene !== undefined) { for (const t of tasks) caps[t.name] = perScene; }
  Object.assign(caps, parseCaps(ctx.list("cap"), tasks));
  const seed = ctx.string("seed") ?? "0";
  const distance = (ctx.string("distance") ?? "vsibench") as DistanceMode;
  const format = (ctx.string("format") ?? "jsonl") as QuestionFormat;
  const workers = ctx.int("workers", 1, { min: 1, max: 256 });
  const shard = commandShard(ctx, (l) => ctx.err(l));
  const sharded = shard !== undefined && shard.n > 1;
  const resume = ctx.flag("resume");
  if (sharded && ctx.flag("stats")) {
    throw new UsageError(
      "--stats needs the lettered questions, which vlm3r merge makes: pass it to merge",
    );
  }
  await checkOutputFile(out);

  const loaded = await loadMetadata(metaPaths);
  for (const p of loaded.problems) ctx.err(p);
  for (const w of loaded.warnings) ctx.err(`warning: ${w}`);
  if (loaded.scenes.length === 0) throw new Error(`no usable scenes in ${metaPaths.join(", ")}`);
  const target = sharded ? genShardPath(out, shard) : out;
  // The run drops each scene's metadata once generated (release): count them first.
  const sceneCount = loaded.scenes.length;
  const command = commandLine(ctx, shard ? { shard: `${shard.k}/${shard.n}` } : {});
  let bar: ReturnType<Context["progress"]> | undefined;
  const t0 = performance.now();
  const kept: QaRecord[] = [];
  const options = {
    seed,
    distance,
    caps,
    naOptions: ctx.flag("na-options"),
    compat: (ctx.string("compat") ?? "vlm3r") as Compat,
    landmark: (ctx.string("landmark") ?? LANDMARK_RULES[0]) as LandmarkRule,
  };
  let summary;
  try {
    summary = await cleanupOnInterrupt(
      () => {
        bar?.done();
        removeTemps(dirname(target), { owner: "self", targets: [basename(target)] });
        if (resume) {
          ctx.err(`vlm3r gen: interrupted; rerun with --resume to continue from ${target}.partial`);
        } else {
          // Without --resume an interrupted run leaves nothing (as before the journal existed).
          try {
            Deno.removeSync(`${target}.partial`);
          } catch {
            // Not written yet.
          }
          ctx.err(`vlm3r gen: interrupted; its temporary files are removed`);
        }
      },
      () =>
        runGenStream({
          scenes: loaded.scenes,
          tasks,
          options,
          out,
          format,
          shard,
          resume,
          workers,
          scenesRoot: ctx.string("scenes-root"),
          inputProblems: loaded.problems.length,
          command,
          release: true,
          onScene: (done, total) => {
            bar ??= ctx.progress("gen", total, "scenes");
            bar.set(done);
          },
          onRecords: ctx.flag("stats")
            ? (records) => {
              for (const r of records) kept.push(statsRecord(r));
            }
            : undefined,
          onNote: (line) => ctx.err(line),
        }),
    );
  } finally {
    bar?.done();
  }
  for (const line of skipLines(summary.tally)) ctx.err(line);
  const secs = (performance.now() - t0) / 1000;
  const badScenes = loaded.problems.filter((p) => p.endsWith("; scene skipped")).length;
  const ignored = loaded.problems.length - badScenes;
  const counted = (n: number, one: string, many: string) =>
    n ? ` (${n} ${n === 1 ? one : many})` : "";
  const lostCounts = counted(badScenes, "bad scene skipped", "bad scenes skipped") +
    counted(ignored, "metadata entry ignored", "metadata entries ignored") +
    failureCounts(summary.tally);
  if (sharded) {
    ctx.out(
      `shard ${shard.k}/${shard.n}: ${summary.drafts} questions of ${summary.types.size} types ` +
        `from ${summary.scenes} of ${sceneCount} scenes in ${secs.toFixed(1)} s -> ` +
        `${target}${lostCounts}; vlm3r merge letters and joins the ${shard.n} shards`,
    );
  } else {
    ctx.out(
      `${summary.questions} questions of ${summary.types.size} types from ` +
        `${sceneCount} scenes in ${secs.toFixed(1)} s -> ${out}${lostCounts}`,
    );
    await writeProvenance(out, {
      command,
      run: summary.run,
      scenes: sceneCount,
      questions: summary.questions,
    });
  }
  if (ctx.flag("stats")) printStats(ctx, kept);
  // Input that was given but not used fails the run, after the rest is written.
  const lost = loaded.problems.length + summary.tally.failures.length;
  if (lost > 0) {
    throw new Error(
      `${lost} input problem${lost === 1 ? "" : "s"} (listed above) cost questions; ` +
        `the others are in ${target}`,
    );
  }
  return 0;
}

/** Options of {@link genDemo}. */
export interface GenDemoOptions {
  seed?: string;
  /** Example questions printed per type (default 2). */
  examples?: number;
  /** Closest-point distance mode (default vsibench). */
  distance?: DistanceMode;
  /** The raw scenes' root, for route planning (default: none, no route questions). */
  scenesRoot?: string;
}

/**
 * The demo's question step (synth -> meta -> gen): questions of every type from the metadata
 * in `meta` (a `vlm3r meta` output folder or files), written as JSON lines to `out`, and the
 * lines to print: a summary, then per type its count and a few example questions with their
 * answers (the first on the type's line). With `scenesRoot`, route planning too.
 *
 * @example
 * ```ts
 * const meta = new URL("../tests/fixtures/qa/vsibench_meta_info/scannet_meta_info_val.json", import.meta.url).pathname;
 * const out = await Deno.makeTempFile({ suffix: ".jsonl" });
 * const lines = await genDemo(meta, out, { examples: 1 });
 * if (!lines[0].includes("questions of") || !lines.some((l) => l.includes("object_counting"))) {
 *   throw new Error(lines.join("\n"));
 * }
 * await Deno.remove(out);
 * ```
 */
export async function genDemo(
  meta: string | string[],
  out: string,
  options: GenDemoOptions = {},
): Promise<string[]> {
  const loaded = await loadMetadata(Array.isArray(meta) ? meta : [meta]);
  const { records, failures } = await generateQuestions(loaded.scenes, TASKS, {
    seed: options.seed ?? "0",
    distance: options.distance ?? "vsibench",
    caps: {},
    naOptions: false,
  }, { scenesRoot: options.scenesRoot });
  if (failures.length > 0) throw new Error(failures[0]);
  await writeFileAtomic(out, serialise(records, "jsonl"));
  const types = [...new Set(records.map((r) => r.question_type))];
  const lines = [`${records.length} questions of ${types.length} types -> ${out}`];
  const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 3) + "..." : s);
  for (const t of types) {
    const of = records.filter((r) => r.question_type === t);
    of.slice(0, Math.max(1, options.examples ?? 2)).forEach((r, i) => {
      const answer = r.mc_answer
        ? (r.options as string[])["ABCDEF".indexOf(r.mc_answer)]
        : String(r.ground_truth);
      // Route questions carry a long note on the blanks; the actions are what to show.
      const text = r.question.replaceAll("\n", " ").replace(/ \(Note: [^)]*\)/, "");
      lines.push(
        (i === 0 ? `   ${t} (${of.length}): ` : `     `) + `${clip(text, 150)} -> ${answer}`,
      );
    });
  }
  return lines;
}

/** `--stats`: per type counts, letters and histograms, the route mix, skew warnings. */
export function printStats(ctx: Context, records: Parameters<typeof questionStats>[0]): void {
  const stats = questionStats(records, TASKS.map((t) => t.questionType));
  for (const line of formatStats(stats)) ctx.out(line);
  for (const line of formatRouteMix(routeMix(records))) ctx.out(line);
  for (const w of skewWarnings(stats)) ctx.err(`warning: ${w}`);
}
