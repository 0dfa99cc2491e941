// Reports: the paper-layout table, csv/json/per-question files, and the chart rendered by headless
// Chromium to PNG with bars of the right colours and heights.

import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { main } from "../../cli/main.ts";
import { evalDemo } from "../../cli/eval.ts";
import { oraclePredictions } from "../../eval/baselines.ts";
import { BASELINE_COLOR, SERIES_COLORS } from "../../eval/chart.ts";
import { evaluate } from "../../eval/evaluate.ts";
import { readPredictions, readQuestions } from "../../eval/records.ts";
import { type EvalReport, writeReport } from "../../eval/report.ts";
import { prepareQuestions } from "../../eval/score.ts";
import { decodePng } from "../../io/image.ts";
import { capture, needs, renderSvg } from "../_support.ts";

const fixtures = new URL("../fixtures/eval/", import.meta.url).pathname;

async function goldenReport(bench: "vsi" | "vsti"): Promise<EvalReport> {
  const set = await readQuestions(`${fixtures}golden_${bench}_questions.jsonl`);
  const model = await readPredictions(
    `${fixtures}golden_${bench}_predictions.jsonl`,
    set.questions,
  );
  const first = evaluate(set, []);
  const oracle = oraclePredictions(prepareQuestions(first.bench, set.questions, set.file));
  return evaluate(set, [{ name: "model", predictions: model }, {
    name: "oracle",
    predictions: oracle,
  }]);
}

Deno.test("report files: Table 1 layout with published rows, csv, json, per question", async () => {
  const r = await goldenReport("vsi");
  const dir = await Deno.makeTempDir();
  try {
    await writeReport(r, dir);
    const md = await Deno.readTextFile(`${dir}/report.md`);
    assert(
      md.includes(
        "| Methods | Avg. | Obj. Count | Abs. Dist. | Obj. Size | Room Size | Rel. Dist. | Rel. Dir. | Route Plan | Appr. Order |",
      ),
      md,
    );
    // The golden model's row: the golden test's numbers, in percent with one decimal.
    assert(
      md.includes("| model | 56.8 | 62.0 | 55.0 | 42.9 | 50.0 | 63.6 | 61.1 | 50.0 | 70.0 |"),
      md,
    );
    assert(md.includes("| oracle | 100.0 | 100.0 |"), md);
    assert(md.includes("| Chance (random), this set | - | - | - | - | - | 25.0 | "), md);
    assert(
      md.includes(
        "| *VLM-3R (7B) (published)* | 60.9 | 70.2 | 49.4 | 69.2 | 67.1 | 65.4 | 80.5 | 45.4 | 40.1 |",
      ),
    );
    assert(
      md.includes(
        "| *Chance (random) (published)* | - | - | - | - | - | 25.0 | 36.1 | 28.3 | 25.0 |",
      ),
    );
    assert(md.includes("10 missing answers, left out of the means"));
    assert(md.includes("| object_size_estimation | MRA | 131 | 42.9 (5 missing) | 100.0 |"), md);

    const csv = (await Deno.readTextFile(`${dir}/scores.csv`)).trim().split("\n").map((l) =>
      l.split(",")
    );
    assertEquals(csv[0], [
      "model",
      "level",
      "key",
      "label",
      "metric",
      "questions",
      "scored",
      "missing",
      "score",
    ]);
    const overall = csv.find((row) => row[0] === "model" && row[1] === "overall")!;
    assertEquals(Number(overall[8]), 0.5682557720057719 * 100);

    const json = JSON.parse(await Deno.readTextFile(`${dir}/scores.json`));
    assertEquals(json.models[0].lmms_eval.overall, 0.5682557720057719);
    assertEquals(json.models[1].overall, 1);
    assertEquals(json.published.rows.length, 8);

    const lines = (await Deno.readTextFile(`${dir}/per_question.jsonl`)).trim().split("\n");
    assertEquals(lines.length, 2 * 215);
    const missing = lines.map((l) => JSON.parse(l)).filter((q) =>
      q.model === "model" && q.prediction === null
    );
    assertEquals(missing.length, 10);
    assert(missing.every((q) => q.score === null));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("VSTI report: Table 2 layout and lmms-eval overall", async () => {
  const r = await goldenReport("vsti");
  const dir = await Deno.makeTempDir();
  try {
    await writeReport(r, dir);
    const md = await Deno.readTextFile(`${dir}/report.md`);
    assert(
      md.includes(
        "| Methods | Avg. | Cam-Obj Abs. Dist. | Cam. Displace. | Cam. Mov. Dir. | Obj-Obj Rel. Pos. | Cam-Obj Rel. Dist. |",
      ),
    );
    assert(md.includes("| model | 42.5 | 45.0 | 24.0 | 36.4 | 41.1 | 66.3 |"), md);
    assert(
      md.includes(
        "lmms-eval overall (mean over every question type present): model 47.5, oracle 100.0",
      ),
    );
    assert(md.includes("| *VLM-3R (7B) (published)* | 58.8 | 39.4 | 39.6 | 60.6 | 86.5 | 68.6 |"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(
  "scores.svg renders in Chromium with bars of each series at their heights",
  needs("chromium"),
  async () => {
    const r = await goldenReport("vsi");
    const dir = await Deno.makeTempDir();
    try {
      await writeReport(r, dir);
      const svg = await Deno.readTextFile(`${dir}/scores.svg`);
      const width = Number(/width="(\d+)"/.exec(svg)![1]),
        height = Number(/height="(\d+)"/.exec(svg)![1]);
      await renderSvg(`${dir}/scores.svg`, `${dir}/scores.png`, { width, height });
      const png = decodePng(await Deno.readFile(`${dir}/scores.png`));
      assertEquals([png.width, png.height], [width, height]);
      // Pixels of each series' colour below the legend (y > 80), per colour.
      const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const colours = [SERIES_COLORS[0], SERIES_COLORS[1], BASELINE_COLOR].map(rgb);
      const counts = [0, 0, 0];
      const c = png.channels;
      for (let y = 80; y < png.height; y++) {
        for (let x = 0; x < png.width; x++) {
          const i = (y * png.width + x) * c;
          colours.forEach((col, k) => {
            if (
              Math.abs(png.data[i] - col[0]) <= 3 && Math.abs(png.data[i + 1] - col[1]) <= 3 &&
              Math.abs(png.data[i + 2] - col[2]) <= 3
            ) counts[k]++;
          });
        }
      }
      assert(counts.every((n) => n > 500), `bars present: ${counts}`);
      // Bars share a width, so areas are proportional to the values: the model's 8 tasks + Avg.
      // against the oracle's 9 x 100.
      const modelSum = [...r.models[0].scores.columns, r.models[0].scores.tableAvg]
        .reduce((s: number, v) => s + (v ?? 0) * 100, 0);
      assertAlmostEquals(counts[0] / counts[1], modelSum / 900, 0.02);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("vlm3r eval: tables on stdout, reports with --out, usage and data errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const q = `${fixtures}golden_vsi_questions.jsonl`,
      p = `${fixtures}golden_vsi_predictions.jsonl`;
    await Deno.writeTextFile(
      `${dir}/other.jsonl`,
      '{"id": 190, "prediction": "D"}\n{"id": 99999, "prediction": "A"}\n',
    );
    let io = capture();
    const code = await main([
      "eval",
      "--questions",
      q,
      "--predictions",
      p,
      "--compare",
      `${dir}/other.jsonl`,
      "--out",
      `${dir}/r`,
    ], io);
    // other.jsonl answers an id the questions do not have: ignored, said, exit 1.
    assertEquals(code, 1, io.err);
    assert(io.out.includes("VSI-Bench: 215 questions scored (full)"), io.out);
    assert(/golden_vsi_predictions +56\.8 +62\.0/.test(io.out), io.out);
    assert(
      io.err.includes("warning: golden_vsi_predictions: 10 of 215 questions have no answer"),
      io.err,
    );
    assert(
      io.err.includes("warning: other: 1 answers to ids not in the questions (first: 99999)"),
      io.err,
    );
    assert(
      io.err.endsWith("vlm3r eval: other: 1 answers to unknown ids (see the warnings above)\n"),
    );
    for (
      const f of ["report.md", "scores.csv", "scores.json", "per_question.jsonl", "scores.svg"]
    ) {
      assert((await Deno.stat(`${dir}/r/${f}`)).size > 0, f);
    }

    io = capture();
    assertEquals(
      await main(["eval", "--questions", q, "--predictions", p, "--names", "a,b"], io),
      2,
    );
    assert(io.err.includes("--names gives 2 names for 1 prediction files"), io.err);
    io = capture();
    assertEquals(
      await main(["eval", "--questions", q, "--predictions", p, "--bench", "vsx"], io),
      2,
    );
    assert(io.err.includes("--bench must be one of auto, vsi, vsti, got 'vsx'"), io.err);
    io = capture();
    assertEquals(await main(["eval", "--predictions", p], io), 2);
    assert(io.err.includes("--questions is required"));

    await Deno.writeTextFile(`${dir}/bad.jsonl`, '{"id": 1, "prediction": ["A"]}\n');
    io = capture();
    assertEquals(
      await main(["eval", "--questions", q, "--predictions", `${dir}/bad.jsonl`], io),
      1,
    );
    assertEquals(
      io.err,
      `vlm3r eval: ${dir}/bad.jsonl:1: prediction: expected a string, a number or null, got ["A"]\n`,
    );

    // Ground truth 0: named on stderr, left out, no crash; the reports written, exit 1.
    await Deno.writeTextFile(
      `${dir}/q0.jsonl`,
      '{"id": 1, "question_type": "object_counting", "ground_truth": "0"}\n{"id": 2, "question_type": "object_counting", "ground_truth": "2"}\n',
    );
    await Deno.writeTextFile(
      `${dir}/p0.jsonl`,
      '{"id": 1, "prediction": "0"}\n{"id": 2, "prediction": "2"}\n',
    );
    io = capture();
    assertEquals(
      await main([
        "eval",
        "--questions",
        `${dir}/q0.jsonl`,
        "--predictions",
        `${dir}/p0.jsonl`,
        "--out",
        `${dir}/r0`,
      ], io),
      1,
    );
    assert(
      io.err.includes(`${dir}/q0.jsonl: id 1: ground_truth: expected a non-zero number, got "0"`),
      io.err,
    );
    assert(io.err.endsWith("vlm3r eval: 1 questions left out (see the warnings above)\n"));
    assert((await Deno.readTextFile(`${dir}/r0/report.md`)).includes("## Left out"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evalDemo: oracle and frequency answers written, scored, reported next to them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { report, predictions, files, summary } = await evalDemo(
      `${fixtures}golden_vsti_questions.jsonl`,
      `${dir}/eval`,
    );
    assertEquals(predictions, [
      `${dir}/eval/predictions/oracle.jsonl`,
      `${dir}/eval/predictions/frequency.jsonl`,
    ]);
    assertEquals(files.length, 5);
    assertEquals(report.models[0].scores.overall, 1);
    assertEquals(report.models[0].scores.missing, 0);
    // The frequency model is the chance (frequency) row, scored from its written answers.
    assertEquals(report.models[1].scores.columns, report.chanceFrequency.columns);
    assert(summary[1].startsWith("oracle 100.0, chance (frequency) "), summary.join("\n"));
    assert((await Deno.readTextFile(`${dir}/eval/report.md`)).includes("| oracle | 100.0 |"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
