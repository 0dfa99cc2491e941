/**
 * What every dataset reader hands to the metadata pipeline (`scene/meta.ts`): a labelled mesh
 * in the dataset's aligned z-up frame, the annotated instances (with their boxes where the
 * dataset ships them), and the frame stream with aligned camera-to-world poses and lazy access
 * to colour, depth and instance masks.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import { decodeJpeg, decodePng, encodeJpeg, encodePng16, pngInfo } from "../io/image.ts";
import { encodedSize, resizeArea, resizeNearest } from "../io/resize.ts";
import type { Intrinsics, Mat4 } from "../geometry/pose.ts";
import type { Obb } from "../geometry/obb.ts";
import type { DatasetName } from "./metadata.ts";

/** An annotated instance. */
export interface RawInstance {
  /** The id boxes and 2D boxes carry (`instance_id`). */
  id: number;
  /** The dataset's raw label, before the label map. */
  label: string;
  /** The annotated box (ScanNet++, ARKitScenes); ScanNet boxes are fitted to the vertices. */
  box?: Obb;
}

/** An encoded image file for the processed folder. */
export interface EncodedImage {
  bytes: Uint8Array;
  ext: "jpg" | "png";
}

/** A frame of the source stream. */
export interface RawFrame {
  /** Index in the stream, or the dataset's frame name (ScanNet++ `frame_000123`). */
  id: number | string;
  /** Aligned camera-to-world (OpenCV axes); undefined when the pose could not be read. */
  pose: Mat4 | undefined;
  /** Where the pose came from, for messages. */
  poseSource: string;
  /** Seconds, when the dataset records it. */
  timestamp?: number;
  /** This frame's own intrinsics at the output size, when they vary per frame (ARKitScenes). */
  intrinsics?: Intrinsics;
  /** Colour at the output size. */
  color(): Promise<EncodedImage>;
  /** 16-bit depth PNG (mm) at the output size; undefined: use the depth rendered from the mesh. */
  depth(): Promise<Uint8Array | undefined>;
}

/** An instance mask: per pixel `instance id + 1`, 0 for none (ScanNet's `instance-filt`). */
export interface InstanceMask {
  width: number;
  height: number;
  data: Uint8Array | Uint16Array;
}

/** A scene as read from disk. */
export interface RawScene {
  name: string;
  dataset: DatasetName;
  /** Aligned positions (xyz triples), triangles, and each vertex's instance id (-1 none). */
  positions: Float64Array;
  triangles: Uint32Array;
  vertexInstance: Int32Array;
  instances: RawInstance[];
  /** Frame rate of the source video (DECISIONS 10). */
  fps: number;
  /** Camera intrinsics at the output image size. */
  camera: Intrinsics;
  frames: RawFrame[];
  /** The frame's instance mask when the dataset ships masks; absent: masks are rendered. */
  mask?: (frame: RawFrame) => Promise<InstanceMask>;
  /** Called with the sampled frames before any is read (batch video decoding, intrinsics). */
  prepare?: (frames: RawFrame[]) => Promise<void>;
  /** Notes for the per-scene report (what was read from where). */
  notes: string[];
  /**
   * Problems that did not stop the scene but lose data (an annotation naming segments the mesh
   * does not have): one line each naming the file and field, shown on stderr and reported.
   */
  warnings?: string[];
  /** Releases open files. */
  close(): void;
}

/**
 * Parses a whitespace-separated list of numbers, accepting C's `inf`, `-inf` and `nan`.
 *
 * @example
 * ```ts
 * const v = parseNumbers("1 -inf 2.5");
 * if (v[1] !== -Infinity || v[2] !== 2.5) throw new Error();
 * ```
 */
export function parseNumbers(text: string): number[] {
  const parts = text.trim().split(/\s+/).filter((s) => s !== "");
  return parts.map((t) => {
    const s = t.toLowerCase();
    if (s === "inf" || s === "+inf") return Infinity;
    if (s === "-inf") return -Infinity;
    return Number(s);
  });
}

/**
 * Reads a file, turning "not found" into a {@link DataError}-style message naming it.
 *
 * @example
 * ```ts
 * try { await readFileOrFail("/nonexistent/x.json"); throw new Error("should fail"); }
 * catch (e) { if (!(e as Error).message.startsWith("/nonexistent/x.json: file: expected")) throw e; }
 * ```
 */
export async function readFileOrFail(file: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataError(file, "file", "an existing file", "none");
    }
    throw e;
  }
}

/**
 * Reads and parses a JSON file; bad JSON is a {@link DataError} naming the file.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.json`, "{oops");
 * try { await readJsonFile(`${dir}/a.json`); throw new Error("should fail"); }
 * catch (e) { if (!(e as Error).message.includes("a.json: JSON: expected valid JSON")) throw e; }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readJsonFile(file: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readFileOrFail(file));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(file, "JSON", "valid JSON", (e as Error).message);
  }
}

/**
 * Whether `path` exists.
 *
 * @example
 * ```ts
 * if (await exists("/nonexistent")) throw new Error();
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * A short description of a JSON value for error messages.
 *
 * @example
 * ```ts
 * if (describe([1, 2]) !== "an array of 2") throw new Error();
 * ```
 */
export function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/**
 * An oriented box from the annotation convention (data-reference §1.2): `normalizedAxes` is
 * row-major with rows = axes, `axesLengths` full extents. A {@link DataError} when malformed.
 *
 * @example
 * ```ts
 * const box = obbFromAnnotation({ centroid: [1, 2, 3], axesLengths: [2, 1, 1], normalizedAxes: [0, 1, 0, -1, 0, 0, 0, 0, 1] }, "a.json", "obb");
 * if (box.axes[0][1] !== 1 || box.size[0] !== 2) throw new Error();
 * ```
 */
export function obbFromAnnotation(o: unknown, file: string, field: string): Obb {
  const b = o as { centroid?: unknown; axesLengths?: unknown; normalizedAxes?: unknown };
  const nums = (v: unknown, n: number) =>
    Array.isArray(v) && v.length === n &&
    v.every((x) => typeof x === "number" && Number.isFinite(x));
  if (!b || !nums(b.centroid, 3) || !nums(b.axesLengths, 3) || !nums(b.normalizedAxes, 9)) {
    throw new DataError(
      file,
      field,
      "centroid (3 numbers), axesLengths (3), normalizedAxes (9)",
      describe(o),
    );
  }
  const c = b.centroid as number[], l = b.axesLengths as number[], r = b.normalizedAxes as number[];
  return {
    center: [c[0], c[1], c[2]],
    axes: [[r[0], r[1], r[2]], [r[3], r[4], r[5]], [r[6], r[7], r[8]]],
    size: [l[0], l[1], l[2]],
  };
}

/**
 * A frame without a mask in a scan that has masks: the pipeline renders this one instead.
 *
 * @example
 * ```ts
 * if (!new MissingMask("instance-filt/7.png").message.startsWith("instance-filt/7.png: mask")) throw new Error();
 * ```
 */
export class MissingMask extends Error {
  /** `file` is the mask that was looked for. */
  constructor(readonly file: string) {
    super(`${file}: mask: expected a file, got none`);
    this.name = "MissingMask";
  }
}

/** JPEG quality of colour frames re-encoded after resizing. */
export const JPEG_QUALITY = 90;

/**
 * Colour at the camera's size: the file as is when it fits, else decoded, area-resized and
 * encoded as JPEG.
 *
 * @example
 * ```ts
 * import { encodeJpeg } from "../io/image.ts";
 * const big = encodeJpeg(new Uint8Array(4 * 8 * 6).fill(128), 8, 6);
 * const k = { fx: 4, fy: 4, cx: 2, cy: 1.5, width: 4, height: 3 };
 * const out = fitColor(big, k, "c.jpg");
 * if (out.ext !== "jpg" || out.bytes === big) throw new Error("resized");
 * ```
 */
export function fitColor(
  bytes: Uint8Array,
  camera: Intrinsics,
  source: string,
): { bytes: Uint8Array; ext: "jpg" | "png" } {
  const size = encodedSize(bytes);
  if (!size) throw new DataError(source, "image", "a JPEG or PNG", "unknown format");
  const ext = bytes[0] === 0x89 ? "png" : "jpg";
  if (size.width === camera.width && size.height === camera.height) return { bytes, ext };
  const img = ext === "png" ? decodePng(bytes) : decodeJpeg(bytes);
  if (!(img.data instanceof Uint8Array)) {
    throw new DataError(source, "image", "8-bit colour", "16-bit");
  }
  let rgba = img.data;
  if (img.channels !== 4) {
    rgba = new Uint8Array(4 * img.width * img.height);
    for (let i = 0; i < img.width * img.height; i++) {
      for (let c = 0; c < 3; c++) {
        rgba[4 * i + c] = img.data[i * img.channels + Math.min(c, img.channels - 1)];
      }
      rgba[4 * i + 3] = 255;
    }
  }
  const out = resizeArea(rgba, img.width, img.height, 4, camera.width, camera.height);
  return { bytes: encodeJpeg(out, camera.width, camera.height, JPEG_QUALITY), ext: "jpg" };
}

/**
 * Depth PNG at the camera's size: as is when it fits, else nearest-neighbour resized.
 *
 * @example
 * ```ts
 * import { encodePng16 } from "../io/image.ts";
 * const png = encodePng16(new Uint16Array(4).fill(1500), 2, 2);
 * const k = { fx: 2, fy: 2, cx: 1, cy: 1, width: 2, height: 2 };
 * if (fitDepth(png, k, "d.png") !== png) throw new Error("kept as is");
 * ```
 */
export function fitDepth(bytes: Uint8Array, camera: Intrinsics, source: string): Uint8Array {
  // Checked from the header even when the file is copied as is: an 8-bit depth map would pass
  // as millimetres 0-255 and every distance read from it would be wrong.
  const info = pngInfo(bytes);
  if (!info) throw new DataError(source, "depth", "a one-channel 16-bit PNG", "another format");
  if (info.bitDepth !== 16 || info.channels !== 1 || info.colorType !== "greyscale") {
    throw new DataError(
      source,
      "depth",
      "a one-channel 16-bit PNG (millimetres)",
      `${info.bitDepth}-bit ${info.colorType}`,
    );
  }
  if (info.width === camera.width && info.height === camera.height) return bytes;
  const img = decodePng(bytes);
  if (!(img.data instanceof Uint16Array) || img.channels !== 1) {
    throw new DataError(source, "depth", "a one-channel 16-bit PNG", `${img.channels} channels`);
  }
  return encodePng16(
    resizeNearest(img.data, img.width, img.height, camera.width, camera.height),
    camera.width,
    camera.height,
  );
}

/**
 * Frames per second from capture times: one over the median interval, rounded to 1e-3;
 * undefined with fewer than two increasing times.
 *
 * @example
 * ```ts
 * if (frameRateFromTimes([0, 0.1, 0.2, 0.3, 5]) !== 10) throw new Error();
 * ```
 */
export function frameRateFromTimes(times: number[]): number | undefined {
  const sorted = [...times].sort((a, b) => a - b);
  const d = sorted.slice(1).map((t, i) => t - sorted[i]).filter((x) => x > 0).sort((a, b) => a - b);
  if (d.length === 0) return undefined;
  return Math.round(1000 / d[Math.floor(d.length / 2)]) / 1000;
}
