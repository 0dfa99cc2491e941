/**
 * The shapes question generation works with: question types ({@link TaskSpec}), the families
 * that generate them ({@link TaskFamily}, the plug-in interface), what a family sees of a
 * scene ({@link SceneContext}), the drafts it returns ({@link QaDraft}) and the records `gen`
 * writes ({@link QaRecord}).
 *
 * A family is a module exporting one `TaskFamily`: the names of its question types, whether it
 * needs frame metadata or meshes, and a pure `generate(scene, task, rng)`. The driver
 * (`qa/generate.ts`) owns everything shared: task selection, caps, seeding, letter balancing,
 * ids, record layout. Route planning plugs in by adding its family to `FAMILIES`.
 *
 * @module
 */

import type { Rng } from "../geometry/rng.ts";
import type { Vec3 } from "../geometry/vec.ts";
import type { ObjectBox, SceneFrameMeta, SceneMeta } from "../scene/metadata.ts";

/** The benchmark a question type belongs to. */
export type Suite = "vsi" | "vsti";

/** Closest-point distance mode (DECISIONS 13). */
export type DistanceMode = "vsibench" | "exact";

/**
 * How a route pose finds the object that names it: vlm3r's nearest oriented box surface
 * (within 2.5 m), or the authors' nearest corner of the axis-aligned footprint.
 */
export type LandmarkRule = "nearest-surface" | "nearest-corner";

/**
 * `vlm3r`: the fixes of DECISIONS 20 (numeric distractors compared with a tolerance, questions
 * without options never depending on them); `reference`: the reference's behaviour, for
 * byte-level reproduction studies.
 */
export type Compat = "vlm3r" | "reference";

/** A question type as users select it with `--tasks` and `--cap`. */
export interface TaskSpec {
  /** Unique selectable name, e.g. `object_rel_direction_hard`, `camera_movement_direction_v2`. */
  name: string;
  /** The `question_type` written to records (several tasks may share one). */
  questionType: string;
  suite: Suite;
  /** Multiple-choice (letter answer) or numerical answer. */
  answer: "mca" | "na";
  /** Questions kept per scene unless `--per-scene` / `--cap` say otherwise. */
  defaultCap: number;
}

/** Closest-point distances of one scene in the run's mode, cached per box. */
export interface SceneDistances {
  readonly mode: DistanceMode;
  /** Box to box. */
  boxes(a: ObjectBox, b: ObjectBox): number;
  /** Category to category: the minimum over instance pairs (data-reference §3.4). */
  categories(a: string, b: string): number;
  /** A point (a camera centre) to a box. */
  point(p: Readonly<Vec3>, box: ObjectBox): number;
}

/** What a family sees of one scene. */
export interface SceneContext {
  meta: SceneMeta;
  /** Frame metadata, frames sorted by `frame_id`; absent when none was given. */
  frames?: SceneFrameMeta;
  distances: SceneDistances;
  /** Per-scene cap of each selected task, by task name. */
  caps: Readonly<Record<string, number>>;
  /**
   * Loads the scene's mesh, for families that declare `needs.mesh` (route planning); absent
   * when the run has no mesh source.
   */
  mesh?: () => Promise<unknown>;
  /** Whether numerical questions will carry their options (`gen --na-options`; default no). */
  naOptions?: boolean;
  /** Distractor behaviour (`gen --compat`; default `vlm3r`). */
  compat?: Compat;
  /** Route landmarks (`gen --landmark`; default `nearest-surface`). */
  landmark?: LandmarkRule;
}

/** A question before its options get their letters. */
export interface QaDraft {
  /** The {@link TaskSpec.name} that produced it. */
  task: string;
  /**
   * Template text (from `TEMPLATES`) and its fields. A family that builds its question text
   * itself (route planning) passes the finished text with no `{field}` left and empty fields.
   */
  template: string;
  fields: Record<string, string | number>;
  /**
   * Fields filled with the options in their final order (the templates that list the choices
   * as the options read: relative distance, camera-object relative distance, movement).
   */
  choiceFields?: readonly string[];
  /** The `ground_truth`: a number for numerical questions, the answer text otherwise. */
  answer: string | number;
  /**
   * Every option, the answer included, in any order. Numerical questions carry their
   * distractors too (written only with `--na-options`).
   */
  options?: readonly (string | number)[];
  /** `frame_id`s the question is about (VSTI). */
  frameIndices?: readonly (number | string)[];
  /** Task-specific record fields, written after the common ones, in this order. */
  extra?: Record<string, unknown>;
}

/** A task family: one module per question family. */
export interface TaskFamily {
  name: string;
  tasks: readonly TaskSpec[];
  /**
   * What the family cannot do without: frame metadata, a mesh, and (with frames) at least one
   * frame with a valid camera pose. A scene that lacks one loses the family's tasks, said once.
   */
  needs: { frames: boolean; mesh: boolean; poses?: boolean };
  /**
   * The scene's questions of one task, already capped as the reference caps them (some tasks
   * subsample candidates before computing answers). Pure given its inputs: all randomness
   * comes from `rng`.
   */
  generate(scene: SceneContext, task: TaskSpec, rng: Rng): QaDraft[] | Promise<QaDraft[]>;
}

/** One output record (VSI-Bench / VSTI-Bench schema, data-reference §4-5 and §10). */
export interface QaRecord {
  id: string;
  dataset: string;
  scene_name: string;
  video_path: string;
  question_type: string;
  question: string;
  /** `"A. x"` strings; raw numbers for VSTI numerical questions; null without options. */
  options: string[] | number[] | null;
  ground_truth: string | number;
  mc_answer: string | null;
  frame_indices?: (number | string)[];
  [extra: string]: unknown;
}
