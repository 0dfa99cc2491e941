/**
 * Relative direction (data-reference §4.6): standing by one object and facing a second, where
 * is a third? VSI-Bench names the three levels `object_rel_direction_hard` (quadrants),
 * `_medium` (left, right, back) and `_easy` (left, right) (DECISIONS 15).
 *
 * @module
 */

import { obbCorners } from "../geometry/box_distance.ts";
import type { Rng } from "../geometry/rng.ts";
import type { ObjectBox } from "../scene/metadata.ts";
import { singleCategories } from "./_scene.ts";
import { combinations, sampleInOrder } from "./sample.ts";
import { TEMPLATES } from "./templates.ts";
import type { QaDraft, SceneContext, TaskFamily, TaskSpec } from "./types.ts";

/** Triples with two objects closer than this are skipped, metres (§4.6). */
export const MIN_TRIPLE_DISTANCE = 0.3;

/** Triples with two objects farther apart than this are skipped, metres (§4.6). */
export const MAX_TRIPLE_DISTANCE = 5.0;

/** Angles this close to a bin edge are ambiguous, degrees (§4.6). */
export const ANGLE_MARGIN = 10;

/** More corners than this in another bin than the centre make the question ambiguous. */
export const MAX_STRAY_CORNERS = 2;

/** The labels of each level, in the reference's option order. */
export const DIRECTION_LABELS = {
  hard: ["front-left", "front-right", "back-left", "back-right"],
  medium: ["left", "right", "back"],
  easy: ["left", "right"],
} as const;

type Level = keyof typeof DIRECTION_LABELS;

/**
 * The angle of `q` seen from `from` facing `toward`, in the xy plane: degrees counter-clockwise
 * from the facing direction, in [0, 360) (90 = left, 270 = right).
 *
 * @example
 * ```ts
 * // Facing +y from the origin: a point at -x is to the left.
 * if (Math.round(directionAngle([0, 0], [0, 1], [-1, 0])) !== 90) throw new Error();
 * if (Math.round(directionAngle([0, 0], [0, 1], [1, -1])) !== 225) throw new Error();
 * ```
 */
export function directionAngle(
  from: readonly number[],
  toward: readonly number[],
  q: readonly number[],
): number {
  const fx = toward[0] - from[0], fy = toward[1] - from[1];
  const vx = q[0] - from[0], vy = q[1] - from[1];
  const cos = (fx * vx + fy * vy) / (Math.hypot(fx, fy) * Math.hypot(vx, vy));
  const theta = Math.acos(Math.min(1, Math.max(-1, cos))) * 180 / Math.PI;
  return fx * vy - fy * vx < 0 ? 360 - theta : theta;
}

/** The bin of an angle at each level: quadrant labels, or left / back / right. */
function bin(level: Level, theta: number): string {
  if (level === "hard") {
    return ["front-left", "back-left", "back-right", "front-right"][Math.floor(theta / 90)];
  }
  return theta < 135 ? "left" : theta < 225 ? "back" : "right";
}

/**
 * The direction label of `query` for an observer by `positioning` facing `orienting`, or
 * undefined when the question would be ambiguous (§4.6): more than two of the query box's
 * eight corners fall in another bin than its centre, or the centre's angle is within 10
 * degrees of a bin edge (only the upper edge of each quadrant for `hard`, as in the
 * reference; every edge, 0 and 360 included, otherwise), or the answer is `back` at `easy`.
 *
 * @example
 * ```ts
 * const box = (x: number, y: number) => ({ centroid: [x, y, 0] as [number, number, number],
 *   axesLengths: [0.2, 0.2, 0.2] as [number, number, number], normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1],
 *   min: [0, 0, 0] as [number, number, number], max: [0, 0, 0] as [number, number, number], instance_id: 0 });
 * // By the bed at the origin facing the tv at +y, a lamp at (-1.5, -0.5) is back-left (108 degrees).
 * if (relativeDirection("hard", box(0, 0), box(0, 2), box(-1.5, -0.5)) !== "back-left") throw new Error();
 * if (relativeDirection("medium", box(0, 0), box(0, 2), box(-1.5, -0.5)) !== "left") throw new Error();
 * // At 135 degrees it sits on the left/back edge: ambiguous for medium.
 * if (relativeDirection("medium", box(0, 0), box(0, 2), box(-1, -1)) !== undefined) throw new Error();
 * ```
 */
export function relativeDirection(
  level: Level,
  positioning: ObjectBox,
  orienting: ObjectBox,
  query: ObjectBox,
): string | undefined {
  const from = positioning.centroid, toward = orienting.centroid;
  const theta = directionAngle(from, toward, query.centroid);
  if (!Number.isFinite(theta)) return undefined;
  const label = bin(level, theta);
  let stray = 0;
  for (const c of obbCorners(query)) {
    if (bin(level, directionAngle(from, toward, c)) !== label) stray++;
  }
  if (stray > MAX_STRAY_CORNERS) return undefined;
  if (level === "hard") {
    if (90 - (theta % 90) < ANGLE_MARGIN) return undefined;
  } else {
    if ([0, 135, 225, 360].some((edge) => Math.abs(theta - edge) < ANGLE_MARGIN)) return undefined;
    if (level === "easy" && label === "back") return undefined;
  }
  return label;
}

const LEVELS: { name: string; level: Level; template: string }[] = [
  {
    name: "object_rel_direction_hard",
    level: "hard",
    template: TEMPLATES.OBJ_REL_DIRECTION_V1_TEMPLATE,
  },
  {
    name: "object_rel_direction_medium",
    level: "medium",
    template: TEMPLATES.OBJ_REL_DIRECTION_V2_TEMPLATE,
  },
  {
    name: "object_rel_direction_easy",
    level: "easy",
    template: TEMPLATES.OBJ_REL_DIRECTION_V3_TEMPLATE,
  },
];

function generate(scene: SceneContext, task: TaskSpec, rng: Rng): QaDraft[] {
  const { level, template } = LEVELS.find((l) => l.name === task.name)!;
  const { meta, distances } = scene;
  const triples = [...combinations(singleCategories(meta), 3)];
  const out: QaDraft[] = [];
  for (const [a, b, c] of sampleInOrder(rng, triples, scene.caps[task.name])) {
    const far = [[a, b], [a, c], [b, c]].some(([x, y]) => {
      const d = distances.categories(x, y);
      return d < MIN_TRIPLE_DISTANCE || d > MAX_TRIPLE_DISTANCE;
    });
    if (far) continue;
    // Three role assignments per triple: (positioning, orienting, querying).
    for (const [p, o, q] of [[a, b, c], [a, c, b], [b, a, c]]) {
      const box = (cat: string) => meta.object_bboxes[cat][0];
      const answer = relativeDirection(level, box(p), box(o), box(q));
      if (answer === undefined) continue;
      out.push({
        task: task.name,
        template,
        fields: { positioning_object: p, orienting_object: o, querying_object: q },
        answer,
        options: [...DIRECTION_LABELS[level]],
        extra: {
          "category, positioning object": p,
          "category, orienting object": o,
          "category, querying object": q,
        },
      });
    }
  }
  return out;
}

/** The relative-direction family. */
export const relDirection: TaskFamily = {
  name: "object_rel_direction",
  tasks: LEVELS.map((l) => ({
    name: l.name,
    questionType: l.name,
    suite: "vsi" as const,
    answer: "mca" as const,
    defaultCap: 20, // all_generate.py, for each level
  })),
  needs: { frames: false, mesh: false },
  generate,
};
