/**
 * Compiles the AssemblyScript kernels of `vlm3r convert` (`assembly/index.ts`) into
 * `weights.wasm` and the TypeScript module that embeds it (`weights_wasm.ts`, so `deno compile`
 * carries it). With `--check` it builds into a temporary folder and fails when the committed
 * files differ (CI's staleness test).
 *
 * Run as `deno task build:wasm:weights [--check]`.
 *
 * @module
 */

import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { buildWasm } from "../../../io/wasm_build.ts";

/**
 * Optimised, stub runtime (the kernels never allocate), SIMD, and a shared memory imported from
 * the host (one memory, several worker instances), at most 1 GiB.
 */
const FLAGS = [
  "-O3",
  "--runtime",
  "stub",
  "--use",
  "abort=",
  "--enable",
  "simd",
  "--enable",
  "threads",
  "--importMemory",
  "--sharedMemory",
  "--initialMemory",
  "1",
  "--maximumMemory",
  "16384",
];

if (import.meta.main) {
  await buildWasm(
    {
      dir: dirname(fileURLToPath(import.meta.url)),
      name: "weights",
      constant: "WEIGHTS_WASM_BASE64",
      description: "The conversion kernels' WebAssembly module",
      task: "deno task build:wasm:weights",
      flags: FLAGS,
    },
    "model/weights/wasm/assembly/",
    Deno.args.includes("--check"),
  );
}
