// `vlm3r serve` and `vlm3r bench --model` from the command line, before any model loads: usage
// errors (exit 2) name the option; a port in use or a missing --media folder is one line and
// exit 1, said before the model would load; bench --resume with every answer in place loads
// nothing and asks nothing.

import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { capture } from "../_support.ts";
import { main } from "../../cli/main.ts";

async function run(args: string[]) {
  const io = capture();
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

function oneLine(r: { code: number; err: string }, code: number, pattern: RegExp) {
  assertEquals(r.code, code, r.err);
  assert(pattern.test(r.err), r.err);
  if (code === 1) assertEquals(r.err.trim().split("\n").length, 1, r.err);
}

Deno.test("vlm3r serve: usage errors, a port in use, a missing media folder", async () => {
  const help = await run(["serve", "--help"]);
  assertEquals(help.code, 0);
  for (const o of ["--port", "--host", "--queue", "--timeout", "--max-body", "--media", "--base"]) {
    assert(help.out.includes(o), o);
  }
  assert((await run(["--help"])).out.includes("serve"));
  oneLine(await run(["serve"]), 2, /--model DIR .*or --base DIR --lora DIR --cut3r FILE/);
  oneLine(await run(["serve", "--model", "m", "--base", "b"]), 2, /not both/);
  oneLine(await run(["serve", "--model", "m", "--port", "70000"]), 2, /--port expects/);
  oneLine(await run(["serve", "--model", "m", "--queue", "-1"]), 2, /--queue expects/);
  oneLine(await run(["serve", "--model", "m", "--max-body", "0"]), 2, /--max-body expects/);
  oneLine(await run(["serve", "--model", "m", "extra"]), 2, /extra/);
  const dir = await Deno.makeTempDir();
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    oneLine(
      await run(["serve", "--model", join(dir, "none"), "--media", join(dir, "nope")]),
      1,
      /--media .*nope: no such folder/,
    );
    // The model does not exist either: the port is checked first, in one line.
    const port = String((busy.addr as Deno.NetAddr).port);
    oneLine(
      await run(["serve", "--model", join(dir, "none"), "--port", port]),
      1,
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(--port\\)`),
    );
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vlm3r bench: --endpoint or a model, each with its own options; resume with nothing left", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const q = join(dir, "q.jsonl"), out = join(dir, "p.jsonl");
    const record = {
      id: "q1",
      scene_name: "scene0000_00",
      question_type: "object_counting",
      question: "How many chairs?",
      options: null,
      ground_truth: 2,
    };
    await Deno.writeTextFile(q, JSON.stringify(record) + "\n");
    const base = ["bench", "--questions", q, "--videos", dir, "--out", out];
    oneLine(await run(base), 2, /give --endpoint URL --model NAME .* or --model DIR/);
    oneLine(
      await run([...base, "--model", "m", "--concurrency", "2"]),
      2,
      /--concurrency goes with --endpoint/,
    );
    oneLine(
      await run([...base, "--model", "m", "--pre-prompt", "x"]),
      2,
      /--pre-prompt goes with --endpoint/,
    );
    oneLine(
      await run([...base, "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--base", "b"]),
      2,
      /--base is for VLM-3R in-process: leave out --endpoint/,
    );
    oneLine(await run([...base, "--endpoint", "http://127.0.0.1:9/v1"]), 2, /--model is required/);
    oneLine(await run([...base, "--base", "b"]), 2, /--base DIR --lora DIR --cut3r FILE/);
    oneLine(await run([...base, "--model", "m", "--base", "b"]), 2, /not both/);
    // Every question answered: --resume loads no model (there is none) and asks nothing.
    await Deno.writeTextFile(out, '{"id":"q1","prediction":"2"}\n');
    const r = await run([...base, "--model", join(dir, "no-model"), "--resume"]);
    assertEquals(r.code, 0, r.err);
    assert(r.out.includes("0 answered, 1 already in"), r.out);
    oneLine(await run([...base, "--model", join(dir, "no-model")]), 2, /exists: add --resume/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
