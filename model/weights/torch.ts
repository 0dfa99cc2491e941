/**
 * PyTorch checkpoints (`.bin`, `.pth`, `.pt` written by `torch.save` since 1.6): a zip holding
 * `<root>/data.pkl` (the object, a pickle whose persistent ids name storages) and one record
 * `<root>/data/<key>` per storage. {@link openTorch} reads the pickle with the restricted
 * unpickler of `pickle.ts` (nothing is executed; tensors are rebuilt from
 * `torch._utils._rebuild_tensor_v2` as views: storage, offset, shape, strides) and checks every
 * storage record's presence and size; tensor bytes are read on demand, each tensor only its own
 * elements (so the 100 `pose_retriever.*` views of one CUT3R storage read that storage once
 * between them), or eagerly by {@link readTorch}, which reads each storage once. A writer
 * ({@link writeTorch}) produces the same format, for `vlm3r model tiny` and the tests.
 *
 * @module
 */

import { DataError } from "../../io/errors.ts";
import { type HostTensor, type StoredDType, widenBytes } from "./safetensors.ts";
import { describe, PyGlobal, PyObject, type PyValue, REDUCERS, unpickle } from "./pickle.ts";
import {
  checkRows,
  type RawTensor,
  type RowRange,
  type TensorInfo,
  type TensorSource,
} from "./source.ts";
import { openZip, writeZip, type ZipArchive } from "./zip.ts";

/** One storage of a checkpoint: a typed array in record `data/<key>`. */
export interface TorchStorage {
  readonly kind: "torch.storage";
  /** Record name under `data/`. */
  readonly key: string;
  /** Storage class (`FloatStorage`). */
  readonly type: string;
  /** Element type as stored in the file. */
  readonly fileDtype: string;
  /** Bytes per element in the file. */
  readonly elementBytes: number;
  /** Elements. */
  readonly numel: number;
}

/** A tensor: a strided view of a storage. */
export interface TorchTensor {
  readonly kind: "torch.tensor";
  readonly storage: TorchStorage;
  /** Offset in elements. */
  readonly offset: number;
  readonly shape: readonly number[];
  /** Strides in elements. */
  readonly stride: readonly number[];
}

// File dtype -> [bytes per element, the dtype a TensorSource reports].
const STORAGES: Record<string, [string, number, StoredDType]> = {
  FloatStorage: ["F32", 4, "F32"],
  HalfStorage: ["F16", 2, "F16"],
  BFloat16Storage: ["BF16", 2, "BF16"],
  DoubleStorage: ["F64", 8, "F32"], // narrowed to f32 when read
  LongStorage: ["I64", 8, "I64"],
  IntStorage: ["I32", 4, "I32"],
  ShortStorage: ["I16", 2, "I32"], // widened to i32 when read
  CharStorage: ["I8", 1, "I8"],
  ByteStorage: ["U8", 1, "U8"],
  BoolStorage: ["BOOL", 1, "U8"],
};

/** An open checkpoint: the unpickled object and its archive. */
export interface TorchFile {
  readonly path: string;
  /** The saved object; tensors appear as {@link TorchTensor}. */
  readonly root: PyValue;
  /** The zip record folder (`adapter_model/`). */
  readonly prefix: string;
  readonly archive: ZipArchive;
}

/** Whether `v` is a tensor rebuilt from a checkpoint. */
export function isTorchTensor(v: unknown): v is TorchTensor {
  return typeof v === "object" && v !== null && (v as TorchTensor).kind === "torch.tensor";
}

const ints = (v: PyValue, what: string, where: string): number[] => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "number" || !Number.isInteger(x))) {
    throw new DataError(where, what, "a tuple of integers", describe(v));
  }
  return v as number[];
};

const rebuild = (args: readonly PyValue[], where: string): TorchTensor => {
  const storage = args[0] as unknown as TorchStorage;
  if (!storage || storage.kind !== "torch.storage") {
    throw new DataError(
      where,
      "_rebuild_tensor_v2",
      "a storage as first argument",
      describe(args[0]),
    );
  }
  const offset = args[1];
  if (typeof offset !== "number") {
    throw new DataError(where, "_rebuild_tensor_v2", "an integer storage offset", describe(offset));
  }
  const shape = ints(args[2], "tensor size", where), stride = ints(args[3], "tensor stride", where);
  if (shape.length !== stride.length) {
    throw new DataError(where, "tensor stride", `${shape.length} strides`, `${stride.length}`);
  }
  const t: TorchTensor = { kind: "torch.tensor", storage, offset, shape, stride };
  const [lo, hi] = span(t);
  if (shape.some((d) => d < 0) || lo < 0 || (numel(shape) > 0 && hi >= storage.numel)) {
    throw new DataError(
      where,
      `data/${storage.key}`,
      `a view within its ${storage.numel} elements`,
      `offset ${offset}, size [${shape}], stride [${stride}]`,
    );
  }
  return t;
};

/** The torch builders `REDUCE` may call, in addition to the containers of `pickle.ts`. */
const TORCH_REDUCERS = new Map(REDUCERS);
TORCH_REDUCERS.set(
  "torch._utils._rebuild_tensor_v2",
  (a, w) => rebuild(a, w) as unknown as PyValue,
);
TORCH_REDUCERS.set("torch._utils._rebuild_tensor", (a, w) => rebuild(a, w) as unknown as PyValue);
TORCH_REDUCERS.set("torch._utils._rebuild_parameter", (a) => a[0]);
TORCH_REDUCERS.set("torch._utils._rebuild_parameter_with_state", (a) => a[0]);
TORCH_REDUCERS.set("torch._tensor._rebuild_from_type_v2", (a, w) => {
  // (func, type, args, state): only the tensor builders above may be the inner func.
  const fn = a[0], inner = a[2];
  const r = fn instanceof PyGlobal ? TORCH_REDUCERS.get(fn.qualname) : undefined;
  if (!r || !Array.isArray(inner)) {
    throw new DataError(w, "_rebuild_from_type_v2", "a tensor builder", describe(fn));
  }
  return r(inner, w);
});
TORCH_REDUCERS.set("torch.Size", (a) => Object.freeze([...(a[0] as PyValue[] ?? [])]));

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// Lowest and highest storage element a view touches.
function span(t: { offset: number; shape: readonly number[]; stride: readonly number[] }) {
  let lo = t.offset, hi = t.offset;
  t.shape.forEach((d, i) => {
    if (d === 0) return;
    const s = t.stride[i] * (d - 1);
    if (s < 0) lo += s;
    else hi += s;
  });
  return [lo, hi];
}

/**
 * Opens a `torch.save` zip: reads its directory and `data.pkl` (restricted: nothing executes),
 * and checks that every storage the pickle names is a record of the right size.
 *
 * @example
 * ```ts
 * const path = await Deno.makeTempFile({ suffix: ".bin" });
 * const w = { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]), stored: "F32" as const };
 * await writeTorch(path, new Map([["w", w]]));
 * const f = await openTorch(path);
 * const t = await torchSource(f, tensorsOf(f.root), path).read("w", { start: 1, count: 1 });
 * if (t.data.join() !== "3,4") throw new Error();
 * await Deno.remove(path);
 * ```
 */
export async function openTorch(path: string): Promise<TorchFile> {
  const archive = await openZip(path);
  const pkl = [...archive.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) {
    throw new DataError(
      path,
      "data.pkl",
      "a <root>/data.pkl record (torch.save zip format)",
      "none",
    );
  }
  const prefix = pkl.slice(0, -"data.pkl".length);
  const order = archive.entries.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(await archive.read(order.name)).trim() !== "little") {
    throw new DataError(path, `${prefix}byteorder`, "little");
  }
  const label = `${path}: ${pkl}`;
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: PyValue): PyValue => {
    if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5) {
      throw new DataError(
        label,
        "persistent id",
        "('storage', type, key, location, numel)",
        describe(pid),
      );
    }
    const [, type, key, , n] = pid as PyValue[];
    const typeName = type instanceof PyGlobal ? type.name : String(type);
    const known = STORAGES[typeName];
    if (!known) {
      throw new DataError(
        label,
        `storage ${String(key)}`,
        Object.keys(STORAGES).join(", "),
        typeName,
      );
    }
    if (typeof key !== "string" || typeof n !== "number") {
      throw new DataError(label, "persistent id", "a string key and an integer size");
    }
    const seen = storages.get(key);
    if (seen) return seen as unknown as PyValue;
    const rec = archive.entries.get(`${prefix}data/${key}`);
    if (!rec) {
      throw new DataError(
        path,
        `${prefix}data/${key}`,
        "the storage record data.pkl refers to",
        "none",
      );
    }
    const s: TorchStorage = {
      kind: "torch.storage",
      key,
      type: typeName,
      fileDtype: known[0],
      elementBytes: known[1],
      numel: n,
    };
    if (rec.size !== n * s.elementBytes) {
      throw new DataError(
        path,
        `${prefix}data/${key}`,
        `${n * s.elementBytes} bytes (${n} x ${typeName})`,
        `${rec.size}`,
      );
    }
    storages.set(key, s);
    return s as unknown as PyValue;
  };
  const bytes = await archive.read(pkl);
  const root = unpickle(bytes, { label, persistentLoad }, TORCH_REDUCERS);
  return { path, root, prefix, archive };
}

/**
 * The tensors of a dict (nested dicts joined with `.`), in the dict's order; other values are
 * skipped.
 */
export function tensorsOf(value: PyValue, prefix = ""): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  const walk = (v: PyValue, name: string) => {
    if (isTorchTensor(v)) out.set(name, v);
    else if (v instanceof Map) {
      for (const [k, x] of v) {
        if (typeof k === "string" || typeof k === "number") walk(x, name ? `${name}.${k}` : `${k}`);
      }
    }
  };
  walk(value, prefix);
  return out;
}

/** Bytes of tensor `t` (or of some of its rows), row-major, in the source dtype. */
async function tensorBytes(
  file: TorchFile,
  t: TorchTensor,
  rows?: RowRange,
  storageCache?: Map<string, Uint8Array>,
): Promise<{ bytes: Uint8Array; shape: number[]; dtype: StoredDType }> {
  const s = t.storage;
  let offset = t.offset;
  const shape = [...t.shape];
  if (rows) {
    offset += rows.start * (t.stride[0] ?? 0);
    shape[0] = rows.count;
  }
  const n = numel(shape);
  const es = s.elementBytes;
  const record = `${file.prefix}data/${s.key}`;
  const read = async (start: number, count: number) => {
    const cached = storageCache?.get(s.key);
    if (cached) return cached.subarray(start * es, (start + count) * es);
    return await file.archive.read(record, start * es, count * es);
  };
  let out: Uint8Array;
  if (n === 0) out = new Uint8Array(0);
  else if (contiguous(shape, t.stride)) out = (await read(offset, n)).slice();
  else {
    const [lo, hi] = span({ offset, shape, stride: t.stride });
    const src = await read(lo, hi - lo + 1);
    out = new Uint8Array(n * es);
    const idx = new Array(shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let e = offset - lo;
      for (let d = 0; d < shape.length; d++) e += idx[d] * t.stride[d];
      out.set(src.subarray(e * es, (e + 1) * es), i * es);
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
  }
  return { bytes: normalise(out, s.fileDtype), shape, dtype: STORAGES[s.type][2] };
}

// F64 -> F32, I16 -> I32, BOOL -> U8 (a TensorSource's dtypes).
function normalise(bytes: Uint8Array, fileDtype: string): Uint8Array {
  if (fileDtype === "F64") {
    const d = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
    return new Uint8Array(Float32Array.from(d).buffer);
  }
  if (fileDtype === "I16") {
    const d = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
    return new Uint8Array(Int32Array.from(d).buffer);
  }
  return bytes;
}

function contiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) return false;
    expect *= shape[d];
  }
  return true;
}

/**
 * A {@link TensorSource} over tensors of an open checkpoint (as found by {@link tensorsOf}),
 * reading each tensor's own elements (or rows) on demand. `label` names it in errors.
 */
export function torchSource(
  file: TorchFile,
  tensors: ReadonlyMap<string, TorchTensor>,
  label = file.path,
): TensorSource {
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new DataError(label, name, "a tensor of that name", "none");
    return t;
  };
  const raw = async (name: string, rows?: RowRange): Promise<RawTensor> => {
    const t = get(name);
    if (rows) checkRows(label, name, t.shape[0], rows);
    return await tensorBytes(file, t, rows);
  };
  return {
    names: [...tensors.keys()],
    info(name): TensorInfo | undefined {
      const t = tensors.get(name);
      return t && { shape: t.shape, dtype: STORAGES[t.storage.type][2] };
    },
    readRaw: raw,
    async read(name, rows) {
      const r = await raw(name, rows);
      return {
        shape: [...r.shape],
        data: widenBytes(r.bytes, r.dtype, `${label}: ${name}`),
        stored: r.dtype,
      };
    },
  };
}

/**
 * Reads every tensor of a checkpoint (nested dict keys joined with `.`), widened to float32,
 * reading each storage once however many tensors view it.
 */
export async function readTorch(path: string): Promise<Map<string, HostTensor>> {
  const file = await openTorch(path);
  const tensors = tensorsOf(file.root);
  const cache = new Map<string, Uint8Array>();
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    const s = t.storage;
    if (!cache.has(s.key)) {
      cache.set(s.key, await file.archive.read(`${file.prefix}data/${s.key}`));
    }
    const r = await tensorBytes(file, t, undefined, cache);
    out.set(name, {
      shape: r.shape,
      data: widenBytes(r.bytes, r.dtype, `${path}: ${name}`),
      stored: r.dtype,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** A tensor to write: float32 values stored as `dtype`, or raw bytes already in `dtype`. */
export interface TorchWriteTensor {
  shape: readonly number[];
  dtype: "F32" | "F16" | "BF16" | "I64" | "I32" | "U8" | "I8";
  /** Row-major bytes in `dtype`. */
  bytes: Uint8Array;
}

/** Options of {@link writeTorch}. */
export interface TorchWriteOptions {
  /** Zip root folder (default: the file name without extension, as torch writes it). */
  root?: string;
  /** Pickle protocol: 2 (`torch.save` default) or 4. */
  protocol?: 2 | 4;
  /** Other entries of the saved dict, written before the tensors (`args`, `epoch`). */
  extra?: ReadonlyMap<string, PickleOut>;
  /** Nest the tensors under this key of the saved dict (`model` for a CUT3R `.pth`). */
  nestUnder?: string;
}

/** A value the writer can pickle. */
export type PickleOut =
  | null
  | boolean
  | number
  | string
  | PickleOut[]
  | { tuple: PickleOut[] }
  | Map<string, PickleOut>
  | { object: string; state: PickleOut }
  | { reduce: string; args: PickleOut[] }
  | { tensor: string; offset?: number; shape: readonly number[]; stride?: readonly number[] };

const STORAGE_OF: Record<TorchWriteTensor["dtype"], [string, number]> = {
  F32: ["FloatStorage", 4],
  F16: ["HalfStorage", 2],
  BF16: ["BFloat16Storage", 2],
  I64: ["LongStorage", 8],
  I32: ["IntStorage", 4],
  U8: ["ByteStorage", 1],
  I8: ["CharStorage", 1],
};

/**
 * Writes `tensors` as `torch.save(OrderedDict)` does (zip, protocol 2 `data.pkl`, one storage
 * per tensor, `version` 3). Deterministic. Float32 host tensors are stored as F32, or as the
 * dtype of a {@link TorchWriteTensor}.
 */
export async function writeTorch(
  path: string,
  tensors: ReadonlyMap<string, HostTensor | TorchWriteTensor>,
  options: TorchWriteOptions = {},
): Promise<void> {
  const dict = new Map<string, PickleOut>(options.extra ?? []);
  const sd = new Map<string, PickleOut>();
  const storages = new Map<string, TorchWriteStorage>();
  for (const [name, t] of tensors) {
    const wt: TorchWriteTensor = "bytes" in t
      ? t
      : { shape: t.shape, dtype: "F32", bytes: new Uint8Array(t.data.slice().buffer) };
    const key = String(storages.size);
    storages.set(key, { dtype: wt.dtype, bytes: wt.bytes });
    sd.set(name, { tensor: key, shape: wt.shape });
  }
  if (options.nestUnder) dict.set(options.nestUnder, sd);
  else for (const [k, v] of sd) dict.set(k, v);
  await writeTorchPickle(path, dict, storages, options);
}

/** A storage to write: raw little-endian bytes of `dtype`. */
export interface TorchWriteStorage {
  dtype: TorchWriteTensor["dtype"];
  bytes: Uint8Array;
}

/**
 * Writes any {@link PickleOut} value as a `torch.save` zip whose tensor leaves
 * (`{tensor: key, offset, shape, stride}`) view the given storages: views with offsets and
 * strides, and storages shared between tensors, are possible. Deterministic.
 */
export async function writeTorchPickle(
  path: string,
  value: PickleOut,
  storages: ReadonlyMap<string, TorchWriteStorage>,
  options: { root?: string; protocol?: 2 | 4 } = {},
): Promise<void> {
  const root = options.root ?? path.replace(/^.*\//, "").replace(/\.[^.]*$/, "");
  const pkl = new PickleWriter(options.protocol ?? 2).dump(value, storages);
  await writeZip(path, [
    { name: `${root}/data.pkl`, bytes: pkl },
    ...[...storages].map(([key, s]) => ({ name: `${root}/data/${key}`, bytes: s.bytes })),
    { name: `${root}/version`, bytes: new TextEncoder().encode("3\n") },
  ]);
}

/** A small pickler for the values of {@link PickleOut} (protocols 2 and 4). */
export class PickleWriter {
  #out: number[] = [];
  #memo = new Map<string, number>();
  constructor(readonly protocol: 2 | 4) {}

  /** Pickles `value`; `{tensor: key}` leaves view `storages.get(key)`. */
  dump(value: PickleOut, storages: ReadonlyMap<string, TorchWriteStorage> = new Map()): Uint8Array {
    this.#out = [0x80, this.protocol];
    this.#memo.clear();
    this.#value(value, storages);
    this.#out.push(0x2e);
    return Uint8Array.from(this.#out);
  }

  #bytes(b: ArrayLike<number>) {
    for (let i = 0; i < b.length; i++) this.#out.push(b[i]);
  }
  #u32(n: number) {
    this.#bytes([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
  }
  #str(s: string) {
    const b = new TextEncoder().encode(s);
    if (this.protocol >= 4 && b.length < 256) this.#bytes([0x8c, b.length]);
    else {
      this.#out.push(0x58);
      this.#u32(b.length);
    }
    this.#bytes(b);
  }
  #global(module: string, name: string) {
    const k = `${module}\n${name}`;
    const m = this.#memo.get(k);
    if (m !== undefined) {
      this.#out.push(0x6a);
      this.#u32(m);
      return;
    }
    if (this.protocol >= 4) {
      this.#str(module);
      this.#str(name);
      this.#out.push(0x93);
    } else this.#bytes(new TextEncoder().encode(`c${module}\n${name}\n`));
    const id = this.#memo.size;
    this.#memo.set(k, id);
    this.#out.push(0x72);
    this.#u32(id);
  }
  #int(n: number) {
    if (n >= 0 && n < 256) this.#bytes([0x4b, n]);
    else if (n >= 0 && n < 65536) this.#bytes([0x4d, n & 0xff, n >> 8]);
    else if (n >= -(2 ** 31) && n < 2 ** 31) {
      this.#out.push(0x4a);
      this.#u32(n >>> 0);
    } else {
      let v = BigInt(n);
      const b: number[] = [];
      while (v !== 0n && v !== -1n) {
        b.push(Number(v & 0xffn));
        v >>= 8n;
      }
      if ((b[b.length - 1] & 0x80) !== (n < 0 ? 0x80 : 0)) b.push(n < 0 ? 0xff : 0);
      this.#bytes([0x8a, b.length, ...b]);
    }
  }
  #tuple(items: (() => void)[]) {
    if (items.length === 0) return this.#out.push(0x29);
    if (items.length > 3) this.#out.push(0x28);
    items.forEach((f) => f());
    this.#out.push(items.length <= 3 ? [0, 0x85, 0x86, 0x87][items.length] : 0x74);
  }
  #value(v: PickleOut, tensors: ReadonlyMap<string, TorchWriteStorage>): void {
    if (v === null) this.#out.push(0x4e);
    else if (v === true) this.#out.push(0x88);
    else if (v === false) this.#out.push(0x89);
    else if (typeof v === "number") {
      if (Number.isInteger(v)) this.#int(v);
      else {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, v, false);
        this.#out.push(0x47);
        this.#bytes(b);
      }
    } else if (typeof v === "string") this.#str(v);
    else if (Array.isArray(v)) {
      this.#out.push(0x5d);
      if (v.length) {
        this.#out.push(0x28);
        v.forEach((x) => this.#value(x, tensors));
        this.#out.push(0x65);
      }
    } else if (v instanceof Map) {
      this.#global("collections", "OrderedDict");
      this.#out.push(0x29, 0x52);
      if (v.size) {
        this.#out.push(0x28);
        for (const [k, x] of v) {
          this.#str(k);
          this.#value(x, tensors);
        }
        this.#out.push(0x75);
      }
    } else if ("tuple" in v) this.#tuple(v.tuple.map((x) => () => this.#value(x, tensors)));
    else if ("object" in v) {
      const dot = v.object.lastIndexOf(".");
      this.#global(v.object.slice(0, dot), v.object.slice(dot + 1));
      this.#out.push(0x29, 0x81);
      this.#value(v.state, tensors);
      this.#out.push(0x62);
    } else if ("reduce" in v) {
      const dot = v.reduce.lastIndexOf(".");
      this.#global(v.reduce.slice(0, dot), v.reduce.slice(dot + 1));
      this.#tuple(v.args.map((x) => () => this.#value(x, tensors)));
      this.#out.push(0x52);
    } else {
      const s = tensors.get(v.tensor);
      if (!s) throw new Error(`no storage ${v.tensor} to write`);
      const [storage, es] = STORAGE_OF[s.dtype];
      const n = s.bytes.length / es;
      const stride = v.stride ??
        v.shape.map((_, i) => v.shape.slice(i + 1).reduce((a, b) => a * b, 1));
      this.#global("torch._utils", "_rebuild_tensor_v2");
      this.#tuple([
        () => {
          this.#tuple([
            () => this.#str("storage"),
            () => this.#global("torch", storage),
            () => this.#str(v.tensor),
            () => this.#str("cpu"),
            () => this.#int(n),
          ]);
          this.#out.push(0x51); // BINPERSID
        },
        () => this.#int(v.offset ?? 0),
        () => this.#tuple(v.shape.map((d) => () => this.#int(d))),
        () => this.#tuple(stride.map((d) => () => this.#int(d))),
        () => this.#out.push(0x89),
        () => {
          this.#global("collections", "OrderedDict");
          this.#out.push(0x29, 0x52);
        },
      ]);
      this.#out.push(0x52);
    }
  }
}

/**
 * A CUT3R checkpoint's model constructor string, `ckpt["args"].model`, read as data: `args` is
 * an OmegaConf `DictConfig` (the string in `_content["model"]`, an `AnyNode` whose `_val` it
 * is), an argparse `Namespace` (its `__dict__`) or a plain dict.
 */
export function checkpointArg(root: PyValue, name: string): PyValue | undefined {
  if (!(root instanceof Map)) return undefined;
  return attr(root.get("args"), name);
}

/** Attribute `name` of a record (OmegaConf nodes unwrapped), dict item, or undefined. */
export function attr(obj: PyValue | undefined, name: string): PyValue | undefined {
  if (obj === undefined || obj === null) return undefined;
  if (obj instanceof Map) return unwrap(obj.get(name));
  if (obj instanceof PyObject) {
    const state = stateDict(obj.state);
    if (!state) return undefined;
    const content = state.get("_content");
    if (content instanceof Map) return unwrap(content.get(name));
    return unwrap(state.get(name));
  }
  return undefined;
}

// __setstate__ of many classes receives (None, dict) or a dict.
function stateDict(state: PyValue | undefined): Map<PyValue, PyValue> | undefined {
  if (state instanceof Map) return state;
  if (Array.isArray(state)) return state.find((x) => x instanceof Map) as Map<PyValue, PyValue>;
  return undefined;
}

function unwrap(v: PyValue | undefined): PyValue | undefined {
  if (v instanceof PyObject && /^omegaconf\.nodes\./.test(v.className)) {
    return stateDict(v.state)?.get("_val");
  }
  return v;
}
