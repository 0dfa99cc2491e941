/**
 * A ScanNet scan's labelled mesh in the aligned frame: `_vh_clean_2.ply` vertices moved by the
 * scan's `axisAlignment`, with each vertex's annotated instance from the over-segmentation
 * (`.segs.json`) and the annotation (`.aggregation.json`). Used by `meta` (object boxes, room
 * size) and `route` (navigation meshes); works on real ScanNet scans and `synth` output alike.
 *
 * @module
 */

import { basename, join } from "node:path";
import { DataError } from "../io/errors.ts";
import { isRigidTransform, type Mat4, mat4Identity, parseMat4 } from "../geometry/pose.ts";
import { plyToMesh, readPly } from "./ply.ts";

/** An annotated instance (`segGroups` entry). */
export interface MeshInstance {
  objectId: number;
  label: string;
}

/** A labelled mesh in the aligned frame. */
export interface LabelledMesh {
  scene: string;
  /** Aligned positions (axisAlignment applied), xyz triples. */
  positions: Float64Array;
  /** RGBA per vertex when the PLY has colours. */
  colors?: Uint8Array;
  triangles: Uint32Array;
  /** `objectId` of each vertex's instance, -1 for unannotated vertices. */
  vertexInstance: Int32Array;
  instances: MeshInstance[];
  /** The raw-to-aligned transform that was applied (identity when the scan has none). */
  axisAlignment: Mat4;
  /** All `key = value` lines of `<scene>.txt`. */
  info: Map<string, string>;
  /** One line per annotated object that names segments the mesh does not have. */
  warnings: string[];
}

/**
 * Parses a ScanNet `<scene>.txt` (`key = value` per line).
 *
 * @example
 * ```ts
 * const info = parseScannetInfo("fx_depth = 577.5\nsceneType = Office\n");
 * if (info.get("sceneType") !== "Office") throw new Error();
 * ```
 */
export function parseScannetInfo(text: string): Map<string, string> {
  const info = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf("=");
    if (i > 0) info.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return info;
}

/**
 * The `axisAlignment` of a parsed `<scene>.txt`: identity when absent (ScanNet's test scans
 * have none), a {@link DataError} when present but not a rigid transform.
 *
 * @example
 * ```ts
 * const a = axisAlignmentOf(parseScannetInfo("axisAlignment = 0 -1 0 1 1 0 0 2 0 0 1 0 0 0 0 1\n"), "s.txt");
 * if (a[3] !== 1 || a[1] !== -1) throw new Error();
 * ```
 */
export function axisAlignmentOf(info: Map<string, string>, file: string): Mat4 {
  const text = info.get("axisAlignment");
  if (text === undefined) return mat4Identity();
  const m = parseMat4(text);
  if (!m || !isRigidTransform(m, 1e-4)) {
    throw new DataError(
      file,
      "axisAlignment",
      "16 numbers forming a rigid transform",
      text.slice(0, 60),
    );
  }
  return m;
}

/**
 * Reads the labelled mesh of the scan in `scanDir` (named like its folder, `sceneXXXX_YY`).
 * Bad files raise a {@link DataError} naming the file and the field.
 *
 * @example
 * ```ts
 * import { synthScene, writeSynthScene } from "./synth/mod.ts";
 * const dir = await Deno.makeTempDir();
 * const { dir: scan } = await writeSynthScene(synthScene(1, 0, { frames: 1, width: 16, height: 16 }), dir, { workers: 1, video: "none" });
 * const mesh = await readScannetMesh(scan);
 * if (mesh.instances.length === 0 || mesh.vertexInstance.length !== mesh.positions.length / 3) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readScannetMesh(scanDir: string): Promise<LabelledMesh> {
  const scene = basename(scanDir.replace(/\/+$/, ""));
  const plyFile = join(scanDir, `${scene}_vh_clean_2.ply`);
  const segsFile = join(scanDir, `${scene}_vh_clean_2.0.010000.segs.json`);
  const aggFile = join(scanDir, `${scene}.aggregation.json`);
  const infoFile = join(scanDir, `${scene}.txt`);

  const mesh = plyToMesh(readPly(await readOrFail(plyFile), plyFile), plyFile);
  const info = parseScannetInfo(new TextDecoder().decode(await readOrFail(infoFile)));
  const axisAlignment = axisAlignmentOf(info, infoFile);

  const n = mesh.positions.length / 3;
  const segs = await readJson(segsFile);
  const segIndices = (segs as { segIndices?: unknown }).segIndices;
  if (!Array.isArray(segIndices) || segIndices.length !== n) {
    throw new DataError(
      segsFile,
      "segIndices",
      `an array of ${n} integers (one per vertex)`,
      describe(segIndices),
    );
  }
  const agg = await readJson(aggFile);
  const groups = (agg as { segGroups?: unknown }).segGroups;
  if (!Array.isArray(groups)) {
    throw new DataError(aggFile, "segGroups", "an array", describe(groups));
  }
  const segToInstance = new Map<number, number>();
  const instances: MeshInstance[] = [];
  const segments = new Set<unknown>(segIndices);
  const warnings: string[] = [];
  groups.forEach((g, k) => {
    const objectId = g?.objectId ?? g?.id;
    if (
      !Number.isInteger(objectId) || typeof g?.label !== "string" || !Array.isArray(g?.segments)
    ) {
      throw new DataError(
        aggFile,
        `segGroups[${k}]`,
        "objectId (integer), label (string), segments (array)",
        describe(g),
      );
    }
    instances.push({ objectId, label: g.label });
    for (const s of g.segments) segToInstance.set(s, objectId);
    const w = unknownSegments(g, {
      index: k,
      known: segments,
      annotation: aggFile,
      segments: segsFile,
    });
    if (w) {
      // ScanNet boxes are fitted to the instance's vertices.
      warnings.push(
        w.message +
          (w.all ? "; the object has no vertices and is left out" : "; its box omits them"),
      );
    }
  });
  const vertexInstance = new Int32Array(n);
  for (let i = 0; i < n; i++) vertexInstance[i] = segToInstance.get(segIndices[i]) ?? -1;

  const a = axisAlignment;
  const p = mesh.positions;
  const positions = new Float64Array(p.length);
  for (let i = 0; i < p.length; i += 3) {
    const x = p[i], y = p[i + 1], z = p[i + 2];
    positions[i] = a[0] * x + a[1] * y + a[2] * z + a[3];
    positions[i + 1] = a[4] * x + a[5] * y + a[6] * z + a[7];
    positions[i + 2] = a[8] * x + a[9] * y + a[10] * z + a[11];
  }
  return {
    scene,
    positions,
    colors: mesh.colors,
    triangles: mesh.triangles,
    vertexInstance,
    instances,
    axisAlignment,
    info,
    warnings,
  };
}

/**
 * The warning for an annotated object (`segGroups[k]`) whose segments are not all in the
 * over-segmentation (those parts of it have no vertices), and whether none of its segments
 * is there; undefined when all are. Callers add what that means for their dataset.
 *
 * @example
 * ```ts
 * const w = unknownSegments({ objectId: 3, label: "chair", segments: [1, 7] }, {
 *   index: 2, known: new Set([1, 2]), annotation: "a.json", segments: "s.json",
 * });
 * if (w?.message !== 'a.json: segGroups[2].segments (objectId 3 "chair"): expected segment ids in s.json, got 1 of 2 unknown: 7') throw new Error(w?.message);
 * ```
 */
export function unknownSegments(
  group: { objectId?: unknown; id?: unknown; label?: unknown; segments: unknown[] },
  where: { index: number; known: ReadonlySet<unknown>; annotation: string; segments: string },
): { message: string; all: boolean } | undefined {
  const { index: k, known, annotation: aggFile, segments: segsFile } = where;
  const missing = group.segments.filter((s) => !known.has(s));
  if (missing.length === 0) return undefined;
  const shown = missing.slice(0, 5).map((s) => JSON.stringify(s)).join(", ") +
    (missing.length > 5 ? ", ..." : "");
  const message = new DataError(
    aggFile,
    `segGroups[${k}].segments (objectId ${group.objectId ?? group.id} ${
      JSON.stringify(group.label)
    })`,
    `segment ids in ${basename(segsFile)}`,
    `${missing.length} of ${group.segments.length} unknown: ${shown}`,
  ).message;
  return { message, all: missing.length === group.segments.length };
}

async function readOrFail(file: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataError(file, "file", "an existing file", "none");
    }
    throw e;
  }
}

async function readJson(file: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readOrFail(file));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(file, "JSON", "valid JSON", (e as Error).message);
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
}
