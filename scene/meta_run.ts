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
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { removeTemps, replaceDir, tempPathFor, writeFileAtomic } from "../io/atomic.ts";
import { DataError } from "../io/errors.ts";
import { WorkerPool } from "../io/pool.ts";
import { Rng } from "../geometry/rng.ts";
import { readArkitScene } from "./arkitscenes.ts";
import type { LabelMap } from "./labels.ts";
import { extractScene, type SceneReport, type SceneResult } from "./meta.ts";
import {
  type DatasetName,
  type FrameMetaFile,
  metadataPaths,
  type SceneMetaFile,
} from "./metadata.ts";
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

/**
 * Runs metadata extraction over a split and writes
 * `<out>/metadata/<split>/<dataset>_metadata_<split>.json` and
 * `<dataset>_frame_metadata_<split>.json` (`.jsonl`, one scene per line, with
 * `format: "jsonl"`), and `<dataset>_meta_report_<split>.json`: per scene the frames read,
 * dropped for invalid poses, sampled and with rendered 2D boxes, the warnings, and the failed
 * scenes. The sampled frames go to `<out>/color|depth/<split>/<scene>/`, moved into place with
 * the metadata (see the module notes). Temporary folders an interrupted run left for these
 * scenes are removed first; a strict run that stops leaves `out` as it was.
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
  const summary: MetaRunSummary = {
    dataset,
    split,
    scenes: entries.length,
    failed: [],
    reports: [],
    written: [],
    stoppedEarly: false,
    warnings,
    removedTemps: [],
  };
  // Nothing found (a wrong --root): the output, and any earlier metadata in it, stays as it is.
  if (entries.length === 0) return summary;

  const dirs = metaDirs(out, dataset, split);
  const names = entries.map((e) => e.name);
  summary.removedTemps = [
    ...removeTemps(out, { targets: [dirs.stageName] }),
    ...removeTemps(dirs.color, { targets: names }),
    ...removeTemps(dirs.depth, { targets: names }),
    ...removeTemps(dirs.metadata, { targets: dirs.files }),
  ];
  const created = await missingFolders(out);
  await Deno.mkdir(out, { recursive: true });
  const stage = tempPathFor(join(out, dirs.stageName));
  await Deno.mkdir(stage);
  let committed = false;
  try {
    const outcomes = await processAll(entries, { ...options, stage }, warn);
    const failed = outcomes.filter((o): o is SceneOutcome & { ok: false } => o?.ok === false)
      .map((o) => ({ scene: o.name, message: o.error }));
    const oks = outcomes.filter((o): o is SceneOutcome & { ok: true } => o?.ok === true);
    summary.failed = failed;
    summary.reports = oks.map((o) => o.result.report);
    summary.stoppedEarly = options.strict && failed.length > 0;
    if (summary.stoppedEarly) return summary;
    summary.written = await commit(oks, failed, stage, dirs, options);
    committed = true;
    return summary;
  } finally {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
    // Folders this run created for output it then did not write (only if still empty).
    if (!committed) { for (const d of created) await Deno.remove(d).catch(() => {}); }
  }
}

/** Where a run's output and its temporary names go. */
interface MetaDirs {
  color: string;
  depth: string;
  metadata: string;
  /** The metadata files of the split, in both formats, and the report. */
  files: string[];
  /** Target name of the staging folder under `out` (`.meta-<dataset>-<split>.tmp-<pid>-<n>`). */
  stageName: string;
}

function metaDirs(out: string, dataset: DatasetName, split: string): MetaDirs {
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
    stageName: `meta-${dataset}-${split}`,
  };
}

/**
 * Removes this process's temporary output of a `meta` run (the staging folder, folders being
 * swapped, metadata being written): what an interrupt handler calls just before exiting.
 *
 * @example
 * ```ts
 * const out = await Deno.makeTempDir();
 * await Deno.mkdir(`${out}/.meta-scannet-val.tmp-${Deno.pid}-0/color`, { recursive: true });
 * if (removeOwnMetaTemps(out, "scannet", "val").length !== 1) throw new Error();
 * await Deno.remove(out);
 * ```
 */
export function removeOwnMetaTemps(out: string, dataset: DatasetName, split: string): string[] {
  const d = metaDirs(out, dataset, split);
  return [out, d.color, d.depth, d.metadata].flatMap((dir) => removeTemps(dir, { owner: "self" }));
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

/** Extracts every scene (in workers when asked); a strict run stops taking scenes at a failure. */
async function processAll(
  entries: SceneEntry[],
  options: MetaRunOptions & { stage: string },
  warn: (message: string) => void,
): Promise<(SceneOutcome | undefined)[]> {
  const jobs: SceneJob[] = entries.map((scene) => ({
    dataset: options.dataset,
    scene,
    split: options.split,
    labels: options.labels,
    frames: options.frames,
    seed: options.seed,
    out: options.out,
    stage: options.stage,
  }));
  const outcomes: (SceneOutcome | undefined)[] = new Array(jobs.length);
  let done = 0, stop = false;
  const settle = (k: number, o: SceneOutcome) => {
    if (stop) return;
    outcomes[k] = o;
    options.onProgress?.(++done, jobs.length);
    if (o.ok) {
      for (const w of o.result.report.warnings) warn(w);
    } else {
      options.onFailure?.(o.name, o.error);
      if (options.strict) stop = true;
    }
  };
  options.onProgress?.(0, jobs.length);
  if (options.workers <= 1 || jobs.length <= 1) {
    for (let k = 0; k < jobs.length && !stop; k++) settle(k, await processScene(jobs[k]));
    return outcomes;
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
        settle(
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
  return outcomes;
}

/**
 * Moves the staged frames into place with their metadata: the old metadata of the split goes
 * first, so that no metadata file ever lists frames that a folder swap removed; the new one is
 * written last, frame metadata after scene metadata. Returns the files written.
 */
async function commit(
  oks: (SceneOutcome & { ok: true })[],
  failed: { scene: string; message: string }[],
  stage: string,
  dirs: MetaDirs,
  options: MetaRunOptions,
): Promise<string[]> {
  const { dataset, split } = options;
  const step = async (name: string) => await options.onCommitStep?.(name);
  await Deno.mkdir(dirs.metadata, { recursive: true });
  await Deno.mkdir(dirs.color, { recursive: true });
  await Deno.mkdir(dirs.depth, { recursive: true });
  for (const f of dirs.files) {
    await Deno.remove(join(dirs.metadata, f)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  await step("metadata removed");
  for (const o of oks) {
    await replaceDir(join(stage, "color", o.name), join(dirs.color, o.name));
    await replaceDir(join(stage, "depth", o.name), join(dirs.depth, o.name));
    await step(`frames of ${o.name}`);
  }

  const jsonl = options.format === "jsonl";
  const [scenesFile, framesFile] = (jsonl ? dirs.files.slice(2, 4) : dirs.files.slice(0, 2))
    .map((f) => join(dirs.metadata, f));
  const reportFile = join(dirs.metadata, dirs.files[4]);
  // The per-scene report (DECISIONS 3: dropped frames are counted per scene) and the failures.
  const reports = oks.map((o) => o.result.report);
  await writeFileAtomic(
    reportFile,
    JSON.stringify({ dataset, split, scenes: reports, failed }, null, 2) + "\n",
  );
  await step(`${basename(reportFile)} written`);
  if (jsonl) {
    await writeLines(scenesFile, oks.map((o) => JSON.stringify(o.result.scene)));
    await step(`${basename(scenesFile)} written`);
    await writeLines(framesFile, oks.map((o) => JSON.stringify(o.result.frames)));
  } else {
    const scenes: SceneMetaFile = {}, frames: FrameMetaFile = {};
    for (const o of oks) {
      scenes[o.name] = o.result.scene;
      frames[o.name] = o.result.frames;
    }
    // Indent 4, as the reference writes its metadata.
    await writeFileAtomic(scenesFile, JSON.stringify(scenes, null, 4) + "\n");
    await step(`${basename(scenesFile)} written`);
    await writeFileAtomic(framesFile, JSON.stringify(frames, null, 4) + "\n");
  }
  await step(`${basename(framesFile)} written`);
  return [scenesFile, framesFile, reportFile];
}

/** Writes lines through a temporary file renamed into place (large splits stream out). */
async function writeLines(path: string, lines: string[]): Promise<void> {
  const tmp = tempPathFor(path);
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  try {
    for (const line of lines) {
      const bytes = enc.encode(line + "\n");
      let at = 0;
      while (at < bytes.length) at += await file.write(bytes.subarray(at));
    }
  } catch (e) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  file.close();
  await Deno.rename(tmp, path);
}
