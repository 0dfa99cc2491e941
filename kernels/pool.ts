/**
 * 2x2 bilinear pooling of each frame's token grid and row-newline insertion (VLM-3R's
 * `get_2dPool` with `F.interpolate(..., mode="bilinear", align_corners=False)` followed by
 * `add_token_per_grid`): `[F, G*G, C]` to `[F, P*(P+1), C]` with `P = ceil(G/2)`, each pooled
 * row followed by the learned newline vector.
 *
 * @module
 */

import type { Batch, GpuTensor } from "./device.ts";
import { checkTensor, grid, need, u32s } from "./_wgsl.ts";

const THREADS = 256;

/** WGSL source of the pooling kernel (f32). *
 * @example
 * ```ts
 * if (!poolWgsl().includes("@compute")) throw new Error();
 * ```
 */
export function poolWgsl(): string {
  return /* wgsl */ `
struct P { frames: u32, g: u32, p: u32, c: u32, newline: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> nl: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;

// Source index pair and weight along one axis (PyTorch's area_pixel_compute_source_index with
// align_corners=False, computed in f32 as PyTorch does for f32 tensors).
fn src(o: u32) -> vec3f {
  let s = max((f32(o) + 0.5) * (f32(p.g) / f32(p.p)) - 0.5, 0.0);
  let i0 = min(u32(s), p.g - 1u);
  let i1 = min(i0 + 1u, p.g - 1u);
  return vec3f(f32(i0), f32(i1), s - f32(i0));
}

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let i = (wg.y * nw.x + wg.x) * ${THREADS}u + t;
  let cols = p.p + p.newline;
  if (i >= p.frames * p.p * cols * p.c) { return; }
  let ch = i % p.c;
  let tok = i / p.c;
  let col = tok % cols;
  let row = (tok / cols) % p.p;
  let f = tok / (cols * p.p);
  if (col == p.p) { y[i] = nl[ch]; return; }
  let r = src(row);
  let c = src(col);
  let base = f * p.g * p.g;
  let x00 = x[(base + u32(r.x) * p.g + u32(c.x)) * p.c + ch];
  let x01 = x[(base + u32(r.x) * p.g + u32(c.y)) * p.c + ch];
  let x10 = x[(base + u32(r.y) * p.g + u32(c.x)) * p.c + ch];
  let x11 = x[(base + u32(r.y) * p.g + u32(c.y)) * p.c + ch];
  y[i] = (1.0 - r.z) * ((1.0 - c.z) * x00 + c.z * x01) + r.z * ((1.0 - c.z) * x10 + c.z * x11);
}`;
}

/** Options of {@link poolNewline}. */
export interface PoolOptions {
  /** Side of the output grid (default `ceil(G/2)`; G keeps the grid, e.g. to add newlines only). */
  size?: number;
  /** Vector `[C]` appended after each output row; none when absent. */
  newline?: GpuTensor;
}

/**
 * Records the pooling of `x` `[F, G*G, C]` to `[F, P*P, C]`, or `[F, P*(P+1), C]` with a
 * newline after each row.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const x = b.upload(new Float32Array([0, 1, 2, 3]), [1, 4, 1]); // a 2x2 grid, 1 channel
 * const nl = b.upload(new Float32Array([9]), [1]);
 * const [y] = await b.read([await poolNewline(b, x, { newline: nl })]);
 * if (y.join() !== "1.5,9") throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function poolNewline(
  batch: Batch,
  x: GpuTensor,
  options: PoolOptions = {},
): Promise<GpuTensor> {
  const k = "pool_newline";
  need(
    x.shape.length === 3 && x.dtype === "f32",
    k,
    `x: expected f32 [F, G*G, C], got [${x.shape}]`,
  );
  const [frames, tokens, c] = x.shape;
  const g = Math.round(Math.sqrt(tokens));
  need(g * g === tokens, k, `x: ${tokens} tokens per frame is not a square grid`);
  const p = options.size ?? Math.ceil(g / 2);
  need(p >= 1 && p <= g, k, `size: expected 1..${g}, got ${p}`);
  if (options.newline) checkTensor(k, "newline", options.newline, [c], "f32");
  const cols = p + (options.newline ? 1 : 0);
  const y = batch.alloc([frames, p * cols, c]);
  const pipeline = await batch.gpu.pipeline(k, poolWgsl());
  const n = frames * p * cols * c;
  batch.dispatch(
    k,
    pipeline,
    [x.buffer, (options.newline ?? x).buffer, y.buffer],
    u32s(frames, g, p, c, options.newline ? 1 : 0),
    grid(Math.ceil(n / THREADS)),
  );
  return y;
}

/**
 * Float64 reference of {@link poolNewline}: `x` is `frames x G*G x C`.
 *
 * @example
 * ```ts
 * const y = poolNewlineRef([0, 1, 2, 3], { frames: 1, channels: 1, newline: [9] });
 * if (y.join() !== "1.5,9") throw new Error();
 * ```
 */
export function poolNewlineRef(
  x: ArrayLike<number>,
  s: { frames: number; channels: number; size?: number; newline?: ArrayLike<number> },
): Float64Array {
  const c = s.channels;
  const g = Math.round(Math.sqrt(x.length / s.frames / c));
  const p = s.size ?? Math.ceil(g / 2);
  const cols = p + (s.newline ? 1 : 0);
  const axis = (o: number) => {
    const src = Math.max((o + 0.5) * (g / p) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), g - 1);
    return [i0, Math.min(i0 + 1, g - 1), src - i0];
  };
  const y = new Float64Array(s.frames * p * cols * c);
  for (let f = 0; f < s.frames; f++) {
    for (let r = 0; r < p; r++) {
      const [r0, r1, wr] = axis(r);
      for (let col = 0; col < cols; col++) {
        const o = ((f * p + r) * cols + col) * c;
        if (col === p) {
          for (let ch = 0; ch < c; ch++) y[o + ch] = s.newline![ch];
          continue;
        }
        const [c0, c1, wc] = axis(col);
        const at = (i: number, j: number, ch: number) => x[((f * g + i) * g + j) * c + ch];
        for (let ch = 0; ch < c; ch++) {
          y[o + ch] = (1 - wr) * ((1 - wc) * at(r0, c0, ch) + wc * at(r0, c1, ch)) +
            wr * ((1 - wc) * at(r1, c0, ch) + wc * at(r1, c1, ch));
        }
      }
    }
  }
  return y;
}
