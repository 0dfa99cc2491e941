/**
 * A whole `vlm3r gen` run at any scale: scenes generated one after another (in workers when
 * asked), each scene's drafts appended to a journal, its records lettered and streamed to the
 * output, so that memory holds a bounded window of scenes and the output size is bounded by the
 * disk only. The output goes to a temporary file renamed into place at the end.
 *
 * Letters are balanced over the whole run (DECISIONS 12) by a {@link RecordBuilder}, whose
 * state is per task (letter counts and one stream): bounded, and fed in scene order.
 *
 * The journal (`OUT.partial`, JSON lines: a header with the run's settings, then one line per
 * finished scene with its drafts) is what `--resume` continues from: its finished scenes are
 * lettered again from their drafts (cheap) and generation goes on at the first missing scene,
 * so a resumed run writes the bytes of an uninterrupted one. A successful run removes it.
 *
 * Sharded (`--shard K/N`, N > 1): the shard generates its scenes (see io/shard.ts) into its
 * journal, which becomes the shard file `OUT.shard-K-of-N` when complete. Lettering needs the
 * scenes in order, so it happens when `vlm3r merge` joins shards 1..N ({@link mergeGenShards}):
 * the merged file is byte for byte the single run's.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, dirname } from "node:path";
import { AtomicFile, removeTemps, TextSink } from "../io/atomic.ts";
import { readLines } from "../io/lines.ts";
import {
  inShard,
  parseShardHeader,
  readShardHeader,
  readShards,
  runDifference,
  type Shard,
  SHARD_VERSION,
  type ShardHeader,
  shardPath,
  shardSize,
} from "../io/shard.ts";
import {
  FAMILIES,
  type GenerateOptions,
  generateSceneStream,
  RecordBuilder,
  type SceneDrafts,
  SkipTally,
} from "./generate.ts";
import type { SceneInput } from "./input.ts";
import type { QaRecord, TaskSpec } from "./types.ts";

/** The kind name of gen shard files and journals. */
export const GEN_SHARD = "gen-shard";

/** Output formats of questions. */
export type QuestionFormat = "jsonl" | "json";

/**
 * Records written as they come, as JSON lines or as one JSON list indented by 4 (the
 * reference's layout), byte for byte what serialising the whole list at once gives.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const w = await RecordWriter.open(`${dir}/q.json`, "json");
 * await w.write([{ a: 1 }, { b: [2] }]);
 * await w.commit();
 * if (await Deno.readTextFile(`${dir}/q.json`) !== JSON.stringify([{ a: 1 }, { b: [2] }], null, 4) + "\n") {
 *   throw new Error();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RecordWriter {
  #file: AtomicFile;
  #count = 0;

  private constructor(file: AtomicFile, readonly format: QuestionFormat) {
    this.#file = file;
  }

  /** Opens a temporary file for `path`. */
  static async open(path: string, format: QuestionFormat): Promise<RecordWriter> {
    return new RecordWriter(await AtomicFile.open(path), format);
  }

  /** Records written so far. */
  get count(): number {
    return this.#count;
  }

  /** The temporary file being written. */
  get temp(): string {
    return this.#file.temp;
  }

  /** Appends records (handed on in pieces, so that no scene becomes one huge string). */
  async write(records: readonly unknown[]): Promise<void> {
    for (const r of records) {
      if (this.format === "jsonl") await this.#file.write(JSON.stringify(r) + "\n");
      else {
        // An element of a list indented by 4 is the element indented by 4, shifted by 4.
        await this.#file.write(
          (this.#count === 0 ? "[\n    " : ",\n    ") +
            JSON.stringify(r, null, 4).replaceAll("\n", "\n    "),
        );
      }
      this.#count++;
    }
  }

  /** Finishes the file and renames it into place. */
  async commit(): Promise<void> {
    if (this.format === "json") await this.#file.write(this.#count ? "\n]\n" : "[]\n");
    await this.#file.commit();
  }

  /** Drops the temporary file. */
  abort(): Promise<void> {
    return this.#file.abort();
  }
}

/**
 * A fingerprint of a run's input: SHA-256 over every scene's metadata and frame metadata, in
 * order. Shards and resumed runs check it, so that they never join output made from other
 * input.
 *
 * @example
 * ```ts
 * const scene = { source: "x", syntheticIds: true, meta: {
 *   scene_name: "s", dataset: "scannet" as const, split: "val", video_path: "s.mp4", room_size: 30,
 *   room_center: [0, 0, 0] as [number, number, number], object_counts: {}, object_bboxes: {} } };
 * if (inputFingerprint([scene]) === inputFingerprint([{ ...scene, meta: { ...scene.meta, room_size: 31 } }])) {
 *   throw new Error();
 * }
 * ```
 */
export function inputFingerprint(scenes: readonly SceneInput[]): string {
  const h = createHash("sha256");
  for (const s of scenes) {
    h.update(JSON.stringify([s.meta, s.frames ?? null, s.syntheticIds]));
    h.update("\n");
  }
  return h.digest("hex");
}

/**
 * The shard file of `gen --out OUT --shard K/N`: always JSON lines of drafts, whatever the
 * output format (`q.json` -> `q.shard-K-of-N.jsonl`).
 *
 * @example
 * ```ts
 * if (genShardPath("q.json", { k: 1, n: 2 }) !== "q.shard-1-of-2.jsonl") throw new Error();
 * ```
 */
export function genShardPath(out: string, shard: Shard): string {
  return shardPath(out.replace(/\.jsonl?$/, "") + ".jsonl", shard);
}

/** Settings of {@link runGenStream}. */
export interface GenRunOptions {
  /** Every scene of the run, in (dataset, scene) order (a shard takes its part). */
  scenes: readonly SceneInput[];
  tasks: readonly TaskSpec[];
  options: GenerateOptions;
  /** The output file (a shard writes {@link shardPath} of it). */
  out: string;
  format: QuestionFormat;
  /** This run's shard (absent or N = 1: the whole run). */
  shard?: Shard;
  /** Continue from the journal (or a finished shard file) a killed run left. */
  resume?: boolean;
  workers?: number;
  scenesRoot?: string;
  /** Input problems loading the metadata reported (written into shard headers for merge). */
  inputProblems?: number;
  /** The command line (recorded in the journal header). */
  command?: string;
  /** Called with the scenes done (of this shard), including resumed ones. */
  onScene?: (done: number, total: number) => void;
  /** Called with every record written (for `--stats`). */
  onRecords?: (records: readonly QaRecord[]) => void;
  /** Called with notes for the user (resumed, journal replaced, temporaries removed). */
  onNote?: (message: string) => void;
  /**
   * Drop each scene from `scenes` (set its entry to undefined) once generated: the caller hands
   * them over, and the run's memory falls as it goes instead of holding every scene's metadata.
   */
  release?: boolean;
}

/** What {@link runGenStream} did. */
export interface GenRunSummary {
  /** The file written: the questions, or the shard file. */
  written: string;
  /** Scenes of this run (of this shard). */
  scenes: number;
  /** Of those, scenes taken from a journal or a finished shard file. */
  resumed: number;
  /** Questions written (0 for a shard, whose drafts are lettered by merge). */
  questions: number;
  /** Drafts generated (questions once lettered). */
  drafts: number;
  /** Distinct question types written (of drafts, for a shard). */
  types: Set<string>;
  tally: SkipTally;
  /** The run's settings, as its journal header records them. */
  run: Record<string, unknown>;
}

/** The settings a journal or shard header records and resume and merge compare. */
function runSettings(o: GenRunOptions): Record<string, unknown> {
  const caps: Record<string, number> = {};
  for (const t of o.tasks) caps[t.name] = o.options.caps[t.name] ?? t.defaultCap;
  return {
    seed: o.options.seed,
    tasks: o.tasks.map((t) => t.name),
    caps,
    distance: o.options.distance,
    na_options: o.options.naOptions,
    compat: o.options.compat ?? "vlm3r",
    landmark: o.options.landmark ?? null,
    format: o.format,
    meshes: o.scenesRoot !== undefined,
    input: inputFingerprint(o.scenes),
    input_problems: o.inputProblems ?? 0,
  };
}

/** A scene line of a journal or shard file: its position in the run, its drafts and skips. */
export interface SceneLine extends SceneDrafts {
  i: number;
  video_path: string;
}

/**
 * `JSON.stringify(line) + "\n"` in pieces (one per draft), so that a scene of many thousands of
 * questions never becomes one string of tens of megabytes.
 *
 * @example
 * ```ts
 * const line = { i: 3, dataset: "scannet", scene: "s", video_path: "s.mp4", skipped: [],
 *   drafts: [{ task: "t", template: "{a}?", fields: { a: "x" }, answer: 1 }, { task: "t", template: "", fields: { a: 2 }, answer: "y" }] };
 * if ([...sceneLinePieces(line)].join("") !== JSON.stringify(line) + "\n") throw new Error();
 * ```
 */
export function* sceneLinePieces(line: SceneLine): Generator<string> {
  let sep = "{";
  for (const [key, value] of Object.entries(line)) {
    if (value === undefined) continue;
    const head = `${sep}${JSON.stringify(key)}:`;
    sep = ",";
    if (key !== "drafts") {
      yield head + JSON.stringify(value);
      continue;
    }
    yield head + "[";
    const drafts = value as SceneLine["drafts"];
    for (let d = 0; d < drafts.length; d++) yield (d ? "," : "") + JSON.stringify(drafts[d]);
    yield "]";
  }
  yield "}\n";
}

/** The question type of each task, for counting types before lettering. */
const QUESTION_TYPE = new Map(
  FAMILIES.flatMap((f) => f.tasks).map((t) => [t.name, t.questionType]),
);

/**
 * Runs generation over `o.scenes` (or a shard of them), streaming, resumable. See the module
 * notes.
 *
 * @example
 * ```ts ignore
 * const summary = await runGenStream({ scenes, tasks, options, out: "q.jsonl", format: "jsonl" });
 * ```
 */
export async function runGenStream(o: GenRunOptions): Promise<GenRunSummary> {
  const sharded = o.shard !== undefined && o.shard.n > 1;
  const shard = sharded ? o.shard! : { k: 1, n: 1 };
  const written = sharded ? genShardPath(o.out, shard) : o.out;
  const journalPath = `${written}.partial`;
  const total = o.scenes.length;
  const mine = o.scenes.map((_, i) => i).filter((i) => inShard(i, shard));
  const header: ShardHeader = {
    vlm3r: GEN_SHARD,
    version: SHARD_VERSION,
    shard: [shard.k, shard.n],
    scenes: total,
    run: runSettings(o),
    command: o.command,
  };
  const summary: GenRunSummary = {
    written,
    scenes: mine.length,
    resumed: 0,
    questions: 0,
    drafts: 0,
    types: new Set(),
    tally: new SkipTally(),
    run: header.run,
  };
  for (const t of removeTemps(dirname(written), { targets: [basename(written)] })) {
    o.onNote?.(`removed ${t}, left by an interrupted run`);
  }

  // A finished shard asked to resume has nothing left to do.
  if (sharded && o.resume && await isFile(written) && !await isFile(journalPath)) {
    const done = await readShardHeader(written, GEN_SHARD);
    const diff = runDifference(done.run, header.run) ??
      (done.shard.join() !== header.shard.join() ? "shard differs" : undefined);
    if (diff) {
      throw new Error(`${written}: written by a run with other settings (${diff}); remove it`);
    }
    for await (const s of readShards1(written)) tallyLine(summary, s);
    summary.resumed = mine.length;
    o.onNote?.(`${written}: already complete (${mine.length} scenes); nothing to do`);
    return summary;
  }

  const builder = sharded ? undefined : new RecordBuilder(o.options);
  const output = sharded ? undefined : await RecordWriter.open(o.out, o.format);
  let journal: TextSink | undefined;
  try {
    const emit = async (s: SceneLine) => {
      tallyLine(summary, s);
      if (!builder || !output) return;
      const records = builder.add(s);
      summary.questions += records.length;
      o.onRecords?.(records);
      await output.write(records);
    };
    // Resume: the journal's finished scenes, lettered again; its torn last line cut off.
    let done = 0;
    if (o.resume && await isFile(journalPath)) {
      const kept = await readJournal(journalPath, header, mine, emit);
      done = kept.scenes;
      await Deno.truncate(journalPath, kept.bytes);
      journal = new TextSink(await Deno.open(journalPath, { append: true }), kept.bytes);
      summary.resumed = done;
      o.onNote?.(
        `resuming ${journalPath}: ${done} of ${mine.length} scenes already done`,
      );
    } else {
      if (await isFile(journalPath)) {
        o.onNote?.(`replacing ${journalPath}, left by an earlier run (--resume continues one)`);
      }
      journal = new TextSink(
        await Deno.open(journalPath, { write: true, create: true, truncate: true }),
      );
      await journal.write(JSON.stringify(header) + "\n");
      await journal.flush();
    }
    o.onScene?.(done, mine.length);

    const todo = mine.slice(done);
    const inputs = todo.map((i) => o.scenes[i]);
    const all = o.scenes as (SceneInput | undefined)[];
    if (o.release) { for (const i of mine.slice(0, done)) all[i] = undefined; }
    let k = 0;
    for await (
      const d of generateSceneStream(
        inputs,
        o.tasks,
        o.options,
        { workers: o.workers, scenesRoot: o.scenesRoot },
      )
    ) {
      const i = todo[k];
      const line: SceneLine = { i, ...d, video_path: inputs[k].meta.video_path };
      if (o.release) {
        // The stream reads each scene before it yields it: no longer needed here.
        (inputs as (SceneInput | undefined)[])[k] = undefined;
        all[i] = undefined;
      }
      k++;
      // Flushed per scene: a killed run loses at most the scene it was writing.
      for (const piece of sceneLinePieces(line)) await journal.write(piece);
      await journal.flush();
      await emit(line);
      o.onScene?.(done + k, mine.length);
    }
    await journal.close();
    journal = undefined;
    if (sharded) {
      await Deno.rename(journalPath, written);
    } else {
      await output!.commit();
      await Deno.remove(journalPath);
    }
    return summary;
  } catch (e) {
    // The journal stays for --resume; the half-written output goes.
    journal?.discard();
    await output?.abort();
    throw e;
  }
}

/** Counts a scene line's drafts, types and skipped tasks into `summary`. */
function tallyLine(summary: GenRunSummary, s: SceneDrafts): void {
  summary.tally.add(s);
  summary.drafts += s.drafts.length;
  for (const d of s.drafts) summary.types.add(QUESTION_TYPE.get(d.task) ?? d.task);
}

/** The scene lines of one shard file (header checked by the caller). */
async function* readShards1(path: string): AsyncGenerator<SceneLine> {
  let first = true;
  for await (const line of readLines(path)) {
    if (first) {
      first = false;
      continue;
    }
    yield JSON.parse(line.text) as SceneLine;
  }
}

/**
 * Reads a journal for resuming: checks its header against this run's, feeds its finished scene
 * lines to `emit` in order, and returns how many there were and the bytes they end at (a torn
 * last line, of a killed write, is cut off there).
 */
async function readJournal(
  path: string,
  header: ShardHeader,
  mine: readonly number[],
  emit: (s: SceneLine) => Promise<void>,
): Promise<{ scenes: number; bytes: number }> {
  let scenes = 0, bytes = 0, first = true;
  for await (const line of readLines(path)) {
    if (line.unterminated) break;
    if (first) {
      first = false;
      const h = parseShardHeader(line.text, path, GEN_SHARD);
      const diff = runDifference(h.run, header.run) ??
        (h.shard.join() !== header.shard.join()
          ? `shard: ${h.shard.join("/")} vs ${header.shard.join("/")}`
          : h.scenes !== header.scenes
          ? `scenes: ${h.scenes} vs ${header.scenes}`
          : undefined);
      if (diff) {
        throw new Error(
          `${path}: written by a run with other settings (${diff}); remove it or run without ` +
            "--resume",
        );
      }
      bytes = line.end;
      continue;
    }
    let s: SceneLine;
    try {
      s = JSON.parse(line.text);
    } catch {
      break;
    }
    if (s.i !== mine[scenes]) {
      throw new Error(
        `${path}:${line.number}: i: expected scene position ${mine[scenes]}, got ${s.i}`,
      );
    }
    await emit(s);
    scenes++;
    bytes = line.end;
  }
  if (first) throw new Error(`${path}: no header line; remove it or run without --resume`);
  return { scenes, bytes };
}

async function isFile(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => undefined))?.isFile === true;
}

/** What {@link mergeGenShards} did. */
export interface GenMergeSummary {
  header: ShardHeader;
  scenes: number;
  questions: number;
  types: Set<string>;
  tally: SkipTally;
}

/**
 * Joins the shard files 1..N of one `gen` run into its questions file: the scenes in run order,
 * lettered as one run, written as the run's format. Byte for byte the single run's output.
 *
 * @example
 * ```ts ignore
 * await mergeGenShards(["q.shard-1-of-2.jsonl", "q.shard-2-of-2.jsonl"], "q.jsonl");
 * ```
 */
export async function mergeGenShards(
  files: readonly string[],
  out: string,
  onRecords?: (records: readonly QaRecord[]) => void,
  onScene?: (done: number, total: number) => void,
): Promise<GenMergeSummary> {
  const header = await readShardHeader(files[0], GEN_SHARD);
  const run = header.run as {
    seed: string;
    distance: GenerateOptions["distance"];
    na_options: boolean;
    format: QuestionFormat;
  };
  // Lettering needs the seed and whether numerical questions get options; the rest of the
  // settings shaped the drafts, which the shards hold.
  const options: GenerateOptions = {
    seed: run.seed,
    distance: run.distance,
    caps: {},
    naOptions: run.na_options,
  };
  const builder = new RecordBuilder(options);
  const output = await RecordWriter.open(out, run.format);
  const tally = new SkipTally();
  const types = new Set<string>();
  let questions = 0, scenes = 0;
  try {
    for await (const s of readShards(files, GEN_SHARD)) {
      const line = s.value as unknown as SceneLine;
      tally.add(line);
      const records = builder.add(line);
      for (const r of records) types.add(r.question_type);
      questions += records.length;
      onRecords?.(records);
      await output.write(records);
      scenes++;
      onScene?.(scenes, header.scenes);
    }
    await output.commit();
  } catch (e) {
    await output.abort();
    throw e;
  }
  return { header, scenes, questions, types, tally };
}

/** How many scenes a shard of `total` takes (re-exported for the CLI's messages). */
export { shardSize };
