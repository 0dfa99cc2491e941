/**
 * The metadata schema every stage after `meta` reads: per split, one scene-metadata file and
 * one frame-metadata file, each a JSON object keyed by scene name. Field names follow the
 * reference pipeline (data-reference §2.4) with vlm3r's additions (DECISIONS 1-10):
 * `scene_name`, `instance_id` on every box, `fps`, and visible-pixel counts per 2D box.
 *
 * @module
 */

import { join } from "node:path";

/** Datasets, lower case as in VSI-Bench records (DECISIONS 5). */
export type DatasetName = "scannet" | "scannetpp" | "arkitscenes";

/** The datasets, in a fixed order. */
export const DATASETS: readonly DatasetName[] = ["scannet", "scannetpp", "arkitscenes"];

/**
 * An oriented 3D box. `normalizedAxes` is row-major with rows = box axes, so the rotation is
 * `R = reshape(normalizedAxes, 3x3)^T` (columns = axes); `axesLengths` are full side lengths
 * along those axes; `min`/`max` bound the eight corners (data-reference §1.2).
 */
export interface ObjectBox {
  centroid: [number, number, number];
  axesLengths: [number, number, number];
  normalizedAxes: number[];
  min: [number, number, number];
  max: [number, number, number];
  instance_id: number;
}

/** One scene's entry in `<dataset>_metadata_<split>.json`. */
export interface SceneMeta {
  scene_name: string;
  dataset: DatasetName;
  split: string;
  video_path: string;
  /** Floor area estimate in m^2 (DECISIONS 8). */
  room_size: number;
  room_center: [number, number, number];
  object_counts: Record<string, number>;
  object_bboxes: Record<string, ObjectBox[]>;
}

/** A 2D box of an instance visible in a frame: inclusive pixel bounds and its pixel count. */
export interface FrameBox {
  instance_id: number;
  /** `[xmin, ymin, xmax, ymax]`, inclusive integers. */
  bbox_2d: [number, number, number, number];
  visible_pixels: number;
}

/** One sampled frame. */
export interface FrameRecord {
  /** Index in the source stream (a string for ScanNet++ image names). */
  frame_id: number | string;
  file_path_color: string;
  file_path_depth: string;
  file_path_mask?: string | null;
  /** Aligned camera-to-world, OpenCV axes, 4x4 rows (DECISIONS 1-2). */
  camera_pose_camera_to_world: number[][];
  bboxes_2d: FrameBox[];
  /** Capture time in seconds, where the dataset records one (ScanNet++, ARKitScenes). */
  timestamp?: number;
}

/** One scene's entry in `<dataset>_frame_metadata_<split>.json`. */
export interface SceneFrameMeta {
  scene_name: string;
  dataset: DatasetName;
  split: string;
  /** Frame rate of the source video (DECISIONS 10). */
  fps: number;
  camera_intrinsics: { fx: number; fy: number; cx: number; cy: number };
  img_width: number;
  img_height: number;
  frames: FrameRecord[];
}

/** A scene-metadata file: scene name to metadata. */
export type SceneMetaFile = Record<string, SceneMeta>;

/** A frame-metadata file: scene name to frame metadata. */
export type FrameMetaFile = Record<string, SceneFrameMeta>;

/**
 * Where `meta` writes, and `gen` reads, the metadata of a split.
 *
 * @example
 * ```ts
 * const p = metadataPaths("processed", "scannet", "val");
 * if (p.scenes !== "processed/metadata/val/scannet_metadata_val.json") throw new Error(p.scenes);
 * if (p.frames !== "processed/metadata/val/scannet_frame_metadata_val.json") throw new Error();
 * ```
 */
export function metadataPaths(
  processed: string,
  dataset: DatasetName,
  split: string,
): { dir: string; scenes: string; frames: string } {
  const dir = join(processed, "metadata", split);
  return {
    dir,
    scenes: join(dir, `${dataset}_metadata_${split}.json`),
    frames: join(dir, `${dataset}_frame_metadata_${split}.json`),
  };
}
