/**
 * A whole `vlm3r meta` run: find the split's scenes under a dataset's raw folder, extract each
 * scene's metadata (in worker threads when asked), skip and count the scenes that fail, and
 * write the split's two metadata files atomically (data-reference §1.1, §2.4).
 *
 * Output depends only on the inputs and the seed: scenes are listed in a fixed order and every
 * random draw comes from a stream named after its scene, so the worker count changes nothing.
 *
 * Frames and metadata switch together: every scene's frames are first written to a staging
 * folder; only when all scenes are done is the split's old metadata removed, the frame folders
 * moved into place and the new metadata written, frame metadata last. A run killed while it
 * extracts leaves the previous output untouched; one killed while it moves folders leaves no
 * metadata rather than metadata listing frames that are gone.
 *
 * Memory stays flat however many scenes: each scene's metadata goes to the staging folder
 * (`done/<position>.json`) as it finishes, and the metadata files are streamed from there.
 *
 * Shards (`--shard K/N`, see io/shard.ts): a shard extracts its part of the scenes, moves their
 * frames into place (removing the split's metadata first, as a whole run does) and writes a
 * shard file `metadata/<split>/<dataset>_meta_<split>.shard-K-of-N.jsonl`; `vlm3r merge`
 * ({@link mergeMetaShards}) then writes the split's metadata files, the bytes a whole run
 * writes (every scene is seeded by its name, so no scene depends on another).
 *
 * Resume (`--resume`): the staging folder of a killed run (its owner process gone) is taken
 * over when it was made with the same settings; its finished scenes are kept and the others
 * extracted. A run with `--resume` also keeps its staging folder when interrupted (Ctrl-C,
 * SIGTERM), so that it can be resumed; without, the folder is removed as before.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, dirname, join, resolve } from "node:path";
import {
  AtomicFile,
  parseTempName,
  processAlive,
  removeTemps,
  replaceDir,
  tempPathFor,
  writeFileAtomic,
} from "../io/atomic.ts";
import { DataError } from "../io/errors.ts";
import { WorkerPool } from "../io/pool.ts";
import {
  inShard,
  readShardHeader,
  readShards,
  runDifference,
  type Shard,
  SHARD_VERSION,
  type ShardHeader,
  shardPath,
} from "../io/shard.ts";
import { Rng } from "../geometry/rng.ts";
import { readArkitScene } from "./arkitscenes.ts";
import type { LabelMap } from "./labels.ts";
import { extractScene, type SceneReport, type SceneResult } from "./meta.ts";
import { type DatasetName, metadataPaths } from "./metadata.ts";
import { exists, type RawScene } from "./raw.ts";
import { readScannetScene } from "./scannet.ts";
import { readScannetppScene } from "./scannetpp.ts";

/** A scene to process: its name and folder. */
export interface SceneEntry {
  name: string;
  dir: string;
}

/** Options of one scene's extraction, as sent to a worker. */
export interface SceneJob {
  dataset: DatasetName;
  scene: SceneEntry;
  split: string;
  labels: LabelMap;
  frames: number;
  seed: string;
  out: string;
  /** The run's staging folder (frames wait there until the run commits). */
  stage?: string;
}

/** A scene's outcome: its metadata, or the one-line reason it was skipped. */
export type SceneOutcome =
  | { ok: true; name: string; result: SceneResult }
  | { ok: false; name: string; error: string };

/** Options of {@link runMeta}. */
export interface MetaRunOptions {
  dataset: DatasetName;
  /** The dataset's raw folder. */
  root: string;
  /** The processed folder. */
  out: string;
  split: string;
  /** Scene names to process (default: every scene found). */
  scenes?: string[];
  labels: LabelMap;
  frames: number;
  seed: string;
  workers: number;
  format: "json" | "jsonl";
  /** Stop at the first failing scene and write nothing. */
  strict: boolean;
  onProgress?: (done: number, total: number) => void;
  onFailure?: (scene: string, message: string) => void;
  /** A problem that lost data without failing a scene (one line naming file and field). */
  onWarning?: (message: string) => void;
  /**
   * Called after each step of moving the output into place (`metadata removed`, `frames of
   * <scene>`, `<file> written`): for logs, and for tests that stop a run there.
   */
  onCommitStep?: (step: string) => void | Promise<void>;
  /** This run's shard of the scenes (absent or N = 1: all). */
  shard?: Shard;
  /** Take over the staging folder of a killed run with the same settings. */
  resume?: boolean;
  /** The command line, recorded in a shard file's header. */
  command?: string;
  /** Notes for the user (a run resumed, a shard already complete). */
  onNote?: (message: string) => void;
}

/** What {@link runMeta} did. */
export interface MetaRunSummary {
  dataset: DatasetName;
  split: string;
  scenes: number;
  failed: { scene: string; message: string }[];
  reports: SceneReport[];
  /** The files written (none when a strict run stopped). */
  written: string[];
  stoppedEarly: boolean;
  /** Every warning, as passed to `onWarning`. */
  warnings: string[];
  /** Temporary folders an interrupted earlier run had left, removed before this one. */
  removedTemps: string[];
  /** Scenes in the whole run (`scenes` is this shard's part). */
  total: number;
  /** Scenes a resumed run found finished. */
  resumed: number;
}

/** The raw-data folder of each ARKitScenes split name. */
const ARKIT_FOLDERS: Record<string, string> = { train: "Training", val: "Validation" };

/**
 * How each dataset names its scenes: a folder named so is a scene even when its marker file
 * is missing (it then fails, saying which file), never passed over.
 */
const SCENE_NAME: Record<DatasetName, RegExp> = {
  scannet: /^scene\d{4}_\d{2}$/,
  scannetpp: /^[0-9a-f]{10}$/,
  arkitscenes: /^\d+$/,
};

/**
 * The split name of a scene-list file, as the reference derives it: the last `_`-separated
 * token of the file name (`scannetv2_val.txt` -> `val`).
 *
 * @example
 * ```ts
 * if (splitFromListFile("splits/scannetv2_val.txt") !== "val") throw new Error();
 * if (splitFromListFile("nvs_sem_train.txt") !== "train") throw new Error();
 * ```
 */
export function splitFromListFile(file: string): string {
  const stem = basename(file).replace(/\.[^.]*$/, "");
  return stem.split("_").pop() || stem;
}

/**
 * Reads a scene-list file: one name per line; blank lines and `#` comments are skipped.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/l.txt`, "scene0000_00\n\n# x\nscene0001_00\n");
 * if ((await readSceneList(`${dir}/l.txt`)).join() !== "scene0000_00,scene0001_00") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readSceneList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataError(file, "file", "an existing scene list", "none");
    }
    throw e;
  }
  const names: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const name = line.trim();
    if (name === "" || name.startsWith("#")) return;
    // A name is a folder under --root, never a path out of it.
    if (name === "." || name === ".." || /[\/\\]/.test(name)) {
      throw new DataError(file, `line ${i + 1}`, "a scene name (no '/', '\\' or '..')", name);
    }
    names.push(name);
  });
  return names;
}

/**
 * The scenes of a split under `root`: the listed names (in list order), or every scene folder
 * found (sorted). ARKitScenes keeps one scan per visit when `metadata.csv` is present, chosen
 * with the seed (the reference's rule, data-reference §2.3.2).
 *
 * A scene folder is one holding the dataset's marker file (ScanNet `<scene>.txt`, ScanNet++
 * `scans/`, ARKitScenes `<id>_3dod_annotation.json`) or named as the dataset names scenes
 * (`sceneXXXX_YY`, ten hex digits, digits): the latter is listed even without its marker, so
 * it fails saying what is missing. Symlinked folders are followed. Any other folder is passed
 * to `onWarning` as ignored; hidden ones (`.name`, temporary output among them) are skipped.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/scene0001_00`);
 * await Deno.writeTextFile(`${dir}/scene0001_00/scene0001_00.txt`, "");
 * const s = await listScenes("scannet", dir, "val", undefined, "0");
 * if (s.length !== 1 || s[0].name !== "scene0001_00") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listScenes(
  dataset: DatasetName,
  root: string,
  split: string,
  names: string[] | undefined,
  seed: string,
  onWarning?: (message: string) => void,
): Promise<SceneEntry[]> {
  const rootStat = await Deno.stat(root).catch(() => undefined);
  if (!rootStat) throw new DataError(root, "root", "an existing folder", "none");
  if (!rootStat.isDirectory) throw new DataError(root, "root", "a folder", "a file");
  let base = root;
  if (dataset === "scannet" && await exists(join(root, "scans"))) base = join(root, "scans");
  if (dataset === "scannetpp" && await exists(join(root, "data"))) base = join(root, "data");
  if (dataset === "arkitscenes") {
    const folder = join(root, ARKIT_FOLDERS[split] ?? split);
    if (await exists(folder)) base = folder;
  }
  if (names) {
    const seen = new Set<string>();
    const listed: SceneEntry[] = [];
    for (const name of names) {
      const dir = join(base, name);
      if (seen.has(name)) {
        onWarning?.(new DataError(dir, "scene", "once in the list", "it again; done once").message);
        continue;
      }
      seen.add(name);
      listed.push({ name, dir });
    }
    return listed;
  }

  const marker = (name: string) =>
    dataset === "scannet"
      ? join(base, name, `${name}.txt`)
      : dataset === "scannetpp"
      ? join(base, name, "scans")
      : join(base, name, `${name}_3dod_annotation.json`);
  const found: string[] = [];
  for await (const e of Deno.readDir(base)) {
    if (e.name.startsWith(".")) continue;
    const dir = join(base, e.name);
    // A symlink counts as what it points to; a broken one named like a scene fails later.
    const isDir = e.isDirectory ||
      (e.isSymlink && (await Deno.stat(dir).catch(() => undefined))?.isDirectory === true);
    if (SCENE_NAME[dataset].test(e.name) || (isDir && await exists(marker(e.name)))) {
      found.push(e.name);
    } else if (isDir) {
      onWarning?.(
        new DataError(
          dir,
          "scene",
          `a ${dataset} scene folder (with ${marker(e.name).slice(dir.length + 1)})`,
          "another folder; ignored",
        ).message,
      );
    }
  }
  found.sort();
  if (dataset === "arkitscenes") {
    const csv = join(root, "metadata.csv");
    if (await exists(csv)) {
      const picked = oneScanPerVisit(
        await Deno.readTextFile(csv),
        csv,
        ARKIT_FOLDERS[split] ?? split,
        new Set(found),
        seed,
      );
      return picked.map((name) => ({ name, dir: join(base, name) }));
    }
  }
  return found.map((name) => ({ name, dir: join(base, name) }));
}

/**
 * One scan per visit from ARKitScenes' `metadata.csv` (`video_id`, `visit_id`, `fold`), among
 * the scans on disk: visits in CSV order, each choice drawn from a stream named after the
 * visit. Scans without a visit are their own group (the reference lumps them under "nan").
 *
 * @example
 * ```ts
 * const csv = "video_id,visit_id,fold\n1,A,Validation\n2,A,Validation\n3,B,Validation\n4,C,Training\n";
 * const got = oneScanPerVisit(csv, "metadata.csv", "Validation", new Set(["1", "2", "3", "4"]), "0");
 * if (got.length !== 2 || !got.includes("3") || got.includes("4")) throw new Error(got.join());
 * ```
 */
export function oneScanPerVisit(
  csv: string,
  file: string,
  fold: string,
  onDisk: Set<string>,
  seed: string,
): string[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== "");
  const head = lines[0]?.split(",").map((s) => s.trim()) ?? [];
  const [iv, ivisit, ifold] = ["video_id", "visit_id", "fold"].map((c) => head.indexOf(c));
  if (iv < 0 || ivisit < 0 || ifold < 0) {
    throw new DataError(file, "header", "columns video_id, visit_id, fold", head.join(","));
  }
  const groups = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const cells = line.split(",").map((s) => s.trim());
    const video = cells[iv], visit = cells[ivisit];
    if (cells[ifold] !== fold || !onDisk.has(video)) continue;
    const key = visit === "" || visit === "NA" ? `video:${video}` : visit;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(video);
  }
  const rng = new Rng(`vlm3r-meta/${seed}`).child("arkitscenes-visits");
  return [...groups].map(([visit, scans]) => scans[rng.child(visit).int(0, scans.length - 1)]);
}

/**
 * Opens a scene with its dataset's reader.
 *
 * @example
 * ```ts ignore
 * const raw = await openScene("scannet", "scans/scene0000_00");
 * ```
 */
export function openScene(dataset: DatasetName, dir: string): Promise<RawScene> {
  return dataset === "scannet"
    ? readScannetScene(dir)
    : dataset === "scannetpp"
    ? readScannetppScene(dir)
    : readArkitScene(dir);
}

/**
 * Extracts one scene; every failure becomes a one-line reason instead of an exception, so one
 * bad scene never stops the others.
 *
 * @example
 * ```ts
 * import { DEFAULT_LABELS } from "./labels.ts";
 * const r = await processScene({
 *   dataset: "scannet", scene: { name: "scene9999_00", dir: "/nonexistent/scene9999_00" }, split: "val",
 *   labels: DEFAULT_LABELS.scannet, frames: 32, seed: "0", out: "/tmp/unused",
 * });
 * if (r.ok || !r.error.includes("scene9999_00")) throw new Error();
 * ```
 */
export async function processScene(job: SceneJob): Promise<SceneOutcome> {
  const { name, dir } = job.scene;
  try {
    const stat = await Deno.stat(dir).catch(() => undefined);
    if (!stat) {
      const link = await Deno.lstat(dir).catch(() => undefined);
      const got = link?.isSymlink ? `a broken symlink to ${await Deno.readLink(dir)}` : "none";
      throw new DataError(dir, "scene", "an existing scene folder", got);
    }
    if (!stat.isDirectory) throw new DataError(dir, "scene", "a scene folder", "a file");
    const raw = await openScene(job.dataset, dir);
    try {
      const result = await extractScene(raw, job);
      return { ok: true, name, result };
    } finally {
      raw.close();
    }
  } catch (e) {
    const message = e instanceof DataError
      ? e.message
      : `${dir}: ${e instanceof Error ? e.message : String(e)}`;
    return { ok: false, name, error: message };
  }
}

/** The kind name of meta shard files. */
export const META_SHARD = "meta-shard";

/**
 * Runs metadata extraction over a split and writes
 * `<out>/metadata/<split>/<dataset>_metadata_<split>.json` and
 * `<dataset>_frame_metadata_<split>.json` (`.jsonl`, one scene per line, with
 * `format: "jsonl"`), and `<dataset>_meta_report_<split>.json`: per scene the frames read,
 * dropped for invalid poses, sampled and with rendered 2D boxes, the warnings, and the failed
 * scenes. The sampled frames go to `<out>/color|depth/<split>/<scene>/`, moved into place with
 * the metadata (see the module notes). Temporary folders an interrupted run left for these
 * scenes are removed first; a strict run that stops leaves `out` as it was. A shard writes its
 * shard file instead of the metadata files (see the module notes).
 *
 * @example
 * ```ts ignore
 * const summary = await runMeta({ dataset: "scannet", root: "data/synth", out: "processed", split: "val",
 *   labels: DEFAULT_LABELS.scannet, frames: 32, seed: "0", workers: 2, format: "json", strict: false });
 * ```
 */
export async function runMeta(options: MetaRunOptions): Promise<MetaRunSummary> {
  const { dataset, split, out } = options;
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  const entries = await listScenes(
    dataset,
    options.root,
    split,
    options.scenes,
    options.seed,
    warn,
  );
  const shard = options.shard && options.shard.n > 1 ? options.shard : undefined;
  const mine = entries.map((_, i) => i).filter((i) => !shard || inShard(i, shard));
  const summary: MetaRunSummary = {
    dataset,
    split,
    scenes: mine.length,
    failed: [],
    reports: [],
    written: [],
    stoppedEarly: false,
    warnings,
    removedTemps: [],
    total: entries.length,
    resumed: 0,
  };
  // Nothing found (a wrong --root): the output, and any earlier metadata in it, stays as it is.
  if (entries.length === 0) return summary;

  const dirs = metaDirs(out, dataset, split, shard);
  const names = mine.map((i) => entries[i].name);
  const settings = metaSettings(options, entries);
  if (shard && options.resume && await isFile(dirs.shardFile!)) {
    const h = await readShardHeader(dirs.shardFile!, META_SHARD);
    const diff = runDifference(h.run, settings);
    if (diff) {
      throw new Error(`${dirs.shardFile}: written with other settings (${diff}); remove it`);
    }
    options.onNote?.(`${dirs.shardFile}: already complete (${mine.length} scenes); nothing to do`);
    summary.resumed = mine.length;
    summary.written = [dirs.shardFile!];
    return summary;
  }
  const adopted = options.resume ? await adoptStage(out, dirs.stageName, settings) : undefined;
  // Taken over first (renamed to this process's name), so that the cleanup below spares it.
  const stage = tempPathFor(join(out, dirs.stageName));
  if (adopted) await Deno.rename(adopted, stage);
  summary.removedTemps = [
    ...removeTemps(out, { targets: [dirs.stageName] }),
    ...removeTemps(dirs.color, { targets: names }),
    ...removeTemps(dirs.depth, { targets: names }),
    ...removeTemps(dirs.metadata, { targets: dirs.files }),
  ];
  const created = await missingFolders(out);
  await Deno.mkdir(out, { recursive: true });
  if (!adopted) {
    await Deno.mkdir(join(stage, "done"), { recursive: true });
    await writeFileAtomic(join(stage, "run.json"), JSON.stringify(settings) + "\n");
  }
  let committed = false;
  try {
    const done = adopted ? await finishedScenes(stage, mine, entries) : new Map();
    summary.resumed = done.size;
    if (adopted) {
      options.onNote?.(
        `resuming ${basename(adopted)}: ${done.size} of ${mine.length} scenes already done`,
      );
    }
    const { failed, reports } = await processAll(
      entries,
      mine.filter((i) => !done.has(i)),
      { ...options, stage },
      warn,
      done.size,
      mine.length,
    );
    summary.failed = mine.flatMap((i) => {
      const f = failed.get(i);
      return f ? [{ scene: entries[i].name, message: f }] : [];
    });
    summary.stoppedEarly = options.strict && failed.size > 0;
    if (summary.stoppedEarly) return summary;
    const staged = mine.flatMap((i) =>
      failed.has(i) ? [] : [{ name: entries[i].name, load: () => readStaged(stage, i) }]
    );
    summary.reports = mine.flatMap((i) => {
      const r = reports.get(i) ?? done.get(i);
      return r ? [r] : [];
    });
    summary.written = shard
      ? await commitShard(staged, mine, entries, failed, stage, dirs, options, settings)
      : await commit(staged, summary.failed, summary.reports, stage, dirs, options);
    committed = true;
    return summary;
  } finally {
    // With --resume, a run that stops before the end keeps what it staged for the next one.
    if (committed || !options.resume) {
      await Deno.remove(stage, { recursive: true }).catch(() => {});
    }
    // Folders this run created for output it then did not write (only if still empty).
    if (!committed) { for (const d of created) await Deno.remove(d).catch(() => {}); }
  }
}

/** The settings a staging folder and a shard file record, compared by resume and merge. */
function metaSettings(o: MetaRunOptions, entries: readonly SceneEntry[]): Record<string, unknown> {
  const sha = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("hex");
  return {
    dataset: o.dataset,
    split: o.split,
    frames: o.frames,
    seed: o.seed,
    format: o.format,
    labels: sha(o.labels),
    scenes: sha(entries.map((e) => e.name)),
  };
}

/**
 * The staging folder (`.<target>.tmp-<pid>-<n>` in `out`) a killed run with the same settings
 * left, newest first; undefined when there is none. Its owner must be gone.
 */
async function adoptStage(
  out: string,
  target: string,
  settings: Record<string, unknown>,
): Promise<string | undefined> {
  const found: { path: string; mtime: number }[] = [];
  try {
    for await (const e of Deno.readDir(out)) {
      const t = parseTempName(e.name);
      if (!e.isDirectory || t?.target !== target || processAlive(t.pid)) continue;
      const path = join(out, e.name);
      const run = await Deno.readTextFile(join(path, "run.json")).catch(() => undefined);
      let same = false;
      try {
        same = run !== undefined && runDifference(JSON.parse(run), settings) === undefined;
      } catch {
        // Unreadable: not adopted (and removed as a leftover).
      }
      if (same) found.push({ path, mtime: (await Deno.stat(path)).mtime?.getTime() ?? 0 });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  found.sort((a, b) => b.mtime - a.mtime);
  return found[0]?.path;
}

/**
 * The positions of `mine` whose staged metadata is complete, with their reports; the partial
 * frames of the others are removed.
 */
async function finishedScenes(
  stage: string,
  mine: readonly number[],
  entries: readonly SceneEntry[],
): Promise<Map<number, SceneReport>> {
  const done = new Map<number, SceneReport>();
  for (const i of mine) {
    const staged = await readStaged(stage, i).catch(() => undefined);
    if (staged) done.set(i, staged.report);
    else {
      for (const kind of ["color", "depth"]) {
        await Deno.remove(join(stage, kind, entries[i].name), { recursive: true }).catch(() => {});
      }
    }
  }
  return done;
}

/** A finished scene's metadata, as staged. */
async function readStaged(stage: string, i: number): Promise<SceneResult> {
  return JSON.parse(await Deno.readTextFile(join(stage, "done", `${i}.json`))) as SceneResult;
}

async function isFile(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => undefined))?.isFile === true;
}

/** Where a run's output and its temporary names go. */
interface MetaDirs {
  color: string;
  depth: string;
  metadata: string;
  /** The metadata files of the split, in both formats, and the report. */
  files: string[];
  /**
   * Target name of the staging folder under `out` (`.meta-<dataset>-<split>.tmp-<pid>-<n>`,
   * `meta-<dataset>-<split>-shard-K-of-N` for a shard).
   */
  stageName: string;
  /** A shard's file. */
  shardFile?: string;
}

function metaDirs(out: string, dataset: DatasetName, split: string, shard?: Shard): MetaDirs {
  const paths = metadataPaths(out, dataset, split);
  const scenes = basename(paths.scenes), frames = basename(paths.frames);
  return {
    color: join(out, "color", split),
    depth: join(out, "depth", split),
    metadata: paths.dir,
    files: [
      scenes,
      frames,
      scenes.replace(/\.json$/, ".jsonl"),
      frames.replace(/\.json$/, ".jsonl"),
      `${dataset}_meta_report_${split}.json`,
    ],
    stageName: `meta-${dataset}-${split}` + (shard ? `-shard-${shard.k}-of-${shard.n}` : ""),
    shardFile: shard
      ? shardPath(join(paths.dir, `${dataset}_meta_${split}.jsonl`), shard)
      : undefined,
  };
}

/**
 * Removes this process's temporary output of a `meta` run (the staging folder, folders being
 * swapped, metadata being written): what an interrupt handler calls just before exiting. With
 * `keepStage` (a `--resume` run) the staging folder stays, for the next run to take over.
 *
 * @example
 * ```ts
 * const out = await Deno.makeTempDir();
 * await Deno.mkdir(`${out}/.meta-scannet-val.tmp-${Deno.pid}-0/color`, { recursive: true });
 * if (removeOwnMetaTemps(out, "scannet", "val").length !== 1) throw new Error();
 * await Deno.remove(out);
 * ```
 */
export function removeOwnMetaTemps(
  out: string,
  dataset: DatasetName,
  split: string,
  keepStage = false,
): string[] {
  const d = metaDirs(out, dataset, split);
  return [
    ...(keepStage ? [] : removeTemps(out, { owner: "self" })),
    ...[d.color, d.depth, d.metadata].flatMap((dir) => removeTemps(dir, { owner: "self" })),
  ];
}

/** The folders `mkdir -p path` would create, deepest first. */
async function missingFolders(path: string): Promise<string[]> {
  const missing: string[] = [];
  for (let p = resolve(path); !(await exists(p)); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  return missing;
}

/**
 * Extracts the scenes at positions `todo` of `entries` (in workers when asked), staging each
 * finished scene's metadata as `<stage>/done/<position>.json`; returns the failures and the
 * reports by position. A strict run stops taking scenes at a failure.
 */
async function processAll(
  entries: readonly SceneEntry[],
  todo: readonly number[],
  options: MetaRunOptions & { stage: string },
  warn: (message: string) => void,
  doneBefore: number,
  total: number,
): Promise<{ failed: Map<number, string>; reports: Map<number, SceneReport> }> {
  const jobs: SceneJob[] = todo.map((i) => ({
    dataset: options.dataset,
    scene: entries[i],
    split: options.split,
    labels: options.labels,
    frames: options.frames,
    seed: options.seed,
    out: options.out,
    stage: options.stage,
  }));
  const failed = new Map<number, string>();
  const reports = new Map<number, SceneReport>();
  let done = doneBefore, stop = false;
  const settle = async (k: number, o: SceneOutcome) => {
    if (stop) return;
    if (o.ok) {
      await writeFileAtomic(
        join(options.stage, "done", `${todo[k]}.json`),
        JSON.stringify(o.result),
      );
      reports.set(todo[k], o.result.report);
    }
    options.onProgress?.(++done, total);
    if (o.ok) {
      for (const w of o.result.report.warnings) warn(w);
    } else {
      failed.set(todo[k], o.error);
      options.onFailure?.(o.name, o.error);
      if (options.strict) stop = true;
    }
  };
  options.onProgress?.(done, total);
  if (options.workers <= 1 || jobs.length <= 1) {
    for (let k = 0; k < jobs.length && !stop; k++) await settle(k, await processScene(jobs[k]));
    return { failed, reports };
  }
  const size = Math.min(options.workers, jobs.length);
  const pool = new WorkerPool<never, SceneJob, SceneOutcome>(
    new URL("./meta_worker.ts", import.meta.url),
    size,
  );
  try {
    // One runner per worker takes the next scene, so a strict stop stops taking them.
    let next = 0;
    await Promise.all(Array.from({ length: size }, async () => {
      while (!stop && next < jobs.length) {
        const k = next++, job = jobs[k];
        await settle(
          k,
          await pool.run(job).catch((e) => ({
            ok: false as const,
            name: job.scene.name,
            error: `${job.scene.dir}: ${e instanceof Error ? e.message : String(e)}`,
          })),
        );
      }
    }));
  } finally {
    pool.close();
  }
  return { failed, reports };
}

/** A finished scene of a run, its metadata read when needed. */
interface StagedScene {
  name: string;
  load: () => Promise<SceneResult>;
}

/**
 * Moves the staged frames into place with their metadata: the old metadata of the split goes
 * first, so that no metadata file ever lists frames that a folder swap removed; the new one is
 * written last, frame metadata after scene metadata. Returns the files written.
 */
async function commit(
  oks: readonly StagedScene[],
  failed: { scene: string; message: string }[],
  reports: readonly SceneReport[],
  stage: string,
  dirs: MetaDirs,
  options: MetaRunOptions,
): Promise<string[]> {
  const step = async (name: string) => await options.onCommitStep?.(name);
  await removeSplitMetadata(dirs);
  await step("metadata removed");
  for (const o of oks) {
    await replaceDir(join(stage, "color", o.name), join(dirs.color, o.name));
    await replaceDir(join(stage, "depth", o.name), join(dirs.depth, o.name));
    await step(`frames of ${o.name}`);
  }
  return await writeMetadataFiles(oks, failed, reports, dirs, options, step);
}

/** Removes the split's metadata files (both formats and the report), if any. */
async function removeSplitMetadata(dirs: MetaDirs): Promise<void> {
  await Deno.mkdir(dirs.metadata, { recursive: true });
  await Deno.mkdir(dirs.color, { recursive: true });
  await Deno.mkdir(dirs.depth, { recursive: true });
  for (const f of dirs.files) {
    await Deno.remove(join(dirs.metadata, f)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}

/**
 * Writes the report, then the scene and frame metadata of `oks` (streamed: one scene's metadata
 * in memory at a time), each through a temporary file renamed into place, frame metadata last.
 */
async function writeMetadataFiles(
  oks: readonly StagedScene[],
  failed: { scene: string; message: string }[],
  reports: readonly SceneReport[],
  dirs: MetaDirs,
  options: Pick<MetaRunOptions, "dataset" | "split" | "format">,
  step: (name: string) => Promise<void>,
): Promise<string[]> {
  const { dataset, split } = options;
  const jsonl = options.format === "jsonl";
  const [scenesFile, framesFile] = (jsonl ? dirs.files.slice(2, 4) : dirs.files.slice(0, 2))
    .map((f) => join(dirs.metadata, f));
  const reportFile = join(dirs.metadata, dirs.files[4]);
  // The per-scene report (DECISIONS 3: dropped frames are counted per scene) and the failures.
  await writeFileAtomic(
    reportFile,
    JSON.stringify({ dataset, split, scenes: reports, failed }, null, 2) + "\n",
  );
  await step(`${basename(reportFile)} written`);
  const scenesOut = await AtomicFile.open(scenesFile);
  const framesOut = await AtomicFile.open(framesFile);
  try {
    if (jsonl) {
      for (const o of oks) {
        const r = await o.load();
        await scenesOut.write(JSON.stringify(r.scene) + "\n");
        await framesOut.write(JSON.stringify(r.frames) + "\n");
      }
    } else {
      // Indent 4, as the reference writes its metadata; keys in JSON.stringify's order.
      let first = true;
      for (const o of jsonObjectOrder(oks, (o) => o.name)) {
        const r = await o.load();
        const sep = first ? "{\n    " : ",\n    ";
        first = false;
        const key = JSON.stringify(o.name);
        await scenesOut.write(`${sep}${key}: ${indented(r.scene)}`);
        await framesOut.write(`${sep}${key}: ${indented(r.frames)}`);
      }
      for (const f of [scenesOut, framesOut]) await f.write(first ? "{}\n" : "\n}\n");
    }
    await scenesOut.commit();
    await step(`${basename(scenesFile)} written`);
    await framesOut.commit();
  } catch (e) {
    await scenesOut.abort();
    await framesOut.abort();
    throw e;
  }
  await step(`${basename(framesFile)} written`);
  return [scenesFile, framesFile, reportFile];
}

/** `JSON.stringify(value, null, 4)` as the value of a key at depth 1. */
function indented(value: unknown): string {
  return JSON.stringify(value, null, 4).replaceAll("\n", "\n    ");
}

/**
 * Items in the order JSON.stringify writes the keys of an object built by inserting them in
 * turn: array-index keys (canonical integers below 2^32 - 1, such as ARKitScenes' video ids)
 * first, ascending, then the others in insertion order.
 *
 * @example
 * ```ts
 * const names = ["b", "42", "a", "7", "007"];
 * const obj = Object.fromEntries(names.map((n) => [n, 0]));
 * if (jsonObjectOrder(names, (n) => n).join() !== Object.keys(obj).join()) throw new Error();
 * ```
 */
export function jsonObjectOrder<T>(items: readonly T[], key: (item: T) => string): T[] {
  const isIndex = (k: string) => {
    const n = Number(k);
    return Number.isInteger(n) && n >= 0 && n < 4294967295 && String(n) === k;
  };
  const index = items.filter((x) => isIndex(key(x)))
    .sort((a, b) => Number(key(a)) - Number(key(b)));
  return [...index, ...items.filter((x) => !isIndex(key(x)))];
}

/**
 * A shard's end: the split's metadata removed (no metadata may list frames being replaced),
 * its scenes' frames moved into place, then its shard file written: a header with the run's
 * settings, and one line per scene of the shard (its position, name, and metadata or failure).
 */
async function commitShard(
  oks: readonly StagedScene[],
  mine: readonly number[],
  entries: readonly SceneEntry[],
  failed: Map<number, string>,
  stage: string,
  dirs: MetaDirs,
  options: MetaRunOptions,
  settings: Record<string, unknown>,
): Promise<string[]> {
  const step = async (name: string) => await options.onCommitStep?.(name);
  await removeSplitMetadata(dirs);
  await step("metadata removed");
  for (const o of oks) {
    await replaceDir(join(stage, "color", o.name), join(dirs.color, o.name));
    await replaceDir(join(stage, "depth", o.name), join(dirs.depth, o.name));
    await step(`frames of ${o.name}`);
  }
  const header: ShardHeader = {
    vlm3r: META_SHARD,
    version: SHARD_VERSION,
    shard: [options.shard!.k, options.shard!.n],
    scenes: entries.length,
    run: settings,
    command: options.command,
  };
  const file = await AtomicFile.open(dirs.shardFile!);
  try {
    await file.write(JSON.stringify(header) + "\n");
    for (const i of mine) {
      const name = entries[i].name;
      const error = failed.get(i);
      const line = error !== undefined
        ? { i, name, ok: false, error }
        : { i, name, ok: true, ...await readStaged(stage, i) };
      await file.write(JSON.stringify(line) + "\n");
    }
    await file.commit();
  } catch (e) {
    await file.abort();
    throw e;
  }
  await step(`${basename(dirs.shardFile!)} written`);
  return [dirs.shardFile!];
}

/** What {@link mergeMetaShards} did. */
export interface MetaMergeSummary {
  dataset: DatasetName;
  split: string;
  scenes: number;
  ok: number;
  failed: { scene: string; message: string }[];
  written: string[];
}

/**
 * Joins the shard files 1..N of one `meta` run (their frames already in place under `out`)
 * into the split's metadata files, as the whole run writes them.
 *
 * @example
 * ```ts ignore
 * await mergeMetaShards(["processed/metadata/val/scannet_meta_val.shard-1-of-2.jsonl",
 *   "processed/metadata/val/scannet_meta_val.shard-2-of-2.jsonl"], "processed");
 * ```
 */
export async function mergeMetaShards(
  files: readonly string[],
  out: string,
): Promise<MetaMergeSummary> {
  // First pass: where each scene's line is, and the failures; the metadata is read again when
  // written (JSON key order may differ from the scene order).
  const oks: StagedScene[] = [];
  const failed: { scene: string; message: string }[] = [];
  const reports: SceneReport[] = [];
  for await (const line of readShards(files, META_SHARD)) {
    const v = line.value as { name: string; ok: boolean; error?: string; report?: SceneReport };
    if (!v.ok) {
      failed.push({ scene: v.name, message: String(v.error) });
      continue;
    }
    reports.push(v.report!);
    const { file, start, end } = line;
    oks.push({ name: v.name, load: () => readRange(file, start, end) });
  }
  const header = (await readShardHeader(files[0], META_SHARD)).run;
  const dataset = header.dataset as DatasetName, split = String(header.split);
  const format = header.format as "json" | "jsonl";
  const dirs = metaDirs(out, dataset, split);
  await removeSplitMetadata(dirs);
  const written = await writeMetadataFiles(
    oks,
    failed,
    reports,
    dirs,
    { dataset, split, format },
    async () => {},
  );
  return {
    dataset,
    split,
    scenes: oks.length + failed.length,
    ok: oks.length,
    failed,
    written,
  };
}

/** The scene metadata of one shard line, read back by its byte range. */
async function readRange(file: string, start: number, end: number): Promise<SceneResult> {
  const f = await Deno.open(file, { read: true });
  try {
    await f.seek(start, Deno.SeekMode.Start);
    const buf = new Uint8Array(end - start);
    for (let at = 0; at < buf.length;) {
      const n = await f.read(buf.subarray(at));
      if (n === null) throw new Error(`${file}: ends inside the line at byte ${start}`);
      at += n;
    }
    const v = JSON.parse(new TextDecoder().decode(buf));
    return { scene: v.scene, frames: v.frames, report: v.report };
  } finally {
    f.close();
  }
}
