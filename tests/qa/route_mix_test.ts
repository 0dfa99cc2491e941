// The route-question mix a new user gets: 20 synth scenes of the default mix (seeded) through
// synth -> meta -> gen, every question read back and checked against the reference's forms.

import { join } from "node:path";
import { main } from "../../cli/main.ts";
import type { QaRecord } from "../../qa/types.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { assert, assertEquals } from "../assert.ts";
import { capture } from "../_support.ts";

const NOTE =
  " You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): ";
const HEAD =
  /^You are a robot beginning at the (.+?) facing the (.+?)\. You want to navigate to the (.+?)\.$/;
const END = " You have reached the final destination.";

/**
 * The question's form by the reference's rules, or a reason it is none: the opening, the note,
 * numbered steps (a blank then the goal; or forward to the facing landmark, then a blank and a
 * forward step per further landmark, ending at the goal), the closing sentence.
 */
function form(q: string, blanks: number): string {
  const at = q.indexOf(NOTE);
  if (at < 0 || !q.endsWith(END)) return "no note or no closing sentence";
  const head = q.slice(0, at).match(HEAD);
  if (!head) return "no opening";
  const [, start, facing, goal] = head;
  if (new Set([start, facing, goal]).size !== 3) return "a landmark named twice";
  const body = q.slice(at + NOTE.length, q.length - END.length);
  const steps = body.split(/ (?=\d+\. )/);
  if (!steps.every((s, i) => s.startsWith(`${i + 1}. `))) return "steps not numbered 1, 2, ...";
  const text = steps.map((s) => s.replace(/^\d+\. /, ""));
  const go = (s: string) => s.match(/^Go forward until the (.+)\.$/)?.[1];
  if (text.length === 2) {
    if (text[0] !== "[please fill in]" || go(text[1]) !== goal || blanks !== 1) return "one blank";
    return "one-blank";
  }
  if (text.length !== 2 * blanks + 1 || go(text[0]) !== facing) return "turns: first step";
  const names = [start];
  for (let i = 0; i < text.length; i++) {
    if (i % 2 === 1 && text[i] !== "[please fill in]") return "turns: blank expected";
    if (i % 2 === 0) names.push(go(text[i]) ?? "");
  }
  if (names[names.length - 1] !== goal || names.includes("")) return "turns: goal";
  if (new Set(names).size !== names.length) return "turns: a landmark named twice";
  return "turns";
}

Deno.test("20 synth scenes of the default mix: route questions mostly turn, many with two or more blanks, in the reference's forms", async () => {
  const root = await Deno.makeTempDir({ prefix: "vlm3r-route-mix-" });
  try {
    let apartments = 0;
    for (let i = 0; i < 20; i++) {
      const scene = synthScene("route-mix", i, { frames: 4, width: 32, height: 24 });
      if (scene.layout.rooms.length > 1) apartments++;
      await writeSynthScene(scene, root, { workers: 1, video: "none" });
    }
    assertEquals(apartments, 10, "the default mix is half apartments");
    const out = join(root, "processed");
    const io = capture();
    const meta = ["meta", "--dataset", "scannet", "--root", root, "--out", out, "--split", "val"];
    assertEquals(await main([...meta, "--frames", "4", "--workers", "1"], io), 0, io.err);
    const file = join(root, "routes.jsonl");
    const gen = capture();
    const args = ["gen", "--tasks", "route_planning", "--meta", join(out, "metadata", "val")];
    assertEquals(
      await main([...args, "--scenes-root", root, "--out", file, "--seed", "0", "--stats"], gen),
      0,
      gen.err,
    );
    const rs: QaRecord[] = (await Deno.readTextFile(file)).trimEnd().split("\n").map((l) =>
      JSON.parse(l)
    );
    let actions = 0, backs = 0, many = 0;
    for (const r of rs) {
      const answer = String(r.ground_truth).split(", ");
      actions += answer.length;
      backs += answer.filter((a) => a === "Turn Back").length;
      if (answer.length >= 2) many++;
      const options = (r.options as string[]).map((o) => o.slice(3));
      assertEquals(new Set(options).size, options.length, `${r.id}: options distinct`);
      assertEquals(options["ABCD".indexOf(r.mc_answer!)], r.ground_truth, r.id);
      assertEquals(options.length, answer.length === 1 ? 3 : 4);
      const f = form(r.question, answer.length);
      assert(f === "one-blank" || f === "turns", `${r.id}: ${f}: ${r.question}`);
      assertEquals(f === "turns", r.route_form === "turns", r.id);
      if (answer.includes("Turn Back")) assertEquals([answer.length, r.route_form], [1, "back"]);
    }
    assert(rs.length >= 60, `${rs.length} questions`);
    assertEquals(new Set(rs.map((r) => r.scene_name)).size, 20, "every scene asks some");
    assert(backs <= 0.4 * actions, `Turn Back is ${backs} of ${actions} answer actions`);
    assert(many >= 0.25 * rs.length, `${many} of ${rs.length} questions have two or more blanks`);
    // --stats says the same.
    const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
    assert(
      gen.out.includes(`(${pct(many / rs.length)} with two or more)`) &&
        gen.out.includes(`(Turn Back ${pct(backs / actions)} of ${actions})`),
      gen.out,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
