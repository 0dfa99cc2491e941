/**
 * `vlm3r eval`: scores model answers on VSI-Bench or VSTI-Bench questions exactly as lmms-eval
 * does, and writes the reports. Also {@link evalDemo}, the demo's scoring step.
 *
 * @module
 */

import { basename, join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { frequencyPredictions, oraclePredictions } from "../eval/baselines.ts";
import { answerKind, BENCHMARKS, type BenchName } from "../eval/benchmarks.ts";
import { evaluate, type ModelAnswers, type Subset } from "../eval/evaluate.ts";
import { evaluateFiles } from "../eval/stream.ts";
import { readPredictions, readQuestions } from "../eval/records.ts";
import { type EvalReport, tableRows, writeReport } from "../eval/report.ts";
import { SCORING_RULES, type ScoringRules } from "../eval/rules.ts";
import { type MissingPolicy, prepareQuestions } from "../eval/score.ts";
import { type Command, type Context, UsageError } from "./_command.ts";

/** The `eval` command. */
export const evalCommand: Command = {
  name: "eval",
  summary: "score model answers on VSI-Bench / VSTI-Bench questions, with reports",
  usage: "vlm3r eval --questions Q.jsonl --predictions P.jsonl [--bench vsi|vsti|auto] " +
    "[--out DIR] [--compare P2.jsonl,P3.jsonl] [--names A,B] [--missing skip|zero] " +
    "[--subset full|debiased] [--rules vsibench|lmms-eval-latest]",
  examples: [
    "vlm3r eval --questions vsibench.jsonl --predictions answers.jsonl --out report/",
    "vlm3r eval --questions q.jsonl --predictions a.jsonl --compare b.jsonl --names ours,base",
    "vlm3r eval --questions vsibench.jsonl --predictions answers.jsonl --rules lmms-eval-latest",
  ],
  options: {
    questions: {
      type: "string",
      value: "Q.jsonl",
      description: "questions: vlm3r records or released VSI-Bench/VSTI-Bench records",
    },
    predictions: {
      type: "string",
      value: "P.jsonl",
      description: "answers: {id, prediction} lines or lmms-eval --log_samples output",
    },
    bench: {
      type: "string",
      value: "NAME",
      description: "benchmark",
      choices: ["auto", "vsi", "vsti"],
      default: "auto",
    },
    out: {
      type: "string",
      value: "DIR",
      description: "write report.md, scores.csv, scores.json, per_question.jsonl, scores.svg",
    },
    compare: {
      type: "string",
      value: "FILES",
      description: "more prediction files, comma-separated, scored side by side",
    },
    names: {
      type: "string",
      value: "NAMES",
      description: "model names, comma-separated, in the order of the files (default: file names)",
    },
    missing: {
      type: "string",
      value: "POLICY",
      description: "questions without an answer: left out of the means, or scored 0",
      choices: ["skip", "zero"],
      default: "skip",
    },
    subset: {
      type: "string",
      value: "NAME",
      description: "VSI-Bench questions: all, or the debiased set (bias-pruned ids removed)",
      choices: ["full", "debiased"],
      default: "full",
    },
    rules: {
      type: "string",
      value: "RULES",
      description: "scoring rules: the benchmarks' published ones, or today's lmms-eval " +
        "(numbers taken from answers such as '3.5m' or 'three')",
      choices: SCORING_RULES,
      default: "vsibench",
    },
  },
  run: runEval,
};

/** The model name of a predictions file: its name without `.jsonl` / `.json`. */
function modelName(path: string): string {
  return basename(path).replace(/\.(jsonl|json)$/, "");
}

async function runEval(ctx: Context): Promise<number> {
  const questionsPath = ctx.string("questions", true);
  const files = [ctx.string("predictions", true), ...ctx.list("compare")];
  const names = ctx.list("names", files.map(modelName));
  if (names.length !== files.length) {
    throw new UsageError(
      `--names gives ${names.length} names for ${files.length} prediction files`,
    );
  }
  if (new Set(names).size !== names.length) {
    throw new UsageError(`--names must be distinct, got ${names.join(", ")}`);
  }
  const out = ctx.string("out");
  const rules = (ctx.string("rules") ?? "vsibench") as ScoringRules;
  // Streamed: questions and answers read a line at a time, results written as they come.
  const { report, encoding } = await evaluateFiles(
    questionsPath,
    files.map((file, i) => ({ name: names[i], file })),
    {
      bench: (ctx.string("bench") ?? "auto") as "auto" | "vsi" | "vsti",
      subset: (ctx.string("subset") ?? "full") as Subset,
      missing: (ctx.string("missing") ?? "skip") as MissingPolicy,
      rules,
    },
    out,
  );
  for (const file of encoding) warnEncoding(ctx, file);
  warn(ctx, report, out);
  ctx.out(summaryTable(report));
  if (out) {
    await writeReport(report, out, { perQuestion: false });
    ctx.out(
      `reports written to ${out}/ (report.md, scores.csv, scores.json, per_question.jsonl, scores.svg)`,
    );
  }
  // Input that was not scored as given fails the run, after the reports are written.
  const scored = report.questionsRead - report.excluded.length;
  const problems = [
    scored === 0 ? "no question scored" : "",
    report.excluded.length && scored ? `${report.excluded.length} questions left out` : "",
    ...report.models.flatMap((m) => [
      scored && m.scores.missing === m.questions ? `${m.name}: no question answered` : "",
      m.unknownIds.length ? `${m.name}: ${m.unknownIds.length} answers to unknown ids` : "",
    ]),
    ...encoding.map((f) =>
      f.invalidUtf8Lines.length
        ? `${f.file}: ${f.invalidUtf8Lines.length} lines not valid UTF-8`
        : ""
    ),
  ].filter((p) => p !== "");
  if (problems.length) {
    throw new Error(`${problems.join("; ")} (see the warnings above)`);
  }
  return 0;
}

/** One warning per line of `file` that is not valid UTF-8 (the first five, then a count). */
function warnEncoding(ctx: Context, file: { file: string; invalidUtf8Lines: number[] }): void {
  const lines = file.invalidUtf8Lines;
  for (const line of lines.slice(0, 5)) {
    ctx.err(
      `warning: ${file.file}:${line}: expected UTF-8 text; its bad bytes were read as U+FFFD`,
    );
  }
  if (lines.length > 5) {
    ctx.err(`warning: ${file.file}: ... and ${lines.length - 5} more lines not valid UTF-8`);
  }
}

/** Diagnostics on stderr: questions left out, missing answers, answers to unknown ids. */
function warn(ctx: Context, r: EvalReport, out: string | undefined): void {
  if (r.excluded.length) {
    ctx.err(`warning: ${r.excluded.length} questions left out of the scores:`);
    for (const e of r.excluded.slice(0, 5)) ctx.err(`  ${e.reason}`);
    if (r.excluded.length > 5) {
      ctx.err(
        `  ... and ${r.excluded.length - 5} more ` +
          (out ? `(all in ${join(out, "scores.json")})` : "(--out DIR lists them all)"),
      );
    }
  }
  for (const m of r.models) {
    if (m.scores.missing) {
      ctx.err(
        `warning: ${m.name}: ${m.scores.missing} of ${m.questions} questions have no answer (${
          r.missing === "zero" ? "scored 0" : "left out of the means; --missing zero scores them 0"
        })`,
      );
    }
    if (m.unknownIds.length) {
      ctx.err(
        `warning: ${m.name}: ${m.unknownIds.length} answers to ids not in the questions ` +
          `(first: ${m.unknownIds.slice(0, 3).join(", ")})`,
      );
    }
  }
}

/** The paper-layout table as aligned text for the terminal. */
function summaryTable(r: EvalReport): string {
  const rows = tableRows(r).filter((row) => !row.published);
  const header = ["", "Avg.", ...r.bench.columns.map((c) => c.label)];
  const body = rows.map((row) => [
    row.label,
    ...[row.avg, ...row.values].map((v) => (v === null ? "-" : v.toFixed(1))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const scored = r.questionsRead - r.excluded.length;
  return [
    `${r.bench.title}: ${scored} questions scored (${r.subset}` +
    (r.rules && r.rules !== "vsibench" ? `; rules: ${r.rules})` : ")"),
    line(header),
    ...body.map(line),
  ].join("\n");
}

/** What {@link evalDemo} made. */
export interface EvalDemoResult {
  report: EvalReport;
  /** The prediction files it wrote (oracle, frequency). */
  predictions: string[];
  /** The report files. */
  files: string[];
  /** Lines for the demo's summary. */
  summary: string[];
}

/**
 * The demo's scoring step: answers `questionsPath` with the oracle (every answer right) and the
 * chance (frequency) baseline, writes their predictions to `outDir/predictions/`, scores them
 * with the chance (random) row, and writes the reports into `outDir`. With `bench`, only that
 * benchmark's questions are scored (a file of both kinds, such as `gen --tasks all` writes,
 * is scored once per benchmark); else the benchmark is detected.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/q.jsonl`, [
 *   '{"id": "a", "question_type": "object_counting", "ground_truth": 3, "options": []}',
 *   '{"id": "b", "question_type": "object_rel_distance", "options": ["A. bed", "B. sofa"], "ground_truth": "sofa", "mc_answer": "B"}',
 * ].join("\n"));
 * const { report } = await evalDemo(`${dir}/q.jsonl`, `${dir}/eval`);
 * if (report.models[0].scores.overall !== 1) throw new Error("the oracle scores 100");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function evalDemo(
  questionsPath: string,
  outDir: string,
  bench?: BenchName,
): Promise<EvalDemoResult> {
  let set = await readQuestions(questionsPath);
  if (bench) {
    const b = BENCHMARKS[bench];
    set = { ...set, questions: set.questions.filter((q) => answerKind(b, q.questionType)) };
  }
  const probe = evaluate(set, [], { bench });
  const prepared = prepareQuestions(probe.bench, set.questions, set.file);
  const answers: [string, Map<string, string>][] = [
    ["oracle", oraclePredictions(prepared)],
    ["frequency", frequencyPredictions(prepared)],
  ];
  await Deno.mkdir(join(outDir, "predictions"), { recursive: true });
  const predictions: string[] = [];
  const models: ModelAnswers[] = [];
  for (const [name, map] of answers) {
    const path = join(outDir, "predictions", `${name}.jsonl`);
    const lines = [...map].map(([id, prediction]) => JSON.stringify({ id, prediction }) + "\n");
    await writeFileAtomic(path, lines.join(""));
    predictions.push(path);
    models.push({ name, predictions: await readPredictions(path, set.questions) });
  }
  const report = evaluate(set, models, { bench: probe.bench.name });
  const files = await writeReport(report, outDir);
  const pct = (x: number | null) => (x === null ? "-" : (x * 100).toFixed(1));
  const summary = [
    `${report.bench.title}: ${report.questionsRead - report.excluded.length} questions scored` +
    (report.excluded.length ? `, ${report.excluded.length} left out` : ""),
    `oracle ${pct(report.models[0].scores.tableAvg)}, chance (frequency) ${
      pct(report.models[1].scores.tableAvg)
    }, chance (random) ${pct(report.chanceRandom.tableAvg)} (Avg.; random: multiple-choice only)`,
    `report: ${join(outDir, "report.md")} and scores.svg`,
  ];
  return { report, predictions, files, summary };
}
