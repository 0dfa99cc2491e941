/**
 * Benchmark of `vlm3r synth`: one 300-frame 640x480 scene, stage by stage, with 1 and with all
 * render workers, and the two MP4 encoders; then the whole command as users run it. Prints a
 * table (or, with `--json`, one JSON object). Figures are wall times of this run; compare the
 * ratios, not the absolute numbers, across machines.
 *
 *   deno task bench            # = deno run -A bench/synth.ts [--frames 300] [--json]
 *
 * (-A because peak memory comes from /proc/<pid>/status, which Deno opens only with -A.)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { synthScene, writeSynthScene } from "../scene/synth/mod.ts";
import { encodeMp4, hasSystemFfmpeg } from "../io/video.ts";
import { peakRssMb, runCli, time } from "./_util.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    frames: { type: "string", default: "300" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});
const frames = Number(values.frames);
const cpus = navigator.hardwareConcurrency;
const out = await Deno.makeTempDir({ prefix: "vlm3r-bench-" });

interface Row {
  stage: string;
  workers: number | null;
  seconds: number;
  fps: number | null;
}
const rows: Row[] = [];

try {
  const [scene, tLayout] = await time(() => synthScene(values.seed!, 0, { frames }));
  rows.push({ stage: "layout + mesh + walk", workers: null, seconds: tLayout, fps: null });
  for (const workers of [...new Set([1, cpus])]) {
    const [, t] = await time(() =>
      writeSynthScene(scene, join(out, `w${workers}`), { workers, video: "none" })
    );
    rows.push({ stage: "render + encode + write frames", workers, seconds: t, fps: frames / t });
  }
  const color = join(out, `w${cpus}`, scene.name, "frames/color");
  const encoders: ("ffmpeg" | "wasm")[] = (await hasSystemFfmpeg()) ? ["ffmpeg", "wasm"] : ["wasm"];
  for (const encoder of encoders) {
    const [, t] = await time(() =>
      encodeMp4(color, frames, join(out, `${encoder}.mp4`), { fps: 24, encoder })
    );
    rows.push({ stage: `mp4 (${encoder})`, workers: null, seconds: t, fps: frames / t });
  }
  // The whole command, in its own process, as users run it.
  const { seconds: tCli, peakMb: cliPeakMb } = await runCli([
    "synth",
    "--out",
    join(out, "cli"),
    "--frames",
    String(frames),
    "--seed",
    values.seed!,
    "-q",
  ]);
  rows.push({
    stage: "vlm3r synth (whole command)",
    workers: cpus,
    seconds: tCli,
    fps: frames / tCli,
  });

  const peakMb = peakRssMb(Deno.pid);
  const tri = scene.mesh.triangles.length / 3;
  const result = {
    machine: `${Deno.build.os}/${Deno.build.arch}, ${cpus} CPUs`,
    scene:
      `${scene.name} seed ${values.seed}: ${scene.layout.room.kind}, ${scene.layout.objects.length} objects, ${tri} triangles`,
    frames,
    size: "640x480",
    rows,
    peak_rss_mb_this_process: peakMb,
    peak_rss_mb_command: cliPeakMb,
    speedup_workers: rows[1] && rows[2] && rows[2].workers !== 1
      ? rows[1].seconds / rows[2].seconds
      : null,
  };
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(
      `synth benchmark: ${result.scene}; ${frames} frames ${result.size}; ${result.machine}\n`,
    );
    console.log("| stage | workers | seconds | frames/s |");
    console.log("|---|---|---|---|");
    for (const r of rows) {
      console.log(
        `| ${r.stage} | ${r.workers ?? "-"} | ${r.seconds.toFixed(2)} | ${
          r.fps?.toFixed(1) ?? "-"
        } |`,
      );
    }
    if (result.speedup_workers) {
      console.log(`\nrender speed-up, ${cpus} workers vs 1: ${result.speedup_workers.toFixed(2)}x`);
    }
    const enc = rows.filter((r) => r.stage.startsWith("mp4"));
    if (enc.length === 2) {
      console.log(
        `mp4: wasm takes ${(enc[1].seconds / enc[0].seconds).toFixed(1)}x the system ffmpeg's time`,
      );
    }
    console.log(
      `peak RSS, whole command (deno process; the ffmpeg child not included): ${
        cliPeakMb ?? "?"
      } MB`,
    );
    console.log(`peak RSS of this benchmark process (stages above): ${peakMb ?? "?"} MB`);
  }
} finally {
  await Deno.remove(out, { recursive: true });
}
