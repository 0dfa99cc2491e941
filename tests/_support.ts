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
