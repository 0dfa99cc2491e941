/**
 * Route-planning questions (VSI-Bench `route_planning`) made as the authors' generator makes
 * them (`route-plan-reference.md`; the paper's appendix B.1):
 *
 * 1. paths: the navmesh's shortest path between two seeded random navigable points, its corner
 *    points densified with 3 interpolated poses per segment;
 * 2. variants: the path, its reverse, and (more than 8 poses) its first and last 3/4, each also
 *    reversed: up to 6 routes per path;
 * 3. turns: a pose where the heading changes by more than 30 degrees between the incoming and
 *    the outgoing step, left when counter-clockwise seen from above (z up);
 * 4. landmarks: each named pose is described by an object of a category unique in the scene
 *    (never wall, object, floor or ceiling), by {@link LandmarkRule}; a route whose landmarks
 *    repeat a category is skipped;
 * 5. forms: no turn asks `Turn Back` (at the middle facing the end, back to the start); turns
 *    ask one blank each (template 1, generalised); one turn above 45 degrees also asks the
 *    alternative (at the turn facing the end, back to the start);
 * 6. options: 3 for one blank, 4 for more; `Back`-only questions are down-sampled (seeded).
 *
 * {@link pathQuestions} and {@link routeCandidates} are pure (geometry + objects + Rng in,
 * questions out); {@link routePlanning} is the `gen` task family around them.
 *
 * @module
 */

import { buildNavMesh, type NavMesh, type TriangleMesh } from "../geometry/navmesh/mod.ts";
import type { Rng } from "../geometry/rng.ts";
import type { Vec3 } from "../geometry/vec.ts";
import { DataError } from "../io/errors.ts";
import type { ObjectBox } from "../scene/metadata.ts";
import type { LabelledMesh } from "../scene/scannet_mesh.ts";
import type { LandmarkRule, QaDraft, TaskFamily, TaskSpec } from "./types.ts";

export type { LandmarkRule } from "./types.ts";

/** The question type, as in VSI-Bench. */
export const ROUTE_QUESTION_TYPE = "route_planning";

/** Paper appendix B.1, template 1 (verbatim; `{ACTIONS}` = the numbered actions). */
export const ROUTE_TEMPLATE_1 =
  "You are a robot beginning at the {SRC} facing the {MID}. You want to navigate to the {TGT}. You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): {ACTIONS}";
/** Paper appendix B.1, template 2 (verbatim up to the actions). */
export const ROUTE_TEMPLATE_2 =
  "You are a robot beginning at the {MID} facing the {TGT}. You want to navigate to the {SRC}. You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): {ACTIONS}";

/** A heading change above this is a turn (paper appendix B.1, the authors' generator). */
export const TURN_DEGREES = 30;
/** A single turn above this also asks the alternative start (paper appendix B.1). */
export const ALTERNATIVE_DEGREES = 45;
/** Poses interpolated between two corner points of a path (the authors' generator). */
export const POSES_BETWEEN = 3;
/** Paths with more than this many poses also give their first and last 3/4 (same source). */
export const PARTIAL_MIN_POSES = 8;

/** The landmark rules `--landmark` offers; the first is the default (README, "Route questions"). */
export const LANDMARK_RULES: readonly LandmarkRule[] = ["nearest-surface", "nearest-corner"];

/**
 * `nearest-surface`: the farthest a landmark may be from its pose (m). vlm3r's choice: far
 * enough for the turns at doorways, where nothing stands, near enough to be in view.
 */
export const LANDMARK_REACH = 2.5;

/** Labels that never name a landmark (the authors' generator). */
export const NON_LANDMARK_LABELS: ReadonlySet<string> = new Set([
  "wall",
  "object",
  "floor",
  "ceiling",
]);

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

/** Options of {@link routeCandidates} and {@link pathQuestions}; defaults are vlm3r's. */
export interface RouteOptions {
  /** Paths to make per scene (default {@link ROUTE_PATHS}). */
  paths?: number;
  /** Random point pairs tried to find them (default {@link ROUTE_ATTEMPTS}). */
  attempts?: number;
  /** Shortest path kept (m, default 1.5). */
  minPathLength?: number;
  /** How a pose finds its landmark (default `nearest-surface`). */
  landmark?: LandmarkRule;
  /** `nearest-surface` only: a landmark is at most this far from its pose (m, default 2.5). */
  anchorMaxDistance?: number;
  /** Most turns (blanks) in one question (default 3, as VSI-Bench's questions). */
  maxTurns?: number;
  /** Share of the `Turn Back` questions kept (default 0.25: the authors drop 75%). */
  backKeep?: number;
}

/** A described pose of a route. */
export interface RouteAnchor {
  role: "start" | "turn" | "mid" | "end";
  point: Vec3;
  object: { instanceId: number; category: string; distance: number };
}

/** A turn of a route: the pose where it happens and its signed angle (degrees, + = left). */
export interface RouteTurn {
  index: number;
  degrees: number;
  action: "Turn Left" | "Turn Right";
}

/** The six ways a path is walked (its variants). */
export type RouteVariantName =
  | "path"
  | "reverse"
  | "first"
  | "first-reverse"
  | "last"
  | "last-reverse";

/** The three question forms: one blank per turn, the alternative start, `Turn Back`. */
export type RouteForm = "turns" | "alternative" | "back";

/** One question, before lettering. */
export interface RouteQuestion {
  question: string;
  /** Option texts without letters; `answer` is one of them. */
  options: string[];
  answer: string;
  actions: TurnAction[];
  form: RouteForm;
  variant: RouteVariantName;
  /** Start, turns (or the middle), end: the described poses, in route order. */
  anchors: RouteAnchor[];
  /** The variant's poses, in walking order. */
  path: Vec3[];
  /** Every turn of the variant (`form` "back": none). */
  turns: RouteTurn[];
  /** Length of the variant (m, in the floor plane). */
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
    if (!a || !b || NON_LANDMARK_LABELS.has(inst.label)) continue;
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

/**
 * Floor-plane distance from `p` to the nearest footprint corner of the box taken axis-aligned
 * (its centre and side lengths, rotation ignored): the authors' landmark distance.
 *
 * @example
 * ```ts
 * const box = { instanceId: 0, category: "bed", center: [0, 0, 0.5] as [number, number, number],
 *   axes: [[0, 1, 0], [-1, 0, 0], [0, 0, 1]] as [[number, number, number], [number, number, number], [number, number, number]],
 *   halfSize: [2, 1, 0.5] as [number, number, number] };
 * // Rotated 90 degrees, but the corners are taken at (+-2, +-1) all the same.
 * if (cornerDistance([5, 1, 0], box) !== 3) throw new Error();
 * ```
 */
export function cornerDistance(p: Readonly<Vec3>, box: RouteObject): number {
  const dx = Math.abs(p[0] - box.center[0]), dy = Math.abs(p[1] - box.center[1]);
  // The nearest of the four corners is the one on p's side of both axes.
  return Math.hypot(dx - box.halfSize[0], dy - box.halfSize[1]);
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
 * A path's poses: its corner points (repeats dropped) with {@link POSES_BETWEEN} evenly
 * spaced poses inserted in every segment.
 *
 * @example
 * ```ts
 * const poses = densifyPath([[0, 0, 0], [4, 0, 0], [4, 4, 0]]);
 * if (poses.length !== 9 || poses[1][0] !== 1 || poses[4][0] !== 4) throw new Error();
 * ```
 */
export function densifyPath(points: readonly Vec3[], between = POSES_BETWEEN): Vec3[] {
  const corners: Vec3[] = [];
  for (const p of points) {
    const last = corners[corners.length - 1];
    if (!last || Math.hypot(p[0] - last[0], p[1] - last[1]) > 1e-6) corners.push([...p]);
  }
  const out: Vec3[] = [];
  for (let i = 0; i + 1 < corners.length; i++) {
    const a = corners[i], b = corners[i + 1];
    out.push(a);
    for (let k = 1; k <= between; k++) {
      const t = k / (between + 1);
      out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), a[2] + t * (b[2] - a[2])]);
    }
  }
  if (corners.length > 0) out.push(corners[corners.length - 1]);
  return out;
}

/**
 * The routes a path's poses give: the path and its reverse, and with more than
 * {@link PARTIAL_MIN_POSES} poses also its first and last `floor(3n/4)` poses, each reversed too.
 *
 * @example
 * ```ts
 * const poses = Array.from({ length: 9 }, (_, i) => [i, 0, 0] as [number, number, number]);
 * const v = pathVariants(poses);
 * if (v.length !== 6 || v[2].poses.length !== 6 || v[5].poses[0][0] !== 8) throw new Error();
 * ```
 */
export function pathVariants(
  poses: readonly Vec3[],
): { name: RouteVariantName; poses: Vec3[] }[] {
  const reversed = (p: readonly Vec3[]) => [...p].reverse();
  const out: { name: RouteVariantName; poses: Vec3[] }[] = [
    { name: "path", poses: [...poses] },
    { name: "reverse", poses: reversed(poses) },
  ];
  if (poses.length > PARTIAL_MIN_POSES) {
    const k = Math.floor(poses.length * 3 / 4);
    const first = poses.slice(0, k), last = poses.slice(poses.length - k);
    out.push(
      { name: "first", poses: first },
      { name: "first-reverse", poses: reversed(first) },
      { name: "last", poses: last },
      { name: "last-reverse", poses: reversed(last) },
    );
  }
  return out;
}

/**
 * The turns of a route: every pose where the heading between the incoming and the outgoing
 * step changes by more than {@link TURN_DEGREES}, in the floor plane.
 *
 * @example
 * ```ts
 * const turns = routeTurns([[0, 0, 0], [2, 0, 0], [2, 2, 0], [2.5, 4, 0]]);
 * if (turns.length !== 1 || turns[0].index !== 1 || turns[0].action !== "Turn Left") throw new Error();
 * ```
 */
export function routeTurns(poses: readonly Vec3[]): RouteTurn[] {
  const out: RouteTurn[] = [];
  for (let i = 1; i + 1 < poses.length; i++) {
    const degrees = signedTurnDegrees(sub2(poses[i], poses[i - 1]), sub2(poses[i + 1], poses[i]));
    if (Math.abs(degrees) > TURN_DEGREES) {
      out.push({ index: i, degrees, action: degrees > 0 ? "Turn Left" : "Turn Right" });
    }
  }
  return out;
}

function sub2(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[0] - b[0], a[1] - b[1], 0];
}

function length2d(points: readonly Vec3[]): number {
  let s = 0;
  for (let i = 1; i < points.length; i++) {
    s += Math.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]);
  }
  return s;
}

/**
 * The objects that may name a route's poses: not structure (`wall`, `object`, `floor`,
 * `ceiling`), and of a category that occurs once in the scene.
 *
 * @example
 * ```ts
 * const o = (id: number, category: string) => ({ instanceId: id, category, center: [0, 0, 0] as [number, number, number],
 *   axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as [[number, number, number], [number, number, number], [number, number, number]],
 *   halfSize: [1, 1, 1] as [number, number, number] });
 * const l = routeLandmarks([o(1, "chair"), o(2, "chair"), o(3, "sofa"), o(4, "wall")]);
 * if (l.length !== 1 || l[0].category !== "sofa") throw new Error();
 * ```
 */
export function routeLandmarks(objects: readonly RouteObject[]): RouteObject[] {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.category, (counts.get(o.category) ?? 0) + 1);
  return objects.filter((o) =>
    counts.get(o.category) === 1 && !NON_LANDMARK_LABELS.has(o.category)
  );
}

/**
 * The landmark of a pose among `landmarks` ({@link routeLandmarks}): by `nearest-surface`
 * (vlm3r's default), the object whose oriented box is nearest (closest-point distance), within
 * `maxDistance`; by `nearest-corner` (the authors' rule), the object whose axis-aligned
 * footprint has the nearest corner, however far. Ties go to the first object.
 *
 * @example
 * ```ts
 * const o = (id: number, category: string, x: number, y: number, half: number) => ({ instanceId: id,
 *   category, center: [x, y, 0.5] as [number, number, number],
 *   axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as [[number, number, number], [number, number, number], [number, number, number]],
 *   halfSize: [half, 0.1, 0.5] as [number, number, number] });
 * const objs = [o(1, "sofa", 0, 0, 2), o(2, "tv", 1, 1.6, 0.1)];
 * // The long sofa's side is nearest; its corners are far, the small tv's corner is near.
 * if (landmarkOf([0, 1, 0], objs)?.category !== "sofa") throw new Error();
 * if (landmarkOf([0, 1, 0], objs, { rule: "nearest-corner" })?.category !== "tv") throw new Error();
 * ```
 */
export function landmarkOf(
  p: Readonly<Vec3>,
  landmarks: readonly RouteObject[],
  options: { rule?: LandmarkRule; maxDistance?: number } = {},
): RouteAnchor["object"] | undefined {
  const corner = options.rule === "nearest-corner";
  const max = corner ? Infinity : options.maxDistance ?? LANDMARK_REACH;
  let best: RouteAnchor["object"] | undefined;
  for (const o of landmarks) {
    const d = corner ? cornerDistance(p, o) : pointBoxDistance(p, o);
    if (d <= max && (!best || d < best.distance)) {
      best = { instanceId: o.instanceId, category: o.category, distance: d };
    }
  }
  return best;
}

/** The numbered actions: each step in turn, then the closing sentence. */
function actionText(steps: string[]): string {
  return steps.map((s, i) => `${i + 1}. ${s}`).join(" ") +
    " You have reached the final destination.";
}

/** Fills a template's placeholders. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(SRC|MID|TGT|ACTIONS)\}/g, (_, k: string) => values[k]);
}

/**
 * The option texts: the 3 single actions for one blank; for more, the answer and 3 other
 * distinct sequences of the same length, each action drawn from `rng`. Order: as drawn
 * (lettering shuffles them).
 *
 * @example
 * ```ts
 * import { Rng } from "../geometry/rng.ts";
 * const o = routeOptions(["Turn Left", "Turn Right"], new Rng(1));
 * if (o.length !== 4 || o[0] !== "Turn Left, Turn Right" || new Set(o).size !== 4) throw new Error();
 * ```
 */
export function routeOptions(answer: readonly TurnAction[], rng: Rng): string[] {
  const text = (a: readonly TurnAction[]) => a.join(", ");
  if (answer.length === 1) return TURN_ACTIONS.map((a) => a);
  const options = [text(answer)];
  while (options.length < 4) {
    const seq = answer.map(() => rng.pick(TURN_ACTIONS));
    if (!options.includes(text(seq))) options.push(text(seq));
  }
  return options;
}

/** What {@link variantQuestions} needs besides the poses. */
interface LandmarkSettings {
  landmarks: readonly RouteObject[];
  rule: LandmarkRule;
  maxDistance: number;
  maxTurns: number;
}

/** The questions of one route (without options): one form, plus the alternative. */
function variantQuestions(
  name: RouteVariantName,
  poses: readonly Vec3[],
  s: LandmarkSettings,
): Omit<RouteQuestion, "options">[] {
  const n = poses.length;
  if (n < 2) return [];
  const turns = routeTurns(poses);
  if (turns.length > s.maxTurns) return [];
  const at = (role: RouteAnchor["role"], i: number): RouteAnchor | undefined => {
    const object = landmarkOf(poses[i], s.landmarks, { rule: s.rule, maxDistance: s.maxDistance });
    return object && { role, point: [...poses[i]], object };
  };
  const base = { variant: name, path: poses.map((p) => [...p] as Vec3), length: length2d(poses) };
  const head = (a: RouteAnchor, b: RouteAnchor, c: RouteAnchor, steps: string[]) =>
    fill(ROUTE_TEMPLATE_2, {
      MID: a.object.category,
      TGT: b.object.category,
      SRC: c.object.category,
      ACTIONS: actionText(steps),
    });

  if (turns.length === 0) {
    // Turn Back: at the middle pose facing the end, the start is behind.
    const anchors = [at("start", 0), at("mid", Math.floor(n / 2)), at("end", n - 1)];
    if (!distinctCategories(anchors)) return [];
    const [src, mid, tgt] = anchors as RouteAnchor[];
    // Small bends (each 30 degrees or less) add up: ask only when the start is really behind.
    if (turnAction(sub2(tgt.point, mid.point), sub2(src.point, mid.point)) !== "Turn Back") {
      return [];
    }
    return [{
      ...base,
      question: head(mid, tgt, src, [
        "[please fill in]",
        `Go forward until the ${src.object.category}.`,
      ]),
      answer: "Turn Back",
      actions: ["Turn Back"],
      form: "back",
      anchors: [src, mid, tgt],
      turns: [],
    }];
  }

  const anchors = [at("start", 0), ...turns.map((t) => at("turn", t.index)), at("end", n - 1)];
  if (!distinctCategories(anchors)) return [];
  const a = anchors as RouteAnchor[];
  const names = a.map((x) => x.object.category);
  const steps: string[] = [];
  names.slice(1).forEach((name, i) => {
    if (i > 0) steps.push("[please fill in]");
    steps.push(`Go forward until the ${name}.`);
  });
  const actions: TurnAction[] = turns.map((t) => t.action);
  const out: Omit<RouteQuestion, "options">[] = [{
    ...base,
    question: fill(ROUTE_TEMPLATE_1, {
      SRC: names[0],
      MID: names[1],
      TGT: names[names.length - 1],
      ACTIONS: actionText(steps),
    }),
    answer: actions.join(", "),
    actions,
    form: "turns",
    anchors: a,
    turns,
  }];
  const [turn] = turns;
  if (turns.length === 1 && Math.abs(turn.degrees) > ALTERNATIVE_DEGREES) {
    // The alternative: at the turn facing the end, back to the start; the answer is the
    // turn's own direction, which it is when the legs are straight: ask only then.
    const [src, mid, tgt] = a;
    if (turnAction(sub2(tgt.point, mid.point), sub2(src.point, mid.point)) === turn.action) {
      out.push({
        ...base,
        question: head(mid, tgt, src, [
          "[please fill in]",
          `Go forward until the ${src.object.category}.`,
        ]),
        answer: turn.action,
        actions: [turn.action],
        form: "alternative",
        anchors: a,
        turns,
      });
    }
  }
  return out;
}

/** Every anchor found, no category twice (the route would name one object for two poses). */
function distinctCategories(anchors: (RouteAnchor | undefined)[]): boolean {
  if (anchors.some((a) => !a)) return false;
  return new Set(anchors.map((a) => a!.object.category)).size === anchors.length;
}

/** Settings of a question run, defaults filled in. */
function settings(objects: readonly RouteObject[], options: RouteOptions): LandmarkSettings {
  return {
    landmarks: routeLandmarks(objects),
    rule: options.landmark ?? LANDMARK_RULES[0],
    maxDistance: options.anchorMaxDistance ?? LANDMARK_REACH,
    maxTurns: options.maxTurns ?? 3,
  };
}

/**
 * Every question of one path (its corner points, as the navmesh returns them): the path
 * densified, each of its variants asked in its form, repeated texts dropped, options drawn from
 * `rng`. No down-sampling: {@link routeCandidates} does that over the scene.
 *
 * @example
 * ```ts
 * import { Rng } from "../geometry/rng.ts";
 * const o = (id: number, category: string, x: number, y: number) => ({ instanceId: id, category,
 *   center: [x, y, 0.4] as [number, number, number],
 *   axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as [[number, number, number], [number, number, number], [number, number, number]],
 *   halfSize: [0.3, 0.3, 0.4] as [number, number, number] });
 * const objects = [o(1, "sofa", -0.5, -0.5), o(2, "tv", 4.5, -0.5), o(3, "bed", 4.5, 4.5)];
 * const qs = pathQuestions([[0, 0, 0], [4, 0, 0], [4, 4, 0]], objects, new Rng(0));
 * if (qs[0].answer !== "Turn Left" || !qs[0].question.includes("beginning at the sofa facing the tv")) {
 *   throw new Error(qs[0].question);
 * }
 * ```
 */
export function pathQuestions(
  path: readonly Vec3[],
  objects: readonly RouteObject[],
  rng: Rng,
  options: RouteOptions = {},
): RouteQuestion[] {
  return questionsOfPath(path, settings(objects, options), rng);
}

function questionsOfPath(path: readonly Vec3[], s: LandmarkSettings, rng: Rng): RouteQuestion[] {
  const seen = new Set<string>();
  const out: RouteQuestion[] = [];
  for (const v of pathVariants(densifyPath(path))) {
    for (const q of variantQuestions(v.name, v.poses, s)) {
      if (seen.has(q.question)) continue;
      seen.add(q.question);
      out.push({ ...q, options: routeOptions(q.actions, rng) });
    }
  }
  return out;
}

/**
 * Candidate route questions for one scene: up to `paths` paths between seeded random
 * navigable points (both on one island, at least `minPathLength` apart along the path), all
 * questions of each ({@link pathQuestions}), repeated texts dropped, then the `Turn Back`
 * questions down-sampled to `backKeep` of them (seeded) so that they do not dominate.
 */
export function routeCandidates(
  nav: NavMesh,
  objects: readonly RouteObject[],
  rng: Rng,
  options: RouteOptions = {},
): RouteQuestion[] {
  const s = settings(objects, options);
  if (s.landmarks.length < 2) return [];
  const wanted = options.paths ?? ROUTE_PATHS, attempts = options.attempts ?? ROUTE_ATTEMPTS;
  const minPath = options.minPathLength ?? 1.5;
  const out: RouteQuestion[] = [];
  const seen = new Set<string>();
  for (let k = 0, made = 0; k < attempts && made < wanted; k++) {
    const r = rng.child(k);
    const a = nav.randomPoint(r);
    if (!a) break;
    const b = nav.randomPoint(r, nav.islandOf(a));
    if (!b) continue;
    const path = nav.findPath(a, b);
    if (!path.found || path.length < minPath) continue;
    made++;
    for (const q of questionsOfPath(path.points, s, r)) {
      // Another path between the same landmarks asks the same question: keep the first.
      if (seen.has(q.question)) continue;
      seen.add(q.question);
      out.push(q);
    }
  }
  const keep = rng.child("back");
  const backKeep = options.backKeep ?? 0.25;
  return out.filter((q) => q.form !== "back" || keep.chance(backKeep));
}

/** Which share of a scene's questions each kind gets: a cycle of slots (see below). */
const SELECTION_CYCLE = ["multi", "single", "multi", "back", "multi"] as const;

/**
 * Picks `count` of a scene's candidates so that a set of them reads like VSI-Bench's route
 * questions (about 40% with two or more blanks, `Turn Back` a minority). Only scenes of
 * several rooms have routes with two or more turns to give, so where they exist they get 3 of
 * every 5 slots: slots are filled in the cycle two or more blanks, one turn, two or more
 * blanks, `Turn Back`, two or more blanks, each from its kind shuffled by `rng`; a turning kind
 * that has run out gives its slot to the other, never to `Turn Back`, which has one question
 * at most for every four with turns (one if there are none): a scene of straight routes asks
 * fewer questions rather than mostly `Turn Back`. Returned in candidate order.
 *
 * @example
 * ```ts
 * import { Rng } from "../geometry/rng.ts";
 * const q = (answer: string, form: "turns" | "back") => ({ answer, form, actions: answer.split(", ") });
 * const qs = [q("Turn Back", "back"), q("Turn Back", "back"), q("Turn Left", "turns"),
 *   q("Turn Left, Turn Right", "turns"), q("Turn Back", "back")];
 * // Slots: two blanks, one turn, two blanks (none left: one turn, none left: Turn Back).
 * const picked = selectRouteQuestions(qs, 3, new Rng(0));
 * const backs = picked.filter((x) => x.form === "back").length;
 * if (backs !== 1 || !picked.some((x) => x.actions.length === 2)) throw new Error(JSON.stringify(picked));
 * ```
 */
export function selectRouteQuestions<T extends { form: RouteForm; actions: readonly string[] }>(
  candidates: readonly T[],
  count: number,
  rng: Rng,
): T[] {
  const kindOf = (q: T) => q.actions.length >= 2 ? "multi" : q.form === "back" ? "back" : "single";
  const buckets = new Map<string, number[]>();
  for (const kind of ["multi", "single", "back"]) {
    buckets.set(kind, rng.shuffle(candidates.flatMap((q, i) => kindOf(q) === kind ? [i] : [])));
  }
  // Turn Back never takes another kind's slot, and has at most one question for every four
  // with turns (one when there are none): a scene of straight routes asks fewer questions.
  const fallback: Record<string, string[]> = {
    multi: ["multi", "single"],
    single: ["single", "multi"],
    back: ["back", "single", "multi"],
  };
  const picked: number[] = [];
  let backs = 0;
  for (let slot = 0, idle = 0; picked.length < count && idle < SELECTION_CYCLE.length; slot++) {
    const kind = fallback[SELECTION_CYCLE[slot % SELECTION_CYCLE.length]].find((k) =>
      buckets.get(k)!.length > 0 &&
      (k !== "back" || backs < 1 + Math.floor((picked.length - backs) / 4))
    );
    if (kind) picked.push(buckets.get(kind)!.shift()!);
    if (kind === "back") backs++;
    idle = kind ? 0 : idle + 1;
  }
  return picked.sort((a, b) => a - b).map((i) => candidates[i]);
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

/**
 * Paths made per scene. The authors make up to 29; vlm3r makes more, so that a scene has
 * enough routes with two or more turns for {@link selectRouteQuestions} to choose from.
 */
export const ROUTE_PATHS = 200;

/** Random point pairs tried per scene to find {@link ROUTE_PATHS} paths (vlm3r's choice). */
export const ROUTE_ATTEMPTS = 800;

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
 * `route_form`, `route_variant`, `anchors` (`role`, `category`, `instance_id`, `point`) and
 * `path` (the route's poses), aligned metres rounded to millimetres.
 *
 * @example
 * ```ts
 * const q = { question: "Q?", options: ["Turn Left", "Turn Right", "Turn Back"], answer: "Turn Left",
 *   form: "turns" as const, variant: "path" as const, actions: ["Turn Left" as const], length: 3,
 *   path: [[0, 0, 0], [1, 0, 0], [1, 2.0004, 0]] as [number, number, number][],
 *   turns: [{ index: 1, degrees: 90, action: "Turn Left" as const }],
 *   anchors: [{ role: "start" as const, point: [0, 0, 0] as [number, number, number],
 *     object: { instanceId: 4, category: "sofa", distance: 0.2 } }] };
 * const d = routeDraft(q);
 * if (d.template !== "Q?" || (d.extra!.path as number[][])[2][1] !== 2) throw new Error();
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
      route_form: q.form,
      route_variant: q.variant,
      anchors: q.anchors.map((a) => ({
        role: a.role,
        category: a.object.category,
        instance_id: a.object.instanceId,
        point: mm(a.point),
      })),
      path: q.path.map(mm),
    },
  };
}

/**
 * The `route_planning` family of `gen`: the scene's navmesh built from its mesh
 * (`scene.mesh()`, read by `gen --scenes-root` from the raw scene folder), landmarks from the
 * scene metadata's oriented boxes by the run's rule (`gen --landmark`).
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
    // Without two landmarks no route can be described: skip the navmesh build.
    if (routeLandmarks(objects).length < 2) return [];
    const mesh = (await scene.mesh()) as TriangleMesh & { file?: string };
    assertSameFrame(objects, mesh, mesh.file ?? scene.meta.scene_name);
    const nav = buildNavMesh(mesh);
    const candidates = routeCandidates(nav, objects, rng, { landmark: scene.landmark });
    return selectRouteQuestions(
      candidates,
      scene.caps[task.name] ?? task.defaultCap,
      rng.child("select"),
    )
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
