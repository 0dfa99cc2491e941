/**
 * ffmpeg compiled to WebAssembly (`npm:@ffmpeg/core`, single-threaded): the fallback of video
 * encoding (io/video.ts) and decoding (model/preprocess.ts) where no system ffmpeg exists. Each
 * call makes a fresh instance with its own in-memory file system.
 *
 * @module
 */

/** The part of the Emscripten module of `@ffmpeg/core` vlm3r uses. */
export interface FfmpegCore {
  FS: {
    mkdir(path: string): void;
    writeFile(path: string, data: Uint8Array): void;
    readFile(path: string, opts?: { encoding: string }): Uint8Array;
    unlink(path: string): void;
  };
  /** Runs one ffmpeg command line; 0 on success. */
  exec(...args: string[]): number;
  /** Clears the state `exec` leaves, before the next command. */
  reset(): void;
  setLogger(logger: (m: { type: string; message: string }) => void): void;
}

/**
 * A new ffmpeg instance, its wasm binary read from the npm package (fetched on first use).
 *
 * @example
 * ```ts ignore
 * const core = await loadFfmpegCore();
 * core.FS.writeFile("/in.mp4", await Deno.readFile("room.mp4"));
 * ```
 */
export async function loadFfmpegCore(): Promise<FfmpegCore> {
  // The Emscripten glue reads `self.location.href` as its script directory; Deno has no
  // location unless run with --location, and the wasm binary is passed in directly anyway.
  try {
    void globalThis.location.href;
  } catch {
    Object.defineProperty(globalThis, "location", {
      value: new URL("http://localhost/"),
      configurable: true,
    });
  }
  const { default: create } = await import("@ffmpeg/core");
  const wasmBinary = await Deno.readFile(new URL(import.meta.resolve("@ffmpeg/core/wasm")));
  return await (create as (o: unknown) => Promise<FfmpegCore>)({ wasmBinary });
}
