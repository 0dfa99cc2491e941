/**
 * The question-generation driver: which tasks run, per-scene generation (pure, safe to run in
 * workers), and the sequential pass that gives options their letters and records their ids.
 *
 * Determinism (DECISIONS 11): every scene and task draws from its own stream,
 * `Rng("vlm3r-gen/<seed>").child("<dataset>/<scene>").child(<task>)`, so a scene's drafts
 * depend on nothing else; letters are then assigned scene after scene in (dataset, scene)
 * order with one stream per task. Worker count, input order and the other selected tasks
 * change nothing.
 *
 * Families that need meshes (route planning) read them from the raw scene folders under
 * `RunOptions.scenesRoot` (`gen --scenes-root`); a scene whose mesh cannot be read or
 * navigated loses those tasks, with a message, and keeps the others.
 *
 * @module
 */

import { NavMeshBuildError } from "../geometry/navmesh/mod.ts";
import { Rng } from "../geometry/rng.ts";
import { DataError } from "../io/errors.ts";
import { describeValue } from "../io/json.ts";
import { WorkerPool } from "../io/pool.ts";
import { readSceneMesh } from "../scene/mesh_source.ts";
import type { SceneMeta } from "../scene/metadata.ts";
import { absDistance } from "./abs_distance.ts";
import { appearanceOrder } from "./appearance_order.ts";
import { LetterBalancer } from "./balance.ts";
import { cameraDisplacement } from "./camera_displacement.ts";
import { cameraMovement } from "./camera_movement.ts";
import { cameraObjectDistance } from "./camera_object_distance.ts";
import { sceneDistances } from "./distances.ts";
import type { SceneInput } from "./input.ts";
import { objectCounting } from "./object_counting.ts";
import { objectRelativePosition } from "./object_relative_position.ts";
import { objectSize } from "./object_size.ts";
import { relDirection } from "./rel_direction.ts";
import { relDistance } from "./rel_distance.ts";
import { roomSize } from "./room_size.ts";
import { routePlanning } from "./route_planning.ts";
import { sampleInOrder } from "./sample.ts";
import { fillTemplate } from "./templates.ts";
import { framePose } from "./_scene.ts";
import type {
  Compat,
  DistanceMode,
  LandmarkRule,
  QaDraft,
  QaRecord,
  SceneContext,
  TaskFamily,
  TaskSpec,
} from "./types.ts";

/**
 * Every family, in the order their questions are written. Route planning joins here: a module
 * exporting a {@link TaskFamily}, added to this list.
 *
 * @example
 * ```ts
 * // A family is its question types, its needs, and a pure generate function.
 * import type { TaskFamily } from "./types.ts";
 * const echo: TaskFamily = {
 *   name: "room_echo",
 *   tasks: [{ name: "room_echo", questionType: "room_echo", suite: "vsi", answer: "na", defaultCap: 1 }],
 *   needs: { frames: false, mesh: false },
 *   generate: (scene, task) => [{ task: task.name, template: "Room {name}?", fields: { name: scene.meta.scene_name }, answer: 1 }],
 * };
 * const scene = { source: "x", syntheticIds: true, meta: {
 *   scene_name: "s", dataset: "scannet" as const, split: "val", video_path: "s.mp4", room_size: 9,
 *   room_center: [0, 0, 0] as [number, number, number], object_counts: {}, object_bboxes: {} } };
 * const families = [...FAMILIES, echo];
 * const drafts = await generateSceneDrafts(scene, selectTasks(["room_echo"], families).tasks,
 *   { seed: "0", distance: "exact", caps: {}, naOptions: false }, { families });
 * const [record] = buildRecords([{ ...drafts, video_path: "s.mp4" }], { seed: "0", distance: "exact", caps: {}, naOptions: false }, families);
 * if (record.question !== "Room s?") throw new Error(record.question);
 * ```
 */
export const FAMILIES: readonly TaskFamily[] = [
  objectCounting,
  objectSize,
  roomSize,
  absDistance,
  relDistance,
  relDirection,
  appearanceOrder,
  routePlanning,
  cameraDisplacement,
  cameraObjectDistance,
  cameraMovement,
  objectRelativePosition,
];

/** Every task of {@link FAMILIES}, in order. */
export const TASKS: readonly TaskSpec[] = FAMILIES.flatMap((f) => f.tasks);

/**
 * The family that produces a task.
 *
 * @example
 * ```ts
 * if (familyOf("object_rel_direction_easy").name !== "object_rel_direction") throw new Error();
 * ```
 */
export function familyOf(task: string, families: readonly TaskFamily[] = FAMILIES): TaskFamily {
  const f = families.find((f) => f.tasks.some((t) => t.name === task));
  if (!f) throw new Error(`no family produces '${task}'`);
  return f;
}

/**
 * Tasks named by a selection: `vsi`, `vsti`, `all`, task names, or record question types
 * (`camera_movement_direction` selects its three variants). Returned in registry order, with
 * the names that matched nothing.
 *
 * @example
 * ```ts
 * const { tasks, unknown } = selectTasks(["object_counting", "camera_movement_direction", "nope"]);
 * if (tasks.length !== 4 || unknown[0] !== "nope") throw new Error(tasks.map((t) => t.name).join());
 * if (selectTasks(["vsti"]).tasks.some((t) => t.suite !== "vsti")) throw new Error();
 * ```
 */
export function selectTasks(
  names: readonly string[],
  families: readonly TaskFamily[] = FAMILIES,
): { tasks: TaskSpec[]; unknown: string[] } {
  const all = families.flatMap((f) => f.tasks);
  const chosen = new Set<string>();
  const unknown: string[] = [];
  for (const name of names) {
    const hit = all.filter((t) =>
      name === "all" || name === t.suite || name === t.name || name === t.questionType
    );
    if (hit.length === 0) unknown.push(name);
    for (const t of hit) chosen.add(t.name);
  }
  return { tasks: all.filter((t) => chosen.has(t.name)), unknown };
}

/** Settings of a generation run. */
export interface GenerateOptions {
  seed: string;
  distance: DistanceMode;
  /** Per-scene cap by task name (missing: the task's default). */
  caps: Readonly<Record<string, number>>;
  /** Write options for numerical questions too (training data, DECISIONS 16). */
  naOptions: boolean;
  /** Numeric distractors as vlm3r draws them (default) or as the reference (DECISIONS 20). */
  compat?: Compat;
  /** How route poses find their landmarks (default `nearest-surface`). */
  landmark?: LandmarkRule;
}

/** One scene's drafts and what could not run on it. */
export interface SceneDrafts {
  dataset: string;
  scene: string;
  drafts: QaDraft[];
  /**
   * Tasks skipped for want of frame metadata or meshes. With `error` (one line naming the file,
   * the field and what was expected), the input was there but unusable: a mesh that could not
   * be read or navigated, a frame list that is empty or has no valid pose; or (`answers`) the
   * task produced answers that are not finite numbers, which were dropped.
   */
  skipped: { task: string; reason: "frames" | "mesh" | "answers"; error?: string }[];
}

/** The root stream of a run. */
function runRng(seed: string): Rng {
  return new Rng(`vlm3r-gen/${seed}`);
}

/**
 * The stream a task draws from on one scene (before the driver's cap, `.child("cap")`), so
 * that another command (`vlm3r route`) can ask the very questions `gen` asks.
 *
 * @example
 * ```ts
 * const a = taskRng("0", { dataset: "scannet", scene_name: "s" }, "route_planning").next();
 * if (a !== taskRng("0", { dataset: "scannet", scene_name: "s" }, "route_planning").next()) throw new Error();
 * ```
 */
export function taskRng(
  seed: string,
  scene: { dataset: string; scene_name: string },
  task: string,
): Rng {
  return runRng(seed).child(`${scene.dataset}/${scene.scene_name}`).child(task);
}

/**
 * A scene's mesh loader for the families that need one: the mesh under the raw root `root`
 * (`gen --scenes-root`), read on first use and kept for the scene's other tasks.
 *
 * @example
 * ```ts ignore
 * const mesh = await meshLoader("data/scannet", scene.meta)();
 * ```
 */
export function meshLoader(root: string, meta: SceneMeta): () => Promise<unknown> {
  let mesh: Promise<unknown> | undefined;
  return () => (mesh ??= readSceneMesh(root, meta));
}

/**
 * One scene's questions before lettering: each selected task generated from its own stream,
 * then capped per scene (data-reference §1.5). Pure apart from the optional mesh loader.
 *
 * @example
 * ```ts
 * const scene = { source: "x", syntheticIds: true, meta: {
 *   scene_name: "s", dataset: "scannet" as const, split: "val", video_path: "s.mp4", room_size: 21.37,
 *   room_center: [0, 0, 0] as [number, number, number], object_counts: {}, object_bboxes: {} } };
 * const { tasks } = selectTasks(["room_size_estimation", "camera_displacement"]);
 * const r = await generateSceneDrafts(scene, tasks, { seed: "1", distance: "vsibench", caps: {}, naOptions: false });
 * if (r.drafts[0].answer !== 21.4 || r.skipped[0].task !== "camera_displacement") throw new Error();
 * ```
 */
export async function generateSceneDrafts(
  scene: SceneInput,
  tasks: readonly TaskSpec[],
  options: GenerateOptions,
  extra: { mesh?: () => Promise<unknown>; families?: readonly TaskFamily[] } = {},
): Promise<SceneDrafts> {
  const { meta } = scene;
  const caps: Record<string, number> = {};
  for (const t of tasks) caps[t.name] = options.caps[t.name] ?? t.defaultCap;
  const ctx: SceneContext = {
    meta,
    frames: scene.frames,
    distances: sceneDistances(meta, options.distance),
    caps,
    mesh: extra.mesh,
    naOptions: options.naOptions,
    compat: options.compat,
    landmark: options.landmark,
  };
  const out: SceneDrafts = {
    dataset: meta.dataset,
    scene: meta.scene_name,
    drafts: [],
    skipped: [],
  };
  const framesProblem = unusableFrames(scene);
  for (const task of tasks) {
    const family = familyOf(task.name, extra.families);
    if (family.needs.frames && !scene.frames) {
      out.skipped.push({ task: task.name, reason: "frames" });
      continue;
    }
    const frameError = family.needs.frames
      ? framesProblem.empty ?? (family.needs.poses ? framesProblem.poses : undefined)
      : undefined;
    if (frameError) {
      out.skipped.push({ task: task.name, reason: "frames", error: frameError });
      continue;
    }
    if (family.needs.mesh && !extra.mesh) {
      out.skipped.push({ task: task.name, reason: "mesh" });
      continue;
    }
    const rng = taskRng(options.seed, meta, task.name);
    let drafts: QaDraft[];
    try {
      drafts = await family.generate(ctx, task, rng);
    } catch (e) {
      // A mesh that is missing, corrupt or has nothing walkable costs this scene the task only.
      const bad = e instanceof DataError || e instanceof NavMeshBuildError;
      if (!family.needs.mesh || !bad) throw e;
      out.skipped.push({ task: task.name, reason: "mesh", error: e.message });
      continue;
    }
    // A number that JSON cannot hold would be written as `null`: never let one through.
    const bad = drafts.filter((d) => !finiteDraft(d));
    if (bad.length > 0) {
      out.skipped.push({
        task: task.name,
        reason: "answers",
        error: `${bad.length} question${bad.length === 1 ? "" : "s"} dropped: expected finite ` +
          `answers and options, got ${describeValue(bad[0].answer)}` +
          (bad[0].options ? ` of ${describeValue(bad[0].options)}` : ""),
      });
      drafts = drafts.filter(finiteDraft);
    }
    out.drafts.push(...sampleInOrder(rng.child("cap"), drafts, caps[task.name]));
  }
  return out;
}

/** Whether every number of a draft's answer and options is finite. */
function finiteDraft(d: QaDraft): boolean {
  const ok = (v: unknown) => typeof v !== "number" || Number.isFinite(v);
  return ok(d.answer) && (d.options ?? []).every(ok);
}

/**
 * Why a scene's frame metadata cannot serve the families that need frames (`empty`: no
 * frames) or poses (`poses`: no frame with a finite rigid pose), as one line naming the file
 * and the field.
 */
function unusableFrames(scene: SceneInput): { empty?: string; poses?: string } {
  const f = scene.frames;
  if (!f) return {};
  const file = scene.framesSource ?? scene.source;
  if (f.frames.length === 0) {
    return {
      empty: new DataError(file, `${f.scene_name}.frames`, "at least one frame", "[]").message,
    };
  }
  if (f.frames.some((x) => framePose(x) !== undefined)) return {};
  return {
    poses: new DataError(
      file,
      `${f.scene_name}.frames[*].camera_pose_camera_to_world`,
      "a finite rigid camera-to-world pose in some frame",
      `none in ${f.frames.length} frames`,
    ).message,
  };
}

/** A 64-bit string hash as 16 hex digits (two independent 32-bit multiplicative mixes). */
function hashHex(s: string): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, "0") + (h1 >>> 0).toString(16).padStart(8, "0");
}

/** One scene's drafts as {@link RecordBuilder} letters them. */
export interface SceneDraftsInput {
  dataset: string;
  scene: string;
  video_path: string;
  drafts: readonly QaDraft[];
}

/**
 * Letters and records scene after scene, holding only bounded state: per task its letter
 * counts and its letter stream (DECISIONS 12), and the ids of the current scene. Feeding it
 * scenes in (dataset, scene) order gives the very records of {@link buildRecords} over the
 * whole run, one scene at a time, so that a run of any size streams: this is how the letters
 * stay balanced over the whole run without holding it (and how `vlm3r merge` letters the
 * scenes of several shards as one run).
 *
 * Ids need no run-wide set: an id starts with its dataset and scene, so two ids can only
 * collide within one scene, and {@link loadMetadata} gives every (dataset, scene) once.
 *
 * @example
 * ```ts
 * const options = { seed: "0", distance: "vsibench" as const, caps: {}, naOptions: false };
 * const drafts = [{ task: "object_rel_direction_easy", template: "{x}?", fields: { x: "q" },
 *   answer: "left", options: ["left", "right"] }];
 * const b = new RecordBuilder(options);
 * const [r1] = b.add({ dataset: "scannet", scene: "a", video_path: "a.mp4", drafts });
 * const [r2] = b.add({ dataset: "scannet", scene: "b", video_path: "b.mp4", drafts });
 * if (r1.mc_answer === r2.mc_answer) throw new Error("two options: the letters alternate");
 * ```
 */
export class RecordBuilder {
  #specs: Map<string, TaskSpec>;
  #letters = new LetterBalancer();
  #letterRng: Rng;
  #streams = new Map<string, Rng>();
  #ids = new Set<string>();
  #scene = "";

  constructor(readonly options: GenerateOptions, families: readonly TaskFamily[] = FAMILIES) {
    this.#specs = new Map(families.flatMap((f) => f.tasks).map((t) => [t.name, t]));
    this.#letterRng = runRng(options.seed).child("letters");
  }

  #stream(task: string): Rng {
    let r = this.#streams.get(task);
    if (!r) this.#streams.set(task, r = this.#letterRng.child(task));
    return r;
  }

  /** The records of the next scene's drafts. */
  add(s: SceneDraftsInput): QaRecord[] {
    const key = `${s.dataset}/${s.scene}`;
    if (key !== this.#scene) {
      this.#ids.clear();
      this.#scene = key;
    }
    const { options } = this;
    const records: QaRecord[] = [];
    for (const d of s.drafts) {
      const spec = this.#specs.get(d.task);
      if (!spec) throw new Error(`draft of unknown task '${d.task}'`);
      const lettered = d.options && (spec.answer === "mca" || options.naOptions)
        ? this.#letters.order(d.task, d.options, d.answer, this.#stream(d.task))
        : undefined;
      const fields = { ...d.fields };
      (d.choiceFields ?? []).forEach((
        f,
        i,
      ) => (fields[f] = String(lettered?.options[i] ?? d.options?.[i])));
      const question = fillTemplate(d.template, fields);
      let recordOptions: QaRecord["options"] = null;
      if (lettered) {
        // VSTI numerical questions carry the raw numbers (data-reference §5.1-5.2).
        recordOptions = spec.answer === "na" && spec.suite === "vsti"
          ? lettered.options as number[]
          : lettered.options.map((o, i) => `${"ABCDEF"[i]}. ${o}`);
      }
      // The template too: a family that writes its text itself (route planning) has no fields.
      const content = JSON.stringify([
        s.dataset,
        s.scene,
        d.task,
        d.template,
        d.fields,
        d.answer,
        [...(d.options ?? [])].map(String).sort(),
        d.frameIndices ?? [],
      ]);
      const base = `${s.dataset}/${s.scene}/${d.task}/${hashHex(content)}`;
      let id = base;
      for (let k = 2; this.#ids.has(id); k++) id = `${base}-${k}`;
      this.#ids.add(id);
      const record: QaRecord = {
        id,
        dataset: s.dataset,
        scene_name: s.scene,
        video_path: s.video_path,
        question_type: spec.questionType,
        question,
        options: recordOptions,
        ground_truth: d.answer,
        mc_answer: lettered?.letter ?? null,
      };
      if (d.frameIndices) record.frame_indices = [...d.frameIndices];
      Object.assign(record, d.extra ?? {});
      records.push(record);
    }
    return records;
  }
}

/**
 * Records from drafts: letters balanced per task over the whole run (DECISIONS 12), question
 * text filled, ids derived from (dataset, scene, task, content) (DECISIONS 11). `scenes` must
 * come in (dataset, scene) order, as {@link loadMetadata} returns them. (A
 * {@link RecordBuilder} fed the same scenes one by one gives the same records.)
 *
 * @example
 * ```ts
 * const drafts = [{ task: "object_rel_direction_easy", template: "{x}?", fields: { x: "q" },
 *   answer: "left", options: ["left", "right"] }];
 * const scenes = [{ dataset: "scannet", scene: "s", video_path: "s.mp4", drafts }];
 * const [r] = buildRecords(scenes, { seed: "0", distance: "vsibench", caps: {}, naOptions: false });
 * if (r.options![["A", "B"].indexOf(r.mc_answer!)] !== `${r.mc_answer}. left`) throw new Error();
 * ```
 */
export function buildRecords(
  scenes: readonly SceneDraftsInput[],
  options: GenerateOptions,
  families: readonly TaskFamily[] = FAMILIES,
): QaRecord[] {
  const builder = new RecordBuilder(options, families);
  return scenes.flatMap((s) => builder.add(s));
}

/** Progress and parallelism of {@link generateQuestions}. */
export interface RunOptions {
  /** Worker threads (1: in this thread). */
  workers?: number;
  /** Called after each scene, with the number done. */
  onScene?: (done: number) => void;
  /**
   * The raw datasets' root folder, for families that need meshes (`gen --scenes-root`):
   * absent, those tasks are skipped. A path, not a loader, so that workers can use it.
   */
  scenesRoot?: string;
}

/** What a run produced. */
export interface GenerateResult {
  records: QaRecord[];
  /** Per task: scenes where it could not run, by reason. */
  skipped: Map<string, { frames: number; mesh: number }>;
  /**
   * One line per scene and input problem that cost it tasks: a mesh that could not be read or
   * navigated, frames that are empty or have no valid pose, answers that were not finite.
   */
  failures: string[];
  /** How many of `failures` are of each kind. */
  failureCounts: { mesh: number; frames: number; answers: number };
}

/**
 * What scenes could not give, tallied scene by scene: per task the scenes it was skipped on
 * for want of input, and one line per scene and input problem (naming every task it cost).
 *
 * @example
 * ```ts
 * const t = new SkipTally();
 * t.add({ dataset: "scannet", scene: "s", skipped: [
 *   { task: "camera_displacement", reason: "frames" },
 *   { task: "route_planning", reason: "mesh", error: "bad mesh" },
 * ] });
 * if (t.skipped.get("camera_displacement")?.frames !== 1) throw new Error();
 * if (t.failures[0] !== "route_planning on scannet/s: bad mesh" || t.failureCounts.mesh !== 1) {
 *   throw new Error();
 * }
 * ```
 */
export class SkipTally {
  /** Per task: scenes where it could not run, by reason. */
  readonly skipped: Map<string, { frames: number; mesh: number }> = new Map();
  /** One line per scene and input problem. */
  readonly failures: string[] = [];
  /** How many of `failures` are of each kind. */
  readonly failureCounts: { mesh: number; frames: number; answers: number } = {
    mesh: 0,
    frames: 0,
    answers: 0,
  };

  /** Counts one scene's skipped tasks. */
  add(r: Pick<SceneDrafts, "dataset" | "scene" | "skipped">): void {
    const lost = new Map<
      string,
      { reason: keyof SkipTally["failureCounts"]; error: string; tasks: string[] }
    >();
    for (const s of r.skipped) {
      if (s.error) {
        const key = `${s.reason}\u0000${s.error}`;
        const e = lost.get(key) ?? { reason: s.reason, error: s.error, tasks: [] };
        e.tasks.push(s.task);
        lost.set(key, e);
        continue;
      }
      if (s.reason === "answers") continue;
      const e = this.skipped.get(s.task) ?? { frames: 0, mesh: 0 };
      e[s.reason]++;
      this.skipped.set(s.task, e);
    }
    for (const e of lost.values()) {
      this.failures.push(`${e.tasks.join(", ")} on ${r.dataset}/${r.scene}: ${e.error}`);
      this.failureCounts[e.reason]++;
    }
  }
}

/** Scenes a worker run keeps in flight per worker: results wait for the slowest before them. */
const WINDOW_PER_WORKER = 4;

/**
 * Generates the drafts of `scenes` one scene after another, in the order given, as an
 * iterator: with `workers > 1` the scenes are spread over worker threads, at most a few per
 * worker ahead of the first one not yet yielded, so memory holds a bounded window of scenes
 * however many there are. Stop iterating early and the workers are closed.
 *
 * @example
 * ```ts
 * const scene = { source: "x", syntheticIds: true, meta: {
 *   scene_name: "s", dataset: "scannet" as const, split: "val", video_path: "s.mp4", room_size: 30,
 *   room_center: [0, 0, 0] as [number, number, number], object_counts: {}, object_bboxes: {} } };
 * const options = { seed: "0", distance: "vsibench" as const, caps: {}, naOptions: false };
 * for await (const d of generateSceneStream([scene], selectTasks(["room_size_estimation"]).tasks, options)) {
 *   if (d.scene !== "s" || d.drafts[0].answer !== 30) throw new Error();
 * }
 * ```
 */
export async function* generateSceneStream(
  scenes: readonly SceneInput[],
  tasks: readonly TaskSpec[],
  options: GenerateOptions,
  run: RunOptions = {},
): AsyncGenerator<SceneDrafts> {
  const workers = Math.max(1, Math.min(run.workers ?? 1, scenes.length));
  let done = 0;
  if (workers === 1) {
    for (const scene of scenes) {
      const mesh = run.scenesRoot ? meshLoader(run.scenesRoot, scene.meta) : undefined;
      const drafts = await generateSceneDrafts(scene, tasks, options, { mesh });
      run.onScene?.(++done);
      yield drafts;
    }
    return;
  }
  const pool = new WorkerPool<
    { tasks: string[]; options: GenerateOptions; scenesRoot?: string },
    SceneInput,
    SceneDrafts
  >(new URL("./gen_worker.ts", import.meta.url), workers);
  const pending = new Map<number, Promise<SceneDrafts>>();
  let next = 0;
  const window = workers * WINDOW_PER_WORKER;
  const launch = () => {
    while (next < scenes.length && pending.size < window) {
      const i = next++;
      const p = pool.run(scenes[i]).then((r) => {
        run.onScene?.(++done);
        return r;
      });
      // Awaited in order below; a failure is raised there, not as an unhandled rejection.
      p.catch(() => {});
      pending.set(i, p);
    }
  };
  try {
    await pool.setup({ tasks: tasks.map((t) => t.name), options, scenesRoot: run.scenesRoot });
    for (let i = 0; i < scenes.length; i++) {
      launch();
      const r = await pending.get(i)!;
      pending.delete(i);
      yield r;
    }
  } finally {
    pool.close();
  }
}

/**
 * Generates and letters the questions of `scenes` (in the order given: use
 * {@link loadMetadata}'s) and returns them all. With `workers > 1` scenes are spread over
 * worker threads; the output is the same. (A run of any size streams instead: `vlm3r gen`
 * feeds {@link generateSceneStream} to a {@link RecordBuilder}.)
 *
 * @example
 * ```ts
 * const scene = { source: "x", syntheticIds: true, meta: {
 *   scene_name: "s", dataset: "scannet" as const, split: "val", video_path: "s.mp4", room_size: 30,
 *   room_center: [0, 0, 0] as [number, number, number], object_counts: {}, object_bboxes: {} } };
 * const { records } = await generateQuestions([scene], selectTasks(["vsi"]).tasks,
 *   { seed: "0", distance: "vsibench", caps: {}, naOptions: false });
 * if (records.length !== 1 || records[0].ground_truth !== 30) throw new Error();
 * ```
 */
export async function generateQuestions(
  scenes: readonly SceneInput[],
  tasks: readonly TaskSpec[],
  options: GenerateOptions,
  run: RunOptions = {},
): Promise<GenerateResult> {
  const tally = new SkipTally();
  const builder = new RecordBuilder(options);
  const records: QaRecord[] = [];
  let i = 0;
  for await (const r of generateSceneStream(scenes, tasks, options, run)) {
    tally.add(r);
    for (const rec of builder.add({ ...r, video_path: scenes[i++].meta.video_path })) {
      records.push(rec);
    }
  }
  const { skipped, failures, failureCounts } = tally;
  return { records, skipped, failures, failureCounts };
}
