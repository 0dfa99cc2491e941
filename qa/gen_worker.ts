/**
 * Worker module of `vlm3r gen --workers N`: generates one scene's drafts per task message.
 * (`deno compile` needs it named with `--include`; the `compile` task does that.)
 *
 * @module
 */

import { serveWorker } from "../io/pool.ts";
import {
  type GenerateOptions,
  generateSceneDrafts,
  meshLoader,
  type SceneDrafts,
  selectTasks,
} from "./generate.ts";
import type { SceneInput } from "./input.ts";
import type { TaskSpec } from "./types.ts";

/** What every worker receives once. */
export interface GenWorkerSetup {
  tasks: string[];
  options: GenerateOptions;
  /** The raw datasets' root for mesh-reading families (`--scenes-root`). */
  scenesRoot?: string;
}

let tasks: TaskSpec[] = [];
let options: GenerateOptions | undefined;
let scenesRoot: string | undefined;

serveWorker<GenWorkerSetup, SceneInput, SceneDrafts>({
  setup(data) {
    tasks = selectTasks(data.tasks).tasks;
    options = data.options;
    scenesRoot = data.scenesRoot;
  },
  async task(scene) {
    if (!options) throw new Error("gen worker used before setup");
    const mesh = scenesRoot ? meshLoader(scenesRoot, scene.meta) : undefined;
    return { result: await generateSceneDrafts(scene, tasks, options, { mesh }) };
  },
});
