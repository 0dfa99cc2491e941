/**
 * Small pieces shared by the kernel sources: element types and workgroup grids.
 *
 * @module
 */

import type { DType, GpuTensor } from "./device.ts";
import { KernelError } from "./device.ts";

/** The WGSL `enable` line a shader needs for the given storage types. */
export function enables(...types: DType[]): string {
  return types.includes("f16") ? "enable f16;\n" : "";
}

/** Splits `n` workgroups over x and y (each dimension is capped at 65535). */
export function grid(n: number): [number, number] {
  const x = Math.min(n, 65535);
  return [x, Math.ceil(n / Math.max(x, 1))];
}

/** Throws a {@link KernelError} naming `kernel` unless `cond` holds. */
export function need(cond: boolean, kernel: string, what: string): asserts cond {
  if (!cond) throw new KernelError(kernel, what);
}

/** Checks a tensor's shape (and dtype when given) for `kernel`. */
export function checkTensor(
  kernel: string,
  name: string,
  t: GpuTensor,
  shape: readonly number[],
  dtype?: DType,
): void {
  need(
    t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]),
    kernel,
    `${name}: expected shape [${shape}], got [${t.shape}]`,
  );
  if (dtype) need(t.dtype === dtype, kernel, `${name}: expected ${dtype}, got ${t.dtype}`);
}

/** Packs u32 words for a uniform block. */
export function u32s(...words: number[]): ArrayBuffer {
  return new Uint32Array(words).buffer;
}
