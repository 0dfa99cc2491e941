/**
 * Scoring files of any size (`vlm3r eval`): {@link evaluate}'s report, byte for byte, with
 * nothing kept per question but a few bytes.
 *
 * The question file is read several times instead of held: once to check it (ids unique, one
 * benchmark), once per model (each question with its answer, scored as it comes; the first of
 * these passes also counts the left-out questions, chance (random) and the answer frequencies),
 * and once for chance (frequency). A model's answers are first read through once, to check them
 * and note which ids they hold (8 bytes per answer), then joined to the questions in one pass:
 * answers in the questions' order (as `vlm3r bench` and lmms-eval write them) are taken as they
 * come; answers out of order wait in memory until their question comes. Per question type the
 * scores are kept (8 bytes each: the mean is numpy's pairwise sum over all of them), and with
 * an output folder every result is streamed to `per_question.jsonl`.
 *
 * @module
 */

import { join } from "node:path";
import { AtomicFile } from "../io/atomic.ts";
import { DataError } from "../io/errors.ts";
import { FrequencyStats } from "./baselines.ts";
import { type Benchmark, BENCHMARKS, detectBenchmark } from "./benchmarks.ts";
import type { EvaluateOptions, Subset } from "./evaluate.ts";
import {
  duplicateAnswer,
  duplicateQuestion,
  type EvalQuestion,
  type Prediction,
  type PredictionSet,
  streamPredictions,
  streamQuestions,
} from "./records.ts";
import { type EvalReport, type ModelRun, perQuestionLine } from "./report.ts";
import {
  type ExcludedQuestion,
  prepareQuestion,
  type ScorableQuestion,
  ScoreAccumulator,
  scoreQuestion,
} from "./score.ts";
import { vsiBenchPrunedIds } from "./vsibench_pruned.ts";

/**
 * A set of strings kept as 64-bit hashes (8 bytes each, in an open-addressing table): `has` may
 * say yes for a string never added (about once in 2^64 / n lookups), never no for one added.
 * Callers confirm a yes where it matters.
 *
 * @example
 * ```ts
 * const s = new IdSet();
 * for (let i = 0; i < 1000; i++) s.add(`scene/${i}`);
 * if (!s.has("scene/999") || s.has("scene/1000") || s.size !== 1000) throw new Error();
 * ```
 */
export class IdSet {
  #table = new Uint32Array(2 * 1024);
  #size = 0;

  /** Strings added (with repeats). */
  get size(): number {
    return this.#size;
  }

  static #hash(s: string): [number, number] {
    let a = 0x811c9dc5, b = 0x9747b28c;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ s.length;
    b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
    // (0, 0) marks an empty slot.
    return [a >>> 0, (b >>> 0) || 1];
  }

  /** Whether `s` was (probably) added. */
  has(s: string): boolean {
    const [a, b] = IdSet.#hash(s);
    const t = this.#table, mask = t.length / 2 - 1;
    for (let i = a & mask;; i = (i + 1) & mask) {
      if (t[2 * i] === 0 && t[2 * i + 1] === 0) return false;
      if (t[2 * i] === a && t[2 * i + 1] === b) return true;
    }
  }

  /** Adds `s`. */
  add(s: string): void {
    if (2 * (this.#size + 1) > this.#table.length / 2) this.#grow();
    this.#insert(...IdSet.#hash(s));
    this.#size++;
  }

  #insert(a: number, b: number): void {
    const t = this.#table, mask = t.length / 2 - 1;
    let i = a & mask;
    while (t[2 * i] !== 0 || t[2 * i + 1] !== 0) i = (i + 1) & mask;
    t[2 * i] = a;
    t[2 * i + 1] = b;
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.#insert(old[i], old[i + 1]);
    }
  }
}

/** The line of the first record of `path` with id `id` before line `before`, if any. */
async function firstQuestionLine(path: string, id: string, before: number) {
  for await (const q of streamQuestions(path, { lean: true })) {
    if (q.line >= before) return undefined;
    if (q.id === id) return q.line;
  }
  return undefined;
}

/**
 * A model's answers joined to the questions in their order: {@link AnswerJoin.take} gives the
 * answer to each question in turn (reading ahead, and holding, only answers out of order).
 */
class AnswerJoin {
  #ids: IdSet;
  #pending = new Map<string, Prediction>();
  #rest: AsyncIterator<Prediction>;

  private constructor(
    readonly file: string,
    readonly format: PredictionSet["format"],
    ids: IdSet,
    readonly invalidUtf8Lines: number[],
    idAt: (position: number) => string | undefined,
  ) {
    this.#ids = ids;
    this.#rest = streamPredictions(file, idAt)[Symbol.asyncIterator]();
  }

  /**
   * Reads `file` through once: checks every record and that no id is answered twice (the
   * errors of {@link readPredictions}), and notes the ids answered.
   */
  static async open(file: string, questions: string): Promise<AnswerJoin> {
    // lmms-eval samples without doc.id name their question by position: only then are the
    // question ids held, in order.
    let byPosition: string[] | undefined;
    let needed = false;
    const idAt = (i: number) => {
      if (!byPosition) needed = true;
      return byPosition?.[i];
    };
    for (;;) {
      const ids = new IdSet();
      const invalid: number[] = [];
      let format: PredictionSet["format"] = "jsonl";
      for await (
        const p of streamPredictions(file, idAt, invalid, (f) => (format = f))
      ) {
        if (needed && !byPosition) break;
        if (ids.has(p.id)) {
          // Confirm, and find the first line.
          for await (const q of streamPredictions(file, idAt)) {
            if (q.line >= p.line) break;
            if (q.id === p.id) throw duplicateAnswer(file, p.id, p.line, q.line);
          }
        }
        ids.add(p.id);
      }
      if (needed && !byPosition) {
        byPosition = [];
        for await (const q of streamQuestions(questions, { lean: true })) byPosition.push(q.id);
        continue;
      }
      return new AnswerJoin(file, format, ids, invalid, idAt);
    }
  }

  /** The answer to question `id` (`null`: none given; `undefined`: no line for it). */
  async take(id: string): Promise<string | null | undefined> {
    const held = this.#pending.get(id);
    if (held) {
      this.#pending.delete(id);
      return held.prediction;
    }
    if (!this.#ids.has(id)) return undefined;
    for (;;) {
      const next = await this.#rest.next();
      if (next.done) return undefined;
      if (next.value.id === id) return next.value.prediction;
      this.#pending.set(next.value.id, next.value);
    }
  }

  /** After every question took its answer: the ids answered that no question has, in order. */
  async unknownIds(): Promise<string[]> {
    const ids = [...this.#pending.keys()];
    this.#pending.clear();
    for (;;) {
      const next = await this.#rest.next();
      if (next.done) return ids;
      ids.push(next.value.id);
    }
  }
}

/** A predictions file to score, and the model's name. */
export interface ModelFile {
  name: string;
  file: string;
}

/** What {@link evaluateFiles} read besides the report: the files' invalid UTF-8 lines. */
export interface FilesRead {
  report: EvalReport;
  /** Per file read (questions first, then predictions): lines that are not valid UTF-8. */
  encoding: { file: string; invalidUtf8Lines: number[] }[];
}

/**
 * {@link evaluate} for files of any size (see the module notes): the same report (its `results`
 * left empty: with `perQuestionDir`, they are streamed to `per_question.jsonl` there, committed
 * when every model is scored) and the same errors, in memory that grows by a few bytes per
 * question.
 *
 * @example
 * ```ts ignore
 * const { report } = await evaluateFiles("q.jsonl", [{ name: "m", file: "p.jsonl" }], {}, "report");
 * ```
 */
export async function evaluateFiles(
  questionsPath: string,
  models: readonly ModelFile[],
  options: EvaluateOptions = {},
  perQuestionDir?: string,
): Promise<FilesRead> {
  // Pass 1: every record checked, ids unique, the question types counted.
  const invalidQ: number[] = [];
  const types = new Map<string, number>();
  let firstType: string | undefined, firstBadId: EvalQuestion | undefined;
  {
    const ids = new IdSet();
    for await (const q of streamQuestions(questionsPath, { lean: true, invalid: invalidQ })) {
      if (ids.has(q.id)) {
        const first = await firstQuestionLine(questionsPath, q.id, q.line);
        if (first !== undefined) throw duplicateQuestion(questionsPath, q.id, q.line, first);
      }
      ids.add(q.id);
      firstType ??= q.questionType;
      types.set(q.questionType, (types.get(q.questionType) ?? 0) + 1);
      if (!firstBadId && !/^\d+$/.test(q.id)) firstBadId = q;
    }
  }
  const bench: Benchmark | undefined = !options.bench || options.bench === "auto"
    ? detectBenchmark(repeatCounts(types))
    : BENCHMARKS[options.bench];
  if (!bench) {
    throw new DataError(
      questionsPath,
      "question_type",
      "VSI-Bench or VSTI-Bench question types",
      firstType ?? "no questions",
    );
  }
  const subset: Subset = options.subset ?? "full";
  if (subset === "debiased" && bench.name !== "vsi") {
    throw new DataError(questionsPath, "subset", "VSI-Bench questions for the debiased subset");
  }
  if (subset === "debiased" && firstBadId) {
    throw new DataError(
      `${questionsPath}:${firstBadId.line}`,
      "id",
      "VSI-Bench's integer ids for --subset debiased",
      firstBadId.id,
    );
  }
  const pruned = subset === "debiased" ? new Set(vsiBenchPrunedIds().map(String)) : undefined;
  const missing = options.missing ?? "skip";
  const rules = options.rules ?? "vsibench";

  /** The questions of the subset, prepared, with every question's answer when `join` is given. */
  async function* questions(
    join?: AnswerJoin,
  ): AsyncGenerator<{ q: ScorableQuestion | ExcludedQuestion; answer?: string | null }> {
    for await (const q of streamQuestions(questionsPath, { lean: true })) {
      // Every question takes its answer, left out or not: what is left is answers to no question.
      const answer = join ? await join.take(q.id) : undefined;
      if (pruned?.has(q.id)) continue;
      yield { q: prepareQuestion(bench!, q, questionsPath, true), answer };
    }
  }

  const encoding = [{ file: questionsPath, invalidUtf8Lines: invalidQ }];
  const excluded: ExcludedQuestion[] = [];
  const random = new ScoreAccumulator();
  const frequency = new FrequencyStats();
  let questionsRead = 0, scorable = 0, hasNumerical = false;
  const firstPass = (q: ScorableQuestion | ExcludedQuestion) => {
    questionsRead++;
    if ("reason" in q) {
      excluded.push(q);
      return;
    }
    scorable++;
    hasNumerical ||= q.kind === "na";
    random.add({
      questionType: q.questionType,
      kind: q.kind,
      prediction: "",
      score: q.kind === "mca" && q.options.length ? 1 / q.options.length : null,
    });
    frequency.add(q);
  };

  let sink: AtomicFile | undefined;
  if (perQuestionDir) {
    await Deno.mkdir(perQuestionDir, { recursive: true });
    sink = await AtomicFile.open(join(perQuestionDir, "per_question.jsonl"));
  }
  try {
    const runs: ModelRun[] = [];
    for (let k = 0; k < Math.max(1, models.length); k++) {
      const m = models[k] as ModelFile | undefined;
      const answers = m ? await AnswerJoin.open(m.file, questionsPath) : undefined;
      if (answers) {
        encoding.push({ file: answers.file, invalidUtf8Lines: answers.invalidUtf8Lines });
      }
      const acc = new ScoreAccumulator();
      let lines: string[] = [];
      for await (const { q, answer } of questions(answers)) {
        if (k === 0) firstPass(q);
        if (!m || "reason" in q) continue;
        const r = scoreQuestion(q, answer ?? null, missing, rules);
        acc.add(r);
        if (sink) {
          lines.push(perQuestionLine(m.name, r), "\n");
          if (lines.length >= 8192) {
            await sink.write(lines.join(""));
            lines = [];
          }
        }
      }
      if (!m || !answers) continue;
      if (sink && lines.length) await sink.write(lines.join(""));
      runs.push({
        name: m.name,
        file: answers.file,
        format: answers.format,
        scores: acc.scores(bench),
        results: [],
        questions: scorable,
        unknownIds: await answers.unknownIds(),
      });
    }
    // Chance (frequency): the most frequent answers, now counted, scored like a model.
    const answerOf = frequency.answerer();
    const freq = new ScoreAccumulator();
    for await (const { q } of questions()) {
      if (!("reason" in q)) freq.add(scoreQuestion(q, answerOf(q), "skip", rules));
    }
    const chanceRandom = random.scores(bench);
    if (hasNumerical) {
      chanceRandom.overall = null;
      chanceRandom.tableAvg = null;
      delete chanceRandom.lmmsEval.overall;
    }
    const report: EvalReport = {
      bench,
      questionsFile: questionsPath,
      subset,
      questionsRead,
      excluded,
      missing,
      rules,
      models: runs,
      chanceRandom,
      chanceFrequency: freq.scores(bench),
    };
    await sink?.commit();
    return { report, encoding };
  } catch (e) {
    await sink?.abort();
    throw e;
  }
}

/** Each type as often as it was counted (for {@link detectBenchmark}, which counts them). */
function* repeatCounts(counts: Map<string, number>): Generator<string> {
  for (const [t, n] of counts) for (let i = 0; i < n; i++) yield t;
}
