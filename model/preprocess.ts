/**
 * Frames for VLM-3R's two towers (model-reference.md §1.2-1.4): which frames of a video to take
 * (`floor(linspace(0, N-1, F))`), decoding them to RGB (the system ffmpeg, else its WebAssembly
 * build), Pillow's uint8 bicubic squash-resize to the SigLIP size reproduced bit for bit,
 * rescale and normalise to [-1, 1] in CHW, and PyTorch's bilinear resize (align_corners=False)
 * of those pixels to the CUT3R size.
 *
 * Short videos: a video with fewer frames than asked gives each of its frames once, in order
 * (the VLM-3R eval path, PyAV: `min(N, F)` frames), not duplicates (the decord path of the
 * demo and training). See {@link ShortVideo} for why.
 *
 * @module
 */

import { decodePng } from "../io/image.ts";
import { DataError } from "../io/errors.ts";
import { hasSystemProgram } from "../io/video.ts";
import { type FfmpegCore, loadFfmpegCore } from "../io/ffmpeg_wasm.ts";

/** A decoded frame: `height` rows of `width` RGB pixels, 8 bits per channel, row-major. */
export interface RgbFrame {
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
  /** `width * height * 3` bytes, R G B interleaved. */
  data: Uint8Array;
}

/**
 * What to do when a video has fewer frames than asked (model-reference.md open question 8):
 * - `"fewer"` (default): every frame once, `min(N, F)` frames, as the reference's benchmark
 *   path (lmms-eval with PyAV) that produced the published VSI-Bench numbers; DECISIONS 19
 *   follows that path. Duplicates would add no information but cost a SigLIP pass each, and
 *   CUT3R would integrate the same view twice into its recurrent state, so they change the 3D
 *   features rather than merely repeat them.
 * - `"duplicate"`: always F frames, `floor(linspace(0, N-1, F))` with repeats, as decord in the
 *   demo and training (for reproducing those runs).
 */
export type ShortVideo = "fewer" | "duplicate";

/** Frames the reference samples per video (model-reference.md §1.2). */
export const DEFAULT_FRAMES = 32;

/** `rescale_factor` of `SigLipImageProcessor`: 1/255 as a float64. */
export const RESCALE = 0.00392156862745098;

/**
 * The indices of the frames to take from a video of `total` frames: `floor(linspace(0,
 * total-1, count))` as numpy computes it (`i * step`, the last set to `total-1`), so the first
 * and last frames are always in; with fewer than `count` frames, see {@link ShortVideo}.
 *
 * @example
 * ```ts
 * if (sampleFrameIndices(100, 4).join() !== "0,33,66,99") throw new Error();
 * if (sampleFrameIndices(3, 5).join() !== "0,1,2") throw new Error();
 * if (sampleFrameIndices(3, 5, "duplicate").join() !== "0,0,1,1,2") throw new Error();
 * ```
 */
export function sampleFrameIndices(
  total: number,
  count: number,
  shortVideo: ShortVideo = "fewer",
): number[] {
  if (!Number.isInteger(total) || total < 1) {
    throw new RangeError(`frame sampling: a video needs at least one frame, got ${total}`);
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`frame sampling: at least one frame must be asked for, got ${count}`);
  }
  const num = shortVideo === "fewer" ? Math.min(total, count) : count;
  if (num === 1) return [0];
  const step = (total - 1) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => Math.trunc(i * step));
  out[num - 1] = total - 1;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Which decoder to use; `auto` prefers the system ffmpeg. */
export type FrameDecoder = "auto" | "ffmpeg" | "wasm";

/** Options of {@link readVideoFrames}. */
export interface ReadVideoOptions {
  /** Frames to sample (default {@link DEFAULT_FRAMES}). */
  frames?: number;
  /** Short-video behaviour (default `"fewer"`). */
  shortVideo?: ShortVideo;
  /** Decoder (default `"auto"`). */
  decoder?: FrameDecoder;
}

/** Sampled frames of a video. */
export interface VideoFrames {
  /** Frames in the video's first video stream. */
  total: number;
  /** The sampled indices, in order (repeats only with `shortVideo: "duplicate"`). */
  indices: number[];
  /** The decoded frames, one per index. */
  frames: RgbFrame[];
  /** The decoder that ran. */
  decoder: "ffmpeg" | "wasm";
}

/**
 * Samples and decodes frames of a video to RGB: the frame count as the container states it
 * (PyAV's `stream.frames`; packets are counted when it does not), the indices of
 * {@link sampleFrameIndices}, and those frames at their stored size (no rotation applied, as
 * PyAV and decord). Colour conversion is ffmpeg's swscale with bilinear flags, as PyAV's
 * `to_ndarray("rgb24")`. A missing or unreadable file, a file without video, or a frame that
 * does not decode is a {@link DataError} naming the file.
 *
 * @example
 * ```ts ignore
 * const { frames, indices } = await readVideoFrames("room.mp4", { frames: 32 });
 * ```
 */
export async function readVideoFrames(
  path: string,
  options: ReadVideoOptions = {},
): Promise<VideoFrames> {
  const video = await openVideo(path, options.decoder);
  const total = await video.count();
  const indices = sampleFrameIndices(
    total,
    options.frames ?? DEFAULT_FRAMES,
    options.shortVideo ?? "fewer",
  );
  return { total, indices, frames: await video.decode(indices), decoder: video.decoder };
}

/** A video file opened for reading: its frame count, then frames by index. */
export interface OpenedVideo {
  /** Frames in the first video stream (at least one, else a `DataError`). */
  count(): Promise<number>;
  /** Decodes the frames at `indices` (repeats allowed), in the order given. */
  decode(indices: readonly number[]): Promise<RgbFrame[]>;
  /** The decoder it uses. */
  decoder: "ffmpeg" | "wasm";
}

/**
 * Opens a video file for {@link readVideoFrames}'s two steps apart, so that a caller can count
 * the frames, decide, and decode only if it must (a cached video never decodes). A missing or
 * unreadable file is a `DataError` naming it.
 *
 * @example
 * ```ts ignore
 * const v = await openVideo("room.mp4");
 * const frames = await v.decode(sampleFrameIndices(await v.count(), 32));
 * ```
 */
export async function openVideo(
  path: string,
  decoder: FrameDecoder = "auto",
): Promise<OpenedVideo> {
  try {
    if (!(await Deno.stat(path)).isFile) throw new DataError(path, "file", "a video file");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new DataError(path, "file", "an existing file");
    throw e;
  }
  const use = decoder === "wasm" || (decoder === "auto" && !(await systemFfmpeg()))
    ? "wasm"
    : "ffmpeg";
  let reader: VideoReader | undefined;
  const open =
    async () => (reader ??= use === "ffmpeg" ? new SystemVideo(path) : await WasmVideo.open(path));
  let total: number | undefined;
  return {
    decoder: use,
    async count() {
      total ??= await (await open()).count();
      if (total < 1) throw new DataError(path, "video stream", "at least one frame", "0 frames");
      return total;
    },
    async decode(indices) {
      const unique = [...new Set(indices)];
      const decoded = await (await open()).decode(unique);
      const byIndex = new Map(unique.map((i, k) => [i, decoded[k]]));
      return indices.map((i) => byIndex.get(i)!);
    },
  };
}

interface VideoReader {
  count(): Promise<number>;
  decode(indices: readonly number[]): Promise<RgbFrame[]>;
}

/** ffmpeg arguments that decode frames `indices` of the first video stream to RGB. */
function decodeArgs(input: string, indices: readonly number[]): string[] {
  const select = indices.map((i) => `eq(n\\,${i})`).join("+");
  return [
    "-v",
    "error",
    "-noautorotate",
    "-i",
    input,
    "-map",
    "0:v:0",
    "-vf",
    `select='${select}'`,
    "-vsync",
    "0",
    "-sws_flags",
    "bilinear",
    "-pix_fmt",
    "rgb24",
  ];
}

/** Whether both system programs the `ffmpeg` decoder runs are on the PATH. */
async function systemFfmpeg(): Promise<boolean> {
  return await hasSystemProgram("ffmpeg") && await hasSystemProgram("ffprobe");
}

async function run(path: string, cmd: string, args: string[]): Promise<Uint8Array> {
  let out;
  try {
    out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Error(
      `${path}: ${cmd} is not on the PATH: install ffmpeg (apt-get install ffmpeg) or decode ` +
        `with the WebAssembly build (decoder "wasm" or "auto")`,
    );
  }
  if (!out.success) {
    const msg = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
    throw new DataError(path, "video", "a readable video file", `${cmd}: ${msg || "failed"}`);
  }
  return out.stdout;
}

class SystemVideo implements VideoReader {
  #size?: { width: number; height: number };
  constructor(readonly path: string) {}

  async #probe(extra: string[], entries: string): Promise<Record<string, unknown>> {
    const args = ["-v", "error", ...extra, "-select_streams", "v:0"];
    const json = await run(this.path, "ffprobe", [
      ...args,
      "-show_entries",
      `stream=${entries}`,
      "-of",
      "json",
      this.path,
    ]);
    const streams = JSON.parse(new TextDecoder().decode(json)).streams ?? [];
    if (!streams.length) throw new DataError(this.path, "video stream", "one", "none");
    return streams[0];
  }

  async count(): Promise<number> {
    const s = await this.#probe([], "width,height,nb_frames");
    this.#size = { width: Number(s.width), height: Number(s.height) };
    const n = Number(s.nb_frames);
    if (Number.isInteger(n) && n > 0) return n;
    const counted = Number(
      (await this.#probe(["-count_packets"], "nb_read_packets")).nb_read_packets,
    );
    return Number.isInteger(counted) ? counted : 0;
  }

  async decode(indices: readonly number[]): Promise<RgbFrame[]> {
    const { width, height } = this.#size!;
    const raw = await run(this.path, "ffmpeg", [
      "-nostdin",
      ...decodeArgs(this.path, indices),
      "-f",
      "rawvideo",
      "pipe:1",
    ]);
    const bytes = width * height * 3;
    const got = Math.floor(raw.length / bytes);
    if (got < indices.length) {
      throw new DataError(this.path, `frame ${indices[got]}`, "a decodable frame", "no picture");
    }
    return indices.map((_, k) => ({
      width,
      height,
      data: raw.slice(k * bytes, (k + 1) * bytes),
    }));
  }
}

/** ffmpeg compiled to WebAssembly (`npm:@ffmpeg/core`): slower, needs nothing installed. */
class WasmVideo implements VideoReader {
  readonly #log: string[] = [];
  private constructor(readonly path: string, readonly core: FfmpegCore) {
    core.setLogger((m) => this.#log.push(m.message));
  }

  static async open(path: string): Promise<WasmVideo> {
    const core = await loadFfmpegCore();
    core.FS.mkdir("/v");
    core.FS.writeFile("/v/in", await Deno.readFile(path));
    return new WasmVideo(path, core);
  }

  #exec(args: string[]): void {
    this.#log.length = 0;
    const rc = this.core.exec(...args);
    this.core.reset();
    if (rc !== 0) {
      const msg = this.#log.filter((l) => l.trim()).pop() ?? `exit ${rc}`;
      throw new DataError(this.path, "video", "a readable video file", `ffmpeg (wasm): ${msg}`);
    }
  }

  count(): Promise<number> {
    // One line per packet of the stream, copied without decoding (as ffprobe -count_packets).
    this.#exec([
      "-v",
      "error",
      "-i",
      "/v/in",
      "-map",
      "0:v:0",
      "-c",
      "copy",
      "-f",
      "framecrc",
      "/v/crc",
    ]);
    const text = new TextDecoder().decode(this.core.FS.readFile("/v/crc"));
    return Promise.resolve(text.split("\n").filter((l) => l.trim() && !l.startsWith("#")).length);
  }

  decode(indices: readonly number[]): Promise<RgbFrame[]> {
    this.core.FS.mkdir("/v/out");
    this.#exec([...decodeArgs("/v/in", indices), "-c:v", "png", "-f", "image2", "/v/out/%d.png"]);
    const frames = indices.map((index, k) => {
      let png: Uint8Array;
      try {
        png = this.core.FS.readFile(`/v/out/${k + 1}.png`);
      } catch {
        throw new DataError(this.path, `frame ${index}`, "a decodable frame", "no picture");
      }
      const img = decodePng(png);
      if (img.channels !== 3 || !(img.data instanceof Uint8Array)) {
        throw new DataError(this.path, `frame ${index}`, "8-bit RGB", `${img.channels} channels`);
      }
      return { width: img.width, height: img.height, data: img.data };
    });
    return Promise.resolve(frames);
  }
}

// ---------------------------------------------------------------------------------------------
// Pillow's bicubic resize

// Pillow's fixed-point precision for 8-bit images (Resample.c: PRECISION_BITS = 32 - 8 - 2).
const PRECISION_BITS = 22;

/** Keys' cubic with a = -0.5, support 2 (Pillow's `bicubic_filter`). */
function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Per output pixel: the first input pixel, the number of taps and fixed-point weights. */
interface Taps {
  first: Int32Array;
  count: Int32Array;
  /** `out * ksize` weights, scaled by 2^22 and rounded half away from zero. */
  weights: Int32Array;
  ksize: number;
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bicubic filter. */
function bicubicTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize), count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[o * ksize + x] = Math.trunc(
        w < 0 ? -0.5 + w * 2 ** PRECISION_BITS : 0.5 + w * 2 ** PRECISION_BITS,
      );
    }
    first[o] = xmin;
    count[o] = xmax;
  }
  return { first, count, weights, ksize };
}

/** `clip8`: the accumulator's integer part, clamped to 0..255. */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resizes an RGB frame to `width x height` exactly as Pillow's `Image.resize(size, BICUBIC)`
 * (what `SigLipImageProcessor` calls, model-reference.md §1.3): the aspect ratio is not kept;
 * a separable horizontal pass then a vertical one, each skipped when its size is unchanged;
 * the filter's support widened by the scale when downscaling (antialiasing); weights normalised
 * per output pixel and held as 22-bit fixed point; the intermediate image rounded and clamped
 * to uint8. Bit-exact against Pillow (tests/fixtures/pil-bicubic).
 *
 * @example
 * ```ts
 * const flat = { width: 3, height: 2, data: new Uint8Array(18).fill(77) };
 * const out = resizeBicubicPil(flat, 5, 4);
 * if (out.data.length !== 60 || out.data.some((v) => v !== 77)) throw new Error();
 * ```
 */
export function resizeBicubicPil(frame: RgbFrame, width: number, height: number): RgbFrame {
  checkFrame(frame, "frame");
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`resize: output size ${width}x${height} is not positive`);
  }
  const { width: w0, height: h0 } = frame;
  const half = 1 << (PRECISION_BITS - 1);
  let src = frame.data, sw = w0, sh = h0;
  const vert = bicubicTaps(h0, height);
  if (width !== w0) {
    // Only the rows the vertical pass reads (Pillow's ybox_first .. ybox_last).
    const y0 = height !== h0 ? vert.first[0] : 0;
    const y1 = height !== h0 ? vert.first[height - 1] + vert.count[height - 1] : h0;
    const t = bicubicTaps(w0, width);
    const out = new Uint8Array(width * (y1 - y0) * 3);
    for (let y = y0; y < y1; y++) {
      const row = y * w0 * 3, orow = (y - y0) * width * 3;
      for (let o = 0; o < width; o++) {
        let r = half, g = half, b = half;
        const kb = o * t.ksize;
        let at = row + t.first[o] * 3;
        for (let x = 0; x < t.count[o]; x++, at += 3) {
          const k = t.weights[kb + x];
          r += src[at] * k;
          g += src[at + 1] * k;
          b += src[at + 2] * k;
        }
        out[orow + o * 3] = clip8(r);
        out[orow + o * 3 + 1] = clip8(g);
        out[orow + o * 3 + 2] = clip8(b);
      }
    }
    if (height !== h0) { for (let o = 0; o < height; o++) vert.first[o] -= y0; }
    src = out;
    sw = width;
    sh = y1 - y0;
  }
  if (height !== h0) {
    const out = new Uint8Array(width * height * 3);
    const stride = sw * 3;
    for (let o = 0; o < height; o++) {
      const kb = o * vert.ksize, base = vert.first[o] * stride, orow = o * stride;
      for (let c = 0; c < stride; c++) {
        let s = half;
        for (let y = 0, at = base + c; y < vert.count[o]; y++, at += stride) {
          s += src[at] * vert.weights[kb + y];
        }
        out[orow + c] = clip8(s);
      }
    }
    src = out;
    sh = height;
  }
  return { width: sw, height: sh, data: src === frame.data ? src.slice() : src };
}

function checkFrame(frame: RgbFrame, name: string): void {
  const { width, height, data } = frame;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new DataError(name, "size", "at least 1x1 pixels", `${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new DataError(name, "data", `${width * height * 3} bytes (RGB)`, `${data.length}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Pixels

/**
 * Frames of one size as the SigLIP tower's input: `[F, 3, H, W]` (CHW) float32 values
 * `(v * (1/255) - 0.5) / 0.5`, with the rounding of the reference: the rescale in float64 then
 * cast to float32, the normalisation in float32 (model-reference.md §1.3, §11.9).
 *
 * @example
 * ```ts
 * const px = normalizePixels([{ width: 1, height: 1, data: new Uint8Array([0, 255, 128]) }]);
 * if (px[0] !== -1 || px[1] !== 1 || Math.abs(px[2] - 0.003921568) > 1e-7) throw new Error(`${px}`);
 * ```
 */
export function normalizePixels(frames: readonly RgbFrame[]): Float32Array {
  if (!frames.length) throw new RangeError("normalize: no frames");
  const { width, height } = frames[0];
  const plane = width * height;
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(v * RESCALE) - 0.5) / 0.5;
  const out = new Float32Array(frames.length * 3 * plane);
  frames.forEach((f, i) => {
    checkFrame(f, `frame ${i}`);
    if (f.width !== width || f.height !== height) {
      throw new DataError(`frame ${i}`, "size", `${width}x${height}`, `${f.width}x${f.height}`);
    }
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[(i * 3 + c) * plane + p] = lut[f.data[p * 3 + c]];
    }
  });
  return out;
}

/** Source indices and weights along one axis of PyTorch's bilinear resize, in float32. */
function bilinearAxis(inSize: number, outSize: number) {
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize);
  const l0 = new Float32Array(outSize), l1 = new Float32Array(outSize);
  const f = Math.fround;
  const scale = f(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    if (inSize === outSize) {
      i0[o] = i1[o] = o;
      l0[o] = 1;
      continue;
    }
    // A float32 scale, the source coordinate without intermediate rounding: this reproduces
    // PyTorch 1.13's CPU kernel within 1 ulp (vlm3r-tiny; rounding it to float32 costs 40 ulps).
    const src = Math.max(0, scale * (o + 0.5) - 0.5);
    i0[o] = Math.min(Math.floor(src), inSize - 1);
    l1[o] = Math.min(Math.max(f(src - i0[o]), 0), 1);
    l0[o] = f(1 - l1[o]);
    i1[o] = i0[o] + (i0[o] < inSize - 1 ? 1 : 0);
  }
  return { i0, i1, l0, l1 };
}

/**
 * `F.interpolate(x, (outH, outW), mode="bilinear", align_corners=False)` (no antialias) on
 * `x` `[N, C, inH, inW]`: source coordinate `(o + 0.5) * in/out - 0.5` clamped at 0, the two
 * neighbours `floor(s)` and `min(floor(s) + 1, in - 1)`, arithmetic in float32 in PyTorch's
 * order (rows blended first). The CUT3R input is SigLIP's pixels at 432x432 (§1.4).
 *
 * @example
 * ```ts
 * const up = resizeBilinear(new Float32Array([0, 1]), { channels: 1, height: 1, width: 2 }, 1, 4);
 * if (up.join() !== "0,0.25,0.75,1") throw new Error(`${up}`);
 * ```
 */
export function resizeBilinear(
  x: Float32Array,
  shape: { channels: number; height: number; width: number },
  outHeight: number,
  outWidth: number,
): Float32Array {
  const { height: h, width: w } = shape;
  const planes = x.length / (h * w);
  if (!Number.isInteger(planes)) {
    throw new RangeError(`resize: ${x.length} values are not planes of ${h}x${w}`);
  }
  const ax = bilinearAxis(w, outWidth), ay = bilinearAxis(h, outHeight);
  const out = new Float32Array(planes * outHeight * outWidth);
  const f = Math.fround;
  for (let p = 0; p < planes; p++) {
    const src = p * h * w, dst = p * outHeight * outWidth;
    for (let oy = 0; oy < outHeight; oy++) {
      const r0 = src + ay.i0[oy] * w, r1 = src + ay.i1[oy] * w;
      const wy0 = ay.l0[oy], wy1 = ay.l1[oy];
      for (let ox = 0; ox < outWidth; ox++) {
        const c0 = ax.i0[ox], c1 = ax.i1[ox], wx0 = ax.l0[ox], wx1 = ax.l1[ox];
        const top = f(f(x[r0 + c0] * wx0) + f(x[r0 + c1] * wx1));
        const bottom = f(f(x[r1 + c0] * wx0) + f(x[r1 + c1] * wx1));
        out[dst + oy * outWidth + ox] = f(top * wy0) + f(bottom * wy1);
      }
    }
  }
  return out;
}

/** Input sizes of the two towers. */
export interface TowerSizes {
  /** SigLIP's square input side (its `image_size`: 384). */
  siglip: number;
  /** CUT3R's square input side (432 = 27 patches of 16 px, matching SigLIP's 27x27 grid). */
  cut3r: number;
}

/** VLM-3R's sizes (model-reference.md §1.3, §1.4). */
export const TOWER_SIZES: TowerSizes = { siglip: 384, cut3r: 432 };

/** Preprocessed frames for both towers. */
export interface TowerPixels {
  /** Frames. */
  frames: number;
  /** The squash-resized uint8 frames (`siglip x siglip`). */
  resized: RgbFrame[];
  /** `[F, 3, siglip, siglip]` in [-1, 1]. */
  siglip: Float32Array;
  /** `[F, 3, cut3r, cut3r]`: `siglip` resized bilinearly. */
  cut3r: Float32Array;
}

/**
 * Frames of any size (each may differ; non-square is squashed, as the reference does) to the
 * inputs of both towers: Pillow bicubic to `sizes.siglip`, rescale and normalise, then
 * bilinear to `sizes.cut3r`. No frames is an error.
 *
 * @example
 * ```ts
 * const frame = { width: 4, height: 2, data: new Uint8Array(24).fill(255) };
 * const px = preprocessFrames([frame], { siglip: 3, cut3r: 5 });
 * if (px.siglip.length !== 27 || px.cut3r.length !== 75 || px.cut3r.some((v) => v !== 1)) {
 *   throw new Error();
 * }
 * ```
 */
export function preprocessFrames(
  frames: readonly RgbFrame[],
  sizes: TowerSizes = TOWER_SIZES,
): TowerPixels {
  if (!frames.length) throw new DataError("video", "frames", "at least one frame", "none");
  const resized = frames.map((f) => resizeBicubicPil(f, sizes.siglip, sizes.siglip));
  const siglip = normalizePixels(resized);
  const shape = { channels: 3, height: sizes.siglip, width: sizes.siglip };
  const cut3r = resizeBilinear(siglip, shape, sizes.cut3r, sizes.cut3r);
  return { frames: frames.length, resized, siglip, cut3r };
}
