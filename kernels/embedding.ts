/**
 * Embedding gather: rows of a token table for token ids held on the GPU (u32), so a decode step
 * embeds the id the previous step's argmax wrote without a round trip through the host. A table
 * too large for one binding (152,064 x 3,584) comes in row parts; each part's dispatch copies
 * the ids that fall in its rows.
 *
 * @module
 */

import { type Batch, type GpuTensor, numel } from "./device.ts";
import { enables, grid, need, u32s } from "./_wgsl.ts";

const THREADS = 64;

/** A block of consecutive table rows starting at `row0`. */
export interface TablePart {
  /** `[rows, D]`, f32 or f16. */
  table: GpuTensor;
  /** Id of its first row. */
  row0: number;
}

/** WGSL of the gather kernel for an f32 or f16 table. *
 * @example
 * ```ts
 * if (!embeddingWgsl("f16").startsWith("enable f16;")) throw new Error();
 * ```
 */
export function embeddingWgsl(dtype: "f32" | "f16"): string {
  return /* wgsl */ `${enables(dtype)}
struct P { d: u32, row0: u32, rows: u32, total: u32, gx: u32, at: u32 }
@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<${dtype}>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let e = (wg.y * p.gx + wg.x) * ${THREADS}u + t;
  if (e >= p.total) { return; }
  let tok = e / p.d;
  let id = ids[p.at + tok];
  if (id < p.row0 || id >= p.row0 + p.rows) { return; }
  y[e] = f32(table[(id - p.row0) * p.d + e % p.d]);
}`;
}

/**
 * Records `y[t] = table[ids[at + t]]` for `count` tokens; ids outside every part leave their row
 * untouched (callers check ids against the vocabulary).
 *
 * @example
 * ```ts
 * import { acquireGpu } from "./device.ts";
 * const gpu = await acquireGpu();
 * if (gpu.slowCompiles) return; // Mesa's GL fallback: minutes a shader
 * const b = gpu.batch();
 * const table = b.upload(new Float32Array([0, 0, 1, 1, 2, 2]), [3, 2]);
 * const ids = b.upload(new Uint32Array([2, 1]), [2]);
 * const [y] = await b.read([await embedding(b, [{ table, row0: 0 }], ids)]);
 * if (y.join() !== "2,2,1,1") throw new Error(`${y}`);
 * gpu.destroy();
 * ```
 */
export async function embedding(
  batch: Batch,
  parts: readonly TablePart[],
  ids: GpuTensor,
  options: { at?: number; count?: number; out?: GpuTensor } = {},
): Promise<GpuTensor> {
  const kn = "embedding";
  need(ids.dtype === "u32", kn, `ids: expected u32, got ${ids.dtype}`);
  need(parts.length > 0, kn, "no table");
  const d = parts[0].table.shape[1];
  const at = options.at ?? 0, count = options.count ?? numel(ids) - at;
  need(at + count <= numel(ids) && count > 0, kn, `ids ${at}+${count} outside [${ids.shape}]`);
  const y = options.out ?? batch.alloc([count, d]);
  need(y.dtype === "f32" && numel(y) === count * d, kn, `out: expected ${count} x ${d} f32`);
  const total = count * d;
  const [gx, gy] = grid(Math.ceil(total / THREADS));
  for (const { table, row0 } of parts) {
    need(table.shape[1] === d && table.dtype !== "u32", kn, `table part [${table.shape}]`);
    const dt = table.dtype as "f32" | "f16";
    const pipeline = await batch.gpu.pipeline(`${kn}_${dt}`, embeddingWgsl(dt));
    batch.dispatch(
      kn,
      pipeline,
      [ids.buffer, table.buffer, y.buffer],
      u32s(d, row0, table.shape[0], total, gx, at),
      [gx, gy],
    );
  }
  return y;
}

/**
 * Reference of {@link embedding}: the rows of `table` (`[V, d]`) for `ids`.
 *
 * @example
 * ```ts
 * if (embeddingRef([0, 0, 1, 1], 2, [1]).join() !== "1,1") throw new Error();
 * ```
 */
export function embeddingRef(
  table: ArrayLike<number>,
  d: number,
  ids: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(ids.length * d);
  for (let t = 0; t < ids.length; t++) {
    for (let c = 0; c < d; c++) y[t * d + c] = table[ids[t] * d + c];
  }
  return y;
}
