/**
 * Camera movement direction (data-reference §5.4): did the camera move forward, backward, left
 * or right between two frames, relative to its orientation at the first? Three variants with
 * 4, 3 and 2 options share the record type `camera_movement_direction` (DECISIONS 15); they
 * are selected as `camera_movement_direction_v1`, `_v2`, `_v3`.
 *
 * @module
 */

import { cameraCentre, type Mat4 } from "../geometry/pose.ts";
import type { Rng } from "../geometry/rng.ts";
import { framePose } from "./_scene.ts";
import { sampleInOrder } from "./sample.ts";
import { CHOICE_FIELDS, frameOf, TEMPLATES } from "./templates.ts";
import type { QaDraft, SceneContext, TaskFamily, TaskSpec } from "./types.ts";

/** Direction labels (§5.4). */
export const MOVEMENT_LABELS = ["Forward", "Backward", "Left", "Right"] as const;

/** A movement label. */
export type Movement = typeof MOVEMENT_LABELS[number];

/**
 * The net movement from pose `a` to pose `b` in `a`'s camera axes (OpenCV: x right, y down,
 * z forward), ignoring y: the larger of |x| and |z| when both exceed `threshold` (z on a tie),
 * else the one that does; undefined when neither moves more than `threshold` metres.
 *
 * @example
 * ```ts
 * import { cameraPoseFromAngles } from "../geometry/pose.ts";
 * // Facing +y (yaw 90 degrees); moving 2 m along +y is forward, along +x is to the right.
 * const a = cameraPoseFromAngles([0, 0, 1.5], Math.PI / 2, 0, 0);
 * if (movementDirection(a, cameraPoseFromAngles([0, 2, 1.5], 0, 0, 0), 1) !== "Forward") throw new Error();
 * if (movementDirection(a, cameraPoseFromAngles([2, 0, 1.5], 0, 0, 0), 1) !== "Right") throw new Error();
 * if (movementDirection(a, cameraPoseFromAngles([0.5, 0, 1.5], 0, 0, 0), 1) !== undefined) throw new Error();
 * ```
 */
export function movementDirection(a: Mat4, b: Mat4, threshold: number): Movement | undefined {
  const p = cameraCentre(a), q = cameraCentre(b);
  const d = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
  // delta = R_a^T d: the columns of R_a are the camera's axes in the world.
  const x = a[0] * d[0] + a[4] * d[1] + a[8] * d[2];
  const z = a[2] * d[0] + a[6] * d[1] + a[10] * d[2];
  const bx = Math.abs(x) > threshold, bz = Math.abs(z) > threshold;
  let useZ: boolean;
  if (bx && bz) useZ = Math.abs(z) >= Math.abs(x);
  else if (bz) useZ = true;
  else if (bx) useZ = false;
  else return undefined;
  return useZ ? (z > 0 ? "Forward" : "Backward") : (x > 0 ? "Right" : "Left");
}

const VARIANTS = [
  {
    name: "camera_movement_direction_v1",
    k: 4,
    threshold: 1.0,
    templateName: "VSTI_CAMERA_MOVEMENT_DIRECTION_TEMPLATE_V1",
  },
  {
    name: "camera_movement_direction_v2",
    k: 3,
    threshold: 0.5,
    templateName: "VSTI_CAMERA_MOVEMENT_DIRECTION_TEMPLATE_V2",
  },
  {
    name: "camera_movement_direction_v3",
    k: 2,
    threshold: 0.5,
    templateName: "VSTI_CAMERA_MOVEMENT_DIRECTION_TEMPLATE_V3",
  },
] as const;

function generate(scene: SceneContext, task: TaskSpec, rng: Rng): QaDraft[] {
  const v = VARIANTS.find((x) => x.name === task.name)!;
  const frames = scene.frames?.frames ?? [];
  const n = frames.length;
  const poses = frames.map(framePose);
  // Every ordered pair i < j of frames with valid poses; no minimum gap.
  const candidates: { i: number; j: number; label: Movement }[] = [];
  for (let i = 0; i < n; i++) {
    const a = poses[i];
    if (!a) continue;
    for (let j = i + 1; j < n; j++) {
      const b = poses[j];
      if (!b) continue;
      const label = movementDirection(a, b, v.threshold);
      if (label) candidates.push({ i, j, label });
    }
  }
  return sampleInOrder(rng, candidates, scene.caps[task.name]).map(({ i, j, label }) => {
    const wrong = rng.shuffle(MOVEMENT_LABELS.filter((l) => l !== label)).slice(0, v.k - 1);
    const start = `frame ${i + 1}`, end = frameOf(j + 1, n);
    return {
      task: task.name,
      template: TEMPLATES[v.templateName],
      fields: { start_frame_description: start, end_frame_description: end },
      choiceFields: CHOICE_FIELDS.slice(0, v.k),
      answer: label,
      options: [label, ...wrong],
      frameIndices: [frames[i].frame_id, frames[j].frame_id],
      extra: {
        question_template: v.templateName,
        ...(v.k === 4 ? { start_frame_description: start, end_frame_description: end } : {}),
      },
    };
  });
}

/** The camera-movement family. */
export const cameraMovement: TaskFamily = {
  name: "camera_movement_direction",
  tasks: VARIANTS.map((v) => ({
    name: v.name,
    questionType: "camera_movement_direction",
    suite: "vsti" as const,
    answer: "mca" as const,
    defaultCap: 1, // the shell script: one per scene for each variant
  })),
  needs: { frames: true, mesh: false, poses: true },
  generate,
};
