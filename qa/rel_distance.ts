/**
 * Relative distance (data-reference §4.5): which of k categories is closest to a single
 * object. v1 (4 choices) is VSI-Bench's `object_rel_distance` (DECISIONS 15); v2 and v3 (3
 * and 2 choices) are training variants.
 *
 * @module
 */

import type { Rng } from "../geometry/rng.ts";
import { singleCategories } from "./_scene.ts";
import { combinations, sampleInOrder } from "./sample.ts";
import { CHOICE_FIELDS, TEMPLATES } from "./templates.ts";
import type { QaDraft, SceneContext, TaskFamily, TaskSpec } from "./types.ts";

/** A choice touching the primary object makes the question moot, metres (§4.5 step 5). */
export const MIN_CHOICE_DISTANCE = 0.15;

/** Two choices closer than this in distance are ambiguous, metres (§4.5). */
export const REL_DISTANCE_AMBIGUITY = 0.15;

/** The v2/v3 ambiguity threshold in rooms larger than {@link LARGE_ROOM}, metres. */
export const REL_DISTANCE_AMBIGUITY_LARGE = 0.3;

/** Room size above which v2/v3 use the larger threshold, m^2. */
export const LARGE_ROOM = 40;

const VARIANTS = [
  { name: "object_rel_distance", k: 4, cap: 100, template: TEMPLATES.OBJ_REL_DISTANCE_V1_TEMPLATE },
  {
    name: "object_rel_distance_v2",
    k: 3,
    cap: 6,
    template: TEMPLATES.OBJ_REL_DISTANCE_V2_TEMPLATE,
  },
  {
    name: "object_rel_distance_v3",
    k: 2,
    cap: 6,
    template: TEMPLATES.OBJ_REL_DISTANCE_V3_TEMPLATE,
  },
] as const;

function generate(scene: SceneContext, task: TaskSpec, rng: Rng): QaDraft[] {
  const v = VARIANTS.find((x) => x.name === task.name)!;
  const { meta, distances } = scene;
  const categories = Object.keys(meta.object_counts);
  const singles = singleCategories(meta);
  if (categories.length < v.k + 1 || singles.length === 0) return [];
  // v1 uses the fixed threshold: the reference computes a room-size one but never passes it.
  const threshold = v.k === 4 || meta.room_size <= LARGE_ROOM
    ? REL_DISTANCE_AMBIGUITY
    : REL_DISTANCE_AMBIGUITY_LARGE;
  const candidates: [string, string[]][] = [];
  for (const primary of singles) {
    const others = categories.filter((c) => c !== primary);
    for (const choice of combinations(others, v.k)) candidates.push([primary, choice]);
  }
  // Subsampled before any distance is computed, as the reference does.
  const out: QaDraft[] = [];
  for (const [primary, choices] of sampleInOrder(rng, candidates, scene.caps[task.name])) {
    const d = choices.map((c) => distances.categories(c, primary));
    if (Math.min(...d) < MIN_CHOICE_DISTANCE) continue;
    let ambiguous = false;
    for (let i = 0; i < d.length && !ambiguous; i++) {
      for (let j = i + 1; j < d.length; j++) {
        if (Math.abs(d[i] - d[j]) <= threshold) ambiguous = true;
      }
    }
    if (ambiguous) continue;
    const answer = choices[d.indexOf(Math.min(...d))];
    out.push({
      task: task.name,
      template: v.template,
      fields: { category: primary },
      choiceFields: CHOICE_FIELDS.slice(0, v.k),
      answer,
      options: choices,
      extra: { category: primary },
    });
  }
  return out;
}

/** The relative-distance family. */
export const relDistance: TaskFamily = {
  name: "object_rel_distance",
  tasks: VARIANTS.map((v) => ({
    name: v.name,
    questionType: v.name,
    suite: "vsi" as const,
    answer: "mca" as const,
    // v1: all_generate.py's 100; v2/v3 are not in the driver: the script default, 6.
    defaultCap: v.cap,
  })),
  needs: { frames: false, mesh: false },
  generate,
};
