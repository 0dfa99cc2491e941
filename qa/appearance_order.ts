/**
 * Appearance order (data-reference §4.7): in which order do four categories first appear in
 * the video? Needs frame metadata; works for every dataset because frame metadata carries the
 * video's frame rate (DECISIONS 10).
 *
 * @module
 */

import type { Rng } from "../geometry/rng.ts";
import type { FrameRecord } from "../scene/metadata.ts";
import { instanceMap } from "./_scene.ts";
import { roundHalfEven } from "./rounding.ts";
import { combinations } from "./sample.ts";
import { TEMPLATES } from "./templates.ts";
import type { QaDraft, SceneContext, TaskFamily, TaskSpec } from "./types.ts";

/** First appearances must be more than this many seconds apart (`SAVE_MARGIN`, §4.7). */
export const APPEARANCE_MARGIN = 1;

/** Random permutations tried for the three wrong orders (§4.7). */
const PERMUTATION_TRIES = 100;

/**
 * The frame's index in the source video: a number as is; for a string id (ScanNet++ image
 * names), its last run of digits.
 *
 * @example
 * ```ts
 * if (frameNumber(120) !== 120 || frameNumber("frame_000360.jpg") !== 360) throw new Error();
 * ```
 */
export function frameNumber(id: number | string): number {
  if (typeof id === "number") return id;
  const m = id.match(/(\d+)(?!.*\d)/);
  return m ? Number(m[1]) : NaN;
}

/**
 * First-appearance time of each category, whole seconds (`round(frame / fps)`): the first
 * frame, in `frame_id` order, where any of its instances has a 2D box.
 *
 * @example
 * ```ts
 * const frames = [
 *   { frame_id: 0, file_path_color: "", file_path_depth: "", camera_pose_camera_to_world: [],
 *     bboxes_2d: [{ instance_id: 1, bbox_2d: [0, 0, 1, 1] as [number, number, number, number], visible_pixels: 4 }] },
 *   { frame_id: 60, file_path_color: "", file_path_depth: "", camera_pose_camera_to_world: [],
 *     bboxes_2d: [{ instance_id: 2, bbox_2d: [0, 0, 1, 1] as [number, number, number, number], visible_pixels: 4 }] },
 * ];
 * const t = firstAppearances(frames, 24, new Map([[1, "bed"], [2, "sofa"]]));
 * if (t.get("bed") !== 0 || t.get("sofa") !== 2) throw new Error(); // 60 / 24 = 2.5 rounds to 2
 * ```
 */
export function firstAppearances(
  frames: readonly FrameRecord[],
  fps: number,
  categoryOf: ReadonlyMap<number, string>,
): Map<string, number> {
  const t = new Map<string, number>();
  for (const f of frames) {
    const seconds = roundHalfEven(frameNumber(f.frame_id) / fps);
    if (!Number.isFinite(seconds)) continue;
    for (const b of f.bboxes_2d) {
      const c = categoryOf.get(b.instance_id);
      if (c !== undefined && !t.has(c)) t.set(c, seconds);
    }
  }
  return t;
}

function generate(scene: SceneContext, task: TaskSpec, rng: Rng): QaDraft[] {
  const frames = scene.frames;
  if (!frames) return [];
  const categoryOf = new Map([...instanceMap(scene.meta)].map(([id, o]) => [id, o.category]));
  const times = firstAppearances(frames.frames, frames.fps, categoryOf);
  if (times.size < 4) return [];
  const combos = rng.shuffle([...combinations([...times.keys()], 4)]);
  const out: QaDraft[] = [];
  const cap = scene.caps[task.name];
  for (const combo of combos) {
    if (out.length >= cap) break;
    const t = combo.map((c) => times.get(c)!);
    let close = false;
    for (let i = 0; i < 4 && !close; i++) {
      for (let j = i + 1; j < 4; j++) if (Math.abs(t[i] - t[j]) <= APPEARANCE_MARGIN) close = true;
    }
    if (close) continue;
    const answer = [...combo].sort((a, b) => times.get(a)! - times.get(b)!).join(", ");
    const wrong: string[] = [];
    for (let k = 0; k < PERMUTATION_TRIES && wrong.length < 3; k++) {
      const s = rng.shuffle([...combo]).join(", ");
      if (s !== answer && !wrong.includes(s)) wrong.push(s);
    }
    if (wrong.length < 3) continue;
    // The question names the categories in an order of its own, independent of the answer.
    const named = rng.shuffle([...combo]);
    out.push({
      task: task.name,
      template: TEMPLATES.OBJ_APPEARANCE_ORDER_TEMPLATE,
      fields: { choice_a: named[0], choice_b: named[1], choice_c: named[2], choice_d: named[3] },
      answer,
      options: [answer, ...wrong],
      extra: { categories_involved: combo },
    });
  }
  return out;
}

/** The appearance-order family. */
export const appearanceOrder: TaskFamily = {
  name: "obj_appearance_order",
  tasks: [{
    name: "obj_appearance_order",
    questionType: "obj_appearance_order",
    suite: "vsi",
    answer: "mca",
    defaultCap: 6, // the script's default (the driver's call is commented out)
  }],
  needs: { frames: true, mesh: false },
  generate,
};
