/**
 * One scoring run, from a question set and one or more models' answers to an {@link EvalReport}:
 * the benchmark chosen (or detected), the subset applied, questions lmms-eval would crash on
 * left out, every model scored, and the chance baselines computed on the same questions.
 *
 * @module
 */

import { join } from "node:path";
import { AtomicFile } from "../io/atomic.ts";
import { DataError } from "../io/errors.ts";
import { chanceFrequency, chanceRandom } from "./baselines.ts";
import { type Benchmark, BENCHMARKS, type BenchName, detectBenchmark } from "./benchmarks.ts";
import {
  type EvalQuestion,
  type PredictionSet,
  type QuestionSet,
  readAnswers,
  readQuestions,
} from "./records.ts";
import { type EvalReport, type ModelRun, perQuestionLine } from "./report.ts";
import type { ScoringRules } from "./rules.ts";
import {
  type MissingPolicy,
  type PreparedSet,
  prepareQuestions,
  ScoreAccumulator,
  scorePredictions,
  scoreQuestion,
} from "./score.ts";
import { vsiBenchPrunedIds } from "./vsibench_pruned.ts";

/** Which questions of VSI-Bench to score. */
export type Subset = "full" | "debiased";

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** The benchmark, or `auto` (default): the one whose question types the set uses most. */
  bench?: BenchName | "auto";
  /** `debiased` keeps VSI-Bench questions whose ids bias pruning did not remove. */
  subset?: Subset;
  missing?: MissingPolicy;
  /** Scoring rules (eval/rules.ts; default `vsibench`, the published ones). */
  rules?: ScoringRules;
}

/** A model's answers to score: a predictions file as read, or a map from id to answer. */
export interface ModelAnswers {
  name: string;
  predictions: PredictionSet | ReadonlyMap<string, string | null>;
}

/**
 * The debiased VSI-Bench: the questions whose integer ids are not in the pruned list.
 *
 * @example
 * ```ts
 * const q = (id: string) => ({ id, questionType: "route_planning", question: "", options: [],
 *   groundTruth: "A", line: 1 });
 * const kept = debiasedSubset([q("1"), q("6")], "q.jsonl");
 * if (kept.length !== 1 || kept[0].id !== "6") throw new Error("id 1 was pruned, 6 was kept");
 * ```
 */
export function debiasedSubset(questions: readonly EvalQuestion[], file: string): EvalQuestion[] {
  const removed = new Set(vsiBenchPrunedIds().map(String));
  for (const q of questions) {
    if (!/^\d+$/.test(q.id)) {
      throw new DataError(
        `${file}:${q.line}`,
        "id",
        "VSI-Bench's integer ids for --subset debiased",
        q.id,
      );
    }
  }
  return questions.filter((q) => !removed.has(q.id));
}

/**
 * Scores `models` on `set`.
 *
 * @example
 * ```ts
 * import { parseQuestions } from "./records.ts";
 * const set = parseQuestions([
 *   '{"id": 1, "question_type": "object_counting", "ground_truth": "4"}',
 *   '{"id": 2, "question_type": "route_planning", "options": ["A. Turn Left", "B. Turn Right"], "ground_truth": "B"}',
 * ].join("\n"), "q.jsonl");
 * const report = evaluate(set, [{ name: "m", predictions: new Map([["1", "4"], ["2", "A"]]) }]);
 * if (report.bench.name !== "vsi" || report.models[0].scores.overall !== 0.5) throw new Error();
 * if (report.chanceRandom.columns[6] !== 0.5) throw new Error("route planning: 1 of 2 options");
 * ```
 */
export function evaluate(
  set: QuestionSet,
  models: readonly ModelAnswers[],
  options: EvaluateOptions = {},
): EvalReport {
  const { bench, subset, questions } = selectQuestions(set, options);
  const prepared = prepareQuestions(bench, questions, set.file);
  const missing = options.missing ?? "skip";
  const rules = options.rules ?? "vsibench";
  const runs: ModelRun[] = models.map((m) => {
    const { results, scores } = scorePredictions(prepared, m.predictions, missing, rules);
    const file = m.predictions instanceof Map ? undefined : (m.predictions as PredictionSet);
    return {
      name: m.name,
      file: file?.file,
      format: file?.format,
      scores,
      results,
      questions: results.length,
      unknownIds: file?.unknownIds ?? [],
    };
  });
  return report(set.file, prepared, questions.length, subset, missing, rules, runs);
}

/** The benchmark (chosen or detected) and the questions of the subset. */
function selectQuestions(
  set: QuestionSet,
  options: EvaluateOptions,
): { bench: Benchmark; subset: Subset; questions: EvalQuestion[] } {
  const bench: Benchmark | undefined = !options.bench || options.bench === "auto"
    ? detectBenchmark(set.questions.map((q) => q.questionType))
    : BENCHMARKS[options.bench];
  if (!bench) {
    throw new DataError(
      set.file,
      "question_type",
      "VSI-Bench or VSTI-Bench question types",
      set.questions.length ? set.questions[0].questionType : "no questions",
    );
  }
  const subset = options.subset ?? "full";
  if (subset === "debiased" && bench.name !== "vsi") {
    throw new DataError(set.file, "subset", "VSI-Bench questions for the debiased subset");
  }
  const questions = subset === "debiased" ? debiasedSubset(set.questions, set.file) : set.questions;
  return { bench, subset, questions };
}

function report(
  questionsFile: string,
  prepared: PreparedSet,
  questionsRead: number,
  subset: Subset,
  missing: MissingPolicy,
  rules: ScoringRules,
  models: ModelRun[],
): EvalReport {
  return {
    bench: prepared.bench,
    questionsFile,
    subset,
    questionsRead,
    excluded: prepared.excluded,
    missing,
    rules,
    models,
    chanceRandom: chanceRandom(prepared),
    chanceFrequency: chanceFrequency(prepared, rules),
  };
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
 * {@link evaluate} for files of any size, in bounded memory per question: questions are read a
 * line at a time and kept lean (no text), each model's answers are read as id -> answer only,
 * scored one question at a time into per-type accumulators, and with `perQuestionDir` each
 * result is streamed to `per_question.jsonl` there (committed when all models are done) rather
 * than kept. The report's `results` are empty; everything else is {@link evaluate}'s, byte for
 * byte in the report files.
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
  let set: QuestionSet | undefined = await readQuestions(questionsPath, { lean: true });
  const encoding = [{ file: set.file, invalidUtf8Lines: set.invalidUtf8Lines ?? [] }];
  // What predictions are matched against: every id of the set, and ids by position (doc_id).
  const known = new Set<string>();
  const ids: string[] = [];
  for (const q of set.questions) {
    known.add(q.id);
    ids.push(q.id);
  }
  const { bench, subset, questions } = selectQuestions(set, options);
  const questionsRead = questions.length;
  const prepared = prepareQuestions(bench, questions, set.file);
  set = undefined;
  const missing = options.missing ?? "skip";
  const rules = options.rules ?? "vsibench";
  let sink: AtomicFile | undefined;
  if (perQuestionDir) {
    await Deno.mkdir(perQuestionDir, { recursive: true });
    sink = await AtomicFile.open(join(perQuestionDir, "per_question.jsonl"));
  }
  try {
    const runs: ModelRun[] = [];
    for (const m of models) {
      const read = await readAnswers(m.file, known, (i) => ids[i]);
      encoding.push({ file: read.file, invalidUtf8Lines: read.invalidUtf8Lines ?? [] });
      const acc = new ScoreAccumulator();
      let lines: string[] = [];
      for (const q of prepared.questions) {
        const r = scoreQuestion(q, read.answers.get(q.id) ?? null, missing, rules);
        acc.add(r);
        if (sink) {
          lines.push(perQuestionLine(m.name, r), "\n");
          if (lines.length >= 8192) {
            await sink.write(lines.join(""));
            lines = [];
          }
        }
      }
      if (sink && lines.length) await sink.write(lines.join(""));
      runs.push({
        name: m.name,
        file: read.file,
        format: read.format,
        scores: acc.scores(bench),
        results: [],
        questions: prepared.questions.length,
        unknownIds: read.unknownIds,
      });
    }
    const r = report(questionsPath, prepared, questionsRead, subset, missing, rules, runs);
    await sink?.commit();
    return { report: r, encoding };
  } catch (e) {
    await sink?.abort();
    throw e;
  }
}
