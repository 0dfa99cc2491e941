/**
 * Test helper: scene and frame metadata of a written synthetic scene, built straight from its
 * exact ground truth (`ground_truth.json`) and its instance masks, as an independent reference
 * for `gen` (the `meta` command builds the same files from the raw ScanNet-format data).
 *
 * - boxes: the ground-truth objects (centre, full size, yaw about z; `normalizedAxes` rows are
 *   the box axes), `min`/`max` of the corners, `instance_id`;
 * - frames: the aligned ground-truth poses of `floor(linspace(0, N - 1, K))` (DECISIONS 4),
 *   with 2D boxes and pixel counts from `instance-filt/<i>.png` (value = instance id + 1).
 *
 * @module
 */

import { join } from "node:path";
import { linspace, obbCorners } from "../../geometry/box_distance.ts";
import { decodePng } from "../../io/image.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import type { FrameBox, ObjectBox, SceneFrameMeta, SceneMeta } from "../../scene/metadata.ts";
import type { SceneInput } from "../../qa/input.ts";

interface GroundTruth {
  scene: string;
  room: { polygon: [number, number][]; floor_area: number; height: number };
  objects: {
    instance_id: number;
    category: string;
    center: number[];
    size: number[];
    yaw: number;
  }[];
  camera: {
    width: number;
    height: number;
    fx: number;
    fy: number;
    cx: number;
    cy: number;
    fps: number;
    frames: number;
    poses: number[][];
  };
}

/** The box of a ground-truth object in the metadata's convention. */
export function objectBox(o: GroundTruth["objects"][number]): ObjectBox {
  const c = Math.cos(o.yaw), s = Math.sin(o.yaw);
  const box = {
    centroid: o.center as [number, number, number],
    axesLengths: o.size as [number, number, number],
    normalizedAxes: [c, s, 0, -s, c, 0, 0, 0, 1],
  };
  const corners = obbCorners(box);
  const min = [0, 1, 2].map((a) => Math.min(...corners.map((p) => p[a])));
  const max = [0, 1, 2].map((a) => Math.max(...corners.map((p) => p[a])));
  return {
    ...box,
    min: min as ObjectBox["min"],
    max: max as ObjectBox["max"],
    instance_id: o.instance_id,
  };
}

/** 2D boxes of every instance in a mask (values = instance id + 1), by ascending value. */
export function maskBoxes(mask: Uint8Array | Uint16Array, width: number): FrameBox[] {
  const boxes = new Map<number, FrameBox>();
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i];
    if (v === 0) continue;
    const x = i % width, y = Math.floor(i / width);
    const b = boxes.get(v);
    if (!b) boxes.set(v, { instance_id: v - 1, bbox_2d: [x, y, x, y], visible_pixels: 1 });
    else {
      b.bbox_2d = [
        Math.min(b.bbox_2d[0], x),
        Math.min(b.bbox_2d[1], y),
        Math.max(b.bbox_2d[2], x),
        Math.max(b.bbox_2d[3], y),
      ];
      b.visible_pixels++;
    }
  }
  return [...boxes].sort((a, b) => a[0] - b[0]).map(([, b]) => b);
}

/** Scene and frame metadata of the synthetic scene written in `dir`, `k` sampled frames. */
export async function synthMetadata(dir: string, k = 32): Promise<SceneInput> {
  const gt: GroundTruth = JSON.parse(await Deno.readTextFile(join(dir, "ground_truth.json")));
  const object_counts: Record<string, number> = {};
  const object_bboxes: Record<string, ObjectBox[]> = {};
  for (const o of gt.objects) {
    object_counts[o.category] = (object_counts[o.category] ?? 0) + 1;
    (object_bboxes[o.category] ??= []).push(objectBox(o));
  }
  const xs = gt.room.polygon.map((p) => p[0]), ys = gt.room.polygon.map((p) => p[1]);
  const meta: SceneMeta = {
    scene_name: gt.scene,
    dataset: "scannet",
    split: "synth",
    video_path: `${gt.scene}.mp4`,
    room_size: gt.room.floor_area,
    room_center: [
      (Math.min(...xs) + Math.max(...xs)) / 2,
      (Math.min(...ys) + Math.max(...ys)) / 2,
      gt.room.height / 2,
    ],
    object_counts,
    object_bboxes,
  };
  const cam = gt.camera;
  const picked = [
    ...new Set(Array.from(linspace(0, cam.frames - 1, Math.min(k, cam.frames)), Math.floor)),
  ];
  const frames: SceneFrameMeta = {
    scene_name: gt.scene,
    dataset: "scannet",
    split: "synth",
    fps: cam.fps,
    camera_intrinsics: { fx: cam.fx, fy: cam.fy, cx: cam.cx, cy: cam.cy },
    img_width: cam.width,
    img_height: cam.height,
    frames: await Promise.all(picked.map(async (i) => {
      const mask = decodePng(await Deno.readFile(join(dir, "instance-filt", `${i}.png`)));
      const p = cam.poses[i];
      return {
        frame_id: i,
        file_path_color: `frames/color/${i}.jpg`,
        file_path_depth: `frames/depth/${i}.png`,
        camera_pose_camera_to_world: [
          p.slice(0, 4),
          p.slice(4, 8),
          p.slice(8, 12),
          p.slice(12, 16),
        ],
        bboxes_2d: maskBoxes(mask.data, mask.width),
      };
    })),
  };
  return { meta, frames, source: join(dir, "ground_truth.json"), syntheticIds: false };
}

const synthCache = new Map<string, Promise<SceneInput>>();

/**
 * Scene and frame metadata of one small synthetic scene (`synth` seed `seed`, scene 0, 24
 * frames of 64 x 48), written once per process and returned as a fresh copy each call, so that
 * a test can break it as it likes.
 */
export async function synthInput(seed = "bad-input"): Promise<SceneInput> {
  let p = synthCache.get(seed);
  if (!p) {
    p = (async () => {
      const dir = await Deno.makeTempDir({ prefix: "vlm3r-synth-input-" });
      try {
        const scene = synthScene(seed, 0, { frames: 24, width: 64, height: 48, fps: 2 });
        const report = await writeSynthScene(scene, dir, { workers: 1, video: "none" });
        return await synthMetadata(report.dir, 24);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    })();
    synthCache.set(seed, p);
  }
  return structuredClone(await p);
}

/**
 * Writes scenes as vlm3r metadata files in `dir` (`scannet_metadata_val.json` and, for scenes
 * with frames, `scannet_frame_metadata_val.json`), each scene under its `scene_name`; the
 * `edit` hooks get the JSON text before it is written (to put Python's `NaN` in, say).
 */
export async function writeMetadataFiles(
  dir: string,
  scenes: readonly SceneInput[],
  edit: { scenes?: (text: string) => string; frames?: (text: string) => string } = {},
): Promise<{ scenes: string; frames: string }> {
  const files = {
    scenes: join(dir, "scannet_metadata_val.json"),
    frames: join(dir, "scannet_frame_metadata_val.json"),
  };
  const text = (entries: [string, unknown][]) =>
    JSON.stringify(Object.fromEntries(entries), null, 1);
  const sceneText = text(scenes.map((s) => [s.meta.scene_name, s.meta]));
  await Deno.writeTextFile(files.scenes, edit.scenes ? edit.scenes(sceneText) : sceneText);
  const withFrames = scenes.filter((s) => s.frames);
  if (withFrames.length) {
    const frameText = text(withFrames.map((s) => [s.meta.scene_name, s.frames]));
    await Deno.writeTextFile(files.frames, edit.frames ? edit.frames(frameText) : frameText);
  }
  return files;
}

/** A copy of `scene` renamed to `name` (scene and frame metadata alike). */
export function renamed(scene: SceneInput, name: string): SceneInput {
  const s = structuredClone(scene);
  s.meta.scene_name = name;
  s.meta.video_path = `${name}.mp4`;
  if (s.frames) s.frames.scene_name = name;
  return s;
}
