/**
 * Absolute distance (data-reference §4.4): the closest-point distance between two single
 * objects, in metres, one decimal.
 *
 * @module
 */

import { optionSource } from "./distractors.ts";
import { npRound } from "./rounding.ts";
import { singleCategories } from "./_scene.ts";
import { TEMPLATES } from "./templates.ts";
import type { QaDraft, TaskFamily } from "./types.ts";

/** Answers below this are dropped, metres (data-reference §4.4). */
export const MIN_ABS_DISTANCE = 0.2;

/** The absolute-distance family. */
export const absDistance: TaskFamily = {
  name: "object_abs_distance",
  tasks: [{
    name: "object_abs_distance",
    questionType: "object_abs_distance",
    suite: "vsi",
    answer: "na",
    defaultCap: 50, // all_generate.py
  }],
  needs: { frames: false, mesh: false },
  generate(scene, task, rng) {
    const out: QaDraft[] = [];
    const source = optionSource(scene, rng);
    const singles = singleCategories(scene.meta);
    // Each single category against every single category before it, the later one first.
    for (let i = 0; i < singles.length; i++) {
      for (let j = 0; j < i; j++) {
        const [first, second] = [singles[i], singles[j]];
        // The distance comes from numpy, so numpy's rounding.
        const answer = npRound(scene.distances.categories(first, second), 1);
        if (answer < MIN_ABS_DISTANCE) continue;
        const options = source.numeric(answer);
        if (options === undefined) continue;
        out.push({
          task: task.name,
          template: TEMPLATES.OBJ_ABS_DISTANCE_TEMPLATE,
          fields: { object1: first, object2: second },
          answer,
          ...(options ? { options } : {}),
          extra: { "category, first object": first, "category, second object": second },
        });
      }
    }
    return out;
  },
};
