/**
 * Compiles the AssemblyScript navmesh (`assembly/`) into `navmesh.wasm` and the TypeScript
 * module that embeds it (`navmesh_wasm.ts`, so `deno compile` carries it). With `--check` it
 * builds into a temporary folder and fails when the committed files differ (CI's staleness test).
 *
 * Run as `deno task build:wasm [--check]`.
 *
 * @module
 */

import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { buildWasm } from "../../io/wasm_build.ts";

/** Compiler flags: optimised, stub runtime (each build is a fresh instance), no host imports. */
const FLAGS = ["-O3", "--runtime", "stub", "--use", "abort=", "--enable", "simd"];

if (import.meta.main) {
  await buildWasm(
    {
      dir: dirname(fileURLToPath(import.meta.url)),
      name: "navmesh",
      constant: "NAVMESH_WASM_BASE64",
      description: "The navmesh WebAssembly module",
      task: "deno task build:wasm",
      flags: FLAGS,
    },
    "geometry/navmesh/assembly/",
    Deno.args.includes("--check"),
  );
}
