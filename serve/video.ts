/**
 * The video of a request as the engine takes it (`LoadedVideo`): a local video file or frame
 * folder read as `vlm3r ask` reads it, a video sent inline, or a list of frames sent as images,
 * which is sampled like a frame folder and keyed in the per-video cache by the hash of its
 * images' bytes, so that every question about the same frames reuses their towers and prompt
 * prefix.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { DataError } from "../io/errors.ts";
import { type RgbFrame, sampleFrameIndices } from "../model/preprocess.ts";
import { decodeImage, type LoadedVideo, loadVideo } from "../model/video_input.ts";
import type { ImageBytes, VideoSource } from "./requests.ts";

/** How frames are sampled: as `vlm3r ask`'s `--frames` and `--fps`. */
export interface SampleOptions {
  frames: number;
  /** Frame rate of a frame folder or frame list (for the time instruction). */
  fps?: number;
}

/**
 * The content hash of a frame list: SHA-256 over each image's SHA-256, in order.
 *
 * @example
 * ```ts
 * const a = new Uint8Array([1]), b = new Uint8Array([2]);
 * if (imagesHash([a, b]) === imagesHash([b, a])) throw new Error("order is part of the video");
 * ```
 */
export function imagesHash(images: readonly Uint8Array[]): string {
  const hash = createHash("sha256");
  hash.update("vlm3r-image-list\n");
  for (const bytes of images) {
    hash.update(createHash("sha256").update(bytes).digest("hex") + "\n");
  }
  return hash.digest("hex");
}

/**
 * Frames sent as images, as a video: `floor(linspace(0, N-1, min(N, frames)))` of them
 * decoded, as a frame folder of N images is sampled. An unreadable image is a `DataError`
 * naming its request field.
 */
export function framesFromImages(
  images: readonly ImageBytes[],
  options: SampleOptions,
): LoadedVideo {
  const indices = sampleFrameIndices(images.length, options.frames);
  const decoded = new Map<number, RgbFrame>();
  for (const i of new Set(indices)) {
    decoded.set(i, decodeImage(images[i].param, images[i].bytes, images[i].format));
  }
  return {
    path: "image_url frames",
    kind: "folder",
    total: images.length,
    indices,
    frames: indices.map((i) => decoded.get(i)!),
    fps: options.fps,
    hash: imagesHash(images.map((im) => im.bytes)),
  };
}

/**
 * Loads the video of a request. A video sent inline is written to a temporary file, decoded
 * and removed; its messages name the request field, not the temporary file.
 */
export async function loadSource(
  source: VideoSource,
  options: SampleOptions,
): Promise<LoadedVideo> {
  if (source.kind === "images") return framesFromImages(source.images, options);
  if (source.kind === "path") {
    return await loadVideo(source.path, { frames: options.frames, fps: options.fps });
  }
  const tmp = await Deno.makeTempFile({ prefix: "vlm3r-serve-", suffix: source.extension });
  try {
    await Deno.writeFile(tmp, source.bytes);
    const video = await loadVideo(tmp, { frames: options.frames });
    return { ...video, path: source.param };
  } catch (e) {
    if (e instanceof DataError) {
      throw new DataError(
        e.file === tmp ? source.param : e.file,
        e.field,
        e.expected,
        e.got?.replaceAll(tmp, source.param),
      );
    }
    if (e instanceof Error) throw new Error(e.message.replaceAll(tmp, source.param));
    throw e;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}
