/**
 * ScanNet scans (`scans/<scene>/`, and `vlm3r synth` output) for the metadata pipeline: the
 * aligned labelled mesh ({@link readScannetMesh}), depth intrinsics from `<scene>.txt`, and
 * frames from whichever source the scan has:
 *
 * - an exported folder, `frames/{color,depth,pose}/` (as `synth` writes) or
 *   `{color,depth,pose}/` (ScanNet's reader export), files named by frame index;
 * - the `<scene>.sens` stream itself.
 *
 * Instance masks (`objectId + 1`, 0 = none) come from `instance-filt/<k>.png`, or in place from
 * `<scene>_2d-instance-filt.zip` (fallback `_2d-instance.zip`). Poses are moved into the
 * aligned frame with `axisAlignment` (DECISIONS 2).
 *
 * @module
 */

import { basename, join } from "node:path";
import { DataError } from "../io/errors.ts";
import { decodePng, encodeJpeg, encodePng16 } from "../io/image.ts";
import { videoInfo } from "../io/mp4.ts";
import { resizeArea, resizeNearest } from "../io/resize.ts";
import { ZipReader } from "../io/zip.ts";
import { type Intrinsics, type Mat4, mat4Multiply, parseMat4 } from "../geometry/pose.ts";
import { readScannetMesh } from "./scannet_mesh.ts";
import { SENS_COLOR, SensReader } from "./sens.ts";
import {
  exists,
  fitColor,
  fitDepth,
  type InstanceMask,
  JPEG_QUALITY,
  MissingMask,
  type RawFrame,
  type RawScene,
} from "./raw.ts";

/** Frame rate of the reference's ScanNet videos (`export_video.py` writes every frame at 24). */
export const SCANNET_VIDEO_FPS = 24;

/**
 * Opens the scan in `scanDir` (named like its folder, `sceneXXXX_YY`).
 *
 * @example
 * ```ts
 * import { synthScene, writeSynthScene } from "./synth/mod.ts";
 * const dir = await Deno.makeTempDir();
 * const scene = synthScene(1, 0, { frames: 3, width: 32, height: 24 });
 * const { dir: scan } = await writeSynthScene(scene, dir, { workers: 1, video: "none" });
 * const raw = await readScannetScene(scan);
 * try {
 *   if (raw.frames.length !== 3 || !raw.mask || raw.camera.width !== 32) throw new Error();
 * } finally {
 *   raw.close();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readScannetScene(scanDir: string): Promise<RawScene> {
  const name = basename(scanDir.replace(/\/+$/, ""));
  const mesh = await readScannetMesh(scanDir);
  const infoFile = join(scanDir, `${name}.txt`);
  const notes: string[] = [];
  const closers: (() => void)[] = [];
  const align = mesh.axisAlignment;

  let frames: RawFrame[];
  let camera = cameraFromInfo(mesh.info, infoFile);
  const exported = await findExportedFrames(scanDir);
  if (exported) {
    camera ??= await cameraFromFile(join(exported, "intrinsic", "intrinsic_depth.txt"));
    if (!camera) {
      throw new DataError(
        infoFile,
        "fx_depth",
        "depth intrinsics (or intrinsic/intrinsic_depth.txt)",
        "none",
      );
    }
    frames = await exportedFrames(exported, align, camera);
    notes.push(`frames from ${exported}`);
  } else {
    const sensFile = join(scanDir, `${name}.sens`);
    if (!(await exists(sensFile))) {
      throw new DataError(scanDir, "frames", "frames/pose/, pose/ or " + `${name}.sens`, "none");
    }
    const sens = await SensReader.open(sensFile);
    closers.push(() => sens.close());
    const h = sens.header;
    camera ??= {
      fx: h.intrinsicDepth[0],
      fy: h.intrinsicDepth[5],
      cx: h.intrinsicDepth[2],
      cy: h.intrinsicDepth[6],
      width: h.depthWidth,
      height: h.depthHeight,
    };
    frames = sensFrames(sens, align, camera);
    notes.push(`frames from ${sensFile}`);
  }

  let fps = SCANNET_VIDEO_FPS;
  const video = join(scanDir, `${name}.mp4`);
  if (await exists(video)) fps = round3((await videoInfo(video)).fps);

  const mask = await maskSource(scanDir, name, camera, closers);
  if (mask) notes.push(`masks from ${mask.source}`);
  return {
    name,
    dataset: "scannet",
    positions: mesh.positions,
    triangles: mesh.triangles,
    vertexInstance: mesh.vertexInstance,
    instances: mesh.instances.map((i) => ({ id: i.objectId, label: i.label })),
    fps,
    camera,
    frames,
    mask: mask?.read,
    notes,
    warnings: mesh.warnings,
    close: () => closers.forEach((c) => c()),
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function cameraFromInfo(info: Map<string, string>, file: string): Intrinsics | undefined {
  const keys = ["fx_depth", "fy_depth", "mx_depth", "my_depth"];
  if (!keys.every((k) => info.has(k))) return undefined;
  const [fx, fy, cx, cy] = keys.map((k) => {
    const v = Number(info.get(k));
    if (!Number.isFinite(v)) throw new DataError(file, k, "a number", info.get(k));
    return v;
  });
  const size = (k: string, fallback: number) => {
    if (!info.has(k)) return fallback;
    const v = Number(info.get(k));
    if (!Number.isInteger(v) || v <= 0) {
      throw new DataError(file, k, "a positive integer", info.get(k));
    }
    return v;
  };
  return { fx, fy, cx, cy, width: size("depthWidth", 640), height: size("depthHeight", 480) };
}

async function cameraFromFile(file: string): Promise<Intrinsics | undefined> {
  if (!(await exists(file))) return undefined;
  const m = parseMat4(await Deno.readTextFile(file));
  if (!m || !(m[0] > 0 && m[5] > 0)) {
    throw new DataError(
      file,
      "intrinsics",
      "a 4x4 matrix [[fx 0 cx 0] [0 fy cy 0] ...]",
      "bad matrix",
    );
  }
  // The file has no image size: the principal point sits at the centre.
  return {
    fx: m[0],
    fy: m[5],
    cx: m[2],
    cy: m[6],
    width: Math.round(2 * m[2] + 1),
    height: Math.round(2 * m[6] + 1),
  };
}

async function findExportedFrames(scanDir: string): Promise<string | undefined> {
  for (const base of [join(scanDir, "frames"), scanDir]) {
    if (await exists(join(base, "pose"))) return base;
  }
  return undefined;
}

/** Integer stems of the files in `dir` with one of `exts`, to file name. */
async function listByIndex(dir: string, exts: string[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (!(await exists(dir))) return out;
  for await (const e of Deno.readDir(dir)) {
    const m = e.name.match(/^(\d+)\.(\w+)$/);
    if (m && e.isFile && exts.includes(m[2].toLowerCase())) out.set(Number(m[1]), e.name);
  }
  return out;
}

async function exportedFrames(base: string, align: Mat4, camera: Intrinsics): Promise<RawFrame[]> {
  const poses = await listByIndex(join(base, "pose"), ["txt"]);
  const colors = await listByIndex(join(base, "color"), ["jpg", "jpeg", "png"]);
  const depths = await listByIndex(join(base, "depth"), ["png"]);
  const ids = [...poses.keys()].sort((a, b) => a - b);
  const frames: RawFrame[] = [];
  for (const id of ids) {
    const colorName = colors.get(id), depthName = depths.get(id);
    // The reference skips frames whose colour or depth file is missing.
    if (!colorName || !depthName) continue;
    const poseFile = join(base, "pose", poses.get(id)!);
    const raw = parseMat4(await Deno.readTextFile(poseFile));
    const colorFile = join(base, "color", colorName), depthFile = join(base, "depth", depthName);
    frames.push({
      id,
      pose: raw && mat4Multiply(align, raw),
      poseSource: poseFile,
      color: async () => fitColor(await Deno.readFile(colorFile), camera, colorFile),
      depth: async () => fitDepth(await Deno.readFile(depthFile), camera, depthFile),
    });
  }
  return frames;
}

function sensFrames(sens: SensReader, align: Mat4, camera: Intrinsics): RawFrame[] {
  const h = sens.header;
  return sens.frames.map((f, id) => ({
    id,
    pose: mat4Multiply(align, f.cameraToWorld),
    poseSource: `${sens.path} frame ${id}`,
    color: async () => {
      const bytes = await sens.readColor(id);
      if (h.colorCompression === SENS_COLOR.jpeg || h.colorCompression === SENS_COLOR.png) {
        return fitColor(bytes, camera, `${sens.path} frame ${id} colour`);
      }
      if (
        h.colorCompression !== SENS_COLOR.raw || bytes.length !== 3 * h.colorWidth * h.colorHeight
      ) {
        throw new DataError(
          sens.path,
          `frame ${id} colour`,
          "JPEG, PNG or raw RGB",
          `compression ${h.colorCompression}`,
        );
      }
      const rgba = new Uint8Array(4 * h.colorWidth * h.colorHeight);
      for (let i = 0, j = 0; i < bytes.length; i += 3, j += 4) {
        rgba[j] = bytes[i],
          rgba[j + 1] = bytes[i + 1],
          rgba[j + 2] = bytes[i + 2],
          rgba[j + 3] = 255;
      }
      const out = resizeArea(rgba, h.colorWidth, h.colorHeight, 4, camera.width, camera.height);
      return { bytes: encodeJpeg(out, camera.width, camera.height, JPEG_QUALITY), ext: "jpg" };
    },
    depth: async () => {
      let d = await sens.readDepth(id);
      if (h.depthShift !== 1000) {
        d = d.map((v) => Math.min(65535, Math.round(v * 1000 / h.depthShift)));
      }
      if (h.depthWidth !== camera.width || h.depthHeight !== camera.height) {
        d = resizeNearest(d, h.depthWidth, h.depthHeight, camera.width, camera.height);
      }
      return encodePng16(d, camera.width, camera.height);
    },
  }));
}

async function maskSource(
  scanDir: string,
  name: string,
  camera: Intrinsics,
  closers: (() => void)[],
): Promise<{ source: string; read: (f: RawFrame) => Promise<InstanceMask> } | undefined> {
  const check = (bytes: Uint8Array, file: string): InstanceMask => {
    let img;
    try {
      img = decodePng(bytes);
    } catch (e) {
      throw new DataError(file, "mask", "an 8- or 16-bit PNG", (e as Error).message);
    }
    if (img.width !== camera.width || img.height !== camera.height || img.channels !== 1) {
      throw new DataError(
        file,
        "mask size",
        `${camera.width}x${camera.height}, one channel (the depth frame size)`,
        `${img.width}x${img.height}, ${img.channels} channel(s)`,
      );
    }
    return { width: img.width, height: img.height, data: img.data };
  };
  const dir = join(scanDir, "instance-filt");
  if (await exists(dir)) {
    return {
      source: dir,
      read: async (f) => {
        const file = join(dir, `${f.id}.png`);
        if (!(await exists(file))) throw new MissingMask(file);
        return check(await Deno.readFile(file), file);
      },
    };
  }
  for (
    const [zipName, folder] of [[`${name}_2d-instance-filt.zip`, "instance-filt"], [
      `${name}_2d-instance.zip`,
      "instance",
    ]]
  ) {
    const zipFile = join(scanDir, zipName);
    if (!(await exists(zipFile))) continue;
    const zip = await ZipReader.open(zipFile);
    closers.push(() => zip.close());
    return {
      source: zipFile,
      read: async (f) => {
        const member = `${folder}/${f.id}.png`;
        if (!zip.has(member)) throw new MissingMask(`${zipFile}:${member}`);
        return check(await zip.read(member), `${zipFile}:${member}`);
      },
    };
  }
  return undefined;
}
