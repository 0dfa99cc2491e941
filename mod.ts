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

// WebGPU kernels (one WGSL kernel per file, each with a float64 reference).
export {
  acquireGpu,
  Batch,
  type DType,
  Gpu,
  type GpuOptions,
  type GpuTensor,
  GpuUnavailableError,
  KernelError,
} from "./kernels/device.ts";
export { layerNorm, layerNormRef } from "./kernels/layer_norm.ts";
export { linear, type LinearOptions, linearRef } from "./kernels/linear.ts";
export { attention, attentionRef } from "./kernels/attention.ts";
export { residualAdd, residualAddRef } from "./kernels/residual.ts";
export { poolNewline, poolNewlineRef } from "./kernels/pool.ts";
export { erf, gelu } from "./kernels/gelu.ts";
export { nmse } from "./kernels/nmse.ts";

// Model: safetensors weights, the fusion block and projector, their ONNX form.
export { type HostTensor, parseSafetensors, readSafetensors } from "./model/safetensors.ts";
export {
  foldLinear,
  type FusionOptions,
  type FusionOutput,
  FusionProjector,
  fusionProjectorRef,
  type FusionProjectorWeights,
  fusionProjectorWeights,
  type FusionResults,
  type LinearWeights,
  type NormWeights,
} from "./model/fusion.ts";
export { OnnxGraph } from "./model/onnx.ts";
export { type FusionOnnxOptions, fusionProjectorOnnx } from "./model/fusion_onnx.ts";
