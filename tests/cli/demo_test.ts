// `vlm3r demo` end to end on small settings: every stage's outputs exist and agree.

import { join } from "node:path";
import { main } from "../../cli/main.ts";
import { answerKind, VSI_BENCH, VSTI_BENCH } from "../../eval/benchmarks.ts";
import { readQuestions } from "../../eval/records.ts";
import { TASKS } from "../../qa/generate.ts";
import type { QaRecord } from "../../qa/types.ts";
import { metadataPaths } from "../../scene/metadata.ts";
import { assert, assertEquals } from "../assert.ts";
import { capture, testGpu } from "../_support.ts";

async function lines(file: string): Promise<QaRecord[]> {
  return (await Deno.readTextFile(file)).trimEnd().split("\n").map((l) => JSON.parse(l));
}

Deno.test("vlm3r demo: synth -> meta -> gen -> route -> eval -> ask, outputs consistent", {
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const out = await Deno.makeTempDir({ prefix: "vlm3r-demo-" });
  try {
    const io = capture();
    const args = ["--frames", "16", "--fps", "1", "--width", "64", "--height", "48"];
    assertEquals(await main(["demo", "--out", out, ...args], io), 0, io.err);
    assertEquals(io.err, "");
    const stages = io.out.split("\n").filter((l) => /^\d\. /.test(l)).map((l) => l.split(":")[0]);
    assertEquals(stages, ["1. synth", "2. meta", "3. gen", "4. route", "5. eval", "6. ask"]);
    assert(io.out.split("\n").length < 70, "a short summary per stage");
    // The ask stage runs where a fit adapter is (every test GPU), else says why not.
    const ask = io.out.slice(io.out.indexOf("6. ask"));
    if (await testGpu()) {
      assert(/RANDOM weights/.test(ask) && /answer: ".*" \(ground truth: /.test(ask), ask);
      assert(
        /seconds: decode [\d.]+, preprocess [\d.]+, SigLIP [\d.]+, CUT3R [\d.]+/.test(ask),
        ask,
      );
      await Deno.stat(join(out, "tiny-model", "lora", "adapter_model.bin"));
    } else {
      assert(/skipped: /.test(ask), ask);
    }

    // synth and meta.
    const scan = join(out, "scene0000_00");
    await Deno.stat(join(scan, "ground_truth.json"));
    const paths = metadataPaths(join(out, "processed"), "scannet", "val");
    const meta = JSON.parse(await Deno.readTextFile(paths.scenes))["scene0000_00"];
    assertEquals(meta.scene_name, "scene0000_00");

    // gen: the questions file is valid for both benchmarks' readers, every record in the schema.
    const file = join(out, "questions.jsonl");
    const records = await lines(file);
    const set = await readQuestions(file);
    assertEquals(set.questions.length, records.length);
    const types = new Set(records.map((r) => r.question_type));
    assert(types.has("route_planning") && types.size >= 18, [...types].join());
    const known = new Set(TASKS.map((t) => t.questionType));
    for (const r of records) {
      assert(known.has(r.question_type), r.question_type);
      assertEquals(Object.keys(r).slice(0, 9), [
        "id",
        "dataset",
        "scene_name",
        "video_path",
        "question_type",
        "question",
        "options",
        "ground_truth",
        "mc_answer",
      ]);
      if (r.mc_answer !== null) {
        const options = r.options as string[];
        assertEquals(options["ABCDEF".indexOf(r.mc_answer)], `${r.mc_answer}. ${r.ground_truth}`);
      } else {
        assert(typeof r.ground_truth === "number" && r.ground_truth !== 0, r.id);
      }
      if (answerKind(VSTI_BENCH, r.question_type)) assert(Array.isArray(r.frame_indices), r.id);
    }
    assertEquals(new Set(records.map((r) => r.id)).size, records.length);
    assert(io.out.includes(`${records.length} questions of ${types.size} types`), io.out);

    // route: gen's route-planning questions, and the map.
    const routes = await lines(join(out, "route_questions.jsonl"));
    assert(routes.length > 0);
    assertEquals(routes, records.filter((r) => r.question_type === "route_planning"));
    assert((await Deno.readTextFile(join(out, "route_map.svg"))).startsWith("<svg"));

    // eval: the oracle scores 100 on every task of each benchmark; nothing left out.
    for (const [bench, spec] of [["vsi", VSI_BENCH], ["vsti", VSTI_BENCH]] as const) {
      const dir = join(out, `eval-${bench}`);
      for (const f of ["report.md", "scores.csv", "scores.svg", "per_question.jsonl"]) {
        await Deno.stat(join(dir, f));
      }
      const scores = JSON.parse(await Deno.readTextFile(join(dir, "scores.json")));
      const mine = records.filter((r) => answerKind(spec, r.question_type));
      assertEquals(scores.questions_read, mine.length);
      assertEquals(scores.excluded, []);
      const oracle = scores.models.find((m: { name: string }) => m.name === "oracle");
      const present = Object.entries(oracle.types as Record<string, { score: number }>);
      assertEquals(present.length, new Set(mine.map((r) => r.question_type)).size);
      for (const [t, s] of present) assertEquals(s.score, 1, `${bench} ${t}`);
      assertEquals(oracle.overall, 1);
    }
    // Only the training variants belong to neither benchmark.
    const neither = records.filter((r) =>
      !answerKind(VSI_BENCH, r.question_type) && !answerKind(VSTI_BENCH, r.question_type)
    );
    assertEquals(
      [...new Set(neither.map((r) => r.question_type))].sort(),
      ["object_rel_distance_v2", "object_rel_distance_v3"],
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
