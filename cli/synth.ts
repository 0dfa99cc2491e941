/**
 * `vlm3r synth`: procedural ScanNet-format scenes.
 *
 * @module
 */

import { cleanupOnInterrupt, outputFolderProblem, removeTemps } from "../io/atomic.ts";
import {
  createFramePool,
  SYNTH_KINDS,
  type SynthKind,
  synthScene,
  writeSynthScene,
} from "../scene/synth/mod.ts";
import { type Command, type Context, UsageError } from "./_command.ts";

/** The `synth` command. */
export const synth: Command = {
  name: "synth",
  summary: "procedural indoor scenes in ScanNet's raw layout, with exact ground truth",
  usage: "vlm3r synth --out DIR [--scenes N] [--seed S] [--frames F] [--layout KIND] [options]",
  examples: [
    "vlm3r synth --out data/synth --scenes 4 --seed 7",
    "vlm3r synth --out /tmp/tiny --frames 12 --width 160 --height 120 --video none",
    "vlm3r synth --out data/apartments --scenes 20 --layout apartment",
  ],
  options: {
    out: {
      type: "string",
      value: "DIR",
      description: "output folder; scenes go to DIR/sceneXXXX_00/",
    },
    scenes: { type: "string", value: "N", description: "number of scenes", default: "1" },
    first: {
      type: "string",
      value: "K",
      description: "index of the first scene (scene names count from it)",
      default: "0",
    },
    seed: { type: "string", value: "S", description: "seed; same seed, same bytes", default: "0" },
    frames: { type: "string", value: "F", description: "frames per scene", default: "300" },
    width: { type: "string", value: "W", description: "image width in pixels", default: "640" },
    height: { type: "string", value: "H", description: "image height in pixels", default: "480" },
    fps: {
      type: "string",
      value: "R",
      description: "frame rate of the walk and video",
      default: "24",
    },
    workers: { type: "string", value: "N", description: "render threads", default: "CPU count" },
    layout: {
      type: "string",
      value: "KIND",
      description: "single rooms, apartments (rooms joined by doorways along a corridor), or " +
        "a mix of both, half and half",
      choices: [...SYNTH_KINDS],
      default: "mix",
    },
    video: {
      type: "string",
      value: "ENC",
      description: "MP4 encoder: system ffmpeg, its wasm build, auto (ffmpeg if installed), none",
      choices: ["auto", "ffmpeg", "wasm", "none"],
      default: "auto",
    },
  },
  run: runSynth,
};

async function runSynth(ctx: Context): Promise<number> {
  const out = ctx.string("out", true);
  const outProblem = outputFolderProblem(out);
  if (outProblem) throw new UsageError(`--out ${outProblem}`);
  const scenes = ctx.int("scenes", 1, { min: 1, max: 10000 });
  const first = ctx.int("first", 0, { min: 0, max: 9999 });
  const frames = ctx.int("frames", 300, { min: 1, max: 100000 });
  const width = ctx.int("width", 640, { min: 16, max: 8192 });
  const height = ctx.int("height", 480, { min: 16, max: 8192 });
  const fps = ctx.int("fps", 24, { min: 1, max: 240 });
  const workers = ctx.int("workers", navigator.hardwareConcurrency, { min: 1, max: 256 });
  const video = (ctx.string("video") ?? "auto") as "auto" | "ffmpeg" | "wasm" | "none";
  const seed = ctx.string("seed") ?? "0";
  const layout = (ctx.string("layout") ?? "mix") as SynthKind;
  if (first + scenes > 10000) {
    throw new UsageError(
      "--first + --scenes must stay within 10000 (scene names are sceneXXXX_00)",
    );
  }

  await Deno.mkdir(out, { recursive: true });
  const bar = ctx.progress("synth", scenes * frames, "frames");
  const pool = workers > 1 ? createFramePool(workers) : undefined;
  // Ctrl-C stops the renderers and removes the scene folder being built, then exits 130.
  const interrupted = () => {
    bar.done();
    pool?.close();
    removeTemps(out, { owner: "self" });
    ctx.err(`vlm3r synth: interrupted; the scene being written is removed`);
  };
  try {
    await cleanupOnInterrupt(interrupted, async () => {
      for (let i = 0; i < scenes; i++) {
        const scene = synthScene(seed, first + i, { frames, width, height, fps, layout });
        const report = await writeSynthScene(scene, out, {
          workers,
          pool,
          video,
          onProgress: (done) => bar.set(i * frames + done),
        });
        for (const t of report.removedTemps) ctx.err(`removed ${t}, left by an interrupted run`);
        const { room, rooms, doorways, objects } = scene.layout;
        bar.done();
        const kind = rooms.length > 1
          ? `apartment of ${rooms.length} rooms (${
            rooms.map((r) => r.kind).join(", ")
          }), ${doorways.length} doorways`
          : `${room.kind}, ${room.shape}`;
        ctx.out(
          `${scene.name}  ${kind}, ${room.floorArea.toFixed(1)} m^2, ` +
            `${objects.length} objects, ${report.frames} frames, video: ${report.video}  -> ${report.dir}`,
        );
      }
    });
  } finally {
    bar.done();
    pool?.close();
  }
  return 0;
}
