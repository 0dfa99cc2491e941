/**
 * Per-scene closest-point distances in the run's mode (DECISIONS 13), cached: every box is
 * sampled once and every category pair measured once, whichever tasks ask.
 *
 * A box with a zero side has no VSI-Bench sample (the reference's grid has no values along that
 * side and it retries forever; ours would keep only rounding-dependent boundary points, or none,
 * and a distance of infinity): in `vsibench` mode, distances that involve one are exact. The
 * reader warns about such boxes (`qa/input.ts`).
 *
 * @module
 */

import {
  obbDistance,
  pointObbDistance,
  type PointSample,
  pointSampleDistance,
  sampleDistance,
  sampleLowerBound,
  vsibenchSample,
} from "../geometry/box_distance.ts";
import type { Vec3 } from "../geometry/vec.ts";
import type { ObjectBox, SceneMeta } from "../scene/metadata.ts";
import type { DistanceMode, SceneDistances } from "./types.ts";

/**
 * The distances of one scene.
 *
 * @example
 * ```ts
 * const unit = [1, 0, 0, 0, 1, 0, 0, 0, 1];
 * const box = (x: number, id: number) => ({
 *   centroid: [x, 0, 0] as [number, number, number], axesLengths: [1, 1, 1] as [number, number, number],
 *   normalizedAxes: unit, min: [x - 0.5, -0.5, -0.5] as [number, number, number],
 *   max: [x + 0.5, 0.5, 0.5] as [number, number, number], instance_id: id,
 * });
 * const meta = {
 *   scene_name: "s", dataset: "scannet" as const, split: "val", video_path: "", room_size: 10,
 *   room_center: [0, 0, 0] as [number, number, number], object_counts: { bed: 1, sofa: 1 },
 *   object_bboxes: { bed: [box(0, 1)], sofa: [box(2.5, 2)] },
 * };
 * if (sceneDistances(meta, "vsibench").categories("bed", "sofa") !== 1.5) throw new Error();
 * if (Math.abs(sceneDistances(meta, "exact").categories("bed", "sofa") - 1.5) > 1e-12) throw new Error();
 * ```
 */
export function sceneDistances(meta: SceneMeta, mode: DistanceMode): SceneDistances {
  const exact = (b: ObjectBox) => mode === "exact" || hasZeroSide(b);
  const samples = new Map<ObjectBox, PointSample>();
  const sample = (b: ObjectBox) => {
    let s = samples.get(b);
    if (!s) samples.set(b, s = vsibenchSample(b));
    return s;
  };
  const pairCache = new Map<string, number>();
  const boxes = (a: ObjectBox, b: ObjectBox) =>
    exact(a) || exact(b) ? obbDistance(a, b) : sampleDistance(sample(a), sample(b));
  return {
    mode,
    boxes,
    categories(a: string, b: string): number {
      const key = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
      let d = pairCache.get(key);
      if (d === undefined) {
        const pairs: [ObjectBox, ObjectBox, number][] = [];
        for (const x of meta.object_bboxes[a] ?? []) {
          for (const y of meta.object_bboxes[b] ?? []) {
            pairs.push([x, y, exact(x) || exact(y) ? 0 : sampleLowerBound(sample(x), sample(y))]);
          }
        }
        // Instance pairs in order of their lower bounds: far ones are never measured.
        pairs.sort((p, q) => p[2] - q[2]);
        d = Infinity;
        for (const [x, y, lb] of pairs) if (lb <= d) d = Math.min(d, boxes(x, y));
        pairCache.set(key, d);
      }
      return d;
    },
    point(p: Readonly<Vec3>, box: ObjectBox): number {
      return exact(box) ? pointObbDistance(p, box) : pointSampleDistance(p, sample(box));
    },
  };
}

/**
 * Whether a box has a side of length 0 (a flat, line or point box), which VSI-Bench's sampled
 * distance cannot measure.
 *
 * @example
 * ```ts
 * const box = (e: [number, number, number]) => ({ centroid: [0, 0, 0] as [number, number, number],
 *   axesLengths: e, normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1] });
 * if (!hasZeroSide(box([1, 0, 1])) || hasZeroSide(box([1, 1e-9, 1]))) throw new Error();
 * ```
 */
export function hasZeroSide(box: Pick<ObjectBox, "axesLengths">): boolean {
  return box.axesLengths.some((e) => e === 0);
}
