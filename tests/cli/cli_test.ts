import { assert, assertEquals } from "../assert.ts";
import { main } from "../../cli/main.ts";
import { capture } from "../_support.ts";

Deno.test("help and version", async () => {
  let io = capture();
  assertEquals(await main(["--help"], io), 0);
  assert(io.out.includes("Commands:") && io.out.includes("synth") && io.out.includes("Example:"));
  io = capture();
  assertEquals(await main(["synth", "--help"], io), 0);
  assert(
    io.out.includes("Usage: vlm3r synth --out DIR") && io.out.includes("Examples:\n  vlm3r synth"),
  );
  io = capture();
  assertEquals(await main(["demo", "-h"], io), 0);
  assert(io.out.includes("Example:\n  vlm3r demo"));
  io = capture();
  assertEquals(await main(["--version"], io), 0);
  assert(/^vlm3r \d+\.\d+\.\d+\n$/.test(io.out), io.out);
  io = capture();
  assertEquals(await main([], io), 2, "no command is a usage error");
  assert(io.err.includes("Usage: vlm3r <command>"));
});

Deno.test("usage errors exit 2 and name the valid choices", async () => {
  const file = await Deno.makeTempFile();
  const cases: [string[], RegExp][] = [
    [
      ["synht"],
      /unknown command 'synht' \(did you mean 'synth'\?\); valid commands: synth, ([a-z]+, )*demo/,
    ],
    [["--frobnicate"], /unknown option --frobnicate; valid before a command: --help/],
    [
      ["synth", "--out", "x", "--scene", "2"],
      /unknown option --scene \(did you mean --scenes\?\); valid options: --out, --scenes,/,
    ],
    [
      ["synth", "--out", "x", "--scenes", "two"],
      /--scenes expects an integer in 1\.\.10000, got 'two'/,
    ],
    [
      ["synth", "--out", "x", "--frames", "0"],
      /--frames expects an integer in 1\.\.100000, got '0'/,
    ],
    [["synth", "--scenes", "2"], /--out is required/],
    [["synth", "--out"], /--out needs a value \(DIR\)/],
    [
      ["synth", "--out", "x", "--video", "mpeg"],
      /--video must be one of auto, ffmpeg, wasm, none, got 'mpeg'/,
    ],
    [["synth", "stray", "--out", "x"], /unexpected argument 'stray'/],
    // The stray argument is named, not the value of the option before it.
    [["synth", "--out", "x", "stray"], /unexpected argument 'stray'/],
    // A negative count is a value out of range, not a missing value.
    [
      ["synth", "--out", "x", "--scenes", "-1"],
      /--scenes expects an integer in 1\.\.10000, got '-1'/,
    ],
    [
      ["synth", "--out", "x", "--frames=-5"],
      /--frames expects an integer in 1\.\.100000, got '-5'/,
    ],
    [["synth", "--out", `${file}/sub`], /--out .*is a file/],
    [
      ["gen", "--meta", "m", "--out", "q.jsonl", "--per-scene", "-2"],
      /--per-scene expects an integer in 0\.\./,
    ],
  ];
  for (const [args, pattern] of cases) {
    const io = capture();
    assertEquals(await main(args, io), 2, args.join(" "));
    assert(pattern.test(io.err), `${args.join(" ")}: ${io.err}`);
    assertEquals(io.out, "");
  }
  await Deno.remove(file);
});

Deno.test("runtime failures print one line and exit 1; --debug adds the stack", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A mesh that is not there is found only when the command runs.
    const args = ["route", "--mesh", `${dir}/missing.ply`];
    let io = capture();
    assertEquals(await main(args, io), 1);
    assertEquals(io.err.trim().split("\n").length, 1, io.err);
    assert(io.err.startsWith("vlm3r route: "), io.err);
    io = capture();
    assertEquals(await main([...args, "--debug"], io), 1);
    assert(
      io.err.split("\n").length > 2 && io.err.includes("    at "),
      "stack trace under --debug",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("synth from the command line; progress only on a terminal and without --quiet", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = [
      "synth",
      "--out",
      dir,
      "--scenes",
      "2",
      "--frames",
      "3",
      "--width",
      "32",
      "--height",
      "24",
      "--video",
      "none",
      "--workers",
      "1",
      "--seed",
      "11",
    ];
    let io = capture(false);
    assertEquals(await main(args, io), 0);
    assertEquals(io.err, "", "nothing on stderr when it is not a terminal");
    const lines = io.out.trim().split("\n");
    assertEquals(lines.length, 2);
    assert(lines[0].startsWith("scene0000_00  ") && lines[1].startsWith("scene0001_00  "), io.out);
    const truth = JSON.parse(await Deno.readTextFile(`${dir}/scene0001_00/ground_truth.json`));
    assertEquals(truth.camera.frames, 3);
    io = capture(true);
    assertEquals(await main(args, io), 0);
    assert(
      io.err.includes("synth [") && io.err.includes("frames/s") && io.err.includes("ETA"),
      io.err,
    );
    io = capture(true);
    assertEquals(await main([...args, "--quiet"], io), 0);
    assertEquals(io.err, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the real process exits with the status main returns", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-run",
        "--allow-env",
        new URL("../../cli/main.ts", import.meta.url).pathname,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const ok = await run(["--version"]);
  assertEquals(ok.code, 0);
  const usage = await run(["synth", "--bogus"]);
  assertEquals(usage.code, 2);
  assert(new TextDecoder().decode(usage.stderr).includes("unknown option --bogus"));
});

Deno.test("a reader that closes the pipe early ends the command quietly with status 0", async () => {
  // As `vlm3r synth --help | head -c 0`: the reader is gone before the help is written.
  const writer = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      new URL("../../cli/main.ts", import.meta.url).pathname,
      "synth",
      "--help",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Close our end before the help is written: every write then meets a broken pipe.
  await writer.stdout.cancel();
  const [status, err] = await Promise.all([
    writer.status,
    new Response(writer.stderr).text(),
  ]);
  assertEquals(status.code, 0, err);
  assertEquals(err, "");
});

Deno.test("typed option helpers: float and list", async () => {
  const { Context } = await import("../../cli/_command.ts");
  const cmd = {
    name: "x",
    summary: "",
    usage: "",
    examples: [],
    options: {},
    run: () => Promise.resolve(0),
  };
  const ctx = new Context(cmd, { f: "2.5", bad: "abc", l: "a, b,,c" }, [], capture());
  assertEquals(ctx.float("f", 0, { min: 0 }), 2.5);
  assertEquals(ctx.float("missing", 7), 7);
  let msg = "";
  try {
    ctx.float("bad", 0);
  } catch (e) {
    msg = (e as Error).message;
  }
  assertEquals(msg, "--bad expects a number, got 'abc'");
  assertEquals(ctx.list("l"), ["a", "b", "c"]);
  assertEquals(ctx.list("none", ["z"]), ["z"]);
});
