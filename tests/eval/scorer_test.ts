// The scorer's quirks, each with an expectation computed by hand (or, for Python's own string
// and float semantics, read off CPython 3.11 once and written down here).

import { assert, assertEquals } from "../assert.ts";
import { VSI_BENCH, VSTI_BENCH } from "../../eval/benchmarks.ts";
import { meanRelativeAccuracy, MRA_THRESHOLDS, numpySum, pythonMean } from "../../eval/metrics.ts";
import { fuzzyMatch, pythonFloat, pythonStrip } from "../../eval/parse.ts";
import { type EvalQuestion, parsePredictions, parseQuestions } from "../../eval/records.ts";
import {
  aggregateScores,
  prepareQuestions,
  scoreAnswer,
  scorePredictions,
} from "../../eval/score.ts";
import { chanceFrequency, chanceRandom, frequencyPredictions } from "../../eval/baselines.ts";
import { debiasedSubset, evaluate } from "../../eval/evaluate.ts";
import { vsiBenchPrunedIds } from "../../eval/vsibench_pruned.ts";

const mca = { kind: "mca" as const, target: "A", truth: NaN };
const na = (truth: number) => ({ kind: "na" as const, target: String(truth), truth });

Deno.test("multiple choice: first space-separated token, trailing dots, case", () => {
  const cases: [string, number][] = [
    ["A", 1],
    ["A.", 1],
    ["a", 1],
    ["A. chair", 1],
    ["A...", 1],
    ["A\n", 1], // str.strip() removes the newline after the split
    ["(A)", 0],
    ["The answer is A", 0],
    [" A", 0], // split(" ") gives "" first
    ["A.\n", 0], // rstrip(".") runs before strip(): "A." stays
    ["A\tB", 0], // tabs do not split
    ["B", 0],
    ["", 0],
  ];
  for (const [pred, want] of cases) {
    assertEquals(scoreAnswer(mca, pred).score, want, JSON.stringify(pred));
  }
  // Python's str.split(" ")[0].rstrip(".").strip(), as CPython 3.11 gives it.
  assertEquals(fuzzyMatch("The answer is A"), "The");
  assertEquals(fuzzyMatch("A.B"), "A.B");
  assertEquals(fuzzyMatch("\tA"), "A");
  assertEquals(fuzzyMatch("A\u00a0"), "A");
  assertEquals(fuzzyMatch("A\x1c"), "A");
  assertEquals(pythonStrip("\ufeffA"), "\ufeffA");
});

Deno.test("Python float(): what parses and what does not", () => {
  // [input, float(input) in CPython 3.11 or null for ValueError]
  const cases: [string, number | null][] = [
    ["3", 3],
    ["-2", -2],
    ["+.5", 0.5],
    ["1.", 1],
    ["1_000", 1000],
    ["1__0", null],
    ["_1", null],
    ["1_", null],
    ["1e3", 1000],
    ["1E-2", 0.01],
    ["1e", null],
    ["e3", null],
    [".", null],
    ["", null],
    ["3.5m", null],
    ["0x10", null],
    ["0b1", null],
    ["-Infinity", -Infinity],
    ["infinit", null],
    ["\uff11\uff12", 12], // fullwidth digits
    ["\u0663", 3], // Arabic-Indic three
    ["\u{1d7d5}", 7], // mathematical bold seven
    ["1,5", null],
    ["3/4", null],
    ["1 2", null],
    ["\u00a03", 3],
    ["\x1c3\x1f", null], // float() strips only ASCII whitespace and mapped non-ASCII spaces
    ["\ufeff3", null],
    ["1.5e+2_0", 1.5e20],
  ];
  for (const [s, want] of cases) {
    assertEquals(pythonFloat(s) ?? null, want, JSON.stringify(s));
  }
  assert(Number.isNaN(pythonFloat("nAn")));
  assertEquals(pythonFloat("inf"), Infinity);
});

Deno.test("numerical answers: unparsable, NaN and infinite score 0", () => {
  for (const pred of ["3.5m", "about 3", "", "nan", "inf", "(3)", "3 m"]) {
    const want = pred === "3 m" ? 1 : 0; // "3 m": the first token is "3"
    assertEquals(scoreAnswer(na(3), pred).score, want, pred);
  }
  assertEquals(scoreAnswer(na(10), "1_0").score, 1);
  assertEquals(scoreAnswer(na(12), "\uff11\uff12").score, 1);
  assertEquals(scoreAnswer(na(3), "3.").score, 1);
});

Deno.test("MRA at each threshold boundary", () => {
  // numpy's grid: 0.5 + i * (0.45 / 9), the last set to 0.95; its 9th point is 0.8999999999999999.
  assertEquals(MRA_THRESHOLDS.length, 10);
  assertEquals(MRA_THRESHOLDS[8], 0.8999999999999999);
  assertEquals(MRA_THRESHOLDS[9], 0.95);
  // Truth 100: |e|/y is exact for these; 1 - θ in float64 is
  // .5, .44999999999999996, .4, .35, .30000000000000004, .25, .19999999999999996,
  // .15000000000000002, .10000000000000009, .050000000000000044.
  const cases: [number, number][] = [
    [100, 1],
    [105, 1], // 0.05 <= 1 - 0.95: counts at every threshold
    [95, 1],
    [106, 0.9],
    [110, 0.9], // 0.1 <= 0.10000000000000009
    [115, 0.8], // 0.15 <= 0.15000000000000002
    [120, 0.6], // 0.2 > 0.19999999999999996: θ = 0.80 fails, so do 0.85 .. 0.95
    [125, 0.6], // 0.25 <= 0.25
    [130, 0.5], // 0.3 <= 0.30000000000000004
    [140, 0.3], // 0.4 <= 0.4: θ = 0.5, 0.55, 0.6
    [145, 0.1], // 0.45 > 0.44999999999999996: only θ = 0.5
    [150, 0.1],
    [151, 0],
    [50, 0.1],
    [0, 0],
    [-100, 0],
  ];
  for (const [pred, want] of cases) assertEquals(meanRelativeAccuracy(pred, 100), want, `${pred}`);
  // Truth 1, answer 1.05: |e|/y = 0.050000000000000044, exactly 1 - 0.95 in float64.
  assertEquals(meanRelativeAccuracy(1.05, 1), 1);
  assertEquals(meanRelativeAccuracy(2.2, 2), 0.9);
});

function q(id: string, questionType: string, groundTruth: string | number, options: string[] = []) {
  return { id, questionType, question: "", options, groundTruth, line: Number(id) || 1 };
}

Deno.test("relative direction is the mean of its three levels; overall is a macro mean", () => {
  const letters = ["A. left", "B. right", "C. back", "D. front"];
  const questions: EvalQuestion[] = [
    q("1", "object_rel_direction_easy", "A", letters.slice(0, 2)),
    q("2", "object_rel_direction_medium", "A", letters.slice(0, 3)),
    q("3", "object_rel_direction_medium", "B", letters.slice(0, 3)),
    q("4", "object_rel_direction_hard", "C", letters),
    q("5", "object_rel_direction_hard", "D", letters),
    q("6", "route_planning", "A", letters),
    q("7", "object_counting", "4"),
    ...Array.from({ length: 9 }, (_, i) => q(String(10 + i), "object_counting", "10")),
  ];
  const set = prepareQuestions(VSI_BENCH, questions, "q.jsonl");
  const answers = new Map<string, string>([
    ["1", "A"], // easy 1/1
    ["2", "B"],
    ["3", "C"], // medium 0/2
    ["4", "C"],
    ["5", "A"], // hard 1/2
    ["6", "B"], // route 0/1
    ["7", "4"], // counting: 1 question at 1.0, nine at 0
    ...Array.from({ length: 9 }, (_, i) => [String(10 + i), "1"] as [string, string]),
  ]);
  const { scores } = scorePredictions(set, answers);
  // rel dir = (1 + 0 + 0.5) / 3 = 0.5; counting = 1 / 10 = 0.1; route = 0.
  assertEquals(scores.lmmsEval.object_rel_direction_accuracy, 0.5);
  assertEquals(scores.lmmsEval["object_counting_MRA:.5:.95:.05"], 0.1);
  assert(!("object_rel_direction_easy_accuracy" in scores.lmmsEval));
  // Overall: tasks weigh equally whatever their size: (0.1 + 0 + 0.5) / 3 = 0.19999999999999998
  // (Python's left-to-right sum over sorted types, relative direction last).
  assertEquals(scores.overall, (0.1 + 0 + 0.5) / 3);
  assertEquals(scores.columns[0], 0.1);
  assertEquals(scores.columns[5], 0.5);
  assertEquals(scores.columns[6], 0);
  assertEquals(scores.columns[1], null, "a task absent from the set is null");
  assertEquals(scores.tableAvg, scores.overall);
});

Deno.test("VSTI: every type counts once in overall; Table 2 columns average their types", () => {
  const opts = ["A. near", "B. far"];
  const set = prepareQuestions(VSTI_BENCH, [
    q("1", "obj_obj_relative_pos_nf", "A", opts),
    q("2", "obj_obj_relative_pos_lr", "A", opts),
    q("3", "obj_obj_relative_pos_ud", "A", opts),
    q("4", "camera_displacement", 2),
  ], "q.jsonl");
  const { scores } = scorePredictions(
    set,
    new Map([["1", "A"], ["2", "A"], ["3", "B"], ["4", "2"]]),
  );
  // types sorted: camera_displacement 1, nf 1, lr 1, ud 0 -> overall (1 + 1 + 1 + 0) / 4.
  assertEquals(scores.overall, 0.75);
  // Obj-Obj Rel. Pos. = (nf + lr + ud) / 3 = 2/3; Avg. = mean of the present columns (1, 2/3).
  assertEquals(scores.columns[3], 2 / 3);
  assertEquals(scores.tableAvg, (1 + 2 / 3) / 2);
});

Deno.test("ground truth 0 is reported by id and left out, not a crash", () => {
  const set = prepareQuestions(VSI_BENCH, [
    q("1", "object_abs_distance", "0"),
    q("2", "object_abs_distance", 0),
    q("3", "object_abs_distance", "two"),
    q("4", "object_abs_distance", "2"),
    q("5", "not_a_vsi_type", "2"),
    q("6", "route_planning", 3),
  ], "q.jsonl");
  assertEquals(set.questions.map((x) => x.id), ["4"]);
  assertEquals(set.excluded.map((e) => e.id), ["1", "2", "3", "5", "6"]);
  assert(
    set.excluded[0].reason.startsWith(
      'q.jsonl: id 1: ground_truth: expected a non-zero number, got "0"',
    ),
  );
  assert(set.excluded[3].reason.includes("question_type: expected a VSI-Bench type"));
  const { scores } = scorePredictions(set, new Map([["1", "0"], ["4", "2"]]));
  assertEquals(scores.overall, 1);
});

Deno.test("missing answers are counted, and scored only with --missing zero", () => {
  const set = prepareQuestions(VSI_BENCH, [
    q("1", "route_planning", "A"),
    q("2", "route_planning", "B"),
  ], "q");
  const skip = scorePredictions(set, new Map([["1", "A"]])).scores;
  assertEquals([skip.overall, skip.missing, skip.types[0].scored], [1, 1, 1]);
  const zero = scorePredictions(set, new Map([["1", "A"]]), "zero").scores;
  assertEquals([zero.overall, zero.missing, zero.types[0].scored], [0.5, 1, 2]);
  const none = scorePredictions(set, new Map()).scores;
  assertEquals([none.overall, none.tableAvg, none.types[0].score], [null, null, null]);
});

Deno.test("numpy pairwise summation, not a running sum", () => {
  // Reference values: np.sum of the same arrays with numpy 1.26.4.
  const tenths = Array.from({ length: 131 }, (_, i) => ((i * 7) % 11) / 10);
  assertEquals(numpySum(tenths), 65.60000000000001);
  const xs = Array.from({ length: 1000 }, () => 0.1);
  assertEquals(numpySum(xs), 100.00000000000001);
  assertEquals(xs.reduce((s, x) => s + x, 0), 99.9999999999986);
  assertEquals(pythonMean([0.1, 0.2, 0.3]), 0.20000000000000004);
});

Deno.test("baselines: random = 1/options, frequency = modal answer per type", () => {
  const two = ["A. left", "B. right"], three = ["A. left", "B. right", "C. back"];
  const set = prepareQuestions(VSI_BENCH, [
    q("1", "object_rel_direction_easy", "B", two),
    q("2", "object_rel_direction_easy", "A", ["A. right", "B. left"]),
    q("3", "object_rel_direction_easy", "A", two),
    q("4", "object_rel_direction_medium", "C", three),
    q("5", "object_counting", "2"),
    q("6", "object_counting", "2"),
    q("7", "object_counting", "3"),
  ], "q.jsonl");
  const random = chanceRandom(set);
  // easy 1/2, medium 1/3 -> rel dir (1/2 + 1/3) / 2 (the hard level is absent).
  assertEquals(random.columns[5], (0.5 + 1 / 3) / 2);
  assertEquals(random.columns[0], null, "no uniform guess for numbers");
  assertEquals(random.tableAvg, null);
  const freq = frequencyPredictions(set);
  // easy: "right" is the correct text twice, "left" once -> the letter of "right" per question.
  assertEquals([freq.get("1"), freq.get("2"), freq.get("3")], ["B", "A", "B"]);
  assertEquals(freq.get("5"), "2");
  const f = chanceFrequency(set);
  // easy 2/3; medium 1/1; counting: 2, 2 -> 1; 3 vs 2: |1|/3 = 0.333 -> θ 0.5, 0.55, 0.6, 0.65 -> 0.4.
  assertEquals(f.types.find((t) => t.questionType === "object_rel_direction_easy")!.score, 2 / 3);
  assertEquals(f.columns[0], (1 + 1 + 0.4) / 3);
});

Deno.test("question records: vlm3r and released formats; bad records name file, line, field", () => {
  const set = parseQuestions(
    [
      '{"id": 5, "question_type": "route_planning", "options": ["A. x", "B. y"], "ground_truth": "B"}',
      '{"id": "v-1", "question_type": "object_rel_distance", "options": ["A. bed", "B. sofa"], "ground_truth": "sofa", "mc_answer": "B", "frame_indices": [3]}',
    ].join("\n"),
    "q.jsonl",
  );
  const prepared = prepareQuestions(VSI_BENCH, set.questions, "q.jsonl");
  assertEquals(prepared.questions.map((x) => x.target), ["B", "B"]);
  const bad: [string, RegExp][] = [
    [
      '{"question_type": "x", "ground_truth": "1"}',
      /^q\.jsonl:1: id: expected a string or integer/,
    ],
    ['{"id": 1, "ground_truth": "1"}', /^q\.jsonl:1: question_type: expected a string/],
    ['{"id": 1, "question_type": "x"}', /^q\.jsonl:1: ground_truth: expected a string or number/],
    [
      '{"id": 1, "question_type": "x", "ground_truth": "1", "options": "A"}',
      /options: expected a list/,
    ],
    [
      '{"id": 1, "question_type": "x", "ground_truth": "1"}\n{"id": 1, "question_type": "x", "ground_truth": "1"}',
      /^q\.jsonl:2: id: expected a unique id \(1 is also on line 1\)/,
    ],
    ['{"id": 1,', /^q\.jsonl:1: line: expected one JSON object/],
  ];
  for (const [text, re] of bad) {
    let msg = "";
    try {
      parseQuestions(text, "q.jsonl");
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(re.test(msg), `${text} -> ${msg}`);
  }
  const p = parsePredictions(
    '{"id": 5, "prediction": "B"}\n{"id": 9, "prediction": null}',
    "p.jsonl",
    set.questions,
  );
  assertEquals([p.format, p.byId.get("5")?.prediction, p.unknownIds], ["jsonl", "B", ["9"]]);
  let dup = "";
  try {
    parsePredictions(
      '{"id": 5, "prediction": "B"}\n{"id": 5, "prediction": "A"}',
      "p.jsonl",
      set.questions,
    );
  } catch (e) {
    dup = (e as Error).message;
  }
  assertEquals(dup, "p.jsonl:2: id: expected one answer per question (5 is also on line 1)");
  // lmms-eval samples without a doc id fall back to doc_id, the position in the question set.
  const lmms = parsePredictions(
    '{"doc_id": 1, "resps": [["B"]], "filtered_resps": ["B"]}',
    "s.jsonl",
    set.questions,
  );
  assertEquals(lmms.byId.get("v-1")?.prediction, "B");
  // And the older single-file form {"logs": [...]}.
  const logs = parsePredictions(
    JSON.stringify({ logs: [{ doc: { id: 5 }, resps: [["A"]] }] }),
    "s.json",
    set.questions,
  );
  assertEquals(logs.byId.get("5")?.prediction, "A");
});

Deno.test("debiased VSI-Bench: 2,768 pruned ids, bytes as released", async () => {
  const ids = vsiBenchPrunedIds();
  assertEquals(ids.length, 2768);
  assertEquals(new Set(ids).size, 2768);
  // sha256 of vision-x-nyu/test-set-training data/removed_ids.txt (one id per line).
  const text = new TextEncoder().encode(ids.join("\n") + "\n");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", text));
  assertEquals(
    [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""),
    "fa39b6d9ab8ecece6b80203c74196dc09a76dcc0c7788d3cbbf1b463927a94a5",
  );
  const kept = debiasedSubset([q("1", "route_planning", "A"), q("6", "route_planning", "A")], "q");
  assertEquals(kept.map((x) => x.id), ["6"]);
  let msg = "";
  try {
    evaluate(
      parseQuestions(
        '{"id": "x", "question_type": "route_planning", "ground_truth": "A"}',
        "q.jsonl",
      ),
      [],
      { subset: "debiased" },
    );
  } catch (e) {
    msg = (e as Error).message;
  }
  assertEquals(msg, "q.jsonl:1: id: expected VSI-Bench's integer ids for --subset debiased, got x");
});

Deno.test("benchmark detection and aggregation of an empty set", () => {
  const r = evaluate(
    parseQuestions('{"id": 1, "question_type": "camera_displacement", "ground_truth": 1}', "q"),
    [],
  );
  assertEquals(r.bench.name, "vsti");
  let msg = "";
  try {
    evaluate(parseQuestions('{"id": 1, "question_type": "nope", "ground_truth": 1}', "q"), []);
  } catch (e) {
    msg = (e as Error).message;
  }
  assertEquals(msg, "q: question_type: expected VSI-Bench or VSTI-Bench question types, got nope");
  const empty = aggregateScores(VSI_BENCH, []);
  assertEquals([empty.overall, empty.tableAvg, empty.types.length], [null, null, 0]);
});
