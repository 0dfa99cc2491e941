/**
 * One exported frame of a synthetic scene, encoded as ScanNet's reader writes it: colour JPEG,
 * 16-bit depth PNG in millimetres, 8-bit instance PNG. Shared by the in-process path and the
 * frame workers.
 *
 * @module
 */

import { encodeJpeg, encodePng16, encodePng8 } from "../../io/image.ts";
import type { CameraPose, Intrinsics } from "../../geometry/pose.ts";
import { renderFrame, type RenderMesh } from "./render.ts";

/** The encoded files of one frame. */
export interface EncodedFrame {
  index: number;
  color: Uint8Array;
  depth: Uint8Array;
  instance: Uint8Array;
}

/** JPEG quality of colour frames. */
export const JPEG_QUALITY = 90;

/**
 * Renders and encodes frame `index` seen from the aligned camera-to-world `pose`.
 *
 * @example
 * ```ts
 * import { Rng } from "../../geometry/rng.ts";
 * import { generateLayout } from "./layout.ts";
 * import { buildSceneMesh } from "./mesh.ts";
 * import { walkPoses } from "./walk.ts";
 * const layout = generateLayout(new Rng("frames-doc"));
 * const mesh = buildSceneMesh(layout, new Rng(0));
 * const k = { fx: 40, fy: 40, cx: 15.5, cy: 11.5, width: 32, height: 24 };
 * const f = encodeFrame(mesh, walkPoses(layout.walk, 1, 24)[0], k, 0);
 * if (f.color[0] !== 0xff || f.color[1] !== 0xd8) throw new Error("a JPEG starts with FFD8");
 * ```
 */
export function encodeFrame(
  mesh: RenderMesh,
  pose: CameraPose,
  k: Intrinsics,
  index: number,
): EncodedFrame {
  const img = renderFrame(mesh, pose, k);
  return {
    index,
    color: encodeJpeg(img.rgba, k.width, k.height, JPEG_QUALITY),
    depth: encodePng16(img.depthMm, k.width, k.height),
    instance: encodePng8(img.instance, k.width, k.height),
  };
}
