// Golden test: a fixed question set and model answers (tests/fixtures/eval/golden_*), scored here
// and, once, independently by lmms-eval's scoring functions re-typed in Python and run with
// numpy 1.26.4 and pandas (a throwaway script, not in the repo). The expected numbers are that
// run's output, written down: they must match to the last bit.
//
// The VSI answers are lmms-eval --log_samples lines (210 questions, 10 unanswered, one type with
// 131 questions so numpy's pairwise summation differs from a running sum); the VSTI answers are
// {id, prediction} lines for vlm3r-style records with mc_answer (67 questions, 2 unanswered).

import { assertEquals } from "../assert.ts";
import { evaluate } from "../../eval/evaluate.ts";
import { readPredictions, readQuestions } from "../../eval/records.ts";

const dir = new URL("../fixtures/eval/", import.meta.url).pathname;

async function score(bench: "vsi" | "vsti", options: Parameters<typeof evaluate>[2] = {}) {
  const set = await readQuestions(`${dir}golden_${bench}_questions.jsonl`);
  const predictions = await readPredictions(
    `${dir}golden_${bench}_predictions.jsonl`,
    set.questions,
  );
  return evaluate(set, [{ name: "model", predictions }], options).models[0];
}

Deno.test("golden VSI-Bench (lmms-eval samples), missing answers skipped", async () => {
  const m = await score("vsi");
  assertEquals(m.format, "lmms-eval");
  assertEquals(m.scores.missing, 10);
  assertEquals(m.scores.lmmsEval, {
    "obj_appearance_order_accuracy": 0.7,
    "object_abs_distance_MRA:.5:.95:.05": 0.5499999999999999,
    "object_counting_MRA:.5:.95:.05": 0.62,
    "object_rel_distance_accuracy": 0.6363636363636364,
    "object_size_estimation_MRA:.5:.95:.05": 0.4285714285714285,
    "room_size_estimation_MRA:.5:.95:.05": 0.5,
    "route_planning_accuracy": 0.5,
    "object_rel_direction_accuracy": 0.611111111111111,
    "overall": 0.5682557720057719,
  });
  // Table 1 order: count, abs dist, size, room, rel dist, rel dir, route, order.
  assertEquals(m.scores.columns, [
    0.62,
    0.5499999999999999,
    0.4285714285714285,
    0.5,
    0.6363636363636364,
    0.611111111111111,
    0.5,
    0.7,
  ]);
  assertEquals(m.scores.tableAvg, 0.5682557720057719);
});

Deno.test("golden VSI-Bench, missing answers scored 0", async () => {
  const m = await score("vsi", { missing: "zero" });
  assertEquals(m.scores.lmmsEval, {
    "obj_appearance_order_accuracy": 0.7,
    "object_abs_distance_MRA:.5:.95:.05": 0.43999999999999995,
    "object_counting_MRA:.5:.95:.05": 0.5166666666666667,
    "object_rel_distance_accuracy": 0.6363636363636364,
    "object_size_estimation_MRA:.5:.95:.05": 0.4122137404580153,
    "room_size_estimation_MRA:.5:.95:.05": 0.5,
    "route_planning_accuracy": 0.5,
    "object_rel_direction_accuracy": 0.5793650793650794,
    "overall": 0.5355761403566747,
  });
});

Deno.test("golden VSI-Bench, debiased subset", async () => {
  const set = await readQuestions(`${dir}golden_vsi_questions.jsonl`);
  const predictions = await readPredictions(`${dir}golden_vsi_predictions.jsonl`, set.questions);
  const r = evaluate(set, [{ name: "model", predictions }], { subset: "debiased" });
  assertEquals(r.questionsRead, 57);
  // Only the hard relative-direction level survives: the VLM-3R fork averages what is present.
  assertEquals(r.models[0].scores.lmmsEval, {
    "obj_appearance_order_accuracy": 1.0,
    "object_abs_distance_MRA:.5:.95:.05": 0.7,
    "object_counting_MRA:.5:.95:.05": 0.1,
    "object_rel_distance_accuracy": 0.0,
    "object_size_estimation_MRA:.5:.95:.05": 0.45128205128205123,
    "route_planning_accuracy": 0.5,
    "object_rel_direction_accuracy": 0.3333333333333333,
    "overall": 0.4406593406593407,
  });
});

Deno.test("golden VSTI-Bench ({id, prediction} lines on vlm3r records)", async () => {
  const m = await score("vsti");
  assertEquals(m.format, "jsonl");
  assertEquals(m.scores.missing, 2);
  assertEquals(m.scores.lmmsEval, {
    "camera_displacement_MRA:.5:.95:.05": 0.24000000000000005,
    "camera_movement_direction_accuracy": 0.36363636363636365,
    "camera_obj_abs_dist_MRA:.5:.95:.05": 0.45,
    "camera_obj_rel_dist_v1_accuracy": 0.75,
    "camera_obj_rel_dist_v2_accuracy": 0.5714285714285714,
    "camera_obj_rel_dist_v3_accuracy": 0.6666666666666666,
    "obj_obj_relative_pos_lr_accuracy": 0.3333333333333333,
    "obj_obj_relative_pos_nf_accuracy": 0.4,
    "obj_obj_relative_pos_ud_accuracy": 0.5,
    "overall": 0.47500721500721493,
  });
  // Table 2: abs dist, displacement, movement direction, mean(nf, lr, ud), mean(v1, v2, v3).
  assertEquals(m.scores.columns, [
    0.45,
    0.24000000000000005,
    0.36363636363636365,
    0.41111111111111115,
    0.6626984126984127,
  ]);
  assertEquals(m.scores.tableAvg, 0.42548917748917753);
  const zero = await score("vsti", { missing: "zero" });
  assertEquals(zero.scores.overall, 0.46608465608465605);
  assertEquals(zero.scores.tableAvg, 0.4094285714285714);
});
