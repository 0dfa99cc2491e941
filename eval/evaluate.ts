/**
 * One scoring run, from a question set and one or more models' answers to an {@link EvalReport}:
 * the benchmark chosen (or detected), the subset applied, questions lmms-eval would crash on
 * left out, every model scored, and the chance baselines computed on the same questions.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import { chanceFrequency, chanceRandom } from "./baselines.ts";
import { type Benchmark, BENCHMARKS, type BenchName, detectBenchmark } from "./benchmarks.ts";
import type { EvalQuestion, PredictionSet, QuestionSet } from "./records.ts";
import type { EvalReport, ModelRun } from "./report.ts";
import type { ScoringRules } from "./rules.ts";
import {
  type MissingPolicy,
  type PreparedSet,
  prepareQuestions,
  scorePredictions,
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
