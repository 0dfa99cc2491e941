/**
 * A scene's mesh read from its dataset's raw folder, in the same aligned z-up frame as the
 * scene metadata's boxes (DECISIONS 2): what `gen --scenes-root` hands to the families that
 * need meshes (route planning).
 *
 * - ScanNet (and `synth` output): `_vh_clean_2.ply` with the scan's `axisAlignment` applied;
 * - ScanNet++: `scans/mesh_aligned_0.05.ply` (already aligned);
 * - ARKitScenes: `<id>_3dod_mesh.ply` (the frame of its annotations).
 *
 * Scene folders are found under the root as `vlm3r meta` finds them (`scans/`, `data/`,
 * `Validation/` or `Training/` by split, else the root itself).
 *
 * @module
 */

import { basename, join } from "node:path";
import { readArkitMesh } from "./arkitscenes.ts";
import { listScenes } from "./meta_run.ts";
import type { DatasetName } from "./metadata.ts";
import { exists } from "./raw.ts";
import { readScannetMesh } from "./scannet_mesh.ts";
import { readScannetppMesh } from "./scannetpp.ts";
import { DataError } from "../io/errors.ts";

/** A triangle mesh in the aligned frame. */
export interface RawMesh {
  /** The mesh file, for messages. */
  file: string;
  /** xyz triples. */
  positions: Float64Array;
  triangles: Uint32Array;
}

/** Which scene to read: the fields of its scene metadata that locate it. */
export interface SceneRef {
  dataset: DatasetName;
  scene_name: string;
  /** ARKitScenes: `val` and `train` pick `Validation/` and `Training/` (else both are tried). */
  split: string;
}

/**
 * The folder of `scene` under the raw root `root`; a {@link DataError} when it is missing.
 *
 * @example
 * ```ts
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/Validation/41069025`, { recursive: true });
 * const dir = await sceneFolder(root, { dataset: "arkitscenes", scene_name: "41069025", split: "val" });
 * if (!dir.endsWith("Validation/41069025")) throw new Error(dir);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function sceneFolder(root: string, scene: SceneRef): Promise<string> {
  // VSI-Bench's meta info names no split: an ARKitScenes scan may be in either fold.
  const splits = scene.dataset === "arkitscenes" ? [scene.split, "val", "train"] : [scene.split];
  let first: string | undefined;
  for (const split of new Set(splits)) {
    const [entry] = await listScenes(scene.dataset, root, split, [scene.scene_name], "0");
    if (await exists(entry.dir)) return entry.dir;
    first ??= entry.dir;
  }
  throw new DataError(first!, "scene", `the ${scene.dataset} scene folder`, "none");
}

/**
 * Reads the aligned mesh of `scene` from the raw root `root`. Bad or missing files raise a
 * {@link DataError} naming the file.
 *
 * @example
 * ```ts
 * import { synthScene, writeSynthScene } from "./synth/mod.ts";
 * const root = await Deno.makeTempDir();
 * await writeSynthScene(synthScene(1, 0, { frames: 1, width: 16, height: 16 }), root, { workers: 1, video: "none" });
 * const mesh = await readSceneMesh(root, { dataset: "scannet", scene_name: "scene0000_00", split: "val" });
 * if (mesh.triangles.length === 0) throw new Error();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readSceneMesh(root: string, scene: SceneRef): Promise<RawMesh> {
  const dir = await sceneFolder(root, scene);
  if (scene.dataset === "scannet") {
    const { positions, triangles } = await readScannetMesh(dir);
    return { file: join(dir, `${basename(dir)}_vh_clean_2.ply`), positions, triangles };
  }
  return scene.dataset === "scannetpp" ? readScannetppMesh(dir) : readArkitMesh(dir);
}
