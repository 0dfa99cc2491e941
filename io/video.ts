/**
 * H.264 MP4 encoding of numbered JPEG frames: the system `ffmpeg` binary when there is one
 * (fastest), else ffmpeg compiled to WebAssembly (`npm:@ffmpeg/core`, single-threaded, slower,
 * needs nothing installed).
 *
 * Output is reproducible for a given encoder: bit-exact flags drop the muxer's version tag and
 * metadata, and x264 is deterministic with threads. The two encoders differ in bytes.
 *
 * @module
 */

import { join } from "node:path";
import { tempPathFor } from "./atomic.ts";
import { loadFfmpegCore } from "./ffmpeg_wasm.ts";

/** Which encoder to use; `auto` prefers the system binary. */
export type VideoEncoder = "auto" | "ffmpeg" | "wasm";

/** Options of {@link encodeMp4}. */
export interface EncodeMp4Options {
  fps: number;
  encoder?: VideoEncoder;
  /** x264 constant rate factor (default 20). */
  crf?: number;
}

/** Arguments after the input: H.264, yuv420p, bit-exact container. */
function outputArgs(crf: number): string[] {
  return [
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-crf",
    String(crf),
    "-pix_fmt",
    "yuv420p",
    "-fflags",
    "+bitexact",
    "-flags:v",
    "+bitexact",
    "-map_metadata",
    "-1",
  ];
}

const found = new Map<string, Promise<boolean>>();

/**
 * Whether a working `program` (`ffmpeg`, `ffprobe`) is on the PATH: it runs with `-version`
 * and exits 0. Checked once per program and process.
 *
 * @example
 * ```ts
 * const both = await hasSystemProgram("ffmpeg") && await hasSystemProgram("ffprobe");
 * if (typeof both !== "boolean") throw new Error();
 * ```
 */
export function hasSystemProgram(program: string): Promise<boolean> {
  let known = found.get(program);
  if (!known) found.set(program, known = runs(program, ["-version"]));
  return known;
}

/**
 * Whether a working `ffmpeg` is on the PATH (checked once).
 *
 * @example
 * ```ts
 * const found = await hasSystemFfmpeg();
 * if (typeof found !== "boolean") throw new Error();
 * ```
 */
export function hasSystemFfmpeg(): Promise<boolean> {
  return hasSystemProgram("ffmpeg");
}

/**
 * Whether `program args` starts and exits 0. A program missing from the PATH makes
 * `Command.output()` throw synchronously (not reject), hence the try around it.
 */
async function runs(program: string, args: string[]): Promise<boolean> {
  try {
    const r = await new Deno.Command(program, { args, stdout: "null", stderr: "null" }).output();
    return r.success;
  } catch {
    return false;
  }
}

/**
 * Encodes `dir/0.jpg .. dir/(count-1).jpg` into the MP4 file `out` (written atomically) and
 * returns the encoder used.
 *
 * @example
 * ```ts ignore
 * const used = await encodeMp4("scene/frames/color", 300, "scene/scene.mp4", { fps: 24 });
 * ```
 */
export async function encodeMp4(
  dir: string,
  count: number,
  out: string,
  options: EncodeMp4Options,
): Promise<"ffmpeg" | "wasm"> {
  const encoder = options.encoder ?? "auto";
  const crf = options.crf ?? 20;
  const useSystem = encoder === "ffmpeg" || (encoder === "auto" && await hasSystemFfmpeg());
  const tmp = tempPathFor(out) + ".mp4";
  try {
    if (useSystem) {
      const r = await new Deno.Command("ffmpeg", {
        args: [
          "-hide_banner",
          "-loglevel",
          "error",
          "-nostdin",
          "-y",
          "-framerate",
          String(options.fps),
          "-start_number",
          "0",
          "-i",
          join(dir, "%d.jpg"),
          "-frames:v",
          String(count),
          ...outputArgs(crf),
          tmp,
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!r.success) {
        const msg = new TextDecoder().decode(r.stderr).trim().split("\n").pop() ?? "";
        throw new Error(`ffmpeg failed (exit ${r.code}): ${msg}`);
      }
    } else {
      await Deno.writeFile(tmp, await encodeWithWasm(dir, count, options.fps, crf));
    }
    await Deno.rename(tmp, out);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  return useSystem ? "ffmpeg" : "wasm";
}

async function encodeWithWasm(
  dir: string,
  count: number,
  fps: number,
  crf: number,
): Promise<Uint8Array> {
  const core = await loadFfmpegCore();
  const log: string[] = [];
  core.setLogger((m) => log.push(m.message));
  core.FS.mkdir("/in");
  for (let i = 0; i < count; i++) {
    core.FS.writeFile(`/in/${i}.jpg`, await Deno.readFile(join(dir, `${i}.jpg`)));
  }
  const rc = core.exec(
    "-hide_banner",
    "-loglevel",
    "error",
    "-framerate",
    String(fps),
    "-start_number",
    "0",
    "-i",
    "/in/%d.jpg",
    "-frames:v",
    String(count),
    ...outputArgs(crf),
    "/out.mp4",
  );
  if (rc !== 0) throw new Error(`ffmpeg (wasm) failed (exit ${rc}): ${log.slice(-1)[0] ?? ""}`);
  return core.FS.readFile("/out.mp4");
}
