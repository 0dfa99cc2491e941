/**
 * Benchmark of vlm3r at cluster scale: peak memory and time of the whole commands, each in its
 * own process (peak RSS from /proc):
 *
 * - `vlm3r gen --per-scene 100000` (every question the scenes allow) over the 288 VSI-Bench
 *   scenes (`vsibench_meta_info`) and over them replicated `--replicas` times with renamed
 *   scenes (default 10: 2,880 scenes);
 * - `vlm3r eval` of the 288-scene questions and of the first `--eval` (default 1,000,000)
 *   questions of the replicated run, with seeded answers (right, wrong, "3.5m"-style), reports
 *   written (`--out`);
 * - `vlm3r export --format hf` of the 288-scene questions.
 *
 * Prints a table (or, with `--json`, one JSON object). Aims: peak RSS under 1 GB for the 2,880
 * scenes and for 1M answers, roughly flat from the small run to the large one. Files go to
 * `bench-out/scale/` (several GB; removed at the end unless `--keep`).
 *
 *   deno run -A bench/scale.ts [--meta DIR] [--replicas 10] [--eval 1000000] [--json] [--keep]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { answerKind, VSI_BENCH } from "../eval/benchmarks.ts";
import { Rng } from "../geometry/rng.ts";
import { TextSink } from "../io/atomic.ts";
import { readLines } from "../io/lines.ts";
import { runCli } from "./_util.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    meta: { type: "string", default: "/work/shared/realdata/vsibench_meta_info" },
    replicas: { type: "string", default: "10" },
    eval: { type: "string", default: "1000000" },
    json: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});
const replicas = Number(values.replicas);
const evalCount = Number(values.eval);
const dir = join("bench-out", "scale");
await Deno.mkdir(dir, { recursive: true });

/** The meta info files of `src`, each scene copied `n` times as `<name>_r<k>`. */
async function replicate(src: string, n: number, out: string): Promise<number> {
  await Deno.mkdir(out, { recursive: true });
  let scenes = 0;
  for await (const e of Deno.readDir(src)) {
    if (!e.name.endsWith(".json")) continue;
    const json = JSON.parse(await Deno.readTextFile(join(src, e.name)));
    const copy: Record<string, unknown> = {};
    for (let k = 0; k < n; k++) {
      for (const [name, v] of Object.entries(json as Record<string, Record<string, unknown>>)) {
        const renamed = `${name}_r${k}`;
        copy[renamed] = {
          ...v,
          video_path: String(v.video_path ?? "").replace(name, renamed),
        };
        scenes++;
      }
    }
    await Deno.writeTextFile(join(out, e.name), JSON.stringify(copy));
  }
  return scenes;
}

/**
 * Writes the first `limit` VSI-Bench questions of `questions` (gen's `_v2` / `_v3` relative
 * distances are not benchmark types) and seeded answers to them.
 */
async function answers(
  questions: string,
  limit: number,
  qOut: string,
  pOut: string,
): Promise<number> {
  const rng = new Rng("bench-scale");
  const q = new TextSink(await Deno.open(qOut, { write: true, create: true, truncate: true }));
  const p = new TextSink(await Deno.open(pOut, { write: true, create: true, truncate: true }));
  let n = 0;
  for await (const line of readLines(questions)) {
    if (n >= limit) break;
    const r = JSON.parse(line.text);
    if (!answerKind(VSI_BENCH, r.question_type)) continue;
    await q.write(line.text + "\n");
    let prediction: string;
    const u = rng.next();
    if (r.mc_answer) {
      const letters = "ABCDEF".slice(0, (r.options as string[]).length);
      prediction = u < 0.5 ? `${r.mc_answer}.` : letters[Math.floor(rng.next() * letters.length)];
    } else {
      const gt = Number(r.ground_truth);
      prediction = u < 0.8 ? (gt * (0.5 + rng.next())).toFixed(2) : `${gt}m`;
    }
    await p.write(JSON.stringify({ id: r.id, prediction }) + "\n");
    n++;
  }
  await q.close();
  await p.close();
  return n;
}

async function lineCount(path: string): Promise<number> {
  let n = 0;
  for await (const _ of readLines(path)) n++;
  return n;
}

interface Row {
  step: string;
  scenes?: number;
  records: number;
  bytes: number;
  seconds: number;
  peakMb?: number;
}
const rows: Row[] = [];
/** Records a row, and prints it at once (a long run shows its progress). */
function done(row: Row): void {
  rows.push(row);
  if (!values.json) console.error(`${row.step}: ${JSON.stringify(row)}`);
}

// gen: the 288 scenes, then the replicas.
const small = join(dir, "q288.jsonl");
let r = await runCli(["gen", "--meta", values.meta!, "--out", small, "--per-scene", "100000"]);
const smallCount = await lineCount(small);
done({
  step: "gen --per-scene 100000",
  scenes: 288,
  records: smallCount,
  bytes: (await Deno.stat(small)).size,
  ...r,
});
const metaN = join(dir, `meta_x${replicas}`);
const scenesN = await replicate(values.meta!, replicas, metaN);
const large = join(dir, `q${scenesN}.jsonl`);
r = await runCli(["gen", "--meta", metaN, "--out", large, "--per-scene", "100000"]);
const largeCount = await lineCount(large);
done({
  step: "gen --per-scene 100000",
  scenes: scenesN,
  records: largeCount,
  bytes: (await Deno.stat(large)).size,
  ...r,
});

// eval: the 288-scene questions, then the first --eval questions of the large run.
for (const [src, limit] of [[small, smallCount], [large, evalCount]] as const) {
  const q = join(dir, `eval_q${limit}.jsonl`), p = join(dir, `eval_p${limit}.jsonl`);
  const n = await answers(src, limit, q, p);
  const out = join(dir, `eval_report${limit}`);
  const e = await runCli(["eval", "--questions", q, "--predictions", p, "--out", out]);
  done({
    step: "eval --out (vsibench rules)",
    records: n,
    bytes: (await Deno.stat(q)).size + (await Deno.stat(p)).size,
    ...e,
  });
}

// export: the 288-scene questions.
const hf = join(dir, "hf288");
r = await runCli(["export", "--format", "hf", "--questions", small, "--out", hf]);
let hfBytes = 0;
for await (const e of Deno.readDir(join(hf, "data"))) {
  hfBytes += (await Deno.stat(join(hf, "data", e.name))).size;
}
done({ step: "export --format hf", records: smallCount, bytes: hfBytes, ...r });

if (!values.keep) await Deno.remove(dir, { recursive: true });

const machine = `${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs`;
if (values.json) console.log(JSON.stringify({ machine, rows }));
else {
  console.log(`vlm3r at scale (${machine}); each command in its own process\n`);
  console.log("| step | scenes | records | MB on disk | seconds | peak RSS (MB) |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const x of rows) {
    console.log(
      `| ${x.step} | ${x.scenes ?? "-"} | ${x.records} | ${(x.bytes / 2 ** 20).toFixed(0)} | ` +
        `${x.seconds.toFixed(1)} | ${x.peakMb ?? "?"} |`,
    );
  }
  const [g1, g2, e1, e2] = rows;
  console.log(
    `\npeak RSS, large run / small run: gen ${(g2.peakMb! / g1.peakMb!).toFixed(2)}x for ` +
      `${(g2.records / g1.records).toFixed(1)}x the questions; eval ` +
      `${(e2.peakMb! / e1.peakMb!).toFixed(2)}x for ${(e2.records / e1.records).toFixed(1)}x ` +
      "the answers (aim: both runs under 1024 MB)",
  );
}
