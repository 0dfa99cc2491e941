/**
 * Room size (data-reference §4.3): the floor area in m^2, one decimal.
 *
 * @module
 */

import { optionSource } from "./distractors.ts";
import { pyRound } from "./rounding.ts";
import { TEMPLATES } from "./templates.ts";
import type { TaskFamily } from "./types.ts";

/** The room-size family. */
export const roomSize: TaskFamily = {
  name: "room_size_estimation",
  tasks: [{
    name: "room_size_estimation",
    questionType: "room_size_estimation",
    suite: "vsi",
    answer: "na",
    defaultCap: 1, // one question per scene
  }],
  needs: { frames: false, mesh: false },
  generate(scene, task, rng) {
    const answer = pyRound(scene.meta.room_size, 1);
    const options = optionSource(scene, rng).numeric(answer);
    if (options === undefined) return [];
    return [{
      task: task.name,
      template: TEMPLATES.ROOM_SIZE_TEMPLATE,
      fields: {},
      answer,
      ...(options ? { options } : {}),
    }];
  },
};
