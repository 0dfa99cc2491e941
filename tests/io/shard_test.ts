// Shard arithmetic and the streaming line reader under the conditions a cluster run meets:
// shards partition the scenes whatever N, Slurm arrays map to K/N or are refused, lines are
// read whole across chunk boundaries (multi-byte characters split included), a torn last line
// is marked.
import { assert, assertEquals } from "../assert.ts";
import { readLines } from "../../io/lines.ts";
import { AtomicFile } from "../../io/atomic.ts";
import { inShard, parseShard, shardFromSlurm, shardSize } from "../../io/shard.ts";

Deno.test("shards 1..N partition the scenes, each in the order of the run", () => {
  for (const total of [0, 1, 7, 288, 2880]) {
    for (const n of [1, 2, 3, 16, 300]) {
      const seen = new Array(total).fill(0);
      let sizes = 0;
      for (let k = 1; k <= n; k++) {
        const mine = Array.from({ length: total }, (_, i) => i).filter((i) => inShard(i, { k, n }));
        assertEquals(mine.length, shardSize(total, { k, n }), `${total} ${k}/${n}`);
        for (const i of mine) seen[i]++;
        sizes += mine.length;
      }
      assertEquals(sizes, total);
      assert(seen.every((c) => c === 1), `${total}/${n}`);
    }
  }
});

Deno.test("--shard K/N and Slurm arrays: K from 1, consecutive arrays only", () => {
  const err = (text: string) => {
    const s = parseShard(text);
    return "error" in s ? s.error : "";
  };
  assert(err("0/4").includes("K must be in 1..4 (shards count from 1)"));
  assert(err("5/4").includes("K must be in 1..4"));
  assert(err("1/0").includes("N must be"));
  assert(err("a/b").includes("expected K/N"));
  assertEquals(parseShard(" 3 / 4 "), { shard: { k: 3, n: 4 } });
  const slurm = (env: Record<string, string>) => shardFromSlurm((k) => env[k]);
  assertEquals(
    slurm({ SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "8", SLURM_ARRAY_TASK_MIN: "0" }),
    { shard: { k: 1, n: 8 } },
  );
  assertEquals(
    slurm({
      SLURM_ARRAY_TASK_ID: "8",
      SLURM_ARRAY_TASK_COUNT: "8",
      SLURM_ARRAY_TASK_MIN: "1",
      SLURM_ARRAY_TASK_MAX: "8",
    }),
    { shard: { k: 8, n: 8 } },
  );
  // --array=0-9:2 has 5 tasks with ids 0, 2, ..., 8: K cannot be told from the id.
  const stepped = slurm({
    SLURM_ARRAY_TASK_ID: "4",
    SLURM_ARRAY_TASK_COUNT: "5",
    SLURM_ARRAY_TASK_MIN: "0",
    SLURM_ARRAY_TASK_MAX: "8",
  });
  assert(stepped && "error" in stepped && stepped.error.includes("not consecutive"));
  assertEquals(slurm({ SLURM_JOB_ID: "1" }), undefined);
});

Deno.test("readLines: whole lines across chunks, split UTF-8 characters, CRLF, a torn last line", async () => {
  const path = await Deno.makeTempFile();
  try {
    const text = 'é{"a":"ü😀"}\r\n\nx€y\n' + "z".repeat(70) + "\nhalf";
    await Deno.writeTextFile(path, text);
    for (const chunk of [1, 2, 3, 5, 64, 1 << 20]) {
      const lines = await Array.fromAsync(readLines(path, { chunk }));
      assertEquals(lines.map((l) => l.text), text.split("\n"), `chunk ${chunk}`);
      assertEquals(lines.map((l) => l.number), [1, 2, 3, 4, 5]);
      assert(lines.every((l) => !l.invalidUtf8));
      assertEquals(lines.map((l) => l.unterminated), [false, false, false, false, true]);
      // Byte offsets: each line's bytes, and a restart from one of them.
      const bytes = await Deno.readFile(path);
      const dec = new TextDecoder();
      for (const l of lines) {
        assertEquals(dec.decode(bytes.subarray(l.start, l.end)).replace(/\n$/, ""), l.text);
      }
      const rest = await Array.fromAsync(readLines(path, { from: lines[2].start, firstLine: 3 }));
      assertEquals(rest.map((l) => `${l.number}:${l.text}`), [
        "3:x€y",
        `4:${"z".repeat(70)}`,
        "5:half",
      ]);
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("AtomicFile: nothing at the path until commit; abort leaves nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = await AtomicFile.open(`${dir}/big.jsonl`);
    for (let i = 0; i < 5000; i++) await f.write(`{"i":${i},"pad":"${"x".repeat(300)}"}\n`);
    assertEquals(await Deno.stat(`${dir}/big.jsonl`).catch(() => null), null);
    await f.commit();
    const lines = (await Deno.readTextFile(`${dir}/big.jsonl`)).trimEnd().split("\n");
    assertEquals(lines.length, 5000);
    assertEquals(JSON.parse(lines[4999]).i, 4999);
    const g = await AtomicFile.open(`${dir}/gone.jsonl`);
    await g.write("x\n");
    await g.abort();
    assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["big.jsonl"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
