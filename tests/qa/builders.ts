/**
 * Hand-built scenes for the question-family tests: boxes placed where the answer is known by
 * construction, frames with poses and visible instances.
 *
 * @module
 */

import { cameraPoseFromAngles } from "../../geometry/pose.ts";
import type { Vec3 } from "../../geometry/vec.ts";
import { generateQuestions, selectTasks } from "../../qa/generate.ts";
import type { SceneInput } from "../../qa/input.ts";
import type { DistanceMode, QaRecord } from "../../qa/types.ts";
import type { FrameRecord, ObjectBox, SceneMeta } from "../../scene/metadata.ts";

/** An object to place: category, centre, full size, yaw about z (radians). */
export interface Placed {
  category: string;
  center: Vec3;
  size?: Vec3;
  yaw?: number;
}

/** A metadata box; ids count from 1 in placement order. */
export function boxOf(o: Placed, id: number): ObjectBox {
  const size = o.size ?? [0.4, 0.4, 0.4];
  const c = Math.cos(o.yaw ?? 0), s = Math.sin(o.yaw ?? 0);
  const r = Math.hypot(size[0], size[1]) / 2;
  return {
    centroid: o.center,
    axesLengths: size,
    normalizedAxes: [c, s, 0, -s, c, 0, 0, 0, 1],
    min: [o.center[0] - r, o.center[1] - r, o.center[2] - size[2] / 2],
    max: [o.center[0] + r, o.center[1] + r, o.center[2] + size[2] / 2],
    instance_id: id,
  };
}

/** A frame: a camera pose (eye, yaw about z; level) and the instance ids it sees. */
export interface Shot {
  eye: Vec3;
  yaw: number;
  sees?: number[];
  /** Replace the pose by this (e.g. a broken one). */
  pose?: number[][];
}

/** Camera-to-world rows of a level camera at `eye` facing `yaw` (OpenCV axes). */
export function poseRows(eye: Vec3, yaw: number): number[][] {
  const m = cameraPoseFromAngles(eye, yaw, 0, 0);
  return [0, 1, 2, 3].map((i) => Array.from(m.slice(4 * i, 4 * i + 4)));
}

/** A scene input from placed objects (and frames, with `fps`). */
export function sceneOf(
  objects: readonly Placed[],
  opts: {
    roomSize?: number;
    name?: string;
    shots?: readonly Shot[];
    fps?: number;
    frameStep?: number;
  } = {},
): SceneInput {
  const object_counts: Record<string, number> = {};
  const object_bboxes: Record<string, ObjectBox[]> = {};
  objects.forEach((o, i) => {
    object_counts[o.category] = (object_counts[o.category] ?? 0) + 1;
    (object_bboxes[o.category] ??= []).push(boxOf(o, i + 1));
  });
  const name = opts.name ?? "scene0000_00";
  const meta: SceneMeta = {
    scene_name: name,
    dataset: "scannet",
    split: "test",
    video_path: `${name}.mp4`,
    room_size: opts.roomSize ?? 20,
    room_center: [0, 0, 1.5],
    object_counts,
    object_bboxes,
  };
  const input: SceneInput = { meta, source: "test", syntheticIds: false };
  if (opts.shots) {
    const step = opts.frameStep ?? 10;
    input.frames = {
      scene_name: name,
      dataset: "scannet",
      split: "test",
      fps: opts.fps ?? 24,
      camera_intrinsics: { fx: 500, fy: 500, cx: 320, cy: 240 },
      img_width: 640,
      img_height: 480,
      frames: opts.shots.map((s, k): FrameRecord => ({
        frame_id: k * step,
        file_path_color: "",
        file_path_depth: "",
        camera_pose_camera_to_world: s.pose ?? poseRows(s.eye, s.yaw),
        bboxes_2d: (s.sees ?? []).map((id) => ({
          instance_id: id,
          bbox_2d: [0, 0, 10, 10],
          visible_pixels: 100,
        })),
      })),
    };
  }
  return input;
}

/** The records of `tasks` on `scenes`, with caps, mode and options. */
export async function questionsOf(
  scenes: SceneInput | SceneInput[],
  tasks: string[],
  opts: {
    caps?: Record<string, number>;
    distance?: DistanceMode;
    seed?: string;
    naOptions?: boolean;
  } = {},
): Promise<QaRecord[]> {
  const list = Array.isArray(scenes) ? scenes : [scenes];
  const { tasks: specs, unknown } = selectTasks(tasks);
  if (unknown.length) throw new Error(`unknown tasks ${unknown}`);
  const { records } = await generateQuestions(list, specs, {
    seed: opts.seed ?? "test",
    distance: opts.distance ?? "vsibench",
    caps: opts.caps ?? {},
    naOptions: opts.naOptions ?? false,
  });
  return records;
}

/** The option text a record's `mc_answer` letter points at. */
export function answerText(r: QaRecord): string {
  const opts = r.options as string[];
  const o = opts["ABCDEF".indexOf(r.mc_answer!)];
  return o.slice(3);
}
