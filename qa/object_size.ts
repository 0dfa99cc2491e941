/**
 * Object size (data-reference §4.2): the longest edge of a single object's box, in whole
 * centimetres.
 *
 * @module
 */

import { optionSource, SIZE_BOUNDS } from "./distractors.ts";
import { roundHalfEven } from "./rounding.ts";
import { singleCategories } from "./_scene.ts";
import { TEMPLATES } from "./templates.ts";
import type { QaDraft, TaskFamily } from "./types.ts";

/** The object-size family. */
export const objectSize: TaskFamily = {
  name: "object_size_estimation",
  tasks: [{
    name: "object_size_estimation",
    questionType: "object_size_estimation",
    suite: "vsi",
    answer: "na",
    defaultCap: 10000, // all_generate.py: all
  }],
  needs: { frames: false, mesh: false },
  generate(scene, task, rng) {
    const out: QaDraft[] = [];
    const source = optionSource(scene, rng);
    for (const category of singleCategories(scene.meta)) {
      const box = scene.meta.object_bboxes[category][0];
      const answer = roundHalfEven(100 * Math.max(...box.axesLengths));
      const options = source.numeric(answer, SIZE_BOUNDS);
      if (options === undefined) continue;
      out.push({
        task: task.name,
        template: TEMPLATES.OBJ_SIZE_ESTIMATE_TEMPLATE,
        fields: { category },
        answer,
        ...(options ? { options } : {}),
        extra: { category },
      });
    }
    return out;
  },
};
