/**
 * The two benchmarks as lmms-eval defines them: which question types are multiple choice (MCA,
 * scored by accuracy) or numerical (NA, scored by MRA), how per-type scores merge into tasks, and
 * the columns of the paper's Tables 1 and 2 with their published rows.
 *
 * @module
 */

/** A benchmark vlm3r scores. */
export type BenchName = "vsi" | "vsti";

/** How a question is answered: a letter among options, or a number. */
export type AnswerKind = "mca" | "na";

/** One column of a paper table: a label and the question types it averages. */
export interface TableColumn {
  key: string;
  label: string;
  /** Question types whose per-type scores are averaged into this column. */
  types: readonly string[];
}

/** A row of a published table: scores in percent, `null` where the paper prints "-". */
export interface PublishedRow {
  method: string;
  avg: number | null;
  scores: readonly (number | null)[];
}

/** A benchmark definition. */
export interface Benchmark {
  name: BenchName;
  title: string;
  /** Question types by answer kind, as in lmms-eval's MCA_QUESTION_TYPES / NA_QUESTION_TYPES. */
  mca: readonly string[];
  na: readonly string[];
  /** The paper table's columns after "Avg", in its order. */
  columns: readonly TableColumn[];
  /** Where the published rows come from. */
  source: string;
  published: readonly PublishedRow[];
}

// lmms-eval thinking-in-space `tasks/vsibench/utils.py` (data-reference §8.3): 6 MCA + 4 NA types;
// the three relative-direction levels merge into one task, leaving 8.
const VSI_MCA = [
  "object_rel_direction_easy",
  "object_rel_direction_medium",
  "object_rel_direction_hard",
  "object_rel_distance",
  "route_planning",
  "obj_appearance_order",
] as const;
const VSI_NA = [
  "object_abs_distance",
  "object_counting",
  "object_size_estimation",
  "room_size_estimation",
] as const;

// The VLM-3R fork's `tasks/vstibench/utils.py` (data-reference §8.3).
const VSTI_MCA = [
  "obj_obj_relative_pos_nf",
  "obj_obj_relative_pos_ud",
  "obj_obj_relative_pos_lr",
  "camera_obj_rel_dist_v1",
  "camera_obj_rel_dist_v2",
  "camera_obj_rel_dist_v3",
  "camera_movement_direction",
] as const;
const VSTI_NA = ["camera_obj_abs_dist", "camera_displacement", "camera_obj_dist_change"] as const;

/** The relative-direction levels that lmms-eval averages into one VSI-Bench task. */
export const REL_DIRECTION_LEVELS: readonly string[] = [
  "object_rel_direction_easy",
  "object_rel_direction_medium",
  "object_rel_direction_hard",
];

/** VSI-Bench: Table 1 of the VLM-3R paper. */
export const VSI_BENCH: Benchmark = {
  name: "vsi",
  title: "VSI-Bench",
  mca: VSI_MCA,
  na: VSI_NA,
  columns: [
    { key: "object_counting", label: "Obj. Count", types: ["object_counting"] },
    { key: "object_abs_distance", label: "Abs. Dist.", types: ["object_abs_distance"] },
    { key: "object_size_estimation", label: "Obj. Size", types: ["object_size_estimation"] },
    { key: "room_size_estimation", label: "Room Size", types: ["room_size_estimation"] },
    { key: "object_rel_distance", label: "Rel. Dist.", types: ["object_rel_distance"] },
    { key: "object_rel_direction", label: "Rel. Dir.", types: REL_DIRECTION_LEVELS },
    { key: "route_planning", label: "Route Plan", types: ["route_planning"] },
    { key: "obj_appearance_order", label: "Appr. Order", types: ["obj_appearance_order"] },
  ],
  // paper.md "Published results", VSI-Bench (Table 1).
  source: "VLM-3R paper (arXiv 2505.20279), Table 1",
  published: [
    {
      method: "Chance (random)",
      avg: null,
      scores: [null, null, null, null, 25.0, 36.1, 28.3, 25.0],
    },
    {
      method: "Chance (frequency)",
      avg: 34.0,
      scores: [62.1, 32.0, 29.9, 33.1, 25.1, 47.9, 28.4, 25.2],
    },
    {
      method: "Human (tiny set)",
      avg: 79.2,
      scores: [94.3, 47.0, 60.4, 45.9, 94.7, 95.8, 95.8, 100.0],
    },
    { method: "GPT-4o", avg: 34.0, scores: [46.2, 5.3, 43.8, 38.2, 37.0, 41.3, 31.5, 28.5] },
    {
      method: "Gemini-1.5 Pro",
      avg: 45.4,
      scores: [56.2, 30.9, 64.1, 43.6, 51.3, 46.3, 36.0, 34.6],
    },
    {
      method: "LLaVA-NeXT-Video-7B",
      avg: 35.6,
      scores: [48.5, 14.0, 47.8, 24.2, 43.5, 42.4, 34.0, 30.6],
    },
    {
      method: "LLaVA-NeXT-Video-72B",
      avg: 40.9,
      scores: [48.9, 22.8, 57.4, 35.3, 42.4, 36.7, 35.0, 48.6],
    },
    { method: "VLM-3R (7B)", avg: 60.9, scores: [70.2, 49.4, 69.2, 67.1, 65.4, 80.5, 45.4, 40.1] },
  ],
};

/**
 * VSTI-Bench: Table 2 of the VLM-3R paper. Its five columns group the question types; a
 * column is the mean of its types' scores (the paper's random-chance 36.1 for the three
 * camera-object relative-distance variants, with 4, 3 and 2 options, is that mean).
 */
export const VSTI_BENCH: Benchmark = {
  name: "vsti",
  title: "VSTI-Bench",
  mca: VSTI_MCA,
  na: VSTI_NA,
  columns: [
    { key: "camera_obj_abs_dist", label: "Cam-Obj Abs. Dist.", types: ["camera_obj_abs_dist"] },
    { key: "camera_displacement", label: "Cam. Displace.", types: ["camera_displacement"] },
    {
      key: "camera_movement_direction",
      label: "Cam. Mov. Dir.",
      types: ["camera_movement_direction"],
    },
    {
      key: "obj_obj_relative_pos",
      label: "Obj-Obj Rel. Pos.",
      types: ["obj_obj_relative_pos_nf", "obj_obj_relative_pos_lr", "obj_obj_relative_pos_ud"],
    },
    {
      key: "camera_obj_rel_dist",
      label: "Cam-Obj Rel. Dist.",
      types: ["camera_obj_rel_dist_v1", "camera_obj_rel_dist_v2", "camera_obj_rel_dist_v3"],
    },
  ],
  // paper.md "Published results", VSTI-Bench (Table 2).
  source: "VLM-3R paper (arXiv 2505.20279), Table 2",
  published: [
    { method: "Chance (random)", avg: null, scores: [null, null, 36.1, 50.0, 36.1] },
    { method: "Chance (frequency)", avg: 27.4, scores: [5.4, 6.2, 40.7, 52.2, 32.4] },
    { method: "Human", avg: 77.0, scores: [51.4, 46.8, 95.1, 97.5, 94.3] },
    { method: "GPT-4o", avg: 38.2, scores: [29.5, 23.4, 37.3, 58.1, 42.5] },
    { method: "LLaVA-NeXT-Video-72B", avg: 44.0, scores: [32.3, 10.5, 48.1, 78.3, 50.9] },
    { method: "VLM-3R (7B)", avg: 58.8, scores: [39.4, 39.6, 60.6, 86.5, 68.6] },
  ],
};

/** Both benchmarks by name. */
export const BENCHMARKS: Readonly<Record<BenchName, Benchmark>> = {
  vsi: VSI_BENCH,
  vsti: VSTI_BENCH,
};

/**
 * The answer kind of a question type in a benchmark, or `undefined` when the benchmark does not
 * have the type (lmms-eval raises "Unknown question type" there).
 *
 * @example
 * ```ts
 * if (answerKind(VSI_BENCH, "object_counting") !== "na") throw new Error();
 * if (answerKind(VSTI_BENCH, "object_counting") !== undefined) throw new Error();
 * ```
 */
export function answerKind(bench: Benchmark, questionType: string): AnswerKind | undefined {
  if (bench.mca.includes(questionType)) return "mca";
  if (bench.na.includes(questionType)) return "na";
  return undefined;
}

/**
 * The benchmark whose question types cover the most of `types` (VSI-Bench on a tie), with how
 * many of them it knows; `undefined` when neither knows any.
 *
 * @example
 * ```ts
 * if (detectBenchmark(["camera_displacement", "object_counting", "camera_obj_abs_dist"])?.name !== "vsti") {
 *   throw new Error();
 * }
 * ```
 */
export function detectBenchmark(types: Iterable<string>): Benchmark | undefined {
  let vsi = 0, vsti = 0;
  for (const t of types) {
    if (answerKind(VSI_BENCH, t)) vsi++;
    if (answerKind(VSTI_BENCH, t)) vsti++;
  }
  if (vsi === 0 && vsti === 0) return undefined;
  return vsti > vsi ? VSTI_BENCH : VSI_BENCH;
}
