/**
 * Benchmark of `vlm3r eval`: scoring 100k predictions (aim: under 2 s), stage by stage: parsing
 * the question and prediction JSON lines, scoring, aggregation with the chance baselines, and
 * the report files. The question set is VSI-Bench-shaped (the 10 types in the benchmark's
 * proportions), answers a seeded mix of right, wrong and malformed ones. Prints a table (or,
 * with `--json`, one JSON object). Wall times of this run; compare across machines with care.
 *
 *   deno task bench:eval       # = deno run -A bench/eval.ts [--n 100000] [--json]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Rng } from "../geometry/rng.ts";
import { evaluate } from "../eval/evaluate.ts";
import { parsePredictions, parseQuestions } from "../eval/records.ts";
import { writeReport } from "../eval/report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    n: { type: "string", default: "100000" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});
const n = Number(values.n);

// VSI-Bench's per-type counts in its 5,130-question release, used as proportions.
const TYPES: [string, number, number][] = [
  ["object_counting", 565, 0],
  ["object_abs_distance", 834, 0],
  ["object_size_estimation", 953, 0],
  ["room_size_estimation", 288, 0],
  ["object_rel_distance", 710, 4],
  ["object_rel_direction_easy", 217, 2],
  ["object_rel_direction_medium", 378, 3],
  ["object_rel_direction_hard", 373, 4],
  ["route_planning", 194, 4],
  ["obj_appearance_order", 618, 4],
];
const total = TYPES.reduce((s, t) => s + t[1], 0);

function makeData(): { questions: string; predictions: string } {
  const rng = new Rng(values.seed!);
  const q: string[] = [], p: string[] = [];
  for (let i = 0; i < n; i++) {
    let r = rng.next() * total, k = 0;
    while (r >= TYPES[k][1]) r -= TYPES[k++][1];
    const [type, , options] = TYPES[k];
    const letters = "ABCD".slice(0, options);
    if (options) {
      const gt = letters[Math.floor(rng.next() * options)];
      q.push(JSON.stringify({
        id: i,
        dataset: "scannet",
        scene_name: `scene${String(i % 700).padStart(4, "0")}_00`,
        question_type: type,
        question: `Question ${i} about ${type}?`,
        options: [...letters].map((l, j) => `${l}. option ${j}`),
        ground_truth: gt,
      }));
      const u = rng.next();
      const answer = u < 0.5
        ? `${gt}.`
        : u < 0.9
        ? letters[Math.floor(rng.next() * options)]
        : `(${gt})`;
      p.push(JSON.stringify({ id: i, prediction: answer }));
    } else {
      const gt = Math.round((0.5 + rng.next() * 9) * 10) / 10;
      q.push(JSON.stringify({
        id: i,
        dataset: "scannet",
        scene_name: `scene${String(i % 700).padStart(4, "0")}_00`,
        question_type: type,
        question: `Question ${i} about ${type}?`,
        options: null,
        ground_truth: String(gt),
      }));
      const u = rng.next();
      const answer = u < 0.85 ? (gt * (0.4 + rng.next() * 1.2)).toFixed(2) : `${gt}m`;
      p.push(JSON.stringify({ id: i, prediction: answer }));
    }
  }
  return { questions: q.join("\n") + "\n", predictions: p.join("\n") + "\n" };
}

const time = <T>(fn: () => T): [T, number] => {
  const t0 = performance.now();
  const r = fn();
  return [r, (performance.now() - t0) / 1000];
};

const data = makeData();
const rows: { stage: string; seconds: number }[] = [];
const [set, tQ] = time(() => parseQuestions(data.questions, "questions.jsonl"));
rows.push({ stage: "parse questions", seconds: tQ });
const [preds, tP] = time(() =>
  parsePredictions(data.predictions, "predictions.jsonl", set.questions)
);
rows.push({ stage: "parse predictions", seconds: tP });
const [report, tS] = time(() => evaluate(set, [{ name: "model", predictions: preds }]));
rows.push({ stage: "score + aggregate + baselines", seconds: tS });
const dir = await Deno.makeTempDir({ prefix: "vlm3r-bench-eval-" });
const t0 = performance.now();
await writeReport(report, dir);
rows.push({ stage: "write 5 report files", seconds: (performance.now() - t0) / 1000 });
await Deno.remove(dir, { recursive: true });
const sum = rows.reduce((s, r) => s + r.seconds, 0);
rows.push({ stage: "total (aim < 2 s)", seconds: sum });

if (values.json) {
  console.log(JSON.stringify({ predictions: n, overall: report.models[0].scores.overall, rows }));
} else {
  console.log(
    `vlm3r eval: ${n} predictions (VSI-Bench-shaped), overall ${
      ((report.models[0].scores.overall ?? 0) * 100).toFixed(2)
    }`,
  );
  console.log("| stage | seconds | predictions/s |");
  console.log("|---|---:|---:|");
  for (const r of rows) {
    console.log(`| ${r.stage} | ${r.seconds.toFixed(3)} | ${Math.round(n / r.seconds)} |`);
  }
}
