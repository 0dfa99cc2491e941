/**
 * Helpers shared by tests: captured CLI output, SVG rendering in headless Chromium, and the
 * checks that skip a test, with the reason printed once, where a system tool, a fit WebGPU
 * adapter or a golden fixture is missing (a fresh machine has only Node.js and npm; CI installs
 * everything and runs every test).
 *
 * @module
 */

import type { Io } from "../cli/_command.ts";
import { acquireGpu, type Gpu } from "../kernels/device.ts";

/** An `Io` that records what a command writes; `tty` says whether stderr is a terminal. */
export function capture(tty = false): Io & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout(s: string) {
      io.out += s;
    },
    stderr(s: string) {
      io.err += s;
    },
    stderrIsTerminal: tty,
  };
  return io;
}

/**
 * Renders an SVG file to a PNG screenshot with headless Chromium (installed by .ci/run), at the
 * given size or the SVG's own `width`/`height`.
 */
export async function renderSvg(
  svgPath: string,
  pngPath: string,
  size?: { width: number; height: number },
): Promise<void> {
  const own = (await Deno.readTextFile(svgPath)).match(/width="([\d.]+)" height="([\d.]+)"/);
  const width = size?.width ?? Math.ceil(Number(own?.[1] ?? 800)),
    height = size?.height ?? Math.ceil(Number(own?.[2] ?? 600));
  const profile = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command("chromium", {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        `--window-size=${width},${height}`,
        `--screenshot=${pngPath}`,
        `file://${svgPath}`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`chromium failed: ${new TextDecoder().decode(out.stderr)}`);
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}

/**
 * The golden fixtures made by the reference code live outside the repository, in
 * `../shared/fixtures/` beside the checkout (or where `VLM3R_FIXTURES` points): they are too
 * large to commit. Returns the folder of fixture `name`, or `undefined` (after printing why
 * once) when it is not there, so that tests can be skipped with a reason.
 */
export function sharedFixture(name: string): string | undefined {
  const root = Deno.env.get("VLM3R_FIXTURES") ??
    new URL("../../shared/fixtures/", import.meta.url).pathname;
  const dir = `${root.replace(/\/$/, "")}/${name}`;
  try {
    if (Deno.statSync(dir).isDirectory) return dir;
  } catch {
    // reported below
  }
  reportOnce(`tests needing the ${name} fixture skipped: ${dir} not found (set VLM3R_FIXTURES)`);
  return undefined;
}

const reported = new Set<string>();
function reportOnce(line: string): void {
  if (reported.has(line)) return;
  reported.add(line);
  console.log(line);
}

/** Debian packages that provide the system tools tests use. */
const PACKAGE: Record<string, string> = {
  ffmpeg: "ffmpeg",
  ffprobe: "ffmpeg",
  chromium: "chromium",
};

/** Whether an executable `name` is on the PATH. */
export function onPath(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111)) return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/**
 * Test options that skip a test (printing why, once per tool) unless every tool in `tools` is
 * on the PATH: `Deno.test("...", { ...needs("ffmpeg"), ...opts }, fn)`.
 */
export function needs(...tools: string[]): { ignore: boolean } {
  const missing = tools.filter((t) => !onPath(t));
  for (const t of missing) {
    reportOnce(
      `tests needing ${t} skipped: not on the PATH (apt-get install ${PACKAGE[t] ?? t})`,
    );
  }
  return { ignore: missing.length > 0 };
}

let testGpuPromise: Promise<Gpu | undefined> | undefined;

/**
 * The WebGPU device kernel and model tests run on, or `undefined` (the reason printed once)
 * when there is none fit for them: no adapter at all, or Mesa's GL llvmpipe, the fallback when
 * Vulkan lavapipe (Debian's mesa-vulkan-drivers) is missing, which takes minutes to compile
 * each shader (`Gpu.slowCompiles`). `VLM3R_TEST_GL=1` runs them on GL anyway.
 */
export function testGpu(): Promise<Gpu | undefined> {
  testGpuPromise ??= (async () => {
    let gpu: Gpu;
    try {
      gpu = await acquireGpu();
    } catch (e) {
      reportOnce(`GPU tests skipped: ${(e as Error).message}`);
      return undefined;
    }
    if (gpu.slowCompiles && !Deno.env.get("VLM3R_TEST_GL")) {
      reportOnce(
        `GPU tests skipped: ${gpu.adapter} is Mesa's GL fallback (no shader-f16, very slow ` +
          `shader compiles); apt-get install mesa-vulkan-drivers for Vulkan lavapipe`,
      );
      gpu.destroy();
      return undefined;
    }
    return gpu;
  })();
  return testGpuPromise;
}
