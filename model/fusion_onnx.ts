/**
 * The fusion block, projector, pooling and newlines as an ONNX graph, for onnxruntime-web: the
 * CPU baseline of the kernel benchmark and an independent check of the WGSL path. Pooling and
 * newline insertion are constant matrices (MatMul) plus a constant newline mask (Add).
 *
 * @module
 */

import {
  foldLinear,
  type FusionProjectorWeights,
  HEAD_DIM,
  LAYER_NORM_EPS,
  type LinearWeights,
  type NormWeights,
} from "./fusion.ts";
import { OnnxGraph } from "./onnx.ts";

/** Options of {@link fusionProjectorOnnx}. */
export interface FusionOnnxOptions {
  /** SigLIP tokens per frame (a square grid; 729). */
  tokens: number;
  /** CUT3R tokens per frame (730). */
  spatialTokens: number;
  /** Attention heads (default width / 64). */
  heads?: number;
  /** Fold stacked linears, as {@link FusionOptions}. */
  fold?: boolean;
  /** Pool before the second projector layer. */
  poolFirst?: boolean;
}

/** `P x G*G` bilinear weights (align_corners false) of the `G -> P` grid resize. *
 * @example
 * ```ts
 * const m = poolMatrix(2, 1); // 2x2 -> 1x1: the mean
 * if (m.join() !== "0.25,0.25,0.25,0.25") throw new Error();
 * ```
 */
export function poolMatrix(g: number, p: number): Float32Array {
  const axis = (o: number): [number, number, number] => {
    const s = Math.max((o + 0.5) * (g / p) - 0.5, 0);
    const i0 = Math.min(Math.floor(s), g - 1);
    return [i0, Math.min(i0 + 1, g - 1), s - i0];
  };
  const m = new Float32Array(p * p * g * g);
  for (let r = 0; r < p; r++) {
    const [r0, r1, wr] = axis(r);
    for (let c = 0; c < p; c++) {
      const [c0, c1, wc] = axis(c);
      const row = (r * p + c) * g * g;
      m[row + r0 * g + c0] += (1 - wr) * (1 - wc);
      m[row + r0 * g + c1] += (1 - wr) * wc;
      m[row + r1 * g + c0] += wr * (1 - wc);
      m[row + r1 * g + c1] += wr * wc;
    }
  }
  return m;
}

/**
 * Serialises the block as an ONNX model with inputs `hv [frames, T, d]`, `z3d [frames, Tz, ds]`
 * and outputs `fused`, `pooled`, `sequence` (`[frames*P*(P+1), D]`), plus `projected` unless
 * pooling comes first.
 *
 * @example
 * ```ts
 * import { fusionProjectorWeights } from "./fusion.ts";
 * import { readSafetensors } from "./weights/safetensors.ts";
 * const file = "tests/fixtures/fusion-tiny/weights.safetensors";
 * const w = fusionProjectorWeights(await readSafetensors(file), file);
 * const bytes = fusionProjectorOnnx(w, { tokens: 49, spatialTokens: 50, heads: 6 });
 * if (bytes.length < 4 * 60000) throw new Error("the weights are in the model");
 * ```
 */
export function fusionProjectorOnnx(
  w: FusionProjectorWeights,
  options: FusionOnnxOptions,
): Uint8Array {
  const d = w.clipNorm.weight.length, ds = w.spatialNorm.weight.length, dl = w.proj1.out;
  const heads = options.heads ?? d / HEAD_DIM, hd = d / heads;
  const t = options.tokens, g = Math.round(Math.sqrt(t)), p = Math.ceil(g / 2);
  const o = new OnnxGraph("vlm3r_fusion_projector");
  let k = 0;
  const c = (dims: number[], data: Float32Array) => o.initializer(`c${k++}`, dims, data);
  const shape = (...dims: number[]) =>
    o.initializer(`s${k++}`, [dims.length], BigInt64Array.from(dims.map(BigInt)));
  const scalar = (v: number) => c([], new Float32Array([v]));
  const lin = (x: string, l: LinearWeights, out?: string) => {
    const wt = new Float32Array(l.in * l.out); // stored transposed: x [.., in] MatMul [in, out]
    for (let i = 0; i < l.out; i++) {
      for (let j = 0; j < l.in; j++) wt[j * l.out + i] = l.weight[i * l.in + j];
    }
    const y = o.node("MatMul", [x, c([l.in, l.out], wt)]);
    return o.node("Add", [y, c([l.out], l.bias)], out ? [out] : undefined);
  };
  const norm = (x: string, n: NormWeights, out?: string) =>
    o.node(
      "LayerNormalization",
      [x, c([n.weight.length], n.weight), c([n.bias.length], n.bias)],
      out ? [out] : undefined,
      {
        axis: -1,
        epsilon: { float: LAYER_NORM_EPS },
      },
    );
  const hv = o.input("hv", ["frames", t, d]);
  const z = o.input("z3d", ["frames", options.spatialTokens, ds]);
  const hn = norm(hv, w.clipNorm), zn = norm(z, w.spatialNorm);
  const [q, kk, v] = options.fold
    ? [
      lin(hn, foldLinear(w.inQ, w.clipQuery)),
      lin(zn, foldLinear(w.inK, w.spatialKey)),
      lin(zn, foldLinear(w.inV, w.spatialValue)),
    ]
    : [
      lin(lin(hn, w.clipQuery), w.inQ),
      lin(lin(zn, w.spatialKey), w.inK),
      lin(lin(zn, w.spatialValue), w.inV),
    ];
  const split = shape(0, 0, heads, hd);
  const qh = o.node("Transpose", [o.node("Reshape", [q, split])], undefined, {
    perm: [0, 2, 1, 3],
  });
  const kt = o.node("Transpose", [o.node("Reshape", [kk, split])], undefined, {
    perm: [0, 2, 3, 1],
  });
  const vh = o.node("Transpose", [o.node("Reshape", [v, split])], undefined, {
    perm: [0, 2, 1, 3],
  });
  const scores = o.node("Mul", [o.node("MatMul", [qh, kt]), scalar(1 / Math.sqrt(hd))]);
  const att = o.node("MatMul", [o.node("Softmax", [scores], undefined, { axis: -1 }), vh]);
  const merged = o.node("Reshape", [
    o.node("Transpose", [att], undefined, { perm: [0, 2, 1, 3] }),
    shape(0, 0, d),
  ]);
  const o2 = options.fold
    ? lin(merged, foldLinear(w.outProj, w.attnOut))
    : lin(lin(merged, w.attnOut), w.outProj);
  const fused = o.node("Add", [hv, norm(o2, w.outNorm)], ["fused"]);
  // Exact GELU: x * (1 + erf(x / sqrt 2)) / 2.
  const h1 = lin(fused, w.proj1);
  const erf = o.node("Erf", [o.node("Mul", [h1, scalar(Math.SQRT1_2)])]);
  const hidden = o.node("Mul", [o.node("Mul", [h1, o.node("Add", [erf, scalar(1)])]), scalar(0.5)]);
  const pool = c([p * p, t], poolMatrix(g, p));
  let pooled: string;
  if (options.poolFirst) {
    pooled = lin(o.node("MatMul", [pool, hidden]), w.proj2, "pooled");
  } else {
    const projected = lin(hidden, w.proj2, "projected");
    pooled = o.node("MatMul", [pool, projected], ["pooled"]);
    o.output("projected", ["frames", t, dl]);
  }
  // Newlines: a 0/1 row selection that leaves a zero row after each pooled row, plus the
  // newline vector in exactly those rows.
  const rows = p * (p + 1);
  const select = new Float32Array(rows * p * p), mask = new Float32Array(rows * dl);
  for (let r = 0; r < p; r++) {
    for (let col = 0; col < p; col++) select[(r * (p + 1) + col) * p * p + r * p + col] = 1;
    mask.set(w.newline, (r * (p + 1) + p) * dl);
  }
  const seq = o.node("Add", [
    o.node("MatMul", [c([rows, p * p], select), pooled]),
    c([rows, dl], mask),
  ]);
  o.node("Reshape", [seq, shape(-1, dl)], ["sequence"]);
  o.output("fused", ["frames", t, d]);
  o.output("pooled", ["frames", p * p, dl]);
  o.output("sequence", ["rows", dl]);
  return o.model();
}
