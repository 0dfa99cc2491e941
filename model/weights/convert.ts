/**
 * The converted model folder (`vlm3r convert`), which the engine loads fast, and its reader
 * {@link openModel}:
 * ```
 * MODEL/
 *   manifest.json                        format, config (ModelConfig), dtypes, every tensor with
 *                                        its pieces, tokenizer files, provenance
 *   model-00001-of-000NN.safetensors     the pieces, in model order
 *   tokenizer.json, ... generation_config.json   copied from the base folder
 * ```
 * Tensors keep the canonical names of `architecture.ts`. Matrices are stored in `--dtype` (f16
 * or f32), vectors (norms, biases) always in f32. With `--quantize int8|int4` the language
 * model's linear weights (and only those: never SigLIP, CUT3R, the fusion block, the projector,
 * the embedding or lm_head) become `<prefix>.qweight` + `<prefix>.scales` (`source.ts`).
 * No shard and no tensor piece exceeds `maxBindingBytes` (default 128 MiB, WebGPU's guaranteed
 * `maxStorageBufferBindingSize`): a larger tensor is split by rows into pieces
 * `<name>:<i>` that the manifest lists with their row ranges; {@link openModel} joins them back
 * (reading only the pieces a row range touches). `--fold-fusion` adds the fusion's stacked
 * linears folded exactly (in f64) as `model.fusion_block.folded.{query,key,value,out}.*`.
 * Conversion reads and writes one bounded chunk of rows at a time (4 Mi elements) in buffers
 * allocated once (`convert_rows.ts`): stored rows are read from their file range straight into
 * WebAssembly memory, converted there by SIMD kernels and LoRA-merged by them on worker threads
 * (`wasm/`); the next chunk is computed while one is written, each shard is flushed to disk
 * while the next is written, and the sources are hashed meanwhile. It writes into
 * `MODEL.partial/`, flushes every shard and renames the folder into place, and is deterministic:
 * byte-identical reruns, whatever the number of workers (every element is computed by the same
 * operations in the same order; the kernels give the bits of the TypeScript references).
 *
 * @module
 */

import { createHash } from "node:crypto";
import denoJson from "../../deno.json" with { type: "json" };
import { DataError } from "../../io/errors.ts";
import { toF16Bytes } from "../../kernels/device.ts";
import { foldLinear, fusionProjectorWeights, type LinearWeights } from "../fusion.ts";
import { type Component, componentOf } from "./architecture.ts";
import type { ModelConfig } from "./config.ts";
import { RowConverter } from "./convert_rows.ts";
import { dequantizeInt4, dequantizeInt8, quantizeInt4, quantizeInt8 } from "./quant.ts";
import type { Release } from "./release.ts";
import {
  type HostTensor,
  readSafetensorsHeader,
  type SafetensorsEntry,
  SafetensorsWriter,
  type StoredDType,
  widenBytes,
} from "./safetensors.ts";
import {
  checkRows,
  dtypeBytes,
  type RawTensor,
  type RowRange,
  type TensorSource,
} from "./source.ts";
import { readAt } from "./zip.ts";

/** WebGPU's guaranteed `maxStorageBufferBindingSize`: every adapter binds this much. */
export const DEFAULT_MAX_BINDING = 128 * 1024 * 1024;

/** Options of {@link convertRelease}. */
export interface ConvertOptions {
  /** Storage of matrices (vectors stay f32). Default f16. */
  dtype?: "f16" | "f32";
  /** Quantisation of the language model's linears. Default none. */
  quantize?: "none" | "int8" | "int4";
  /** Add the fusion's stacked linears folded. */
  foldFusion?: boolean;
  /** Largest shard and tensor piece in bytes. */
  maxBindingBytes?: number;
  /** Called as bytes are written. */
  onProgress?: (done: number, total: number) => void;
  /** Input files to record (size and sha256) under their role. */
  provenance?: { role: string; path: string }[];
  /** Replace an existing `out` (swapped in only once the new model is complete). */
  replace?: boolean;
  /** Worker threads for the LoRA merge. Default: the machine's logical cores. */
  workers?: number;
}

/** One stored piece of a tensor. */
export interface ManifestPiece {
  /** Shard file name. */
  file: string;
  /** Key in the shard. */
  key: string;
  /** `[start, count]` rows of the tensor. */
  rows: [number, number];
}

/** One stored tensor. */
export interface ManifestTensor {
  name: string;
  dtype: StoredDType;
  shape: number[];
  component: Component;
  /** For `.qweight`/`.scales`: the scheme and the weight they replace. */
  quantized?: { scheme: "int8" | "int4"; weight: string };
  pieces: ManifestPiece[];
}

/** `manifest.json` of a converted model. */
export interface Manifest {
  format: "vlm3r-model";
  formatVersion: 1;
  /** The vlm3r version that wrote it. */
  vlm3r: string;
  config: ModelConfig;
  dtype: "f16" | "f32";
  quantize: "none" | "int8" | "int4";
  foldFusion: boolean;
  maxBindingBytes: number;
  tensors: ManifestTensor[];
  shards: { file: string; bytes: number }[];
  tokenizer: { files: string[]; length: number };
  sources: { role: string; file: string; bytes: number; sha256: string }[];
}

interface Planned {
  name: string;
  dtype: StoredDType;
  shape: number[];
  component: Component;
  quantized?: ManifestTensor["quantized"];
  /** Bytes of rows `[start, start + count)`. */
  produce(rows: RowRange): Promise<Uint8Array>;
}

const rowElems = (shape: readonly number[]) => shape.slice(1).reduce((a, b) => a * b, 1);
// Rows are read and converted 4 Mi elements (16 MiB of f32) at a time, in buffers reused from
// chunk to chunk (convert_rows.ts).
const CHUNK_ELEMS = 1 << 22;

function floatBytes(data: Float32Array, dtype: StoredDType): Uint8Array {
  if (dtype === "F16") return toF16Bytes(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The stored tensors of a conversion, in model order, each with how to produce its rows. */
function plan(
  src: TensorSource,
  release: Release,
  options: ConvertOptions,
  conv: RowConverter,
): Planned[] {
  const dtype: StoredDType = options.dtype === "f32" ? "F32" : "F16";
  const quantize = options.quantize ?? "none";
  const linear = new Set(release.specs.filter((s) => s.llmLinear).map((s) => s.name));
  const out: Planned[] = [];
  for (const name of src.names) {
    const info = src.info(name)!;
    const shape = [...info.shape];
    const component = componentOf(name);
    if (quantize !== "none" && linear.has(name)) {
      const prefix = name.replace(/\.weight$/, "");
      const [rows, cols] = shape;
      const scheme = quantize;
      let scales: Uint8Array[] = [];
      const quantized = { scheme, weight: name };
      out.push({
        name: `${prefix}.qweight`,
        dtype: scheme === "int8" ? "I8" : "U8",
        shape: scheme === "int8" ? [rows, cols] : [rows, cols / 2],
        component,
        quantized,
        async produce(r) {
          if (r.start === 0) scales = [];
          const w = await conv.floats(name, r);
          const q = scheme === "int8" ? quantizeInt8(w, cols) : quantizeInt4(w, cols);
          scales.push(q.scales);
          return q.qweight;
        },
      });
      const groups = Math.ceil(cols / 128);
      out.push({
        name: `${prefix}.scales`,
        dtype: "F16",
        shape: scheme === "int8" ? [rows] : [rows, groups],
        component,
        quantized,
        produce(r) {
          // Filled while the qweight (planned just before) was produced.
          const all = new Uint8Array(scales.reduce((a, s) => a + s.length, 0));
          let at = 0;
          for (const s of scales) {
            all.set(s, at);
            at += s.length;
          }
          const per = scheme === "int8" ? 2 : groups * 2;
          return Promise.resolve(all.slice(r.start * per, (r.start + r.count) * per));
        },
      });
      continue;
    }
    const target: StoredDType = shape.length >= 2 ? dtype : "F32";
    const stored = info.dtype;
    const floatIn = stored === "F32" || stored === "F16" || stored === "BF16";
    out.push({
      name,
      dtype: floatIn ? target : stored,
      shape,
      component,
      produce: (r) => conv.bytes(name, r, floatIn ? target : stored),
    });
  }
  return out;
}

/** The fusion's stacked linears, folded exactly (f64) into four. */
async function foldedFusion(src: TensorSource, dtype: StoredDType): Promise<Planned[]> {
  const tensors = new Map<string, HostTensor>();
  for (const n of src.names) {
    if (/^model\.(fusion_block|mm_projector)\.|^model\.image_newline$/.test(n)) {
      tensors.set(n, await src.read(n));
    }
  }
  const w = fusionProjectorWeights(tensors, "release");
  const folds: [string, LinearWeights][] = [
    ["query", foldLinear(w.inQ, w.clipQuery)],
    ["key", foldLinear(w.inK, w.spatialKey)],
    ["value", foldLinear(w.inV, w.spatialValue)],
    ["out", foldLinear(w.outProj, w.attnOut)],
  ];
  const out: Planned[] = [];
  for (const [role, l] of folds) {
    const name = `model.fusion_block.folded.${role}`;
    out.push({
      name: `${name}.weight`,
      dtype,
      shape: [l.out, l.in],
      component: "fusion",
      produce: (r) =>
        Promise.resolve(
          floatBytes(l.weight.slice(r.start * l.in, (r.start + r.count) * l.in), dtype),
        ),
    });
    out.push({
      name: `${name}.bias`,
      dtype: "F32",
      shape: [l.out],
      component: "fusion",
      produce: (r) => Promise.resolve(floatBytes(l.bias.slice(r.start, r.start + r.count), "F32")),
    });
  }
  return out;
}

/** Flushes a written file's data to disk. */
async function syncFile(path: string): Promise<void> {
  using file = await Deno.open(path, { read: true });
  await file.syncData();
}

/** Size and sha256 of each provenance file, one after the other. */
async function hashAll(
  files: { role: string; path: string }[],
  signal: AbortSignal,
): Promise<Manifest["sources"]> {
  const out: Manifest["sources"] = [];
  for (const p of files) {
    const file = p.path.replace(/^.*\//, "");
    out.push({ role: p.role, file, ...await hashFile(p.path, signal) });
  }
  return out;
}

/** sha256 (hex) and size of a file, read in 8 MiB chunks (stopping when `signal` aborts). */
export async function hashFile(
  path: string,
  signal?: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  const buf = new Uint8Array(8 << 20);
  let bytes = 0;
  while (true) {
    signal?.throwIfAborted();
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
    bytes += n;
  }
  return { bytes, sha256: hash.digest("hex") };
}

/**
 * Converts a release into a model folder at `out` (written into `out.partial/`, then renamed;
 * `out` must not exist).
 *
 * @example
 * ```ts ignore
 * const release = await openRelease({ base, lora, cut3r });
 * const manifest = await convertRelease(release, "models/vlm3r", { dtype: "f16", quantize: "int4" });
 * ```
 */
export async function convertRelease(
  release: Release,
  out: string,
  options: ConvertOptions = {},
): Promise<Manifest> {
  const maxBinding = options.maxBindingBytes ?? DEFAULT_MAX_BINDING;
  const dtype = options.dtype ?? "f16";
  const quantize = options.quantize ?? "none";
  const src = release.source;
  await using conv = new RowConverter(src, { workers: options.workers });
  const planned = plan(src, release, options, conv);
  if (options.foldFusion) planned.push(...await foldedFusion(src, dtype === "f16" ? "F16" : "F32"));

  // Pieces: split by rows so that none exceeds the binding limit.
  type Piece = { t: Planned; key: string; rows: [number, number]; bytes: number };
  const pieces: Piece[] = [];
  const perTensor = new Map<string, Piece[]>();
  for (const t of planned) {
    if (t.shape.length === 0) throw new DataError(t.name, "shape", "at least one dimension", "[]");
    const n = t.shape[0];
    const rowBytes = rowElems(t.shape) * dtypeBytes(t.dtype);
    const total = n * rowBytes;
    const list: Piece[] = [];
    if (total <= maxBinding - 4096) list.push({ t, key: t.name, rows: [0, n], bytes: total });
    else {
      const per = Math.floor((maxBinding - 4096) / rowBytes);
      if (per < 1) {
        throw new DataError(t.name, "row", `at most ${maxBinding} bytes per row`, `${rowBytes}`);
      }
      for (let s = 0, i = 0; s < n; s += per, i++) {
        const c = Math.min(per, n - s);
        list.push({ t, key: `${t.name}:${i}`, rows: [s, c], bytes: c * rowBytes });
      }
    }
    perTensor.set(t.name, list);
    pieces.push(...list);
  }
  // Shards: consecutive pieces while the shard (data and a generous header) stays in bounds.
  const shards: Piece[][] = [];
  let cur: Piece[] = [], size = 8;
  for (const p of pieces) {
    const cost = p.bytes + 256 + 2 * p.key.length;
    if (cur.length && size + cost > maxBinding) {
      shards.push(cur);
      cur = [];
      size = 8;
    }
    cur.push(p);
    size += cost;
  }
  if (cur.length) shards.push(cur);
  const width = Math.max(5, String(shards.length).length);
  const shardName = (i: number) =>
    `model-${String(i + 1).padStart(width, "0")}-of-${
      String(shards.length).padStart(width, "0")
    }.safetensors`;

  const tmp = `${out.replace(/\/+$/, "")}.partial`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  // The sources are hashed while the conversion runs (its threads wait on I/O and workers).
  const stopHashing = new AbortController();
  const hashing = hashAll(options.provenance ?? [], stopHashing.signal);
  hashing.catch(() => {}); // awaited below
  try {
    const total = pieces.reduce((a, p) => a + p.bytes, 0);
    let done = 0;
    const shardInfo: Manifest["shards"] = [];
    const where = new Map<Piece, string>();
    // Each shard is flushed to disk while the next one is computed; all before the rename.
    const syncs: Promise<unknown>[] = [];
    let writing = Promise.resolve();
    for (let i = 0; i < shards.length; i++) {
      const file = shardName(i);
      const list = shards[i];
      const w = await SafetensorsWriter.create(
        `${tmp}/${file}`,
        list.map((p) => ({
          name: p.key,
          dtype: p.t.dtype,
          shape: [p.rows[1], ...p.t.shape.slice(1)],
        })),
      );
      try {
        for (const p of list) {
          where.set(p, file);
          const elems = Math.max(1, rowElems(p.t.shape));
          const chunk = Math.max(1, Math.floor(CHUNK_ELEMS / elems));
          const [start, count] = p.rows;
          for (let s = start; s < start + count; s += chunk) {
            const c = Math.min(chunk, start + count - s);
            // The next chunk is computed while this one is written (RowConverter's two buffers).
            const bytes = await p.t.produce({ start: s, count: c });
            await writing;
            writing = w.write(p.key, bytes).then(() => {
              done += bytes.length;
              options.onProgress?.(done, total);
            });
            writing.catch(() => {}); // awaited before the next write or the close
          }
          if (count === 0) {
            await writing;
            writing = w.write(p.key, new Uint8Array(0));
          }
        }
        await writing;
        await w.close({ sync: false });
      } catch (e) {
        await writing.catch(() => {});
        w.abort();
        throw e;
      }
      syncs.push(syncFile(`${tmp}/${file}`).then(() => undefined, (e) => e));
      shardInfo.push({ file, bytes: (await Deno.stat(`${tmp}/${file}`)).size });
    }
    for (const e of await Promise.all(syncs)) if (e) throw e;
    const tokFiles: string[] = [];
    for (const f of release.tokenizerFiles) {
      const name = f.replace(/^.*\//, "");
      await Deno.copyFile(f, `${tmp}/${name}`);
      tokFiles.push(name);
    }
    const sources = await hashing;
    const manifest: Manifest = {
      format: "vlm3r-model",
      formatVersion: 1,
      vlm3r: denoJson.version,
      config: release.config,
      dtype,
      quantize,
      foldFusion: options.foldFusion === true,
      maxBindingBytes: maxBinding,
      tensors: planned.map((t) => ({
        name: t.name,
        dtype: t.dtype,
        shape: t.shape,
        component: t.component,
        ...(t.quantized ? { quantized: t.quantized } : {}),
        pieces: perTensor.get(t.name)!.map((p) => ({
          file: where.get(p)!,
          key: p.key,
          rows: p.rows,
        })),
      })),
      shards: shardInfo,
      tokenizer: { files: tokFiles, length: release.config.tokenizer.length },
      sources,
    };
    await Deno.writeTextFile(`${tmp}/manifest.json`, JSON.stringify(manifest, null, 1) + "\n");
    const old = `${out.replace(/\/+$/, "")}.old`;
    const present = await Deno.stat(out).then(() => true, () => false);
    if (present && !options.replace) throw new Error(`${out} exists`);
    if (present) await Deno.rename(out, old);
    await Deno.rename(tmp, out);
    if (present) await Deno.remove(old, { recursive: true });
    return manifest;
  } catch (e) {
    stopHashing.abort();
    await hashing.catch(() => {});
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** A converted model, opened. */
export interface Model {
  /** Stored tensors (quantised linears as `.qweight` + `.scales`). */
  source: TensorSource;
  config: ModelConfig;
  manifest: Manifest;
  dir: string;
}

/**
 * Opens a converted model folder: the manifest, and the shards' headers (checked against it);
 * tensors are read on demand, pieces joined.
 *
 * @example
 * ```ts ignore
 * const { source, config } = await openModel("models/vlm3r");
 * const emb = await source.read("model.embed_tokens.weight", { start: 151644, count: 2 });
 * ```
 */
export async function openModel(dir: string): Promise<Model> {
  dir = dir.replace(/\/+$/, "");
  const mpath = `${dir}/manifest.json`;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(mpath));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataError(mpath, "file", "a converted model's manifest (vlm3r convert)", "missing");
    }
    throw new DataError(mpath, "JSON", "a manifest");
  }
  if (manifest.format !== "vlm3r-model" || manifest.formatVersion !== 1) {
    throw new DataError(
      mpath,
      "format",
      "vlm3r-model version 1",
      `${manifest.format} ${manifest.formatVersion}`,
    );
  }
  const entries = new Map<string, SafetensorsEntry>();
  for (const s of manifest.shards) {
    if (s.file.includes("/") || s.file.startsWith(".")) {
      throw new DataError(mpath, "shards", "file names inside the folder", s.file);
    }
    try {
      for (const e of (await readSafetensorsHeader(`${dir}/${s.file}`)).entries) {
        entries.set(`${s.file}\n${e.name}`, e);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new DataError(`${dir}/${s.file}`, "file", "a shard the manifest lists", "missing");
      }
      throw e;
    }
  }
  const tensors = new Map<string, ManifestTensor>();
  for (const t of manifest.tensors) {
    for (const p of t.pieces) {
      const e = entries.get(`${p.file}\n${p.key}`);
      const want = [p.rows[1], ...t.shape.slice(1)];
      if (!e || e.dtype !== t.dtype || e.shape.join() !== want.join()) {
        throw new DataError(
          `${dir}/${p.file}`,
          p.key,
          `${t.dtype} [${want.join(", ")}]`,
          e ? `${e.dtype} [${e.shape.join(", ")}]` : "missing",
        );
      }
    }
    tensors.set(t.name, t);
  }
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new DataError(dir, name, "a tensor of that name", "none");
    return t;
  };
  const readRaw = async (name: string, rows?: RowRange): Promise<RawTensor> => {
    const t = get(name);
    const range = rows ?? { start: 0, count: t.shape[0] };
    if (rows) checkRows(dir, name, t.shape[0], rows);
    const rowBytes = rowElems(t.shape) * dtypeBytes(t.dtype);
    const out = new Uint8Array(range.count * rowBytes);
    for (const p of t.pieces) {
      const [ps, pc] = p.rows;
      const s = Math.max(ps, range.start), end = Math.min(ps + pc, range.start + range.count);
      if (s >= end) continue;
      const e = entries.get(`${p.file}\n${p.key}`)!;
      const bytes = await readAt(
        e.file,
        e.offset + (s - ps) * rowBytes,
        (end - s) * rowBytes,
        name,
      );
      out.set(bytes, (s - range.start) * rowBytes);
    }
    const shape = [...t.shape];
    shape[0] = range.count;
    return { shape, dtype: t.dtype, bytes: out };
  };
  const source: TensorSource = {
    names: manifest.tensors.map((t) => t.name),
    info: (name) => {
      const t = tensors.get(name);
      return t && { shape: t.shape, dtype: t.dtype };
    },
    readRaw,
    async read(name, rows) {
      const r = await readRaw(name, rows);
      return {
        shape: [...r.shape],
        data: widenBytes(r.bytes, r.dtype, `${dir}: ${name}`),
        stored: r.dtype,
      };
    },
  };
  return { source, config: manifest.config, manifest, dir };
}

/**
 * A view of a model's source where each quantised linear reads as its dequantised float32
 * `<prefix>.weight` again (for tests, `inspect` and CPU references; engines read the codes).
 */
export function dequantizedSource(model: Model): TensorSource {
  const quant = new Map<string, ManifestTensor>();
  for (const t of model.manifest.tensors) {
    if (t.quantized && t.name.endsWith(".qweight")) quant.set(t.quantized.weight, t);
  }
  const src = model.source;
  const names: string[] = [];
  for (const n of src.names) {
    if (n.endsWith(".scales") && quant.has(n.replace(/\.scales$/, ".weight"))) continue;
    names.push(
      quant.has(n.replace(/\.qweight$/, ".weight")) ? n.replace(/\.qweight$/, ".weight") : n,
    );
  }
  const read = async (name: string, rows?: RowRange): Promise<HostTensor> => {
    const q = quant.get(name);
    if (!q) return await src.read(name, rows);
    const prefix = name.replace(/\.weight$/, "");
    const qw = await src.readRaw(`${prefix}.qweight`, rows);
    const sc = await src.readRaw(`${prefix}.scales`, rows);
    const cols = q.quantized!.scheme === "int8" ? q.shape[1] : q.shape[1] * 2;
    const data = q.quantized!.scheme === "int8"
      ? dequantizeInt8({ qweight: qw.bytes, scales: sc.bytes }, cols)
      : dequantizeInt4({ qweight: qw.bytes, scales: sc.bytes }, cols);
    return { shape: [qw.shape[0], cols], data, stored: "F32" };
  };
  return {
    names,
    info(name) {
      const q = quant.get(name);
      if (!q) return src.info(name);
      const cols = q.quantized!.scheme === "int8" ? q.shape[1] : q.shape[1] * 2;
      return { shape: [q.shape[0], cols], dtype: "F32" };
    },
    read,
    async readRaw(name, rows) {
      const t = await read(name, rows);
      return { shape: t.shape, dtype: "F32", bytes: new Uint8Array(t.data.buffer) };
    },
  };
}
