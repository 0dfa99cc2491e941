/**
 * Route-planning questions (VSI-Bench `route_planning`), following the paper's appendix B.1 and
 * DECISIONS 17: shortest paths between seeded navigable points on one island, simplified to
 * legs; a turn is a heading change above 30 degrees (left when counter-clockwise seen from
 * above, z up); each anchor point is described by the nearest object whose category is unique
 * in the scene; template 1 for routes with turns, template 2 for the alternative start (turn
 * above 45 degrees) and for Turn Back on straight routes.
 *
 * {@link routeCandidates} is pure (navmesh + objects + Rng in, questions out);
 * {@link routePlanning} is the `gen` task family around it (the scene's mesh in, drafts out),
 * whose records the shared driver letters and writes like every other question type.
 *
 * @module
 */

import { buildNavMesh, type NavMesh, type TriangleMesh } from "../geometry/navmesh/mod.ts";
import type { Rng } from "../geometry/rng.ts";
import type { Vec3 } from "../geometry/vec.ts";
import { DataError } from "../io/errors.ts";
import type { ObjectBox } from "../scene/metadata.ts";
import type { LabelledMesh } from "../scene/scannet_mesh.ts";
import type { QaDraft, TaskFamily, TaskSpec } from "./types.ts";

/** The question type, as in VSI-Bench. */
export const ROUTE_QUESTION_TYPE = "route_planning";

/** Paper appendix B.1, template 1 (verbatim; `{ACTIONS}` = the numbered actions). */
export const ROUTE_TEMPLATE_1 =
  "You are a robot beginning at the {SRC} facing the {MID}. You want to navigate to the {TGT}. You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): {ACTIONS}";
/** Paper appendix B.1, template 2 (verbatim up to the actions). */
export const ROUTE_TEMPLATE_2 =
  "You are a robot beginning at the {MID} facing the {TGT}. You want to navigate to the {SRC}. You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): {ACTIONS}";

/** A heading change above this is a turn (paper appendix B.1). */
export const TURN_DEGREES = 30;
/** A single turn above this also allows the alternative start (paper appendix B.1). */
export const ALTERNATIVE_DEGREES = 45;

/** One action per blank, capitalised as in VSI-Bench's options. */
export type TurnAction = "Turn Left" | "Turn Right" | "Turn Back";
/** The actions in a fixed order. */
export const TURN_ACTIONS: readonly TurnAction[] = ["Turn Left", "Turn Right", "Turn Back"];

/** An annotated object as an oriented box: centre, unit axes and half extents along them. */
export interface RouteObject {
  instanceId: number;
  category: string;
  center: Vec3;
  axes: [Vec3, Vec3, Vec3];
  halfSize: Vec3;
}

/** Options of {@link routeCandidates}; defaults are vlm3r's choices (DECISIONS 17). */
export interface RouteOptions {
  /** Start/goal pairs to try (default 100). */
  attempts?: number;
  /** Shortest path to keep (m, default 1.5). */
  minPathLength?: number;
  /** Shortest leg after simplification (m, default 0.5). */
  minLegLength?: number;
  /** Douglas-Peucker tolerance for the simplification (m, default 0.25). */
  simplifyTolerance?: number;
  /** Anchor objects must be this close to their point (m, closest-point distance, default 1.5). */
  anchorMaxDistance?: number;
  /** Most turns in one route (default 3). */
  maxTurns?: number;
}

/** A described point of a route. */
export interface RouteAnchor {
  role: "start" | "turn" | "mid" | "end";
  point: Vec3;
  object: { instanceId: number; category: string; distance: number };
}

/** One candidate question, before lettering. */
export interface RouteQuestion {
  question: string;
  /** Option texts without letters; `answer` is one of them. */
  options: string[];
  answer: string;
  template: 1 | 2;
  actions: TurnAction[];
  anchors: RouteAnchor[];
  /** The navmesh's straight path and its simplified legs (corner points). */
  path: Vec3[];
  legs: Vec3[];
  /** Signed heading change at each interior leg corner (degrees, + = left). */
  turnDegrees: number[];
  length: number;
}

/**
 * Oriented boxes from scene metadata (`object_bboxes`: rows of `normalizedAxes` are the axes).
 *
 * @example
 * ```ts
 * const objs = objectsFromMetadata({ chair: [{ centroid: [1, 2, 0.5], axesLengths: [0.5, 0.5, 1],
 *   normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1], min: [0.75, 1.75, 0], max: [1.25, 2.25, 1], instance_id: 3 }] });
 * if (objs[0].category !== "chair" || objs[0].halfSize[2] !== 0.5) throw new Error();
 * ```
 */
export function objectsFromMetadata(bboxes: Record<string, ObjectBox[]>): RouteObject[] {
  const out: RouteObject[] = [];
  for (const [category, boxes] of Object.entries(bboxes)) {
    boxes.forEach((b, k) => {
      const a = b.normalizedAxes;
      out.push({
        instanceId: b.instance_id ?? k,
        category,
        center: [...b.centroid],
        axes: [[a[0], a[1], a[2]], [a[3], a[4], a[5]], [a[6], a[7], a[8]]],
        halfSize: [b.axesLengths[0] / 2, b.axesLengths[1] / 2, b.axesLengths[2] / 2],
      });
    });
  }
  return out;
}

/** Annotation labels that are structure, not objects to navigate by. */
const STRUCTURE_LABELS = new Set(["wall", "floor", "ceiling"]);

/**
 * Axis-aligned boxes of a labelled mesh's annotated instances (walls, floor and ceiling
 * left out): the fallback anchors when no scene metadata is given.
 *
 * @example
 * ```ts
 * const mesh = { positions: Float64Array.of(0, 0, 0, 1, 2, 1), vertexInstance: Int32Array.of(4, 4),
 *   instances: [{ objectId: 4, label: "desk" }] };
 * const [desk] = objectsFromLabelledMesh(mesh);
 * if (desk.category !== "desk" || desk.halfSize[1] !== 1 || desk.center[0] !== 0.5) throw new Error();
 * ```
 */
export function objectsFromLabelledMesh(
  mesh: Pick<LabelledMesh, "positions" | "vertexInstance" | "instances">,
): RouteObject[] {
  const lo = new Map<number, Vec3>(), hi = new Map<number, Vec3>();
  const p = mesh.positions;
  for (let i = 0; i < mesh.vertexInstance.length; i++) {
    const id = mesh.vertexInstance[i];
    if (id < 0) continue;
    const a = lo.get(id) ?? [Infinity, Infinity, Infinity],
      b = hi.get(id) ?? [-Infinity, -Infinity, -Infinity];
    for (let k = 0; k < 3; k++) {
      a[k] = Math.min(a[k], p[3 * i + k]);
      b[k] = Math.max(b[k], p[3 * i + k]);
    }
    lo.set(id, a);
    hi.set(id, b);
  }
  const out: RouteObject[] = [];
  for (const inst of mesh.instances) {
    const a = lo.get(inst.objectId), b = hi.get(inst.objectId);
    if (!a || !b || STRUCTURE_LABELS.has(inst.label)) continue;
    out.push({
      instanceId: inst.objectId,
      category: inst.label,
      center: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2],
      axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
      halfSize: [(b[0] - a[0]) / 2, (b[1] - a[1]) / 2, (b[2] - a[2]) / 2],
    });
  }
  return out;
}

/**
 * Closest-point distance from `p` to the solid box (0 inside).
 *
 * @example
 * ```ts
 * const box = { instanceId: 0, category: "bed", center: [0, 0, 0] as [number, number, number],
 *   axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as [[number, number, number], [number, number, number], [number, number, number]],
 *   halfSize: [1, 1, 1] as [number, number, number] };
 * if (pointBoxDistance([3, 0, 0], box) !== 2 || pointBoxDistance([0.5, 0, 0], box) !== 0) throw new Error();
 * ```
 */
export function pointBoxDistance(p: Readonly<Vec3>, box: RouteObject): number {
  const d = [p[0] - box.center[0], p[1] - box.center[1], p[2] - box.center[2]];
  let s = 0;
  for (let k = 0; k < 3; k++) {
    const a = box.axes[k];
    const t = d[0] * a[0] + d[1] * a[1] + d[2] * a[2];
    const out = Math.abs(t) - box.halfSize[k];
    if (out > 0) s += out * out;
  }
  return Math.sqrt(s);
}

/** Signed angle from 2D direction a to b in degrees, counter-clockwise positive (left). */
export function signedTurnDegrees(a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  const cross = a[0] * b[1] - a[1] * b[0], dot = a[0] * b[0] + a[1] * b[1];
  return Math.atan2(cross, dot) * 180 / Math.PI;
}

/**
 * The action that turns heading `from` towards `to` (horizontal directions): left or right by
 * the sign of the cross product's z, back when nearly opposite (within 30 degrees of 180).
 *
 * @example
 * ```ts
 * if (turnAction([1, 0, 0], [0, 1, 0]) !== "Turn Left") throw new Error();
 * if (turnAction([1, 0, 0], [-1, 0.1, 0]) !== "Turn Back") throw new Error();
 * ```
 */
export function turnAction(from: Readonly<Vec3>, to: Readonly<Vec3>): TurnAction {
  const deg = signedTurnDegrees(from, to);
  if (Math.abs(deg) > 180 - TURN_DEGREES) return "Turn Back";
  return deg > 0 ? "Turn Left" : "Turn Right";
}

/**
 * Simplifies a path to legs: Douglas-Peucker in the plane, then corners whose heading change is
 * at most 30 degrees are removed one at a time (smallest first), so every remaining corner is
 * a turn.
 *
 * @example
 * ```ts
 * const legs = simplifyRoute([[0, 0, 0], [1, 0.05, 0], [2, 0, 0], [2, 2, 0]], 0.25);
 * if (legs.length !== 3 || legs[1][0] !== 2) throw new Error(JSON.stringify(legs));
 * ```
 */
export function simplifyRoute(points: readonly Vec3[], tolerance: number): Vec3[] {
  const keep = new Array<boolean>(points.length).fill(false);
  keep[0] = keep[points.length - 1] = true;
  const dp = (i: number, j: number) => {
    let best = -1, at = -1;
    for (let k = i + 1; k < j; k++) {
      const d = segmentDistance2d(points[k], points[i], points[j]);
      if (d > best) [best, at] = [d, k];
    }
    if (at >= 0 && best > tolerance) {
      keep[at] = true;
      dp(i, at);
      dp(at, j);
    }
  };
  dp(0, points.length - 1);
  const legs = points.filter((_, i) => keep[i]);
  for (;;) {
    let weakest = -1, weakestDeg = Infinity;
    for (let i = 1; i + 1 < legs.length; i++) {
      const deg = Math.abs(
        signedTurnDegrees(sub2(legs[i], legs[i - 1]), sub2(legs[i + 1], legs[i])),
      );
      if (deg <= TURN_DEGREES && deg < weakestDeg) [weakest, weakestDeg] = [i, deg];
    }
    if (weakest < 0) return legs.map((p) => [...p] as Vec3);
    legs.splice(weakest, 1);
  }
}

function sub2(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[0] - b[0], a[1] - b[1], 0];
}

function segmentDistance2d(p: Readonly<Vec3>, a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  const ex = b[0] - a[0], ey = b[1] - a[1], l2 = ex * ex + ey * ey;
  const t = l2 > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * ex + (p[1] - a[1]) * ey) / l2)) : 0;
  return Math.hypot(p[0] - a[0] - t * ex, p[1] - a[1] - t * ey);
}

/**
 * The nearest object to `p` whose category is unique in the scene, if within `maxDistance`.
 *
 * @example
 * ```ts
 * const box = (id: number, cat: string, x: number) => ({ instanceId: id, category: cat, center: [x, 0, 0.5] as [number, number, number],
 *   axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as [[number, number, number], [number, number, number], [number, number, number]], halfSize: [0.25, 0.25, 0.5] as [number, number, number] });
 * const objs = [box(1, "chair", 1), box(2, "chair", 3), box(3, "sofa", 2)];
 * if (nearestUniqueObject([1, 0, 0], objs, 2)?.category !== "sofa") throw new Error("chairs are not unique");
 * ```
 */
export function nearestUniqueObject(
  p: Readonly<Vec3>,
  objects: readonly RouteObject[],
  maxDistance: number,
): RouteAnchor["object"] | undefined {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.category, (counts.get(o.category) ?? 0) + 1);
  let best: RouteAnchor["object"] | undefined;
  for (const o of objects) {
    if (counts.get(o.category) !== 1) continue;
    const d = pointBoxDistance(p, o);
    if (d <= maxDistance && (!best || d < best.distance)) {
      best = { instanceId: o.instanceId, category: o.category, distance: d };
    }
  }
  return best;
}

function uniqueObjects(objects: readonly RouteObject[]): RouteObject[] {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.category, (counts.get(o.category) ?? 0) + 1);
  return objects.filter((o) => counts.get(o.category) === 1);
}

/** A navigable point within `reach` of the box's footprint, or undefined after a few tries. */
function pointNear(nav: NavMesh, o: RouteObject, reach: number, rng: Rng): Vec3 | undefined {
  const rx = Math.abs(o.axes[0][0]) * o.halfSize[0] + Math.abs(o.axes[1][0]) * o.halfSize[1] +
    reach;
  const ry = Math.abs(o.axes[0][1]) * o.halfSize[0] + Math.abs(o.axes[1][1]) * o.halfSize[1] +
    reach;
  for (let k = 0; k < 8; k++) {
    const p: Vec3 = [
      o.center[0] + rng.uniform(-rx, rx),
      o.center[1] + rng.uniform(-ry, ry),
      o.center[2],
    ];
    const hit = nav.nearestPoint(p, [0.05, 0.05, o.halfSize[2] + 2]);
    if (hit && pointBoxDistance(hit.point, o) <= reach) return hit.point;
  }
  return undefined;
}

/** The point at fraction `t` of the polyline's length. */
function pointAlong(points: readonly Vec3[], t: number): Vec3 {
  let total = 0;
  for (let i = 1; i < points.length; i++) total += dist2(points[i - 1], points[i]);
  let left = total * t;
  for (let i = 1; i < points.length; i++) {
    const d = dist2(points[i - 1], points[i]);
    if (left <= d && d > 0) {
      const f = left / d, a = points[i - 1], b = points[i];
      return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
    }
    left -= d;
  }
  return [...points[points.length - 1]];
}

function dist2(a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  return Math.hypot(b[0] - a[0], b[1] - a[1]);
}

/** The numbered actions of a route: a forward leg to each anchor, a blank before each turn. */
function actionText(forwardTo: string[], blanksFirst: boolean): string {
  const parts: string[] = [];
  forwardTo.forEach((name, i) => {
    if (blanksFirst || i > 0) parts.push("[please fill in]");
    parts.push(`Go forward until the ${name}.`);
  });
  return parts.map((s, i) => `${i + 1}. ${s}`).join(" ") +
    " You have reached the final destination.";
}

/** Fills a template's placeholders. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(SRC|MID|TGT|ACTIONS)\}/g, (_, k: string) => values[k]);
}

/**
 * The option texts: the 3 single actions for one blank; for more, the answer and 3 other
 * distinct sequences drawn from `rng`. Order: as drawn (lettering shuffles them).
 */
export function routeOptions(answer: readonly TurnAction[], rng: Rng): string[] {
  const text = (a: readonly TurnAction[]) => a.join(", ");
  if (answer.length === 1) return TURN_ACTIONS.map((a) => a);
  const options = [text(answer)];
  const total = 3 ** answer.length;
  while (options.length < Math.min(4, total)) {
    const seq = answer.map(() => rng.pick(TURN_ACTIONS));
    if (!options.includes(text(seq))) options.push(text(seq));
  }
  return options;
}

/**
 * Candidate route questions for one scene: seeded start/goal pairs on one island (each near an
 * object of a category unique in the scene, so that the ends can be described), each kept
 * when its path, legs and anchors pass the rules (at most one question per pair, no repeats).
 */
export function routeCandidates(
  nav: NavMesh,
  objects: readonly RouteObject[],
  rng: Rng,
  options: RouteOptions = {},
): RouteQuestion[] {
  const attempts = options.attempts ?? 100;
  const out: RouteQuestion[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < attempts; k++) {
    const q = routeQuestion(nav, objects, rng.child(k), options);
    // Routes between the same anchors make the same question: keep the first.
    if (q && !seen.has(q.question)) {
      seen.add(q.question);
      out.push(q);
    }
  }
  return out;
}

/** One attempt: a question for a seeded pair, or undefined when the pair is rejected. */
export function routeQuestion(
  nav: NavMesh,
  objects: readonly RouteObject[],
  rng: Rng,
  options: RouteOptions = {},
): RouteQuestion | undefined {
  const minPath = options.minPathLength ?? 1.5, minLeg = options.minLegLength ?? 0.5;
  const maxDist = options.anchorMaxDistance ?? 1.5, maxTurns = options.maxTurns ?? 3;
  // Start and goal near two different objects of unique categories (a route between random
  // points rarely has describable ends), on the same island.
  const unique = uniqueObjects(objects);
  if (unique.length < 2) return undefined;
  const [from, to] = rng.shuffle([...unique]).slice(0, 2);
  const start = pointNear(nav, from, maxDist, rng);
  const goal = pointNear(nav, to, maxDist, rng);
  if (!start || !goal || nav.islandOf(start) !== nav.islandOf(goal)) return undefined;
  const path = nav.findPath(start, goal);
  if (!path.found || path.length < minPath) return undefined;
  const legs = simplifyRoute(path.points, options.simplifyTolerance ?? 0.25);
  for (let i = 1; i < legs.length; i++) if (dist2(legs[i - 1], legs[i]) < minLeg) return undefined;
  const turnDegrees: number[] = [];
  for (let i = 1; i + 1 < legs.length; i++) {
    turnDegrees.push(signedTurnDegrees(sub2(legs[i], legs[i - 1]), sub2(legs[i + 1], legs[i])));
  }
  if (turnDegrees.length > maxTurns) return undefined;
  const anchorAt = (role: RouteAnchor["role"], point: Vec3): RouteAnchor | undefined => {
    const object = nearestUniqueObject(point, objects, maxDist);
    return object && { role, point, object };
  };
  const base = { path: path.points, legs, turnDegrees, length: path.length };

  if (turnDegrees.length === 0) {
    // Turn Back: start at the midpoint facing the start, then go to the end (template 2).
    const anchors = [
      anchorAt("start", legs[0]),
      anchorAt("mid", pointAlong(path.points, 0.5)),
      anchorAt("end", legs[legs.length - 1]),
    ];
    if (!distinctAnchors(anchors)) return undefined;
    const [s, m, e] = anchors as RouteAnchor[];
    const facing = sub2(s.point, m.point), heading = sub2(e.point, m.point);
    const actions = [turnAction(facing, heading)];
    if (actions[0] !== "Turn Back") return undefined;
    return {
      ...base,
      question: fill(ROUTE_TEMPLATE_2, {
        MID: m.object.category,
        TGT: s.object.category,
        SRC: e.object.category,
        ACTIONS: actionText([e.object.category], true),
      }),
      template: 2,
      actions,
      anchors: [s, m, e],
      ...lettered(actions, rng),
    };
  }

  const anchors = [
    anchorAt("start", legs[0]),
    ...legs.slice(1, -1).map((p) => anchorAt("turn", p)),
    anchorAt("end", legs[legs.length - 1]),
  ];
  if (!distinctAnchors(anchors)) return undefined;
  const a = anchors as RouteAnchor[];
  const names = a.map((x) => x.object.category);
  const single = turnDegrees.length === 1;
  if (single && Math.abs(turnDegrees[0]) > ALTERNATIVE_DEGREES && rng.chance(0.5)) {
    // The alternative start: at the turn facing the end, back to the start (template 2).
    const [s, m, e] = a;
    const actions = [turnAction(sub2(e.point, m.point), sub2(s.point, m.point))];
    return {
      ...base,
      question: fill(ROUTE_TEMPLATE_2, {
        MID: m.object.category,
        TGT: e.object.category,
        SRC: s.object.category,
        ACTIONS: actionText([s.object.category], true),
      }),
      template: 2,
      actions,
      anchors: a,
      ...lettered(actions, rng),
    };
  }
  const actions = turnDegrees.map((d) => (d > 0 ? "Turn Left" : "Turn Right") as TurnAction);
  return {
    ...base,
    question: fill(ROUTE_TEMPLATE_1, {
      SRC: names[0],
      MID: names[1],
      TGT: names[names.length - 1],
      ACTIONS: actionText(names.slice(1), false),
    }),
    template: 1,
    actions,
    anchors: a,
    ...lettered(actions, rng),
  };
}

function lettered(actions: TurnAction[], rng: Rng): { options: string[]; answer: string } {
  return { options: routeOptions(actions, rng), answer: actions.join(", ") };
}

/** Anchors all found and on different objects (else "go forward until" would be empty). */
function distinctAnchors(anchors: (RouteAnchor | undefined)[]): boolean {
  if (anchors.some((a) => !a)) return false;
  const ids = new Set(anchors.map((a) => a!.object.instanceId));
  return ids.size === anchors.length;
}

/**
 * The question type as `gen` selects it. No reference cap exists: 5 per scene is vlm3r's
 * choice (as many as `vlm3r route` asks by default).
 */
export const ROUTE_TASK: TaskSpec = {
  name: ROUTE_QUESTION_TYPE,
  questionType: ROUTE_QUESTION_TYPE,
  suite: "vsi",
  answer: "mca",
  defaultCap: 5,
};

/** Start/goal pairs tried per scene by `gen` (vlm3r's choice; `vlm3r route --attempts`). */
export const ROUTE_ATTEMPTS = 200;

/** A point rounded to millimetres, for records. */
function mm(p: Readonly<Vec3>): Vec3 {
  return [
    Math.round(p[0] * 1000) / 1000,
    Math.round(p[1] * 1000) / 1000,
    Math.round(p[2] * 1000) / 1000,
  ];
}

/**
 * A question as a `gen` draft: the finished text (no template fields), its option texts and
 * answer, and the route as record fields, so a record can be checked and drawn on its own:
 * `anchors` (`role`, `category`, `instance_id`, `point`) and `legs` (the corner points of the
 * simplified path), aligned metres rounded to millimetres.
 *
 * @example
 * ```ts
 * const q = { question: "Q?", options: ["Turn Left", "Turn Right", "Turn Back"], answer: "Turn Left",
 *   template: 1 as const, actions: ["Turn Left" as const], path: [], turnDegrees: [90], length: 3,
 *   legs: [[0, 0, 0], [1, 0, 0], [1, 2.0004, 0]] as [number, number, number][],
 *   anchors: [{ role: "start" as const, point: [0, 0, 0] as [number, number, number],
 *     object: { instanceId: 4, category: "sofa", distance: 0.2 } }] };
 * const d = routeDraft(q);
 * if (d.template !== "Q?" || (d.extra!.legs as number[][])[2][1] !== 2) throw new Error();
 * ```
 */
export function routeDraft(q: RouteQuestion, task: string = ROUTE_TASK.name): QaDraft {
  return {
    task,
    template: q.question,
    fields: {},
    answer: q.answer,
    options: q.options,
    extra: {
      anchors: q.anchors.map((a) => ({
        role: a.role,
        category: a.object.category,
        instance_id: a.object.instanceId,
        point: mm(a.point),
      })),
      legs: q.legs.map(mm),
    },
  };
}

/**
 * The `route_planning` family of `gen`: the scene's navmesh built from its mesh
 * (`scene.mesh()`, read by `gen --scenes-root` from the raw scene folder), anchors from the
 * scene metadata's oriented boxes, {@link ROUTE_ATTEMPTS} seeded start/goal pairs.
 *
 * @example
 * ```ts
 * import { Rng } from "../geometry/rng.ts";
 * import type { SceneContext } from "./types.ts";
 * // An empty 6 x 4 m floor with no objects: nothing to anchor a route on, so no questions.
 * const scene = { meta: { scene_name: "s", dataset: "scannet" as const, split: "val", video_path: "s.mp4",
 *   room_size: 24, room_center: [3, 2, 0] as [number, number, number], object_counts: {}, object_bboxes: {} },
 *   distances: {} as SceneContext["distances"], caps: { route_planning: 5 },
 *   mesh: () => Promise.resolve({ positions: [0, 0, 0, 6, 0, 0, 6, 4, 0, 0, 4, 0], triangles: [0, 1, 2, 0, 2, 3] }) };
 * if ((await routePlanning.generate(scene, ROUTE_TASK, new Rng(0))).length !== 0) throw new Error();
 * ```
 */
export const routePlanning: TaskFamily = {
  name: ROUTE_QUESTION_TYPE,
  tasks: [ROUTE_TASK],
  needs: { frames: false, mesh: true },
  async generate(scene, task, rng) {
    if (!scene.mesh) throw new Error("route_planning needs the scene's mesh");
    const objects = objectsFromMetadata(scene.meta.object_bboxes);
    // Without two unique categories no route can be described: skip the navmesh build.
    if (uniqueObjects(objects).length < 2) return [];
    const mesh = (await scene.mesh()) as TriangleMesh & { file?: string };
    assertSameFrame(objects, mesh, mesh.file ?? scene.meta.scene_name);
    const nav = buildNavMesh(mesh);
    return routeCandidates(nav, objects, rng, { attempts: ROUTE_ATTEMPTS })
      .map((q) => routeDraft(q, task.name));
  },
};

/** How far outside the mesh's bounds a box centre may lie and still count as inside (m). */
const FRAME_MARGIN = 0.5;

/**
 * Boxes and mesh must share one frame: at least half of the box centres within the mesh's
 * bounds (grown by {@link FRAME_MARGIN}). A box of the scan's objects always is; VSI-Bench's
 * ScanNet meta info (mean-centred) against a raw aligned mesh is not, and routes anchored on
 * it would name the wrong objects.
 */
function assertSameFrame(objects: readonly RouteObject[], mesh: TriangleMesh, file: string): void {
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  const p = mesh.positions;
  for (let i = 0; i < p.length; i++) {
    lo[i % 3] = Math.min(lo[i % 3], p[i]);
    hi[i % 3] = Math.max(hi[i % 3], p[i]);
  }
  const inside =
    objects.filter((o) =>
      o.center.every((v, k) => v >= lo[k] - FRAME_MARGIN && v <= hi[k] + FRAME_MARGIN)
    ).length;
  if (2 * inside < objects.length) {
    throw new DataError(
      file,
      "bounds",
      "the scene metadata's boxes inside the mesh (one frame; VSI-Bench's ScanNet meta info " +
        "is mean-centred: use vlm3r meta's metadata)",
      `${inside} of ${objects.length} box centres`,
    );
  }
}
