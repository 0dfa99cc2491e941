/**
 * `vlm3r route`: builds a scene's navmesh, finds routes, asks route-planning questions and
 * draws a top-down map. Questions are `gen`'s: the same stream, cap, letters, ids and record
 * layout, so with the same metadata (`--meta`) and seed they are the records
 * `gen --tasks route_planning` writes for the scene.
 *
 * @module
 */

import { join } from "node:path";
import { buildNavMesh, type NavMesh, type NavPath } from "../geometry/navmesh/mod.ts";
import type { Vec3 } from "../geometry/vec.ts";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { DataError } from "../io/errors.ts";
import { buildRecords, taskRng } from "../qa/generate.ts";
import { type MapRoute, routeMapSvg } from "../qa/route_map.ts";
import {
  LANDMARK_RULES,
  type LandmarkRule,
  objectsFromLabelledMesh,
  objectsFromMetadata,
  ROUTE_ATTEMPTS,
  ROUTE_TASK,
  routeCandidates,
  routeDraft,
  type RouteObject,
  type RouteQuestion,
  selectRouteQuestions,
} from "../qa/route_planning.ts";
import { sampleInOrder } from "../qa/sample.ts";
import { formatRouteMix, routeMix } from "../qa/stats.ts";
import type { QaRecord } from "../qa/types.ts";
import type { SceneMeta, SceneMetaFile } from "../scene/metadata.ts";
import { plyToMesh, readPly } from "../scene/ply.ts";
import { readScannetMesh } from "../scene/scannet_mesh.ts";
import { type Command, type Context, UsageError } from "./_command.ts";

/** The `route` command. */
export const route: Command = {
  name: "route",
  summary: "navmesh routes and route-planning questions for a scene, with a top-down map",
  usage:
    "vlm3r route --mesh scene.ply|--scene DIR [--svg map.svg] [--from x,y --to x,y] [--questions N] " +
    "[--landmark RULE] [--stats]",
  examples: [
    "vlm3r route --scene data/synth/scene0000_00 --svg map.svg --questions 5",
    "vlm3r route --mesh room.ply --svg map.svg --from 1,1 --to 4,3",
  ],
  options: {
    mesh: { type: "string", value: "FILE", description: "a z-up PLY mesh (no objects)" },
    scene: {
      type: "string",
      value: "DIR",
      description: "a ScanNet-format scan folder (aligned labelled mesh; objects from its labels)",
    },
    meta: {
      type: "string",
      value: "FILE",
      description: "scene metadata JSON whose object boxes anchor the questions (with --scene)",
    },
    svg: { type: "string", value: "FILE", description: "write a top-down map" },
    from: { type: "string", value: "X,Y", description: "route start (aligned metres)" },
    to: { type: "string", value: "X,Y", description: "route goal (aligned metres)" },
    questions: {
      type: "string",
      value: "N",
      description: "route-planning questions to ask (needs objects)",
      default: `${ROUTE_TASK.defaultCap} with --scene, else 0`,
    },
    attempts: {
      type: "string",
      value: "N",
      description: "random start/goal pairs tried to find the paths asked about (up to 29)",
      default: String(ROUTE_ATTEMPTS),
    },
    landmark: {
      type: "string",
      value: "RULE",
      description: "how a route pose finds the object naming it: the nearest box surface " +
        "within 2.5 m, or the authors' nearest axis-aligned footprint corner",
      choices: [...LANDMARK_RULES],
      default: LANDMARK_RULES[0],
    },
    stats: {
      type: "boolean",
      description: "print the answer mix: questions by blank count, the share of Turn Back",
    },
    seed: { type: "string", value: "S", description: "seed; same seed, same output", default: "0" },
    out: { type: "string", value: "FILE", description: "write the question records (JSON lines)" },
    navmesh: { type: "string", value: "FILE", description: "write the navmesh as JSON" },
  },
  run: runRoute,
};

/** A scene ready for routes: its mesh, navmesh and anchor objects. */
export interface RouteScene {
  name: string;
  /** Dataset and video of its records: from `--meta`, else `scannet` and `<name>.mp4`. */
  dataset: string;
  videoPath: string;
  mesh: { positions: ArrayLike<number>; triangles: ArrayLike<number> };
  nav: NavMesh;
  objects: RouteObject[];
}

/** Loads a scene from a PLY file or a scan folder and builds its navmesh. */
export async function loadRouteScene(
  source: { mesh?: string; scene?: string; meta?: string },
): Promise<RouteScene> {
  let name: string, mesh: RouteScene["mesh"], objects: RouteObject[] = [];
  if (source.mesh) {
    const ply = plyToMesh(readPly(await readFile(source.mesh), source.mesh), source.mesh);
    name = source.mesh;
    mesh = ply;
  } else {
    const scan = await readScannetMesh(source.scene!);
    name = scan.scene;
    mesh = scan;
    objects = objectsFromLabelledMesh(scan);
  }
  let dataset = "scannet", videoPath = `${name}.mp4`;
  if (source.meta) {
    const entry = await sceneEntry(source.meta, name);
    objects = objectsFromMetadata(entry.object_bboxes);
    dataset = typeof entry.dataset === "string" ? entry.dataset : dataset;
    videoPath = typeof entry.video_path === "string" ? entry.video_path : videoPath;
  }
  const nav = buildNavMesh(mesh);
  return { name, dataset, videoPath, mesh, nav, objects };
}

async function sceneEntry(file: string, scene: string): Promise<SceneMeta> {
  let json: SceneMetaFile;
  try {
    json = JSON.parse(new TextDecoder().decode(await readFile(file)));
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(file, "JSON", "valid JSON", (e as Error).message);
  }
  const entry = json?.[scene];
  if (!entry || typeof entry.object_bboxes !== "object") {
    throw new DataError(file, scene, "an entry with object_bboxes for this scene");
  }
  return entry;
}

async function readFile(file: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new DataError(file, "file", "an existing file");
    throw e;
  }
}

function parsePoint(ctx: Context, name: string): [number, number] | undefined {
  const v = ctx.string(name);
  if (v === undefined) return undefined;
  const parts = v.split(",").map(Number);
  if (parts.length !== 2 || !parts.every(Number.isFinite)) {
    throw new UsageError(`--${name} expects X,Y in metres, got '${v}'`);
  }
  return [parts[0], parts[1]];
}

/** A navigable 3D point over (x, y): the navmesh surface there (or nearest). */
function onNavMesh(nav: NavMesh, xy: [number, number]): Vec3 {
  // Search a tall box: the floor height is unknown to the caller.
  const hit = nav.nearestPoint([xy[0], xy[1], 0], [2, 2, 50]);
  return hit ? hit.point : [xy[0], xy[1], 0];
}

/** One line describing a path. */
export function describePath(path: NavPath): string {
  return path.found
    ? `path ${path.length.toFixed(2)} m, ${Math.max(0, path.points.length - 2)} corner(s)`
    : "no path (the points are on different islands or off the navmesh)";
}

/**
 * Route questions for a loaded scene, drawn and capped as `gen` draws and caps them for this
 * dataset, scene and seed.
 */
export function sceneQuestions(
  scene: RouteScene,
  seed: string,
  count: number,
  options: { attempts?: number; landmark?: LandmarkRule } = {},
): RouteQuestion[] {
  const rng = taskRng(seed, { dataset: scene.dataset, scene_name: scene.name }, ROUTE_TASK.name);
  const candidates = routeCandidates(scene.nav, scene.objects, rng, options);
  // As gen: the family's balanced pick, then the driver's cap (which then keeps them all).
  const picked = selectRouteQuestions(candidates, count, rng.child("select"));
  return sampleInOrder(rng.child("cap"), picked, count);
}

/** The records of a scene's questions, lettered and identified by `gen`'s driver. */
export function sceneRecords(
  scene: RouteScene,
  questions: readonly RouteQuestion[],
  seed: string,
): QaRecord[] {
  return buildRecords(
    [{
      dataset: scene.dataset,
      scene: scene.name,
      video_path: scene.videoPath,
      drafts: questions.map((q) => routeDraft(q)),
    }],
    { seed, distance: "exact", caps: {}, naOptions: false },
  );
}

async function runRoute(ctx: Context): Promise<number> {
  const meshFile = ctx.string("mesh"), sceneDir = ctx.string("scene");
  if (!meshFile === !sceneDir) {
    throw new UsageError("give exactly one of --mesh FILE or --scene DIR");
  }
  const meta = ctx.string("meta");
  if (meta && !sceneDir) throw new UsageError("--meta needs --scene (object boxes are per scene)");
  const from = parsePoint(ctx, "from"), to = parsePoint(ctx, "to");
  if (!from !== !to) throw new UsageError("give both --from and --to");
  const count = ctx.int("questions", sceneDir ? ROUTE_TASK.defaultCap : 0, {
    min: 0,
    max: 100000,
  });
  const attempts = ctx.int("attempts", ROUTE_ATTEMPTS, { min: 1, max: 1000000 });
  const landmark = (ctx.string("landmark") ?? LANDMARK_RULES[0]) as LandmarkRule;
  const seed = ctx.string("seed") ?? "0";

  const t0 = performance.now();
  const scene = await loadRouteScene({ mesh: meshFile, scene: sceneDir, meta });
  const { nav } = scene;
  ctx.out(
    `${scene.name}: navmesh of ${nav.polygonCount} polygons, ${nav.islandCount} island(s), ` +
      `${nav.area().toFixed(2)} m^2 navigable (built in ${(performance.now() - t0).toFixed(0)} ms)`,
  );
  const routes: MapRoute[] = [];
  if (from && to) {
    const path = nav.findPath(onNavMesh(nav, from), onNavMesh(nav, to));
    ctx.out(`route ${from.join(",")} -> ${to.join(",")}: ${describePath(path)}`);
    routes.push({ points: path.points, label: `route: ${describePath(path)}` });
  }
  if (count > 0 && scene.objects.length === 0) {
    ctx.err("no objects to anchor questions (use --scene, or --meta); asking none");
  }
  const questions = count > 0 && scene.objects.length > 0
    ? sceneQuestions(scene, seed, count, { attempts, landmark })
    : [];
  const records = sceneRecords(scene, questions, seed);
  records.forEach((r, i) => {
    ctx.out(`\nQ${i + 1}. ${r.question}`);
    ctx.out(`    ${(r.options as string[]).join("   ")}   answer: ${r.mc_answer}`);
  });
  if (count > 0 && questions.length < count && scene.objects.length > 0) {
    ctx.err(`asked ${questions.length} of ${count} questions (the other routes were rejected)`);
  }
  if (ctx.flag("stats")) { for (const line of formatRouteMix(routeMix(records))) ctx.out(line); }
  questions.forEach((q, i) =>
    routes.push({ ...q, points: q.path, label: `Q${i + 1}: ${q.answer}` })
  );
  const svg = ctx.string("svg");
  if (svg) {
    await writeFileAtomic(
      svg,
      routeMapSvg({ mesh: scene.mesh, nav, objects: scene.objects, routes, title: scene.name }),
    );
    ctx.out(`map: ${svg} (${routes.length} route(s) drawn)`);
  }
  const out = ctx.string("out");
  if (out) {
    await writeFileAtomic(out, records.map((r) => JSON.stringify(r) + "\n").join(""));
    ctx.out(`${records.length} question record(s): ${out}`);
  }
  const navFile = ctx.string("navmesh");
  if (navFile) await writeJsonAtomic(navFile, nav.toJSON(), 0);
  return 0;
}

/** Options of {@link routeDemo}. */
export interface RouteDemoOptions {
  seed?: string;
  /** Scene metadata whose boxes anchor the questions (default: the scan's labelled objects). */
  meta?: string;
  /** Questions to ask (default: `gen`'s per-scene cap). */
  questions?: number;
}

/**
 * The demo's route step for a written scene folder: builds the navmesh, asks a few questions,
 * writes `route_map.svg` and `route_questions.jsonl` into `outDir`, and returns the lines to
 * print. For `vlm3r demo` to call after synth; with the demo's metadata and seed its questions
 * are the route-planning questions of the demo's `gen` step.
 */
export async function routeDemo(
  sceneDir: string,
  outDir: string,
  options: RouteDemoOptions = {},
): Promise<string[]> {
  const seed = options.seed ?? "0";
  const scene = await loadRouteScene({ scene: sceneDir, meta: options.meta });
  const questions = sceneQuestions(scene, seed, options.questions ?? ROUTE_TASK.defaultCap);
  const records = sceneRecords(scene, questions, seed);
  const svg = join(outDir, "route_map.svg"), jsonl = join(outDir, "route_questions.jsonl");
  await writeFileAtomic(
    svg,
    routeMapSvg({
      mesh: scene.mesh,
      nav: scene.nav,
      objects: scene.objects,
      routes: questions.map((q, i) => ({ ...q, points: q.path, label: `Q${i + 1}: ${q.answer}` })),
      title: scene.name,
    }),
  );
  await writeFileAtomic(jsonl, records.map((r) => JSON.stringify(r) + "\n").join(""));
  return [
    `route: navmesh ${scene.nav.polygonCount} polygons, ${scene.nav.area().toFixed(1)} m^2; ` +
    `${records.length} route-planning question(s) -> ${jsonl}; map -> ${svg}`,
    ...records.map((r) =>
      `   ${r.question.replace(/ \(Note: [^)]*\)/, " (Note: ...)")}  [${
        (r.options as string[]).join(" | ")
      }] ${r.mc_answer}`
    ),
  ];
}
