/**
 * A whole `vlm3r meta` run: find the split's scenes under a dataset's raw folder, extract each
 * scene's metadata (in worker threads when asked), skip and count the scenes that fail, and
 * write the split's two metadata files atomically (data-reference §1.1, §2.4).
 *
 * Output depends only on the inputs and the seed: scenes are listed in a fixed order and every
 * random draw comes from a stream named after its scene, so the worker count changes nothing.
 *
 * @module
 */

import { basename, join } from "node:path";
import { tempPathFor, writeFileAtomic } from "../io/atomic.ts";
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
}

/** The raw-data folder of each ARKitScenes split name. */
const ARKIT_FOLDERS: Record<string, string> = { train: "Training", val: "Validation" };

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
  return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== "" && !s.startsWith("#"));
}

/**
 * The scenes of a split under `root`: the listed names (in list order), or every scene folder
 * found (sorted). ARKitScenes keeps one scan per visit when `metadata.csv` is present, chosen
 * with the seed (the reference's rule, data-reference §2.3.2).
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
): Promise<SceneEntry[]> {
  if (!(await exists(root))) throw new DataError(root, "root", "an existing folder", "none");
  let base = root;
  if (dataset === "scannet" && await exists(join(root, "scans"))) base = join(root, "scans");
  if (dataset === "scannetpp" && await exists(join(root, "data"))) base = join(root, "data");
  if (dataset === "arkitscenes") {
    const folder = join(root, ARKIT_FOLDERS[split] ?? split);
    if (await exists(folder)) base = folder;
  }
  if (names) return names.map((name) => ({ name, dir: join(base, name) }));

  const marker = (name: string) =>
    dataset === "scannet"
      ? join(base, name, `${name}.txt`)
      : dataset === "scannetpp"
      ? join(base, name, "scans")
      : join(base, name, `${name}_3dod_annotation.json`);
  const found: string[] = [];
  for await (const e of Deno.readDir(base)) {
    if (e.isDirectory && await exists(marker(e.name))) found.push(e.name);
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
    if (!(await exists(dir))) throw new DataError(dir, "scene", "an existing scene folder", "none");
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
 * dropped for invalid poses, sampled and with rendered 2D boxes, and the failed scenes.
 *
 * @example
 * ```ts ignore
 * const summary = await runMeta({ dataset: "scannet", root: "data/synth", out: "processed", split: "val",
 *   labels: DEFAULT_LABELS.scannet, frames: 32, seed: "0", workers: 2, format: "json", strict: false });
 * ```
 */
export async function runMeta(options: MetaRunOptions): Promise<MetaRunSummary> {
  const { dataset, split } = options;
  const entries = await listScenes(dataset, options.root, split, options.scenes, options.seed);
  const jobs: SceneJob[] = entries.map((scene) => ({
    dataset,
    scene,
    split,
    labels: options.labels,
    frames: options.frames,
    seed: options.seed,
    out: options.out,
  }));
  const outcomes: (SceneOutcome | undefined)[] = new Array(jobs.length);
  let done = 0, stop = false;
  const settle = (k: number, o: SceneOutcome) => {
    outcomes[k] = o;
    options.onProgress?.(++done, jobs.length);
    if (!o.ok) {
      options.onFailure?.(o.name, o.error);
      if (options.strict) stop = true;
    }
  };
  options.onProgress?.(0, jobs.length);
  if (options.workers <= 1 || jobs.length <= 1) {
    for (let k = 0; k < jobs.length && !stop; k++) settle(k, await processScene(jobs[k]));
  } else {
    const pool = new WorkerPool<never, SceneJob, SceneOutcome>(
      new URL("./meta_worker.ts", import.meta.url),
      Math.min(options.workers, jobs.length),
    );
    try {
      await Promise.all(jobs.map(async (job, k) => {
        if (stop) return;
        const o = await pool.run(job).catch((e) => ({
          ok: false as const,
          name: job.scene.name,
          error: `${job.scene.dir}: ${e instanceof Error ? e.message : String(e)}`,
        }));
        if (!stop) settle(k, o);
      }));
    } finally {
      pool.close();
    }
  }

  const failed = outcomes.filter((o): o is SceneOutcome & { ok: false } => o?.ok === false)
    .map((o) => ({ scene: o.name, message: o.error }));
  const oks = outcomes.filter((o): o is SceneOutcome & { ok: true } => o?.ok === true);
  const summary: MetaRunSummary = {
    dataset,
    split,
    scenes: jobs.length,
    failed,
    reports: oks.map((o) => o.result.report),
    written: [],
    stoppedEarly: stop,
  };
  if (stop) return summary;

  const paths = metadataPaths(options.out, dataset, split);
  await Deno.mkdir(paths.dir, { recursive: true });
  const scenesFile = options.format === "jsonl"
    ? paths.scenes.replace(/\.json$/, ".jsonl")
    : paths.scenes;
  const framesFile = options.format === "jsonl"
    ? paths.frames.replace(/\.json$/, ".jsonl")
    : paths.frames;
  if (options.format === "jsonl") {
    await writeLines(scenesFile, oks.map((o) => JSON.stringify(o.result.scene)));
    await writeLines(framesFile, oks.map((o) => JSON.stringify(o.result.frames)));
  } else {
    const scenes: SceneMetaFile = {}, frames: FrameMetaFile = {};
    for (const o of oks) {
      scenes[o.name] = o.result.scene;
      frames[o.name] = o.result.frames;
    }
    // Indent 4, as the reference writes its metadata.
    await writeFileAtomic(scenesFile, JSON.stringify(scenes, null, 4) + "\n");
    await writeFileAtomic(framesFile, JSON.stringify(frames, null, 4) + "\n");
  }
  // The per-scene report (DECISIONS 3: dropped frames are counted per scene) and the failures.
  const reportFile = join(paths.dir, `${dataset}_meta_report_${split}.json`);
  await writeFileAtomic(
    reportFile,
    JSON.stringify({ dataset, split, scenes: summary.reports, failed }, null, 2) + "\n",
  );
  summary.written = [scenesFile, framesFile, reportFile];
  return summary;
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
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
}
