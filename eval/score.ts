/**
 * Scoring a model's answers on a question set, exactly as lmms-eval's `process_results` and
 * `aggregate_results` do for VSI-Bench and VSTI-Bench (data-reference §8.2-8.3), plus what
 * lmms-eval does not do: questions it would crash on are left out and named, and missing answers
 * are counted rather than scored.
 *
 * @module
 */

import {
  type AnswerKind,
  answerKind,
  type Benchmark,
  type BenchName,
  REL_DIRECTION_LEVELS,
} from "./benchmarks.ts";
import { meanRelativeAccuracy, pandasMean, pythonMean } from "./metrics.ts";
import { exactMatch, fuzzyMatch, pythonFloat } from "./parse.ts";
import type { EvalQuestion, PredictionSet } from "./records.ts";
import { extractNumber, type ScoringRules } from "./rules.ts";

/** A question ready to score: its answer kind and target resolved. */
export interface ScorableQuestion extends EvalQuestion {
  kind: AnswerKind;
  /** MCA: the letter matched (`mc_answer`, else `ground_truth`). NA: `ground_truth` as text. */
  target: string;
  /** NA: the ground truth as a number (non-zero, finite). */
  truth: number;
}

/** A question left out of the scores, and why (one line naming file, id and field). */
export interface ExcludedQuestion {
  id: string;
  questionType: string;
  reason: string;
}

/** A question set checked against a benchmark. */
export interface PreparedSet {
  bench: Benchmark;
  questions: ScorableQuestion[];
  excluded: ExcludedQuestion[];
}

/**
 * Resolves every question's answer kind and target for `bench`. Left out, with a reason: types
 * the benchmark does not have (lmms-eval raises on them), numerical questions whose ground truth
 * is not a non-zero finite number (lmms-eval divides by it; DECISIONS 18), and multiple-choice
 * questions without a letter to match.
 *
 * @example
 * ```ts
 * import { VSI_BENCH } from "./benchmarks.ts";
 * const base = { question: "", options: [], line: 1 };
 * const set = prepareQuestions(VSI_BENCH, [
 *   { ...base, id: "1", questionType: "room_size_estimation", groundTruth: "0" },
 *   { ...base, id: "2", questionType: "route_planning", groundTruth: "B" },
 * ], "q.jsonl");
 * if (set.questions.length !== 1 || !set.excluded[0].reason.includes("non-zero")) throw new Error();
 * ```
 */
export function prepareQuestions(
  bench: Benchmark,
  questions: readonly EvalQuestion[],
  file: string,
): PreparedSet {
  const out: ScorableQuestion[] = [];
  const excluded: ExcludedQuestion[] = [];
  for (const q of questions) {
    const p = prepareQuestion(bench, q, file);
    if ("reason" in p) excluded.push(p);
    else out.push(p);
  }
  return { bench, questions: out, excluded };
}

/**
 * One question of {@link prepareQuestions}: ready to score, or left out with its reason. With
 * `inPlace`, the question itself gets the fields (a caller that owns it saves a copy).
 *
 * @example
 * ```ts
 * import { VSI_BENCH } from "./benchmarks.ts";
 * const q = { id: "1", questionType: "route_planning", question: "", options: [], groundTruth: "B", line: 1 };
 * const p = prepareQuestion(VSI_BENCH, q, "q.jsonl");
 * if ("reason" in p || p.target !== "B") throw new Error();
 * ```
 */
export function prepareQuestion(
  bench: Benchmark,
  q: EvalQuestion,
  file: string,
  inPlace = false,
): ScorableQuestion | ExcludedQuestion {
  const leave = (reason: string): ExcludedQuestion => ({
    id: q.id,
    questionType: q.questionType,
    reason: `${file}: id ${q.id}: ${reason}`,
  });
  const scorable = (extra: Pick<ScorableQuestion, "kind" | "target" | "truth">) =>
    inPlace ? Object.assign(q, extra) : { ...q, ...extra };
  const kind = answerKind(bench, q.questionType);
  if (!kind) return leave(`question_type: expected a ${bench.title} type, got ${q.questionType}`);
  if (kind === "mca") {
    const target = q.mcAnswer ?? q.groundTruth;
    if (typeof target !== "string") {
      return leave(`mc_answer: expected the answer letter, got ${JSON.stringify(target)}`);
    }
    return scorable({ kind, target, truth: NaN });
  }
  const truth = typeof q.groundTruth === "number" ? q.groundTruth : pythonFloat(q.groundTruth);
  if (truth === undefined || !Number.isFinite(truth) || truth === 0) {
    return leave(`ground_truth: expected a non-zero number, got ${JSON.stringify(q.groundTruth)}`);
  }
  return scorable({ kind, target: String(q.groundTruth), truth });
}

/**
 * One answer's score: accuracy (0 or 1) for multiple choice, MRA for numbers; `parsed` is the
 * token the scorer read (under `lmms-eval-latest`, a numerical answer's extracted number, or
 * `""` when it has none). See eval/rules.ts for the two rule sets.
 *
 * @example
 * ```ts
 * const q = { kind: "mca" as const, target: "A", truth: NaN };
 * if (scoreAnswer(q, "A. chair").score !== 1 || scoreAnswer(q, "(A)").score !== 0) throw new Error();
 * const na = { kind: "na" as const, target: "4", truth: 4 };
 * if (scoreAnswer(na, "5m").score !== 0) throw new Error("vsibench: not a number");
 * if (scoreAnswer(na, "5m", "lmms-eval-latest").score !== 0.6) throw new Error();
 * ```
 */
export function scoreAnswer(
  q: Pick<ScorableQuestion, "kind" | "target" | "truth">,
  prediction: string,
  rules: ScoringRules = "vsibench",
): { parsed: string; score: number } {
  if (q.kind === "na" && rules === "lmms-eval-latest") {
    const value = extractNumber(prediction);
    // None -> TypeError in the metric -> lmms-eval's worst case, 0.
    if (value === undefined) return { parsed: "", score: 0 };
    return { parsed: String(value), score: meanRelativeAccuracy(value, q.truth) };
  }
  const parsed = fuzzyMatch(prediction);
  if (q.kind === "mca") return { parsed, score: exactMatch(parsed, q.target) };
  const value = pythonFloat(parsed);
  // lmms-eval: float(pred) fails -> None -> TypeError caught -> the worst score, 0.
  return { parsed, score: value === undefined ? 0 : meanRelativeAccuracy(value, q.truth) };
}

/** How answers absent from the predictions count: left out of the means, or scored 0. */
export type MissingPolicy = "skip" | "zero";

/** One question's result for one model. */
export interface QuestionResult {
  id: string;
  questionType: string;
  kind: AnswerKind;
  target: string;
  /** The raw answer; `null` when there is none. */
  prediction: string | null;
  parsed: string | null;
  /** 0..1; `null` for a missing answer under the `skip` policy. */
  score: number | null;
}

/**
 * Scores every question of `set` with `predictions` (a map from id to raw answer; `null` or
 * absent = missing).
 *
 * @example
 * ```ts
 * import { VSI_BENCH } from "./benchmarks.ts";
 * const q = { id: "1", questionType: "route_planning", question: "", options: [], groundTruth: "B", line: 1 };
 * const set = prepareQuestions(VSI_BENCH, [q], "q.jsonl");
 * const [r] = scoreQuestions(set, new Map([["1", "b."]]));
 * if (r.score !== 1) throw new Error();
 * if (scoreQuestions(set, new Map())[0].score !== null) throw new Error();
 * ```
 */
export function scoreQuestions(
  set: PreparedSet,
  predictions: ReadonlyMap<string, string | null>,
  missing: MissingPolicy = "skip",
  rules: ScoringRules = "vsibench",
): QuestionResult[] {
  return set.questions.map((q) => scoreQuestion(q, predictions.get(q.id) ?? null, missing, rules));
}

/**
 * One question's result for one answer (`null`: none).
 *
 * @example
 * ```ts
 * const q = { id: "1", questionType: "object_counting", kind: "na" as const, target: "4", truth: 4 };
 * if (scoreQuestion(q, "4").score !== 1 || scoreQuestion(q, null, "zero").score !== 0) throw new Error();
 * ```
 */
export function scoreQuestion(
  q: Pick<ScorableQuestion, "id" | "questionType" | "kind" | "target" | "truth">,
  prediction: string | null,
  missing: MissingPolicy = "skip",
  rules: ScoringRules = "vsibench",
): QuestionResult {
  const base = { id: q.id, questionType: q.questionType, kind: q.kind, target: q.target };
  if (prediction === null) {
    return { ...base, prediction, parsed: null, score: missing === "zero" ? 0 : null };
  }
  return { ...base, prediction, ...scoreAnswer(q, prediction, rules) };
}

/** Per question type: counts and the mean score. */
export interface TypeScore {
  questionType: string;
  kind: AnswerKind;
  /** Questions of the type in the set. */
  questions: number;
  /** Questions that entered the mean. */
  scored: number;
  /** Questions without an answer. */
  missing: number;
  /** Mean score 0..1, or `null` when none entered the mean. */
  score: number | null;
}

/** A model's scores on a benchmark. */
export interface BenchScores {
  bench: BenchName;
  /** Per question type, in lmms-eval's (sorted) order. */
  types: TypeScore[];
  /**
   * The dictionary lmms-eval's aggregation builds, as fractions: `<type>_accuracy`,
   * `<type>_MRA:.5:.95:.05`, the merged `object_rel_direction_accuracy` (VSI) and `overall`.
   */
  lmmsEval: Record<string, number>;
  /** lmms-eval's overall score 0..1 (unweighted mean of the task scores); `null` if none. */
  overall: number | null;
  /** The paper table's columns (0..1 or `null` when absent), in the benchmark's order. */
  columns: (number | null)[];
  /** The paper table's "Avg": the overall (VSI) or the mean of the five columns (VSTI). */
  tableAvg: number | null;
  /** Missing answers over all types. */
  missing: number;
}

const metricName = (kind: AnswerKind) => (kind === "mca" ? "accuracy" : "MRA:.5:.95:.05");

/**
 * Aggregates question results as lmms-eval does: the mean per question type (pandas, in the
 * question set's order), VSI-Bench's three relative-direction levels replaced by their mean,
 * and `overall` the unweighted mean of what remains (VSI: 8 tasks; VSTI: every type present).
 *
 * @example
 * ```ts
 * import { VSI_BENCH } from "./benchmarks.ts";
 * const r = (questionType: string, score: number) =>
 *   ({ id: "", questionType, kind: "mca" as const, target: "A", prediction: "A", parsed: "A", score });
 * const s = aggregateScores(VSI_BENCH, [
 *   r("object_rel_direction_easy", 1), r("object_rel_direction_hard", 0), r("route_planning", 1),
 * ]);
 * if (s.lmmsEval.object_rel_direction_accuracy !== 0.5 || s.overall !== 0.75) throw new Error();
 * ```
 */
export function aggregateScores(
  bench: Benchmark,
  results: readonly QuestionResult[],
): BenchScores {
  const acc = new ScoreAccumulator();
  for (const r of results) acc.add(r);
  return acc.scores(bench);
}

/**
 * {@link aggregateScores} one result at a time, holding 8 bytes per scored question (the
 * per-type means need every score, in order, for numpy's pairwise sum), so that a run scores
 * millions of answers without keeping their results.
 *
 * @example
 * ```ts
 * import { VSI_BENCH } from "./benchmarks.ts";
 * const acc = new ScoreAccumulator();
 * acc.add({ questionType: "route_planning", kind: "mca", prediction: "A", score: 1 });
 * acc.add({ questionType: "route_planning", kind: "mca", prediction: null, score: null });
 * const s = acc.scores(VSI_BENCH);
 * if (s.overall !== 1 || s.missing !== 1 || s.types[0].questions !== 2) throw new Error();
 * ```
 */
export class ScoreAccumulator {
  #byType = new Map<
    string,
    { kind: AnswerKind; values: Float64Array; size: number; n: number; miss: number }
  >();
  #missing = 0;

  /** Adds one question's result. */
  add(r: Pick<QuestionResult, "questionType" | "kind" | "prediction" | "score">): void {
    let t = this.#byType.get(r.questionType);
    if (!t) {
      t = { kind: r.kind, values: new Float64Array(64), size: 0, n: 0, miss: 0 };
      this.#byType.set(r.questionType, t);
    }
    t.n++;
    if (r.prediction === null) {
      t.miss++;
      this.#missing++;
    }
    if (r.score !== null) {
      if (t.size === t.values.length) {
        const grown = new Float64Array(t.values.length * 2);
        grown.set(t.values);
        t.values = grown;
      }
      t.values[t.size++] = r.score;
    }
  }

  /** The scores as lmms-eval aggregates them (see {@link aggregateScores}). */
  scores(bench: Benchmark): BenchScores {
    const byType = this.#byType;
    // pandas groupby sorts the keys; Python compares strings by code point.
    const names = [...byType.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const types: TypeScore[] = names.map((questionType) => {
      const t = byType.get(questionType)!;
      const values = t.values.subarray(0, t.size);
      return {
        questionType,
        kind: t.kind,
        questions: t.n,
        scored: t.size,
        missing: t.miss,
        score: t.size ? pandasMean(values) : null,
      };
    });
    const score = new Map(types.filter((t) => t.score !== null).map((t) => [t.questionType, t]));

    const lmmsEval: Record<string, number> = {};
    for (const t of score.values()) lmmsEval[`${t.questionType}_${metricName(t.kind)}`] = t.score!;
    if (bench.name === "vsi") {
      // The VLM-3R fork averages whichever levels are present (upstream assumes all three).
      const levels = REL_DIRECTION_LEVELS.filter((l) => score.has(l));
      if (levels.length) {
        for (const l of levels) delete lmmsEval[`${l}_accuracy`];
        lmmsEval.object_rel_direction_accuracy = pythonMean(
          levels.map((l) => score.get(l)!.score!),
        );
      }
    }
    const taskValues = Object.values(lmmsEval);
    const overall = taskValues.length ? pythonMean(taskValues) : null;
    if (overall !== null) lmmsEval.overall = overall;

    const columns = bench.columns.map((c) => {
      const present = c.types.filter((t) => score.has(t)).map((t) => score.get(t)!.score!);
      return present.length ? pythonMean(present) : null;
    });
    const presentColumns = columns.filter((c): c is number => c !== null);
    const tableAvg = bench.name === "vsi"
      ? overall
      : presentColumns.length
      ? pythonMean(presentColumns)
      : null;
    return {
      bench: bench.name,
      types,
      lmmsEval,
      overall,
      columns,
      tableAvg,
      missing: this.#missing,
    };
  }
}

/**
 * Scores a predictions file's answers: {@link scoreQuestions} then {@link aggregateScores}.
 *
 * @example
 * ```ts
 * import { VSTI_BENCH } from "./benchmarks.ts";
 * const q = { id: "a", questionType: "camera_displacement", question: "", options: [], groundTruth: 2, line: 1 };
 * const set = prepareQuestions(VSTI_BENCH, [q], "q.jsonl");
 * const { scores } = scorePredictions(set, new Map([["a", "2.2"]]));
 * if (scores.overall !== 0.9) throw new Error(String(scores.overall));
 * ```
 */
export function scorePredictions(
  set: PreparedSet,
  predictions: ReadonlyMap<string, string | null> | PredictionSet,
  missing: MissingPolicy = "skip",
  rules: ScoringRules = "vsibench",
): { results: QuestionResult[]; scores: BenchScores } {
  const map = predictions instanceof Map
    ? predictions
    : new Map([...(predictions as PredictionSet).byId].map(([k, v]) => [k, v.prediction]));
  const results = scoreQuestions(set, map, missing, rules);
  return { results, scores: aggregateScores(set.bench, results) };
}
