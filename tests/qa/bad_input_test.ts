/**
 * Generation on broken scene data built from a synthetic scene: boxes of zero size, frame lists
 * that are empty or have no valid pose. Nothing may come out as a non-finite (JSON `null`)
 * answer, and every task lost is said.
 */

import { assert, assertEquals } from "../assert.ts";
import { obbDistance, pointObbDistance } from "../../geometry/box_distance.ts";
import { generateQuestions, selectTasks } from "../../qa/generate.ts";
import type { SceneInput } from "../../qa/input.ts";
import { npRound } from "../../qa/rounding.ts";
import type { DistanceMode, QaRecord } from "../../qa/types.ts";
import { renamed, synthInput } from "./synth_metadata.ts";

async function generate(scenes: SceneInput[], tasks: string[], distance: DistanceMode) {
  return await generateQuestions(scenes, selectTasks(tasks).tasks, {
    seed: "bad",
    distance,
    caps: {},
    naOptions: true,
  });
}

/** Every number in a record's answer and options is finite (JSON would write `null`). */
function finite(r: QaRecord): boolean {
  const nums = [r.ground_truth, ...(r.options ?? [])].filter((v) => typeof v === "number");
  return nums.every((v) => Number.isFinite(v));
}

Deno.test("a box of zero size: distances to it are exact, never null; its size is not asked", async () => {
  const scene = await synthInput();
  const singles = Object.keys(scene.meta.object_counts).filter((c) =>
    scene.meta.object_counts[c] === 1
  );
  assert(singles.length >= 3, singles.join());
  const [point, flat] = singles;
  const pointBox = scene.meta.object_bboxes[point][0];
  pointBox.axesLengths = [0, 0, 0];
  const flatBox = scene.meta.object_bboxes[flat][0];
  flatBox.axesLengths = [flatBox.axesLengths[0], flatBox.axesLengths[1], 0];
  for (const distance of ["vsibench", "exact"] as const) {
    const { records, failures } = await generate(
      [scene],
      ["object_abs_distance", "object_size_estimation", "camera_obj_abs_dist"],
      distance,
    );
    assertEquals(failures, []);
    assert(records.every(finite), distance);
    // Every absolute distance to the zero-size boxes is the exact one (independent formula for
    // the point box: point to solid box).
    const abs = records.filter((r) => r.question_type === "object_abs_distance");
    let checked = 0;
    for (const r of abs) {
      const pair = [r["category, first object"], r["category, second object"]] as string[];
      for (const [a, b] of [pair, [...pair].reverse()]) {
        const other = scene.meta.object_bboxes[b][0];
        if (a === point) {
          assertEquals(r.ground_truth, npRound(pointObbDistance(pointBox.centroid, other), 1));
          checked++;
        } else if (a === flat) {
          assertEquals(r.ground_truth, npRound(obbDistance(flatBox, other), 1));
          checked++;
        }
      }
    }
    assert(checked >= 2, `${distance}: ${checked} questions about the zero-size boxes`);
    const sizes = records.filter((r) => r.question_type === "object_size_estimation");
    assert(!sizes.some((r) => r.category === point), "a size of 0 cm cannot be scored");
    assert(sizes.some((r) => r.category === flat), "a flat box still has a size");
  }
});

Deno.test("frames that are empty or have no valid pose: their tasks skipped, one line per scene", async () => {
  const base = await synthInput();
  const empty = renamed(base, "scene0001_00");
  empty.frames!.frames = [];
  empty.framesSource = "frames.json";
  const poseless = renamed(base, "scene0002_00");
  for (const f of poseless.frames!.frames) {
    f.camera_pose_camera_to_world = f.frame_id === 0
      ? []
      : f.camera_pose_camera_to_world.map((row) => row.map(() => -Infinity));
  }
  poseless.framesSource = "frames.json";
  const tasks = ["obj_appearance_order", "camera_displacement", "obj_obj_relative_pos_nf"];
  const { records, failures, failureCounts } = await generate(
    [base, empty, poseless],
    tasks,
    "exact",
  );
  const n = poseless.frames!.frames.length;
  assertEquals(failures, [
    "obj_appearance_order, camera_displacement, obj_obj_relative_pos_nf on scannet/scene0001_00: " +
    "frames.json: scene0001_00.frames: expected at least one frame, got []",
    "camera_displacement, obj_obj_relative_pos_nf on scannet/scene0002_00: frames.json: " +
    "scene0002_00.frames[*].camera_pose_camera_to_world: expected a finite rigid " +
    `camera-to-world pose in some frame, got none in ${n} frames`,
  ]);
  assertEquals(failureCounts, { mesh: 0, frames: 2, answers: 0 });
  const by = (scene: string) =>
    new Set(records.filter((r) => r.scene_name === scene).map((r) => r.question_type));
  assertEquals(by(base.meta.scene_name), new Set(tasks));
  assertEquals(by("scene0001_00"), new Set());
  // Appearance order needs no pose: the pose-less scene still gets it.
  assertEquals(by("scene0002_00"), new Set(["obj_appearance_order"]));
});
