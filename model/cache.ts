/**
 * The per-video cache of `vlm3r ask` and `vlm3r serve`: what a video costs before its question
 * (model-reference.md §8, "cacheable work"), kept so that a follow-up question on the same video
 * prefills only its own tokens.
 *
 * Two kinds of entries, each under a key that hashes everything it depends on (the video's
 * content, the frames sampled, the model, the precision, the prompt prefix):
 * - `visual`: the visual sequence after pooling and newlines, `[rows, hidden]` f32;
 * - `prefix`: the language model's keys and values of the question-independent prompt prefix
 *   (system prompt, user header, the visual rows, the pre-prompt), as stored on the GPU.
 *
 * Entries live in memory (least recently used evicted past `memoryBytes`) and, unless the
 * cache is memory-only, on disk under `dir`: one safetensors file per entry, written
 * atomically, whose metadata repeat the key and carry the SHA-256 of the tensor bytes. A file
 * that is truncated, foreign, or whose key or checksum does not match is reported, deleted and
 * rebuilt, never trusted. Past `diskBytes` the least recently used files are deleted.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import type { DType } from "../kernels/device.ts";
import type { KvSnapshot } from "./qwen2.ts";

/** The visual sequence of a video. */
export interface VisualEntry {
  /** `[rows, width]` f32: pooled rows with their newlines, frame after frame. */
  sequence: Float32Array;
  rows: number;
  width: number;
}

/** The keys and values of a prompt prefix, and the text ids after the visual rows it covers. */
export interface PrefixEntry {
  snapshot: KvSnapshot;
  /** Ids of the question-independent text after the visual rows, included in `snapshot`. */
  tail: number[];
}

/** Options of {@link VideoCache}. */
export interface VideoCacheOptions {
  /** Folder of the disk cache; `null` keeps entries in memory only. */
  dir: string | null;
  /** Disk cap in bytes (default 20 GiB). */
  diskBytes?: number;
  /** Memory cap in bytes (default 2 GiB). */
  memoryBytes?: number;
  /** Told about entries found unusable on disk (they are deleted and rebuilt). */
  onProblem?: (line: string) => void;
}

/** Counts of what the cache did, for reports and tests. */
export interface CacheStats {
  memoryHits: number;
  diskHits: number;
  misses: number;
  /** Disk entries found truncated, foreign or mismatched, and deleted. */
  rejected: number;
  /** Disk entries deleted to stay under the cap. */
  evicted: number;
}

const FORMAT = "vlm3r-cache";
const VERSION = "1";
const SUFFIX = ".vlm3rcache.safetensors";

/**
 * The platform's cache folder for vlm3r: `$XDG_CACHE_HOME/vlm3r` or `~/.cache/vlm3r` on Linux,
 * `~/Library/Caches/vlm3r` on macOS, `%LOCALAPPDATA%\vlm3r\cache` on Windows.
 *
 * @example
 * ```ts
 * if (!defaultCacheDir().includes("vlm3r")) throw new Error();
 * ```
 */
export function defaultCacheDir(): string {
  const env = (k: string) => {
    try {
      return Deno.env.get(k);
    } catch {
      return undefined;
    }
  };
  if (Deno.build.os === "windows") {
    return join(
      env("LOCALAPPDATA") ?? join(env("USERPROFILE") ?? ".", "AppData", "Local"),
      "vlm3r",
      "cache",
    );
  }
  const home = env("HOME") ?? ".";
  if (Deno.build.os === "darwin") return join(home, "Library", "Caches", "vlm3r");
  return join(env("XDG_CACHE_HOME") ?? join(home, ".cache"), "vlm3r");
}

/**
 * A cache key: the SHA-256 of its parts, in order.
 *
 * @example
 * ```ts
 * if (cacheKey(["a", 1]) === cacheKey(["a", 2]) || cacheKey(["a", 1]).length !== 64) throw new Error();
 * ```
 */
export function cacheKey(parts: readonly (string | number | boolean)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(`${typeof p}:${String(p)}\n`);
  return h.digest("hex");
}

type Kind = "visual" | "prefix";

interface Stored {
  kind: Kind;
  bytes: number;
  value: VisualEntry | PrefixEntry;
}

/** The per-video cache (see the module documentation). */
export class VideoCache {
  readonly stats: CacheStats = { memoryHits: 0, diskHits: 0, misses: 0, rejected: 0, evicted: 0 };
  readonly #memory = new Map<string, Stored>();
  #memoryUsed = 0;
  readonly #dir: string | null;
  readonly #diskBytes: number;
  readonly #memoryBytes: number;
  readonly #onProblem: (line: string) => void;

  constructor(options: VideoCacheOptions) {
    this.#dir = options.dir;
    this.#diskBytes = options.diskBytes ?? 20 * 2 ** 30;
    this.#memoryBytes = options.memoryBytes ?? 2 * 2 ** 30;
    this.#onProblem = options.onProblem ?? (() => {});
  }

  /** The disk folder, or `null` for a memory-only cache. */
  get dir(): string | null {
    return this.#dir;
  }

  /** The visual sequence stored under `key`, if any. */
  async visual(key: string): Promise<VisualEntry | undefined> {
    return (await this.#get(key, "visual")) as VisualEntry | undefined;
  }

  /** The prompt prefix stored under `key`, if any. */
  async prefix(key: string): Promise<PrefixEntry | undefined> {
    return (await this.#get(key, "prefix")) as PrefixEntry | undefined;
  }

  /** Stores a visual sequence. */
  async putVisual(key: string, entry: VisualEntry): Promise<void> {
    await this.#put(key, "visual", entry, entry.sequence.byteLength);
  }

  /** Stores a prompt prefix. */
  async putPrefix(key: string, entry: PrefixEntry): Promise<void> {
    const bytes = [...entry.snapshot.k, ...entry.snapshot.v].reduce((s, b) => s + b.byteLength, 0);
    await this.#put(key, "prefix", entry, bytes);
  }

  /** Forgets the entries held in memory (the disk cache stays). */
  clearMemory(): void {
    this.#memory.clear();
    this.#memoryUsed = 0;
  }

  async #get(key: string, kind: Kind): Promise<VisualEntry | PrefixEntry | undefined> {
    const id = `${kind}:${key}`;
    const held = this.#memory.get(id);
    if (held) {
      this.#memory.delete(id);
      this.#memory.set(id, held); // most recently used last
      this.stats.memoryHits++;
      return held.value;
    }
    if (this.#dir) {
      const path = this.#path(key, kind);
      let bytes: Uint8Array | undefined;
      try {
        bytes = await Deno.readFile(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      if (bytes) {
        const value = this.#decode(bytes, key, kind, path);
        if (value) {
          this.stats.diskHits++;
          const now = new Date();
          await Deno.utime(path, now, now).catch(() => {});
          this.#remember(id, { kind, value, bytes: bytes.byteLength });
          return value;
        }
        this.stats.rejected++;
        await Deno.remove(path).catch(() => {});
      }
    }
    this.stats.misses++;
    return undefined;
  }

  async #put(key: string, kind: Kind, value: VisualEntry | PrefixEntry, bytes: number) {
    this.#remember(`${kind}:${key}`, { kind, value, bytes });
    if (!this.#dir) return;
    await Deno.mkdir(this.#dir, { recursive: true });
    await writeFileAtomic(this.#path(key, kind), encode(key, kind, value));
    await this.#trimDisk();
  }

  #remember(id: string, stored: Stored): void {
    const old = this.#memory.get(id);
    if (old) {
      this.#memory.delete(id);
      this.#memoryUsed -= old.bytes;
    }
    if (stored.bytes > this.#memoryBytes) return;
    this.#memory.set(id, stored);
    this.#memoryUsed += stored.bytes;
    for (const [k, s] of this.#memory) {
      if (this.#memoryUsed <= this.#memoryBytes) break;
      this.#memory.delete(k);
      this.#memoryUsed -= s.bytes;
    }
  }

  #path(key: string, kind: Kind): string {
    return join(this.#dir!, `${key}.${kind}${SUFFIX}`);
  }

  async #trimDisk(): Promise<void> {
    const files: { path: string; size: number; used: number }[] = [];
    for await (const e of Deno.readDir(this.#dir!)) {
      if (!e.isFile || !e.name.endsWith(SUFFIX)) continue;
      const path = join(this.#dir!, e.name);
      const st = await Deno.stat(path).catch(() => undefined);
      if (st) files.push({ path, size: st.size, used: st.mtime?.getTime() ?? 0 });
    }
    let total = files.reduce((s, f) => s + f.size, 0);
    files.sort((a, b) => a.used - b.used || (a.path < b.path ? -1 : 1));
    for (const f of files) {
      if (total <= this.#diskBytes) break;
      await Deno.remove(f.path).catch(() => {});
      total -= f.size;
      this.stats.evicted++;
    }
  }

  #decode(bytes: Uint8Array, key: string, kind: Kind, path: string) {
    try {
      return decode(bytes, key, kind);
    } catch (e) {
      this.#onProblem(`${path}: ${(e as Error).message}; rebuilding it`);
      return undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The file format: safetensors with the key, the kind, a JSON of the other fields and the
// SHA-256 of the tensor bytes in its metadata.

interface TensorOut {
  name: string;
  dtype: "F32" | "F16";
  shape: number[];
  bytes: Uint8Array;
}

function kvDtype(d: DType): "F32" | "F16" {
  return d === "f16" ? "F16" : "F32";
}

function encode(key: string, kind: Kind, value: VisualEntry | PrefixEntry): Uint8Array {
  const tensors: TensorOut[] = [];
  let fields: Record<string, unknown>;
  if (kind === "visual") {
    const v = value as VisualEntry;
    tensors.push({
      name: "sequence",
      dtype: "F32",
      shape: [v.rows, v.width],
      bytes: new Uint8Array(v.sequence.buffer, v.sequence.byteOffset, v.sequence.byteLength),
    });
    fields = { rows: v.rows, width: v.width };
  } else {
    const p = value as PrefixEntry, s = p.snapshot;
    const width = s.length ? s.k[0].byteLength / s.length / (s.dtype === "f16" ? 2 : 4) : 0;
    s.k.forEach((b, i) => {
      tensors.push({ name: `k.${i}`, dtype: kvDtype(s.dtype), shape: [s.length, width], bytes: b });
      tensors.push({
        name: `v.${i}`,
        dtype: kvDtype(s.dtype),
        shape: [s.length, width],
        bytes: s.v[i],
      });
    });
    fields = { length: s.length, dtype: s.dtype, layers: s.k.length, tail: p.tail };
  }
  const hash = createHash("sha256");
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const t of tensors) {
    header[t.name] = {
      dtype: t.dtype,
      shape: t.shape,
      data_offsets: [offset, offset + t.bytes.byteLength],
    };
    offset += t.bytes.byteLength;
    hash.update(t.bytes);
  }
  header.__metadata__ = {
    format: FORMAT,
    version: VERSION,
    kind,
    key,
    fields: JSON.stringify(fields),
    sha256: hash.digest("hex"),
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    out.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return out;
}

function decode(bytes: Uint8Array, key: string, kind: Kind): VisualEntry | PrefixEntry {
  if (bytes.length < 8) throw new Error(`truncated (${bytes.length} bytes)`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error("truncated header");
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  let meta: Record<string, string>;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    meta = parsed.__metadata__ ?? {};
    delete parsed.__metadata__;
    header = parsed;
  } catch {
    throw new Error("not a vlm3r cache file (header is not JSON)");
  }
  if (meta.format !== FORMAT || meta.version !== VERSION) {
    throw new Error(`not a vlm3r cache file of version ${VERSION}`);
  }
  if (meta.kind !== kind || meta.key !== key) throw new Error("its key does not match its name");
  const data = bytes.subarray(8 + n);
  const hash = createHash("sha256");
  const tensors = new Map<string, Uint8Array>();
  const ordered = Object.entries(header).sort((a, b) =>
    a[1].data_offsets[0] - b[1].data_offsets[0]
  );
  for (const [name, t] of ordered) {
    const [from, to] = t.data_offsets;
    if (!(from >= 0 && to >= from && to <= data.length)) throw new Error(`truncated at ${name}`);
    const slice = data.slice(from, to); // aligned copy
    hash.update(slice);
    tensors.set(name, slice);
  }
  if (hash.digest("hex") !== meta.sha256) throw new Error("checksum mismatch");
  const fields = JSON.parse(meta.fields);
  if (kind === "visual") {
    const seq = tensors.get("sequence");
    if (!seq || seq.byteLength !== fields.rows * fields.width * 4) throw new Error("bad sequence");
    return {
      sequence: new Float32Array(seq.buffer, 0, fields.rows * fields.width),
      rows: fields.rows,
      width: fields.width,
    };
  }
  const k: Uint8Array[] = [], v: Uint8Array[] = [];
  for (let i = 0; i < fields.layers; i++) {
    const ki = tensors.get(`k.${i}`), vi = tensors.get(`v.${i}`);
    if (!ki || !vi) throw new Error(`layer ${i} missing`);
    k.push(ki);
    v.push(vi);
  }
  return { snapshot: { length: fields.length, dtype: fields.dtype, k, v }, tail: fields.tail };
}
