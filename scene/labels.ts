/**
 * Label maps: a dataset's raw annotation labels to the categories metadata reports
 * (DECISIONS 6). One JSON data file per dataset in `scene/labels/`, replaceable with
 * `vlm3r meta --labels MAP.json`.
 *
 * A map file is `{"map": {"raw label": "category", ...}, "keep_unmapped": false}` (or just the
 * flat object of the map). Labels the map does not list are dropped, unless `keep_unmapped` is
 * true (ARKitScenes: the reference keeps every raw label).
 *
 * @module
 */

import arkitscenes from "./labels/arkitscenes.json" with { type: "json" };
import scannet from "./labels/scannet.json" with { type: "json" };
import scannetpp from "./labels/scannetpp.json" with { type: "json" };
import { DataError } from "../io/errors.ts";
import type { DatasetName } from "./metadata.ts";
import { describe } from "./raw.ts";

/** A label map. */
export interface LabelMap {
  map: Record<string, string>;
  keepUnmapped: boolean;
}

/**
 * Validates a parsed label-map file.
 *
 * @example
 * ```ts
 * const m = parseLabelMap({ couch: "sofa" }, "map.json");
 * if (categoryOf(m, "couch") !== "sofa" || categoryOf(m, "lamp") !== undefined) throw new Error();
 * ```
 */
export function parseLabelMap(json: unknown, file: string): LabelMap {
  const obj = json as { map?: unknown; keep_unmapped?: unknown };
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new DataError(file, "label map", 'an object {"raw label": "category"}', describe(json));
  }
  const map = (obj.map ?? obj) as Record<string, unknown>;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new DataError(file, "map", 'an object {"raw label": "category"}', describe(obj.map));
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    if (obj.map === undefined && k === "keep_unmapped") continue;
    if (typeof v !== "string" || v === "") {
      throw new DataError(file, `map["${k}"]`, "a category name", describe(v));
    }
    out[k] = v;
  }
  const keep = obj.keep_unmapped ?? false;
  if (typeof keep !== "boolean") {
    throw new DataError(file, "keep_unmapped", "true or false", describe(keep));
  }
  return { map: out, keepUnmapped: keep };
}

/** The built-in label map of each dataset. */
export const DEFAULT_LABELS: Readonly<Record<DatasetName, LabelMap>> = {
  scannet: parseLabelMap(scannet, "scene/labels/scannet.json"),
  scannetpp: parseLabelMap(scannetpp, "scene/labels/scannetpp.json"),
  arkitscenes: parseLabelMap(arkitscenes, "scene/labels/arkitscenes.json"),
};

/**
 * The category of a raw label, or undefined when the map drops it.
 *
 * @example
 * ```ts
 * if (categoryOf(DEFAULT_LABELS.scannet, "couch") !== "sofa") throw new Error();
 * if (categoryOf(DEFAULT_LABELS.arkitscenes, "tv_monitor") !== "tv") throw new Error();
 * if (categoryOf(DEFAULT_LABELS.arkitscenes, "plant") !== "plant") throw new Error("kept as is");
 * ```
 */
export function categoryOf(labels: LabelMap, raw: string): string | undefined {
  return Object.hasOwn(labels.map, raw) ? labels.map[raw] : labels.keepUnmapped ? raw : undefined;
}
