/**
 * What `vlm3r ask` takes as a video: a video file (decoded as {@link readVideoFrames} does) or
 * a folder of frame images (PNG or JPEG, in the numeric order of the last number in their
 * names, as ScanNet's exporter and `vlm3r synth` write them). Both give the sampled frames,
 * their indices, the frame rate when one is known (for the time instruction), and a content
 * hash that keys the per-video cache.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { DataError } from "../io/errors.ts";
import { decodeJpeg, decodePng } from "../io/image.ts";
import { videoInfo } from "../io/mp4.ts";
import {
  DEFAULT_FRAMES,
  type FrameDecoder,
  openVideo,
  type RgbFrame,
  sampleFrameIndices,
  type ShortVideo,
} from "./preprocess.ts";

/** Options of {@link loadVideo}. */
export interface LoadVideoOptions {
  /** Frames to sample (default 32). */
  frames?: number;
  /** Short-video behaviour (default `"fewer"`, see `ShortVideo`). */
  shortVideo?: ShortVideo;
  /** Decoder of video files (default `"auto"`: the system ffmpeg, else wasm). */
  decoder?: FrameDecoder;
  /** Frame rate of a folder of frames (folders carry none; videos give their own). */
  fps?: number;
}

/** A video's sampled frames. */
export interface LoadedVideo {
  /** The path given. */
  path: string;
  /** `"file"` or `"folder"`. */
  kind: "file" | "folder";
  /** Frames in the video (or images in the folder). */
  total: number;
  /** Sampled frame indices. */
  indices: number[];
  /** The decoded frames, one per index. */
  frames: RgbFrame[];
  /** Frames per second, when known. */
  fps?: number;
  /** SHA-256 of the content (a file's bytes; a folder's image names and bytes, in order). */
  hash: string;
}

const IMAGE = /\.(png|jpe?g)$/i;

/**
 * The image files of a frame folder in frame order: by the last number in each name, then by
 * name. A folder without images is a `DataError`.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * for (const n of ["10.png", "2.png", "frame_1.jpg", "notes.txt"]) await Deno.writeFile(`${dir}/${n}`, new Uint8Array());
 * const names = (await frameFiles(dir)).map((p) => p.slice(dir.length + 1));
 * if (names.join() !== "frame_1.jpg,2.png,10.png") throw new Error(names.join());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function frameFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if ((e.isFile || e.isSymlink) && IMAGE.test(e.name)) names.push(e.name);
  }
  if (!names.length) {
    throw new DataError(dir, "frames", "PNG or JPEG images (a frame folder)", "none");
  }
  const num = (n: string) => {
    const all = n.match(/\d+/g);
    return all ? Number(all[all.length - 1]) : -1;
  };
  names.sort((a, b) => num(a) - num(b) || (a < b ? -1 : a > b ? 1 : 0));
  return names.map((n) => join(dir, n));
}

/**
 * Decodes a PNG or JPEG frame (`format`, default: by `path`'s extension) to 8-bit RGB; an
 * unreadable or 16-bit image is a `DataError` naming `path`.
 */
export function decodeImage(
  path: string,
  bytes: Uint8Array,
  format: "png" | "jpeg" = /\.png$/i.test(path) ? "png" : "jpeg",
): RgbFrame {
  let img;
  try {
    img = format === "png" ? decodePng(bytes) : decodeJpeg(bytes);
  } catch (e) {
    throw new DataError(path, "image", "a readable PNG or JPEG", (e as Error).message);
  }
  if (img.data instanceof Uint16Array) {
    throw new DataError(path, "bit depth", "8-bit colour", "16-bit");
  }
  const { width, height, channels } = img;
  if (channels === 3) return { width, height, data: img.data as Uint8Array };
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      data[3 * i + c] = img.data[channels * i + (channels >= 3 ? c : 0)];
    }
  }
  return { width, height, data };
}

/** SHA-256 of a file's bytes, read in blocks. */
async function hashFile(path: string, hash = createHash("sha256")): Promise<string> {
  const file = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = await file.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

/**
 * A video whose frames are decoded only when asked: what {@link probeVideo} gives, so that a
 * video the cache already knows is hashed and counted but never decoded.
 */
export type ProbedVideo = Omit<LoadedVideo, "frames"> & {
  /** Decodes the sampled frames (once; later calls give the same frames). */
  decode(): Promise<RgbFrame[]>;
};

/**
 * Hashes and counts a video file or a frame folder and samples `floor(linspace(0, N-1, F))`
 * indices, leaving the decoding for later. Missing or unreadable input is a `DataError` naming
 * the path.
 *
 * @example
 * ```ts ignore
 * const v = await probeVideo("room.mp4", { frames: 32 });
 * const frames = await v.decode();
 * ```
 */
export async function probeVideo(
  path: string,
  options: LoadVideoOptions = {},
): Promise<ProbedVideo> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataError(path, "video", "a video file or a folder of frames", "nothing there");
    }
    throw e;
  }
  const frames = options.frames ?? DEFAULT_FRAMES;
  let decoded: Promise<RgbFrame[]> | undefined;
  if (info.isDirectory) {
    const files = await frameFiles(path);
    const indices = sampleFrameIndices(files.length, frames, options.shortVideo);
    const hash = createHash("sha256");
    hash.update("vlm3r-frame-folder\n");
    for (const f of files) {
      hash.update(`${basename(f)}\n`);
      hash.update(await hashFile(f));
    }
    const decode = async () => {
      const byIndex = new Map<number, RgbFrame>();
      for (const i of new Set(indices)) {
        byIndex.set(i, decodeImage(files[i], await Deno.readFile(files[i])));
      }
      return indices.map((i) => byIndex.get(i)!);
    };
    return {
      path,
      kind: "folder",
      total: files.length,
      indices,
      fps: options.fps,
      hash: hash.digest("hex"),
      decode: () => (decoded ??= decode()),
    };
  }
  const video = await openVideo(path, options.decoder);
  const total = await video.count();
  const indices = sampleFrameIndices(total, frames, options.shortVideo);
  let fps = options.fps;
  if (fps === undefined) {
    try {
      fps = (await videoInfo(path)).fps;
    } catch {
      // Not an MP4/MOV: no frame rate, which only the time instruction needs.
    }
  }
  return {
    path,
    kind: "file",
    total,
    indices,
    fps,
    hash: await hashFile(path),
    decode: () => (decoded ??= video.decode(indices)),
  };
}

/**
 * Reads a video file or a frame folder: samples `floor(linspace(0, N-1, F))` and decodes
 * those frames ({@link probeVideo}, then its `decode`).
 *
 * @example
 * ```ts ignore
 * const v = await loadVideo("scene0000_00/frames/color", { frames: 32, fps: 24 });
 * ```
 */
export async function loadVideo(
  path: string,
  options: LoadVideoOptions = {},
): Promise<LoadedVideo> {
  const { decode, ...video } = await probeVideo(path, options);
  return { ...video, frames: await decode() };
}
