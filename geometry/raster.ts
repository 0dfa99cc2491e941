/**
 * A z-buffered triangle rasteriser for pinhole cameras: it renders, per pixel, the z-depth
 * (metres along the optical axis) and the index of the nearest triangle. `synth` shades its
 * colour frames, depth maps and instance masks from one such pass, so the three agree with the
 * mesh exactly; `meta` renders instance ids for datasets that ship no masks.
 *
 * Pixel `(u, v)` samples the ray through the point `(u, v)` in the intrinsics' pixel
 * coordinates (OpenCV: integer coordinates are pixel centres). Triangles are two-sided; they
 * are clipped against the near plane, and shared edges are filled once (top-left rule).
 *
 * @module
 */

import type { Intrinsics, Mat4 } from "./pose.ts";

/** Vertex positions (xyz triples) and triangles (vertex index triples). */
export interface TriangleMesh {
  positions: Float32Array | Float64Array;
  triangles: Uint32Array;
}

/** What a pixel sees: z-depth in metres (0 = nothing) and the triangle index (-1 = none). */
export interface RasterResult {
  width: number;
  height: number;
  depth: Float32Array;
  triangle: Int32Array;
}

/** Options of {@link rasterize}. */
export interface RasterOptions {
  /** Near clipping distance in metres (default 0.05). */
  near?: number;
  /** Reuse these buffers (length width * height) instead of allocating. */
  into?: { depth: Float32Array; triangle: Int32Array };
}

/**
 * Renders `mesh` seen by a camera with world-to-camera transform `worldToCamera` (OpenCV axes)
 * and intrinsics `k`.
 *
 * @example
 * ```ts
 * // One square 2 m in front of the camera fills the middle of the image.
 * const mesh = {
 *   positions: Float64Array.of(-1, -1, 2, 1, -1, 2, 1, 1, 2, -1, 1, 2),
 *   triangles: Uint32Array.of(0, 1, 2, 0, 2, 3),
 * };
 * const k = { fx: 20, fy: 20, cx: 15.5, cy: 15.5, width: 32, height: 32 };
 * const eye = new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
 * const r = rasterize(mesh, eye, k);
 * const centre = 16 * 32 + 16;
 * if (Math.abs(r.depth[centre] - 2) > 1e-6 || r.triangle[centre] < 0) throw new Error();
 * if (r.triangle[0] !== -1) throw new Error("the corner sees nothing");
 * ```
 */
export function rasterize(
  mesh: TriangleMesh,
  worldToCamera: Mat4,
  k: Intrinsics,
  options: RasterOptions = {},
): RasterResult {
  const { width, height } = k;
  const near = options.near ?? 0.05;
  const n = width * height;
  const depth = options.into?.depth ?? new Float32Array(n);
  const triangle = options.into?.triangle ?? new Int32Array(n);
  const zbuf = new Float64Array(n).fill(Infinity);
  triangle.fill(-1);

  const pos = mesh.positions;
  const nv = pos.length / 3;
  const cam = new Float64Array(pos.length);
  const m = worldToCamera;
  for (let i = 0; i < nv; i++) {
    const x = pos[3 * i], y = pos[3 * i + 1], z = pos[3 * i + 2];
    cam[3 * i] = m[0] * x + m[1] * y + m[2] * z + m[3];
    cam[3 * i + 1] = m[4] * x + m[5] * y + m[6] * z + m[7];
    cam[3 * i + 2] = m[8] * x + m[9] * y + m[10] * z + m[11];
  }

  const target: Target = { width, height, zbuf, triangle };
  // Screen-space polygon after clipping: up to 4 vertices of (u, v, 1/z).
  const poly = new Float64Array(12);
  const tris = mesh.triangles;
  const ntri = tris.length / 3;
  for (let t = 0; t < ntri; t++) {
    const ia = 3 * tris[3 * t], ib = 3 * tris[3 * t + 1], ic = 3 * tris[3 * t + 2];
    const za = cam[ia + 2], zb = cam[ib + 2], zc = cam[ic + 2];
    if (za < near && zb < near && zc < near) continue;
    let count = 0;
    if (za >= near && zb >= near && zc >= near) {
      count = 3;
      project(cam, ia, k, poly, 0);
      project(cam, ib, k, poly, 1);
      project(cam, ic, k, poly, 2);
    } else {
      count = clipNear(cam, ia, ib, ic, near, k, poly);
    }
    for (let j = 1; j + 1 < count; j++) fillTriangle(poly, 0, j, j + 1, t, target);
  }
  for (let i = 0; i < n; i++) depth[i] = zbuf[i] === Infinity ? 0 : zbuf[i];
  return { width, height, depth, triangle };
}

interface Target {
  width: number;
  height: number;
  zbuf: Float64Array;
  triangle: Int32Array;
}

function project(cam: Float64Array, i: number, k: Intrinsics, out: Float64Array, slot: number) {
  const iz = 1 / cam[i + 2];
  out[3 * slot] = k.fx * cam[i] * iz + k.cx;
  out[3 * slot + 1] = k.fy * cam[i + 1] * iz + k.cy;
  out[3 * slot + 2] = iz;
}

/** Sutherland-Hodgman against z = near; writes the projected polygon, returns its size. */
function clipNear(
  cam: Float64Array,
  ia: number,
  ib: number,
  ic: number,
  near: number,
  k: Intrinsics,
  out: Float64Array,
): number {
  const idx = [ia, ib, ic];
  let count = 0;
  for (let e = 0; e < 3; e++) {
    const p = idx[e], q = idx[(e + 1) % 3];
    const zp = cam[p + 2], zq = cam[q + 2];
    const pin = zp >= near, qin = zq >= near;
    if (pin) {
      project(cam, p, k, out, count++);
    }
    if (pin !== qin) {
      const s = (near - zp) / (zq - zp);
      const x = cam[p] + s * (cam[q] - cam[p]);
      const y = cam[p + 1] + s * (cam[q + 1] - cam[p + 1]);
      out[3 * count] = k.fx * x / near + k.cx;
      out[3 * count + 1] = k.fy * y / near + k.cy;
      out[3 * count + 2] = 1 / near;
      count++;
    }
  }
  return count;
}

function fillTriangle(
  p: Float64Array,
  a: number,
  b: number,
  c: number,
  id: number,
  t: Target,
) {
  let x0 = p[3 * a], y0 = p[3 * a + 1], w0 = p[3 * a + 2];
  let x1 = p[3 * b], y1 = p[3 * b + 1], w1 = p[3 * b + 2];
  const x2 = p[3 * c], y2 = p[3 * c + 1], w2 = p[3 * c + 2];
  let area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0);
  if (!(Math.abs(area) > 1e-12)) return;
  if (area < 0) {
    // Two-sided: swap to a consistent winding.
    [x0, y0, w0, x1, y1, w1] = [x1, y1, w1, x0, y0, w0];
    area = -area;
  }
  const minX = Math.max(0, Math.ceil(Math.min(x0, x1, x2)));
  const maxX = Math.min(t.width - 1, Math.floor(Math.max(x0, x1, x2)));
  const minY = Math.max(0, Math.ceil(Math.min(y0, y1, y2)));
  const maxY = Math.min(t.height - 1, Math.floor(Math.max(y0, y1, y2)));
  if (minX > maxX || minY > maxY) return;

  // Edge e_i is opposite vertex i: e(x, y) = A x + B y + C, positive inside.
  const a0 = y1 - y2, b0 = x2 - x1, c0 = x1 * y2 - x2 * y1;
  const a1 = y2 - y0, b1 = x0 - x2, c1 = x2 * y0 - x0 * y2;
  const a2 = y0 - y1, b2 = x1 - x0, c2 = x0 * y1 - x1 * y0;
  // Top-left rule: pixels exactly on an edge belong to the triangle only for top or left edges.
  const bias0 = topLeft(a0, b0) ? 0 : 1e-12;
  const bias1 = topLeft(a1, b1) ? 0 : 1e-12;
  const bias2 = topLeft(a2, b2) ? 0 : 1e-12;
  const inv = 1 / area;
  const { width, zbuf, triangle } = t;
  for (let y = minY; y <= maxY; y++) {
    let e0 = a0 * minX + b0 * y + c0;
    let e1 = a1 * minX + b1 * y + c1;
    let e2 = a2 * minX + b2 * y + c2;
    let row = y * width + minX;
    for (let x = minX; x <= maxX; x++, row++, e0 += a0, e1 += a1, e2 += a2) {
      if (e0 < bias0 || e1 < bias1 || e2 < bias2) continue;
      const iz = (e0 * w0 + e1 * w1 + e2 * w2) * inv;
      const z = 1 / iz;
      if (z < zbuf[row]) {
        zbuf[row] = z;
        triangle[row] = id;
      }
    }
  }
}

/** A top edge is horizontal with the inside below it; a left edge has the inside to its right. */
function topLeft(a: number, b: number): boolean {
  return (a === 0 && b < 0) || a > 0;
}

/** What {@link rasterizeLabels} renders: z-depth (0 = nothing) and a label per pixel. */
export interface LabelImage {
  width: number;
  height: number;
  depth: Float32Array;
  /** The label of the nearest triangle, -1 where no triangle or an unlabelled one is seen. */
  label: Int32Array;
}

/**
 * Renders per-pixel labels (instance ids) and depth of a labelled mesh: one z-buffered pass,
 * then each pixel takes its triangle's label. Unlabelled triangles (-1) still hide what is
 * behind them, as walls hide objects.
 *
 * @example
 * ```ts
 * const mesh = {
 *   positions: Float64Array.of(-1, -1, 2, 1, -1, 2, 1, 1, 2, -1, 1, 2),
 *   triangles: Uint32Array.of(0, 1, 2, 0, 2, 3),
 * };
 * const k = { fx: 20, fy: 20, cx: 15.5, cy: 15.5, width: 32, height: 32 };
 * const eye = new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
 * const img = rasterizeLabels(mesh, Int32Array.of(7, 7), eye, k);
 * if (img.label[16 * 32 + 16] !== 7 || img.label[0] !== -1) throw new Error();
 * ```
 */
export function rasterizeLabels(
  mesh: TriangleMesh,
  triangleLabel: Int32Array,
  worldToCamera: Mat4,
  k: Intrinsics,
  options: RasterOptions = {},
): LabelImage {
  if (triangleLabel.length !== mesh.triangles.length / 3) {
    throw new RangeError("rasterizeLabels: one label per triangle expected");
  }
  const r = rasterize(mesh, worldToCamera, k, options);
  const label = new Int32Array(r.triangle.length);
  for (let i = 0; i < label.length; i++) {
    const t = r.triangle[i];
    label[i] = t < 0 ? -1 : triangleLabel[t];
  }
  return { width: r.width, height: r.height, depth: r.depth, label };
}

/**
 * Triangle labels from vertex labels: the label all three vertices share, else -1, so a
 * labelled region never spreads over the triangles that join it to its neighbours (a floor
 * triangle with one vertex under a chair stays floor).
 *
 * @example
 * ```ts
 * const t = triangleLabelsFromVertices(Uint32Array.of(0, 1, 2, 1, 2, 3), Int32Array.of(4, 4, 4, 5));
 * if (t[0] !== 4 || t[1] !== -1) throw new Error();
 * ```
 */
export function triangleLabelsFromVertices(
  triangles: Uint32Array,
  vertexLabel: Int32Array,
): Int32Array {
  const out = new Int32Array(triangles.length / 3);
  for (let t = 0; t < out.length; t++) {
    const a = vertexLabel[triangles[3 * t]], b = vertexLabel[triangles[3 * t + 1]];
    const c = vertexLabel[triangles[3 * t + 2]];
    out[t] = a === b && a === c ? a : -1;
  }
  return out;
}
