/**
 * Qwen2 decoder layers (prefill at positions 0..T-1, causal, fp32) as an ONNX graph, written with
 * our own protobuf writer: onnxruntime-web runs it as the benchmark's CPU baseline of the same
 * layer, and the tests as an independent check of the decoder's arithmetic.
 *
 * RMSNorm is `x / sqrt(mean(x^2) + eps) * g`; RoPE takes cos/sin tables of the f32 angles as
 * constants and builds rotate-half from two slices; the KV heads are expanded to the query heads;
 * the causal mask is an additive constant.
 *
 * @module
 */

import { OnnxGraph } from "./onnx.ts";
import { GLOBAL_NAMES, layerNames, type Qwen2Config } from "./qwen2_config.ts";
import type { TensorSource } from "./weights/source.ts";
import { ropeInvFreq } from "../kernels/rope.ts";

/** Options of {@link qwen2Onnx}. */
export interface Qwen2OnnxOptions {
  /** Prompt tokens (fixed in the graph). */
  tokens: number;
  /** Decoder layers to include, from layer 0 (default all of the config). */
  layers?: number;
  /** Apply `model.norm` at the end (default true). */
  finalNorm?: boolean;
}

const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));

/**
 * The ONNX model: input `x` `[T, hidden]` (embeddings), output `y` `[T, hidden]`.
 *
 * @example
 * ```ts ignore
 * const bytes = await qwen2Onnx(source, config, { tokens: 37, layers: 1 });
 * const ort = await OrtModel.create(bytes);
 * const { y } = await ort.run({ x: [embeds, [37, config.hidden]] });
 * ```
 */
export async function qwen2Onnx(
  source: TensorSource,
  config: Qwen2Config,
  options: Qwen2OnnxOptions,
): Promise<Uint8Array> {
  const c = config, t = options.tokens, hd = c.headDim, group = c.heads / c.kvHeads;
  const g = new OnnxGraph("qwen2");
  const c1 = (name: string, v: number) => g.initializer(name, [], new Float32Array([v]));
  const eps = c1("eps", c.rmsEps), scale = c1("scale", 1 / Math.sqrt(hd));
  const invFreq = ropeInvFreq(hd, c.ropeTheta);
  const cos = new Float32Array(t * hd), sin = new Float32Array(t * hd);
  for (let p = 0; p < t; p++) {
    for (let j = 0; j < hd; j++) {
      const a = Math.fround(Math.fround(p) * invFreq[j % (hd / 2)]);
      cos[p * hd + j] = Math.cos(a);
      sin[p * hd + j] = Math.sin(a);
    }
  }
  g.initializer("cos", [t, hd], cos);
  g.initializer("sin", [t, hd], sin);
  const mask = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) mask[i * t + j] = -1e9;
  g.initializer("mask", [t, t], mask);
  g.initializer("half_a", [1], i64(0));
  g.initializer("half_b", [1], i64(hd / 2));
  g.initializer("half_c", [1], i64(hd));
  g.initializer("axis2", [1], i64(2));
  g.initializer("merge", [2], i64(t, c.heads * hd));
  g.initializer("kv_expand", [4], i64(c.kvHeads, group, t, hd));
  g.initializer("kv_split", [4], i64(c.kvHeads, 1, t, hd));
  g.initializer("kv_merge", [3], i64(c.heads, t, hd));

  const vec = async (name: string) => {
    const v = await source.read(name);
    return g.initializer(name, [v.data.length], v.data);
  };
  // MatMul takes [in, out]: the transpose of the stored [out, in].
  const lin = async (x: string, prefix: string) => {
    const w = await source.read(`${prefix}.weight`);
    const [n, k] = w.shape;
    const wt = new Float32Array(n * k);
    for (let o = 0; o < n; o++) for (let i = 0; i < k; i++) wt[i * n + o] = w.data[o * k + i];
    const y = g.node("MatMul", [x, g.initializer(`${prefix}.wt`, [k, n], wt)]);
    return source.info(`${prefix}.bias`) ? g.node("Add", [y, await vec(`${prefix}.bias`)]) : y;
  };
  const rms = async (x: string, weight: string) => {
    const ms = g.node("ReduceMean", [g.node("Mul", [x, x])], undefined, {
      axes: [-1],
      keepdims: 1,
    });
    const n = g.node("Div", [x, g.node("Sqrt", [g.node("Add", [ms, eps])])]);
    return g.node("Mul", [n, await vec(weight)]);
  };
  const heads = (x: string, n: number) => {
    const shape = g.initializer(`${x}_heads`, [3], i64(t, n, hd));
    return g.node("Transpose", [g.node("Reshape", [x, shape])], undefined, { perm: [1, 0, 2] });
  };
  const rope = (x: string) => {
    const x1 = g.node("Slice", [x, "half_a", "half_b", "axis2"]);
    const x2 = g.node("Slice", [x, "half_b", "half_c", "axis2"]);
    const rot = g.node("Concat", [g.node("Neg", [x2]), x1], undefined, { axis: 2 });
    return g.node("Add", [g.node("Mul", [x, "cos"]), g.node("Mul", [rot, "sin"])]);
  };

  let h = g.input("x", [t, c.hidden]);
  const layers = options.layers ?? c.layers;
  for (let i = 0; i < layers; i++) {
    const n = layerNames(i);
    const a = await rms(h, n.inNorm);
    const q = rope(heads(await lin(a, n.q), c.heads));
    const expand = (x: string) =>
      g.node("Reshape", [
        g.node("Expand", [g.node("Reshape", [x, "kv_split"]), "kv_expand"]),
        "kv_merge",
      ]);
    const k = expand(rope(heads(await lin(a, n.k), c.kvHeads)));
    const v = expand(heads(await lin(a, n.v), c.kvHeads));
    const kt = g.node("Transpose", [k], undefined, { perm: [0, 2, 1] });
    const s = g.node("Add", [g.node("Mul", [g.node("MatMul", [q, kt]), scale]), "mask"]);
    const p = g.node("Softmax", [s], undefined, { axis: -1 });
    const o = g.node("Reshape", [
      g.node("Transpose", [g.node("MatMul", [p, v])], undefined, { perm: [1, 0, 2] }),
      "merge",
    ]);
    h = g.node("Add", [h, await lin(o, n.o)]);
    const a2 = await rms(h, n.postNorm);
    const gate = await lin(a2, n.gate);
    const act = g.node("Mul", [
      g.node("Mul", [gate, g.node("Sigmoid", [gate])]),
      await lin(a2, n.up),
    ]);
    h = g.node("Add", [h, await lin(act, n.down)]);
  }
  const y = options.finalNorm === false ? h : await rms(h, GLOBAL_NAMES.norm);
  g.node("Identity", [y], ["y"]);
  g.output("y", [t, c.hidden]);
  return g.model();
}
