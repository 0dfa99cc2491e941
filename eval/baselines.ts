/**
 * Baselines computed from a question set, as the paper defines its chance rows: chance
 * (random), the expected score of guessing uniformly among the options; chance (frequency),
 * always giving the most frequent answer of the question type. Plus the oracle, which answers
 * every question correctly (a check of the scorer and of the question set).
 *
 * @module
 */

import {
  type BenchScores,
  type PreparedSet,
  type ScorableQuestion,
  ScoreAccumulator,
  scoreQuestion,
} from "./score.ts";
import type { ScoringRules } from "./rules.ts";

/** An option split into its letter and text: `"B. chair"` -> `B`, `chair`. */
export interface OptionParts {
  letter: string;
  text: string;
}

/**
 * The letter and text of option `index`: `"B. chair"` gives B and chair; an option without a
 * `"X. "` prefix gets the letter of its position.
 *
 * @example
 * ```ts
 * const o = optionParts("B. Turn Left, Turn Right", 1);
 * if (o.letter !== "B" || o.text !== "Turn Left, Turn Right") throw new Error();
 * if (optionParts("chair", 2).letter !== "C") throw new Error();
 * ```
 */
export function optionParts(option: string, index: number): OptionParts {
  const m = /^([A-Za-z])\.\s*([\s\S]*)$/.exec(option);
  if (m) return { letter: m[1], text: m[2] };
  return { letter: String.fromCharCode(65 + index), text: option };
}

/** The text of a multiple-choice question's correct option (the target letter if none). */
export function correctText(q: ScorableQuestion): string {
  const parts = q.options.map(optionParts);
  const hit = parts.find((p) => p.letter.toLowerCase() === q.target.toLowerCase());
  return hit ? hit.text : q.target;
}

/**
 * Chance (random): each multiple-choice question scores 1 / its number of options; numerical
 * questions have no uniform guess, so their types, the table's average and the overall are
 * `null` (the paper prints "-").
 *
 * @example
 * ```ts
 * import { VSI_BENCH } from "./benchmarks.ts";
 * import { prepareQuestions } from "./score.ts";
 * const q = (id: string, n: number) => ({ id, questionType: "object_rel_distance", question: "",
 *   options: ["A. x", "B. y", "C. z", "D. w"].slice(0, n), groundTruth: "A", line: 1 });
 * const s = chanceRandom(prepareQuestions(VSI_BENCH, [q("1", 4), q("2", 2)], "q.jsonl"));
 * if (s.columns[4] !== 0.375) throw new Error(String(s.columns[4]));
 * ```
 */
export function chanceRandom(set: PreparedSet): BenchScores {
  const acc = new ScoreAccumulator();
  for (const q of set.questions) {
    acc.add({
      questionType: q.questionType,
      kind: q.kind,
      prediction: "",
      score: q.kind === "mca" && q.options.length ? 1 / q.options.length : null,
    });
  }
  const scores = acc.scores(set.bench);
  if (set.questions.some((q) => q.kind === "na")) {
    scores.overall = null;
    scores.tableAvg = null;
    delete scores.lmmsEval.overall;
  }
  return scores;
}

const byCountThenKey = <K extends string | number>(a: [K, number], b: [K, number]) =>
  b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * Chance (frequency) as predictions: per question type, the most frequent answer. Numerical:
 * the most frequent ground-truth value (the smallest on a tie). Multiple choice: the most
 * frequent text of the correct option; a question whose options lack it gets the option whose
 * text is the most frequent correct answer among its own (ties by text, then the first option).
 *
 * @example
 * ```ts
 * import { VSI_BENCH } from "./benchmarks.ts";
 * import { prepareQuestions } from "./score.ts";
 * const q = (id: string, gt: string) => ({ id, questionType: "object_counting", question: "",
 *   options: [], groundTruth: gt, line: 1 });
 * const set = prepareQuestions(VSI_BENCH, [q("1", "2"), q("2", "2"), q("3", "4")], "q.jsonl");
 * if (frequencyPredictions(set).get("3") !== "2") throw new Error();
 * ```
 */
export function frequencyPredictions(set: PreparedSet): Map<string, string> {
  const answer = frequencyAnswerer(set);
  return new Map(set.questions.map((q) => [q.id, answer(q)]));
}

/** {@link frequencyPredictions} as a function of the question (no map of every answer). */
function frequencyAnswerer(set: PreparedSet): (q: ScorableQuestion) => string {
  const stats = new FrequencyStats();
  for (const q of set.questions) stats.add(q);
  return stats.answerer();
}

/**
 * What chance (frequency) needs of a question set, gathered one question at a time: per type,
 * how often each numerical ground truth and each correct option text occurs (bounded by the
 * distinct answers, not by the questions).
 *
 * @example
 * ```ts
 * const q = (id: string, truth: number) => ({ id, questionType: "object_counting", question: "",
 *   options: [], groundTruth: truth, line: 1, kind: "na" as const, target: String(truth), truth });
 * const stats = new FrequencyStats();
 * for (const x of [q("1", 2), q("2", 2), q("3", 4)]) stats.add(x);
 * if (stats.answerer()(q("3", 4)) !== "2") throw new Error();
 * ```
 */
export class FrequencyStats {
  #numbers = new Map<string, Map<number, number>>();
  #texts = new Map<string, Map<string, number>>();

  /** Counts one question's answer. */
  add(q: ScorableQuestion): void {
    if (q.kind === "na") {
      const m = this.#numbers.get(q.questionType) ?? new Map<number, number>();
      this.#numbers.set(q.questionType, m);
      m.set(q.truth, (m.get(q.truth) ?? 0) + 1);
    } else {
      const m = this.#texts.get(q.questionType) ?? new Map<string, number>();
      this.#texts.set(q.questionType, m);
      const t = correctText(q);
      m.set(t, (m.get(t) ?? 0) + 1);
    }
  }

  /** The frequency baseline's answer to a question of the counted set. */
  answerer(): (q: ScorableQuestion) => string {
    const modal = new Map(
      [...this.#numbers].map(([type, m]) => [type, [...m].sort(byCountThenKey)[0][0]]),
    );
    const texts = this.#texts;
    return (q) => {
      if (q.kind === "na") return String(modal.get(q.questionType));
      const counts = texts.get(q.questionType)!;
      const ranked = q.options.map((o, i) => ({ ...optionParts(o, i), i }))
        .map((p) => ({ ...p, count: counts.get(p.text) ?? 0 }))
        .sort((a, b) =>
          b.count - a.count || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0) || a.i - b.i
        );
      return ranked.length ? ranked[0].letter : "";
    };
  }
}

/**
 * Chance (frequency) scores: {@link frequencyPredictions} scored like a model.
 *
 * @example
 * ```ts
 * import { VSI_BENCH } from "./benchmarks.ts";
 * import { prepareQuestions } from "./score.ts";
 * const q = (id: string, gt: string) => ({ id, questionType: "object_counting", question: "",
 *   options: [], groundTruth: gt, line: 1 });
 * const s = chanceFrequency(prepareQuestions(VSI_BENCH, [q("1", "2"), q("2", "2")], "q.jsonl"));
 * if (s.overall !== 1) throw new Error();
 * ```
 */
export function chanceFrequency(set: PreparedSet, rules: ScoringRules = "vsibench"): BenchScores {
  const answer = frequencyAnswerer(set);
  const acc = new ScoreAccumulator();
  for (const q of set.questions) acc.add(scoreQuestion(q, answer(q), "skip", rules));
  return acc.scores(set.bench);
}

/**
 * The oracle's answers: the target letter, or the ground truth as written.
 *
 * @example
 * ```ts
 * import { VSI_BENCH } from "./benchmarks.ts";
 * import { prepareQuestions } from "./score.ts";
 * const set = prepareQuestions(VSI_BENCH, [{ id: "1", questionType: "object_counting",
 *   question: "", options: [], groundTruth: 3, line: 1 }], "q.jsonl");
 * if (oraclePredictions(set).get("1") !== "3") throw new Error();
 * ```
 */
export function oraclePredictions(set: PreparedSet): Map<string, string> {
  return new Map(set.questions.map((q) => [q.id, q.target]));
}
