// `vlm3r eval` on input it cannot score as given: bytes that are not UTF-8, questions of the
// other benchmark, answers to none of the questions. Each is said on stderr, the reports are
// still written, and the exit status is 1.

import { assert, assertEquals } from "../assert.ts";
import { main } from "../../cli/main.ts";
import { readPredictions, readQuestions } from "../../eval/records.ts";
import { capture } from "../_support.ts";

const fixtures = new URL("../fixtures/eval/", import.meta.url).pathname;
const Q = `${fixtures}golden_vsi_questions.jsonl`;
const P = `${fixtures}golden_vsi_predictions.jsonl`;

Deno.test("predictions that are not UTF-8: a warning naming each line, exit 1, still scored", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Latin-1 bytes in two answers (0xE9 is "é" in Latin-1, never valid alone in UTF-8).
    const lines = (await Deno.readTextFile(P)).split("\n");
    const bytes = (s: string) => new TextEncoder().encode(s);
    const bad = new Set([3, 7]);
    const parts = lines.map((l, i) =>
      bad.has(i + 1) ? bytes(l.replace('["', '["\u0000')).map((b) => b === 0 ? 0xe9 : b) : bytes(l)
    );
    const joined = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
    let at = 0;
    for (const p of parts) {
      joined.set(p, at);
      joined[at + p.length] = 0x0a;
      at += p.length + 1;
    }
    const file = `${dir}/latin1.jsonl`;
    await Deno.writeFile(file, joined.subarray(0, joined.length - 1));
    const set = await readQuestions(Q);
    const preds = await readPredictions(file, set.questions);
    assertEquals(preds.invalidUtf8Lines, [3, 7]);
    assertEquals((await readPredictions(P, set.questions)).invalidUtf8Lines, undefined);

    const io = capture();
    assertEquals(
      await main(["eval", "--questions", Q, "--predictions", file, "--out", `${dir}/r`], io),
      1,
    );
    const err = io.err.trimEnd().split("\n");
    assertEquals(err.filter((l) => l.includes("UTF-8")), [
      `warning: ${file}:3: expected UTF-8 text; its bad bytes were read as U+FFFD`,
      `warning: ${file}:7: expected UTF-8 text; its bad bytes were read as U+FFFD`,
      `vlm3r eval: ${file}: 2 lines not valid UTF-8 (see the warnings above)`,
    ]);
    assert((await Deno.readTextFile(`${dir}/r/report.md`)).includes("| latin1 |"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("no question scored (--bench vsti on VSI questions), or none answered: exit 1 after the reports", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let io = capture();
    assertEquals(
      await main(["eval", "--questions", Q, "--predictions", P, "--bench", "vsti"], io),
      1,
    );
    const err = io.err.trimEnd().split("\n");
    assertEquals(err[0], "warning: 215 questions left out of the scores:");
    assert(err[1].includes("question_type: expected a VSTI-Bench type"), err[1]);
    // No --out: the hint does not point at a report that is not written.
    assertEquals(err[6], "  ... and 210 more (--out DIR lists them all)");
    assert(!io.err.includes("report.md"), io.err);
    assertEquals(err.at(-1), "vlm3r eval: no question scored (see the warnings above)");

    io = capture();
    const out = `${dir}/r`;
    assertEquals(
      await main(
        ["eval", "--questions", Q, "--predictions", P, "--bench", "vsti", "--out", out],
        io,
      ),
      1,
    );
    assert(io.err.includes(`  ... and 210 more (all in ${out}/scores.json)\n`), io.err);
    const json = JSON.parse(await Deno.readTextFile(`${out}/scores.json`));
    assertEquals(json.excluded.length, 215);

    // An answers file that answers none of the questions.
    await Deno.writeTextFile(`${dir}/none.jsonl`, "");
    io = capture();
    assertEquals(
      await main(["eval", "--questions", Q, "--predictions", `${dir}/none.jsonl`], io),
      1,
    );
    assert(io.err.endsWith("vlm3r eval: none: no question answered (see the warnings above)\n"));
    // The golden pair itself: every question scored, 10 answers missing (reported): exit 0.
    assertEquals(await main(["eval", "--questions", Q, "--predictions", P], capture()), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
