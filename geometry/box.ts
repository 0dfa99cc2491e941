/**
 * Gravity-aligned boxes turned about z ("yaw boxes"): the shape of furniture parts in
 * synthetic scenes, and the footprint tests used to place them without interpenetration.
 *
 * @module
 */

import type { Vec3 } from "./vec.ts";

/** A box with `size` full extents along its own x, y, z, turned by `yaw` radians about +z. */
export interface YawBox {
  center: Vec3;
  size: Vec3;
  yaw: number;
}

/**
 * The eight corners: bottom face counter-clockwise, then top face in the same order.
 *
 * @example
 * ```ts
 * const c = yawBoxCorners({ center: [0, 0, 0.5], size: [2, 1, 1], yaw: 0 });
 * if (c.length !== 8 || c[0][0] !== -1 || c[4][2] !== 1) throw new Error();
 * ```
 */
export function yawBoxCorners(box: YawBox): Vec3[] {
  const fp = yawBoxFootprint(box);
  const z0 = box.center[2] - box.size[2] / 2, z1 = box.center[2] + box.size[2] / 2;
  return [...fp.map(([x, y]): Vec3 => [x, y, z0]), ...fp.map(([x, y]): Vec3 => [x, y, z1])];
}

/**
 * The xy footprint, counter-clockwise.
 *
 * @example
 * ```ts
 * const f = yawBoxFootprint({ center: [1, 1, 0], size: [2, 2, 1], yaw: 0 });
 * if (f[2][0] !== 2 || f[2][1] !== 2) throw new Error();
 * ```
 */
export function yawBoxFootprint(box: YawBox): [number, number][] {
  const c = Math.cos(box.yaw), s = Math.sin(box.yaw);
  const hx = box.size[0] / 2, hy = box.size[1] / 2;
  const out: [number, number][] = [];
  for (const [lx, ly] of [[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]]) {
    out.push([box.center[0] + c * lx - s * ly, box.center[1] + s * lx + c * ly]);
  }
  return out;
}

/**
 * Maps a point from the box's local frame (origin at the centre) to the world.
 *
 * @example
 * ```ts
 * const p = yawBoxToWorld({ center: [1, 0, 0], size: [1, 1, 1], yaw: Math.PI / 2 }, [1, 0, 0]);
 * if (Math.abs(p[0] - 1) > 1e-12 || Math.abs(p[1] - 1) > 1e-12) throw new Error();
 * ```
 */
export function yawBoxToWorld(box: YawBox, local: Readonly<Vec3>): Vec3 {
  const c = Math.cos(box.yaw), s = Math.sin(box.yaw);
  return [
    box.center[0] + c * local[0] - s * local[1],
    box.center[1] + s * local[0] + c * local[1],
    box.center[2] + local[2],
  ];
}

/**
 * True when the two solid boxes overlap by more than `margin` metres on every separating
 * axis; boxes that merely touch (a lamp standing on a table) do not overlap. A negative
 * margin demands clearance.
 *
 * @example
 * ```ts
 * const table: YawBox = { center: [0, 0, 0.375], size: [1, 1, 0.75], yaw: 0 };
 * const lamp: YawBox = { center: [0, 0, 1], size: [0.3, 0.3, 0.5], yaw: 0.4 };
 * if (yawBoxesOverlap(table, lamp)) throw new Error("touching is not overlapping");
 * ```
 */
export function yawBoxesOverlap(a: YawBox, b: YawBox, margin = 1e-9): boolean {
  const za0 = a.center[2] - a.size[2] / 2, za1 = a.center[2] + a.size[2] / 2;
  const zb0 = b.center[2] - b.size[2] / 2, zb1 = b.center[2] + b.size[2] / 2;
  if (Math.min(za1, zb1) - Math.max(za0, zb0) <= margin) return false;
  const fa = yawBoxFootprint(a), fb = yawBoxFootprint(b);
  for (const yaw of [a.yaw, b.yaw]) {
    for (const [ax, ay] of [[Math.cos(yaw), Math.sin(yaw)], [-Math.sin(yaw), Math.cos(yaw)]]) {
      let amin = Infinity, amax = -Infinity, bmin = Infinity, bmax = -Infinity;
      for (const [x, y] of fa) {
        const d = x * ax + y * ay;
        amin = Math.min(amin, d);
        amax = Math.max(amax, d);
      }
      for (const [x, y] of fb) {
        const d = x * ax + y * ay;
        bmin = Math.min(bmin, d);
        bmax = Math.max(bmax, d);
      }
      if (Math.min(amax, bmax) - Math.max(amin, bmin) <= margin) return false;
    }
  }
  return true;
}

/**
 * The smallest box with the given `yaw` that contains all `boxes` (which must share that yaw,
 * up to a multiple of 90 degrees): the overall box of a composite object.
 *
 * @example
 * ```ts
 * const top: YawBox = { center: [0, 0, 0.73], size: [1.2, 0.8, 0.04], yaw: 0 };
 * const leg: YawBox = { center: [0.55, 0.35, 0.355], size: [0.05, 0.05, 0.71], yaw: 0 };
 * const all = enclosingYawBox([top, leg], 0);
 * if (Math.abs(all.size[2] - 0.75) > 1e-12) throw new Error();
 * ```
 */
export function enclosingYawBox(boxes: readonly YawBox[], yaw: number): YawBox {
  const c = Math.cos(yaw), s = Math.sin(yaw);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, z0 = Infinity, z1 = -Infinity;
  for (const b of boxes) {
    for (const [x, y] of yawBoxFootprint(b)) {
      const lx = c * x + s * y, ly = -s * x + c * y;
      x0 = Math.min(x0, lx);
      x1 = Math.max(x1, lx);
      y0 = Math.min(y0, ly);
      y1 = Math.max(y1, ly);
    }
    z0 = Math.min(z0, b.center[2] - b.size[2] / 2);
    z1 = Math.max(z1, b.center[2] + b.size[2] / 2);
  }
  const mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
  return {
    center: [c * mx - s * my, s * mx + c * my, (z0 + z1) / 2],
    size: [x1 - x0, y1 - y0, z1 - z0],
    yaw,
  };
}
