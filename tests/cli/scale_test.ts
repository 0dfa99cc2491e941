// Runs at cluster scale: gen and meta stream their output (the same bytes as the whole run
// serialised at once), --shard K/N then `vlm3r merge` equals the single run byte for byte, a
// killed run (a real process, held mid-run by a FIFO mesh and killed with SIGKILL) resumed with
// --resume gives the same bytes, and shards given out of order or twice are errors.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../assert.ts";
import { main } from "../../cli/main.ts";
import { generateQuestions, selectTasks } from "../../qa/generate.ts";
import { loadMetadata } from "../../qa/input.ts";
import { DEFAULT_LABELS } from "../../scene/labels.ts";
import { type MetaRunOptions, runMeta } from "../../scene/meta_run.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { capture } from "../_support.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = new URL("../fixtures/qa/vsibench_meta_info/", import.meta.url).pathname;
const hasMkfifo = new Deno.Command("sh", { args: ["-c", "command -v mkfifo"], stdout: "null" })
  .outputSync().success;
const root = await Deno.makeTempDir({ prefix: "vlm3r-scale-" });
const SCENES = 4;

let dataCache: Promise<{ raw: string; metaDir: string }> | undefined;
/** Four small synthetic scans (meshes for route planning) and their metadata (made once). */
function synthData() {
  return dataCache ??= (async () => {
    const raw = join(root, "raw");
    for (let i = 0; i < SCENES; i++) {
      const scene = synthScene("scale", i, { frames: 6, width: 32, height: 24 });
      await writeSynthScene(scene, raw, { workers: 1, video: "none" });
    }
    const out = join(root, "processed");
    const summary = await runMeta(metaOptions(raw, out));
    assertEquals(summary.failed, []);
    return { raw, metaDir: join(out, "metadata", "val") };
  })();
}

function metaOptions(raw: string, out: string, extra: Partial<MetaRunOptions> = {}) {
  return {
    dataset: "scannet" as const,
    root: raw,
    out,
    split: "val",
    labels: DEFAULT_LABELS.scannet,
    frames: 4,
    seed: "0",
    workers: 1,
    format: "json" as const,
    strict: true,
    ...extra,
  };
}

async function run(args: string[], code = 0): Promise<{ out: string; err: string }> {
  const io = capture();
  assertEquals(await main(args, io), code, io.err);
  return io;
}

/** Every file under `dir` with its bytes (relative paths, sorted), for whole-tree equality. */
async function files(dir: string, prefix = ""): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const e of Deno.readDir(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await files(dir, rel));
    else {
      const bytes = await Deno.readFile(join(dir, rel));
      out.push([rel, `${bytes.length}:${await sha256(bytes)}`]);
    }
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Waits (polling) until `ready` holds; a guard against a hang, not a timing assertion. */
async function until(ready: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Starts `vlm3r <args>` as its own process. */
function vlm3r(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(repo, "cli/main.ts"), ...args],
    cwd: repo,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Replaces scene `name`'s mesh by a FIFO without a writer (reading it blocks); returns undo. */
async function blockMesh(raw: string, name: string): Promise<() => Promise<void>> {
  const mesh = join(raw, name, `${name}_vh_clean_2.ply`), aside = `${mesh}.aside`;
  await Deno.rename(mesh, aside);
  assert((await new Deno.Command("mkfifo", { args: [mesh] }).output()).success);
  return async () => {
    await Deno.remove(mesh);
    await Deno.rename(aside, mesh);
  };
}

async function lineCount(path: string): Promise<number> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").length - 1;
}

Deno.test("gen streams the bytes of the whole run serialised at once, JSON lines and JSON list", async () => {
  const dir = await Deno.makeTempDir({ dir: root });
  const { scenes } = await loadMetadata([FIXTURE]);
  const { records } = await generateQuestions(scenes, selectTasks(["all"]).tasks, {
    seed: "3",
    distance: "vsibench",
    caps: {},
    naOptions: true,
  });
  const args = ["gen", "--meta", FIXTURE, "--seed", "3", "--na-options", "--workers", "2"];
  await run([...args, "--out", join(dir, "q.jsonl")]);
  assertEquals(
    await Deno.readTextFile(join(dir, "q.jsonl")),
    records.map((r) => JSON.stringify(r) + "\n").join(""),
  );
  await run([...args, "--out", join(dir, "q.json"), "--format", "json"]);
  assertEquals(
    await Deno.readTextFile(join(dir, "q.json")),
    JSON.stringify(records, null, 4) + "\n",
  );
  // The journal is gone, the provenance written beside the questions.
  assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
    "q.json",
    "q.json.gen.json",
    "q.jsonl",
    "q.jsonl.gen.json",
  ]);
  const gen = JSON.parse(await Deno.readTextFile(join(dir, "q.jsonl.gen.json")));
  assertEquals([gen.seed, gen.questions, gen.scenes], ["3", records.length, scenes.length]);
  assert(gen.command.startsWith("vlm3r gen --meta "), gen.command);
});

Deno.test("gen --shard k/3 for k = 1..3 then merge equals the single run, byte for byte", async () => {
  const { raw, metaDir } = await synthData();
  const dir = await Deno.makeTempDir({ dir: root });
  for (const format of ["jsonl", "json"]) {
    const args = [
      "gen",
      "--meta",
      `${metaDir},${FIXTURE}`,
      "--scenes-root",
      raw,
      "--seed",
      "5",
      "--per-scene",
      "40",
      "--format",
      format,
      "-q",
    ];
    const single = join(dir, `single.${format}`);
    // The fixture's scenes have no meshes under --scenes-root: input problems, so every run
    // (and the merge) exits 1 after writing the rest.
    const one = await run([...args, "--out", single], 1);
    assert(one.err.includes("6 input problems (listed above) cost questions"), one.err);
    const out = join(dir, `q.${format}`);
    const shards = [1, 2, 3].map((k) => join(dir, `q.shard-${k}-of-3.jsonl`));
    for (const k of [3, 1]) {
      const io = await run([...args, "--out", out, "--shard", `${k}/3`], 1);
      assert(io.out.startsWith(`shard ${k}/3: `), io.out);
    }
    // Shard 2 from a Slurm job array (--array=4-6): task 5 is the second, K = 5 - 4 + 1.
    const env = { SLURM_ARRAY_TASK_ID: "5", SLURM_ARRAY_TASK_MIN: "4", SLURM_ARRAY_TASK_MAX: "6" };
    for (const [k, v] of Object.entries({ ...env, SLURM_ARRAY_TASK_COUNT: "3" })) {
      Deno.env.set(k, v);
    }
    try {
      const io = await run([...args, "--out", out], 1);
      assert(io.err.includes("shard 2/3 from the Slurm job array"), io.err);
    } finally {
      for (const k of [...Object.keys(env), "SLURM_ARRAY_TASK_COUNT"]) Deno.env.delete(k);
    }
    const merged = await run(["merge", "--out", out, ...shards, "--stats"], 1);
    assert(merged.out.includes("total"), merged.out);
    assert(merged.err.includes("6 input problems cost questions (6 listed above)"), merged.err);
    assertEquals(await Deno.readFile(out), await Deno.readFile(single), format);
    assertEquals(
      JSON.parse(await Deno.readTextFile(`${out}.gen.json`)).questions,
      JSON.parse(await Deno.readTextFile(`${single}.gen.json`)).questions,
    );
    // Out of order, twice, missing, of another run: errors, nothing written.
    await Deno.remove(out);
    const bad = async (list: string[], message: string) => {
      const io = await run(["merge", "--out", out, ...list], 1);
      assert(io.err.includes(message), io.err);
      assertEquals(await Deno.stat(out).catch(() => null), null);
    };
    await bad([shards[1], shards[0], shards[2]], "shards out of order");
    await bad([shards[0], shards[0], shards[2]], "shard 1/3 given twice");
    await bad([shards[0], shards[2]], "shard 2/3 missing");
    const other = join(dir, "other.jsonl");
    await run([...args.map((a) => (a === "5" ? "6" : a)), "--out", other, "--shard", "2/3"], 1);
    await bad([shards[0], join(dir, "other.shard-2-of-3.jsonl"), shards[2]], `seed: "6" vs "5"`);
  }
  // --stats needs the lettered questions: a usage error on a shard.
  await run(
    ["gen", "--meta", FIXTURE, "--out", join(dir, "x.jsonl"), "--shard", "1/2", "--stats"],
    2,
  );
  await run(["gen", "--meta", FIXTURE, "--out", join(dir, "x.jsonl"), "--shard", "3/2"], 2);
});

Deno.test({
  name: "gen killed mid-run (SIGKILL) and resumed gives the same bytes, whole or sharded",
  ignore: !hasMkfifo,
  fn: async () => {
    const { raw, metaDir } = await synthData();
    const dir = await Deno.makeTempDir({ dir: root });
    const args = ["gen", "--meta", metaDir, "--scenes-root", raw, "--seed", "2", "-q"];
    const whole = join(dir, "whole.jsonl");
    await run([...args, "--out", whole]);

    for (const shard of [undefined, "1/2"]) {
      const out = join(dir, shard ? "s.jsonl" : "q.jsonl");
      const written = shard ? join(dir, "s.shard-1-of-2.jsonl") : out;
      const journal = `${written}.partial`;
      // Scene 2 (of shard 1/2: its second scene) reads a mesh that never comes.
      const unblock = await blockMesh(raw, "scene0002_00");
      const child = vlm3r([...args, "--out", out, ...(shard ? ["--shard", shard] : [])]);
      try {
        await until(async () => await lineCount(journal) >= (shard ? 2 : 3), "the journal");
      } finally {
        child.kill("SIGKILL");
        await child.output();
        await unblock();
      }
      assertEquals(await Deno.stat(written).catch(() => null), null);
      // A write the kill tore in half.
      await Deno.writeTextFile(journal, '{"i":2,"dataset":"scan', { append: true });
      const io = await run([
        ...args,
        "--out",
        out,
        "--resume",
        ...(shard ? ["--shard", shard] : []),
      ]);
      assert(io.err.includes(`resuming ${journal}: ${shard ? 1 : 2} of`), io.err);
      assertEquals(await Deno.stat(journal).catch(() => null), null);
      if (!shard) {
        assertEquals(await Deno.readFile(out), await Deno.readFile(whole));
        continue;
      }
      // The other shard, then merge: the whole run's bytes. A finished shard resumes to nothing.
      await run([...args, "--out", out, "--shard", "2/2"]);
      const again = await run([...args, "--out", out, "--shard", "2/2", "--resume"]);
      assert(again.err.includes("already complete"), again.err);
      await run(["merge", "--out", out, written, join(dir, "s.shard-2-of-2.jsonl")]);
      assertEquals(await Deno.readFile(out), await Deno.readFile(whole));
    }
    // A journal of other settings is not continued.
    const out = join(dir, "q.jsonl");
    await Deno.writeTextFile(
      `${out}.partial`,
      JSON.stringify({ vlm3r: "gen-shard", version: 1, shard: [1, 1], scenes: 4, run: {} }) + "\n",
    );
    const io = await run([...args, "--out", out, "--resume"], 1);
    assert(io.err.includes("written by a run with other settings"), io.err);
  },
});

Deno.test("meta --shard k/3 then merge writes the single run's frames and metadata, both formats", async () => {
  const { raw } = await synthData();
  for (const format of ["json", "jsonl"] as const) {
    const single = join(root, `meta-single-${format}`), sharded = join(root, `meta-sh-${format}`);
    await runMeta(metaOptions(raw, single, { format, frames: 3 }));
    const shardFiles: string[] = [];
    for (const k of [1, 2, 3]) {
      const s = await runMeta(metaOptions(raw, sharded, { format, frames: 3, shard: { k, n: 3 } }));
      assertEquals(s.scenes, k === 1 ? 2 : 1);
      shardFiles.push(...s.written);
    }
    assertEquals(
      shardFiles.map((f) => f.slice(sharded.length + 1)),
      [1, 2, 3].map((k) => `metadata/val/scannet_meta_val.shard-${k}-of-3.jsonl`),
    );
    const io = await run(["merge", "--out", sharded, ...shardFiles]);
    assert(io.out.startsWith(`scannet val: ${SCENES} scenes from 3 shards`), io.out);
    for (const f of shardFiles) await Deno.remove(f);
    assertEquals(await files(sharded), await files(single));
  }
});

Deno.test({
  name: "meta killed mid-run (SIGKILL) with --resume takes over the staged scenes: same output",
  ignore: !hasMkfifo,
  fn: async () => {
    const { raw } = await synthData();
    const whole = join(root, "meta-whole"), out = join(root, "meta-resumed");
    await runMeta(metaOptions(raw, whole, { frames: 3 }));
    const unblock = await blockMesh(raw, "scene0002_00");
    const child = vlm3r([
      "meta",
      "--dataset",
      "scannet",
      "--root",
      raw,
      "--out",
      out,
      "--frames",
      "3",
      "--workers",
      "1",
      "--resume",
    ]);
    try {
      await until(async () => {
        const entries = await Array.fromAsync(Deno.readDir(out)).catch(() => []);
        for (const e of entries) {
          if (!e.name.startsWith(".meta-scannet-val.tmp-")) continue;
          const done = await Array.fromAsync(Deno.readDir(join(out, e.name, "done")))
            .catch(() => []);
          if (done.length === 2) return true;
        }
        return false;
      }, "two staged scenes");
    } finally {
      child.kill("SIGKILL");
      await child.output();
      await unblock();
    }
    const io = await run([
      "meta",
      "--dataset",
      "scannet",
      "--root",
      raw,
      "--out",
      out,
      "--frames",
      "3",
      "--workers",
      "1",
      "--resume",
    ]);
    assert(io.err.includes("2 of 4 scenes already done"), io.err);
    assertEquals(await files(out), await files(whole));
  },
});

Deno.test("scale: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
