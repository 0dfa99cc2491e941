/**
 * Camera-object distances in one frame (data-reference §5.2-5.3): how far is an object from
 * the camera (`camera_obj_abs_dist`), and which of k objects is closest to it
 * (`camera_obj_rel_dist_v1/_v2/_v3`, 4/3/2 choices). Distances are closest-point distances in
 * the run's mode (DECISIONS 13) from the camera centre, the pose's translation (DECISIONS 1).
 *
 * @module
 */

import { cameraCentre } from "../geometry/pose.ts";
import type { Rng } from "../geometry/rng.ts";
import { framePose, frameUniqueInstances, instanceMap } from "./_scene.ts";
import { optionSource } from "./distractors.ts";
import { npRound } from "./rounding.ts";
import { CHOICE_FIELDS, frameOf, TEMPLATES } from "./templates.ts";
import type { QaDraft, SceneContext, TaskFamily, TaskSpec } from "./types.ts";

/** Smallest camera-object distance of the absolute task, metres (§5.2). */
export const MIN_CAMERA_DISTANCE = 0.2;
/** Largest camera-object distance of the absolute task, metres (§5.2). */
export const MAX_CAMERA_DISTANCE = 10;

/** Objects nearer than this are not candidates of the relative task, metres (§5.3). */
export const MIN_REL_CAMERA_DISTANCE = 0.5;

/** Distractors must differ from every accepted distance by at least this, metres (§5.3). */
export const CAMERA_AMBIGUITY = 0.15;

/** The frames with a valid pose, their position among all frames, and the camera centre. */
function posedFrames(scene: SceneContext) {
  const frames = scene.frames?.frames ?? [];
  return frames.flatMap((frame, k) => {
    const pose = framePose(frame);
    return pose ? [{ k, frame, centre: cameraCentre(pose) }] : [];
  });
}

function generateAbs(scene: SceneContext, task: TaskSpec, rng: Rng): QaDraft[] {
  const n = scene.frames?.frames.length ?? 0;
  const instances = instanceMap(scene.meta);
  const out: QaDraft[] = [];
  const source = optionSource(scene, rng);
  for (const { k, frame, centre } of posedFrames(scene)) {
    for (const obj of frameUniqueInstances(frame, instances)) {
      const d = scene.distances.point(centre, obj.box);
      if (d < MIN_CAMERA_DISTANCE || d > MAX_CAMERA_DISTANCE) continue;
      const answer = npRound(d, 1);
      const options = source.numeric(answer);
      if (options === undefined) continue;
      out.push({
        task: task.name,
        template: TEMPLATES.VSTI_CAMERA_OBJ_DIST_TEMPLATE,
        fields: { object_name: obj.category, frame_description: frameOf(k + 1, n) },
        answer,
        ...(options ? { options } : {}),
        frameIndices: [frame.frame_id],
      });
    }
  }
  return out;
}

const REL_VARIANTS = [
  {
    name: "camera_obj_rel_dist_v1",
    k: 4,
    decimals: 2,
    cap: 100,
    template: TEMPLATES.VSTI_CAMERA_OBJ_REL_DIST_TEMPLATE_V1,
  },
  {
    name: "camera_obj_rel_dist_v2",
    k: 3,
    decimals: 1,
    cap: 100,
    template: TEMPLATES.VSTI_CAMERA_OBJ_REL_DIST_TEMPLATE_V2,
  },
  {
    name: "camera_obj_rel_dist_v3",
    k: 2,
    decimals: 1,
    cap: 5,
    template: TEMPLATES.VSTI_CAMERA_OBJ_REL_DIST_TEMPLATE_V3,
  },
] as const;

function generateRel(scene: SceneContext, task: TaskSpec, rng: Rng): QaDraft[] {
  const v = REL_VARIANTS.find((x) => x.name === task.name)!;
  const n = scene.frames?.frames.length ?? 0;
  const instances = instanceMap(scene.meta);
  const out: QaDraft[] = [];
  for (const { k, frame, centre } of posedFrames(scene)) {
    const unique = frameUniqueInstances(frame, instances);
    // v1 asks for four frame-unique objects before measuring; v2/v3 for one.
    if (unique.length < (v.k === 4 ? 4 : 1)) continue;
    const measured = unique
      .map((o) => ({
        category: o.category,
        d: npRound(scene.distances.point(centre, o.box), v.decimals),
      }))
      .filter((o) => o.d >= MIN_REL_CAMERA_DISTANCE);
    if (measured.length < v.k) continue;
    const sorted = measured.map((o, i) => ({ ...o, i })).sort((a, b) => a.d - b.d || a.i - b.i);
    const nearest = sorted[0];
    const accepted = [nearest.d];
    const wrong: string[] = [];
    for (const o of rng.shuffle(sorted.slice(1))) {
      if (wrong.length === v.k - 1) break;
      if (accepted.every((d) => Math.abs(o.d - d) >= CAMERA_AMBIGUITY)) {
        accepted.push(o.d);
        wrong.push(o.category);
      }
    }
    if (wrong.length < v.k - 1) continue;
    out.push({
      task: task.name,
      template: v.template,
      fields: { frame_description: frameOf(k + 1, n) },
      choiceFields: CHOICE_FIELDS.slice(0, v.k),
      answer: nearest.category,
      options: [nearest.category, ...wrong],
      frameIndices: [frame.frame_id],
    });
  }
  return out;
}

/** The camera-object distance family. */
export const cameraObjectDistance: TaskFamily = {
  name: "camera_obj_distance",
  tasks: [
    {
      name: "camera_obj_abs_dist",
      questionType: "camera_obj_abs_dist",
      suite: "vsti",
      answer: "na",
      defaultCap: 3, // the val shell script
    },
    ...REL_VARIANTS.map((v) => ({
      name: v.name,
      questionType: v.name,
      suite: "vsti" as const,
      answer: "mca" as const,
      defaultCap: v.cap, // the val shell script: 100, 100, 5
    })),
  ],
  needs: { frames: true, mesh: false, poses: true },
  generate(scene, task, rng) {
    return task.name === "camera_obj_abs_dist"
      ? generateAbs(scene, task, rng)
      : generateRel(scene, task, rng);
  },
};
