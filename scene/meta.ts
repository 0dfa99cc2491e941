/**
 * Scene and frame metadata of one scene (data-reference §2, DECISIONS 1-10), whatever the
 * dataset: object boxes and counts, room size and centre, and the sampled frames with aligned
 * poses and the 2D boxes and visible-pixel counts of what each frame sees.
 *
 * Pure apart from reading frames through the {@link RawScene} and writing the sampled colour
 * and depth files under the processed folder.
 *
 * @module
 */

import { join } from "node:path";
import { replaceDir, tempPathFor, writeFileAtomic } from "../io/atomic.ts";
import { encodePng16 } from "../io/image.ts";
import { alphaShapeArea } from "../geometry/delaunay.ts";
import { minimalObb, type Obb, obbCorners } from "../geometry/obb.ts";
import { isRigidTransform, mat4InvertRigid } from "../geometry/pose.ts";
import { labelBoxes } from "../geometry/projection.ts";
import { rasterizeLabels, triangleLabelsFromVertices } from "../geometry/raster.ts";
import { Rng } from "../geometry/rng.ts";
import { DataError } from "../io/errors.ts";
import { categoryOf, type LabelMap } from "./labels.ts";
import type {
  DatasetName,
  FrameBox,
  FrameRecord,
  ObjectBox,
  SceneFrameMeta,
  SceneMeta,
} from "./metadata.ts";
import { MissingMask, type RawScene } from "./raw.ts";

/** Vertices drawn (with replacement) for the room's alpha shape (data-reference §2.1.3). */
export const ROOM_SAMPLES = 10_000;
/** Alpha of the room shape: triangles of circumradius below 1 / 5 = 0.2 m (DECISIONS 8). */
export const ROOM_ALPHA = 5;
/** Frames sampled per scene by default (DECISIONS 4). */
export const DEFAULT_FRAMES = 32;
/** Rotation tolerance for a pose to count as rigid (float32 `.sens` poses are within 1e-6). */
const RIGID_TOL = 1e-3;

/** The `video_path` prefix of each dataset, as the reference writes it (data-reference §2). */
export const VIDEO_ROOT: Readonly<Record<DatasetName, string>> = {
  scannet: "ScanNet",
  scannetpp: "ScanNetpp",
  arkitscenes: "ARkitScenes",
};

/** Options of {@link extractScene}. */
export interface ExtractOptions {
  split: string;
  labels: LabelMap;
  /** Frames to sample (K). */
  frames: number;
  seed: string;
  /** Processed folder: sampled colour and depth go to `color|depth/<split>/<scene>/`. */
  out: string;
  /**
   * A staging folder: when set, the frames are written to `<stage>/color|depth/<scene>/` and
   * left there for the caller to move into place with its metadata (`runMeta` does); when
   * absent, they replace the scene's folders under `out` as soon as they are complete.
   */
  stage?: string;
}

/** What happened to one scene, for the run summary. */
export interface SceneReport {
  scene: string;
  /** Frames in the source stream (with colour and depth). */
  frames: number;
  /** Frames dropped for a missing, non-finite or non-rigid pose (DECISIONS 3). */
  invalidPoses: number;
  sampled: number;
  /** Sampled frames whose 2D boxes were rendered from the mesh. */
  renderedMasks: number;
  objects: number;
  /** Annotated instances without vertices or box, left out. */
  emptyInstances: number;
  notes: string[];
  /** Problems that lost data without stopping the scene (the reader's, one line each). */
  warnings: string[];
}

/** The metadata of one scene. */
export interface SceneResult {
  scene: SceneMeta;
  frames: SceneFrameMeta;
  report: SceneReport;
}

/**
 * Indices `floor(linspace(0, n - 1, k))` (numpy's formula), or all when `n <= k`
 * (data-reference §2.1.5, DECISIONS 4).
 *
 * @example
 * ```ts
 * if (sampleIndices(10, 4).join() !== "0,3,6,9") throw new Error();
 * if (sampleIndices(3, 32).join() !== "0,1,2") throw new Error();
 * ```
 */
export function sampleIndices(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  if (k === 1) return [0];
  const step = (n - 1) / (k - 1);
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const v = i === k - 1 ? n - 1 : i * step;
    const f = Math.floor(v);
    if (out.length === 0 || out[out.length - 1] !== f) out.push(f);
  }
  return out;
}

/**
 * A metadata box from an oriented box (data-reference §1.2): rows of `normalizedAxes` are the
 * axes; `min`/`max` bound the corners.
 *
 * @example
 * ```ts
 * const b = objectBox({ center: [0, 0, 1], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], size: [2, 1, 2] }, 5);
 * if (b.min[0] !== -1 || b.max[2] !== 2 || b.instance_id !== 5) throw new Error();
 * ```
 */
export function objectBox(box: Obb, instanceId: number): ObjectBox {
  const corners = obbCorners(box);
  const min = [0, 1, 2].map((k) => Math.min(...corners.map((c) => c[k])));
  const max = [0, 1, 2].map((k) => Math.max(...corners.map((c) => c[k])));
  return {
    centroid: box.center.map(r6) as [number, number, number],
    axesLengths: box.size.map(r6) as [number, number, number],
    normalizedAxes: box.axes.flat().map(r6),
    min: min.map(r6) as [number, number, number],
    max: max.map(r6) as [number, number, number],
    instance_id: instanceId,
  };
}

/** Rounds to micrometres (and 1e-6 of unit vectors): plenty, and keeps the JSON short. */
function r6(x: number): number {
  const r = Math.round(x * 1e6) / 1e6;
  return r === 0 ? 0 : r;
}

/**
 * Scene metadata: boxes and counts per category, room size and centre.
 *
 * @example
 * ```ts
 * import { DEFAULT_LABELS } from "./labels.ts";
 * // Two unit cubes labelled "chair", 3 m apart, on a floor of 4 x 1 m.
 * const pos: number[] = [], inst: number[] = [];
 * for (const [ox, id] of [[0, 0], [3, 1]]) {
 *   for (let i = 0; i < 8; i++) pos.push(ox + (i & 1), (i >> 1) & 1, (i >> 2) & 1), inst.push(id);
 * }
 * for (let x = 0; x <= 4; x += 0.1) for (let y = 0; y <= 1; y += 0.1) pos.push(x, y, 0), inst.push(-1);
 * const meta = sceneMetadata({
 *   name: "s", dataset: "scannet", positions: Float64Array.from(pos), vertexInstance: Int32Array.from(inst),
 *   instances: [{ id: 0, label: "chair" }, { id: 1, label: "chair" }],
 * }, { split: "val", labels: DEFAULT_LABELS.scannet, seed: "0" });
 * if (meta.scene.object_counts.chair !== 2 || Math.abs(meta.scene.room_size - 4) > 0.1) throw new Error();
 * ```
 */
export function sceneMetadata(
  raw: Pick<RawScene, "name" | "dataset" | "positions" | "vertexInstance" | "instances">,
  options: { split: string; labels: LabelMap; seed: string },
): { scene: SceneMeta; objects: number; emptyInstances: number } {
  const { name, dataset, positions: p, vertexInstance } = raw;
  const n = p.length / 3;
  if (n === 0) throw new DataError(name, "mesh", "at least one vertex", "none");

  // Vertices of each instance, for the fitted boxes.
  const byInstance = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const id = vertexInstance[i];
    if (id < 0) continue;
    let list = byInstance.get(id);
    if (!list) byInstance.set(id, list = []);
    list.push(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
  }
  const boxes = new Map<string, ObjectBox[]>();
  let objects = 0, emptyInstances = 0;
  const seen = new Set<number>();
  for (const inst of raw.instances) {
    const category = categoryOf(options.labels, inst.label);
    if (category === undefined || seen.has(inst.id)) continue;
    seen.add(inst.id);
    let box = inst.box;
    if (!box) {
      const pts = byInstance.get(inst.id);
      if (!pts) {
        emptyInstances++;
        continue;
      }
      box = minimalObb(pts);
    }
    let list = boxes.get(category);
    if (!list) boxes.set(category, list = []);
    list.push(objectBox(box, inst.id));
    objects++;
  }
  const categories = [...boxes.keys()].sort();
  const object_counts: Record<string, number> = {};
  const object_bboxes: Record<string, ObjectBox[]> = {};
  for (const c of categories) {
    const list = boxes.get(c)!.sort((a, b) => a.instance_id - b.instance_id);
    object_counts[c] = list.length;
    object_bboxes[c] = list;
  }

  // Room size: alpha shape of the xy projection of vertices drawn with replacement.
  const rng = new Rng(`vlm3r-meta/${options.seed}`).child(dataset).child(name).child("room");
  const xy = new Float64Array(2 * ROOM_SAMPLES);
  for (let k = 0; k < ROOM_SAMPLES; k++) {
    const i = rng.int(0, n - 1);
    xy[2 * k] = p[3 * i];
    xy[2 * k + 1] = p[3 * i + 1];
  }
  const room_size = r6(alphaShapeArea(xy, ROOM_ALPHA));
  const room_center = minimalObb(p).center.map(r6) as [number, number, number];

  return {
    scene: {
      scene_name: name,
      dataset,
      split: options.split,
      video_path: `${VIDEO_ROOT[dataset]}/videos/${options.split}/${name}.mp4`,
      room_size,
      room_center,
      object_counts,
      object_bboxes,
    },
    objects,
    emptyInstances,
  };
}

/**
 * Extracts both metadata records of one scene and writes its sampled colour and depth frames.
 *
 * @example
 * ```ts
 * import { synthScene, writeSynthScene } from "./synth/mod.ts";
 * import { readScannetScene } from "./scannet.ts";
 * import { DEFAULT_LABELS } from "./labels.ts";
 * const dir = await Deno.makeTempDir();
 * const { dir: scan } = await writeSynthScene(synthScene(1, 0, { frames: 4, width: 32, height: 24 }), dir, { workers: 1, video: "none" });
 * const raw = await readScannetScene(scan);
 * const r = await extractScene(raw, { split: "val", labels: DEFAULT_LABELS.scannet, frames: 2, seed: "0", out: `${dir}/processed` });
 * raw.close();
 * if (r.frames.frames.length !== 2 || r.frames.frames[1].frame_id !== 3) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function extractScene(raw: RawScene, options: ExtractOptions): Promise<SceneResult> {
  const { scene, objects, emptyInstances } = sceneMetadata(raw, options);

  const valid = raw.frames.filter((f) =>
    f.pose !== undefined && isRigidTransform(f.pose, RIGID_TOL)
  );
  if (valid.length === 0) {
    throw new DataError(
      raw.frames[0]?.poseSource ?? raw.name,
      "camera_to_world",
      "at least one frame with a finite rigid pose",
      `none of ${raw.frames.length} frames`,
    );
  }
  const picks = sampleIndices(valid.length, options.frames).map((i) => valid[i]);
  await raw.prepare?.(picks);

  const colorDir = join(options.out, "color", options.split, raw.name);
  const depthDir = join(options.out, "depth", options.split, raw.name);
  const { stage } = options;
  const tmpColor = stage ? join(stage, "color", raw.name) : tempPathFor(colorDir);
  const tmpDepth = stage ? join(stage, "depth", raw.name) : tempPathFor(depthDir);
  await Deno.mkdir(tmpColor, { recursive: true });
  await Deno.mkdir(tmpDepth, { recursive: true });

  let triangleLabel: Int32Array | undefined;
  let renderedMasks = 0;
  const records: FrameRecord[] = [];
  try {
    for (const f of picks) {
      const k = f.intrinsics ?? raw.camera;
      const stem = typeof f.id === "number" ? String(f.id).padStart(6, "0") : f.id;
      const color = await f.color();
      let depth = await f.depth();
      let bboxes: FrameBox[] | undefined;
      if (raw.mask) {
        try {
          const m = await raw.mask(f);
          bboxes = labelBoxes(m.data, m.width, m.height, 1).map((b) => ({
            instance_id: b.label - 1,
            bbox_2d: b.bbox,
            visible_pixels: b.pixels,
          }));
        } catch (e) {
          if (!(e instanceof MissingMask)) throw e;
        }
      }
      if (!bboxes || !depth) {
        triangleLabel ??= triangleLabelsFromVertices(raw.triangles, raw.vertexInstance);
        const img = rasterizeLabels(
          { positions: raw.positions, triangles: raw.triangles },
          triangleLabel,
          mat4InvertRigid(f.pose!),
          k,
        );
        if (!bboxes) {
          renderedMasks++;
          bboxes = labelBoxes(img.label, img.width, img.height, 0).map((b) => ({
            instance_id: b.label,
            bbox_2d: b.bbox,
            visible_pixels: b.pixels,
          }));
        }
        if (!depth) {
          const mm = new Uint16Array(img.depth.length);
          for (let i = 0; i < mm.length; i++) {
            mm[i] = Math.min(65535, Math.round(img.depth[i] * 1000));
          }
          depth = encodePng16(mm, img.width, img.height);
        }
      }
      await writeFileAtomic(join(tmpColor, `${stem}.${color.ext}`), color.bytes);
      await writeFileAtomic(join(tmpDepth, `${stem}.png`), depth);
      const pose = f.pose!;
      const record: FrameRecord = {
        frame_id: f.id,
        file_path_color: `color/${options.split}/${raw.name}/${stem}.${color.ext}`,
        file_path_depth: `depth/${options.split}/${raw.name}/${stem}.png`,
        ...(raw.dataset === "scannetpp" ? { file_path_mask: null } : {}),
        camera_pose_camera_to_world: [0, 1, 2, 3].map((r) =>
          Array.from(pose.subarray(4 * r, 4 * r + 4))
        ),
        bboxes_2d: bboxes,
      };
      if (f.timestamp !== undefined) record.timestamp = f.timestamp;
      records.push(record);
    }
    if (!stage) {
      await replaceDir(tmpColor, colorDir);
      await replaceDir(tmpDepth, depthDir);
    }
  } catch (e) {
    await Deno.remove(tmpColor, { recursive: true }).catch(() => {});
    await Deno.remove(tmpDepth, { recursive: true }).catch(() => {});
    throw e;
  }

  const k0 = picks[0].intrinsics ?? raw.camera;
  const frames: SceneFrameMeta = {
    scene_name: raw.name,
    dataset: raw.dataset,
    split: options.split,
    fps: raw.fps,
    camera_intrinsics: { fx: k0.fx, fy: k0.fy, cx: k0.cx, cy: k0.cy },
    img_width: k0.width,
    img_height: k0.height,
    frames: records,
  };
  return {
    scene,
    frames,
    report: {
      scene: raw.name,
      frames: raw.frames.length,
      invalidPoses: raw.frames.length - valid.length,
      sampled: picks.length,
      renderedMasks,
      objects,
      emptyInstances,
      notes: raw.notes,
      warnings: raw.warnings ?? [],
    },
  };
}
