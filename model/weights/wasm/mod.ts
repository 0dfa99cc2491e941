/**
 * The CPU kernels of `vlm3r convert`, in WebAssembly SIMD (`assembly/index.ts`): bulk
 * bf16/f32 -> f16 and bf16 -> f32 conversions, and the LoRA merge `W += scale B A` (f32 sums in
 * a fixed order), split over worker threads by rows. All of them work on one shared
 * `WebAssembly.Memory` that the caller lays out (byte offsets) and reuses chunk after chunk, so
 * converting a model allocates its buffers once. Results are bit-identical to the TypeScript
 * references (`toF16Bytes`, `widenBytes`, `loraMerge` of release.ts) whatever the number of
 * workers: every output element is computed by the same operations in the same order.
 *
 * @module
 */

import { WorkerPool } from "../../../io/pool.ts";
import { WEIGHTS_WASM_BASE64 } from "./weights_wasm.ts";

/** The module's exports (byte offsets into the shared memory, element counts). */
export interface KernelExports {
  bf16ToF32(src: number, dst: number, n: number): void;
  f32ToF16(src: number, dst: number, n: number): void;
  bf16ToF16(src: number, dst: number, n: number): void;
  f32ToF32x4(src: number, dst: number, n: number): void;
  loraMerge(
    w: number,
    b4: number,
    a: number,
    rows: number,
    inp: number,
    r: number,
    scale: number,
  ): void;
}

/** The memory's size limit (the module declares it: `--maximumMemory` in build.ts). */
export const MAX_MEMORY_BYTES = 16384 * 65536;
const PAGE = 65536;

let compiled: WebAssembly.Module | undefined;

/** The compiled module (compiled once per thread). */
export function kernelModule(): WebAssembly.Module {
  return compiled ??= new WebAssembly.Module(
    Uint8Array.fromBase64(WEIGHTS_WASM_BASE64.join("")),
  );
}

/** An instance of the kernels on `memory`. */
export function instantiate(memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(kernelModule(), { env: { memory } })
    .exports as unknown as KernelExports;
}

// Rows per call into the merge: V8 runs a wasm function's first calls in its baseline tier and
// swaps in optimised code only between calls, so a merge is many calls, not one long one.
const ROWS_PER_CALL = 32;

/** Runs `task` on `k` in calls of {@link ROWS_PER_CALL} rows. */
export function mergeRows(k: KernelExports, task: MergeTask): void {
  const { inp, r } = task;
  for (let s = 0; s < task.rows; s += ROWS_PER_CALL) {
    const n = Math.min(ROWS_PER_CALL, task.rows - s);
    k.loraMerge(task.w + s * inp * 4, task.b4 + s * r * 16, task.a, n, inp, r, task.scale);
  }
}

/** One row block of a merge, as a worker runs it. */
export interface MergeTask {
  /** `W` [rows, inp] f32, merged in place. */
  w: number;
  /** `B` rows [rows, r] as {@link Kernels.prepareB} lays them out. */
  b4: number;
  /** `A` [r, inp] f32. */
  a: number;
  rows: number;
  inp: number;
  r: number;
  scale: number;
}

/** Options of {@link Kernels.create}. */
export interface KernelOptions {
  /** Worker threads for the merge (1: the calling thread only). Default 1. */
  workers?: number;
  /** Merges of fewer multiply-adds than this run on the calling thread. Default 2^24. */
  minParallel?: number;
}

/**
 * The kernels on one shared memory, with an optional pool of merge workers.
 *
 * @example
 * ```ts
 * using k = Kernels.create();
 * k.reserve(64);
 * new Float32Array(k.memory.buffer, 0, 2).set([1, 65520]);
 * k.f32ToF16(0, 32, 2);
 * const h = new Uint16Array(k.memory.buffer, 32, 2);
 * if (h[0] !== 0x3c00 || h[1] !== 0x7c00) throw new Error(`${h}`);
 * ```
 */
export class Kernels implements Disposable {
  /** The memory every offset refers to; take views of `memory.buffer` after {@link reserve}. */
  readonly memory: WebAssembly.Memory;
  #k: KernelExports;
  #workers: number;
  #minParallel: number;
  #pool: Promise<WorkerPool<WebAssembly.Memory, MergeTask, null>> | undefined;

  private constructor(options: KernelOptions) {
    this.memory = new WebAssembly.Memory({
      initial: 1,
      maximum: MAX_MEMORY_BYTES / PAGE,
      shared: true,
    });
    this.#k = instantiate(this.memory);
    this.#workers = Math.max(1, Math.floor(options.workers ?? 1));
    this.#minParallel = options.minParallel ?? 2 ** 24;
  }

  /** Kernels on a fresh memory of one page (workers start on the first large merge). */
  static create(options: KernelOptions = {}): Kernels {
    return new Kernels(options);
  }

  /** Grows the memory to at least `bytes` (existing contents kept; views must be re-taken). */
  reserve(bytes: number): void {
    if (bytes > MAX_MEMORY_BYTES) {
      throw new RangeError(`conversion buffers need ${bytes} bytes, over ${MAX_MEMORY_BYTES}`);
    }
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** Bytes `[offset, offset + length)` of the memory (a view, valid until the next reserve). */
  bytes(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, offset, length);
  }

  /** bf16 -> f32 (exact), `n` elements from byte offset `src` to `dst` (apart). */
  bf16ToF32(src: number, dst: number, n: number): void {
    this.#k.bf16ToF32(src, dst, n);
  }

  /** f32 -> f16 rounded to nearest even (NaN stays NaN with its sign); `dst` may be `src`. */
  f32ToF16(src: number, dst: number, n: number): void {
    this.#k.f32ToF16(src, dst, n);
  }

  /** bf16 -> f16 rounded to nearest even; `dst` may be `src`. */
  bf16ToF16(src: number, dst: number, n: number): void {
    this.#k.bf16ToF16(src, dst, n);
  }

  /** Bytes of `rows` LoRA `B` rows of rank `r` as {@link prepareB} lays them out. */
  static bBytes(rows: number, r: number): number {
    return rows * r * 16;
  }

  /** Rows of the LoRA `B` (f32 [rows, r] at `src`, `n` values) as the merge reads them, at `dst`. */
  prepareB(src: number, dst: number, n: number): void {
    this.#k.f32ToF32x4(src, dst, n);
  }

  /**
   * `w += scale * (b @ a)` in place (`w` f32 [rows, inp], `b4` from {@link prepareB}, `a` f32
   * [r, inp]): f32 products summed in f32 over k in order, scaled in f64, rounded, added in f32,
   * as release.ts's `loraMerge`. Large merges are split by rows over the worker threads.
   */
  async loraMerge(task: MergeTask): Promise<void> {
    const { rows, inp, r } = task;
    if (this.#workers <= 1 || rows * inp * r < this.#minParallel || rows < 8) {
      mergeRows(this.#k, task);
      return;
    }
    const pool = await (this.#pool ??= this.#startPool());
    // Row blocks of a multiple of four rows (the kernel's tile), one per worker.
    const per = Math.ceil(rows / pool.size / 4) * 4;
    const jobs: Promise<null>[] = [];
    for (let s = 0; s < rows; s += per) {
      const n = Math.min(per, rows - s);
      jobs.push(pool.run({ ...task, w: task.w + s * inp * 4, b4: task.b4 + s * r * 16, rows: n }));
    }
    await Promise.all(jobs);
  }

  async #startPool() {
    const pool = new WorkerPool<WebAssembly.Memory, MergeTask, null>(
      new URL("./merge_worker.ts", import.meta.url),
      this.#workers,
    );
    await pool.setup(this.memory);
    return pool;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) (await pool).close();
  }

  [Symbol.dispose](): void {
    void this.close();
  }
}
