/**
 * Atomic file output: every file vlm3r writes goes to a temporary name in the same folder and
 * is renamed into place, so a crash never leaves a half-written file behind.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";

let counter = 0;

/**
 * A fresh temporary path next to `path` (same folder, so the rename is atomic), named
 * `.<name>.tmp-<pid>-<n>`: the owner process is in the name, so a later run can tell what an
 * interrupted one left behind ({@link removeTemps}).
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${Deno.pid}-${counter++}`);
}

/**
 * Writes `data` to `path` atomically (temp file + rename).
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "hello\n");
 * if (await Deno.readTextFile(`${dir}/a.txt`) !== "hello\n") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Bytes gathered before a {@link TextSink} writes them out. */
const SINK_CHUNK = 1 << 20;

/**
 * Text written to an open file in large chunks: what a streamed output (JSON lines, a journal)
 * writes through, so that its size is bounded by the disk, never by a string or the heap.
 *
 * @example
 * ```ts
 * const path = await Deno.makeTempFile();
 * const sink = new TextSink(await Deno.open(path, { write: true, truncate: true }));
 * await sink.write("a\n");
 * await sink.write("b\n");
 * await sink.close();
 * if (sink.bytes !== 4 || await Deno.readTextFile(path) !== "a\nb\n") throw new Error();
 * await Deno.remove(path);
 * ```
 */
export class TextSink {
  #file: Deno.FsFile;
  #parts: string[] = [];
  #pending = 0;
  #bytes = 0;
  #enc = new TextEncoder();

  /** Writes to `file` (opened for writing; closed by {@link TextSink.close}). */
  constructor(file: Deno.FsFile, bytesBefore = 0) {
    this.#file = file;
    this.#bytes = bytesBefore;
  }

  /** Bytes written so far, buffered ones included (plus `bytesBefore`). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends `text`; writes out once about a megabyte has gathered. */
  async write(text: string): Promise<void> {
    if (text === "") return;
    this.#parts.push(text);
    // UTF-16 length is a lower bound of the UTF-8 size: count exactly only on the way out.
    this.#pending += text.length;
    if (this.#pending >= SINK_CHUNK) await this.flush();
  }

  /** Writes out what is buffered. */
  async flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const bytes = this.#enc.encode(this.#parts.join(""));
    this.#parts = [];
    this.#pending = 0;
    this.#bytes += bytes.length;
    for (let at = 0; at < bytes.length;) at += await this.#file.write(bytes.subarray(at));
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.#file.close();
    }
  }

  /** Closes the file without writing what is buffered. */
  discard(): void {
    this.#parts = [];
    try {
      this.#file.close();
    } catch {
      // Already closed.
    }
  }
}

/**
 * A file streamed to a temporary name next to `path` ({@link tempPathFor}) and renamed into
 * place by {@link AtomicFile.commit}: readers see the old file or the whole new one, and a
 * failed or aborted write leaves nothing behind.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const f = await AtomicFile.open(`${dir}/q.jsonl`);
 * await f.write('{"a":1}\n');
 * await f.commit();
 * if (await Deno.readTextFile(`${dir}/q.jsonl`) !== '{"a":1}\n') throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class AtomicFile {
  /** The temporary path being written. */
  readonly temp: string;
  #sink: TextSink;
  #done = false;

  private constructor(readonly path: string, temp: string, file: Deno.FsFile) {
    this.temp = temp;
    this.#sink = new TextSink(file);
  }

  /** Opens a temporary file for `path`. */
  static async open(path: string): Promise<AtomicFile> {
    const temp = tempPathFor(path);
    const file = await Deno.open(temp, { write: true, create: true, truncate: true });
    return new AtomicFile(path, temp, file);
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#sink.bytes;
  }

  /** Appends `text`. */
  async write(text: string): Promise<void> {
    try {
      await this.#sink.write(text);
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Writes out the rest and renames the file into place. */
  async commit(): Promise<void> {
    if (this.#done) throw new Error(`${this.path}: already committed or aborted`);
    this.#done = true;
    try {
      await this.#sink.close();
      await Deno.rename(this.temp, this.path);
    } catch (e) {
      await Deno.remove(this.temp).catch(() => {});
      throw e;
    }
  }

  /** Drops the temporary file (safe to call more than once). */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#sink.discard();
    await Deno.remove(this.temp).catch(() => {});
  }
}

/**
 * Writes `value` as JSON (two-space indent, trailing newline) atomically.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await writeJsonAtomic(`${dir}/a.json`, { a: 1 });
 * if (JSON.parse(await Deno.readTextFile(`${dir}/a.json`)).a !== 1) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeJsonAtomic(path: string, value: unknown, indent = 2): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, indent) + "\n");
}

/**
 * Moves a finished folder `from` to `to`, replacing what was there: readers see the old
 * folder or the new one, never a mix. (`to` briefly does not exist between the two renames.)
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/new`);
 * await Deno.writeTextFile(`${dir}/new/x`, "1");
 * await replaceDir(`${dir}/new`, `${dir}/final`);
 * if (await Deno.readTextFile(`${dir}/final/x`) !== "1") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function replaceDir(from: string, to: string): Promise<void> {
  const old = tempPathFor(to);
  let moved = false;
  try {
    await Deno.rename(to, old);
    moved = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.rename(from, to);
  if (moved) await Deno.remove(old, { recursive: true });
}

/** `tempPathFor`'s names: `.<target>.tmp-<pid>-<counter>`. */
const TEMP_NAME = /^\.(.+)\.tmp-(\d+)-(\d+)$/;

/**
 * The target name and owner process of a name made by {@link tempPathFor}, or undefined for any
 * other name.
 *
 * @example
 * ```ts
 * const t = parseTempName(".scene0000_00.tmp-4242-7");
 * if (t?.target !== "scene0000_00" || t.pid !== 4242) throw new Error();
 * if (parseTempName("scene0000_00.tmp-4242-7") || parseTempName(".a.tmp-x-1")) throw new Error();
 * ```
 */
export function parseTempName(name: string): { target: string; pid: number } | undefined {
  const m = name.match(TEMP_NAME);
  return m ? { target: m[1], pid: Number(m[2]) } : undefined;
}

/**
 * Whether process `pid` is running on this machine. When that cannot be told (no `/proc`, no
 * `ps`), the answer is true: a temporary folder is only ever removed when its owner is known
 * to be gone.
 *
 * @example
 * ```ts
 * if (!processAlive(Deno.pid)) throw new Error();
 * ```
 */
export function processAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  if (Deno.build.os === "linux") {
    try {
      Deno.statSync(`/proc/${pid}`);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
    }
  }
  if (Deno.build.os === "windows") return true;
  try {
    // `ps -p` exits 1 when no such process exists.
    const r = new Deno.Command("ps", { args: ["-p", String(pid)], stdout: "null", stderr: "null" })
      .outputSync();
    return r.success || r.code !== 1;
  } catch {
    return true;
  }
}

/** Options of {@link removeTemps}. */
export interface RemoveTempsOptions {
  /** Only temporary names of these targets (default: any target). */
  targets?: Iterable<string>;
  /**
   * Whose: `"gone"` (default), those of processes no longer running, which an interrupted run
   * left behind; `"self"`, this process's own (a run cleaning up as it is interrupted).
   */
  owner?: "gone" | "self";
}

/**
 * Removes the temporary files and folders {@link tempPathFor} made in `dir` whose owner
 * process is gone (or, with `owner: "self"`, this process's), and returns their paths. Only
 * names of the exact pattern `.<target>.tmp-<pid>-<n>` are touched; a missing `dir` is
 * nothing to do. Synchronous, so an interrupt handler can call it before the process exits.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const dead = new Deno.Command("true").spawn();
 * await dead.status;
 * await Deno.mkdir(`${dir}/.scene0000_00.tmp-${dead.pid}-0`);
 * await Deno.mkdir(`${dir}/.scene0000_00.tmp-${Deno.pid}-0`);
 * const removed = removeTemps(dir, { targets: ["scene0000_00"] });
 * if (removed.length !== 1 || !removed[0].endsWith(`tmp-${dead.pid}-0`)) throw new Error();
 * if (removeTemps(dir, { owner: "self" }).length !== 1) throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export function removeTemps(dir: string, options: RemoveTempsOptions = {}): string[] {
  const targets = options.targets ? new Set(options.targets) : undefined;
  const self = options.owner === "self";
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
    throw e;
  }
  for (const e of entries) {
    const t = parseTempName(e.name);
    if (!t || (targets && !targets.has(t.target))) continue;
    if (self ? t.pid !== Deno.pid : processAlive(t.pid)) continue;
    const path = join(dir, e.name);
    try {
      Deno.removeSync(path, { recursive: true });
      removed.push(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return removed.sort();
}

/** The exit status of a command stopped by each signal handled (128 + the signal number). */
const SIGNAL_EXIT: Partial<Record<Deno.Signal, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs `body` so that an interrupt (SIGINT, Ctrl-C; and SIGTERM where the system has it) first
 * runs `cleanup` (synchronously: remove this process's temporary output) and then exits with
 * 128 + the signal number (130 for SIGINT). The handlers are removed when `body` settles, so
 * the command's own exit status is untouched.
 *
 * @example
 * ```ts
 * const n = await cleanupOnInterrupt(() => {}, () => Promise.resolve(7));
 * if (n !== 7) throw new Error();
 * ```
 */
export async function cleanupOnInterrupt<T>(
  cleanup: () => void,
  body: () => Promise<T>,
): Promise<T> {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = () => {
      try {
        cleanup();
      } finally {
        Deno.exit(SIGNAL_EXIT[signal] ?? 1);
      }
    };
    Deno.addSignalListener(signal, handler);
    return { signal, handler };
  });
  try {
    return await body();
  } finally {
    for (const { signal, handler } of handlers) Deno.removeSignalListener(signal, handler);
  }
}

/**
 * Why `path` cannot be an output folder (it, or the first existing folder above it, is a
 * file), or undefined when it can be created or used. For a usage error before any work starts.
 *
 * @example
 * ```ts
 * const file = await Deno.makeTempFile();
 * if (!outputFolderProblem(`${file}/sub`)?.includes("is a file")) throw new Error();
 * if (outputFolderProblem(`/tmp/vlm3r-nonexistent/a/b`) !== undefined) throw new Error();
 * await Deno.remove(file);
 * ```
 */
export function outputFolderProblem(path: string): string | undefined {
  let p = resolve(path);
  for (;;) {
    try {
      if (Deno.statSync(p).isDirectory) return undefined;
      return p === resolve(path) ? `${path} is a file, not a folder` : `${path}: ${p} is a file`;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
    }
    const up = dirname(p);
    if (up === p) return undefined;
    p = up;
  }
}
