/**
 * Pinhole projection from the world into images, intrinsics at another resolution, and the 2D
 * boxes of labelled pixels (frame metadata, data-reference §2.1.6).
 *
 * @module
 */

import { type CameraPose, type Intrinsics, projectPoint } from "./pose.ts";
import type { Vec3 } from "./vec.ts";

/**
 * Pixel coordinates of world point `p` seen by a camera with camera-to-world `pose` (OpenCV
 * axes), with its z-depth; `undefined` behind the camera.
 *
 * @example
 * ```ts
 * import { cameraPoseFromAngles } from "./pose.ts";
 * const k = { fx: 100, fy: 100, cx: 32, cy: 24, width: 64, height: 48 };
 * // A camera at the origin looking along +x sees (2, 0, 0) in the image centre, 2 m away.
 * const hit = worldToPixel(cameraPoseFromAngles([0, 0, 0], 0, 0, 0), k, [2, 0, 0])!;
 * if (Math.abs(hit.u - 32) > 1e-9 || Math.abs(hit.v - 24) > 1e-9 || Math.abs(hit.depth - 2) > 1e-9) throw new Error();
 * ```
 */
export function worldToPixel(
  pose: CameraPose,
  k: Intrinsics,
  p: Readonly<Vec3>,
): { u: number; v: number; depth: number } | undefined {
  // Camera coordinates: R^T (p - t), with R, t the pose's rotation and translation.
  const dx = p[0] - pose[3], dy = p[1] - pose[7], dz = p[2] - pose[11];
  const c: Vec3 = [
    pose[0] * dx + pose[4] * dy + pose[8] * dz,
    pose[1] * dx + pose[5] * dy + pose[9] * dz,
    pose[2] * dx + pose[6] * dy + pose[10] * dz,
  ];
  const uv = projectPoint(k, c);
  return uv ? { u: uv[0], v: uv[1], depth: c[2] } : undefined;
}

/**
 * Intrinsics for the same camera at another image size: every entry scaled by the size ratio,
 * as the reference's frame export does (data-reference §2.3.4).
 *
 * @example
 * ```ts
 * const k = scaleIntrinsics({ fx: 1440, fy: 1440, cx: 960, cy: 720, width: 1920, height: 1440 }, 640, 480);
 * if (k.fx !== 480 || k.cx !== 320 || k.width !== 640) throw new Error(JSON.stringify(k));
 * ```
 */
export function scaleIntrinsics(k: Intrinsics, width: number, height: number): Intrinsics {
  const sx = width / k.width, sy = height / k.height;
  return {
    fx: k.fx * sx,
    fy: k.fy * sy,
    cx: k.cx * sx,
    cy: k.cy * sy,
    width,
    height,
  };
}

/** The 2D box of one label in an image: inclusive pixel bounds and pixel count. */
export interface LabelBox {
  label: number;
  /** `[xmin, ymin, xmax, ymax]`, inclusive. */
  bbox: [number, number, number, number];
  pixels: number;
}

/**
 * The bounding box and pixel count of every label in a label image, ascending by label. Labels
 * below `min` (default 1: ScanNet masks use 0 for "none") are skipped.
 *
 * @example
 * ```ts
 * // 3 x 2 image: label 2 covers (1,0) and (2,1).
 * const boxes = labelBoxes(Uint8Array.of(0, 2, 0, 0, 0, 2), 3, 2);
 * if (JSON.stringify(boxes) !== '[{"label":2,"bbox":[1,0,2,1],"pixels":2}]') throw new Error();
 * ```
 */
export function labelBoxes(
  labels: ArrayLike<number>,
  width: number,
  height: number,
  min = 1,
): LabelBox[] {
  if (labels.length !== width * height) {
    throw new RangeError(`labelBoxes: ${labels.length} labels for a ${width}x${height} image`);
  }
  const boxes = new Map<number, LabelBox>();
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const l = labels[i];
      if (l < min) continue;
      const b = boxes.get(l);
      if (!b) boxes.set(l, { label: l, bbox: [x, y, x, y], pixels: 1 });
      else {
        if (x < b.bbox[0]) b.bbox[0] = x;
        if (x > b.bbox[2]) b.bbox[2] = x;
        b.bbox[3] = y;
        b.pixels++;
      }
    }
  }
  return [...boxes.values()].sort((a, b) => a.label - b.label);
}
