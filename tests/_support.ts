/**
 * Helpers shared by tests: captured CLI output and SVG rendering in headless Chromium.
 *
 * @module
 */

import type { Io } from "../cli/_command.ts";

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
  const own = (await Deno.readTextFile(svgPath)).match(/width="(\d+)" height="(\d+)"/);
  const width = size?.width ?? Number(own?.[1] ?? 800),
    height = size?.height ?? Number(own?.[2] ?? 600);
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
  if (!missingReported.has(name)) {
    missingReported.add(name);
    console.log(`tests needing the ${name} fixture skipped: ${dir} not found (set VLM3R_FIXTURES)`);
  }
  return undefined;
}
const missingReported = new Set<string>();
