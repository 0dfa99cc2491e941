/**
 * ARKitScenes 3DOD scans (`<Training|Validation>/<video_id>/`) for the metadata pipeline:
 *
 * - `<id>_3dod_annotation.json`: `data[]` of `{label, uid, segments.obbAligned{centroid,
 *   axesLengths, normalizedAxes}}`, the object boxes (DECISIONS 7); an object's `instance_id`
 *   is its index in `data`;
 * - `<id>_3dod_mesh.ply`: the scan mesh, whose vertices inside an annotated box take that
 *   box's instance (the smallest box when boxes nest), so instance ids can be rendered
 *   (DECISIONS 9);
 * - `lowres_wide.traj`: per line `timestamp`, axis-angle rotation (3), translation (3), the
 *   world-to-camera transform (ARKitScenes' `TrajStringToMatrix`), inverted to camera-to-world;
 * - `lowres_wide/<id>_<ts>.png` colour, `lowres_depth/<id>_<ts>.png` depth (mm),
 *   `lowres_wide_intrinsics/<id>_<ts>.pincam` (`w h fx fy cx cy`; ts or ts +- 0.001).
 *
 * A frame takes the pose with the same timestamp (3 decimals), else the nearest within 0.05 s,
 * as the reference's frame export does (data-reference §2.3.4); frames without depth are left
 * out. Frame ids count the `lowres_wide` frames in time order, and `fps` is their rate (from
 * the median interval).
 *
 * @module
 */

import { basename, join } from "node:path";
import { DataError } from "../io/errors.ts";
import { type Intrinsics, type Mat4, mat4InvertRigid } from "../geometry/pose.ts";
import { obbContains } from "../geometry/obb.ts";
import { plyToMesh, readPly } from "./ply.ts";
import {
  describe,
  exists,
  fitDepth,
  frameRateFromTimes,
  obbFromAnnotation,
  parseNumbers,
  type RawFrame,
  type RawInstance,
  type RawScene,
  readFileOrFail,
  readJsonFile,
} from "./raw.ts";

/** Largest timestamp gap for matching a frame to a pose (reference export). */
export const POSE_MATCH_SECONDS = 0.05;

/** Nominal rate of `lowres_wide` frames (data-reference §2.3.1: "about 10 fps"). */
export const LOWRES_FPS = 10;

/** A parsed `.traj` line: timestamp and camera-to-world. */
export interface TrajPose {
  timestamp: number;
  pose: Mat4;
}

/**
 * Parses `lowres_wide.traj`: each line `ts ax ay az tx ty tz` is a world-to-camera rotation
 * (axis-angle, radians) and translation, returned inverted (camera-to-world). A malformed line
 * is a {@link DataError} naming it; non-finite values give a non-finite pose.
 *
 * @example
 * ```ts
 * // World-to-camera: a quarter turn about z, then 1 m along x; the camera centre is -R^T t = (0, 1, 0).
 * const [p] = parseTraj(`0.5 0 0 ${Math.PI / 2} 1 0 0\n`, "lowres_wide.traj");
 * if (Math.abs(p.pose[3]) > 1e-12 || Math.abs(p.pose[7] - 1) > 1e-12) throw new Error(String(p.pose));
 * ```
 */
export function parseTraj(text: string, file: string): TrajPose[] {
  const out: TrajPose[] = [];
  text.split(/\r?\n/).forEach((line, k) => {
    if (line.trim() === "") return;
    const v = parseNumbers(line);
    if (v.length !== 7 || v.some((x) => Number.isNaN(x) && !/nan/i.test(line))) {
      throw new DataError(
        file,
        `line ${k + 1}`,
        "7 numbers: timestamp, axis-angle (3), translation (3)",
        describe(line),
      );
    }
    out.push({
      timestamp: v[0],
      pose: mat4InvertRigid(rodrigues(v[1], v[2], v[3], v[4], v[5], v[6])),
    });
  });
  return out.sort((a, b) => a.timestamp - b.timestamp);
}

/** `[R t; 0 1]` with R the rotation by the axis-angle vector (wx, wy, wz). */
function rodrigues(wx: number, wy: number, wz: number, tx: number, ty: number, tz: number): Mat4 {
  const th = Math.hypot(wx, wy, wz);
  const m = new Float64Array(16);
  m[15] = 1;
  m[3] = tx, m[7] = ty, m[11] = tz;
  if (th === 0) {
    m[0] = m[5] = m[10] = 1;
    return m;
  }
  const x = wx / th, y = wy / th, z = wz / th;
  const c = Math.cos(th), s = Math.sin(th), C = 1 - c;
  m[0] = c + x * x * C, m[1] = x * y * C - z * s, m[2] = x * z * C + y * s;
  m[4] = y * x * C + z * s, m[5] = c + y * y * C, m[6] = y * z * C - x * s;
  m[8] = z * x * C - y * s, m[9] = z * y * C + x * s, m[10] = c + z * z * C;
  return m;
}

/**
 * The pose for a frame at `t`: the same timestamp to 3 decimals, else the nearest within
 * {@link POSE_MATCH_SECONDS}; undefined when none is close enough.
 *
 * @example
 * ```ts
 * const poses = [0, 0.1, 0.2].map((timestamp) => ({ timestamp, pose: new Float64Array(16) }));
 * if (matchPose(poses, 0.13)?.timestamp !== 0.1 || matchPose(poses, 0.3) !== undefined) throw new Error();
 * ```
 */
export function matchPose(poses: TrajPose[], t: number): TrajPose | undefined {
  let lo = 0, hi = poses.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (poses[mid].timestamp < t) lo = mid + 1;
    else hi = mid;
  }
  let best: TrajPose | undefined;
  for (const i of [lo - 1, lo]) {
    const p = poses[i];
    if (!p) continue;
    if (p.timestamp.toFixed(3) === t.toFixed(3)) return p;
    if (!best || Math.abs(p.timestamp - t) < Math.abs(best.timestamp - t)) best = p;
  }
  return best && Math.abs(best.timestamp - t) <= POSE_MATCH_SECONDS ? best : undefined;
}

/**
 * Parses a `.pincam` file: `width height fx fy cx cy`.
 *
 * @example
 * ```ts
 * const k = parsePincam("256 192 211.5 211.5 127.8 95.6", "a.pincam");
 * if (k.width !== 256 || k.cy !== 95.6) throw new Error();
 * ```
 */
export function parsePincam(text: string, file: string): Intrinsics {
  const v = parseNumbers(text);
  if (
    v.length !== 6 || !v.every(Number.isFinite) || !(v[0] > 0 && v[1] > 0 && v[2] > 0 && v[3] > 0)
  ) {
    throw new DataError(
      file,
      "intrinsics",
      "6 numbers: width height fx fy cx cy",
      describe(text.trim()),
    );
  }
  return { width: v[0], height: v[1], fx: v[2], fy: v[3], cx: v[4], cy: v[5] };
}

/**
 * The mesh of the ARKitScenes scan in `scanDir` (`<id>_3dod_mesh.ply`, z-up like its
 * annotations). Used alone by `gen`'s route planning, which needs no frames.
 *
 * @example
 * ```ts ignore
 * const { positions, triangles } = await readArkitMesh("ARKitScenes/3dod/Validation/41069025");
 * ```
 */
export async function readArkitMesh(
  scanDir: string,
): Promise<{ file: string; positions: Float64Array; triangles: Uint32Array }> {
  const id = basename(scanDir.replace(/\/+$/, ""));
  const meshFile = join(scanDir, `${id}_3dod_mesh.ply`);
  const mesh = plyToMesh(readPly(await readFileOrFail(meshFile), meshFile), meshFile);
  return {
    file: meshFile,
    positions: Float64Array.from(mesh.positions),
    triangles: mesh.triangles,
  };
}

/**
 * Opens the ARKitScenes scan in `scanDir` (named by its video id).
 *
 * @example
 * ```ts ignore
 * const raw = await readArkitScene("ARKitScenes/3dod/Validation/41069025");
 * ```
 */
export async function readArkitScene(scanDir: string): Promise<RawScene> {
  const id = basename(scanDir.replace(/\/+$/, ""));
  const annoFile = join(scanDir, `${id}_3dod_annotation.json`);
  const anno = await readJsonFile(annoFile);
  const data = (anno as { data?: unknown }).data;
  if (!Array.isArray(data)) {
    throw new DataError(annoFile, "data", "an array of annotated objects", describe(data));
  }
  const instances: RawInstance[] = [];
  data.forEach((o, k) => {
    const obb = o?.segments?.obbAligned;
    // The reference counts objects that have a label and all three box fields.
    if (typeof o?.label !== "string" || !obb) return;
    instances.push({
      id: k,
      label: o.label,
      box: obbFromAnnotation(obb, annoFile, `data[${k}].segments.obbAligned`),
    });
  });

  const mesh = await readArkitMesh(scanDir);
  const positions = mesh.positions;
  const n = positions.length / 3;
  const vertexInstance = new Int32Array(n).fill(-1);
  const bySize = [...instances].sort((a, b) => volume(a) - volume(b) || a.id - b.id);
  for (let i = 0; i < n; i++) {
    const p: [number, number, number] = [
      positions[3 * i],
      positions[3 * i + 1],
      positions[3 * i + 2],
    ];
    const hit = bySize.find((inst) => obbContains(inst.box!, p));
    if (hit) vertexInstance[i] = hit.id;
  }

  const trajFile = join(scanDir, "lowres_wide.traj");
  const poses = parseTraj(new TextDecoder().decode(await readFileOrFail(trajFile)), trajFile);

  const wideDir = join(scanDir, "lowres_wide"), depthDir = join(scanDir, "lowres_depth");
  const kDir = join(scanDir, "lowres_wide_intrinsics");
  const stamps = async (dir: string, ext: string) => {
    const out = new Map<string, string>();
    if (!(await exists(dir))) return out;
    const re = new RegExp(`^${id}_(\\d+(?:\\.\\d+)?)\\.${ext}$`);
    for await (const e of Deno.readDir(dir)) {
      const m = e.name.match(re);
      if (m && e.isFile) out.set(m[1], e.name);
    }
    return out;
  };
  const wide = await stamps(wideDir, "png"), depth = await stamps(depthDir, "png");
  const pincams = await stamps(kDir, "pincam");
  if (wide.size === 0) {
    throw new DataError(wideDir, "frames", `${id}_<timestamp>.png files`, "none");
  }
  const pincamFor = (ts: string) => {
    for (const t of [ts, (Number(ts) - 0.001).toFixed(3), (Number(ts) + 0.001).toFixed(3)]) {
      const f = pincams.get(t);
      if (f) return join(kDir, f);
    }
    return undefined;
  };
  const times = [...wide.keys()].sort((a, b) => Number(a) - Number(b));
  const frames: RawFrame[] = [];
  const pincamOf = new Map<RawFrame, string>();
  times.forEach((ts, index) => {
    const depthName = depth.get(ts), pincam = pincamFor(ts);
    // The reference's export needs a depth map; intrinsics are needed to render.
    if (!depthName || !pincam) return;
    const t = Number(ts);
    const match = matchPose(poses, t);
    const colorFile = join(wideDir, wide.get(ts)!), depthFile = join(depthDir, depthName);
    const frame: RawFrame = {
      id: index,
      pose: match?.pose,
      poseSource: `${trajFile} at ${ts}`,
      timestamp: t,
      color: async () => ({ bytes: await readFileOrFail(colorFile), ext: "png" }),
      depth: async () => fitDepth(await readFileOrFail(depthFile), frame.intrinsics!, depthFile),
    };
    pincamOf.set(frame, pincam);
    frames.push(frame);
  });
  if (frames.length === 0) {
    throw new DataError(depthDir, "frames", "lowres_wide frames with depth and intrinsics", "none");
  }
  const readK = async (f: RawFrame) => {
    const file = pincamOf.get(f)!;
    f.intrinsics ??= parsePincam(new TextDecoder().decode(await readFileOrFail(file)), file);
  };
  await readK(frames[0]);
  const fps = frameRateFromTimes(times.map(Number)) ?? LOWRES_FPS;
  return {
    name: id,
    dataset: "arkitscenes",
    positions,
    triangles: mesh.triangles,
    vertexInstance,
    instances,
    fps,
    camera: frames[0].intrinsics!,
    frames,
    prepare: async (picks) => {
      for (const f of picks) await readK(f);
    },
    notes: [`${frames.length} of ${times.length} lowres_wide frames have depth and intrinsics`],
    close: () => {},
  };
}

function volume(inst: RawInstance): number {
  const s = inst.box!.size;
  return s[0] * s[1] * s[2];
}
