// `vlm3r export --format hf`: the Parquet files, read back by an independent reader
// (parquet-wasm, the Rust arrow-rs implementation, through apache-arrow; not hyparquet, whose
// writer wrote them), round-trip every field of every record, and the dataset card's counts,
// features and data files agree with the input.
import { join } from "node:path";
import * as parquetWasm from "parquet-wasm";
import { tableFromIPC } from "apache-arrow";
import { assert, assertEquals } from "../assert.ts";
import { main } from "../../cli/main.ts";
import { type ColumnSpec, recordFromRow } from "../../qa/hf_export.ts";
import { capture } from "../_support.ts";

const FIXTURE = new URL("../fixtures/qa/vsibench_meta_info/", import.meta.url).pathname;

/** The rows of a Parquet file as plain values, and its `vlm3r.columns` metadata. */
function readParquet(path: string): {
  rows: Record<string, unknown>[];
  columns: ColumnSpec[];
  fields: Map<string, string>;
} {
  const table = tableFromIPC(parquetWasm.readParquet(Deno.readFileSync(path)).intoIPCStream());
  const plain = (v: unknown): unknown =>
    v !== null && typeof v === "object" && Symbol.iterator in v && typeof v !== "string"
      ? [...(v as Iterable<unknown>)].map(plain)
      : v;
  const rows = table.toArray().map((row) => {
    const o = row.toJSON() as Record<string, unknown>;
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)]));
  });
  const fields = new Map(table.schema.fields.map((f) => [f.name, String(f.type)]));
  return { rows, columns: JSON.parse(table.schema.metadata.get("vlm3r.columns")!), fields };
}

/** A record with its keys sorted, for comparing field by field whatever the key order. */
function sorted(r: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]]));
}

/** Records of every shape a column can take. */
function oddRecords(): Record<string, unknown>[] {
  return Array.from({ length: 23 }, (_, i) => {
    const r: Record<string, unknown> = {
      id: `odd/${i}`,
      question_type: i % 3 ? "object_counting" : "route_planning",
      ground_truth: i % 2 ? i * 1.25 : "left",
      options: i % 4 === 0 ? null : i % 4 === 1 ? [1.5, -2, 3e-9] : ["A. x", 'B. ünï "q"'],
      mc_answer: i % 2 ? null : "A",
      big: 2 ** 40 + i,
      ratio: i / 7,
      flag: i % 5 === 0,
      frame_indices: Array.from({ length: i % 3 }, (_, k) => k * 10),
      legs: [[i, 0.5], [1, 2]],
    };
    if (i % 3 === 0) r.anchors = [{ role: "start", point: [i, 1, 2] }];
    if (i % 4 === 0) r.maybe = null;
    if (i % 4 === 1) r.maybe = "x";
    if (i % 6 === 0) r.only_some = `t${i}`;
    return r;
  });
}

Deno.test("export --format hf: Parquet shards round-trip every field; the card's counts and features match", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Real questions of every VSI type with numerical options, and records of odd shapes.
    const q = join(dir, "q.jsonl");
    assertEquals(
      await main(
        ["gen", "--meta", FIXTURE, "--out", q, "--seed", "4", "--na-options", "-q"],
        capture(),
      ),
      0,
    );
    const input = [
      ...(await Deno.readTextFile(q)).trimEnd().split("\n").map((l) => JSON.parse(l)),
      ...oddRecords(),
    ];
    await Deno.writeTextFile(q, input.map((r) => JSON.stringify(r) + "\n").join(""));

    const out = join(dir, "hf");
    const io = capture();
    assertEquals(
      await main(
        ["export", "--format", "hf", "--questions", q, "--out", out, "--rows-per-file", "300"],
        io,
      ),
      0,
      io.err,
    );
    const files = (await Array.fromAsync(Deno.readDir(join(out, "data")))).map((e) => e.name)
      .sort();
    const n = Math.ceil(input.length / 300);
    assertEquals(
      files,
      Array.from(
        { length: n },
        (_, i) => `train-${String(i).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.parquet`,
      ),
    );

    // Every record, every field, read back by the other reader.
    const back: Record<string, unknown>[] = [];
    let fields: Map<string, string> | undefined;
    for (const f of files) {
      const read = readParquet(join(out, "data", f));
      fields ??= read.fields;
      for (const row of read.rows) back.push(recordFromRow(row, read.columns));
    }
    assertEquals(back.length, input.length);
    for (let i = 0; i < input.length; i++) assertEquals(sorted(back[i]), sorted(input[i]), `#${i}`);

    // The card: data files, features (as the reader sees the columns), counts per type.
    const card = await Deno.readTextFile(join(out, "README.md"));
    assert(card.includes('  - split: train\n    path: "data/train-*.parquet"'), card);
    assert(card.includes(`    num_examples: ${input.length}\n`), card);
    assert(card.includes("- Seed: `4`"), card);
    const features = [...card.matchAll(/ {2}- name: (.+)\n {4}(dtype|sequence): (\w+)/g)].map((
      m,
    ) => [m[1].startsWith('"') ? JSON.parse(m[1]) : m[1], `${m[2]}:${m[3]}`]);
    const arrow: Record<string, string> = {
      "dtype:string": "Utf8",
      "dtype:int64": "Int64",
      "dtype:float64": "Float64",
      "dtype:bool": "Bool",
      "sequence:string": "List<Utf8>",
      "sequence:int64": "List<Int64>",
      "sequence:float64": "List<Float64>",
    };
    assertEquals(features.map(([name]) => name), [...fields!.keys()]);
    for (const [name, type] of features) assertEquals(fields!.get(name), arrow[type], name);
    assertEquals(fields!.get("ground_truth_number"), "Float64");
    assertEquals(fields!.get("anchors"), "Utf8");
    const expected = new Map<string, number>();
    for (const r of input) expected.set(r.question_type, (expected.get(r.question_type) ?? 0) + 1);
    const table = [...card.matchAll(/^\| (\w+) \| (\d+) \|$/gm)].map((m) => [m[1], Number(m[2])]);
    assertEquals(new Map(table as [string, number][]), expected);
    assert(card.includes(`| **total** | ${input.length} |`), card);

    // Exported again in fewer files: the earlier shards go.
    const again = capture();
    assertEquals(
      await main(["export", "--questions", q, "--out", out, "--rows-per-file", "100000"], again),
      0,
    );
    assertEquals(
      (await Array.fromAsync(Deno.readDir(join(out, "data")))).map((e) => e.name),
      ["train-00000-of-00001.parquet"],
    );
    assert(again.err.includes("a shard of an earlier export"), again.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export: bad input is one line naming the file and line; no --questions file is exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const q = join(dir, "q.jsonl");
    await Deno.writeTextFile(
      q,
      '{"id": "a", "question_type": "x"}\n{"id": "a", "question_type": "x"}\n',
    );
    const io = capture();
    assertEquals(await main(["export", "--questions", q, "--out", join(dir, "o")], io), 1);
    assert(io.err.includes(`${q}:2: id: expected a unique id (also on line 1)`), io.err);
    const io2 = capture();
    assertEquals(await main(["export", "--questions", join(dir, "no"), "--out", dir], io2), 1);
    const io3 = capture();
    assertEquals(await main(["export", "--format", "csv", "--questions", q, "--out", dir], io3), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
