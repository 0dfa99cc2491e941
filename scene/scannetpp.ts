/**
 * ScanNet++ scenes (`data/<scene>/`) for the metadata pipeline:
 *
 * - `scans/mesh_aligned_0.05.ply` (the aligned, z-up mesh), `scans/segments.json`
 *   (`segIndices`, one over-segment per vertex) and `scans/segments_anno.json` (`segGroups`:
 *   `id`/`objectId`, `label`, `segments`, and the annotated `obb`, used as the object box,
 *   DECISIONS 7);
 * - the iPhone stream: `iphone/pose_intrinsic_imu.json`, one entry per video frame keyed
 *   `frame_000123`, with `aligned_pose` (4x4 camera-to-world in the mesh's aligned frame,
 *   OpenCV axes, as the ScanNet++ toolkit back-projects with it) and `intrinsic` (3x3, at the
 *   video's resolution), and `timestamp` when present;
 * - colour from the extracted frames `iphone/rgb/frame_000123.jpg` when present, else decoded
 *   from `iphone/rgb.mkv` (or `rgb.mp4`) with the system ffmpeg; depth from the extracted
 *   `iphone/depth/frame_000123.png` (mm) when present, else rendered from the mesh.
 *
 * Frames are exported at 640 pixels wide (the reference's iPhone export size, 640x480), with
 * the intrinsics scaled to match. ScanNet++ ships no 2D instance masks: they are rendered from
 * the labelled mesh (DECISIONS 9).
 *
 * @module
 */

import { basename, join } from "node:path";
import { DataError } from "../io/errors.ts";
import { hasSystemFfmpeg, hasSystemProgram } from "../io/video.ts";
import { encodedSize } from "../io/resize.ts";
import type { Intrinsics, Mat4 } from "../geometry/pose.ts";
import { scaleIntrinsics } from "../geometry/projection.ts";
import { plyToMesh, readPly } from "./ply.ts";
import { unknownSegments } from "./scannet_mesh.ts";
import {
  describe,
  exists,
  fitColor,
  fitDepth,
  obbFromAnnotation,
  type RawFrame,
  type RawInstance,
  type RawScene,
  readFileOrFail,
  readJsonFile,
} from "./raw.ts";

/** Width of exported frames (the reference exports iPhone frames at 640x480). */
export const SCANNETPP_WIDTH = 640;
/** Frame rate of ScanNet++ iPhone videos, when neither timestamps nor the video say. */
export const IPHONE_FPS = 60;

/**
 * The aligned, z-up mesh of the ScanNet++ scene in `sceneDir` (`data/<scene>`):
 * `scans/mesh_aligned_0.05.ply`, else `scans/mesh_aligned_0.05_semantic.ply`. Used alone by
 * `gen`'s route planning, which needs no iPhone data.
 *
 * @example
 * ```ts ignore
 * const { positions, triangles } = await readScannetppMesh("scannetpp/data/7b6477cb95");
 * ```
 */
export async function readScannetppMesh(
  sceneDir: string,
): Promise<{ file: string; positions: Float64Array; triangles: Uint32Array }> {
  const scans = join(sceneDir, "scans");
  let meshFile = join(scans, "mesh_aligned_0.05.ply");
  if (!(await exists(meshFile))) {
    const semantic = join(scans, "mesh_aligned_0.05_semantic.ply");
    if (await exists(semantic)) meshFile = semantic;
  }
  const mesh = plyToMesh(readPly(await readFileOrFail(meshFile), meshFile), meshFile);
  return {
    file: meshFile,
    positions: Float64Array.from(mesh.positions),
    triangles: mesh.triangles,
  };
}

/**
 * Opens the ScanNet++ scene in `sceneDir` (`data/<scene>`).
 *
 * @example
 * ```ts ignore
 * const raw = await readScannetppScene("scannetpp/data/7b6477cb95");
 * ```
 */
export async function readScannetppScene(sceneDir: string): Promise<RawScene> {
  const name = basename(sceneDir.replace(/\/+$/, ""));
  const scans = join(sceneDir, "scans");
  const mesh = await readScannetppMesh(sceneDir);
  const n = mesh.positions.length / 3;
  const positions = mesh.positions;

  const segsFile = join(scans, "segments.json");
  const segIndices = ((await readJsonFile(segsFile)) as { segIndices?: unknown }).segIndices;
  if (!Array.isArray(segIndices) || segIndices.length !== n) {
    throw new DataError(
      segsFile,
      "segIndices",
      `an array of ${n} integers (one per vertex)`,
      describe(segIndices),
    );
  }
  const annoFile = join(scans, "segments_anno.json");
  const groups = ((await readJsonFile(annoFile)) as { segGroups?: unknown }).segGroups;
  if (!Array.isArray(groups)) {
    throw new DataError(annoFile, "segGroups", "an array", describe(groups));
  }
  const segToInstance = new Map<number, number>();
  const instances: RawInstance[] = [];
  const segments = new Set<unknown>(segIndices);
  const warnings: string[] = [];
  let withoutBox = 0;
  groups.forEach((g, k) => {
    const id = g?.objectId ?? g?.id;
    if (!Number.isInteger(id) || typeof g?.label !== "string" || !Array.isArray(g?.segments)) {
      throw new DataError(
        annoFile,
        `segGroups[${k}]`,
        "objectId (integer), label (string), segments (array)",
        describe(g),
      );
    }
    for (const s of g.segments) segToInstance.set(s, id);
    // The reference keeps only annotated objects that have a box.
    if (g.obb === undefined) {
      withoutBox++;
      return;
    }
    const w = unknownSegments(g, {
      index: k,
      known: segments,
      annotation: annoFile,
      segments: segsFile,
    });
    // The box is annotated; the rendered 2D boxes come from the vertices.
    if (w) warnings.push(w.message + "; its rendered 2D boxes omit them");
    instances.push({
      id,
      label: g.label,
      box: obbFromAnnotation(g.obb, annoFile, `segGroups[${k}].obb`),
    });
  });
  const vertexInstance = new Int32Array(n);
  for (let i = 0; i < n; i++) vertexInstance[i] = segToInstance.get(segIndices[i]) ?? -1;

  const iphone = join(sceneDir, "iphone");
  const poseFile = join(iphone, "pose_intrinsic_imu.json");
  const entries = await readJsonFile(poseFile);
  if (typeof entries !== "object" || entries === null || Array.isArray(entries)) {
    throw new DataError(poseFile, "frames", 'an object {"frame_000000": {...}}', describe(entries));
  }
  const keys = Object.keys(entries).filter((k) => /^frame_\d+$/.test(k)).sort((a, b) =>
    Number(a.slice(6)) - Number(b.slice(6))
  );
  if (keys.length === 0) throw new DataError(poseFile, "frames", "frame_XXXXXX entries", "none");

  // The native image size: from an extracted frame, else from the video.
  const rgbDir = join(iphone, "rgb");
  const extracted = await exists(rgbDir);
  let video: string | undefined;
  for (const v of ["rgb.mkv", "rgb.mp4"]) {
    if (!video && await exists(join(iphone, v))) video = join(iphone, v);
  }
  let native: { width: number; height: number } | undefined;
  if (extracted) {
    const first = join(rgbDir, `${keys[0]}.jpg`);
    native = encodedSize(await readFileOrFail(first));
    if (!native) throw new DataError(first, "image", "a JPEG", "unknown format");
  } else if (video) {
    native = await probeSize(video);
  } else {
    throw new DataError(
      iphone,
      "rgb",
      "iphone/rgb/*.jpg (extracted frames) or iphone/rgb.mkv",
      "neither",
    );
  }
  const width = SCANNETPP_WIDTH,
    height = Math.round(SCANNETPP_WIDTH * native.height / native.width);

  const depthDir = join(iphone, "depth");
  const hasDepth = await exists(depthDir);
  const decoded = new Map<string, Uint8Array>();
  const frames: RawFrame[] = [];
  const times: [number, number][] = [];
  for (const key of keys) {
    const e = (entries as Record<string, unknown>)[key] as Record<string, unknown>;
    const k = intrinsicOf(e?.intrinsic, native, width, height);
    if (!k) {
      throw new DataError(
        poseFile,
        `${key}.intrinsic`,
        "a 3x3 matrix [[fx 0 cx] [0 fy cy] [0 0 1]]",
        describe(e?.intrinsic),
      );
    }
    const ts = typeof e.timestamp === "number" && Number.isFinite(e.timestamp)
      ? e.timestamp
      : undefined;
    // Frame numbers are video frame indices: the rate is frames over seconds between entries.
    if (ts !== undefined) times.push([Number(key.slice(6)), ts]);
    const colorFile = join(rgbDir, `${key}.jpg`), depthFile = join(depthDir, `${key}.png`);
    frames.push({
      id: key,
      pose: mat4Of(e.aligned_pose),
      poseSource: `${poseFile} ${key}.aligned_pose`,
      timestamp: ts,
      intrinsics: k,
      color: async () => {
        if (extracted) return fitColor(await readFileOrFail(colorFile), k, colorFile);
        const bytes = decoded.get(key);
        if (!bytes) throw new Error(`${key} was not decoded from ${video}`);
        return { bytes, ext: "jpg" };
      },
      depth: async () => {
        if (!hasDepth || !(await exists(depthFile))) return undefined;
        return fitDepth(await Deno.readFile(depthFile), k, depthFile);
      },
    });
  }
  const fps = videoRate(times) ?? (video ? await probeFps(video) : undefined) ??
    IPHONE_FPS;
  const first = frames[0].intrinsics!;
  const notes = [`frames from ${poseFile}`, `colour from ${extracted ? rgbDir : video}`];
  if (withoutBox > 0) notes.push(`${withoutBox} annotated instances without obb left out`);
  return {
    name,
    dataset: "scannetpp",
    positions,
    triangles: mesh.triangles,
    vertexInstance,
    instances,
    fps,
    camera: first,
    frames,
    prepare: extracted ? undefined : async (picks) => {
      const got = await decodeVideoFrames(
        video!,
        picks.map((f) => Number(String(f.id).slice(6))),
        width,
        height,
      );
      picks.forEach((f, i) => decoded.set(String(f.id), got[i]));
    },
    notes,
    warnings,
    close: () => {},
  };
}

function mat4Of(v: unknown): Mat4 | undefined {
  const flat = Array.isArray(v) ? v.flat() : undefined;
  if (!flat || flat.length !== 16 || !flat.every((x) => typeof x === "number")) return undefined;
  return Float64Array.from(flat as number[]);
}

function intrinsicOf(
  v: unknown,
  native: { width: number; height: number },
  width: number,
  height: number,
): Intrinsics | undefined {
  const flat = Array.isArray(v) ? v.flat() : undefined;
  if (
    !flat || flat.length !== 9 || !flat.every((x) => typeof x === "number" && Number.isFinite(x))
  ) {
    return undefined;
  }
  const m = flat as number[];
  if (!(m[0] > 0 && m[4] > 0)) return undefined;
  return scaleIntrinsics({ fx: m[0], fy: m[4], cx: m[2], cy: m[5], ...native }, width, height);
}

/** Median of frames per second between consecutive (frame number, time) entries, to 1e-3. */
function videoRate(entries: [number, number][]): number | undefined {
  const rates: number[] = [];
  for (let i = 1; i < entries.length; i++) {
    const dn = entries[i][0] - entries[i - 1][0], dt = entries[i][1] - entries[i - 1][1];
    if (dn > 0 && dt > 0) rates.push(dn / dt);
  }
  if (rates.length === 0) return undefined;
  rates.sort((a, b) => a - b);
  return Math.round(1000 * rates[Math.floor(rates.length / 2)]) / 1000;
}

async function ffprobe(video: string, entries: string): Promise<string> {
  if (!(await hasSystemProgram("ffprobe"))) {
    throw new DataError(
      video,
      "video",
      "ffmpeg/ffprobe installed to read it (or extracted iphone/rgb/ frames)",
      "no ffprobe",
    );
  }
  const out = await new Deno.Command("ffprobe", {
    args: [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-show_entries",
      `stream=${entries}`,
      "-of",
      "csv=p=0",
      video,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new DataError(
      video,
      "video",
      "a readable video",
      new TextDecoder().decode(out.stderr).trim().split("\n")[0],
    );
  }
  return new TextDecoder().decode(out.stdout).trim();
}

async function probeSize(video: string): Promise<{ width: number; height: number }> {
  const [w, h] = (await ffprobe(video, "width,height")).split(",").map(Number);
  if (!(w > 0 && h > 0)) throw new DataError(video, "video size", "width and height", "none");
  return { width: w, height: h };
}

async function probeFps(video: string): Promise<number | undefined> {
  const [num, den] = (await ffprobe(video, "avg_frame_rate")).split("/").map(Number);
  return num > 0 && den > 0 ? Math.round(1000 * num / den) / 1000 : undefined;
}

/** Decodes the given frame indices (ascending) of a video as JPEGs at `width` x `height`. */
async function decodeVideoFrames(
  video: string,
  indices: number[],
  width: number,
  height: number,
): Promise<Uint8Array[]> {
  if (!(await hasSystemFfmpeg())) {
    throw new DataError(
      video,
      "video",
      "ffmpeg installed to decode it (or extracted iphone/rgb/ frames)",
      "no ffmpeg",
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "vlm3r-meta-" });
  try {
    const select = indices.map((i) => `eq(n\\,${i})`).join("+");
    const out = await new Deno.Command("ffmpeg", {
      args: [
        "-v",
        "error",
        "-i",
        video,
        "-vf",
        `select='${select}',scale=${width}:${height}:flags=area`,
        "-fps_mode",
        "passthrough",
        "-q:v",
        "3",
        join(dir, "%06d.jpg"),
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new DataError(
        video,
        "video",
        "decodable frames",
        new TextDecoder().decode(out.stderr).trim().split("\n")[0],
      );
    }
    const frames: Uint8Array[] = [];
    for (let k = 0; k < indices.length; k++) {
      const file = join(dir, `${String(k + 1).padStart(6, "0")}.jpg`);
      if (!(await exists(file))) {
        throw new DataError(video, `frame ${indices[k]}`, "a frame of the video", "beyond its end");
      }
      frames.push(await Deno.readFile(file));
    }
    return frames;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
