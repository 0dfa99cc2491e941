/**
 * Benchmark of `vlm3r meta` on synthetic ScanNet-format scenes (300 frames, 640x480): one
 * scene stage by stage in this process, then the whole command in its own process on one
 * scene, and on 8 scenes with 1 and with 2 workers. Prints a table (or, with `--json`, one
 * JSON object) with wall time per scene and peak memory. Compare ratios, not absolute numbers,
 * across machines.
 *
 *   deno task bench:meta       # = deno run -A bench/meta.ts [--scenes 8] [--frames 300] [--json]
 *
 * The scenes are made once with `synth` (without video) and kept in `bench-out/meta-data/`
 * (`--data DIR`), so later runs time only `meta`. (-A: peak memory comes from /proc.)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { createFramePool, synthScene, writeSynthScene } from "../scene/synth/mod.ts";
import { DEFAULT_LABELS } from "../scene/labels.ts";
import { extractScene, sceneMetadata } from "../scene/meta.ts";
import { readScannetScene } from "../scene/scannet.ts";
import { peakRssMb, runCli, time } from "./_util.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scenes: { type: "string", default: "8" },
    frames: { type: "string", default: "300" },
    data: { type: "string", default: "bench-out/meta-data" },
    json: { type: "boolean", default: false },
  },
});
const scenes = Number(values.scenes), frames = Number(values.frames);
const data = join(values.data!, `f${frames}`);
const cpus = navigator.hardwareConcurrency;
const names = Array.from({ length: scenes }, (_, i) => `scene${String(i).padStart(4, "0")}_00`);

// Scenes, made once.
await Deno.mkdir(data, { recursive: true });
const pool = createFramePool(cpus);
try {
  for (let i = 0; i < scenes; i++) {
    try {
      await Deno.stat(join(data, names[i], "ground_truth.json"));
    } catch {
      console.error(`making ${names[i]} (${frames} frames) in ${data} ...`);
      await writeSynthScene(synthScene("bench-meta", i, { frames }), data, { pool, video: "none" });
    }
  }
} finally {
  pool.close();
}

interface Row {
  stage: string;
  scenes: number;
  workers: number | null;
  seconds: number;
  perScene: number;
  peakMb: number | null;
}
const rows: Row[] = [];
const out = await Deno.makeTempDir({ prefix: "vlm3r-bench-meta-" });

try {
  // One scene, stage by stage, in this process.
  const opts = { split: "val", labels: DEFAULT_LABELS.scannet, frames: 32, seed: "0", out };
  const [raw, tRead] = await time(() => readScannetScene(join(data, names[0])));
  const [, tScene] = await time(() => sceneMetadata(raw, opts));
  const [, tAll] = await time(() => extractScene(raw, opts));
  raw.close();
  const stage = (s: string, seconds: number) =>
    rows.push({ stage: s, scenes: 1, workers: 1, seconds, perScene: seconds, peakMb: null });
  stage("read mesh, annotation, frame list (300 poses)", tRead);
  stage("object boxes + room size + room centre", tScene);
  stage("32 frames: copy colour/depth, 2D boxes from masks", tAll - tScene);

  // The whole command, in its own process, as users run it.
  const list = join(out, "all_val.txt");
  const one = join(out, "one_val.txt");
  await Deno.writeTextFile(list, names.join("\n") + "\n");
  await Deno.writeTextFile(one, names[0] + "\n");
  for (const [file, n, workers] of [[one, 1, 1], [list, scenes, 1], [list, scenes, 2]] as const) {
    const { seconds: t, peakMb: peak } = await runCli([
      "meta",
      "--dataset",
      "scannet",
      "--root",
      data,
      "--out",
      join(out, `w${workers}-${n}`),
      "--scenes",
      file,
      "--workers",
      String(workers),
      "-q",
    ]);
    rows.push({
      stage: "vlm3r meta (whole command)",
      scenes: n,
      workers,
      seconds: t,
      perScene: t / n,
      peakMb: peak ?? null,
    });
  }

  const result = {
    machine: `${Deno.build.os}/${Deno.build.arch}, ${cpus} CPUs`,
    frames,
    size: "640x480",
    rows,
    peak_rss_mb_this_process: peakRssMb(Deno.pid) ?? null,
    speedup_2_workers: rows[rows.length - 2].seconds / rows[rows.length - 1].seconds,
  };
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(
      `meta benchmark: synthetic scenes of ${frames} frames ${result.size}; ${result.machine}\n`,
    );
    console.log("| stage | scenes | workers | seconds | s/scene | peak RSS MB |");
    console.log("|---|---|---|---|---|---|");
    for (const r of rows) {
      console.log(
        `| ${r.stage} | ${r.scenes} | ${r.workers ?? "-"} | ${r.seconds.toFixed(2)} | ${
          r.perScene.toFixed(2)
        } | ${r.peakMb ?? "-"} |`,
      );
    }
    console.log(`\n${scenes} scenes, 2 workers vs 1: ${result.speedup_2_workers.toFixed(2)}x`);
    console.log(
      `peak RSS of this benchmark process (stages above): ${
        result.peak_rss_mb_this_process ?? "?"
      } MB`,
    );
  }
} finally {
  await Deno.remove(out, { recursive: true });
}
