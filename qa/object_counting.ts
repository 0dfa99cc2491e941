/**
 * Object count (data-reference §4.1): "How many chair(s) are in this room?" for every category
 * counted at least twice.
 *
 * @module
 */

import { optionSource } from "./distractors.ts";
import { TEMPLATES } from "./templates.ts";
import type { QaDraft, TaskFamily } from "./types.ts";

/** The object-counting family. */
export const objectCounting: TaskFamily = {
  name: "object_counting",
  tasks: [{
    name: "object_counting",
    questionType: "object_counting",
    suite: "vsi",
    answer: "na",
    defaultCap: 10000, // all_generate.py: --num_subsample default 10000, i.e. all
  }],
  needs: { frames: false, mesh: false },
  generate(scene, task, rng) {
    const out: QaDraft[] = [];
    const source = optionSource(scene, rng);
    for (const [category, n] of Object.entries(scene.meta.object_counts)) {
      if (n < 2) continue;
      const options = source.count(n);
      out.push({
        task: task.name,
        template: TEMPLATES.OBJ_COUNT_TEMPLATE,
        fields: { category },
        answer: n,
        ...(options ? { options } : {}),
        extra: { category },
      });
    }
    return out;
  },
};
