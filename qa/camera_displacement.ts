/**
 * Camera displacement (data-reference §5.1): how far did the camera move between two frames?
 * The camera centre is the translation of the camera-to-world pose (DECISIONS 1; the
 * reference used -R^T t here).
 *
 * @module
 */

import { cameraCentre } from "../geometry/pose.ts";
import type { Rng } from "../geometry/rng.ts";
import { framePose } from "./_scene.ts";
import { optionSource } from "./distractors.ts";
import { npRound } from "./rounding.ts";
import { frameOf, TEMPLATES } from "./templates.ts";
import type { QaDraft, SceneContext, TaskFamily, TaskSpec } from "./types.ts";

/** Frames needed for any question (§5.1). */
export const MIN_FRAMES = 6;

/** Smallest frame gap, in valid sampled frames (§5.1). */
export const MIN_GAP = 5;
/** Largest frame gap, in valid sampled frames (§5.1). */
export const MAX_GAP = 30;

/** Smallest displacement asked about, metres (§5.1). */
export const MIN_DISPLACEMENT = 0.2;
/** Largest displacement asked about, metres (§5.1). */
export const MAX_DISPLACEMENT = 10;

function generate(scene: SceneContext, task: TaskSpec, rng: Rng): QaDraft[] {
  const frames = scene.frames?.frames ?? [];
  const n = frames.length;
  // Positions among all sampled frames: "frame k of N" counts them all (DECISIONS 4).
  const valid = frames.flatMap((f, k) => {
    const pose = framePose(f);
    return pose ? [{ k, frame: f, centre: cameraCentre(pose) }] : [];
  });
  if (valid.length < MIN_FRAMES) return [];
  const want = scene.caps[task.name];
  const attempts = Math.max(want, Math.min(20 * want, 200));
  const seen = new Set<string>();
  const out: QaDraft[] = [];
  const source = optionSource(scene, rng);
  for (let a = 0; a < attempts && out.length < want; a++) {
    // Two distinct valid frames, uniformly (random.sample of 2), in time order.
    const x = Math.floor(rng.next() * valid.length);
    let y = Math.floor(rng.next() * (valid.length - 1));
    if (y >= x) y++;
    const [i, j] = x < y ? [x, y] : [y, x];
    const key = `${i},${j}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (j - i < MIN_GAP || j - i > MAX_GAP) continue;
    const p = valid[i].centre, q = valid[j].centre;
    const dx = q[0] - p[0], dy = q[1] - p[1], dz = q[2] - p[2];
    const d = Math.sqrt((dx * dx + dy * dy) + dz * dz);
    if (d < MIN_DISPLACEMENT || d > MAX_DISPLACEMENT) continue;
    const answer = npRound(d, 1);
    const options = source.numeric(answer);
    if (options === undefined) continue;
    out.push({
      task: task.name,
      template: TEMPLATES.VSTI_CAMERA_DISPLACEMENT_TEMPLATE,
      fields: {
        start_frame_description: `frame ${valid[i].k + 1}`,
        end_frame_description: frameOf(valid[j].k + 1, n),
      },
      answer,
      ...(options ? { options } : {}),
      frameIndices: [valid[i].frame.frame_id, valid[j].frame.frame_id],
    });
  }
  return out;
}

/** The camera-displacement family. */
export const cameraDisplacement: TaskFamily = {
  name: "camera_displacement",
  tasks: [{
    name: "camera_displacement",
    questionType: "camera_displacement",
    suite: "vsti",
    answer: "na",
    defaultCap: 3, // the val shell script
  }],
  needs: { frames: true, mesh: false, poses: true },
  generate,
};
