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
  type SceneDrafts,
  selectTasks,
} from "./generate.ts";
import type { SceneInput } from "./input.ts";
import type { TaskSpec } from "./types.ts";

/** What every worker receives once. */
export interface GenWorkerSetup {
  tasks: string[];
  options: GenerateOptions;
}

let tasks: TaskSpec[] = [];
let options: GenerateOptions | undefined;

serveWorker<GenWorkerSetup, SceneInput, SceneDrafts>({
  setup(data) {
    tasks = selectTasks(data.tasks).tasks;
    options = data.options;
  },
  async task(scene) {
    if (!options) throw new Error("gen worker used before setup");
    return { result: await generateSceneDrafts(scene, tasks, options) };
  },
});
