/**
 * Worker entry that extracts one scene's metadata (see `meta_run.ts`). The `compile` task
 * names this file with `--include` so `deno compile` embeds it.
 *
 * @module
 */

import { serveWorker } from "../io/pool.ts";
import { processScene, type SceneJob, type SceneOutcome } from "./meta_run.ts";

serveWorker<never, SceneJob, SceneOutcome>({
  task: async (job) => ({ result: await processScene(job) }),
});
