/**
 * Renders one frame of a synthetic scene: a single rasterisation pass gives depth and the
 * triangle seen at each pixel, from which the depth map (uint16 mm), the instance mask
 * (objectId + 1) and the shaded colour image all derive, so they agree exactly.
 *
 * Shading is deferred: per pixel, the world point (from the depth) drives a procedural
 * texture (wood grain, tiles, fabric, leaves) under a fixed light, so frames have texture.
 *
 * @module
 */

import { type CameraPose, type Intrinsics, mat4InvertRigid } from "../../geometry/pose.ts";
import { rasterize } from "../../geometry/raster.ts";
import { MATERIALS, type SceneMesh } from "./mesh.ts";

/** The part of a scene mesh rendering needs (transferable to workers as typed arrays). */
export type RenderMesh = Pick<
  SceneMesh,
  | "positions"
  | "triangles"
  | "triangleInstance"
  | "triangleNormal"
  | "triangleMaterial"
  | "triangleColor"
>;

/** One rendered frame. */
export interface FrameImages {
  /** RGBA, alpha 255. */
  rgba: Uint8Array;
  /** Depth in millimetres, 0 where nothing is seen. */
  depthMm: Uint16Array;
  /** `objectId + 1` of what each pixel sees, 0 for none. */
  instance: Uint8Array;
}

/** Direction toward the main light (normalised below). */
const LIGHT = (() => {
  const l = [0.35, 0.55, 0.76];
  const n = Math.hypot(l[0], l[1], l[2]);
  return l.map((v) => v / n);
})();

/**
 * Renders `mesh` from a camera-to-world `pose` (OpenCV axes) with intrinsics `k`.
 *
 * @example
 * ```ts
 * import { Rng } from "../../geometry/rng.ts";
 * import { generateLayout } from "./layout.ts";
 * import { buildSceneMesh } from "./mesh.ts";
 * import { walkPoses } from "./walk.ts";
 * const layout = generateLayout(new Rng("render-doc"));
 * const mesh = buildSceneMesh(layout, new Rng(0));
 * const k = { fx: 60, fy: 60, cx: 31.5, cy: 23.5, width: 64, height: 48 };
 * const frame = renderFrame(mesh, walkPoses(layout.walk, 1, 24)[0], k);
 * if (frame.depthMm.every((d) => d === 0)) throw new Error("inside a closed room, walls are seen");
 * ```
 */
export function renderFrame(mesh: RenderMesh, pose: CameraPose, k: Intrinsics): FrameImages {
  const { width, height } = k;
  const { depth, triangle } = rasterize(mesh, mat4InvertRigid(pose), k);
  const n = width * height;
  const rgba = new Uint8Array(n * 4);
  const depthMm = new Uint16Array(n);
  const instance = new Uint8Array(n);
  const { triangleNormal: tn, triangleColor: tc, triangleMaterial: tm, triangleInstance: ti } =
    mesh;
  // Hot loop: everything it reads lives in locals.
  const [r0, r1, r2, ex, r4, r5, r6, ey, r8, r9, r10, ez] = pose;
  const [lx, ly, lz] = LIGHT;
  const rayX = new Float64Array(width), rayY = new Float64Array(height);
  for (let u = 0; u < width; u++) rayX[u] = (u - k.cx) / k.fx;
  for (let v = 0; v < height; v++) rayY[v] = (v - k.cy) / k.fy;
  for (let v = 0, i = 0; v < height; v++) {
    const ry = rayY[v];
    for (let u = 0; u < width; u++, i++) {
      const t = triangle[i];
      rgba[4 * i + 3] = 255;
      if (t < 0) continue;
      const z = depth[i];
      depthMm[i] = Math.min(65535, Math.round(z * 1000));
      instance[i] = ti[t] + 1;
      // View ray to the world point, from the depth.
      const cx = rayX[u] * z, cy = ry * z;
      const dx = r0 * cx + r1 * cy + r2 * z;
      const dy = r4 * cx + r5 * cy + r6 * z;
      const dz = r8 * cx + r9 * cy + r10 * z;
      let nx = tn[3 * t], ny = tn[3 * t + 1], nz = tn[3 * t + 2];
      let toward = -(nx * dx + ny * dy + nz * dz);
      if (toward < 0) {
        nx = -nx;
        ny = -ny;
        nz = -nz;
        toward = -toward;
      }
      const dist = Math.sqrt(dx * dx + dy * dy + dz * dz) || 1;
      const lambert = Math.max(0, nx * lx + ny * ly + nz * lz);
      const light = (0.5 + 0.3 * lambert + 0.2 * toward / dist) / (1 + 0.03 * dist);
      const s = light * texture(tm[t], ex + dx, ey + dy, ez + dz, nx, ny, nz);
      rgba[4 * i] = clamp255(tc[3 * t] * s);
      rgba[4 * i + 1] = clamp255(tc[3 * t + 1] * s);
      rgba[4 * i + 2] = clamp255(tc[3 * t + 2] * s);
    }
  }
  return { rgba, depthMm, instance };
}

function clamp255(x: number): number {
  return x <= 0 ? 0 : x >= 255 ? 255 : Math.round(x);
}

/**
 * Brightness factor (about 1) of a material at world point p on a face with normal n. Patterns
 * are 2D in the face's dominant plane: cheaper than 3D noise and free of smearing on flat faces.
 */
function texture(
  material: number,
  x: number,
  y: number,
  z: number,
  nx: number,
  ny: number,
  nz: number,
): number {
  const ax = Math.abs(nx), ay = Math.abs(ny), az = Math.abs(nz);
  // In-plane coordinates: (a, b) spans the face, b is vertical on walls.
  const a = az >= ax && az >= ay ? x : ax >= ay ? y : x;
  const b = az >= ax && az >= ay ? y : z;
  switch (material) {
    case WOOD: {
      // Planks across horizontal faces, grain along them; vertical faces grain upward.
      const plank = Math.floor(b / 0.14);
      const tone = 0.9 + 0.16 * hash2(plank, 7);
      const grain = 0.93 + 0.07 * Math.sin(a * 30 + 4 * noise2(a * 3, b * 3));
      return b / 0.14 - plank < 0.04 ? 0.8 * tone * grain : tone * grain;
    }
    case TILE: {
      const ta = Math.floor(a / 0.4), tb = Math.floor(b / 0.4);
      if (a / 0.4 - ta < 0.025 || b / 0.4 - tb < 0.025) return 0.72;
      return 0.95 + 0.1 * hash2(ta, tb) + 0.04 * noise2(a * 20, b * 20);
    }
    case FABRIC:
      return 0.86 + 0.14 * noise2(a * 45, b * 45);
    case PLANT:
      return 0.55 + 0.6 * noise2(a * 22, b * 22 + z);
    case PAINT:
      return 0.94 + 0.07 * noise2(a * 2.5, b * 2.5);
    case GLASS:
      return 0.8 + 0.25 * noise2(a * 1.5, b * 6);
    default:
      return 0.92 + 0.08 * noise2(a * 6, b * 6);
  }
}

const WOOD = MATERIALS.indexOf("wood"), TILE = MATERIALS.indexOf("tile");
const FABRIC = MATERIALS.indexOf("fabric"), PLANT = MATERIALS.indexOf("plant");
const PAINT = MATERIALS.indexOf("paint"), GLASS = MATERIALS.indexOf("glass");

/** Integer lattice hash to [0, 1). */
function hash2(x: number, y: number): number {
  let h = Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Texels per noise lattice cell, and the tile's side in texels (a power of two). */
const TEXELS_PER_CELL = 8, TILE_SIZE = 1024;
let tile: Float32Array | undefined;

/**
 * Smooth value noise in [0, 1), period TILE_SIZE / TEXELS_PER_CELL lattice cells. The hot path
 * reads a precomputed tile (nearest texel): a hashed lattice with bilinear smoothstep
 * interpolation, evaluated once per thread instead of once per pixel.
 */
function noise2(x: number, y: number): number {
  tile ??= buildTile();
  const tx = Math.floor(x * TEXELS_PER_CELL) & (TILE_SIZE - 1),
    ty = Math.floor(y * TEXELS_PER_CELL) & (TILE_SIZE - 1);
  return tile[ty * TILE_SIZE + tx];
}

function buildTile(): Float32Array {
  const cells = TILE_SIZE / TEXELS_PER_CELL;
  const out = new Float32Array(TILE_SIZE * TILE_SIZE);
  for (let ty = 0; ty < TILE_SIZE; ty++) {
    const y = ty / TEXELS_PER_CELL, iy = Math.floor(y), fy = y - iy, sy = fy * fy * (3 - 2 * fy);
    for (let tx = 0; tx < TILE_SIZE; tx++) {
      const x = tx / TEXELS_PER_CELL, ix = Math.floor(x), fx = x - ix, sx = fx * fx * (3 - 2 * fx);
      const x1 = (ix + 1) % cells, y1 = (iy + 1) % cells;
      const a = hash2(ix, iy), b = hash2(x1, iy), c = hash2(ix, y1), d = hash2(x1, y1);
      const lo = a + (b - a) * sx, hi = c + (d - c) * sx;
      out[ty * TILE_SIZE + tx] = lo + (hi - lo) * sy;
    }
  }
  return out;
}
