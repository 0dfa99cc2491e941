/**
 * Patch embedding: `Conv2d(C -> D, kernel = stride = p, padding "valid", bias)` over images
 * `[F, C, H, W]`, flattened row-major to `[F, gh*gw, D]` tokens (`gh = floor(H/p)`,
 * `gw = floor(W/p)`: the border rows and columns a p-pixel grid leaves are dropped, as the
 * convolution does; 384 px with p = 14 drops 6). Recorded as an im2col copy,
 * `[F, gh*gw, C*p*p]` in the conv weight's `(c, ky, kx)` order, followed by the linear kernel
 * with the weight seen as `[D, C*p*p]`.
 *
 * @module
 */

import type { Batch, DType, GpuTensor } from "./device.ts";
import { numel } from "./device.ts";
import { checkTensor, grid, need, u32s } from "./_wgsl.ts";
import { linear } from "./linear.ts";

const THREADS = 256;

/** Geometry of a patch embedding. */
export interface PatchGeometry {
  /** Channels C. */
  channels: number;
  /** Image height H in pixels. */
  height: number;
  /** Image width W in pixels. */
  width: number;
  /** Patch side p (kernel and stride). */
  patch: number;
}

/** WGSL source of the im2col copy. *
 * @example
 * ```ts
 * if (!im2colWgsl().includes("@compute")) throw new Error();
 * ```
 */
export function im2colWgsl(): string {
  return /* wgsl */ `
struct P { total: u32, c: u32, h: u32, w: u32, p: u32, gw: u32, tokens: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let e = (wg.y * nw.x + wg.x) * ${THREADS}u + t;
  if (e >= p.total) { return; }
  let kk = p.c * p.p * p.p;
  let k = e % kk;
  let tok = (e / kk) % p.tokens;
  let f = e / (kk * p.tokens);
  let c = k / (p.p * p.p);
  let ky = (k / p.p) % p.p;
  let kx = k % p.p;
  let row = (tok / p.gw) * p.p + ky;
  let col = (tok % p.gw) * p.p + kx;
  y[e] = x[((f * p.c + c) * p.h + row) * p.w + col];
}`;
}

/** Options of {@link patchEmbed}. */
export interface PatchEmbedOptions {
  /** Element type of the result (default f32). */
  out?: DType;
}

/**
 * Records the patch embedding of `pixels` `[F, C, H, W]` (f32) with `weight` `[D, C*p*p]` (the
 * conv weight `[D, C, p, p]` flattened; f32 or f16) and `bias` `[D]`; returns `[F, gh*gw, D]`.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * // One 3x3 single-channel image, 2-px patches: one token, the top-left 2x2 block summed.
 * const px = b.upload(new Float32Array([1, 2, 9, 3, 4, 9, 9, 9, 9]), [1, 1, 3, 3]);
 * const w = b.upload(new Float32Array([1, 1, 1, 1]), [1, 4]);
 * const bias = b.upload(new Float32Array([0.5]), [1]);
 * const [y] = await b.read([await patchEmbed(b, px, w, bias, 2)]);
 * if (y.join() !== "10.5") throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function patchEmbed(
  batch: Batch,
  pixels: GpuTensor,
  weight: GpuTensor,
  bias: GpuTensor,
  patch: number,
  options: PatchEmbedOptions = {},
): Promise<GpuTensor> {
  const k = "patch_embed";
  need(
    pixels.shape.length === 4 && pixels.dtype === "f32",
    k,
    `pixels: expected f32 [F, C, H, W], got [${pixels.shape}]`,
  );
  const [frames, c, h, w] = pixels.shape;
  const gh = Math.floor(h / patch), gw = Math.floor(w / patch);
  need(gh > 0 && gw > 0, k, `pixels: ${h}x${w} is smaller than one ${patch}-px patch`);
  const kk = c * patch * patch;
  need(weight.shape.length === 2 && weight.shape[1] === kk, k, `weight: expected [D, ${kk}]`);
  checkTensor(k, "bias", bias, [weight.shape[0]], "f32");
  const cols = batch.alloc([frames, gh * gw, kk]);
  const total = numel(cols);
  const pipeline = await batch.gpu.pipeline("im2col", im2colWgsl());
  batch.dispatch(
    "im2col",
    pipeline,
    [pixels.buffer, cols.buffer],
    u32s(total, c, h, w, patch, gw, gh * gw),
    grid(Math.ceil(total / THREADS)),
  );
  return await linear(batch, cols, weight, bias, { out: options.out });
}

/**
 * Float64 reference of {@link patchEmbed}: the strided convolution written out. `pixels` is
 * `frames x C x H x W`, `weight` `D x C x p x p`; result `frames x (gh*gw) x D`.
 *
 * @example
 * ```ts
 * const y = patchEmbedRef([1, 2, 9, 3, 4, 9, 9, 9, 9], [1, 1, 1, 1], [0.5], {
 *   channels: 1, height: 3, width: 3, patch: 2,
 * });
 * if (y.join() !== "10.5") throw new Error();
 * ```
 */
export function patchEmbedRef(
  pixels: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  g: PatchGeometry,
): Float64Array {
  const { channels: c, height: h, width: w, patch: p } = g;
  const frames = pixels.length / (c * h * w), d = bias.length;
  const gh = Math.floor(h / p), gw = Math.floor(w / p);
  const y = new Float64Array(frames * gh * gw * d);
  for (let f = 0; f < frames; f++) {
    for (let ty = 0; ty < gh; ty++) {
      for (let tx = 0; tx < gw; tx++) {
        const o = ((f * gh + ty) * gw + tx) * d;
        for (let od = 0; od < d; od++) {
          let s = bias[od];
          for (let ch = 0; ch < c; ch++) {
            for (let ky = 0; ky < p; ky++) {
              const src = ((f * c + ch) * h + ty * p + ky) * w + tx * p;
              const wo = ((od * c + ch) * p + ky) * p;
              for (let kx = 0; kx < p; kx++) s += pixels[src + kx] * weight[wo + kx];
            }
          }
          y[o + od] = s;
        }
      }
    }
  }
  return y;
}
