import { assert, assertEquals, assertRejects } from "../assert.ts";
import { Rng } from "../../geometry/rng.ts";
import { LetterBalancer } from "../../qa/balance.ts";
import { countOptions, numericOptions, SIZE_BOUNDS } from "../../qa/distractors.ts";
import { npRound, pyRound, roundHalfEven } from "../../qa/rounding.ts";
import { binomial, combinations, sampleInOrder } from "../../qa/sample.ts";
import { fillTemplate, TEMPLATES } from "../../qa/templates.ts";
import cases from "../fixtures/qa/rounding_cases.json" with { type: "json" };

Deno.test("roundings match Python's round and numpy's round", () => {
  assert(cases.length > 800);
  for (const [x, r0, r1, r2, n1, n2] of cases) {
    assertEquals(roundHalfEven(x), r0, `round(${x})`);
    assertEquals(pyRound(x, 1), r1, `round(${x}, 1)`);
    assertEquals(pyRound(x, 2), r2, `round(${x}, 2)`);
    assertEquals(npRound(x, 1), n1, `np.round(${x}, 1)`);
    assertEquals(npRound(x, 2), n2, `np.round(${x}, 2)`);
  }
});

Deno.test("numeric distractors, --compat reference: within bounds, spread by EPS, E when impossible", () => {
  const rng = new Rng("distractors");
  let dropped = 0;
  for (let t = 0; t < 2000; t++) {
    const g = npRound(rng.uniform(0.2, 12), 1);
    const opts = numericOptions(rng, g, {}, "reference");
    if (!opts) {
      dropped++;
      continue;
    }
    assertEquals(opts.length, 4);
    assertEquals(opts[3], g);
    const eps = Math.ceil(g * 0.2 * 10) / 10;
    for (let i = 0; i < 4; i++) {
      if (i < 3) {
        assert(opts[i] >= pyRound(g * 0.25, 1) - 1e-9 && opts[i] <= pyRound(g * 1.75, 1) + 1e-9);
        assertEquals(opts[i], pyRound(opts[i], 1));
      }
      for (let j = i + 1; j < 4; j++) {
        assert(Math.abs(opts[i] - opts[j]) >= eps, `${opts} eps ${eps}`);
      }
    }
  }
  // Small answers leave too few one-decimal values 0.1 apart: some are dropped ("E").
  let small = 0;
  for (let t = 0; t < 200; t++) if (!numericOptions(rng, 0.2, {}, "reference")) small++;
  assertEquals(small, 200, "0.2 m never has valid distractors (DECISIONS 20)");
  assert(dropped < 200, `${dropped} of 2000 dropped`);
  assertEquals(numericOptions(rng, 0, {}, "reference"), undefined);
  // Integer centimetres for sizes.
  const cm = numericOptions(rng, 87, SIZE_BOUNDS, "reference")!;
  assert(cm.every(Number.isInteger) && cm.slice(0, 3).every((v) => v >= 35 && v <= 157));
});

Deno.test("count distractors: distinct, at least 1, offsets within 5", () => {
  const rng = new Rng("counts");
  for (const g of [1, 2, 3, 4, 7, 20]) {
    for (let t = 0; t < 200; t++) {
      const o = countOptions(rng, g);
      assertEquals(o[0], g);
      assertEquals(new Set(o).size, 4);
      assert(o.every((v) => v >= 1 && Math.abs(v - g) <= 5), `${o}`);
      if (g >= 5) assert(o.every((v) => Math.abs(v - g) <= 3), "the first offsets suffice");
    }
  }
});

Deno.test("letter balancing is global, uses only the question's letters, and is seeded", () => {
  const run = (seed: string) => {
    const b = new LetterBalancer(), rng = new Rng(seed);
    const letters: string[] = [];
    for (let i = 0; i < 103; i++) {
      const k = [2, 3, 4][i % 3];
      const opts = ["w", "x", "y", "z"].slice(0, k);
      const r = b.order(`t${k}`, opts, "x", rng);
      assertEquals(r.options.length, k);
      assertEquals(new Set(r.options).size, k);
      assertEquals(r.options["ABCD".indexOf(r.letter)], "x");
      letters.push(`${k}${r.letter}`);
    }
    return { b, letters };
  };
  const { b, letters } = run("s");
  for (const [key, counts] of b.counts()) {
    assertEquals(counts.length, Number(key.split("#")[1]));
    assert(Math.max(...counts) - Math.min(...counts) <= 1, `${key}: ${counts}`);
  }
  assertEquals(run("s").letters, letters);
  assert(run("other").letters.join() !== letters.join());
  let threw = false;
  try {
    new LetterBalancer().order("t", ["a", "b"], "c", new Rng(1));
  } catch {
    threw = true;
  }
  assert(threw, "an answer missing from the options is an error");
});

Deno.test("sampling and combinations follow random.sample and itertools", () => {
  const rng = new Rng("sample");
  const items = Array.from({ length: 10 }, (_, i) => i);
  const seen = new Array(10).fill(0);
  for (let t = 0; t < 30000; t++) {
    const s = sampleInOrder(rng, items, 3);
    assertEquals(new Set(s).size, 3);
    assert(s.every((x, i) => i === 0 || x > s[i - 1]), "original order kept");
    for (const x of s) seen[x]++;
  }
  assert(seen.every((c) => c > 8550 && c < 9450), `uniform: ${seen}`);
  assertEquals(sampleInOrder(rng, items, 20), items);
  const c = [...combinations(["a", "b", "c", "d"], 3)].map((x) => x.join(""));
  assertEquals(c, ["abc", "abd", "acd", "bcd"]);
  assertEquals([...combinations([1, 2], 3)], []);
  assertEquals(binomial(19, 4), [...combinations(Array.from({ length: 19 }), 4)].length);
});

Deno.test("templates: placeholders as the reference names them, filled strictly", async () => {
  const fields = (t: string) => [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  assertEquals(fields(TEMPLATES.OBJ_REL_DISTANCE_V1_TEMPLATE), [
    "choice_a",
    "choice_b",
    "choice_c",
    "choice_d",
    "category",
  ]);
  assertEquals(fields(TEMPLATES.VSTI_OBJ_OBJ_REL_POS_LR_TEMPLATE), [
    "frame_description",
    "obj_B_name",
    "obj_A_name",
  ]);
  assert(TEMPLATES.ROOM_SIZE_TEMPLATE.includes("? \nIf multiple rooms"));
  await assertRejects(
    () => fillTemplate(TEMPLATES.VSTI_OBJ_OBJ_REL_POS_NF_TEMPLATE, { object_A_name: "x" }),
    /frame_description/,
  );
});
