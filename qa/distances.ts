/**
 * Per-scene closest-point distances in the run's mode (DECISIONS 13), cached: every box is
 * sampled once and every category pair measured once, whichever tasks ask.
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
  const samples = new Map<ObjectBox, PointSample>();
  const sample = (b: ObjectBox) => {
    let s = samples.get(b);
    if (!s) samples.set(b, s = vsibenchSample(b));
    return s;
  };
  const pairCache = new Map<string, number>();
  const boxes = (a: ObjectBox, b: ObjectBox) =>
    mode === "exact" ? obbDistance(a, b) : sampleDistance(sample(a), sample(b));
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
            pairs.push([x, y, mode === "exact" ? 0 : sampleLowerBound(sample(x), sample(y))]);
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
      return mode === "exact" ? pointObbDistance(p, box) : pointSampleDistance(p, sample(box));
    },
  };
}
