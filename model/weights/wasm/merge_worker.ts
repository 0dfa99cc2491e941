/**
 * Worker entry of the LoRA merge (see `mod.ts`): an instance of the kernels on the shared
 * memory it is sent, running row blocks. The `compile` task names this file with `--include`
 * so `deno compile` embeds it.
 *
 * @module
 */

import { serveWorker } from "../../../io/pool.ts";
import { instantiate, type KernelExports, mergeRows, type MergeTask } from "./mod.ts";

let kernels: KernelExports | undefined;

serveWorker<WebAssembly.Memory, MergeTask, null>({
  setup(memory) {
    kernels = instantiate(memory);
  },
  task(t) {
    if (!kernels) throw new Error("merge worker used before setup");
    mergeRows(kernels, t);
    return { result: null };
  },
});
