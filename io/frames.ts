/**
 * Reading frames out of a video with the system `ffmpeg`/`ffprobe`: the frame count, and chosen
 * frames as JPEG images. The counterpart of `io/video.ts`, which encodes.
 *
 * @module
 */

import { join } from "node:path";

async function run(cmd: string, args: string[]): Promise<string> {
  let out;
  try {
    out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${cmd} not found: install ffmpeg (apt-get install ffmpeg) to read videos`);
    }
    throw e;
  }
  if (!out.success) {
    const msg = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
    throw new Error(`${cmd} failed: ${msg}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * The number of frames of a video's first video stream: the container's count when it has one
 * (as PyAV's `stream.frames`), else counted by reading the packets.
 *
 * @example
 * ```ts ignore
 * const n = await videoFrameCount("scene0000_00/scene0000_00.mp4");
 * ```
 */
export async function videoFrameCount(path: string): Promise<number> {
  const probe = (extra: string[], entry: string) =>
    run("ffprobe", [
      "-v",
      "error",
      ...extra,
      "-select_streams",
      "v:0",
      "-show_entries",
      `stream=${entry}`,
      "-of",
      "default=noprint_wrappers=1:nokey=1",
      path,
    ]);
  const n = Number((await probe([], "nb_frames")).trim());
  if (Number.isInteger(n) && n > 0) return n;
  const counted = Number((await probe(["-count_packets"], "nb_read_packets")).trim());
  if (!Number.isInteger(counted) || counted <= 0) throw new Error(`${path}: no video frames`);
  return counted;
}

/**
 * The frames a benchmark run samples: `floor(linspace(0, total - 1, min(total, count)))`, as
 * numpy computes it (the VLM-3R eval path, model-reference §1.2), so first and last are always
 * included.
 *
 * @example
 * ```ts
 * if (uniformFrameIndices(100, 4).join() !== "0,33,66,99") throw new Error();
 * if (uniformFrameIndices(3, 32).join() !== "0,1,2") throw new Error();
 * ```
 */
export function uniformFrameIndices(total: number, count: number): number[] {
  const num = Math.min(total, count);
  if (num <= 0) return [];
  if (num === 1) return [0];
  const step = (total - 1) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => Math.trunc(i * step));
  out[num - 1] = total - 1;
  return out;
}

/**
 * Decodes the frames `indices` (0-based, ascending, distinct) of a video into JPEG images, in
 * that order, with the system ffmpeg.
 *
 * @example
 * ```ts ignore
 * const jpegs = await extractFrames("room.mp4", [0, 10, 20]);
 * ```
 */
export async function extractFrames(
  path: string,
  indices: readonly number[],
): Promise<Uint8Array[]> {
  if (indices.length === 0) return [];
  for (let i = 1; i < indices.length; i++) {
    if (!(indices[i] > indices[i - 1])) {
      throw new Error("frame indices must be ascending and distinct");
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "vlm3r-frames-" });
  try {
    const select = indices.map((i) => `eq(n\\,${i})`).join("+");
    await run("ffmpeg", [
      "-v",
      "error",
      "-nostdin",
      "-i",
      path,
      "-vf",
      `select='${select}'`,
      "-vsync",
      "0",
      "-q:v",
      "2",
      join(dir, "%06d.jpg"),
    ]);
    const frames: Uint8Array[] = [];
    for (let k = 1; k <= indices.length; k++) {
      try {
        frames.push(await Deno.readFile(join(dir, `${String(k).padStart(6, "0")}.jpg`)));
      } catch {
        throw new Error(`${path}: frame ${indices[k - 1]} could not be decoded`);
      }
    }
    return frames;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
