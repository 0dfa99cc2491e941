/**
 * `vlm3r route`: builds a scene's navmesh, finds routes, asks route-planning questions and
 * draws a top-down map.
 *
 * @module
 */

import { join } from "node:path";
import { buildNavMesh, type NavMesh, type NavPath } from "../geometry/navmesh/mod.ts";
import { Rng } from "../geometry/rng.ts";
import type { Vec3 } from "../geometry/vec.ts";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { DataError } from "../io/errors.ts";
import { type MapRoute, routeMapSvg } from "../qa/route_map.ts";
import {
  LetterBalancer,
  objectsFromLabelledMesh,
  objectsFromMetadata,
  routeCandidates,
  type RouteObject,
  type RouteQuestion,
  routeRecords,
} from "../qa/route_planning.ts";
import type { SceneMetaFile } from "../scene/metadata.ts";
import { plyToMesh, readPly } from "../scene/ply.ts";
import { readScannetMesh } from "../scene/scannet_mesh.ts";
import { type Command, type Context, UsageError } from "./_command.ts";

/** The `route` command. */
export const route: Command = {
  name: "route",
  summary: "navmesh routes and route-planning questions for a scene, with a top-down map",
  usage:
    "vlm3r route --mesh scene.ply|--scene DIR [--svg map.svg] [--from x,y --to x,y] [--questions N]",
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
      default: "5 with --scene, else 0",
    },
    attempts: {
      type: "string",
      value: "N",
      description: "start/goal pairs to try for questions",
      default: "200",
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
  if (source.meta) objects = await objectsFromMetaFile(source.meta, name);
  const nav = buildNavMesh(mesh);
  return { name, mesh, nav, objects };
}

async function objectsFromMetaFile(file: string, scene: string): Promise<RouteObject[]> {
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
  return objectsFromMetadata(entry.object_bboxes);
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
    ? `path ${path.length.toFixed(2)} m, ${path.points.length - 2} corner(s)`
    : "no path (the points are on different islands or off the navmesh)";
}

/** Route questions for a loaded scene, lettered for one run. */
export function sceneQuestions(
  scene: RouteScene,
  seed: string,
  count: number,
  attempts = 200,
): RouteQuestion[] {
  const rng = new Rng(`vlm3r-route/${seed}`).child(scene.name);
  return routeCandidates(scene.nav, scene.objects, rng, { attempts }).slice(0, count);
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
  const count = ctx.int("questions", sceneDir ? 5 : 0, { min: 0, max: 100000 });
  const attempts = ctx.int("attempts", 200, { min: 1, max: 1000000 });
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
    ? sceneQuestions(scene, seed, count, attempts)
    : [];
  const records = routeRecords(
    questions,
    { dataset: "scannet", scene_name: scene.name, video_path: `${scene.name}.mp4` },
    new LetterBalancer(),
    new Rng(`vlm3r-route-letters/${seed}`).child(scene.name),
  );
  records.forEach((r, i) => {
    ctx.out(`\nQ${i + 1}. ${r.question}`);
    ctx.out(`    ${r.options.join("   ")}   answer: ${r.mc_answer}`);
  });
  if (count > 0 && questions.length < count && scene.objects.length > 0) {
    ctx.err(`asked ${questions.length} of ${count} questions (the other pairs were rejected)`);
  }
  questions.slice(0, 3).forEach((q, i) =>
    routes.push({ ...q, points: q.path, label: `Q${i + 1}: ${q.answer}` })
  );
  const svg = ctx.string("svg");
  if (svg) {
    await writeFileAtomic(
      svg,
      routeMapSvg({ mesh: scene.mesh, nav, objects: scene.objects, routes, title: scene.name }),
    );
    ctx.out(`map: ${svg}`);
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

/**
 * The demo's route step for a written scene folder: builds the navmesh, asks a few questions,
 * writes `route_map.svg` and `route_questions.jsonl` into `outDir`, and returns the lines to
 * print. For `vlm3r demo` to call after synth.
 */
export async function routeDemo(sceneDir: string, outDir: string, seed = "0"): Promise<string[]> {
  const scene = await loadRouteScene({ scene: sceneDir });
  const questions = sceneQuestions(scene, seed, 3);
  const records = routeRecords(
    questions,
    { dataset: "scannet", scene_name: scene.name, video_path: `${scene.name}.mp4` },
    new LetterBalancer(),
    new Rng(`vlm3r-route-letters/${seed}`),
  );
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
      `   ${r.question.replace(/ \(Note: [^)]*\)/, "")}  [${r.options.join(" | ")}] ${r.mc_answer}`
    ),
  ];
}
