/**
 * CUT3R's 2D rotary position embedding ("RoPE100", model-reference.md §3.2) with the semantics
 * of its CUDA kernel (cuRoPE2D): for a head vector `t` of size `D` at integer position
 * `(y, x)`, `Q = D/4`, `inv_freq[i] = base^(-i/Q)`, the pair `(t[i], t[i+Q])` turns by
 * `y * inv_freq[i]` and the pair `(t[D/2+i], t[D/2+i+Q])` by `x * inv_freq[i]`:
 * `u' = u cos - v sin`, `v' = v cos + u sin`. Any integer position is valid; the pose token at
 * (-1, -1) turns by a negative angle (the PyTorch fallback would index its table with -1).
 *
 * The angles' cosines and sines come from a table made once per position set in float64
 * ({@link rope2dTable}), so the kernel never calls WGSL's `cos`/`sin`, whose accuracy the
 * specification leaves loose.
 *
 * @module
 */

import type { Batch, GpuTensor } from "./device.ts";
import { numel } from "./device.ts";
import { checkTensor, enables, grid, need, u32s } from "./_wgsl.ts";

/** Base of CUT3R's RoPE frequencies (`pos_embed='RoPE100'`). */
export const ROPE_BASE = 100;

const THREADS = 256;

/**
 * Cosines and sines for `positions` (`N x 2` values `(y, x)`, row-major) and head dimension
 * `headDim` (a multiple of 4): `[N, headDim]`, row `n` = the `D/2` cosines (Y half then X half)
 * followed by the `D/2` sines, computed in float64 and rounded to float32.
 *
 * @example
 * ```ts
 * const t = rope2dTable([-1, 2], 4); // one token at (y, x) = (-1, 2); Q = 1, inv_freq = [1]
 * const close = (a: number, b: number) => Math.abs(a - b) < 1e-7;
 * if (!close(t[0], Math.cos(-1)) || !close(t[1], Math.cos(2)) || !close(t[2], Math.sin(-1))) {
 *   throw new Error(`${t}`);
 * }
 * ```
 */
export function rope2dTable(
  positions: ArrayLike<number>,
  headDim: number,
  base = ROPE_BASE,
): Float32Array {
  if (headDim % 4 !== 0 || headDim <= 0) {
    throw new RangeError(`rope2d: head dimension ${headDim} is not a positive multiple of 4`);
  }
  const n = positions.length / 2, half = headDim / 2, q = headDim / 4;
  const table = new Float32Array(n * headDim);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < half; j++) {
      const angle = positions[2 * t + (j < q ? 0 : 1)] * base ** (-(j % q) / q);
      table[t * headDim + j] = Math.cos(angle);
      table[t * headDim + half + j] = Math.sin(angle);
    }
  }
  return table;
}

/** WGSL source of the RoPE kernel for element type `dtype` (the table is f32). *
 * @example
 * ```ts
 * if (!rope2dWgsl("f32").includes("u * c - v * s")) throw new Error();
 * ```
 */
export function rope2dWgsl(dtype: "f32" | "f16"): string {
  return /* wgsl */ `${enables(dtype)}
struct P { total: u32, tokens: u32, heads: u32, d: u32 }
@group(0) @binding(0) var<storage, read> x: array<${dtype}>;
@group(0) @binding(1) var<storage, read> tab: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<${dtype}>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let e = (wg.y * nw.x + wg.x) * ${THREADS}u + t;
  if (e >= p.total) { return; }
  let half = p.d / 2u;
  let q = p.d / 4u;
  let j = e % half;
  let row = e / half;              // (b * tokens + n) * heads + h
  let n = (row / p.heads) % p.tokens;
  let ui = row * p.d + select(j, half + j - q, j >= q);
  let vi = ui + q;
  let c = tab[n * p.d + j];
  let s = tab[n * p.d + half + j];
  let u = f32(x[ui]);
  let v = f32(x[vi]);
  y[ui] = ${dtype}(u * c - v * s);
  y[vi] = ${dtype}(v * c + u * s);
}`;
}

/**
 * Records the rotation of `x` `[B, N, H*D]` (head h in columns `h*D .. h*D+D-1`) by the table
 * `table` `[N, D]` of {@link rope2dTable}; returns a new tensor of x's shape and dtype.
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const x = b.upload(new Float32Array([1, 0, 0, 0]), [1, 1, 4]);
 * const tab = b.upload(rope2dTable([Math.PI / 2, 0], 4), [1, 4]);
 * const [y] = await b.read([await rope2d(b, x, tab, 1)]); // (1, 0) turns to (0, 1)
 * if (Math.abs(y[0]) > 1e-6 || Math.abs(y[1] - 1) > 1e-6) throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function rope2d(
  batch: Batch,
  x: GpuTensor,
  table: GpuTensor,
  heads: number,
): Promise<GpuTensor> {
  const k = "rope2d";
  need(x.shape.length === 3, k, `x: expected [B, N, H*D], got [${x.shape}]`);
  const [, n, width] = x.shape;
  need(width % heads === 0, k, `x: last axis ${width} is not a multiple of ${heads} heads`);
  const d = width / heads;
  need(d % 4 === 0, k, `head dimension ${d} is not a multiple of 4`);
  need(x.dtype !== "u32", k, "x: expected f32 or f16, got u32");
  checkTensor(k, "table", table, [n, d], "f32");
  const total = numel(x) / 2;
  const y = batch.alloc(x.shape, x.dtype);
  const pipeline = await batch.gpu.pipeline(k, rope2dWgsl(x.dtype));
  batch.dispatch(
    k,
    pipeline,
    [x.buffer, table.buffer, y.buffer],
    u32s(total, n, heads, d),
    grid(Math.ceil(total / THREADS)),
  );
  return y;
}

/**
 * Float64 reference of {@link rope2d}, straight from the formula (no table): `x` is
 * `batch x N x (heads*headDim)`, `positions` `N x 2` values `(y, x)`.
 *
 * @example
 * ```ts
 * const y = rope2dRef([1, 0, 0, 0], [Math.PI, 0], { heads: 1, headDim: 4 }); // turned by pi
 * if (Math.abs(y[0] + 1) > 1e-12 || Math.abs(y[1]) > 1e-12) throw new Error(`${y}`);
 * ```
 */
export function rope2dRef(
  x: ArrayLike<number>,
  positions: ArrayLike<number>,
  s: { heads: number; headDim: number; base?: number },
): Float64Array {
  const n = positions.length / 2, d = s.headDim, q = d / 4, base = s.base ?? ROPE_BASE;
  const y = Float64Array.from(x);
  const tokens = x.length / (s.heads * d);
  for (let r = 0; r < tokens; r++) {
    const t = r % n;
    for (let h = 0; h < s.heads; h++) {
      for (let axis = 0; axis < 2; axis++) {
        const o = (r * s.heads + h) * d + axis * (d / 2);
        for (let i = 0; i < q; i++) {
          const a = positions[2 * t + axis] * base ** (-i / q);
          const u = x[o + i], v = x[o + i + q];
          y[o + i] = u * Math.cos(a) - v * Math.sin(a);
          y[o + i + q] = v * Math.cos(a) + u * Math.sin(a);
        }
      }
    }
  }
  return y;
}
