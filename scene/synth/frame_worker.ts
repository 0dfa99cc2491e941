/**
 * Worker entry that renders and encodes synthetic frames (see `write.ts`). The `compile` task
 * names this file with `--include` so `deno compile` embeds it.
 *
 * @module
 */

import type { CameraPose, Intrinsics } from "../../geometry/pose.ts";
import { serveWorker } from "../../io/pool.ts";
import { type EncodedFrame, encodeFrame } from "./frames.ts";
import type { RenderMesh } from "./render.ts";

/** Context sent once per scene. */
export interface FrameSetup {
  mesh: RenderMesh;
  intrinsics: Intrinsics;
}

/** One frame to render. */
export interface FrameTask {
  index: number;
  pose: CameraPose;
}

let setup: FrameSetup | undefined;

serveWorker<FrameSetup, FrameTask, EncodedFrame>({
  setup: (data) => {
    setup = data;
  },
  task: ({ index, pose }) => {
    if (!setup) throw new Error("frame worker: task before setup");
    const f = encodeFrame(setup.mesh, pose, setup.intrinsics, index);
    return {
      result: f,
      transfer: [f.color, f.depth, f.instance].map((b) => b.buffer as ArrayBuffer),
    };
  },
});
