/**
 * `vlm3r demo`: the main job on an embedded synthetic scene. For now it generates one scene
 * and summarises what was written; later stages join as they land.
 *
 * @module
 */

import { join } from "node:path";
import { createFramePool, synthScene, writeSynthScene } from "../scene/synth/mod.ts";
import { walkedPath } from "../scene/synth/walk.ts";
import type { Command, Context } from "./_command.ts";

/** The `demo` command. */
export const demo: Command = {
  name: "demo",
  summary: "run the pipeline on a synthetic scene and print what it made",
  usage: "vlm3r demo [--out DIR] [--seed S] [--frames F]",
  examples: ["vlm3r demo --out demo-out"],
  options: {
    out: { type: "string", value: "DIR", description: "output folder", default: "demo-out" },
    seed: { type: "string", value: "S", description: "seed of the scene", default: "2025" },
    frames: {
      type: "string",
      value: "F",
      description: "frames of the camera walk",
      default: "120",
    },
  },
  run: runDemo,
};

async function runDemo(ctx: Context): Promise<number> {
  const out = ctx.string("out") ?? "demo-out";
  const seed = ctx.string("seed") ?? "2025";
  const frames = ctx.int("frames", 120, { min: 2, max: 100000 });
  await Deno.mkdir(out, { recursive: true });

  ctx.out(`1. synth: one procedural ScanNet-format scene (seed ${seed}, ${frames} frames)`);
  const t0 = performance.now();
  const scene = synthScene(seed, 0, { frames });
  const bar = ctx.progress("synth", frames, "frames");
  const pool = createFramePool(navigator.hardwareConcurrency);
  let report;
  try {
    report = await writeSynthScene(scene, out, { pool, onProgress: (d) => bar.set(d) });
  } finally {
    bar.done();
    pool.close();
  }
  const secs = (performance.now() - t0) / 1000;
  const { room, objects, walk } = scene.layout;
  const xs = room.polygon.map((p) => p[0]), ys = room.polygon.map((p) => p[1]);
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.category, (counts.get(o.category) ?? 0) + 1);
  const path = walkedPath(walk, (frames - 1) / scene.fps);
  let walked = 0;
  for (let i = 1; i < path.length; i++) {
    walked += Math.hypot(path[i][0] - path[i - 1][0], path[i][1] - path[i - 1][1]);
  }
  ctx.out(
    `   ${scene.name}: ${room.kind}, ${room.shape === "L" ? "L-shaped" : "rectangular"} ` +
      `${(Math.max(...xs) - Math.min(...xs)).toFixed(2)} x ${
        (Math.max(...ys) - Math.min(...ys)).toFixed(2)
      } m, ` +
      `floor ${room.floorArea.toFixed(2)} m^2, walls ${room.height.toFixed(2)} m`,
  );
  ctx.out(
    `   ${objects.length} objects: ` +
      [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([c, n]) => (n > 1 ? `${n} ${c}` : c))
        .join(", "),
  );
  ctx.out(
    `   camera: ${frames} frames at ${scene.fps} fps along ${walked.toFixed(1)} m, ` +
      `${scene.intrinsics.width}x${scene.intrinsics.height}, fx ${scene.intrinsics.fx.toFixed(1)}`,
  );
  ctx.out(
    `   mesh: ${scene.mesh.positions.length / 3} vertices, ${
      scene.mesh.triangles.length / 3
    } triangles, ` +
      `${scene.mesh.segGroups.length} annotated instances`,
  );
  ctx.out(
    `   video: ${
      report.video === "none" ? "none (no encoder)" : `${scene.name}.mp4 (${report.video})`
    }`,
  );
  ctx.out(
    `   written to ${report.dir} in ${secs.toFixed(1)} s; ground truth: ${
      join(report.dir, "ground_truth.json")
    }`,
  );
  return 0;
}
