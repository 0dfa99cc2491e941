/**
 * Small hand-made scenes for the ScanNet++ and ARKitScenes reader tests: a 4 x 4 m floor on a
 * 10 cm grid and axis-aligned boxes, each box a separate 8-vertex part of the mesh; and the
 * loader of the metadata files `vlm3r meta` writes, for all the reader tests.
 *
 * @module
 */

import {
  cameraPoseFromAngles,
  type Intrinsics,
  type Mat4,
  mat4InvertRigid,
} from "../../geometry/pose.ts";
import { worldToPixel } from "../../geometry/projection.ts";
import { join } from "node:path";
import type { FrameMetaFile, SceneMetaFile } from "../../scene/metadata.ts";

/** A box of the fixture: centre and full size, axis-aligned. */
export interface FixtureBox {
  center: [number, number, number];
  size: [number, number, number];
}

/** The fixture mesh: positions, triangles, and the part of each vertex (0 floor, k box k). */
export function fixtureMesh(boxes: FixtureBox[]): {
  positions: Float32Array;
  triangles: Uint32Array;
  part: number[];
} {
  const pos: number[] = [], tri: number[] = [], part: number[] = [];
  const N = 40;
  for (let j = 0; j <= N; j++) {
    for (let i = 0; i <= N; i++) {
      pos.push(-2 + (4 * i) / N, -1 + (4 * j) / N, 0);
      part.push(0);
    }
  }
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < N; i++) {
      const a = j * (N + 1) + i;
      tri.push(a, a + 1, a + N + 2, a, a + N + 2, a + N + 1);
    }
  }
  boxes.forEach((b, k) => {
    const base = pos.length / 3;
    for (let c = 0; c < 8; c++) {
      pos.push(
        b.center[0] + ((c & 1) - 0.5) * b.size[0],
        b.center[1] + (((c >> 1) & 1) - 0.5) * b.size[1],
        b.center[2] + (((c >> 2) & 1) - 0.5) * b.size[2],
      );
      part.push(k + 1);
    }
    for (
      const [p, q, r, s] of [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [
        1,
        5,
        7,
        3,
      ]]
    ) {
      tri.push(base + p, base + q, base + r, base + p, base + r, base + s);
    }
  });
  return { positions: Float32Array.from(pos), triangles: Uint32Array.from(tri), part };
}

/** Camera-to-world poses of a camera 1.2 m high at y = -0.8 looking along +y, panning a little. */
export function fixturePoses(count: number): Mat4[] {
  return Array.from(
    { length: count },
    (_, i) =>
      cameraPoseFromAngles(
        [-0.2 + 0.04 * i, -0.8, 1.2],
        Math.PI / 2 + 0.02 * (i - count / 2),
        -0.35,
        0,
      ),
  );
}

/** The 2D box of a box's corners projected into the image, clipped to it. */
export function projectedBox(b: FixtureBox, pose: Mat4, k: Intrinsics): number[] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let c = 0; c < 8; c++) {
    const p = worldToPixel(pose, k, [
      b.center[0] + ((c & 1) - 0.5) * b.size[0],
      b.center[1] + (((c >> 1) & 1) - 0.5) * b.size[1],
      b.center[2] + (((c >> 2) & 1) - 0.5) * b.size[2],
    ])!;
    x0 = Math.min(x0, p.u), y0 = Math.min(y0, p.v), x1 = Math.max(x1, p.u), y1 = Math.max(y1, p.v);
  }
  return [
    Math.max(0, Math.ceil(x0)),
    Math.max(0, Math.ceil(y0)),
    Math.min(k.width - 1, Math.floor(x1)),
    Math.min(k.height - 1, Math.floor(y1)),
  ];
}

/** Axis-angle (Rodrigues vector) of the rotation part of `m` (angle below pi). */
export function axisAngle(m: Mat4): [number, number, number] {
  const tr = m[0] + m[5] + m[10];
  const th = Math.acos(Math.min(1, Math.max(-1, (tr - 1) / 2)));
  if (th < 1e-12) return [0, 0, 0];
  const s = 2 * Math.sin(th);
  return [(m[9] - m[6]) / s * th, (m[2] - m[8]) / s * th, (m[4] - m[1]) / s * th];
}

export { mat4InvertRigid };

/** The scene and frame metadata files `vlm3r meta` wrote for `dataset`'s val split under `out`. */
export async function loadMeta(
  out: string,
  dataset: string,
): Promise<{ scenes: SceneMetaFile; frames: FrameMetaFile }> {
  const dir = join(out, "metadata", "val");
  const read = async (name: string) =>
    JSON.parse(await Deno.readTextFile(join(dir, `${dataset}_${name}_val.json`)));
  return { scenes: await read("metadata"), frames: await read("frame_metadata") };
}
