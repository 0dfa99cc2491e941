/**
 * `vlm3r <command> [options]`: the command-line entry point.
 *
 * Exit status: 0 success, 1 failure (one line `vlm3r <command>: <what went wrong>`, a stack
 * trace only with `--debug`), 2 usage error.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import {
  closest,
  type Command,
  commandHelp,
  type Io,
  parseCommand,
  UsageError,
} from "./_command.ts";
import { askCommand } from "./ask.ts";
import { benchCommand } from "./bench.ts";
import { convert } from "./convert.ts";
import { demo } from "./demo.ts";
import { evalCommand } from "./eval.ts";
import { exportCommand } from "./export.ts";
import { route } from "./route.ts";
import { serveCommand } from "./serve.ts";
import { meta } from "./meta.ts";
import { merge } from "./merge.ts";
import { gen } from "./gen.ts";
import { inspect } from "./inspect.ts";
import { model } from "./model.ts";
import { synth } from "./synth.ts";

/** The tool's version (from deno.json). */
export const VERSION: string = denoJson.version;

/** Every command, in the order help lists them. */
export const COMMANDS: readonly Command[] = [
  synth,
  meta,
  gen,
  merge,
  route,
  evalCommand,
  exportCommand,
  benchCommand,
  askCommand,
  serveCommand,
  demo,
  model,
  convert,
  inspect,
];

const GLOBAL_FLAGS = ["--help", "-h", "--version", "-V", "--debug", "--quiet", "-q"];

function toolHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `vlm3r ${VERSION}: the VLM-3R data pipeline and model toolkit`,
    "",
    "Usage: vlm3r <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Options:",
    "  -h, --help     show help (also after a command: vlm3r synth --help)",
    "  -V, --version  print the version",
    "  -q, --quiet    no progress bars",
    "      --debug    print stack traces of failures",
    "",
    "Example:",
    "  vlm3r synth --out data/synth --scenes 2 --seed 7",
    "",
  ].join("\n");
}

/**
 * Writes all of `text` (a pipe may take it in parts). A reader that has gone away (`vlm3r route
 * ... | head`) ends the process quietly with status 0, as Unix tools end on SIGPIPE.
 */
function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  try {
    for (let at = 0; at < bytes.length;) at += stream.writeSync(bytes.subarray(at));
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) Deno.exit(0);
    throw e;
  }
}

/** The standard streams. */
export const STD_IO: Io = {
  stdout: (text) => writeAll(Deno.stdout, text),
  stderr: (text) => writeAll(Deno.stderr, text),
  get stderrIsTerminal() {
    return Deno.stderr.isTerminal();
  },
};

/**
 * Runs the CLI on `args` and returns the exit status.
 *
 * @example
 * ```ts
 * let out = "";
 * const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (out += s), stderrIsTerminal: false };
 * if ((await main(["--version"], io)) !== 0 || !out.startsWith("vlm3r ")) throw new Error(out);
 * if ((await main(["nope"], io)) !== 2) throw new Error("unknown commands are usage errors");
 * ```
 */
export async function main(args: string[], io: Io = STD_IO): Promise<number> {
  const at = args.findIndex((a) => !a.startsWith("-"));
  const globals = at < 0 ? args : args.slice(0, at);
  const name = at < 0 ? undefined : args[at];
  const rest = at < 0 ? [] : args.slice(at + 1);
  const debug = args.includes("--debug");

  for (const g of globals) {
    if (!GLOBAL_FLAGS.includes(g)) {
      io.stderr(`vlm3r: unknown option ${g}; valid before a command: ${GLOBAL_FLAGS.join(", ")}\n`);
      return 2;
    }
  }
  if (name === undefined) {
    if (globals.includes("--version") || globals.includes("-V")) {
      io.stdout(`vlm3r ${VERSION}\n`);
      return 0;
    }
    if (globals.includes("--help") || globals.includes("-h")) {
      io.stdout(toolHelp());
      return 0;
    }
    io.stderr(toolHelp());
    return 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const hint = closest(name, COMMANDS.map((c) => c.name));
    io.stderr(
      `vlm3r: unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ""}; ` +
        `valid commands: ${COMMANDS.map((c) => c.name).join(", ")}\n`,
    );
    return 2;
  }
  if (
    rest.includes("--help") || rest.includes("-h") || globals.includes("--help") ||
    globals.includes("-h")
  ) {
    io.stdout(commandHelp(command));
    return 0;
  }
  if (
    rest.includes("--version") || rest.includes("-V") || globals.includes("--version") ||
    globals.includes("-V")
  ) {
    io.stdout(`vlm3r ${VERSION}\n`);
    return 0;
  }
  try {
    // Global flags given before the command (--quiet, --debug) are the command's own too.
    const ctx = parseCommand(command, [...globals, ...rest], io);
    return await command.run(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(
        `vlm3r ${command.name}: ${e.message}\nRun 'vlm3r ${command.name} --help' for usage.\n`,
      );
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    io.stderr(`vlm3r ${command.name}: ${message.split("\n")[0]}\n`);
    if (debug && e instanceof Error && e.stack) io.stderr(e.stack + "\n");
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
