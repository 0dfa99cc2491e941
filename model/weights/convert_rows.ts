/**
 * Producing the stored bytes of a conversion chunk by chunk in memory allocated once: stored
 * rows are read straight from their file range into a reused buffer, converted there by the
 * WebAssembly kernels (bf16/f32 -> f16, bf16 -> f32) and LoRA-merged by them (split over worker
 * threads), instead of a fresh array per chunk and per step. Output bytes equal what the plain
 * path gives (`TensorSource.read` + `toF16Bytes`): the kernels are bit-exact twins of those.
 *
 * @module
 */

import { DataError } from "../../io/errors.ts";
import { fromF16 } from "../../kernels/device.ts";
import { type StoredRows, tensorPlan } from "./release.ts";
import type { StoredDType } from "./safetensors.ts";
import type { RowRange, TensorSource } from "./source.ts";
import { Kernels } from "./wasm/mod.ts";

/** Options of {@link RowConverter}. */
export interface RowConverterOptions {
  /** Worker threads for the LoRA merge. Default: the machine's logical cores. */
  workers?: number;
}

const FLOATS = new Set<StoredDType>(["F32", "F16", "BF16"]);
const align = (n: number) => Math.ceil(n / 64) * 64;
const rowElems = (shape: readonly number[]) => shape.slice(1).reduce((a, b) => a * b, 1);

/** Where one chunk's buffers lie in the kernels' memory (byte offsets). */
interface Layout {
  /** LoRA `A` (f32), kept across the chunks of one tensor. */
  a: number;
  /** The rows as stored (and the f16 output). */
  raw: number;
  /** The rows as f32. */
  f32: number;
  /** LoRA `B` rows as the merge reads them. */
  b4: number;
  /** Float32 staging of `B` rows. */
  stage: number;
}

/**
 * The rows of a source's tensors as converted bytes or float32 values, one chunk at a time.
 * What {@link bytes} and {@link floats} return is a view of shared memory that stays valid until
 * the call after next (chunks alternate between two buffers, so one can be written to disk while
 * the next is computed).
 *
 * @example
 * ```ts
 * import { mapSource } from "./source.ts";
 * const src = mapSource(new Map([["w", { shape: [1, 2], data: new Float32Array([1, 65520]), stored: "F32" as const }]]));
 * await using conv = new RowConverter(src, { workers: 1 });
 * const h = new Uint16Array((await conv.bytes("w", { start: 0, count: 1 }, "F16")).slice().buffer);
 * if (h[0] !== 0x3c00 || h[1] !== 0x7c00) throw new Error(`${h}`);
 * ```
 */
export class RowConverter implements AsyncDisposable {
  #src: TensorSource;
  #k: Kernels;
  #files = new Map<string, Deno.FsFile>();
  /** The tensor whose `A` is in memory, where, and the room there. */
  #aFor: string | undefined;
  #a = 0;
  #aBytes = 0;
  /** The two chunk buffers (their first byte), the room in each, the one to use next. */
  #slots = [0, 0];
  #slotBytes = 0;
  #next = 0;
  /** The first byte no buffer uses. */
  #end = 0;

  constructor(src: TensorSource, options: RowConverterOptions = {}) {
    this.#src = src;
    this.#k = Kernels.create({ workers: options.workers ?? navigator.hardwareConcurrency });
  }

  #info(name: string) {
    const info = this.#src.info(name);
    if (!info) throw new DataError("source", name, "a tensor of that name", "none");
    return info;
  }

  /** Room at the end of the memory (buffers only move there, never over one in use). */
  #alloc(bytes: number): number {
    const at = align(this.#end);
    this.#end = at + bytes;
    this.#k.reserve(this.#end);
    return at;
  }

  /** The next chunk buffer, laid out for `rows` of `name`. */
  #layout(name: string, rows: RowRange): Layout {
    const info = this.#info(name);
    const lora = tensorPlan(this.#src, name)?.lora;
    const inp = rowElems(info.shape), n = rows.count * inp, r = lora?.rank ?? 0;
    if (r * inp * 4 > this.#aBytes) {
      this.#aBytes = r * inp * 4;
      this.#a = this.#alloc(this.#aBytes);
      this.#aFor = undefined;
    }
    const f32 = align(n * 4), b4 = f32 + align(n * 4);
    const stage = b4 + align(Kernels.bBytes(rows.count, r));
    const need = stage + rows.count * r * 4;
    if (need > this.#slotBytes) {
      this.#slotBytes = need;
      this.#slots = [this.#alloc(need), this.#alloc(need)];
    }
    const at = this.#slots[this.#next];
    this.#next ^= 1;
    return { a: this.#a, raw: at, f32: at + f32, b4: at + b4, stage: at + stage };
  }

  /**
   * Rows of `name` stored as `target` (F16 or F32 for a float tensor; other dtypes are returned
   * as stored).
   */
  async bytes(name: string, rows: RowRange, target: StoredDType): Promise<Uint8Array> {
    const info = this.#info(name);
    const plan = tensorPlan(this.#src, name);
    const n = rows.count * rowElems(info.shape);
    if (plan?.lora) {
      const at = this.#layout(name, rows);
      await this.#merged(name, rows, at);
      if (target === "F32") return this.#k.bytes(at.f32, n * 4);
      this.#k.f32ToF16(at.f32, at.raw, n);
      return this.#k.bytes(at.raw, n * 2);
    }
    const stored = info.dtype;
    if (!FLOATS.has(stored) || !FLOATS.has(target) || (stored === target && !plan?.stored)) {
      return (await this.#src.readRaw(name, rows)).bytes;
    }
    const at = this.#layout(name, rows);
    await this.#raw(name, rows, at, plan?.stored);
    if (stored === target) return this.#k.bytes(at.raw, n * (stored === "F32" ? 4 : 2));
    if (target === "F16" && stored === "BF16") {
      this.#k.bf16ToF16(at.raw, at.raw, n);
      return this.#k.bytes(at.raw, n * 2);
    }
    if (target === "F16") {
      this.#k.f32ToF16(at.raw, at.raw, n);
      return this.#k.bytes(at.raw, n * 2);
    }
    this.#widen(at.raw, at.f32, n, stored);
    return this.#k.bytes(at.f32, n * 4);
  }

  /** Rows of `name` widened to float32 (LoRA merged where the release merges it). */
  async floats(name: string, rows: RowRange): Promise<Float32Array> {
    const info = this.#info(name);
    const plan = tensorPlan(this.#src, name);
    const n = rows.count * rowElems(info.shape);
    if (!FLOATS.has(info.dtype)) return (await this.#src.read(name, rows)).data;
    const at = this.#layout(name, rows);
    if (plan?.lora) await this.#merged(name, rows, at);
    else {
      await this.#raw(name, rows, at, plan?.stored);
      this.#widen(at.raw, at.f32, n, info.dtype);
    }
    return new Float32Array(this.#k.memory.buffer, at.f32, n);
  }

  /** The merged rows into `at.f32`. */
  async #merged(name: string, rows: RowRange, at: Layout) {
    const plan = tensorPlan(this.#src, name)!;
    const lora = plan.lora!;
    const inp = rowElems(this.#info(name).shape), r = lora.rank, n = rows.count * inp;
    const stored = plan.stored;
    let dtype: StoredDType;
    if (stored) {
      await this.#readStored(name, stored, rows, at.raw);
      dtype = stored.dtype;
    } else {
      const base = await lora.base(rows);
      this.#k.bytes(at.raw, base.bytes.length).set(base.bytes);
      dtype = base.dtype;
    }
    this.#widen(at.raw, at.f32, n, dtype);
    if (this.#aFor !== name) {
      this.#aFor = undefined;
      const a = await lora.a();
      new Float32Array(this.#k.memory.buffer, at.a, a.length).set(a);
      this.#aFor = name;
    }
    const b = await lora.b(rows);
    new Float32Array(this.#k.memory.buffer, at.stage, b.length).set(b);
    this.#k.prepareB(at.stage, at.b4, b.length);
    await this.#k.loraMerge({
      w: at.f32,
      b4: at.b4,
      a: at.a,
      rows: rows.count,
      inp,
      r,
      scale: lora.scale,
    });
  }

  /** The rows as stored into `at.raw`: from their file range when known, else via the source. */
  async #raw(name: string, rows: RowRange, at: Layout, stored?: StoredRows) {
    if (stored) return await this.#readStored(name, stored, rows, at.raw);
    const bytes = (await this.#src.readRaw(name, rows)).bytes;
    this.#k.bytes(at.raw, bytes.length).set(bytes);
  }

  async #readStored(name: string, s: StoredRows, rows: RowRange, dst: number) {
    const info = this.#info(name);
    if (rows.start < 0 || rows.count < 0 || rows.start + rows.count > info.shape[0]) {
      throw new DataError(
        s.file,
        name,
        `rows within [0, ${info.shape[0]})`,
        `[${rows.start}, ${rows.start + rows.count})`,
      );
    }
    let file = this.#files.get(s.file);
    if (!file) this.#files.set(s.file, file = await Deno.open(s.file, { read: true }));
    const offset = s.offset + rows.start * s.rowBytes, length = rows.count * s.rowBytes;
    await file.seek(offset, Deno.SeekMode.Start);
    const out = this.#k.bytes(dst, length);
    for (let got = 0; got < length;) {
      const n = await file.read(out.subarray(got));
      if (n === null) {
        throw new DataError(s.file, name, `${length} bytes at offset ${offset}`, "the file ends");
      }
      got += n;
    }
  }

  /** `n` elements of `dtype` at `src` -> f32 at `dst`. */
  #widen(src: number, dst: number, n: number, dtype: StoredDType) {
    const mem = this.#k.memory.buffer;
    if (dtype === "BF16") this.#k.bf16ToF32(src, dst, n);
    else if (dtype === "F32") new Uint8Array(mem, dst, n * 4).set(new Uint8Array(mem, src, n * 4));
    else new Float32Array(mem, dst, n).set(fromF16(new Uint16Array(mem, src, n)));
  }

  /** Closes the files and stops the workers. */
  async close(): Promise<void> {
    for (const f of this.#files.values()) f.close();
    this.#files.clear();
    await this.#k.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
