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
  type SynthDoorway,
  type SynthKind,
  type SynthLayout,
  type SynthObject,
  type SynthRoom,
  type SynthRoomPart,
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

// Navigation meshes (Recast-equivalent, WebAssembly) and route-planning questions.
export {
  buildNavMesh,
  HABITAT_NAVMESH_SETTINGS,
  NavMesh,
  NAVMESH_STAGES,
  NavMeshBuilder,
  NavMeshBuildError,
  type NavMeshJson,
  type NavMeshSettings,
  type NavMeshStage,
  type NavPath,
  type TriangleMesh as NavMeshInput,
} from "./geometry/navmesh/mod.ts";
export {
  LANDMARK_RULES,
  landmarkOf,
  type LandmarkRule,
  objectsFromLabelledMesh,
  objectsFromMetadata,
  pathQuestions,
  ROUTE_QUESTION_TYPE,
  ROUTE_TASK,
  routeCandidates,
  routeDraft,
  type RouteObject,
  type RouteOptions,
  routePlanning,
  type RouteQuestion,
  selectRouteQuestions,
} from "./qa/route_planning.ts";
export { type MapRoute, routeMapSvg } from "./qa/route_map.ts";

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

// Scene and frame metadata (vlm3r meta).
export {
  type DatasetName,
  DATASETS,
  type FrameBox,
  type FrameMetaFile,
  type FrameRecord,
  metadataPaths,
  type ObjectBox,
  type SceneFrameMeta,
  type SceneMeta,
  type SceneMetaFile,
} from "./scene/metadata.ts";
export { extractScene, sampleIndices, sceneMetadata, type SceneReport } from "./scene/meta.ts";
export {
  listScenes,
  mergeMetaShards,
  type MetaRunOptions,
  type MetaRunSummary,
  runMeta,
} from "./scene/meta_run.ts";
export { categoryOf, DEFAULT_LABELS, type LabelMap, parseLabelMap } from "./scene/labels.ts";
export type { RawFrame, RawScene } from "./scene/raw.ts";
export { readScannetScene } from "./scene/scannet.ts";
export { readScannetppMesh, readScannetppScene } from "./scene/scannetpp.ts";
export { readArkitMesh, readArkitScene } from "./scene/arkitscenes.ts";
export { type RawMesh, readSceneMesh, sceneFolder, type SceneRef } from "./scene/mesh_source.ts";
export { SensReader } from "./scene/sens.ts";
export { convexHull3 } from "./geometry/hull.ts";
export { minimalObb, type Obb, obbCorners } from "./geometry/obb.ts";
export { alphaShapeArea, delaunay } from "./geometry/delaunay.ts";
export { labelBoxes, scaleIntrinsics, worldToPixel } from "./geometry/projection.ts";
export { rasterizeLabels } from "./geometry/raster.ts";
export { ZipReader } from "./io/zip.ts";
export { videoInfo } from "./io/mp4.ts";

// Benchmark scoring (lmms-eval-exact), baselines, reports, and asking a chat-completions server.
export {
  type AnswerKind,
  answerKind,
  type Benchmark,
  BENCHMARKS,
  type BenchName,
  detectBenchmark,
  VSI_BENCH,
  VSTI_BENCH,
} from "./eval/benchmarks.ts";
export { exactMatch, fuzzyMatch, pythonFloat } from "./eval/parse.ts";
export { meanRelativeAccuracy, MRA_THRESHOLDS } from "./eval/metrics.ts";
export {
  type EvalQuestion,
  parsePredictions,
  parseQuestions,
  type Prediction,
  type PredictionSet,
  type QuestionSet,
  readPredictions,
  readQuestions,
  streamPredictions,
  streamQuestions,
} from "./eval/records.ts";
export { extractNumber, type ScoringRules } from "./eval/rules.ts";
export {
  aggregateScores,
  type BenchScores,
  type ExcludedQuestion,
  type MissingPolicy,
  type PreparedSet,
  prepareQuestion,
  prepareQuestions,
  type QuestionResult,
  ScoreAccumulator,
  scoreAnswer,
  scorePredictions,
  scoreQuestion,
  scoreQuestions,
  type TypeScore,
} from "./eval/score.ts";
export {
  chanceFrequency,
  chanceRandom,
  frequencyPredictions,
  oraclePredictions,
} from "./eval/baselines.ts";
export {
  debiasedSubset,
  evaluate,
  type EvaluateOptions,
  type ModelAnswers,
  type Subset,
} from "./eval/evaluate.ts";
export { evaluateFiles, IdSet, type ModelFile } from "./eval/stream.ts";
export { vsiBenchPrunedIds } from "./eval/vsibench_pruned.ts";
export {
  type EvalReport,
  type ModelRun,
  reportCsv,
  reportJson,
  reportMarkdown,
  reportPerQuestion,
  reportSvg,
  writeReport,
} from "./eval/report.ts";
export { type BarChart, barChartSvg, type BarSeries } from "./eval/chart.ts";
export {
  benchmarkPrompt,
  MCA_POST_PROMPT,
  NA_POST_PROMPT,
  PRE_PROMPT,
  type PromptOptions,
} from "./eval/prompt.ts";
export {
  collectAnswers,
  type CollectOptions,
  type CollectReport,
  findVideo,
  FrameCache,
  SkipQuestion,
} from "./eval/collect.ts";
export { chatComplete, type ChatRequest, type ChatRetry } from "./io/chat.ts";
export { extractFrames, uniformFrameIndices, videoFrameCount } from "./io/frames.ts";

// Question generation (vlm3r gen).
export {
  buildRecords,
  FAMILIES,
  type GenerateOptions,
  generateQuestions,
  type GenerateResult,
  generateSceneDrafts,
  generateSceneStream,
  meshLoader,
  RecordBuilder,
  type RunOptions,
  selectTasks,
  SkipTally,
  taskRng,
  TASKS,
} from "./qa/generate.ts";
export { type GenRunOptions, mergeGenShards, RecordWriter, runGenStream } from "./qa/gen_run.ts";
export { exportHf, type HfExportOptions, recordFromRow } from "./qa/hf_export.ts";
export { parseShard, type Shard, shardFromSlurm, shardPath } from "./io/shard.ts";
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
export {
  formatRouteMix,
  formatStats,
  questionStats,
  routeMix,
  skewWarnings,
  valueHistogram,
} from "./qa/stats.ts";
export { fma } from "./geometry/fma.ts";
export {
  obbDistance,
  type OrientedBox,
  pointObbDistance,
  pointSampleDistance,
  sampleDistance,
  vsibenchSample,
} from "./geometry/box_distance.ts";

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
export { erf, gelu, geluTanh, geluTanhRef } from "./kernels/gelu.ts";
export { nmse } from "./kernels/nmse.ts";
export { patchEmbed, patchEmbedRef } from "./kernels/patch_embed.ts";
export { addPositionEmbedding, addPositionEmbeddingRef } from "./kernels/pos_embed.ts";
export { rope2d, rope2dRef, rope2dTable } from "./kernels/rope2d.ts";
export { tokenMean, tokenMeanRef } from "./kernels/token_mean.ts";

// Model: safetensors weights, the fusion block and projector, their ONNX form.
export {
  type HostTensor,
  openSafetensors,
  parseSafetensors,
  readSafetensors,
} from "./model/weights/safetensors.ts";
export { type TensorSource } from "./model/weights/source.ts";
export { openTorch, readTorch, tensorsOf, torchSource } from "./model/weights/torch.ts";
export { type ModelConfig } from "./model/weights/config.ts";
export { openRelease, type Release, type ReleasePaths } from "./model/weights/release.ts";
export { convertRelease, type Manifest, openModel } from "./model/weights/convert.ts";
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

// Model: frames and the vision towers.
export {
  normalizePixels,
  preprocessFrames,
  readVideoFrames,
  type ReadVideoOptions,
  resizeBicubicPil,
  resizeBilinear,
  type RgbFrame,
  sampleFrameIndices,
  type ShortVideo,
  TOWER_SIZES,
  type TowerPixels,
  type VideoFrames,
} from "./model/preprocess.ts";
export {
  loadSiglipWeights,
  SIGLIP_PREFIX,
  SIGLIP_SO400M,
  type SiglipConfig,
  siglipConfig,
  type SiglipResult,
  SiglipTower,
  type SiglipWeights,
} from "./model/siglip.ts";
export {
  CUT3R_512_DPT_4_64,
  CUT3R_PREFIX,
  type Cut3rConfig,
  cut3rConfig,
  type Cut3rResult,
  Cut3rTower,
  type Cut3rWeights,
  loadCut3rWeights,
} from "./model/cut3r.ts";
export { cut3rArgs } from "./model/weights/config.ts";
export { EMBED_TOKENS, spliceVisualTokens } from "./model/splice.ts";
// The language model: Qwen2 on WebGPU, its CPU reference, tokenizer, prompt and generation.
export { rmsNorm, rmsNormRef } from "./kernels/rms_norm.ts";
export { rope, ropeInvFreq, ropeRef, storeRows } from "./kernels/rope.ts";
export { causalAttention, causalAttentionRef } from "./kernels/causal_attention.ts";
export { swiglu, swigluRef } from "./kernels/swiglu.ts";
export { embedding, embeddingRef } from "./kernels/embedding.ts";
export { matvec } from "./kernels/matvec.ts";
export { argmax, argmaxRef, penalizeRef } from "./kernels/argmax.ts";
export {
  dequantizeRef,
  type QuantWeight,
  uploadQuant,
  type Weight,
  type WeightFormat,
} from "./kernels/linear_q.ts";
export { type Qwen2Config, qwen2Config } from "./model/qwen2_config.ts";
export { KvCache, Qwen2, type Qwen2Options } from "./model/qwen2.ts";
export { Qwen2Ref } from "./model/qwen2_ref.ts";
export { Tokenizer } from "./model/tokenizer.ts";
export {
  chatPrompt,
  IMAGE_TOKEN_INDEX,
  promptIds,
  spliceEmbeddings,
  timeInstruction,
  userText,
} from "./model/prompt.ts";
export { decodeAnswer, generate, generationConfig } from "./model/generate.ts";
