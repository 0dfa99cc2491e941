/**
 * Reports of a scoring run: `report.md` (the paper's Table 1 or 2 layout with the model rows,
 * the chance rows computed on the question set and the paper's published rows marked as such,
 * then per question type), `scores.csv`, `scores.json`, `per_question.jsonl` and `scores.svg`.
 *
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import type { Benchmark } from "./benchmarks.ts";
import { barChartSvg, BASELINE_COLOR, SERIES_COLORS } from "./chart.ts";
import { RULES_DESCRIPTION, type ScoringRules } from "./rules.ts";
import type { BenchScores, ExcludedQuestion, MissingPolicy, QuestionResult } from "./score.ts";

/** One scored model. */
export interface ModelRun {
  name: string;
  /** The predictions file and its format. */
  file?: string;
  format?: string;
  scores: BenchScores;
  /**
   * Per question (in memory only from {@link evaluate}: a streamed run writes them to
   * `per_question.jsonl` as it scores, and leaves this empty).
   */
  results: QuestionResult[];
  /** Questions scored for this model (the length of `results` when it is kept). */
  questions: number;
  /** Prediction ids that are not in the question set. */
  unknownIds: string[];
}

/** Everything a report shows. */
export interface EvalReport {
  bench: Benchmark;
  questionsFile: string;
  /** `full`, or `debiased` (VSI-Bench minus the bias-pruned ids). */
  subset: string;
  /** Questions read, before any were left out. */
  questionsRead: number;
  excluded: ExcludedQuestion[];
  missing: MissingPolicy;
  /** The scoring rules applied (eval/rules.ts); absent means `vsibench`. */
  rules?: ScoringRules;
  models: ModelRun[];
  chanceRandom: BenchScores;
  chanceFrequency: BenchScores;
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "-" : (x * 100).toFixed(1);
const pub = (x: number | null) => (x === null ? "-" : x.toFixed(1));
const cell = (s: string) => s.replace(/\|/g, "\\|");

/**
 * The rows of the paper-layout table, each a label and values in percent (`null` = "-"): the
 * models, the two chance rows on this question set, then the published rows.
 *
 * @example
 * ```ts
 * import { evaluate } from "./evaluate.ts";
 * import { parseQuestions } from "./records.ts";
 * const set = parseQuestions('{"id": 1, "question_type": "route_planning", "ground_truth": "A", "options": ["A. x", "B. y"]}', "q");
 * const rows = tableRows(evaluate(set, []));
 * if (rows[0].label !== "Chance (random), this set" || rows[0].values[6] !== 50) throw new Error();
 * if (!rows[rows.length - 1].published) throw new Error();
 * ```
 */
export function tableRows(
  r: EvalReport,
): { label: string; published: boolean; avg: number | null; values: (number | null)[] }[] {
  const own = (label: string, s: BenchScores) => ({
    label,
    published: false,
    avg: s.tableAvg === null ? null : s.tableAvg * 100,
    values: s.columns.map((c) => (c === null ? null : c * 100)),
  });
  return [
    ...r.models.map((m) => own(m.name, m.scores)),
    own("Chance (random), this set", r.chanceRandom),
    own("Chance (frequency), this set", r.chanceFrequency),
    ...r.bench.published.map((p) => ({
      label: `${p.method} (published)`,
      published: true,
      avg: p.avg,
      values: [...p.scores],
    })),
  ];
}

/**
 * `report.md`.
 *
 * @example
 * ```ts
 * import { evaluate } from "./evaluate.ts";
 * import { parseQuestions } from "./records.ts";
 * const set = parseQuestions('{"id": 1, "question_type": "object_counting", "ground_truth": "4"}', "q.jsonl");
 * const md = reportMarkdown(evaluate(set, [{ name: "m", predictions: new Map([["1", "4"]]) }]));
 * if (!md.includes("| m | 100.0 | 100.0 | - |")) throw new Error(md);
 * ```
 */
export function reportMarkdown(r: EvalReport): string {
  const b = r.bench;
  const scored = r.questionsRead - r.excluded.length;
  const lines: string[] = [];
  lines.push(`# ${b.title} scores`, "");
  lines.push(
    `Questions: \`${r.questionsFile}\`, ${r.questionsRead} read, ${scored} scored` +
      (r.excluded.length ? `, ${r.excluded.length} left out (listed below)` : "") +
      `; subset: ${r.subset}. Scoring rules: \`${r.rules ?? "vsibench"}\`, ` +
      `${RULES_DESCRIPTION[r.rules ?? "vsibench"]}.`,
    "",
  );
  for (const m of r.models) {
    const parts = [`**${m.name}**: \`${m.file ?? "-"}\` (${m.format ?? "jsonl"})`];
    parts.push(
      m.scores.missing
        ? `${m.scores.missing} missing answers, ${
          r.missing === "zero" ? "scored 0" : "left out of the means"
        }`
        : "no missing answers",
    );
    if (m.unknownIds.length) parts.push(`${m.unknownIds.length} answers to unknown ids ignored`);
    lines.push(`- ${parts.join("; ")}.`);
  }
  lines.push("");
  lines.push(`## ${b.title} (layout of ${b.source.replace(/^.*, /, "the paper's ")})`, "");
  lines.push(`| Methods | Avg. | ${b.columns.map((c) => cell(c.label)).join(" | ")} |`);
  lines.push(`|---|---:|${b.columns.map(() => "---:").join("|")}|`);
  for (const row of tableRows(r)) {
    const f = row.published ? pub : (x: number | null) => (x === null ? "-" : x.toFixed(1));
    const label = row.published ? `*${cell(row.label)}*` : cell(row.label);
    lines.push(`| ${label} | ${f(row.avg)} | ${row.values.map(f).join(" | ")} |`);
  }
  lines.push("");
  lines.push(
    `Scores in percent. "(published)" rows are copied from the ${b.source} for context: they ` +
      `were measured on the full released benchmark, not computed here. Chance (random) is the ` +
      `expected score of a uniform guess among the options ("-" for numerical tasks); chance ` +
      `(frequency) always gives the most frequent answer of the question type.` +
      (b.name === "vsti"
        ? " Avg. is the mean of the five columns; a column is the mean of its question types."
        : " Avg. is lmms-eval's overall score: the unweighted mean of the 8 tasks, Rel. Dir. " +
          "being the mean of its easy, medium and hard levels."),
    "",
  );
  if (b.name === "vsti") {
    lines.push(
      `lmms-eval overall (mean over every question type present): ` +
        r.models.map((m) => `${m.name} ${pct(m.scores.overall)}`).join(", ") +
        `; chance (frequency) ${pct(r.chanceFrequency.overall)}.`,
      "",
    );
  }
  lines.push("## Per question type", "");
  const names = [...r.models.map((m) => m.name), "Chance (random)", "Chance (frequency)"];
  lines.push(`| Question type | Metric | Questions | ${names.map(cell).join(" | ")} |`);
  lines.push(`|---|---|---:|${names.map(() => "---:").join("|")}|`);
  const all = [...r.models.map((m) => m.scores), r.chanceRandom, r.chanceFrequency];
  for (const t of r.chanceFrequency.types) {
    const vals = all.map((s, i) => {
      const ts = s.types.find((x) => x.questionType === t.questionType);
      const v = pct(ts?.score);
      return i < r.models.length && ts?.missing ? `${v} (${ts.missing} missing)` : v;
    });
    lines.push(
      `| ${t.questionType} | ${t.kind === "mca" ? "accuracy" : "MRA"} | ${t.questions} | ${
        vals.join(" | ")
      } |`,
    );
  }
  lines.push("");
  if (r.excluded.length) {
    lines.push("## Left out", "");
    for (const e of r.excluded.slice(0, 50)) lines.push(`- ${e.reason}`);
    if (r.excluded.length > 50) lines.push(`- ... and ${r.excluded.length - 50} more`);
    lines.push("");
  }
  return lines.join("\n");
}

/**
 * `scores.csv`: one row per model (and chance row), level and key; scores in percent.
 *
 * @example
 * ```ts
 * import { evaluate } from "./evaluate.ts";
 * import { parseQuestions } from "./records.ts";
 * const set = parseQuestions('{"id": 1, "question_type": "object_counting", "ground_truth": "4"}', "q.jsonl");
 * const csv = reportCsv(evaluate(set, [{ name: "m", predictions: new Map([["1", "9"]]) }]));
 * if (!csv.includes("m,type,object_counting,object_counting,MRA,1,1,0,0\n")) throw new Error(csv);
 * ```
 */
export function reportCsv(r: EvalReport): string {
  const rows = [[
    "model",
    "level",
    "key",
    "label",
    "metric",
    "questions",
    "scored",
    "missing",
    "score",
  ]];
  const num = (x: number | null) => (x === null ? "" : String(x * 100));
  const add = (name: string, s: BenchScores) => {
    for (const t of s.types) {
      rows.push([
        name,
        "type",
        t.questionType,
        t.questionType,
        t.kind === "mca" ? "accuracy" : "MRA",
        String(t.questions),
        String(t.scored),
        String(t.missing),
        num(t.score),
      ]);
    }
    r.bench.columns.forEach((c, i) => {
      rows.push([name, "column", c.key, c.label, "", "", "", "", num(s.columns[i])]);
    });
    rows.push([name, "table_avg", "avg", "Avg.", "", "", "", "", num(s.tableAvg)]);
    rows.push([name, "overall", "overall", "lmms-eval overall", "", "", "", "", num(s.overall)]);
  };
  for (const m of r.models) add(m.name, m.scores);
  add("Chance (random)", r.chanceRandom);
  add("Chance (frequency)", r.chanceFrequency);
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return rows.map((row) => row.map(q).join(",")).join("\n") + "\n";
}

/**
 * `scores.json`: the whole report as data (scores as fractions, like lmms-eval).
 *
 * @example
 * ```ts
 * import { evaluate } from "./evaluate.ts";
 * import { parseQuestions } from "./records.ts";
 * const set = parseQuestions('{"id": 1, "question_type": "object_counting", "ground_truth": "4"}', "q.jsonl");
 * const json = reportJson(evaluate(set, [{ name: "m", predictions: new Map([["1", "4"]]) }])) as { models: { overall: number }[] };
 * if (json.models[0].overall !== 1) throw new Error();
 * ```
 */
export function reportJson(r: EvalReport): unknown {
  const scores = (s: BenchScores) => ({
    overall: s.overall,
    table_avg: s.tableAvg,
    columns: Object.fromEntries(r.bench.columns.map((c, i) => [c.key, s.columns[i]])),
    types: Object.fromEntries(s.types.map((t) => [t.questionType, {
      kind: t.kind,
      questions: t.questions,
      scored: t.scored,
      missing: t.missing,
      score: t.score,
    }])),
    lmms_eval: s.lmmsEval,
  });
  return {
    bench: r.bench.name,
    rules: r.rules ?? "vsibench",
    questions_file: r.questionsFile,
    subset: r.subset,
    questions_read: r.questionsRead,
    questions_scored: r.questionsRead - r.excluded.length,
    missing_policy: r.missing,
    excluded: r.excluded,
    models: r.models.map((m) => ({
      name: m.name,
      predictions_file: m.file ?? null,
      format: m.format ?? null,
      missing: m.scores.missing,
      unknown_ids: m.unknownIds.length,
      ...scores(m.scores),
    })),
    chance_random: scores(r.chanceRandom),
    chance_frequency: scores(r.chanceFrequency),
    published: { source: r.bench.source, rows: r.bench.published },
  };
}

/**
 * `per_question.jsonl`: one line per model and question.
 *
 * @example
 * ```ts
 * import { evaluate } from "./evaluate.ts";
 * import { parseQuestions } from "./records.ts";
 * const set = parseQuestions('{"id": 1, "question_type": "object_counting", "ground_truth": "4"}', "q.jsonl");
 * const lines = reportPerQuestion(evaluate(set, [{ name: "m", predictions: new Map([["1", "4.0"]]) }]));
 * if (JSON.parse(lines).parsed !== "4.0") throw new Error(lines);
 * ```
 */
export function reportPerQuestion(r: EvalReport): string {
  const lines: string[] = [];
  for (const m of r.models) {
    for (const q of m.results) lines.push(perQuestionLine(m.name, q));
  }
  return lines.join("\n") + (lines.length ? "\n" : "");
}

/**
 * One line of `per_question.jsonl` (without its newline).
 *
 * @example
 * ```ts
 * const line = perQuestionLine("m", { id: "1", questionType: "object_counting", kind: "na",
 *   target: "4", prediction: "4", parsed: "4", score: 1 });
 * if (JSON.parse(line).model !== "m") throw new Error();
 * ```
 */
export function perQuestionLine(model: string, q: QuestionResult): string {
  return JSON.stringify({
    model,
    id: q.id,
    question_type: q.questionType,
    kind: q.kind,
    target: q.target,
    prediction: q.prediction,
    parsed: q.parsed,
    score: q.score,
  });
}

/**
 * `scores.svg`: per-task grouped bars of the models and chance (frequency), chance (random) as marks.
 *
 * @example
 * ```ts
 * import { evaluate } from "./evaluate.ts";
 * import { parseQuestions } from "./records.ts";
 * const set = parseQuestions('{"id": 1, "question_type": "object_counting", "ground_truth": "4"}', "q.jsonl");
 * const svg = reportSvg(evaluate(set, [{ name: "m", predictions: new Map([["1", "4"]]) }]));
 * if (!svg.includes("<title>m, Obj. Count: 100.0</title>")) throw new Error();
 * ```
 */
export function reportSvg(r: EvalReport): string {
  const groups = [...r.bench.columns.map((c) => c.label), "Avg."];
  const values = (s: BenchScores) =>
    [...s.columns, s.tableAvg].map((v) => (v === null ? null : v * 100));
  return barChartSvg({
    title: `${r.bench.title}: scores by task`,
    groups,
    yLabel: "score (%)",
    series: [
      ...r.models.map((m, i) => ({
        name: m.name,
        color: SERIES_COLORS[i % SERIES_COLORS.length],
        values: values(m.scores),
      })),
      { name: "Chance (frequency)", color: BASELINE_COLOR, values: values(r.chanceFrequency) },
    ],
    marks: { name: "Chance (random)", values: values(r.chanceRandom) },
  });
}

/**
 * Writes the five report files into `dir` (created if needed), each atomically (with
 * `perQuestion: false`, all but `per_question.jsonl`, which a streamed run writes itself).
 *
 * @example
 * ```ts
 * import { evaluate } from "./evaluate.ts";
 * import { parseQuestions } from "./records.ts";
 * const set = parseQuestions('{"id": 1, "question_type": "object_counting", "ground_truth": "4"}', "q.jsonl");
 * const dir = await Deno.makeTempDir();
 * const files = await writeReport(evaluate(set, []), dir);
 * if (files.length !== 5) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeReport(
  r: EvalReport,
  dir: string,
  options: { perQuestion?: boolean } = {},
): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const files: [string, () => string][] = [
    ["report.md", () => reportMarkdown(r)],
    ["scores.csv", () => reportCsv(r)],
    ["scores.json", () => JSON.stringify(reportJson(r), null, 2) + "\n"],
    ["per_question.jsonl", () => reportPerQuestion(r)],
    ["scores.svg", () => reportSvg(r)],
  ];
  // A streamed run has written per_question.jsonl itself (options.perQuestion false).
  const kept = files.filter(([name]) => options.perQuestion !== false || !name.startsWith("per_"));
  for (const [name, text] of kept) await writeFileAtomic(join(dir, name), text());
  return files.map(([name]) => join(dir, name));
}
