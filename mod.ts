/**
 * vlm3r: the VLM-3R data pipeline and model toolkit, as a library.
 *
 * What a script importing vlm3r may use. The command-line tool (`cli/main.ts`) is built on the
 * same functions.
 *
 * @example
 * ```ts
 * import { synthScene } from "./mod.ts";
 * const scene = synthScene(7, 0, { frames: 4, width: 64, height: 48 });
 * if (scene.layout.objects.length === 0) throw new Error();
 * ```
 *
 * @module
 */

// Synthetic ScanNet-format scenes.
export {
  createFramePool,
  groundTruth,
  hasSystemFfmpeg,
  type SceneMesh,
  sceneName,
  type SegGroup,
  type SynthLayout,
  type SynthObject,
  type SynthRoom,
  type SynthScene,
  synthScene,
  type SynthSceneOptions,
  type WriteSynthOptions,
  type WriteSynthReport,
  writeSynthScene,
} from "./scene/synth/mod.ts";

// Mesh files.
export {
  type PlyData,
  type PlyElement,
  type PlyMesh,
  plyToMesh,
  readPly,
  writeMeshPly,
} from "./scene/ply.ts";

// Geometry.
export { Rng } from "./geometry/rng.ts";
export type { Vec3 } from "./geometry/vec.ts";
export {
  cameraCentre,
  type CameraPose,
  cameraPoseFromAngles,
  type Intrinsics,
  isRigidTransform,
  type Mat4,
  mat4InvertRigid,
  mat4Multiply,
  parseMat4,
  projectPoint,
  transformPoint,
  unprojectPixel,
} from "./geometry/pose.ts";
export { enclosingYawBox, type YawBox, yawBoxCorners, yawBoxesOverlap } from "./geometry/box.ts";
export { pointInPolygon, type Polygon, polygonArea, type Vec2 } from "./geometry/polygon.ts";
export { rasterize, type RasterResult, type TriangleMesh } from "./geometry/raster.ts";
export { closestPointOnTriangle, pointTriangleDistance } from "./geometry/distance.ts";

// Files: atomic output, errors, codecs, video.
export { writeFileAtomic, writeJsonAtomic } from "./io/atomic.ts";
export { DataError } from "./io/errors.ts";
export {
  decodeJpeg,
  decodePng,
  encodeJpeg,
  encodePng16,
  encodePng8,
  type Image,
} from "./io/image.ts";
export { encodeMp4, type VideoEncoder } from "./io/video.ts";

// Question generation (vlm3r gen).
export {
  buildRecords,
  FAMILIES,
  type GenerateOptions,
  generateQuestions,
  type GenerateResult,
  generateSceneDrafts,
  selectTasks,
  TASKS,
} from "./qa/generate.ts";
export {
  type LoadedMetadata,
  loadMetadata,
  parseFrameMetadata,
  parseSceneMetadata,
  type SceneInput,
} from "./qa/input.ts";
export type {
  DistanceMode,
  QaDraft,
  QaRecord,
  SceneContext,
  SceneDistances,
  TaskFamily,
  TaskSpec,
} from "./qa/types.ts";
export { fillTemplate, TEMPLATES } from "./qa/templates.ts";
export { formatStats, questionStats, skewWarnings } from "./qa/stats.ts";
export { fma } from "./geometry/fma.ts";
export {
  obbDistance,
  type OrientedBox,
  pointObbDistance,
  pointSampleDistance,
  sampleDistance,
  vsibenchSample,
} from "./geometry/box_distance.ts";
