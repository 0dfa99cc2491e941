/**
 * Collecting a model's answers to a question set (`vlm3r bench`): each question asked with its
 * video's uniformly sampled frames and the benchmark prompt, a bounded number in flight, answers
 * appended to a JSON-lines file in question order as they come, and a rerun resuming where a
 * crashed one stopped without asking answered ids again.
 *
 * @module
 */

import { join } from "node:path";
import { extractFrames, uniformFrameIndices, videoFrameCount } from "../io/frames.ts";
import type { EvalQuestion } from "./records.ts";

/** A question that cannot be asked (no video): skipped and counted, the run goes on. */
export class SkipQuestion extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SkipQuestion";
  }
}

/** Options of {@link collectAnswers}. */
export interface CollectOptions {
  /** The predictions file (JSON lines `{id, prediction}`). */
  out: string;
  /** Keep the answers already in `out` and ask only the others; else `out` must not exist. */
  resume?: boolean;
  /** Questions in flight at once (default 4). */
  concurrency?: number;
  /** Asks one question; throws {@link SkipQuestion} to skip it, anything else to stop. */
  ask: (q: EvalQuestion) => Promise<string>;
  /**
   * The order to ask in, as positions in `questions` (default: question order); answers are
   * still written in question order. A model that encodes each video once asks a video's
   * questions together.
   */
  order?: readonly number[];
  onProgress?: (done: number, total: number) => void;
}

/** What {@link collectAnswers} did. */
export interface CollectReport {
  total: number;
  /** Answers found in `out` when resuming. */
  resumed: number;
  /** Answers asked and written by this run. */
  answered: number;
  /** Questions skipped, in question order. */
  skipped: { id: string; reason: string }[];
}

/**
 * The ids answered in a predictions file, dropping a last line cut short by a crash (the file
 * is truncated after its last complete line).
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/p.jsonl`, '{"id":"1","prediction":"A"}\n{"id":"2","predi');
 * const ids = await answeredIds(`${dir}/p.jsonl`);
 * if (ids.size !== 1 || !ids.has("1")) throw new Error();
 * if (await Deno.readTextFile(`${dir}/p.jsonl`) !== '{"id":"1","prediction":"A"}\n') throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function answeredIds(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return new Set();
    throw e;
  }
  const ids = new Set<string>();
  const end = text.lastIndexOf("\n") + 1;
  for (const line of text.slice(0, end).split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line);
      if (r && (typeof r.id === "string" || typeof r.id === "number")) ids.add(String(r.id));
    } catch {
      // A damaged line in the middle is not ours to repair: the question is asked again.
    }
  }
  if (end < text.length) {
    await Deno.truncate(path, new TextEncoder().encode(text.slice(0, end)).length);
  }
  return ids;
}

/**
 * Asks every question not yet answered in `options.out` and appends the answers, in question
 * order, as `{"id": ..., "prediction": ...}` lines. On a failure the answers already received
 * are written (possibly out of order) before the error propagates, named with the question's
 * id, so a rerun with `resume` continues from there. `out` is created with the first answer:
 * a run that stops before any leaves no file behind (an empty one counts as absent).
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const q = (id: string) => ({ id, questionType: "route_planning", question: id, options: [], groundTruth: "A", line: 1 });
 * const ask = async (x: { id: string }) => { await new Promise((r) => setTimeout(r, 5 - Number(x.id))); return `A${x.id}`; };
 * await collectAnswers([q("1"), q("2"), q("3")], { out: `${dir}/p.jsonl`, ask, concurrency: 3 });
 * const lines = (await Deno.readTextFile(`${dir}/p.jsonl`)).trim().split("\n");
 * if (lines[0] !== '{"id":"1","prediction":"A1"}' || lines.length !== 3) throw new Error(lines.join());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function collectAnswers(
  questions: readonly EvalQuestion[],
  options: CollectOptions,
): Promise<CollectReport> {
  const done = options.resume ? await answeredIds(options.out) : new Set<string>();
  if (!options.resume && await hasContent(options.out)) {
    throw new Error(`${options.out} exists: resume it, or remove it first`);
  }
  const todo = questions.filter((q) => !done.has(q.id));
  // Positions in `todo`, in the order to ask them.
  const todoAt = new Map(todo.map((q, i) => [q, i]));
  const askOrder = options.order
    ? options.order.map((k) => todoAt.get(questions[k])).filter((i) => i !== undefined)
    : todo.map((_, i) => i);
  if (askOrder.length !== todo.length) {
    throw new RangeError(`order: expected every question once, got ${options.order?.length}`);
  }
  const report: CollectReport = {
    total: questions.length,
    resumed: questions.length - todo.length,
    answered: 0,
    skipped: [],
  };
  let file: Deno.FsFile | undefined;
  const encoder = new TextEncoder();
  // Writes are chained one after another, so the file is opened once.
  const write = async (text: string) => {
    if (!text) return;
    file ??= await Deno.open(options.out, { append: true, create: true });
    const bytes = encoder.encode(text);
    for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
  };
  // Finished answers wait here until every earlier question is finished too.
  const ready = new Map<number, string | null>();
  let flushed = 0, next = 0, finished = report.resumed;
  let failure: unknown;
  const skippedAt: [number, CollectReport["skipped"][number]][] = [];
  let writing = Promise.resolve();
  const flush = () => {
    let text = "";
    while (ready.has(flushed)) {
      const line = ready.get(flushed)!;
      ready.delete(flushed++);
      if (line !== null) text += line;
    }
    if (text) writing = writing.then(() => write(text));
    return writing;
  };
  const worker = async () => {
    while (failure === undefined && next < todo.length) {
      const i = askOrder[next++];
      const q = todo[i];
      try {
        const prediction = await options.ask(q);
        ready.set(i, JSON.stringify({ id: q.rawId ?? q.id, prediction }) + "\n");
        report.answered++;
      } catch (e) {
        if (!(e instanceof SkipQuestion)) {
          failure ??= e instanceof Error
            ? new Error(`id ${q.id}: ${e.message}`, { cause: e })
            : new Error(`id ${q.id}: ${e}`);
          return;
        }
        skippedAt.push([i, { id: q.id, reason: e.message }]);
        ready.set(i, null);
      }
      options.onProgress?.(++finished, questions.length);
      await flush();
    }
  };
  try {
    options.onProgress?.(finished, questions.length);
    const n = Math.max(1, Math.min(options.concurrency ?? 4, todo.length || 1));
    await Promise.all(Array.from({ length: n }, worker));
    await flush();
    if (failure !== undefined) {
      // Keep what was answered after the failed question too; resume skips it by id.
      const rest = [...ready].sort(([a], [b]) => a - b).map(([, l]) => l ?? "").join("");
      ready.clear();
      await (writing = writing.then(() => write(rest)));
      throw failure;
    }
  } finally {
    await writing.catch(() => {});
    file?.close();
  }
  // In question order, whatever order the answers came in.
  report.skipped = skippedAt.sort(([a], [b]) => a - b).map(([, s]) => s);
  return report;
}

/**
 * Whether `path` exists and is not empty: an empty file holds no answers to lose.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/empty.jsonl`, "");
 * if (await hasContent(`${dir}/empty.jsonl`) || await hasContent(`${dir}/none.jsonl`)) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function hasContent(path: string): Promise<boolean> {
  const info = await Deno.stat(path).catch(() => undefined);
  return info !== undefined && (!info.isFile || info.size > 0);
}

/**
 * The video of a question under `videosDir`, trying in turn `video_path` (VSTI-Bench, vlm3r
 * records), `<dataset>/<scene_name>.mp4` (the VSI-Bench zips), `<scene_name>.mp4` and
 * `<scene_name>/<scene_name>.mp4` (a `vlm3r synth` folder); with `folders`, a folder of frame
 * images counts as a video too (`vlm3r ask` reads them).
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/scannet`);
 * await Deno.writeTextFile(`${dir}/scannet/scene0001_00.mp4`, "");
 * const q = { id: "1", questionType: "x", question: "", options: [], groundTruth: "A", line: 1,
 *   dataset: "scannet", sceneName: "scene0001_00" };
 * if (await findVideo(dir, q) !== `${dir}/scannet/scene0001_00.mp4`) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function findVideo(
  videosDir: string,
  q: EvalQuestion,
  options: { folders?: boolean } = {},
): Promise<string | undefined> {
  const candidates: string[] = [];
  if (q.videoPath) candidates.push(join(videosDir, q.videoPath));
  if (q.sceneName) {
    if (q.dataset) candidates.push(join(videosDir, q.dataset, `${q.sceneName}.mp4`));
    candidates.push(join(videosDir, `${q.sceneName}.mp4`));
    candidates.push(join(videosDir, q.sceneName, `${q.sceneName}.mp4`));
  }
  for (const c of candidates) {
    const info = await Deno.stat(c).catch(() => undefined);
    if (info?.isFile || (options.folders && info?.isDirectory)) return c;
  }
  return undefined;
}

/**
 * Sampled frames per video, decoded once and kept for the next few questions on the same video
 * (questions of a scene usually come together).
 */
export class FrameCache {
  #cache = new Map<string, Promise<Uint8Array[]>>();
  constructor(readonly frames: number, readonly keep = 8) {}

  /** The JPEG frames of `video`: `floor(linspace(0, N - 1, min(N, frames)))`. */
  get(video: string): Promise<Uint8Array[]> {
    let p = this.#cache.get(video);
    if (p) {
      this.#cache.delete(video);
    } else {
      p = videoFrameCount(video).then((n) =>
        extractFrames(video, uniformFrameIndices(n, this.frames))
      );
      p.catch(() => this.#cache.delete(video));
    }
    this.#cache.set(video, p);
    while (this.#cache.size > this.keep) this.#cache.delete(this.#cache.keys().next().value!);
    return p;
  }
}
