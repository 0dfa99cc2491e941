/**
 * Splitting a run over machines (`--shard K/N`, Slurm job arrays) and joining the parts: which
 * scenes a shard takes, what its file is called, the header that says which run it belongs to,
 * and reading N shard files back as one run in scene order (`vlm3r merge`).
 *
 * Shard K of N (K counts from 1) takes the scenes whose 0-based position in the run's scene
 * order is K-1 modulo N: every shard gets a spread of datasets and sizes, and merging is a
 * round robin over the files. A shard file is JSON lines: a header naming the shard and the
 * run's settings, then one line per scene with its position `i`.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { readLines } from "./lines.ts";

/** Shard K of N (1 <= K <= N). */
export interface Shard {
  k: number;
  n: number;
}

/**
 * Parses `K/N`. Returns the shard, or the reason it is not one.
 *
 * @example
 * ```ts
 * const s = parseShard("2/3");
 * if (!("shard" in s) || s.shard.k !== 2 || s.shard.n !== 3) throw new Error();
 * if (!("error" in parseShard("0/3")) || !("error" in parseShard("3"))) throw new Error();
 * ```
 */
export function parseShard(text: string): { shard: Shard } | { error: string } {
  const m = text.trim().match(/^(\d+)\s*\/\s*(\d+)$/);
  if (!m) return { error: `expected K/N (shard K of N, K from 1), got '${text}'` };
  const k = Number(m[1]), n = Number(m[2]);
  if (n < 1 || n > 1_000_000) return { error: `N must be in 1..1000000, got ${n}` };
  if (k < 1 || k > n) return { error: `K must be in 1..${n} (shards count from 1), got ${k}` };
  return { shard: { k, n } };
}

/**
 * The shard a Slurm job-array task is: K = `SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN + 1`
 * (so `--array=0-9` and `--array=1-10` both give shards 1..10) of N =
 * `SLURM_ARRAY_TASK_COUNT`. Undefined outside an array job; an error for an array whose ids are
 * not consecutive (`--array=0-9:2`, `--array=1,5,7`), where K cannot be told.
 *
 * @example
 * ```ts
 * const env: Record<string, string> = { SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_MIN: "0",
 *   SLURM_ARRAY_TASK_MAX: "9", SLURM_ARRAY_TASK_COUNT: "10" };
 * const s = shardFromSlurm((name) => env[name]);
 * if (!s || !("shard" in s) || s.shard.k !== 5 || s.shard.n !== 10) throw new Error();
 * if (shardFromSlurm(() => undefined) !== undefined) throw new Error();
 * ```
 */
export function shardFromSlurm(
  env: (name: string) => string | undefined,
): { shard: Shard } | { error: string } | undefined {
  const id = env("SLURM_ARRAY_TASK_ID"), count = env("SLURM_ARRAY_TASK_COUNT");
  if (id === undefined || count === undefined) return undefined;
  const min = env("SLURM_ARRAY_TASK_MIN") ?? "0", max = env("SLURM_ARRAY_TASK_MAX");
  const nums = [id, count, min, max ?? "0"].map(Number);
  if (nums.some((v) => !Number.isSafeInteger(v))) {
    return { error: `SLURM_ARRAY_TASK_ID=${id}, SLURM_ARRAY_TASK_COUNT=${count}: not integers` };
  }
  const [i, n, lo, hi] = nums;
  if (max !== undefined && hi - lo + 1 !== n) {
    return {
      error: `the Slurm array ${lo}-${hi} has ${n} tasks, not ${hi - lo + 1}: its ids are not ` +
        "consecutive, so the shard cannot be told; pass --shard K/N",
    };
  }
  return parseShard(`${i - lo + 1}/${n}`);
}

/**
 * Whether the scene at 0-based position `index` of the run belongs to `shard`.
 *
 * @example
 * ```ts
 * const picked = [0, 1, 2, 3, 4].filter((i) => inShard(i, { k: 2, n: 2 }));
 * if (picked.join() !== "1,3") throw new Error();
 * ```
 */
export function inShard(index: number, shard: Shard): boolean {
  return index % shard.n === shard.k - 1;
}

/** How many of `total` scenes `shard` takes. */
export function shardSize(total: number, shard: Shard): number {
  return total <= shard.k - 1 ? 0 : Math.floor((total - shard.k) / shard.n) + 1;
}

/**
 * The file a shard writes for the output `path`: `.shard-K-of-N` before the extension, K padded
 * to N's width so that a shell glob lists the shards in order.
 *
 * @example
 * ```ts
 * if (shardPath("out/q.jsonl", { k: 2, n: 12 }) !== "out/q.shard-02-of-12.jsonl") throw new Error();
 * if (shardPath("processed", { k: 1, n: 3 }) !== "processed.shard-1-of-3") throw new Error();
 * ```
 */
export function shardPath(path: string, shard: Shard): string {
  const name = basename(path);
  const dot = name.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  const k = String(shard.k).padStart(String(shard.n).length, "0");
  const file = `${stem}.shard-${k}-of-${shard.n}${ext}`;
  return dirname(path) === "." && !path.startsWith("./") ? file : join(dirname(path), file);
}

/** The first line of a shard file. */
export interface ShardHeader {
  /** What the shard holds: `gen-shard` (question drafts) or `meta-shard` (scene metadata). */
  vlm3r: string;
  /** Format version of the file. */
  version: number;
  /** `[K, N]`. */
  shard: [number, number];
  /** Scenes in the whole run (all shards). */
  scenes: number;
  /** The settings every shard of the run shares (compared by resume and merge). */
  run: Record<string, unknown>;
  /** The command that wrote it (information only). */
  command?: string;
}

/** The format version of shard files this code writes and reads. */
export const SHARD_VERSION = 1;

/**
 * Reads the header line of a shard file, or explains why it is not one.
 *
 * @example
 * ```ts ignore
 * const h = await readShardHeader("q.shard-1-of-3.jsonl", "gen-shard");
 * ```
 */
export async function readShardHeader(
  path: string,
  kind: string,
): Promise<ShardHeader> {
  for await (const line of readLines(path)) {
    return parseShardHeader(line.text, path, kind);
  }
  throw new Error(`${path}: empty; expected a vlm3r ${kind} file`);
}

/**
 * Parses a header line (see {@link readShardHeader}).
 *
 * @example
 * ```ts
 * const h = parseShardHeader('{"vlm3r":"gen-shard","version":1,"shard":[1,2],"scenes":5,"run":{}}', "f", "gen-shard");
 * if (h.scenes !== 5) throw new Error();
 * ```
 */
export function parseShardHeader(text: string, path: string, kind: string): ShardHeader {
  let h: ShardHeader;
  try {
    h = JSON.parse(text);
  } catch {
    throw new Error(`${path}:1: expected a vlm3r ${kind} header, got ${text.slice(0, 60)}`);
  }
  if (typeof h !== "object" || h === null || h.vlm3r !== kind) {
    throw new Error(`${path}:1: expected a vlm3r ${kind} file, got ${text.slice(0, 60)}`);
  }
  if (h.version !== SHARD_VERSION) {
    throw new Error(
      `${path}:1: version ${h.version}; this vlm3r reads version ${SHARD_VERSION} shard files`,
    );
  }
  const [k, n] = Array.isArray(h.shard) ? h.shard : [NaN, NaN];
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 1 || k > n) {
    throw new Error(`${path}:1: shard: expected [K, N] with 1 <= K <= N`);
  }
  if (!Number.isInteger(h.scenes) || h.scenes < 0) {
    throw new Error(`${path}:1: scenes: expected a count`);
  }
  return h;
}

/**
 * The first setting in which two runs differ (`seed: "1" vs "0"`), or undefined when they
 * agree.
 *
 * @example
 * ```ts
 * if (runDifference({ seed: "1", tasks: ["a"] }, { seed: "0", tasks: ["a"] }) !== 'seed: "1" vs "0"') throw new Error();
 * if (runDifference({ a: [1] }, { a: [1] }) !== undefined) throw new Error();
 * ```
 */
export function runDifference(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): string | undefined {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = JSON.stringify(a[key]), y = JSON.stringify(b[key]);
    if (x !== y) {
      const clip = (s: string | undefined) =>
        s === undefined ? "none" : s.length > 40 ? s.slice(0, 37) + "..." : s;
      return `${key}: ${clip(x)} vs ${clip(y)}`;
    }
  }
  return undefined;
}

/** One scene line of a shard, as {@link readShards} yields it. */
export interface ShardLine {
  /** The scene's position in the run. */
  index: number;
  /** The parsed line. */
  value: Record<string, unknown>;
  /** The file and where in it. */
  file: string;
  start: number;
  end: number;
}

/**
 * Checks that `files` are shards 1..N of one run, given once each and in order, and returns
 * their headers. Errors name the file and what was expected.
 */
export async function checkShards(files: readonly string[], kind: string): Promise<ShardHeader[]> {
  if (files.length === 0) throw new Error(`no shard files given`);
  const headers: ShardHeader[] = [];
  for (const f of files) headers.push(await readShardHeader(f, kind));
  const n = headers[0].shard[1];
  const seen = new Map<number, string>();
  headers.forEach((h, i) => {
    const [k, hn] = h.shard;
    if (hn !== n) {
      throw new Error(
        `${files[i]}: shard ${k}/${hn}, but ${files[0]} is shard ${headers[0].shard.join("/")}: ` +
          "shards of different splits",
      );
    }
    if (seen.has(k)) throw new Error(`shard ${k}/${n} given twice: ${seen.get(k)} and ${files[i]}`);
    seen.set(k, files[i]);
    const diff = runDifference(h.run, headers[0].run) ??
      (h.scenes !== headers[0].scenes ? `scenes: ${h.scenes} vs ${headers[0].scenes}` : undefined);
    if (diff) {
      throw new Error(`${files[i]}: not of the same run as ${files[0]} (${diff})`);
    }
  });
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !seen.has(k));
  if (missing.length) {
    throw new Error(
      `shard${missing.length === 1 ? "" : "s"} ${
        missing.map((k) => `${k}/${n}`).join(", ")
      } missing (${files.length} of ${n} given)`,
    );
  }
  headers.forEach((h, i) => {
    if (h.shard[0] !== i + 1) {
      throw new Error(
        `shards out of order: ${files[i]} is shard ${h.shard[0]}/${n}, expected ${i + 1}/${n} ` +
          "in that place (give them as 1/N, 2/N, ...)",
      );
    }
  });
  return headers;
}

/**
 * The scene lines of shards 1..N of one run (checked by {@link checkShards}), in the run's
 * scene order: a round robin over the files, one line in memory at a time. A file that ends
 * early, holds a line out of place, or has lines left over is an error naming it.
 *
 * @example
 * ```ts ignore
 * for await (const s of readShards(["q.shard-1-of-2.jsonl", "q.shard-2-of-2.jsonl"], "gen-shard")) {
 *   console.log(s.index, s.value.scene);
 * }
 * ```
 */
export async function* readShards(
  files: readonly string[],
  kind: string,
): AsyncGenerator<ShardLine> {
  const headers = await checkShards(files, kind);
  const n = headers.length, total = headers[0].scenes;
  const readers = files.map((f) => readLines(f)[Symbol.asyncIterator]());
  try {
    // Past each header.
    for (const r of readers) await r.next();
    for (let i = 0; i < total; i++) {
      const s = i % n, file = files[s];
      const next = await readers[s].next();
      if (next.done) {
        throw new Error(
          `${file}: ends before the scene at position ${i} (expected ${
            shardSize(total, { k: s + 1, n })
          } scenes); an incomplete shard: rerun it with --resume`,
        );
      }
      const line = next.value;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(line.text);
      } catch {
        throw new Error(`${file}:${line.number}: expected one JSON scene line`);
      }
      if (value?.i !== i) {
        throw new Error(
          `${file}:${line.number}: i: expected scene position ${i}, got ${
            JSON.stringify(value?.i)
          }`,
        );
      }
      yield { index: i, value, file, start: line.start, end: line.end };
    }
    for (let s = 0; s < n; s++) {
      const extra = await readers[s].next();
      if (!extra.done) {
        throw new Error(`${files[s]}:${extra.value.number}: a line past the shard's last scene`);
      }
    }
  } finally {
    await Promise.all(readers.map((r) => r.return?.(undefined)));
  }
}
