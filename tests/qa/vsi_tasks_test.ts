import { assert, assertEquals } from "../assert.ts";
import { directionAngle, relativeDirection } from "../../qa/rel_direction.ts";
import { npRound } from "../../qa/rounding.ts";
import { answerText, boxOf, type Placed, questionsOf, sceneOf } from "./builders.ts";
import type { Vec3 } from "../../geometry/vec.ts";

const cube = (category: string, center: Vec3, side = 1): Placed => ({
  category,
  center,
  size: [side, side, side],
});

Deno.test("object counting asks about categories counted at least twice", async () => {
  const s = sceneOf([
    cube("chair", [0, 0, 0]),
    cube("chair", [2, 0, 0]),
    cube("chair", [4, 0, 0]),
    cube("table", [0, 3, 0]),
    cube("sofa", [0, 6, 0]),
    cube("sofa", [3, 6, 0]),
  ]);
  const plain = await questionsOf(s, ["object_counting"]);
  assertEquals(plain.map((r) => [r.question, r.ground_truth, r.options, r.mc_answer]), [
    ["How many chair(s) are in this room?", 3, null, null],
    ["How many sofa(s) are in this room?", 2, null, null],
  ]);
  assertEquals(plain[0].category, "chair");
  const withOptions = await questionsOf(s, ["object_counting"], { naOptions: true });
  for (const r of withOptions) {
    const values = (r.options as string[]).map((o) => Number(o.slice(3)));
    assertEquals(new Set(values).size, 4);
    assert(values.every((v) => v >= 1 && Math.abs(v - (r.ground_truth as number)) <= 5));
    assertEquals(Number(answerText(r)), r.ground_truth);
  }
});

Deno.test("object size is the longest edge of a single object in whole centimetres", async () => {
  const s = sceneOf([
    { category: "bed", center: [0, 0, 0], size: [0.5, 1.2049, 0.3] },
    { category: "lamp", center: [3, 0, 0], size: [0.125, 0.1, 0.1] }, // 12.5 cm: ties to even
    { category: "chair", center: [6, 0, 0] },
    { category: "chair", center: [9, 0, 0] },
  ]);
  const rs = await questionsOf(s, ["object_size_estimation"], { naOptions: true });
  assertEquals(rs.map((r) => [r.category, r.ground_truth]), [["bed", 120], ["lamp", 12]]);
  assertEquals(
    rs[0].question,
    "What is the length of the longest dimension (length, width, or height) of the bed, measured in centimeters?",
  );
  for (const r of rs) {
    const v = (r.options as string[]).map((o) => Number(o.slice(3)));
    const g = r.ground_truth as number, eps = Math.ceil(g * 0.2);
    assert(v.every(Number.isInteger), "integer centimetres");
    for (let i = 0; i < 4; i++) {
      for (let j = i + 1; j < 4; j++) assert(Math.abs(v[i] - v[j]) >= eps, `${v} spread by ${eps}`);
    }
    assert(v.every((x) => x === g || (x >= Math.round(g * 0.4) && x <= Math.round(g * 1.8))));
  }
});

Deno.test("room size: Python's rounding, spread distractors, none for an empty room", async () => {
  const [r] = await questionsOf(sceneOf([], { roomSize: 28.75 }), ["room_size_estimation"], {
    naOptions: true,
  });
  assertEquals(r.ground_truth, 28.8); // 28.75 is exact in binary: a tie, to even
  assertEquals(
    r.question,
    "What is the size of this room (in square meters)? \nIf multiple rooms are shown, estimate the size of the combined space.",
  );
  const v = (r.options as string[]).map((o) => Number(o.slice(3)));
  const eps = Math.ceil(28.8 * 0.2 * 10) / 10;
  for (let i = 0; i < 4; i++) {
    assert(v[i] === 28.8 || (v[i] >= 28.8 * 0.25 - 0.05 && v[i] <= 28.8 * 1.75 + 0.05));
    for (let j = i + 1; j < 4; j++) assert(Math.abs(v[i] - v[j]) >= eps);
  }
  assertEquals(await questionsOf(sceneOf([], { roomSize: 0 }), ["room_size_estimation"]), []);
});

Deno.test("absolute distance: two boxes 1.50 m apart, pairs below 0.2 m dropped", async () => {
  const s = sceneOf([
    cube("bed", [0, 0, 0.5]),
    cube("sofa", [2.5, 0, 0.5]),
    // 5 cm from the bed: rounds to 0.1 m, under the 0.2 m minimum.
    { category: "lamp", center: [0, 0.75, 0.5], size: [0.4, 0.4, 0.4] },
    cube("chair", [0, 5, 0.5]),
    cube("chair", [3, 5, 0.5]), // counted twice: never asked
  ]);
  for (const distance of ["vsibench", "exact"] as const) {
    const rs = await questionsOf(s, ["object_abs_distance"], { distance });
    const pairs = rs.map((
      r,
    ) => [r["category, first object"], r["category, second object"], r.ground_truth]);
    // The later single category comes first, paired with every earlier one.
    assertEquals(pairs.slice(0, 1), [["sofa", "bed", 1.5]]);
    assertEquals(pairs.length, 2);
    assertEquals(pairs[1].slice(0, 2), ["lamp", "sofa"]);
    assertEquals(
      rs[0].question,
      "Measuring from the closest point of each object, what is the direct distance between the sofa and the bed (in meters)?",
    );
  }
});

/** Unit cubes at the given gaps (m) from a unit "bed" cube at the origin, along +x, +y, -x... */
function ring(gaps: Record<string, number | number[]>, roomSize = 20) {
  const dirs: Vec3[] = [[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
  const objects: Placed[] = [cube("bed", [0, 0, 0])];
  let k = 0;
  for (const [category, g] of Object.entries(gaps)) {
    for (const gap of Array.isArray(g) ? g : [g]) {
      const d = dirs[k++];
      objects.push(cube(category, [d[0] * (1 + gap), d[1] * (1 + gap), d[2] * (1 + gap)]));
    }
  }
  return sceneOf(objects, { roomSize });
}

Deno.test("relative distance: nearest category, multi-instance minimum, rejection rules", async () => {
  const ask = async (gaps: Record<string, number | number[]>, task: string, roomSize = 20) =>
    (await questionsOf(ring(gaps, roomSize), [task], { distance: "exact" }))
      .filter((r) => r.category === "bed");
  // sofa 1.0, table 2.0, chair min(3.0, 1.5), tv 2.5: the sofa.
  let [r] = await ask({ sofa: 1.0, table: 2.0, chair: [3.0, 1.5], tv: 2.5 }, "object_rel_distance");
  assertEquals(r.ground_truth, "sofa");
  assertEquals(answerText(r), "sofa");
  const listed = (r.options as string[]).map((o) => o.slice(3));
  assertEquals([...listed].sort(), ["chair", "sofa", "table", "tv"]);
  assertEquals(
    r.question,
    `Measuring from the closest point of each object, which of these objects (${
      listed.join(", ")
    }) ` +
      "is the closest to the bed?\nIf there are multiple instances of an object category, measure to the closest.",
  );
  // The near chair instance decides for its category.
  [r] = await ask({ sofa: 1.0, table: 2.0, chair: [3.0, 0.5], tv: 2.5 }, "object_rel_distance");
  assertEquals(r.ground_truth, "chair");
  // A choice touching the bed (< 0.15 m): no question.
  assertEquals(
    await ask({ sofa: 0.1, table: 2.0, chair: [3.0, 1.5], tv: 2.5 }, "object_rel_distance"),
    [],
  );
  // Two choices 0.1 m apart in distance: ambiguous.
  assertEquals(
    await ask({ sofa: 1.0, table: 1.1, chair: [3.0, 1.5], tv: 2.5 }, "object_rel_distance"),
    [],
  );
  // 0.2 m apart: fine at the 0.15 m threshold, also for v1 in a large room ...
  assertEquals(
    (await ask({ sofa: 1.0, table: 1.2, chair: 1.8, tv: 2.5 }, "object_rel_distance", 50)).length,
    1,
  );
  // ... but v2 and v3 use 0.30 m in rooms over 40 m^2.
  assertEquals(
    (await ask({ sofa: 1.0, table: 1.2, chair: 1.8 }, "object_rel_distance_v2", 30)).length,
    1,
  );
  assertEquals(await ask({ sofa: 1.0, table: 1.2, chair: 1.8 }, "object_rel_distance_v2", 50), []);
  const v3 = await ask({ sofa: 1.0, table: 1.2 }, "object_rel_distance_v3", 20);
  assertEquals(v3.map((r) => [r.ground_truth, (r.options as string[]).length]), [["sofa", 2]]);
  // Too few categories for 4 choices: nothing.
  assertEquals(await ask({ sofa: 1.0, table: 2.0, tv: 2.5 }, "object_rel_distance"), []);
});

/** A small box at distance r and angle theta (degrees counter-clockwise from +y) from the origin. */
function at(category: string, theta: number, r = 2, size: Vec3 = [0.2, 0.2, 0.2]): Placed {
  const t = theta * Math.PI / 180;
  return { category, center: [-Math.sin(t) * r, Math.cos(t) * r, 0], size };
}

Deno.test("relative direction: an object to the back-left of an observer", async () => {
  const bed = { category: "bed", center: [0, 0, 0] as Vec3, size: [0.2, 0.2, 0.2] as Vec3 };
  const tv = at("tv", 0, 3);
  const query = (theta: number, r = 2, size?: Vec3) =>
    sceneOf([bed, tv, at("lamp", theta, r, size)]);
  const answer = async (s: ReturnType<typeof sceneOf>, task: string) =>
    (await questionsOf(s, [task], { distance: "exact" })).find((r) =>
      r["category, positioning object"] === "bed" && r["category, orienting object"] === "tv"
    );
  // Standing by the bed facing the tv (+y), a lamp at (-2, -1): 116.6 degrees, back-left.
  const s = sceneOf([bed, tv, { category: "lamp", center: [-2, -1, 0], size: [0.2, 0.2, 0.2] }]);
  const hard = (await answer(s, "object_rel_direction_hard"))!;
  assertEquals(hard.ground_truth, "back-left");
  assertEquals(answerText(hard), "back-left");
  assertEquals(
    hard.question,
    "If I am standing by the bed and facing the tv, is the lamp to my front-left, front-right, back-left, or back-right?\n" +
      "The directions refer to the quadrants of a Cartesian plane (if I am standing at the origin and facing along the positive y-axis).",
  );
  assertEquals((await answer(s, "object_rel_direction_medium"))!.ground_truth, "left");
  assertEquals((await answer(s, "object_rel_direction_easy"))!.ground_truth, "left");
  assertEquals(
    (await answer(s, "object_rel_direction_easy"))!.question,
    "If I am standing by the bed and facing the tv, is the lamp to the left or the right of the tv?",
  );
  // Right side, front: 300 degrees is front-right / right.
  assertEquals(
    (await answer(query(300), "object_rel_direction_hard"))!.ground_truth,
    "front-right",
  );
  assertEquals((await answer(query(300), "object_rel_direction_medium"))!.ground_truth, "right");
  // Behind: back for medium, rejected for easy.
  assertEquals(
    (await answer(query(180 + 20), "object_rel_direction_medium"))!.ground_truth,
    "back",
  );
  assertEquals(await answer(query(180 + 20), "object_rel_direction_easy"), undefined);
  // Within 10 degrees below a quadrant's upper edge: ambiguous; just above it passes (the
  // reference guards only the upper edge).
  assertEquals(await answer(query(175), "object_rel_direction_hard"), undefined);
  assertEquals((await answer(query(185), "object_rel_direction_hard"))!.ground_truth, "back-right");
  // Medium and easy guard every edge: 0, 135, 225, 360.
  assertEquals(await answer(query(130), "object_rel_direction_medium"), undefined);
  assertEquals(await answer(query(355), "object_rel_direction_medium"), undefined);
  assertEquals((await answer(query(120), "object_rel_direction_medium"))!.ground_truth, "left");
  // A long box straddling the side: more than two corners in another bin.
  assertEquals(await answer(query(120, 2, [4, 0.2, 0.2]), "object_rel_direction_hard"), undefined);
  // Triples with two objects closer than 0.3 m or farther than 5 m apart: nothing.
  assertEquals(await answer(query(120, 0.4), "object_rel_direction_hard"), undefined);
  assertEquals(
    await answer(sceneOf([bed, at("tv", 0, 6), at("lamp", 120)]), "object_rel_direction_hard"),
    undefined,
  );
});

Deno.test("relative direction angle: counter-clockwise from facing, corners vote", () => {
  assertEquals(Math.round(directionAngle([0, 0], [0, 1], [-1, 0])), 90);
  assertEquals(Math.round(directionAngle([0, 0], [0, 1], [1, 0])), 270);
  assertEquals(Math.round(directionAngle([0, 0], [1, 0], [0, 1])), 90);
  const b = (p: Placed) => boxOf(p, 0);
  const pos = b({ category: "a", center: [0, 0, 0] }),
    ori = b({ category: "b", center: [0, 3, 0] });
  assertEquals(relativeDirection("hard", pos, ori, b(at("c", 45))), "front-left");
  assertEquals(relativeDirection("hard", pos, ori, b(at("c", 225))), "back-right");
  assertEquals(relativeDirection("easy", pos, ori, b(at("c", 225 + 30))), "right");
});

Deno.test("the 0.05 m grid shows in vsibench answers; exact mode answers the true gap", async () => {
  // A 4 cm slab gets one grid value at -0.02 along x: its far face is never sampled.
  const s = sceneOf([
    { category: "mirror", center: [0, 0, 0], size: [0.04, 1, 1] },
    { category: "bed", center: [1.25, 0, 0], size: [1, 1, 1] }, // true gap 0.73 m
  ]);
  const [v] = await questionsOf(s, ["object_abs_distance"], { distance: "vsibench" });
  const [e] = await questionsOf(s, ["object_abs_distance"], { distance: "exact" });
  assertEquals(e.ground_truth, 0.7);
  assertEquals(v.ground_truth, 0.8); // measured from x = -0.02: 0.77 m
  assertEquals(npRound(0.77, 1), 0.8);
});
