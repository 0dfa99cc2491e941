/**
 * `synth`: procedural indoor scenes in ScanNet's raw layout, with exact ground truth.
 *
 * {@link synthScene} builds a scene in memory (pure, seeded); {@link writeSynthScene} writes it
 * as ScanNet's reader exports a scan:
 *
 * ```
 * sceneXXXX_00/
 *   sceneXXXX_00_vh_clean_2.ply               mesh, raw (unaligned) frame
 *   sceneXXXX_00_vh_clean_2.0.010000.segs.json  per-vertex over-segment ids
 *   sceneXXXX_00.aggregation.json             segGroups: objectId, label, segments
 *   sceneXXXX_00.txt                          axisAlignment, depth intrinsics, frame counts
 *   frames/color/<i>.jpg  frames/depth/<i>.png  frames/pose/<i>.txt  frames/intrinsic/*.txt
 *   instance-filt/<i>.png                     objectId + 1, 0 = none
 *   sceneXXXX_00.mp4                          H.264, when an encoder is available
 *   ground_truth.json                         aligned-frame truth (written last)
 * ```
 *
 * @module
 */

import { join } from "node:path";
import {
  removeTemps,
  replaceDir,
  tempPathFor,
  writeFileAtomic,
  writeJsonAtomic,
} from "../../io/atomic.ts";
import { WorkerPool } from "../../io/pool.ts";
import { encodeMp4, hasSystemFfmpeg, type VideoEncoder } from "../../io/video.ts";
import {
  type CameraPose,
  formatMat4,
  type Intrinsics,
  type Mat4,
  mat4Identity,
  mat4InvertRigid,
  mat4Multiply,
  mat4RotationZ,
} from "../../geometry/pose.ts";
import { Rng } from "../../geometry/rng.ts";
import { writeMeshPly } from "../ply.ts";
import type { FrameSetup, FrameTask } from "./frame_worker.ts";
import { type EncodedFrame, encodeFrame } from "./frames.ts";
import { generateApartment } from "./apartment.ts";
import { generateLayout, type SynthLayout } from "./layout.ts";
import { buildSceneMesh, type SceneMesh } from "./mesh.ts";
import { walkPoses } from "./walk.ts";

export type {
  SynthDoorway,
  SynthLayout,
  SynthObject,
  SynthRoom,
  SynthRoomPart,
  SynthWall,
} from "./layout.ts";
/** Whether `writeSynthScene` with `video: "auto"` will use the system ffmpeg. */
export { hasSystemFfmpeg };
export type { SceneMesh, SegGroup } from "./mesh.ts";

/** ScanNet's depth camera focal length (px) at 640x480. */
const SCANNET_FOCAL = 577.870605;

/** ScanNet `sceneType` strings for our room kinds. */
const SCENE_TYPES: Record<string, string> = {
  bedroom: "Bedroom / Hotel",
  "living room": "Living room / Lounge",
  office: "Office",
  kitchen: "Kitchen",
  bathroom: "Bathroom",
  apartment: "Apartment",
};

/** What `synth` makes: single rooms, apartments (several rooms), or a mix of both. */
export type SynthKind = "room" | "apartment" | "mix";

/** The kinds `--layout` accepts; the last is the default. */
export const SYNTH_KINDS: readonly SynthKind[] = ["room", "apartment", "mix"];

/**
 * Whether scene `index` of the default mix is an apartment: scenes come in pairs (0-1, 2-3,
 * ...), one room and one apartment in each, the order drawn from the seed. So every run of an
 * even number of scenes from an even index is half apartments, and a scene still depends only
 * on the seed and its index.
 *
 * @example
 * ```ts
 * if (mixedApartment(5, 6) === mixedApartment(5, 7)) throw new Error("one of each pair");
 * ```
 */
export function mixedApartment(seed: number | string, index: number): boolean {
  const pair = new Rng(`vlm3r-synth/${seed}`).child(`mix/${Math.floor(index / 2)}`);
  return pair.chance(0.5) === (index % 2 === 0);
}

/** Options of {@link synthScene}. */
export interface SynthSceneOptions {
  /** Number of frames of the camera walk (default 300). */
  frames?: number;
  /** Image size (default 640x480); the focal length scales with the width. */
  width?: number;
  height?: number;
  /** Frame rate of the walk and the video (default 24). */
  fps?: number;
  /**
   * Single rooms, apartments, or a mix (default): half the scenes are apartments (one of each
   * pair, {@link mixedApartment}), so that route questions bend through doorways while single
   * rooms keep the benchmark's look of one room per video; the single rooms of the mix are the
   * very rooms `room` makes.
   */
  layout?: SynthKind;
}

/** A synthetic scene in memory. */
export interface SynthScene {
  name: string;
  seed: string;
  layout: SynthLayout;
  /** Mesh in the aligned frame. */
  mesh: SceneMesh;
  /** ScanNet `axisAlignment`: maps raw (unaligned) coordinates to the aligned frame. */
  axisAlignment: Mat4;
  intrinsics: Intrinsics;
  fps: number;
  /** Camera-to-world poses in the aligned frame, one per frame. */
  poses: CameraPose[];
}

/**
 * The ScanNet-style name of scene `index`: `scene0007_00`.
 *
 * @example
 * ```ts
 * if (sceneName(7) !== "scene0007_00") throw new Error();
 * ```
 */
export function sceneName(index: number): string {
  return `scene${String(index).padStart(4, "0")}_00`;
}

/**
 * Builds scene `index` of the run seeded with `seed`. A scene depends only on the seed, its
 * index and the frame count, never on how many other scenes are made.
 *
 * @example
 * ```ts
 * const a = synthScene(1, 0, { frames: 3, width: 64, height: 48 });
 * const b = synthScene(1, 0, { frames: 3, width: 64, height: 48 });
 * if (JSON.stringify(a.layout) !== JSON.stringify(b.layout)) throw new Error("deterministic");
 * if (a.poses.length !== 3 || a.name !== "scene0000_00") throw new Error();
 * ```
 */
export function synthScene(
  seed: number | string,
  index: number,
  options: SynthSceneOptions = {},
): SynthScene {
  const frames = options.frames ?? 300;
  const width = options.width ?? 640, height = options.height ?? 480;
  if (!(Number.isInteger(frames) && frames >= 1)) {
    throw new RangeError("frames must be a positive integer");
  }
  if (!(width >= 16 && height >= 16)) throw new RangeError("images must be at least 16x16");
  const name = sceneName(index);
  const rng = new Rng(`vlm3r-synth/${seed}`).child(name);
  const kind = options.layout ?? "mix";
  const apartment = kind === "apartment" || (kind === "mix" && mixedApartment(seed, index));
  const layout = apartment
    ? generateApartment(rng.child("apartment"))
    : generateLayout(rng.child("layout"));
  const mesh = buildSceneMesh(layout, rng.child("mesh"));
  // A real scan's raw frame is wherever the sensor started: turn and shift the aligned frame.
  const a = rng.child("alignment");
  const theta = a.uniform(0.3, 2 * Math.PI - 0.3);
  const axisAlignment = mat4RotationZ(theta, [
    a.uniform(-4, 4),
    a.uniform(-4, 4),
    a.uniform(-0.1, 0.1),
  ]);
  const focal = SCANNET_FOCAL * width / 640;
  return {
    name,
    seed: String(seed),
    layout,
    mesh,
    axisAlignment,
    intrinsics: { fx: focal, fy: focal, cx: (width - 1) / 2, cy: (height - 1) / 2, width, height },
    fps: options.fps ?? 24,
    poses: walkPoses(layout.walk, frames, options.fps ?? 24),
  };
}

/** Options of {@link writeSynthScene}. */
export interface WriteSynthOptions {
  /** Render workers (default: the number of CPUs; 1 renders on the calling thread). */
  workers?: number;
  /** Video encoder, or `none` to skip the MP4 (default `auto`: system ffmpeg, else wasm). */
  video?: VideoEncoder | "none";
  /** Called after each frame is written. */
  onProgress?: (done: number, total: number) => void;
  /** A worker pool to reuse across scenes (its size wins over `workers`). */
  pool?: WorkerPool<FrameSetup, FrameTask, EncodedFrame>;
}

/** What {@link writeSynthScene} wrote. */
export interface WriteSynthReport {
  dir: string;
  frames: number;
  video: "ffmpeg" | "wasm" | "none";
  /** Temporary folders of this scene that an interrupted earlier run left, removed first. */
  removedTemps: string[];
}

/**
 * Creates a worker pool for frame rendering, to share across several scenes.
 *
 * @example
 * ```ts ignore
 * const pool = createFramePool(2);
 * try { await writeSynthScene(scene, "out", { pool }); } finally { pool.close(); }
 * ```
 */
export function createFramePool(workers: number): WorkerPool<FrameSetup, FrameTask, EncodedFrame> {
  return new WorkerPool(new URL("./frame_worker.ts", import.meta.url), workers);
}

/**
 * Writes `scene` under `outDir/<scene name>/` in ScanNet's raw layout. The folder is built
 * under a temporary name and moved into place when complete, replacing an older copy; the
 * temporary folders of this scene left by runs that were killed are removed first.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const scene = synthScene(3, 0, { frames: 2, width: 32, height: 24 });
 * const report = await writeSynthScene(scene, dir, { workers: 1, video: "none" });
 * const truth = JSON.parse(await Deno.readTextFile(`${report.dir}/ground_truth.json`));
 * if (truth.objects.length !== scene.layout.objects.length) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeSynthScene(
  scene: SynthScene,
  outDir: string,
  options: WriteSynthOptions = {},
): Promise<WriteSynthReport> {
  const final = join(outDir, scene.name);
  // Only this scene's: another process may be writing other scenes into the same folder.
  const removedTemps = removeTemps(outDir, { targets: [scene.name] });
  const dir = tempPathFor(final);
  const frames = scene.poses.length;
  const k = scene.intrinsics;
  const raw = mat4InvertRigid(scene.axisAlignment);
  try {
    for (
      const sub of [
        "frames/color",
        "frames/depth",
        "frames/pose",
        "frames/intrinsic",
        "instance-filt",
      ]
    ) {
      await Deno.mkdir(join(dir, sub), { recursive: true });
    }
    await writeMeshFiles(scene, dir, raw);
    await writeIntrinsics(k, join(dir, "frames/intrinsic"));

    let done = 0;
    const save = async (f: EncodedFrame) => {
      const rawPose = mat4Multiply(raw, scene.poses[f.index]);
      await Promise.all([
        writeFileAtomic(join(dir, `frames/color/${f.index}.jpg`), f.color),
        writeFileAtomic(join(dir, `frames/depth/${f.index}.png`), f.depth),
        writeFileAtomic(join(dir, `instance-filt/${f.index}.png`), f.instance),
        writeFileAtomic(join(dir, `frames/pose/${f.index}.txt`), formatMat4(rawPose)),
      ]);
      options.onProgress?.(++done, frames);
    };
    const workers = options.pool?.size ?? options.workers ?? navigator.hardwareConcurrency;
    if (workers <= 1 && !options.pool) {
      for (let i = 0; i < frames; i++) await save(encodeFrame(scene.mesh, scene.poses[i], k, i));
    } else {
      const pool = options.pool ?? createFramePool(workers);
      try {
        const m = scene.mesh;
        await pool.setup({
          mesh: {
            positions: m.positions,
            triangles: m.triangles,
            triangleInstance: m.triangleInstance,
            triangleNormal: m.triangleNormal,
            triangleMaterial: m.triangleMaterial,
            triangleColor: m.triangleColor,
          },
          intrinsics: k,
        });
        await Promise.all(scene.poses.map((pose, index) => pool.run({ index, pose }).then(save)));
      } finally {
        if (!options.pool) pool.close();
      }
    }

    let video: WriteSynthReport["video"] = "none";
    const want = options.video ?? "auto";
    if (want !== "none") {
      video = await encodeMp4(join(dir, "frames/color"), frames, join(dir, `${scene.name}.mp4`), {
        fps: scene.fps,
        encoder: want,
      });
    }
    await writeJsonAtomic(join(dir, "ground_truth.json"), groundTruth(scene));
    await replaceDir(dir, final);
    return { dir: final, frames, video, removedTemps };
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

async function writeMeshFiles(scene: SynthScene, dir: string, raw: Mat4) {
  const { name, mesh } = scene;
  const p = mesh.positions;
  const rawPositions = new Float32Array(p.length);
  for (let i = 0; i < p.length; i += 3) {
    const x = p[i], y = p[i + 1], z = p[i + 2];
    rawPositions[i] = raw[0] * x + raw[1] * y + raw[2] * z + raw[3];
    rawPositions[i + 1] = raw[4] * x + raw[5] * y + raw[6] * z + raw[7];
    rawPositions[i + 2] = raw[8] * x + raw[9] * y + raw[10] * z + raw[11];
  }
  await writeFileAtomic(
    join(dir, `${name}_vh_clean_2.ply`),
    writeMeshPly({ positions: rawPositions, colors: mesh.colors, triangles: mesh.triangles }),
  );
  const segsFile = `${name}_vh_clean_2.0.010000.segs.json`;
  await writeFileAtomic(
    join(dir, segsFile),
    JSON.stringify({
      params: { generator: "vlm3r synth" },
      sceneId: name,
      segIndices: Array.from(mesh.vertexSegment),
    }),
  );
  await writeJsonAtomic(join(dir, `${name}.aggregation.json`), {
    sceneId: `scannet.${name}`,
    appId: "vlm3r.synth",
    segGroups: mesh.segGroups,
    segmentsFile: `scannet.${segsFile}`,
  });
  const k = scene.intrinsics;
  const info: [string, string | number][] = [
    ["axisAlignment", Array.from(scene.axisAlignment).join(" ")],
    ["colorHeight", k.height],
    ["colorToDepthExtrinsics", Array.from(mat4Identity()).join(" ")],
    ["colorWidth", k.width],
    ["depthHeight", k.height],
    ["depthWidth", k.width],
    ["fx_color", k.fx.toFixed(6)],
    ["fx_depth", k.fx.toFixed(6)],
    ["fy_color", k.fy.toFixed(6)],
    ["fy_depth", k.fy.toFixed(6)],
    ["mx_color", k.cx.toFixed(6)],
    ["mx_depth", k.cx.toFixed(6)],
    ["my_color", k.cy.toFixed(6)],
    ["my_depth", k.cy.toFixed(6)],
    ["numColorFrames", scene.poses.length],
    ["numDepthFrames", scene.poses.length],
    ["numIMUmeasurements", 0],
    ["sceneType", SCENE_TYPES[scene.layout.room.kind] ?? "Misc."],
  ];
  await writeFileAtomic(
    join(dir, `${name}.txt`),
    info.map(([key, v]) => `${key} = ${v}\n`).join(""),
  );
}

async function writeIntrinsics(k: Intrinsics, dir: string) {
  const m = Float64Array.of(k.fx, 0, k.cx, 0, 0, k.fy, k.cy, 0, 0, 0, 1, 0, 0, 0, 0, 1);
  // Colour and depth come from one virtual camera: same intrinsics, identity extrinsics.
  await writeFileAtomic(join(dir, "intrinsic_depth.txt"), formatMat4(m));
  await writeFileAtomic(join(dir, "intrinsic_color.txt"), formatMat4(m));
  await writeFileAtomic(join(dir, "extrinsic_depth.txt"), formatMat4(mat4Identity()));
  await writeFileAtomic(join(dir, "extrinsic_color.txt"), formatMat4(mat4Identity()));
}

/** The aligned-frame ground truth written to `ground_truth.json`. */
export function groundTruth(scene: SynthScene): Record<string, unknown> {
  const { layout, mesh } = scene;
  const k = scene.intrinsics;
  const objectIds = new Set(layout.objects.map((o) => o.instanceId));
  return {
    scene: scene.name,
    generator: "vlm3r synth",
    seed: scene.seed,
    frame: "aligned: z up, metres; axis_alignment maps the raw mesh and poses into it",
    axis_alignment: Array.from(scene.axisAlignment),
    room: {
      kind: layout.room.kind,
      shape: layout.room.shape,
      polygon: layout.room.polygon,
      floor_area: layout.room.floorArea,
      height: layout.room.height,
    },
    // Every room (one for a single room; an apartment's corridor first), with its own floor
    // area; `room.floor_area` is the whole outline, walls included, as meta measures it.
    rooms: layout.rooms.map((r) => ({
      kind: r.kind,
      polygon: r.polygon,
      floor_area: r.floorArea,
    })),
    doorways: layout.doorways.map((d) => ({
      rooms: d.rooms,
      center: d.center,
      width: d.width,
      height: d.height,
      along: d.along,
    })),
    walls: layout.walls.map((w) => ({
      parts: w.parts.map((q) => ({ center: q.center, size: q.size, yaw: q.yaw })),
    })),
    objects: layout.objects.map((o) => ({
      instance_id: o.instanceId,
      category: o.category,
      center: o.box.center,
      size: o.box.size,
      yaw: o.box.yaw,
      parts: o.parts.map((q) => ({ center: q.center, size: q.size, yaw: q.yaw })),
      ...(o.supportId === undefined ? {} : { support_id: o.supportId }),
    })),
    structures: mesh.segGroups
      .filter((g) => !objectIds.has(g.objectId))
      .map((g) => ({ instance_id: g.objectId, label: g.label })),
    camera: {
      width: k.width,
      height: k.height,
      fx: k.fx,
      fy: k.fy,
      cx: k.cx,
      cy: k.cy,
      fps: scene.fps,
      frames: scene.poses.length,
      poses: scene.poses.map((p) => Array.from(p)),
    },
  };
}
