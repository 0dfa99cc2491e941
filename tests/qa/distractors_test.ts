// Numeric distractors (DECISIONS 20): the tolerant comparison against a brute-force search of
// the reference's draw range, the reference's behaviour kept under --compat reference, and
// camera-displacement answers on a synth walk against every valid frame pair.

import { join } from "node:path";
import { main } from "../../cli/main.ts";
import { cameraCentre } from "../../geometry/pose.ts";
import { Rng } from "../../geometry/rng.ts";
import { numericOptions, optionSource, SIZE_BOUNDS } from "../../qa/distractors.ts";
import { generateQuestions, selectTasks } from "../../qa/generate.ts";
import { npRound, pyRound, roundHalfEven } from "../../qa/rounding.ts";
import { formatStats, questionStats, valueHistogram, valueHoles } from "../../qa/stats.ts";
import type { Compat } from "../../qa/types.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { assert, assertEquals } from "../assert.ts";
import { capture } from "../_support.ts";
import { synthMetadata } from "./synth_metadata.ts";

const eps = (g: number, decimals = 1) => Math.ceil(g * 0.2 * 10 ** decimals) / 10 ** decimals;

/** Every value a draw in [lo, hi) can round to, found by walking the range finely. */
function reachable(lo: number, hi: number, decimals: number): number[] {
  const out = new Set<number>();
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const x = lo + (hi - lo) * i / n;
    out.add(decimals === 0 ? roundHalfEven(x) : pyRound(x, decimals));
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Whether three of `values` are pairwise and from `g` at least `e` apart (tolerance 1e-9):
 * on a line, taking each value as soon as it is far enough from the last finds the most.
 */
function spacedTriple(values: number[], g: number, e: number): boolean {
  let last = -Infinity, n = 0;
  for (const v of values) {
    if (Math.abs(v - g) >= e - 1e-9 && v - last >= e - 1e-9) [last, n] = [v, n + 1];
  }
  return n >= 3;
}

/** Four distinct options, the answer among them (last, as drawn), at least EPS apart. */
function assertSpaced(opts: number[], g: number, e: number, what: string, last = true): void {
  assertEquals(opts.length, 4, what);
  assert(last ? opts[3] === g : opts.includes(g), `${what}: ${opts} holds ${g}`);
  assertEquals(new Set(opts).size, 4, `${what}: distinct ${opts}`);
  for (let i = 0; i < 4; i++) {
    for (let j = i + 1; j < 4; j++) {
      assert(Math.abs(opts[i] - opts[j]) >= e - 1e-9, `${what}: ${opts} spaced by ${e}`);
    }
  }
}

Deno.test("distractors: 0.2, 0.3 and 0.6 m get 4 distinct options at the right spacing; the reference's comparison drops them", () => {
  for (const g of [0.2, 0.3, 0.6]) {
    for (let seed = 0; seed < 200; seed++) {
      const opts = numericOptions(new Rng(`small/${g}/${seed}`), g)!;
      assertSpaced(opts, g, eps(g), `${g} seed ${seed}`);
      assert(opts.every((v) => v > 0 && v === pyRound(v, 1)), `${opts}`);
      // The reference: `0.6 - 0.4 < 0.2` in floats, so every pass fails.
      assertEquals(numericOptions(new Rng(`small/${g}/${seed}`), g, {}, "reference"), undefined);
    }
  }
  // 0.3 and 0.6 fit the reference's range [g/4, 7g/4) once the spacing is compared fairly;
  // 0.2 m cannot (only 0.1 and 0.3 are there): its range is raised, never its spacing lowered.
  assert(spacedTriple(reachable(0.075, 0.525, 1), 0.3, 0.1));
  assert(spacedTriple(reachable(0.15, 1.05, 1), 0.6, 0.2));
  assert(!spacedTriple(reachable(0.05, 0.35, 1), 0.2, 0.1));
});

Deno.test("distractors: every positive answer gets options; within the reference's range whenever it can hold them", () => {
  for (
    const [bounds, decimals, answers] of [
      [{}, 1, Array.from({ length: 120 }, (_, i) => npRound(0.1 * (i + 1), 1))],
      [SIZE_BOUNDS, 0, Array.from({ length: 120 }, (_, i) => i + 1)],
    ] as const
  ) {
    const lower = bounds === SIZE_BOUNDS ? 0.4 : 0.25, upper = bounds === SIZE_BOUNDS ? 1.8 : 1.75;
    let draws = 0, widened = 0;
    for (const g of answers) {
      const e = eps(g, decimals);
      const fits = spacedTriple(reachable(g * lower, g * upper, decimals), g, e);
      const round = (x: number) => decimals === 0 ? roundHalfEven(x) : pyRound(x, decimals);
      for (let seed = 0; seed < 20; seed++) {
        const opts = numericOptions(new Rng(`all/${g}/${seed}`), g, bounds);
        assert(opts, `${g}: options`);
        assertSpaced(opts, g, e, `${g}`);
        assert(opts.slice(0, 3).every((v) => v >= round(g * lower)), `${g}: ${opts}`);
        if (!fits) continue;
        draws++;
        if (opts.slice(0, 3).some((v) => v > round(g * upper))) widened++;
      }
    }
    // Where the range holds them, 31 passes find them (nearly always: the range is raised
    // only after they fail).
    assert(widened <= draws / 100, `${widened} of ${draws} draws left the reference's range`);
  }
  assertEquals(numericOptions(new Rng(0), 0), undefined);
  assertEquals(numericOptions(new Rng(0), -1), undefined);
});

Deno.test("option sources: without --na-options nothing is drawn; with it, from a stream of their own", () => {
  const fresh = (label: string) => new Rng(label);
  for (
    const [run, drawsFromRng] of [
      [{}, false],
      [{ naOptions: true }, false],
      [{ compat: "reference" as Compat }, true],
      [{ compat: "reference" as Compat, naOptions: true }, true],
    ] as const
  ) {
    const rng = fresh("src");
    const source = optionSource(run, rng);
    const opts = [0.2, 0.3, 0.6, 1.7].map((g) => source.numeric(g));
    const count = source.count(3);
    const untouched = rng.next() === fresh("src").next();
    assertEquals(untouched, !drawsFromRng, JSON.stringify(run));
    if (!("naOptions" in run) && !("compat" in run)) {
      assertEquals(opts, [null, null, null, null]);
      assertEquals(count, null);
    }
    if ("naOptions" in run && !("compat" in run)) {
      assert(opts.every((o) => o?.length === 4) && count?.length === 4);
    }
    if ("compat" in run) {
      assertEquals(opts.slice(0, 3), [undefined, undefined, undefined], "the reference drops");
      assertEquals(opts[3]!.length, 4);
    }
    assertEquals(source.numeric(0), undefined, "0 cannot be scored: dropped in every mode");
  }
});

Deno.test("camera displacement on a synth walk: every valid frame pair asked, no holes at 0.2, 0.3, 0.6", async () => {
  const root = await Deno.makeTempDir({ prefix: "vlm3r-distractors-" });
  try {
    const scene = synthScene("distractors", 0, {
      frames: 32,
      width: 32,
      height: 24,
      fps: 8,
      layout: "room",
    });
    const { dir } = await writeSynthScene(scene, root, { workers: 1, video: "none" });
    const input = await synthMetadata(dir, 32);
    // Independent: every pair 5..30 frames apart moving 0.2..10 m, from the true poses.
    const centres = scene.poses.map(cameraCentre);
    const expected: number[] = [];
    for (let i = 0; i < 32; i++) {
      for (let j = i + 5; j <= Math.min(31, i + 30); j++) {
        const d = Math.hypot(...[0, 1, 2].map((k) => centres[j][k] - centres[i][k]));
        if (d >= 0.2 && d <= 10) expected.push(npRound(d, 1));
      }
    }
    expected.sort((a, b) => a - b);
    const small = expected.filter((v) => v === 0.2 || v === 0.3 || v === 0.6).length;
    assert(small >= 10, `${small} pairs at 0.2, 0.3 or 0.6 m (of ${expected.length})`);
    const run = async (naOptions: boolean, compat?: Compat) => {
      const { records } = await generateQuestions(
        [input],
        selectTasks(["camera_displacement"]).tasks,
        {
          seed: "walk",
          distance: "exact",
          caps: { camera_displacement: 100000 },
          naOptions,
          compat,
        },
      );
      return records;
    };
    for (const naOptions of [false, true]) {
      const records = await run(naOptions);
      const answers = records.map((r) => r.ground_truth as number).sort((a, b) => a - b);
      assertEquals(answers, expected, `every valid pair, na-options ${naOptions}`);
      for (const r of records) {
        const g = r.ground_truth as number;
        if (!naOptions) assertEquals(r.options, null);
        else assertSpaced(r.options as number[], g, eps(g), r.id, false);
      }
      const h = valueHistogram(answers)!;
      const holes = valueHoles(h);
      for (const v of [0.2, 0.3, 0.6]) {
        if (expected.includes(v)) assert(!holes.includes(v), `${v} is answered`);
      }
      // --stats shows the histogram value by value.
      const lines = formatStats(questionStats(records));
      assert(lines.some((l) => l.includes("every 0.1: |")), lines.join("\n"));
    }
    // The reference's routine drops exactly the pairs at 0.2, 0.3 and 0.6 m.
    const ref = (await run(true, "reference")).map((r) => r.ground_truth as number);
    assertEquals(
      ref.sort((a, b) => a - b),
      expected.filter((v) => v !== 0.2 && v !== 0.3 && v !== 0.6),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("gen --compat: the reference drops the absolute distances of 0.3 and 0.6 m that vlm3r asks", async () => {
  const meta = new URL("../fixtures/qa/vsibench_meta_info/", import.meta.url).pathname;
  const dir = await Deno.makeTempDir();
  try {
    const run = async (...more: string[]) => {
      const out = join(dir, `${more.join("_")}.jsonl`);
      const io = capture();
      const args = ["gen", "--tasks", "object_abs_distance", "--meta", meta, "--out", out];
      const code = await main([...args, "--cap", "object_abs_distance=1000", ...more], io);
      assertEquals(code, 0, io.err);
      return (await Deno.readTextFile(out)).trimEnd().split("\n").map((l) =>
        JSON.parse(l).ground_truth as number
      );
    };
    const plain = await run(), options = await run("--na-options");
    const reference = await run("--na-options", "--compat", "reference");
    // Without options nothing depends on distractors; with them, the same questions.
    assertEquals(options, plain);
    const small = plain.filter((g) => g === 0.3 || g === 0.6).length;
    assert(small > 0, "the fixture has answers of 0.3 or 0.6 m");
    assertEquals(reference.filter((g) => g === 0.3 || g === 0.6).length, 0);
    assertEquals(
      await main(["gen", "--compat", "nope", "--meta", meta, "--out", join(dir, "x")], capture()),
      2,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
