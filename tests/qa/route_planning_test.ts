// Route-plan questions checked against path geometry and synth ground truth.

import { join } from "node:path";
import { buildNavMesh, type NavMesh } from "../../geometry/navmesh/mod.ts";
import { Rng } from "../../geometry/rng.ts";
import type { Vec3 } from "../../geometry/vec.ts";
import { buildRecords } from "../../qa/generate.ts";
import {
  routeCandidates,
  routeDraft,
  type RouteObject,
  type RouteQuestion,
} from "../../qa/route_planning.ts";
import { readScannetMesh } from "../../scene/scannet_mesh.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { assert, assertEquals } from "../assert.ts";
import { MeshBuilder } from "../geometry/_meshes.ts";

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

const TEMPLATE_1_HEAD = "You are a robot beginning at the ";
const NOTE =
  "You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): ";

function cross2(a: Vec3, b: Vec3): number {
  return a[0] * b[1] - a[1] * b[0];
}
function dir(a: Vec3, b: Vec3): Vec3 {
  return [b[0] - a[0], b[1] - a[1], 0];
}
function angle(a: Vec3, b: Vec3): number {
  const c = (a[0] * b[0] + a[1] * b[1]) / (Math.hypot(a[0], a[1]) * Math.hypot(b[0], b[1]));
  return Math.acos(Math.max(-1, Math.min(1, c))) * 180 / Math.PI;
}

/** Every property the issue asks of a question, recomputed from its geometry. */
function checkQuestion(q: RouteQuestion, truth: TruthObject[]): void {
  assert(q.question.startsWith(TEMPLATE_1_HEAD) && q.question.includes(NOTE), q.question);
  assert(q.question.endsWith(" You have reached the final destination."));
  const blanks = q.question.split("[please fill in]").length - 1 - 1; // one is in the note
  assertEquals(blanks, q.actions.length, "one blank per action");
  assertEquals(q.answer, q.actions.join(", "));
  assertEquals(q.options.filter((o) => o === q.answer).length, 1, "the answer is one option");
  assertEquals(new Set(q.options).size, q.options.length, "options are distinct");
  assertEquals(q.options.length, q.actions.length === 1 ? 3 : 4);
  assertEquals(q.legs[0], q.path[0]);
  assertEquals(q.legs[q.legs.length - 1], q.path[q.path.length - 1]);
  const A = (role: string) => q.anchors.find((a) => a.role === role)!;
  if (q.template === 1) {
    // Each blank is the turn at the next corner: left when counter-clockwise (z up).
    for (let i = 1; i + 1 < q.legs.length; i++) {
      const a = dir(q.legs[i - 1], q.legs[i]), b = dir(q.legs[i], q.legs[i + 1]);
      assert(angle(a, b) > 30, "every corner is a turn");
      assertEquals(q.actions[i - 1], cross2(a, b) > 0 ? "Turn Left" : "Turn Right");
    }
    assertEquals(q.actions.length, q.legs.length - 2);
    const names = q.anchors.map((a) => a.object.category);
    assert(
      q.question.startsWith(`${TEMPLATE_1_HEAD}${names[0]} facing the ${names[1]}. `) &&
        q.question.includes(`You want to navigate to the ${names[names.length - 1]}. `),
    );
  } else if (q.actions[0] === "Turn Back") {
    // Straight route: at the midpoint facing the start, the end is behind.
    assertEquals(q.legs.length, 2);
    const s = A("start"), m = A("mid"), e = A("end");
    assert(angle(dir(m.point, s.point), dir(m.point, e.point)) > 150);
    assert(
      q.question.startsWith(
        `${TEMPLATE_1_HEAD}${m.object.category} facing the ${s.object.category}.`,
      ),
    );
    assert(q.question.includes(`navigate to the ${e.object.category}.`));
  } else {
    // The alternative start: at the turn facing the end, going back to the start.
    assertEquals(q.legs.length, 3);
    const s = A("start"), m = A("turn"), e = A("end");
    assert(angle(dir(s.point, m.point), dir(m.point, e.point)) > 45, "only for turns above 45");
    const facing = dir(m.point, e.point), toGoal = dir(m.point, s.point);
    assertEquals(q.actions[0], cross2(facing, toGoal) > 0 ? "Turn Left" : "Turn Right");
    assert(
      q.question.startsWith(
        `${TEMPLATE_1_HEAD}${m.object.category} facing the ${e.object.category}.`,
      ),
    );
  }
  // Anchors: the nearest object of a category unique in the scene, by closest-point distance.
  const counts = new Map<string, number>();
  for (const o of truth) counts.set(o.category, (counts.get(o.category) ?? 0) + 1);
  for (const a of q.anchors) {
    const best = truth.filter((o) => counts.get(o.category) === 1)
      .map((o) => ({ o, d: truthDistance(a.point, o) }))
      .sort((x, y) => x.d - y.d)[0];
    assertEquals(a.object.instanceId, best.o.instance_id, `anchor at ${a.point}`);
    assert(Math.abs(a.object.distance - best.d) < 1e-9 && best.d <= 1.5);
  }
  assertEquals(new Set(q.anchors.map((a) => a.object.instanceId)).size, q.anchors.length);
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

Deno.test("route questions around a wall: turns, the alternative start and Turn Back agree with geometry", () => {
  const { nav, truth } = bendRoom();
  const qs = routeCandidates(nav, truth.map(routeObject), new Rng("bend"), { attempts: 300 });
  for (const q of qs) checkQuestion(q, truth);
  const kinds = new Set(qs.map((q) => `${q.template}:${q.actions.length}`));
  assert(kinds.has("1:1") && kinds.has("1:2"), `one- and two-turn routes: ${[...kinds]}`);
  assert(qs.some((q) => q.template === 2 && q.actions[0] !== "Turn Back"), "alternative starts");
  assert(qs.some((q) => q.actions[0] === "Turn Back"), "Turn Back");
  assert(
    qs.every((q) => !q.anchors.some((a) => a.object.category === "chair")),
    "chairs are not unique",
  );
});

Deno.test("route questions on written synth scenes: anchors are the nearest unique ground-truth objects", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let asked = 0;
    for (const index of [0, 1, 2]) {
      const scene = synthScene("route-test", index, { frames: 1, width: 16, height: 16 });
      const { dir: scan } = await writeSynthScene(scene, dir, { workers: 1, video: "none" });
      const mesh = await readScannetMesh(scan);
      const truth: TruthObject[] =
        JSON.parse(await Deno.readTextFile(join(scan, "ground_truth.json"))).objects;
      const nav = buildNavMesh(mesh);
      const qs = routeCandidates(nav, truth.map(routeObject), new Rng(`synth/${index}`), {
        attempts: 120,
      });
      for (const q of qs) checkQuestion(q, truth);
      asked += qs.length;
    }
    assert(asked >= 3, `${asked} questions`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("route records through gen's driver: VSI-Bench options, balanced letters, stable ids, one seed one output", () => {
  const { nav, truth } = bendRoom();
  const make = () => {
    const qs = routeCandidates(nav, truth.map(routeObject), new Rng("records"), { attempts: 200 });
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
