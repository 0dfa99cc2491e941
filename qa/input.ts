/**
 * Reading the metadata `gen` works on, in three formats detected from their content:
 *
 * - vlm3r's scene metadata (`<dataset>_metadata_<split>.json`, `object_bboxes`, and the
 *   reference pipeline's files of the same shape, with or without `instance_id`);
 * - VSI-Bench's ground-truth metadata (`<dataset>_meta_info_val.json`: `object_bbox`, no
 *   instance ids, ScanNet mean-centred), so questions can be made on the 288 benchmark scenes;
 * - frame metadata (`<dataset>_frame_metadata_<split>.json`: `frames`), paired with the scene
 *   metadata by dataset and scene name.
 *
 * Every value is checked; a bad scene becomes one {@link DataError} line naming the file, the
 * field and what was expected, and is skipped, never silently dropped. Files may hold Python's
 * `NaN` / `Infinity` literals (what `json.dump` writes): a scene with one is skipped with the
 * field named, except in frame poses, where a non-finite pose (ScanNet writes `-inf`) marks the
 * frame's pose invalid (DECISIONS 3).
 *
 * @module
 */

import { basename, join } from "node:path";
import { DataError } from "../io/errors.ts";
import { describeValue as describe, parsePythonJson } from "../io/json.ts";
import { hasZeroSide } from "./distances.ts";
import type {
  DatasetName,
  FrameBox,
  FrameRecord,
  ObjectBox,
  SceneFrameMeta,
  SceneMeta,
} from "../scene/metadata.ts";

/** Frame rates of the reference's appearance-order table, used when frame metadata has none. */
export const DEFAULT_FPS: Record<DatasetName, number> = {
  scannet: 24,
  scannetpp: 30,
  arkitscenes: 10,
};

/** One scene to generate questions for. */
export interface SceneInput {
  meta: SceneMeta;
  frames?: SceneFrameMeta;
  /** The scene-metadata file it came from. */
  source: string;
  /** The frame-metadata file of `frames`. */
  framesSource?: string;
  /** True when the boxes had no instance ids and got sequential ones (VSI-Bench meta info). */
  syntheticIds: boolean;
}

/** What {@link loadMetadata} found. */
export interface LoadedMetadata {
  scenes: SceneInput[];
  /** One line per skipped scene or ignored entry: input that is not used. */
  problems: string[];
  /** One line per oddity that is handled and does not lose input (a box with a zero side). */
  warnings: string[];
  /** The files read, with their detected format. */
  files: { path: string; format: MetadataFormat }[];
}

/** The formats {@link detectFormat} recognises. */
export type MetadataFormat = "scenes" | "vsibench-meta-info" | "frames";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The format of a parsed metadata file, from its first scene's keys.
 *
 * @example
 * ```ts
 * if (detectFormat({ s: { object_bbox: {} } }) !== "vsibench-meta-info") throw new Error();
 * if (detectFormat({ s: { frames: [] } }) !== "frames") throw new Error();
 * if (detectFormat([1, 2]) !== undefined) throw new Error();
 * ```
 */
export function detectFormat(json: unknown): MetadataFormat | undefined {
  if (!isObject(json)) return undefined;
  const first = Object.values(json).find(isObject);
  if (!first) return undefined;
  if ("frames" in first) return "frames";
  if ("object_bboxes" in first) return "scenes";
  if ("object_bbox" in first) return "vsibench-meta-info";
  return undefined;
}

/** Lower-case dataset name (DECISIONS 5), accepting the reference's `ScanNetpp`, `ARkitScenes`. */
function datasetName(v: unknown): DatasetName | undefined {
  const s = typeof v === "string" ? v.toLowerCase().replace(/[^a-z]/g, "") : "";
  return s === "scannet" || s === "scannetpp" || s === "arkitscenes" ? s : undefined;
}

/** The dataset named by a metadata file's name (`scannet_metadata_val.json`), if any. */
function datasetFromFileName(file: string): DatasetName | undefined {
  const m = basename(file).match(/^([A-Za-z+]+?)_(?:frame_)?meta(?:data|_info)/);
  return m ? datasetName(m[1]) : undefined;
}

function numbers(file: string, field: string, v: unknown, n: number): number[] {
  if (!Array.isArray(v) || v.length !== n || !v.every((x) => Number.isFinite(x))) {
    throw new DataError(file, field, `${n} finite numbers`, describe(v));
  }
  return v as number[];
}

function parseBox(file: string, field: string, v: unknown, fallbackId: number): ObjectBox {
  if (!isObject(v)) throw new DataError(file, field, "a box object", describe(v));
  const centroid = numbers(file, `${field}.centroid`, v.centroid, 3) as ObjectBox["centroid"];
  const axesLengths = numbers(file, `${field}.axesLengths`, v.axesLengths, 3);
  if (axesLengths.some((e) => e < 0)) {
    throw new DataError(file, `${field}.axesLengths`, "lengths >= 0", describe(axesLengths));
  }
  const normalizedAxes = numbers(file, `${field}.normalizedAxes`, v.normalizedAxes, 9);
  const id = v.instance_id ?? fallbackId;
  if (!Number.isInteger(Number(id))) {
    throw new DataError(file, `${field}.instance_id`, "an integer", describe(v.instance_id));
  }
  const corners = (key: "min" | "max", alt: string) =>
    (v[key] ?? v[alt]) === undefined
      ? undefined
      : numbers(file, `${field}.${key}`, v[key] ?? v[alt], 3) as ObjectBox["min"];
  const box: ObjectBox = {
    centroid,
    axesLengths: axesLengths as ObjectBox["axesLengths"],
    normalizedAxes,
    min: corners("min", "min_corner") ?? [NaN, NaN, NaN],
    max: corners("max", "max_corner") ?? [NaN, NaN, NaN],
    instance_id: Number(id),
  };
  return box;
}

/**
 * The path and value of the first non-finite number in `v` (Python's `NaN` / `Infinity`),
 * not looking under keys in `skip`.
 */
function nonFinite(
  v: unknown,
  path: string,
  skip: ReadonlySet<string>,
): [string, number] | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? undefined : [path, v];
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const hit = nonFinite(v[i], `${path}[${i}]`, skip);
      if (hit) return hit;
    }
  } else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (skip.has(k)) continue;
      const hit = nonFinite(x, `${path}.${k}`, skip);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * Parses every scene of a metadata file keyed by scene name with `parse`, after checking that
 * the entry is an object and resolving its dataset (from the entry, else the file name). A scene
 * that fails, or holds a non-finite number anywhere but under the keys `finiteExempt`, becomes
 * a problem and is skipped; other errors propagate.
 */
function eachScene<T>(
  json: unknown,
  file: string,
  parse: (name: string, v: Record<string, unknown>, dataset: DatasetName) => T,
  finiteExempt: ReadonlySet<string> = new Set(),
): { scenes: T[]; problems: DataError[]; failed: string[] } {
  if (!isObject(json)) {
    return {
      scenes: [],
      problems: [new DataError(file, "(top level)", "an object keyed by scene")],
      failed: [],
    };
  }
  const scenes: T[] = [];
  const problems: DataError[] = [];
  const failed: string[] = [];
  for (const [name, v] of Object.entries(json)) {
    try {
      if (!isObject(v)) throw new DataError(file, name, "a scene object", describe(v));
      const dataset = datasetName(v.dataset) ?? datasetFromFileName(file);
      if (!dataset) {
        throw new DataError(
          file,
          `${name}.dataset`,
          "scannet, scannetpp or arkitscenes",
          describe(v.dataset),
        );
      }
      const scene = parse(name, v, dataset);
      // Fields the parser checks name themselves above; this catches the others.
      const bad = nonFinite(v, name, finiteExempt);
      if (bad) throw new DataError(file, bad[0], "a finite number", describe(bad[1]));
      scenes.push(scene);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      problems.push(e);
      failed.push(name);
    }
  }
  return { scenes, problems, failed };
}

/**
 * Scene metadata in vlm3r's format, the reference pipeline's, or VSI-Bench's meta info.
 * Boxes without `instance_id` get sequential ids (category by category, from 0), flagged in
 * `syntheticIds`; the dataset comes from each scene's `dataset`, else from the file name. A box
 * with a zero side is kept with a warning: VSI-Bench's sampled distance cannot measure it (the
 * reference loops forever), so `gen` measures its distances exactly (see `qa/distances.ts`).
 *
 * @example
 * ```ts
 * const file = {
 *   scene0011_00: {
 *     dataset: "scannet", video_path: "v.mp4", room_size: 20, room_center: [0, 0, 0],
 *     object_counts: { bed: 1 },
 *     object_bbox: { bed: [{ centroid: [0, 0, 0.5], axesLengths: [2, 1.5, 1], normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1] }] },
 *   },
 *   bad: { dataset: "scannet", room_size: "big", object_counts: {}, object_bbox: {} },
 * };
 * const { scenes, problems } = parseSceneMetadata(file, "scannet_meta_info_val.json");
 * if (scenes.length !== 1 || !scenes[0].syntheticIds || scenes[0].meta.object_bboxes.bed[0].instance_id !== 0) throw new Error();
 * if (problems[0].message !== "scannet_meta_info_val.json: bad.room_size: expected a number >= 0, got \"big\"") throw new Error(problems[0].message);
 * ```
 */
export function parseSceneMetadata(
  json: unknown,
  file: string,
): {
  scenes: Omit<SceneInput, "frames">[];
  problems: DataError[];
  warnings: string[];
  /** The keys of the scenes in `problems`. */
  failed: string[];
} {
  // The box field of the file's format, so that a scene without it is told the right name.
  const expectedKey = detectFormat(json) === "vsibench-meta-info" ? "object_bbox" : "object_bboxes";
  const otherKey = expectedKey === "object_bbox" ? "object_bboxes" : "object_bbox";
  const warned = new Map<object, string[]>();
  const parsed = eachScene(json, file, (name, v, dataset) => {
    if (!(typeof v.room_size === "number" && v.room_size >= 0)) {
      throw new DataError(file, `${name}.room_size`, "a number >= 0", describe(v.room_size));
    }
    const counts = v.object_counts;
    if (!isObject(counts)) {
      throw new DataError(file, `${name}.object_counts`, "an object of counts", describe(counts));
    }
    for (const [c, n] of Object.entries(counts)) {
      if (!(Number.isInteger(n) && (n as number) > 0)) {
        throw new DataError(
          file,
          `${name}.object_counts.${c}`,
          "a positive integer",
          describe(n),
        );
      }
    }
    const bboxKey = !(expectedKey in v) && otherKey in v ? otherKey : expectedKey;
    const raw = v[bboxKey];
    if (!isObject(raw)) {
      throw new DataError(file, `${name}.${bboxKey}`, "an object of box lists", describe(raw));
    }
    const object_bboxes: Record<string, ObjectBox[]> = {};
    const warnings: string[] = [];
    let nextId = 0, syntheticIds = false;
    for (const [c, list] of Object.entries(raw)) {
      if (!Array.isArray(list)) {
        throw new DataError(file, `${name}.${bboxKey}.${c}`, "a list of boxes", describe(list));
      }
      object_bboxes[c] = list.map((b, i) => {
        if (isObject(b) && b.instance_id === undefined) syntheticIds = true;
        const box = parseBox(file, `${name}.${bboxKey}.${c}[${i}]`, b, nextId++);
        if (hasZeroSide(box)) {
          const flat = new DataError(
            file,
            `${name}.${bboxKey}.${c}[${i}].axesLengths`,
            "sides > 0",
            describe(box.axesLengths),
          );
          warnings.push(
            `${flat.message}; its distances are measured exactly, not sampled as VSI-Bench does` +
              (box.axesLengths.every((e) => e === 0) ? ", and its size is not asked" : ""),
          );
        }
        return box;
      });
    }
    for (const c of Object.keys(counts)) {
      if (!object_bboxes[c]?.length) {
        throw new DataError(
          file,
          `${name}.${bboxKey}.${c}`,
          "boxes for a counted category",
          "none",
        );
      }
    }
    const center = v.room_center === undefined
      ? [NaN, NaN, NaN]
      : numbers(file, `${name}.room_center`, v.room_center, 3);
    const scene = {
      meta: {
        scene_name: typeof v.scene_name === "string" ? v.scene_name : name,
        dataset,
        split: typeof v.split === "string" ? v.split : "",
        video_path: typeof v.video_path === "string" ? v.video_path : "",
        room_size: v.room_size,
        room_center: center as SceneMeta["room_center"],
        object_counts: counts as Record<string, number>,
        object_bboxes,
      },
      source: file,
      syntheticIds,
    };
    warned.set(scene, warnings);
    return scene;
  });
  // Only the warnings of scenes that are kept.
  return { ...parsed, warnings: parsed.scenes.flatMap((s) => warned.get(s) ?? []) };
}

/** Orders frame ids: numbers numerically, strings by their digits then text. */
function compareFrameIds(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), "en", { numeric: true });
}

function parseFrame(file: string, field: string, v: unknown): FrameRecord {
  if (!isObject(v)) throw new DataError(file, field, "a frame object", describe(v));
  const id = v.frame_id;
  if (!(typeof id === "string" || Number.isInteger(id))) {
    throw new DataError(file, `${field}.frame_id`, "an integer or a string", describe(id));
  }
  const pose = v.camera_pose_camera_to_world;
  // A missing or non-finite pose is kept as given: the frame still counts in "frame k of N"
  // but no question uses it (data-reference §5.0, DECISIONS 3).
  if (
    pose !== null && pose !== undefined &&
    !(Array.isArray(pose) && pose.length === 4 &&
      pose.every((r) =>
        Array.isArray(r) && r.length === 4 && r.every((x) => typeof x === "number" || x === null)
      ))
  ) {
    throw new DataError(
      file,
      `${field}.camera_pose_camera_to_world`,
      "a 4x4 list of numbers",
      describe(pose),
    );
  }
  const boxes = v.bboxes_2d ?? [];
  if (!Array.isArray(boxes)) {
    throw new DataError(file, `${field}.bboxes_2d`, "a list of 2D boxes", describe(boxes));
  }
  const bboxes_2d: FrameBox[] = boxes.map((b, i) => {
    if (!isObject(b) || !Number.isInteger(Number(b.instance_id))) {
      throw new DataError(
        file,
        `${field}.bboxes_2d[${i}].instance_id`,
        "an integer",
        describe(isObject(b) ? b.instance_id : b),
      );
    }
    const box = numbers(file, `${field}.bboxes_2d[${i}].bbox_2d`, b.bbox_2d, 4);
    return {
      instance_id: Number(b.instance_id),
      bbox_2d: box as FrameBox["bbox_2d"],
      visible_pixels: typeof b.visible_pixels === "number" ? b.visible_pixels : 1,
    };
  });
  return {
    frame_id: id as number | string,
    file_path_color: typeof v.file_path_color === "string" ? v.file_path_color : "",
    file_path_depth: typeof v.file_path_depth === "string" ? v.file_path_depth : "",
    camera_pose_camera_to_world: (pose ?? []) as number[][],
    bboxes_2d,
  };
}

/**
 * Frame metadata (vlm3r's or the reference's), frames sorted by `frame_id`. `fps` defaults to
 * the reference's table for the dataset. Non-finite numbers are allowed in poses only: such a
 * frame keeps its place in the list, but no question uses its pose (DECISIONS 3).
 *
 * @example
 * ```ts
 * const pose = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
 * const file = { s: { camera_intrinsics: { fx: 500, fy: 500, cx: 320, cy: 240 }, img_width: 640, img_height: 480,
 *   frames: [{ frame_id: 10, camera_pose_camera_to_world: pose, bboxes_2d: [] },
 *            { frame_id: 2, camera_pose_camera_to_world: pose, bboxes_2d: [{ instance_id: 3, bbox_2d: [0, 0, 5, 5] }] }] } };
 * const { scenes } = parseFrameMetadata(file, "scannet_frame_metadata_val.json");
 * if (scenes[0].frames[0].frame_id !== 2 || scenes[0].fps !== 24) throw new Error();
 * ```
 */
export function parseFrameMetadata(
  json: unknown,
  file: string,
): { scenes: SceneFrameMeta[]; problems: DataError[]; failed: string[] } {
  return eachScene(json, file, (name, v, dataset) => {
    if (!Array.isArray(v.frames)) {
      throw new DataError(file, `${name}.frames`, "a list of frames", describe(v.frames));
    }
    const frames = v.frames.map((f, i) => parseFrame(file, `${name}.frames[${i}]`, f));
    frames.sort((a, b) => compareFrameIds(a.frame_id, b.frame_id));
    if (
      v.fps !== undefined && v.fps !== null && !(Number.isFinite(v.fps) && (v.fps as number) > 0)
    ) {
      throw new DataError(file, `${name}.fps`, "a frame rate > 0", describe(v.fps));
    }
    const fps = typeof v.fps === "number" ? v.fps : DEFAULT_FPS[dataset];
    const k = isObject(v.camera_intrinsics) ? v.camera_intrinsics : {};
    return {
      scene_name: typeof v.scene_name === "string" ? v.scene_name : name,
      dataset,
      split: typeof v.split === "string" ? v.split : "",
      fps,
      camera_intrinsics: {
        fx: Number(k.fx),
        fy: Number(k.fy),
        cx: Number(k.cx),
        cy: Number(k.cy),
      },
      img_width: Number(v.img_width),
      img_height: Number(v.img_height),
      frames,
    };
  }, new Set(["camera_pose_camera_to_world"]));
}

/** The JSON files of a directory that look like metadata, sorted by name. */
async function metadataFilesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /_(?:frame_)?meta(?:data|_info)_.*\.json$/.test(e.name)) {
      out.push(join(dir, e.name));
    }
  }
  return out.sort();
}

/**
 * Reads metadata from files and directories (a directory contributes its
 * `*_metadata_*.json`, `*_frame_metadata_*.json` and `*_meta_info_*.json` files), pairs frame
 * metadata with scene metadata, and orders the scenes by dataset and name so that results do
 * not depend on the order of the inputs.
 *
 * @example
 * ```ts ignore
 * const { scenes, problems } = await loadMetadata(["processed/metadata/val"]);
 * ```
 */
export async function loadMetadata(paths: readonly string[]): Promise<LoadedMetadata> {
  const files: string[] = [];
  for (const p of paths) {
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(p);
    } catch {
      throw new Error(`${p}: no such file or directory`);
    }
    if (stat.isDirectory) {
      const found = await metadataFilesIn(p);
      if (found.length === 0) {
        throw new Error(`${p}: no *_metadata_*.json or *_meta_info_*.json files`);
      }
      files.push(...found);
    } else files.push(p);
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  const scenes = new Map<string, SceneInput>();
  const frameScenes: { frames: SceneFrameMeta; file: string }[] = [];
  const failedScenes = new Set<string>();
  const read: LoadedMetadata["files"] = [];
  for (const file of [...new Set(files)]) {
    let json: unknown;
    try {
      json = parsePythonJson(await Deno.readTextFile(file));
    } catch (e) {
      throw new Error(`${file}: not readable JSON (${e instanceof Error ? e.message : e})`);
    }
    const format = detectFormat(json);
    if (!format) {
      throw new DataError(
        file,
        "(top level)",
        "scene metadata (object_bboxes / object_bbox) or frame metadata (frames)",
      );
    }
    read.push({ path: file, format });
    if (format === "frames") {
      const r = parseFrameMetadata(json, file);
      frameScenes.push(...r.scenes.map((frames) => ({ frames, file })));
      // The scene itself may still come, without frames: its frame tasks are then skipped.
      problems.push(...r.problems.map((e) => `${e.message}; the scene's frame metadata skipped`));
    } else {
      const r = parseSceneMetadata(json, file);
      for (const s of r.scenes) {
        const key = `${s.meta.dataset}/${s.meta.scene_name}`;
        if (scenes.has(key)) {
          problems.push(
            `${file}: ${s.meta.scene_name}: also in ${scenes.get(key)!.source}; the first kept`,
          );
        } else scenes.set(key, s);
      }
      problems.push(...r.problems.map((e) => `${e.message}; scene skipped`));
      warnings.push(...r.warnings);
      for (const name of r.failed) failedScenes.add(name);
    }
  }
  for (const { frames: f, file } of frameScenes) {
    const s = scenes.get(`${f.dataset}/${f.scene_name}`);
    if (!s) {
      // A scene skipped for bad scene metadata is reported once, not again for its frames.
      if (failedScenes.has(f.scene_name)) continue;
      problems.push(
        `${file}: ${f.scene_name}: no ${f.dataset} scene metadata has this scene; its frame ` +
          "metadata ignored",
      );
    } else if (s.frames) {
      problems.push(`${file}: ${f.scene_name}: also in ${s.framesSource}; the first kept`);
    } else {
      s.frames = f;
      s.framesSource = file;
    }
  }
  const ordered = [...scenes.values()].sort((a, b) =>
    a.meta.dataset === b.meta.dataset
      ? (a.meta.scene_name < b.meta.scene_name ? -1 : a.meta.scene_name > b.meta.scene_name ? 1 : 0)
      : a.meta.dataset < b.meta.dataset
      ? -1
      : 1
  );
  return { scenes: ordered, problems, warnings, files: read };
}
