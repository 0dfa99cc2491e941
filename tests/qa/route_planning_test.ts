// Route-plan questions: the rules of the authors' generator on hand-built paths (texts written
// out by hand), then questions on navmeshes checked against their own geometry and synth
// ground truth.

import { join } from "node:path";
import { buildNavMesh, type NavMesh } from "../../geometry/navmesh/mod.ts";
import { Rng } from "../../geometry/rng.ts";
import type { Vec3 } from "../../geometry/vec.ts";
import { buildRecords } from "../../qa/generate.ts";
import {
  densifyPath,
  landmarkOf,
  pathQuestions,
  pathVariants,
  routeCandidates,
  routeDraft,
  type RouteObject,
  type RouteOptions,
  type RouteQuestion,
  selectRouteQuestions,
} from "../../qa/route_planning.ts";
import { readScannetMesh } from "../../scene/scannet_mesh.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { assert, assertEquals } from "../assert.ts";
import { MeshBuilder } from "../geometry/_meshes.ts";

const NOTE =
  "You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): ";

/** The reference's question text: start, facing, goal, then the numbered steps. */
function text(start: string, facing: string, goal: string, steps: string[]): string {
  return `You are a robot beginning at the ${start} facing the ${facing}. You want to navigate ` +
    `to the ${goal}. ${NOTE}${steps.map((s, i) => `${i + 1}. ${s}`).join(" ")} ` +
    "You have reached the final destination.";
}
const BLANK = "[please fill in]";
const go = (x: string) => `Go forward until the ${x}.`;
/** One blank at the start, then to `goal`: Turn Back and the alternative. */
const oneBlank = (start: string, facing: string, goal: string) =>
  text(start, facing, goal, [BLANK, go(goal)]);
/** Template 1 over the landmarks `names` (start, turns..., goal). */
const turns = (...names: string[]) =>
  text(
    names[0],
    names[1],
    names[names.length - 1],
    names.slice(1).flatMap((n, i) => (i === 0 ? [go(n)] : [BLANK, go(n)])),
  );

/** A 0.6 x 0.6 x 0.8 m box standing at (x, y), turned by `yaw`. */
function obj(id: number, category: string, x: number, y: number, yaw = 0): RouteObject {
  const c = Math.cos(yaw), s = Math.sin(yaw);
  return {
    instanceId: id,
    category,
    center: [x, y, 0.4],
    axes: [[c, s, 0], [-s, c, 0], [0, 0, 1]],
    halfSize: [0.3, 0.3, 0.4],
  };
}

/** What the test compares: variant, form, text, answer and option count of each question. */
function summary(qs: RouteQuestion[]) {
  return qs.map((q) => ({
    variant: q.variant,
    form: q.form,
    question: q.question,
    answer: q.answer,
    options: q.options.length,
  }));
}

function ask(path: [number, number][], objects: RouteObject[], options: RouteOptions = {}) {
  const qs = pathQuestions(path.map(([x, y]) => [x, y, 0]), objects, new Rng("hand"), options);
  for (const q of qs) {
    assertEquals(new Set(q.options).size, q.options.length, "options distinct");
    assert(q.options.includes(q.answer), "the answer is an option");
    if (q.actions.length === 1) assertEquals(q.options, ["Turn Left", "Turn Right", "Turn Back"]);
  }
  return summary(qs);
}

const L = "Turn Left", R = "Turn Right";

Deno.test("route rules: densified poses and the variants of a path", () => {
  const straight = densifyPath([[0, 0, 0], [6, 0, 0]]);
  assertEquals(straight.map((p) => p[0]), [0, 1.5, 3, 4.5, 6]);
  assertEquals(pathVariants(straight).map((v) => v.name), ["path", "reverse"]);
  // Repeated corners are dropped before densifying.
  assertEquals(densifyPath([[0, 0, 0], [0, 0, 0], [4, 0, 0], [4, 4, 0]]).length, 9);
  const bend = densifyPath([[0, 0, 0], [4, 0, 0], [4, 4, 0]]);
  const v = pathVariants(bend);
  assertEquals(v.map((x) => x.name), [
    "path",
    "reverse",
    "first",
    "first-reverse",
    "last",
    "last-reverse",
  ]);
  // More than 8 poses: the first and last floor(3 * 9 / 4) = 6 poses, each reversed too.
  assertEquals(v[2].poses, bend.slice(0, 6));
  assertEquals(v[4].poses, bend.slice(3));
  assertEquals(v[3].poses, bend.slice(0, 6).reverse());
  assertEquals(v[5].poses[0], [4, 4, 0]);
});

Deno.test("route rules: a straight corridor asks Turn Back, at the middle facing the end", () => {
  const objects = [obj(1, "sofa", -0.6, 0.6), obj(2, "tv", 3, 0.8), obj(3, "bed", 6.6, 0.6)];
  assertEquals(ask([[0, 0], [6, 0]], objects), [
    {
      variant: "path",
      form: "back",
      question: oneBlank("tv", "bed", "sofa"),
      answer: "Turn Back",
      options: 3,
    },
    {
      variant: "reverse",
      form: "back",
      question: oneBlank("tv", "sofa", "bed"),
      answer: "Turn Back",
      options: 3,
    },
  ]);
  // Nothing described within 2.5 m of the middle: no question.
  assertEquals(ask([[0, 0], [6, 0]], [objects[0], objects[2]]), []);
});

Deno.test("route rules: one 40-degree turn (no alternative); partial routes that name the turn's landmark twice are skipped", () => {
  const c = Math.cos(40 * Math.PI / 180), s = Math.sin(40 * Math.PI / 180);
  const end: [number, number] = [4 + 4 * c, 4 * s];
  const objects = [
    obj(1, "sofa", -0.5, -0.5),
    obj(2, "tv", 4.5, -0.5),
    obj(3, "bed", end[0] + 0.5, end[1] + 0.5),
  ];
  assertEquals(ask([[0, 0], [4, 0], end], objects), [
    { variant: "path", form: "turns", question: turns("sofa", "tv", "bed"), answer: L, options: 3 },
    {
      variant: "reverse",
      form: "turns",
      question: turns("bed", "tv", "sofa"),
      answer: R,
      options: 3,
    },
  ]);
});

Deno.test("route rules: one 90-degree turn: every variant, each with its alternative", () => {
  const objects = [
    obj(1, "sofa", -0.5, -0.5),
    obj(2, "tv", 4.5, -0.5),
    obj(3, "bed", 4.5, 4.5),
    obj(4, "lamp", 4.6, 1.2),
    obj(5, "desk", 2.5, -0.6),
  ];
  const q = (variant: string, form: string, question: string, answer: string) => ({
    variant,
    form,
    question,
    answer,
    options: 3,
  });
  assertEquals(ask([[0, 0], [4, 0], [4, 4]], objects), [
    q("path", "turns", turns("sofa", "tv", "bed"), L),
    q("path", "alternative", oneBlank("tv", "bed", "sofa"), L),
    q("reverse", "turns", turns("bed", "tv", "sofa"), R),
    q("reverse", "alternative", oneBlank("tv", "sofa", "bed"), R),
    // The first 6 poses end at (4, 1), by the lamp; the last 6 start at (3, 0), by the desk.
    q("first", "turns", turns("sofa", "tv", "lamp"), L),
    q("first", "alternative", oneBlank("tv", "lamp", "sofa"), L),
    q("first-reverse", "turns", turns("lamp", "tv", "sofa"), R),
    q("first-reverse", "alternative", oneBlank("tv", "sofa", "lamp"), R),
    q("last", "turns", turns("desk", "tv", "bed"), L),
    q("last", "alternative", oneBlank("tv", "bed", "desk"), L),
    q("last-reverse", "turns", turns("bed", "tv", "desk"), R),
    q("last-reverse", "alternative", oneBlank("tv", "desk", "bed"), R),
  ]);
});

Deno.test("route rules: two turns ask two blanks with 4 options; their partial routes one", () => {
  const objects = [
    obj(1, "sofa", -0.5, -0.5),
    obj(2, "tv", 4.5, -0.5),
    obj(3, "bed", 4.5, 4.5),
    obj(4, "desk", -0.5, 4.5),
  ];
  const q = (variant: string, form: string, question: string, answer: string) => ({
    variant,
    form,
    question,
    answer,
    options: answer.includes(",") ? 4 : 3,
  });
  assertEquals(ask([[0, 0], [4, 0], [4, 4], [0, 4]], objects), [
    q("path", "turns", turns("sofa", "tv", "bed", "desk"), `${L}, ${L}`),
    q("reverse", "turns", turns("desk", "bed", "tv", "sofa"), `${R}, ${R}`),
    q("first", "turns", turns("sofa", "tv", "bed"), L),
    q("first", "alternative", oneBlank("tv", "bed", "sofa"), L),
    q("first-reverse", "turns", turns("bed", "tv", "sofa"), R),
    q("first-reverse", "alternative", oneBlank("tv", "sofa", "bed"), R),
    q("last", "turns", turns("tv", "bed", "desk"), L),
    q("last", "alternative", oneBlank("bed", "desk", "tv"), L),
    q("last-reverse", "turns", turns("desk", "bed", "tv"), R),
    q("last-reverse", "alternative", oneBlank("bed", "tv", "desk"), R),
  ]);
  const [two] = pathQuestions([[0, 0, 0], [4, 0, 0], [4, 4, 0], [0, 4, 0]], objects, new Rng(3));
  assertEquals(two.options[0], `${L}, ${L}`);
  assert(two.options.every((o) => /^Turn (Left|Right|Back), Turn (Left|Right|Back)$/.test(o)));
});

Deno.test("route rules: an S-bend turns left then right; 60 degrees allows the alternatives", () => {
  const y = 2 * Math.sin(60 * Math.PI / 180);
  const objects = [
    obj(1, "sofa", -0.5, -0.5),
    obj(2, "tv", 3.4, -0.5),
    obj(3, "bed", 4.5, y + 0.57),
    obj(4, "desk", 7.5, y + 0.57),
  ];
  const q = (variant: string, form: string, question: string, answer: string) => ({
    variant,
    form,
    question,
    answer,
    options: answer.includes(",") ? 4 : 3,
  });
  assertEquals(ask([[0, 0], [3, 0], [4, y], [7, y]], objects), [
    q("path", "turns", turns("sofa", "tv", "bed", "desk"), `${L}, ${R}`),
    q("reverse", "turns", turns("desk", "bed", "tv", "sofa"), `${L}, ${R}`),
    q("first", "turns", turns("sofa", "tv", "bed"), L),
    q("first", "alternative", oneBlank("tv", "bed", "sofa"), L),
    q("first-reverse", "turns", turns("bed", "tv", "sofa"), R),
    q("first-reverse", "alternative", oneBlank("tv", "sofa", "bed"), R),
    q("last", "turns", turns("tv", "bed", "desk"), R),
    q("last", "alternative", oneBlank("bed", "desk", "tv"), R),
    q("last-reverse", "turns", turns("desk", "bed", "tv"), L),
    q("last-reverse", "alternative", oneBlank("bed", "tv", "desk"), L),
  ]);
});

Deno.test("route rules: a path that comes back to its first landmark is skipped; its partial routes are not", () => {
  // Start and end both by the sofa: the whole route would name it twice.
  const objects = [obj(1, "sofa", -0.5, 1), obj(2, "tv", 4.5, -0.5), obj(3, "bed", 4.5, 2.5)];
  const q = (variant: string, form: string, question: string, answer: string) => ({
    variant,
    form,
    question,
    answer,
    options: 3,
  });
  assertEquals(ask([[0, 0], [4, 0], [4, 2], [0.2, 2]], objects), [
    q("first", "turns", turns("sofa", "tv", "bed"), L),
    q("first", "alternative", oneBlank("tv", "bed", "sofa"), L),
    q("first-reverse", "turns", turns("bed", "tv", "sofa"), R),
    q("first-reverse", "alternative", oneBlank("tv", "sofa", "bed"), R),
    q("last", "turns", turns("tv", "bed", "sofa"), L),
    q("last", "alternative", oneBlank("bed", "sofa", "tv"), L),
    q("last-reverse", "turns", turns("sofa", "bed", "tv"), R),
    q("last-reverse", "alternative", oneBlank("bed", "tv", "sofa"), R),
  ]);
  // A category twice in the scene never names anything: a second sofa hides the first.
  assertEquals(ask([[0, 0], [4, 0], [4, 2], [0.2, 2]], [...objects, obj(9, "sofa", 9, 9)]), []);
});

Deno.test("route rules: more turns than 3, and small bends, ask nothing", () => {
  const zig: [number, number][] = [[0, 0], [2, 0], [2, 2], [4, 2], [4, 4], [6, 4]];
  const objects = zig.map(([x, y], i) => obj(i + 1, `thing${i}`, x + 0.4, y - 0.4));
  // Four turns: the whole route is not asked, its 3/4 parts (three turns) are.
  const qs = ask(zig, objects);
  assert(qs.every((q) => q.variant !== "path" && q.variant !== "reverse"), JSON.stringify(qs));
  assert(qs.some((q) => q.answer.split(", ").length === 3));
  // Corners of 30 degrees or less are not turns; their sum makes the middle face sideways.
  const t = Math.tan(25 * Math.PI / 180);
  const bendy: [number, number][] = [[0, 0], [3, 0], [6, 3 * t], [9, 3 * t + 3 * Math.tan(0.87)]];
  assertEquals(
    ask(bendy, [obj(1, "a", 0, -0.6), obj(2, "b", 4.5, 1.6), obj(3, "c", 9.5, 7)]).filter((q) =>
      q.form === "back"
    ),
    [],
  );
});

Deno.test("landmark rules: nearest oriented surface within 2.5 m, or the authors' nearest footprint corner", () => {
  // A long bed turned 90 degrees: its real footprint spans y, its axis-aligned one x.
  const bed: RouteObject = {
    instanceId: 1,
    category: "bed",
    center: [0, 0, 0.3],
    axes: [[0, 1, 0], [-1, 0, 0], [0, 0, 1]],
    halfSize: [1, 0.4, 0.3],
  };
  const lamp = obj(2, "lamp", 1.6, 1.2);
  const p: Vec3 = [0.9, 0.2, 0];
  // True surface: the bed is 0.5 m away (its side at x = 0.4); the lamp 0.81 m.
  assertEquals(landmarkOf(p, [bed, lamp])?.category, "bed");
  assertEquals(landmarkOf(p, [bed, lamp])!.distance, 0.5);
  // Corners taken axis-aligned: the bed's nearest is (1, 0.4), 0.224 m; the lamp's (1.3, 0.9).
  const byCorner = landmarkOf(p, [bed, lamp], { rule: "nearest-corner" })!;
  assertEquals(byCorner.category, "bed");
  assert(Math.abs(byCorner.distance - Math.hypot(0.1, 0.2)) < 1e-12);
  // Beside the bed's true end: 0.14 m from its surface, but 0.86 m from its corner (1, 0.4).
  assertEquals(
    landmarkOf([0.5, 1.1, 0], [bed, lamp], { rule: "nearest-corner" })?.category,
    "lamp",
  );
  assertEquals(landmarkOf([0.5, 1.1, 0], [bed, lamp])?.category, "bed");
  // The corner rule has no reach limit; the surface rule stops at 2.5 m.
  assertEquals(landmarkOf([9, 0, 0], [bed])?.category, undefined);
  assertEquals(landmarkOf([9, 0, 0], [bed], { rule: "nearest-corner" })?.category, "bed");
  // Structure is never a landmark.
  assertEquals(
    ask([[0, 0], [6, 0]], [
      obj(1, "wall", -0.6, 0.6),
      obj(2, "tv", 3, 0.8),
      obj(3, "bed", 6.6, 0.6),
    ]),
    [],
  );
});

Deno.test("selection: two or more blanks get 3 of 5 slots, Turn Back at most 1, seeded", () => {
  const make = (n: number, answer: string, form: RouteQuestion["form"]) =>
    Array.from({ length: n }, () => ({ form, actions: answer.split(", "), answer }));
  const pool = [
    ...make(10, "Turn Back", "back"),
    ...make(10, "Turn Left", "turns"),
    ...make(4, "Turn Left, Turn Right", "turns"),
  ];
  const kinds = (qs: typeof pool) => [
    qs.filter((q) => q.actions.length >= 2).length,
    qs.filter((q) => q.actions.length === 1 && q.form !== "back").length,
    qs.filter((q) => q.form === "back").length,
  ];
  assertEquals(kinds(selectRouteQuestions(pool, 5, new Rng(1))), [3, 1, 1]);
  assertEquals(kinds(selectRouteQuestions(pool, 10, new Rng(1))), [4, 4, 2]);
  // No multi-blank questions: their slots go to single turns.
  assertEquals(kinds(selectRouteQuestions(pool.slice(0, 20), 5, new Rng(1))), [0, 4, 1]);
  // Everything with turns, and Turn Back one for every four of them.
  assertEquals(kinds(selectRouteQuestions(pool, 99, new Rng(1))), [4, 10, 4]);
  assertEquals(kinds(selectRouteQuestions(pool.slice(0, 10), 5, new Rng(1))), [0, 0, 1]);
  // Seeded, and in candidate order.
  const a = selectRouteQuestions(pool, 6, new Rng(7)),
    b = selectRouteQuestions(pool, 6, new Rng(7));
  assertEquals(a.map((q) => pool.indexOf(q)), b.map((q) => pool.indexOf(q)));
  assert(a.every((q, i) => i === 0 || pool.indexOf(a[i - 1]) < pool.indexOf(q)));
});

/** A ground-truth object: its yaw box, straight from ground_truth.json. */
interface TruthObject {
  instance_id: number;
  category: string;
  center: Vec3;
  size: Vec3;
  yaw: number;
}

function routeObject(o: TruthObject): RouteObject {
  const c = Math.cos(o.yaw), s = Math.sin(o.yaw);
  return {
    instanceId: o.instance_id,
    category: o.category,
    center: o.center,
    axes: [[c, s, 0], [-s, c, 0], [0, 0, 1]],
    halfSize: [o.size[0] / 2, o.size[1] / 2, o.size[2] / 2],
  };
}

/** Independent closest-point distance: rotate into the box frame by -yaw, clamp, measure. */
function truthDistance(p: Vec3, o: TruthObject): number {
  const dx = p[0] - o.center[0], dy = p[1] - o.center[1], dz = p[2] - o.center[2];
  const c = Math.cos(-o.yaw), s = Math.sin(-o.yaw);
  const local = [c * dx - s * dy, s * dx + c * dy, dz];
  return Math.hypot(...local.map((v, k) => Math.max(0, Math.abs(v) - o.size[k] / 2)));
}

function dir(a: Vec3, b: Vec3): Vec3 {
  return [b[0] - a[0], b[1] - a[1], 0];
}
function cross2(a: Vec3, b: Vec3): number {
  return a[0] * b[1] - a[1] * b[0];
}
function angle(a: Vec3, b: Vec3): number {
  const c = (a[0] * b[0] + a[1] * b[1]) / (Math.hypot(a[0], a[1]) * Math.hypot(b[0], b[1]));
  return Math.acos(Math.max(-1, Math.min(1, c))) * 180 / Math.PI;
}

/** Every property of a question, recomputed from its poses and the ground truth. */
function checkQuestion(q: RouteQuestion, truth: TruthObject[]): void {
  const names = q.anchors.map((a) => a.object.category);
  assert(q.question.endsWith(" You have reached the final destination."));
  assertEquals(q.question.split(BLANK).length - 2, q.actions.length, "one blank per action");
  assertEquals(q.answer, q.actions.join(", "));
  assertEquals(q.options.filter((o) => o === q.answer).length, 1, "the answer is one option");
  assertEquals(new Set(q.options).size, q.options.length, "options are distinct");
  assertEquals(q.options.length, q.actions.length === 1 ? 3 : 4);
  // Turns, recomputed: every pose whose steps turn by more than 30 degrees.
  const p = q.path, n = p.length;
  const found: { index: number; left: boolean; deg: number }[] = [];
  for (let i = 1; i + 1 < n; i++) {
    const a = dir(p[i - 1], p[i]), b = dir(p[i], p[i + 1]);
    if (angle(a, b) > 30) found.push({ index: i, left: cross2(a, b) > 0, deg: angle(a, b) });
  }
  assertEquals(q.turns.map((t) => t.index), found.map((t) => t.index));
  const A = (role: string) => q.anchors.find((a) => a.role === role)!;
  if (q.form === "turns") {
    assertEquals(q.actions, found.map((t) => t.left ? "Turn Left" : "Turn Right"));
    assertEquals(q.anchors.map((a) => a.point), [p[0], ...found.map((t) => p[t.index]), p[n - 1]]);
    assertEquals(q.question, turns(...names));
  } else if (q.form === "back") {
    assertEquals(found, []);
    const s = A("start"), m = A("mid"), e = A("end");
    assertEquals([s.point, m.point, e.point], [p[0], p[Math.floor(n / 2)], p[n - 1]]);
    assert(angle(dir(m.point, s.point), dir(m.point, e.point)) > 150, "the start is behind");
    assertEquals(q.question, oneBlank(m.object.category, e.object.category, s.object.category));
  } else {
    assertEquals(found.length, 1);
    assert(found[0].deg > 45, "alternatives only for turns above 45 degrees");
    const [s, m, e] = q.anchors;
    assertEquals(q.actions, [found[0].left ? "Turn Left" : "Turn Right"]);
    assertEquals(
      cross2(dir(m.point, e.point), dir(m.point, s.point)) > 0,
      found[0].left,
      "facing the end, the start lies on the turn's side",
    );
    assertEquals(q.question, oneBlank(m.object.category, e.object.category, s.object.category));
  }
  // Landmarks: the nearest object of a category unique in the scene, within 2.5 m; distinct.
  const counts = new Map<string, number>();
  for (const o of truth) counts.set(o.category, (counts.get(o.category) ?? 0) + 1);
  for (const a of q.anchors) {
    const best = truth.filter((o) => counts.get(o.category) === 1)
      .map((o) => ({ o, d: truthDistance(a.point, o) }))
      .sort((x, y) => x.d - y.d)[0];
    assertEquals(a.object.instanceId, best.o.instance_id, `anchor at ${a.point}`);
    assert(Math.abs(a.object.distance - best.d) < 1e-9 && best.d <= 2.5);
  }
  assertEquals(new Set(names).size, names.length);
}

/** An 8 x 8 m room with a thick wall from the left to x = 5.5: routes must bend around it. */
function bendRoom(): { nav: NavMesh; truth: TruthObject[] } {
  const mesh = new MeshBuilder().room(0, 0, 8, 8).box(0, 3.5, 0, 5.5, 4.5, 2.5).mesh();
  const cats = ["sofa", "table", "bed", "tv", "piano", "desk", "lamp", "plant", "sink", "toilet"];
  const spots: [number, number][] = [
    [1, 1],
    [4, 1],
    [7, 1],
    [6.3, 3.2],
    [6.3, 4.8],
    [7.2, 7],
    [1, 7],
    [4, 7],
    [2.5, 5.2],
    [2.5, 2.8],
  ];
  const truth = spots.map(([x, y], i): TruthObject => ({
    instance_id: 10 + i,
    category: cats[i],
    center: [x, y, 0.4],
    size: [0.6, 0.4, 0.8],
    yaw: 0.3 * i,
  }));
  truth.push({ ...truth[0], instance_id: 99, center: [7.5, 4, 0.4], category: "chair" });
  truth.push({ ...truth[0], instance_id: 98, center: [0.5, 5, 0.4], category: "chair" });
  return { nav: buildNavMesh(mesh), truth };
}

Deno.test("route questions around a wall: every form, all agreeing with their geometry", () => {
  const { nav, truth } = bendRoom();
  const qs = routeCandidates(nav, truth.map(routeObject), new Rng("bend"), { backKeep: 1 });
  for (const q of qs) checkQuestion(q, truth);
  const kinds = new Set(qs.map((q) => `${q.form}:${q.actions.length}`));
  for (const k of ["turns:1", "turns:2", "alternative:1", "back:1"]) assert(kinds.has(k), k);
  assert(!qs.some((q) => q.anchors.some((a) => a.object.category === "chair")), "chairs");
  assertEquals(new Set(qs.map((q) => q.question)).size, qs.length, "no text twice");
  // Turn Back questions down-sampled to about a quarter, seeded.
  const sampled = routeCandidates(nav, truth.map(routeObject), new Rng("bend"));
  const backs = (x: RouteQuestion[]) => x.filter((q) => q.form === "back").length;
  assert(backs(sampled) < backs(qs) * 0.45 && backs(sampled) > backs(qs) * 0.1);
  assertEquals(sampled.filter((q) => q.form !== "back"), qs.filter((q) => q.form !== "back"));
  assertEquals(
    JSON.stringify(routeCandidates(nav, truth.map(routeObject), new Rng("bend"))),
    JSON.stringify(sampled),
  );
});

Deno.test("route questions on written synth scenes (a room, an apartment): landmarks are the nearest unique ground-truth objects", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let asked = 0;
    for (const layout of ["room", "apartment"] as const) {
      const scene = synthScene("route-test", 0, { frames: 1, width: 16, height: 16, layout });
      const { dir: scan } = await writeSynthScene(scene, join(dir, layout), {
        workers: 1,
        video: "none",
      });
      const mesh = await readScannetMesh(scan);
      const truth: TruthObject[] =
        JSON.parse(await Deno.readTextFile(join(scan, "ground_truth.json"))).objects;
      const nav = buildNavMesh(mesh);
      const qs = routeCandidates(nav, truth.map(routeObject), new Rng(`synth/${layout}`), {
        paths: 30,
      });
      for (const q of qs) checkQuestion(q, truth);
      asked += qs.length;
      if (layout === "apartment") assert(qs.some((q) => q.actions.length >= 2), "bends");
    }
    assert(asked >= 10, `${asked} questions`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("route records through gen's driver: VSI-Bench options, balanced letters, stable ids, one seed one output", () => {
  const { nav, truth } = bendRoom();
  const make = () => {
    const qs = routeCandidates(nav, truth.map(routeObject), new Rng("records"));
    const scene = { dataset: "scannet", scene: "bend", video_path: "bend.mp4" };
    const drafts = qs.map((q) => routeDraft(q));
    const options = { seed: "letters", distance: "exact" as const, caps: {}, naOptions: false };
    return { qs, records: buildRecords([{ ...scene, drafts }], options) };
  };
  const { qs, records } = make();
  assertEquals(JSON.stringify(make().records), JSON.stringify(records));
  assert(records.length >= 10);
  const used = new Map<number, number[]>();
  records.forEach((r, i) => {
    assertEquals(r.question_type, "route_planning");
    assertEquals(r.question, qs[i].question);
    assertEquals([r.route_form, r.route_variant], [qs[i].form, qs[i].variant]);
    const options = r.options as string[];
    assert(
      options.every((o, k) =>
        new RegExp(`^${"ABCD"[k]}\\. Turn (Left|Right|Back)(, Turn (Left|Right|Back))*$`).test(o)
      ),
      options.join("|"),
    );
    const at = "ABCD".indexOf(r.mc_answer!);
    assertEquals(options[at].slice(3), qs[i].answer, "the lettered answer follows the path");
    // gen's schema: ground_truth is the answer text, mc_answer its letter (eval scores mc_answer).
    assertEquals(r.ground_truth, qs[i].answer);
    const counts = used.get(options.length) ?? new Array(options.length).fill(0);
    counts[at]++;
    used.set(options.length, counts);
  });
  // Ids come from the content: distinct questions never need a "-2" suffix.
  assertEquals(new Set(records.map((r) => r.id)).size, records.length);
  assert(records.every((r) => /^scannet\/bend\/route_planning\/[0-9a-f]{16}$/.test(r.id)));
  // Global balance per option count: letters stay within one of each other.
  for (const [n, counts] of used) {
    assert(Math.max(...counts) - Math.min(...counts) <= 1, `${n} options: letters ${counts}`);
  }
});
