/**
 * Object-object relative position in one frame (data-reference §5.5): relative to the camera,
 * is A nearer or farther than B (`obj_obj_relative_pos_nf`), left or right of it (`_lr`),
 * above or below it (`_ud`)? Decided on the two boxes' corners in the camera frame, with a
 * 0.15 m gap required. The templates are filled with their own field names (DECISIONS 14).
 *
 * @module
 */

import { obbCorners } from "../geometry/box_distance.ts";
import type { Mat4 } from "../geometry/pose.ts";
import type { Rng } from "../geometry/rng.ts";
import type { Vec3 } from "../geometry/vec.ts";
import type { ObjectBox } from "../scene/metadata.ts";
import { framePose, frameUniqueInstances, instanceMap } from "./_scene.ts";
import { sampleInOrder } from "./sample.ts";
import { frameOf, TEMPLATES } from "./templates.ts";
import type { QaDraft, SceneContext, TaskFamily, TaskSpec } from "./types.ts";

/** Required gap between the two boxes' extents along the axis, metres (§5.5). */
export const POSITION_THRESHOLD = 0.15;

const DIMENSIONS = [
  {
    name: "obj_obj_relative_pos_nf",
    axis: 2,
    labels: ["Near", "Far"],
    template: TEMPLATES.VSTI_OBJ_OBJ_REL_POS_NF_TEMPLATE,
    cap: 6,
  },
  {
    name: "obj_obj_relative_pos_lr",
    axis: 0,
    labels: ["Left", "Right"],
    template: TEMPLATES.VSTI_OBJ_OBJ_REL_POS_LR_TEMPLATE,
    cap: 3,
  },
  {
    name: "obj_obj_relative_pos_ud",
    axis: 1,
    labels: ["Up", "Down"],
    template: TEMPLATES.VSTI_OBJ_OBJ_REL_POS_UD_TEMPLATE,
    cap: 6,
  },
] as const;

/** A box's corners in the camera frame of a camera-to-world pose: `R^T (p - t)`. */
function cornersInCamera(box: ObjectBox, pose: Mat4): Vec3[] {
  return obbCorners(box).map((p) => {
    const d = [p[0] - pose[3], p[1] - pose[7], p[2] - pose[11]];
    return [0, 1, 2].map((c) => pose[c] * d[0] + pose[4 + c] * d[1] + pose[8 + c] * d[2]) as Vec3;
  });
}

/**
 * Where A is relative to B along one camera axis (0 = x right, 1 = y down, 2 = z forward):
 * the first label (Left, Up, Near) when B's extent starts more than the threshold past A's
 * end, the second (Right, Down, Far) in the opposite case, undefined when they overlap.
 *
 * @example
 * ```ts
 * import { mat4Identity } from "../geometry/pose.ts";
 * const box = (z: number) => ({ centroid: [0, 0, z] as [number, number, number], axesLengths: [0.4, 0.4, 0.4] as [number, number, number],
 *   normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1], min: [0, 0, 0] as [number, number, number], max: [0, 0, 0] as [number, number, number], instance_id: 0 });
 * // Identity pose: the camera looks along +z; a box at z = 1 is nearer than one at z = 2.
 * if (relativePosition(box(1), box(2), mat4Identity(), 2) !== 0) throw new Error();
 * if (relativePosition(box(2), box(1), mat4Identity(), 2) !== 1) throw new Error();
 * if (relativePosition(box(1), box(1.3), mat4Identity(), 2) !== undefined) throw new Error();
 * ```
 */
export function relativePosition(
  a: ObjectBox,
  b: ObjectBox,
  pose: Mat4,
  axis: number,
): 0 | 1 | undefined {
  const ca = cornersInCamera(a, pose).map((p) => p[axis]);
  const cb = cornersInCamera(b, pose).map((p) => p[axis]);
  if (Math.min(...cb) - Math.max(...ca) > POSITION_THRESHOLD) return 0;
  if (Math.min(...ca) - Math.max(...cb) > POSITION_THRESHOLD) return 1;
  return undefined;
}

function generate(scene: SceneContext, task: TaskSpec, rng: Rng): QaDraft[] {
  const dim = DIMENSIONS.find((d) => d.name === task.name)!;
  const frames = scene.frames?.frames ?? [];
  const n = frames.length;
  const instances = instanceMap(scene.meta);
  const candidates: QaDraft[] = [];
  frames.forEach((frame, k) => {
    const pose = framePose(frame);
    if (!pose) return;
    const unique = frameUniqueInstances(frame, instances);
    for (let i = 0; i < unique.length; i++) {
      for (let j = i + 1; j < unique.length; j++) {
        const [a, b] = [unique[i], unique[j]];
        const side = relativePosition(a.box, b.box, pose, dim.axis);
        if (side === undefined) continue;
        candidates.push({
          task: task.name,
          template: dim.template,
          fields: {
            frame_description: frameOf(k + 1, n),
            obj_A_name: a.category,
            obj_B_name: b.category,
          },
          answer: dim.labels[side],
          options: [...dim.labels],
          frameIndices: [frame.frame_id],
        });
      }
    }
  });
  return sampleInOrder(rng, candidates, scene.caps[task.name]);
}

/** The object-object relative position family. */
export const objectRelativePosition: TaskFamily = {
  name: "obj_obj_relative_pos",
  tasks: DIMENSIONS.map((d) => ({
    name: d.name,
    questionType: d.name,
    suite: "vsti" as const,
    answer: "mca" as const,
    defaultCap: d.cap, // the val shell script: nf 6, lr 3, ud 6
  })),
  needs: { frames: true, mesh: false, poses: true },
  generate,
};
