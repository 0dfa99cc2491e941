// `vlm3r eval --rules lmms-eval-latest` against golden expectations computed once by lmms-eval's
// own functions (commit 75571cfe; tests/fixtures/eval/lmms_eval_latest/make_golden.py) on
// adversarial answers; and the streamed scorer (`vlm3r eval`) against the in-memory one.
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { main } from "../../cli/main.ts";
import { evaluate } from "../../eval/evaluate.ts";
import { evaluateFiles } from "../../eval/stream.ts";
import { readPredictions, readQuestions } from "../../eval/records.ts";
import { writeReport } from "../../eval/report.ts";
import { extractNumber } from "../../eval/rules.ts";
import { capture } from "../_support.ts";

const LATEST = new URL("../fixtures/eval/lmms_eval_latest/", import.meta.url).pathname;
const FIXTURES = new URL("../fixtures/eval/", import.meta.url).pathname;

interface Golden {
  source: string;
  per_question: { id: string; score: string; number: string | null }[];
  subscores: Record<string, string>;
  extract_number: { text: string; number?: string | null; raises?: string }[];
}
const golden: Golden = JSON.parse(await Deno.readTextFile(join(LATEST, "golden.json")));

/** A Python float repr as a number. */
function py(s: string): number {
  return s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s);
}

Deno.test("extractNumber is lmms-eval's extract_number on every adversarial answer", () => {
  assert(golden.source.includes("75571cfe"), golden.source);
  assert(golden.extract_number.length > 80);
  for (const w of golden.extract_number) {
    const got = extractNumber(w.text);
    if (w.raises) {
      // Python's float() of a huge word total raises OverflowError; vlm3r reads Infinity
      // (which scores 0) rather than stopping (eval/rules.ts).
      assertEquals(w.raises, "OverflowError");
      assertEquals(got, Infinity, JSON.stringify(w.text));
      continue;
    }
    assertEquals(got, w.number === null ? undefined : py(w.number!), JSON.stringify(w.text));
  }
});

Deno.test("eval --rules lmms-eval-latest: per-question scores and lmms-eval's subscores, exactly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = [
      "eval",
      "--questions",
      join(LATEST, "questions.jsonl"),
      "--predictions",
      join(LATEST, "predictions.jsonl"),
    ];
    const io = capture();
    assertEquals(
      await main([...args, "--rules", "lmms-eval-latest", "--out", dir], io),
      0,
      io.err,
    );
    assert(io.out.includes("(full; rules: lmms-eval-latest)"), io.out);
    const lines = (await Deno.readTextFile(join(dir, "per_question.jsonl"))).trimEnd().split("\n")
      .map((l) => JSON.parse(l));
    const byId = new Map(lines.map((l) => [l.id, l]));
    assertEquals(lines.length, golden.per_question.length);
    for (const g of golden.per_question) {
      const l = byId.get(g.id);
      assertEquals(l.score, py(g.score), g.id);
      if (l.kind === "na") {
        assertEquals(l.parsed === "" ? null : Number(l.parsed), g.number && py(g.number), g.id);
      }
    }
    const scores = JSON.parse(await Deno.readTextFile(join(dir, "scores.json")));
    assertEquals(scores.rules, "lmms-eval-latest");
    const got = scores.models[0].lmms_eval as Record<string, number>;
    assertEquals(Object.keys(got).sort(), Object.keys(golden.subscores).sort());
    for (const [k, v] of Object.entries(golden.subscores)) assertEquals(got[k], py(v), k);
    assert((await Deno.readTextFile(join(dir, "report.md"))).includes("`lmms-eval-latest`"));

    // The published rules read "3.5m" as no number: the numerical scores differ, letters not.
    const old = join(dir, "old");
    assertEquals(await main([...args, "--out", old], capture()), 0);
    const oldScores = JSON.parse(await Deno.readTextFile(join(old, "scores.json")));
    assertEquals(oldScores.rules, "vsibench");
    const o = oldScores.models[0].lmms_eval as Record<string, number>;
    assert(o["object_counting_MRA:.5:.95:.05"] < got["object_counting_MRA:.5:.95:.05"]);
    assertEquals(o.route_planning_accuracy, got.route_planning_accuracy);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the streamed scorer writes the in-memory scorer's report files, byte for byte", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [bench, rules] of [["vsi", "vsibench"], ["vsti", "lmms-eval-latest"]] as const) {
      const q = join(FIXTURES, `golden_${bench}_questions.jsonl`);
      const p = join(FIXTURES, `golden_${bench}_predictions.jsonl`);
      // A second model: the same answers as one lmms-eval samples file ({"logs": [...]}).
      const set = await readQuestions(q);
      const first = await readPredictions(p, set.questions);
      const logs = join(dir, `${bench}_logs.json`);
      await Deno.writeTextFile(
        logs,
        JSON.stringify({
          logs: [...first.byId.values()].map((a) => ({
            doc: { id: a.id },
            resps: [[a.prediction ?? ""]],
            filtered_resps: [a.prediction ?? ""],
          })),
        }),
      );
      // A third: out of order (reversed, then every third swapped with its neighbour), a tenth
      // of the answers missing, and answers to ids no question has, among them.
      const shuffled = join(dir, `${bench}_shuffled.jsonl`);
      const lines = [...first.byId.values()].filter((_, i) => i % 10 !== 3).reverse()
        .map((a) => JSON.stringify({ id: a.id, prediction: a.prediction }));
      for (let i = 0; i + 1 < lines.length; i += 3) {
        [lines[i], lines[i + 1]] = [lines[i + 1], lines[i]];
      }
      lines.splice(5, 0, JSON.stringify({ id: "nobody-1", prediction: "A" }));
      lines.push(JSON.stringify({ id: "nobody-2", prediction: "B" }));
      await Deno.writeTextFile(shuffled, lines.join("\n") + "\n");
      const options = { missing: "zero" as const, rules };
      const memory = evaluate(set, [
        { name: "a", predictions: first },
        { name: "b", predictions: await readPredictions(logs, set.questions) },
        { name: "c", predictions: await readPredictions(shuffled, set.questions) },
      ], options);
      assertEquals(memory.models[2].unknownIds, ["nobody-1", "nobody-2"]);
      await writeReport(memory, join(dir, `${bench}-memory`));
      const streamed = await evaluateFiles(
        q,
        [{ name: "a", file: p }, { name: "b", file: logs }, { name: "c", file: shuffled }],
        options,
        join(dir, `${bench}-streamed`),
      );
      await writeReport(streamed.report, join(dir, `${bench}-streamed`), { perQuestion: false });
      for (const f of ["report.md", "scores.csv", "scores.json", "per_question.jsonl"]) {
        assertEquals(
          await Deno.readTextFile(join(dir, `${bench}-streamed`, f)),
          await Deno.readTextFile(join(dir, `${bench}-memory`, f)),
          `${bench} ${f}`,
        );
      }
      assertEquals(streamed.report.models[2].unknownIds, ["nobody-1", "nobody-2"]);
      // A second answer to one question: the same error, naming both lines.
      await Deno.writeTextFile(shuffled, lines.join("\n") + "\n" + lines[7] + "\n");
      const inMemory = await readPredictions(shuffled, set.questions).catch((e) => e.message);
      const stream = await evaluateFiles(q, [{ name: "c", file: shuffled }], options)
        .catch((e) => e.message);
      assert(String(inMemory).includes("one answer per question"), String(inMemory));
      assertEquals(stream, inMemory);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
