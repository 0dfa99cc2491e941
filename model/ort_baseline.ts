/**
 * Runs the ONNX form of the fusion block on onnxruntime-web's wasm backend: the CPU baseline
 * of `bench/kernels.ts` and the independent cross-check in the tests. Not part of the CLI.
 *
 * @module
 */

import * as ort from "onnxruntime-web";

/** Threads of the wasm backend (the benchmark's two-thread CPU baseline). */
export const ORT_THREADS = 2;

/** An onnxruntime-web session over a serialised model. */
export class OrtModel {
  private constructor(readonly session: ort.InferenceSession) {}

  /**
   * Loads `model` (ONNX bytes) on the wasm backend.
   *
   * @example
   * ```ts
   * import { OnnxGraph } from "./onnx.ts";
   * const g = new OnnxGraph("double");
   * g.input("x", [1]);
   * g.node("Add", ["x", "x"], ["y"]);
   * g.output("y", [1]);
   * const m = await OrtModel.create(g.model(), 1);
   * const { y } = await m.run({ x: [new Float32Array([2]), [1]] });
   * if (y[0] !== 4) throw new Error();
   * await m.release();
   * ```
   */
  static async create(model: Uint8Array, threads = ORT_THREADS): Promise<OrtModel> {
    ort.env.wasm.numThreads = threads;
    ort.env.logLevel = "error";
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
    return new OrtModel(session);
  }

  /** Runs with float32 inputs `{name: [data, dims]}`; returns every output as float32. */
  async run(
    inputs: Record<string, [Float32Array, number[]]>,
  ): Promise<Record<string, Float32Array>> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [k, [data, dims]] of Object.entries(inputs)) {
      feeds[k] = new ort.Tensor("float32", data, dims);
    }
    const out = await this.session.run(feeds);
    return Object.fromEntries(
      Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]),
    );
  }

  /** Frees the session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
