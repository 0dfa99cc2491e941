/**
 * What every subcommand shares: its declaration (options, usage, example), argument parsing
 * into typed values with usage errors that name the valid choices, and the context a command
 * runs with (output streams, progress bars).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Progress } from "./progress.ts";

/** A mistake in how the command was called: reported with exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** One option of a command. */
export interface OptionSpec {
  type: "string" | "boolean";
  /** Placeholder shown in help (`DIR`, `N`). */
  value?: string;
  short?: string;
  description: string;
  /** Shown in help; the command applies it. */
  default?: string;
  /** Allowed values of a string option. */
  choices?: readonly string[];
  /** The option may be given several times (read with `Context.strings`). */
  multiple?: boolean;
}

/** A subcommand. `run` returns the exit status. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  examples: string[];
  options: Record<string, OptionSpec>;
  /** Name of positional arguments, when the command takes any (`ask room.mp4 "question"`). */
  positionals?: string;
  run(ctx: Context): Promise<number>;
}

/** Where a command writes; replaced by buffers in tests. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is an interactive terminal (progress bars are drawn only then). */
  stderrIsTerminal: boolean;
}

/** Options every command accepts. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", description: "show this help" },
  quiet: { type: "boolean", short: "q", description: "no progress bar" },
  debug: { type: "boolean", description: "print stack traces of failures" },
};

/** A running command: parsed arguments and output. */
export class Context {
  constructor(
    readonly command: Command,
    readonly values: Record<string, string | boolean | string[] | undefined>,
    readonly positionals: string[],
    readonly io: Io,
  ) {}

  /** Prints a line to stdout. */
  out(line: string): void {
    this.io.stdout(line + "\n");
  }

  /** Prints a line to stderr (diagnostics, warnings). */
  err(line: string): void {
    this.io.stderr(line + "\n");
  }

  /** A string option; `required` makes its absence a usage error. */
  string(name: string, required: true): string;
  string(name: string, required?: false): string | undefined;
  string(name: string, required = false): string | undefined {
    const v = this.values[name];
    if (v === undefined && required) throw new UsageError(`--${name} is required`);
    if (typeof v !== "string") return undefined;
    const choices = this.command.options[name]?.choices;
    if (choices && !choices.includes(v)) {
      throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got '${v}'`);
    }
    return v;
  }

  /** Every value of an option given several times (`multiple`), in order. */
  strings(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
  }

  /** A boolean flag. */
  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** An integer option within [min, max], or `fallback` when absent. */
  int(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const v = this.values[name];
    if (typeof v !== "string") return fallback;
    const n = Number(v);
    const min = range.min ?? -Infinity, max = range.max ?? Infinity;
    if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      const span = max === Infinity ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
      throw new UsageError(`--${name} expects ${span}, got '${v}'`);
    }
    return n;
  }

  /** A finite number option within [min, max], or `fallback` when absent. */
  float(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const v = this.values[name];
    if (typeof v !== "string") return fallback;
    const n = Number(v);
    const min = range.min ?? -Infinity, max = range.max ?? Infinity;
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      const span = max === Infinity
        ? (min === -Infinity ? "a number" : `a number >= ${min}`)
        : `a number in ${min}..${max}`;
      throw new UsageError(`--${name} expects ${span}, got '${v}'`);
    }
    return n;
  }

  /** A comma-separated list option (empty items dropped), or `fallback` when absent. */
  list(name: string, fallback: string[] = []): string[] {
    const v = this.values[name];
    if (typeof v !== "string") return fallback;
    return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  }

  /** A progress bar on stderr: drawn only on a terminal and without --quiet. */
  progress(label: string, total: number, unit = "items"): Progress {
    const enabled = this.io.stderrIsTerminal && !this.flag("quiet");
    return new Progress(label, total, { enabled, unit, write: (s) => this.io.stderr(s) });
  }
}

/** Parses a command's arguments; unknown options become usage errors that list the valid ones. */
export function parseCommand(command: Command, args: string[], io: Io): Context {
  const spec = { ...command.options, ...COMMON_OPTIONS };
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, o] of Object.entries(spec)) {
    options[name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  // `--scenes -1` would read "-1" as a flag and say --scenes needs a value: a value that looks
  // like a negative number is the option's value, so that the range check names it.
  args = args.flatMap((a, i) =>
    i > 0 && NEGATIVE.test(a) && isStringOption(spec, args[i - 1]) ? [] : [
      i + 1 < args.length && NEGATIVE.test(args[i + 1]) && isStringOption(spec, a)
        ? `${a}=${args[i + 1]}`
        : a,
    ]
  );
  try {
    const parsed = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: command.positionals !== undefined,
    });
    return new Context(
      command,
      parsed.values as Record<string, string | boolean | string[]>,
      parsed.positionals,
      io,
    );
  } catch (e) {
    throw new UsageError(describeParseError(e, spec, args, options));
  }
}

const NEGATIVE = /^-(\d|\.\d)/;

/** Whether `arg` is a long or short string option of `spec` written without `=value`. */
function isStringOption(spec: Record<string, OptionSpec>, arg: string): boolean {
  if (arg.startsWith("--")) return spec[arg.slice(2)]?.type === "string";
  if (/^-\w$/.test(arg)) {
    return Object.values(spec).some((o) => o.short === arg[1] && o.type === "string");
  }
  return false;
}

function describeParseError(
  e: unknown,
  spec: Record<string, OptionSpec>,
  args: string[],
  options: NonNullable<Parameters<typeof parseArgs>[0]>["options"],
): string {
  const valid = Object.keys(spec).map((n) => `--${n}`);
  const code = (e as { code?: string }).code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const bad = message.match(/'([^']+)'/)?.[1] ?? "?";
    const hint = closest(bad.replace(/^-+/, "").split("=")[0], Object.keys(spec));
    return `unknown option ${bad}${hint ? ` (did you mean --${hint}?)` : ""}; valid options: ${
      valid.join(", ")
    }`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = message.match(/--([\w-]+)/)?.[1];
    if (name && spec[name]?.type === "boolean") return `--${name} takes no value`;
    return `--${name ?? "?"} needs a value${
      name && spec[name]?.value ? ` (${spec[name].value})` : ""
    }`;
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    // Parse again allowing positionals, so the message names the stray argument itself and
    // not the value of the option before it.
    let bad = "";
    try {
      bad = parseArgs({ args, options, strict: true, allowPositionals: true }).positionals[0];
    } catch {
      bad = args.find((a) => !a.startsWith("-")) ?? "";
    }
    return `unexpected argument '${bad}' (this command takes options only)`;
  }
  return message;
}

/**
 * The candidate closest to `word` by edit distance, if it is close enough to be a typo.
 *
 * @example
 * ```ts
 * if (closest("sytnh", ["synth", "demo"]) !== "synth") throw new Error();
 * if (closest("zzzzzz", ["synth", "demo"]) !== undefined) throw new Error();
 * ```
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, swaps. */
function editDistance(a: string, b: string): number {
  const d = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i + j),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** The help text of a command. */
export function commandHelp(command: Command): string {
  const rows = Object.entries({ ...command.options, ...COMMON_OPTIONS }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`;
    const extra = [
      o.choices ? `one of ${o.choices.join("|")}` : "",
      o.default ? `default ${o.default}` : "",
    ]
      .filter((s) => s).join("; ");
    return [flag, o.description + (extra ? ` (${extra})` : "")];
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  return [
    `vlm3r ${command.name}: ${command.summary}`,
    "",
    `Usage: ${command.usage}`,
    "",
    "Options:",
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`),
    "",
    command.examples.length > 1 ? "Examples:" : "Example:",
    ...command.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}
