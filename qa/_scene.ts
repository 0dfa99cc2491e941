/**
 * Scene facts several families share: categories by count, the instance map, frame poses.
 *
 * @module
 */

import { isRigidTransform, type Mat4 } from "../geometry/pose.ts";
import type { FrameRecord, ObjectBox, SceneMeta } from "../scene/metadata.ts";

/**
 * Categories counted exactly once, in `object_counts` order.
 *
 * @example
 * ```ts
 * const meta = { object_counts: { chair: 3, bed: 1, tv: 1 } } as unknown as Parameters<typeof singleCategories>[0];
 * if (singleCategories(meta).join() !== "bed,tv") throw new Error();
 * ```
 */
export function singleCategories(meta: SceneMeta): string[] {
  return Object.entries(meta.object_counts).filter(([, n]) => n === 1).map(([c]) => c);
}

/** An object of the instance map. */
export interface Instance {
  category: string;
  box: ObjectBox;
}

/**
 * instance_id -> category and box, from the scene's boxes (a repeated id keeps the last).
 *
 * @example
 * ```ts
 * const box = { instance_id: 4 } as unknown as import("../scene/metadata.ts").ObjectBox;
 * const meta = { object_bboxes: { bed: [box] } } as unknown as Parameters<typeof instanceMap>[0];
 * if (instanceMap(meta).get(4)?.category !== "bed") throw new Error();
 * ```
 */
export function instanceMap(meta: SceneMeta): Map<number, Instance> {
  const map = new Map<number, Instance>();
  for (const [category, boxes] of Object.entries(meta.object_bboxes)) {
    for (const box of boxes) map.set(box.instance_id, { category, box });
  }
  return map;
}

/**
 * The frame's camera-to-world pose as a row-major matrix, if it is a finite rigid transform.
 *
 * @example
 * ```ts
 * const frame = (m: number[][]) => ({ frame_id: 0, file_path_color: "", file_path_depth: "", camera_pose_camera_to_world: m, bboxes_2d: [] });
 * const id = [[1, 0, 0, 2], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
 * if (framePose(frame(id))?.[3] !== 2) throw new Error();
 * if (framePose(frame([[-Infinity]])) !== undefined) throw new Error();
 * ```
 */
export function framePose(frame: FrameRecord): Mat4 | undefined {
  const rows = frame.camera_pose_camera_to_world;
  if (!Array.isArray(rows) || rows.length !== 4) return undefined;
  const m = new Float64Array(16);
  for (let i = 0; i < 4; i++) {
    if (!Array.isArray(rows[i]) || rows[i].length !== 4) return undefined;
    for (let j = 0; j < 4; j++) m[4 * i + j] = rows[i][j] ?? NaN;
  }
  return isRigidTransform(m) ? m : undefined;
}

/**
 * Instances visible in a frame whose category is visible exactly once in it ("frame-unique",
 * data-reference §5.2), in `bboxes_2d` order.
 *
 * @example
 * ```ts
 * const box = {} as import("../scene/metadata.ts").ObjectBox;
 * const objects = new Map([[1, { category: "chair", box }], [2, { category: "chair", box }], [3, { category: "tv", box }]]);
 * const seen = (ids: number[]) => ({ frame_id: 0, file_path_color: "", file_path_depth: "", camera_pose_camera_to_world: [],
 *   bboxes_2d: ids.map((id) => ({ instance_id: id, bbox_2d: [0, 0, 1, 1] as [number, number, number, number], visible_pixels: 1 })) });
 * if (frameUniqueInstances(seen([1, 2, 3]), objects).map((o) => o.category).join() !== "tv") throw new Error();
 * if (frameUniqueInstances(seen([1, 3]), objects).length !== 2) throw new Error();
 * ```
 */
export function frameUniqueInstances(
  frame: FrameRecord,
  instances: Map<number, Instance>,
): (Instance & { id: number })[] {
  const visible = frame.bboxes_2d.filter((b) => instances.has(b.instance_id));
  const seen = new Map<string, number>();
  for (const b of visible) {
    const c = instances.get(b.instance_id)!.category;
    seen.set(c, (seen.get(c) ?? 0) + 1);
  }
  return visible
    .filter((b) => seen.get(instances.get(b.instance_id)!.category) === 1)
    .map((b) => ({ id: b.instance_id, ...instances.get(b.instance_id)! }));
}
