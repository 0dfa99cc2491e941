/**
 * Publishing a question set as a Hugging Face dataset (`vlm3r export --format hf`): Parquet
 * shards under `data/` (written by hyparquet-writer) and a `README.md` dataset card whose YAML
 * header names the files (`configs` / `data_files`), the features, the split's size, and whose
 * text gives the counts per question type and the command and seed that generated them. The
 * folder loads as is with `datasets.load_dataset(folder)` and can be pushed to the Hub.
 *
 * The columns are inferred from the records (two passes over the file, bounded memory):
 * strings, integers (int64), numbers (float64), booleans and lists of those become typed
 * columns. A field that is text in some records and a number in others (`ground_truth`: a
 * letter or a word for multiple choice, a number for numerical questions; `options`: numbers
 * for VSTI numerical questions) is written twice: as text in its own column (numbers in their
 * shortest decimal form, as the released benchmarks write them) and as a number in
 * `<field>_number`, null where the record had text. Any other field (objects, nested lists:
 * route plans' anchors and path) is a string column holding JSON. Each file's key-value metadata
 * `vlm3r.columns` says how every column maps back to the record's field, so that
 * {@link recordFromRow} restores each record exactly.
 *
 * @module
 */

import { basename, join } from "node:path";
import { fileWriter, ParquetWriter } from "hyparquet-writer";
import { tempPathFor, writeFileAtomic } from "../io/atomic.ts";
import { DataError } from "../io/errors.ts";
import { readLines } from "../io/lines.ts";

/** How a column holds a record field. */
export type ColumnKind =
  | "string"
  | "int64"
  | "float64"
  | "bool"
  | "list<string>"
  | "list<int64>"
  | "list<float64>"
  /** Text of a field that mixes text and numbers (its twin `<field>_number` has the numbers). */
  | "text"
  | "list<text>"
  /** The numbers of a mixed field (null where the record had text). */
  | "number"
  | "list<number>"
  /** Any other value, as JSON text. */
  | "json";

/** One Parquet column and the record field it holds. */
export interface ColumnSpec {
  /** The column's name. */
  name: string;
  /** The record field. */
  field: string;
  kind: ColumnKind;
  /**
   * Whether every record has the field: a null cell is then a null value; otherwise a null cell
   * means the record lacks the field. (A field both absent and null somewhere is `json`.)
   */
  always: boolean;
}

/** What the first pass learns of a field. */
interface FieldStat {
  present: number;
  nulls: number;
  kinds: Set<string>;
}

/** The kind of one JSON value, for column inference. */
function valueKind(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return Number.isSafeInteger(v) ? "int" : "float";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) {
    if (v.length === 0) return "list:empty";
    const inner = new Set(v.map(valueKind));
    if (inner.size === 1 && inner.has("string")) return "list:string";
    if ([...inner].every((k) => k === "int")) return "list:int";
    if ([...inner].every((k) => k === "int" || k === "float")) return "list:float";
    if ([...inner].every((k) => k === "int" || k === "float" || k === "string")) {
      return "list:mixed";
    }
  }
  return "other";
}

const subset = (kinds: Set<string>, allowed: string[]) =>
  [...kinds].every((k) => allowed.includes(k));

/**
 * The columns for the fields seen (in first-seen order), from what the first pass counted.
 *
 * @example
 * ```ts
 * const stats = new Map([
 *   ["ground_truth", { present: 2, nulls: 0, kinds: new Set(["int", "string"]) }],
 *   ["options", { present: 2, nulls: 1, kinds: new Set(["list:string"]) }],
 * ]);
 * const cols = inferColumns(stats, 2);
 * if (cols.map((c) => `${c.name}:${c.kind}`).join() !== "ground_truth:text,ground_truth_number:number,options:list<string>") {
 *   throw new Error(cols.map((c) => c.name + c.kind).join());
 * }
 * ```
 */
export function inferColumns(stats: Map<string, FieldStat>, total: number): ColumnSpec[] {
  const names = new Set(stats.keys());
  const out: ColumnSpec[] = [];
  for (const [field, s] of stats) {
    const always = s.present === total;
    const kinds = s.kinds;
    const col = (kind: ColumnKind, name = field): ColumnSpec => ({ name, field, kind, always });
    const twin = `${field}_number`;
    if (!always && s.nulls > 0) out.push(col("json"));
    else if (kinds.size === 0) out.push(col("json"));
    else if (subset(kinds, ["string"])) out.push(col("string"));
    else if (subset(kinds, ["int"])) out.push(col("int64"));
    else if (subset(kinds, ["int", "float"])) out.push(col("float64"));
    else if (subset(kinds, ["bool"])) out.push(col("bool"));
    else if (subset(kinds, ["list:string", "list:empty"])) out.push(col("list<string>"));
    else if (subset(kinds, ["list:int", "list:empty"])) out.push(col("list<int64>"));
    else if (subset(kinds, ["list:int", "list:float", "list:empty"])) {
      out.push(col("list<float64>"));
    } else if (subset(kinds, ["string", "int", "float"]) && !names.has(twin)) {
      out.push(col("text"), col("number", twin));
    } else if (
      subset(kinds, ["list:string", "list:int", "list:float", "list:empty"]) && !names.has(twin)
    ) {
      out.push(col("list<text>"), col("list<number>", twin));
    } else out.push(col("json"));
  }
  return out;
}

/** A column's cell for a record. */
function cell(c: ColumnSpec, r: Record<string, unknown>): unknown {
  if (!Object.hasOwn(r, c.field)) return null;
  const v = r[c.field];
  switch (c.kind) {
    case "json":
      return JSON.stringify(v);
    case "int64":
      return v === null ? null : BigInt(v as number);
    case "list<int64>":
      return v === null ? null : (v as number[]).map((x) => BigInt(x));
    case "text":
      return v === null ? null : String(v);
    case "list<text>":
      return v === null ? null : (v as unknown[]).map(String);
    case "number":
      return typeof v === "number" ? v : null;
    case "list<number>":
      return Array.isArray(v) && v.some((x) => typeof x === "number") ? v : null;
    default:
      return v;
  }
}

/**
 * A record back from a row read by any Parquet reader (column name -> value; int64 as bigint
 * or number, lists as arrays), with the columns of the file's `vlm3r.columns` metadata.
 *
 * @example
 * ```ts
 * const columns = [
 *   { name: "ground_truth", field: "ground_truth", kind: "text" as const, always: true },
 *   { name: "ground_truth_number", field: "ground_truth", kind: "number" as const, always: true },
 *   { name: "extra", field: "extra", kind: "json" as const, always: false },
 * ];
 * const r = recordFromRow({ ground_truth: "3", ground_truth_number: 3, extra: null }, columns);
 * if (r.ground_truth !== 3 || "extra" in r) throw new Error(JSON.stringify(r));
 * ```
 */
export function recordFromRow(
  row: Record<string, unknown>,
  columns: readonly ColumnSpec[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    if (c.kind === "number" || c.kind === "list<number>") {
      if (v !== null && v !== undefined) {
        out[c.field] = c.kind === "number" ? Number(v) : [...(v as number[])].map(Number);
      }
      continue;
    }
    if (v === null || v === undefined) {
      if (c.always && !(c.field in out)) out[c.field] = null;
      continue;
    }
    if (c.field in out) continue; // The number twin already gave it.
    switch (c.kind) {
      case "json":
        out[c.field] = JSON.parse(v as string);
        break;
      case "int64":
        out[c.field] = Number(v);
        break;
      case "list<int64>":
      case "list<float64>":
        out[c.field] = [...(v as number[])].map(Number);
        break;
      case "list<string>":
      case "list<text>":
        out[c.field] = [...(v as string[])];
        break;
      default:
        out[c.field] = v;
    }
  }
  return out;
}

/** The Parquet schema elements of a column. */
function schemaOf(c: ColumnSpec): Record<string, unknown>[] {
  const leaf = (kind: string) =>
    kind === "int64"
      ? { type: "INT64" }
      : kind === "float64" || kind === "number"
      ? { type: "DOUBLE" }
      : kind === "bool"
      ? { type: "BOOLEAN" }
      : { type: "BYTE_ARRAY", converted_type: "UTF8" };
  const list = c.kind.match(/^list<(\w+)>$/);
  if (list) {
    const inner = list[1] === "text" ? "string" : list[1];
    return [
      { name: c.name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      { name: "element", repetition_type: "REQUIRED", ...leaf(inner) },
    ];
  }
  return [{ name: c.name, repetition_type: "OPTIONAL", ...leaf(c.kind) }];
}

/** The `datasets` feature of a column, as a card's YAML lines (indented under `features:`). */
function featureYaml(c: ColumnSpec): string[] {
  const dtype = (k: string) =>
    k === "int64"
      ? "int64"
      : k === "float64" || k === "number"
      ? "float64"
      : k === "bool"
      ? "bool"
      : "string";
  const list = c.kind.match(/^list<(\w+)>$/);
  return [
    `  - name: ${yamlString(c.name)}`,
    list ? `    sequence: ${dtype(list[1])}` : `    dtype: ${dtype(c.kind)}`,
  ];
}

/** A YAML scalar: plain when safe, else double-quoted (JSON's escaping is valid YAML). */
function yamlString(s: string): string {
  return /^[A-Za-z_][\w.-]*$/.test(s) ? s : JSON.stringify(s);
}

/** Options of {@link exportHf}. */
export interface HfExportOptions {
  /** The split's name (default `train`). */
  split?: string;
  /** Rows per Parquet file (default 250,000). */
  rowsPerFile?: number;
  /** Rows per row group (default 10,000). */
  rowGroup?: number;
  /** The dataset's title in the card (default: the questions file's name). */
  name?: string;
  /** How the questions were made (`<questions>.gen.json`, written by gen and merge). */
  provenance?: Record<string, unknown>;
  /** The vlm3r version, for the card. */
  version?: string;
  /** Called with the rows written so far. */
  onProgress?: (rows: number, total: number) => void;
}

/** What {@link exportHf} wrote. */
export interface HfExportSummary {
  rows: number;
  files: string[];
  card: string;
  columns: ColumnSpec[];
  /** Questions per `question_type`, in first-seen order. */
  counts: Map<string, number>;
  /** Earlier shards of this split that this export replaced (removed). */
  removed: string[];
}

/** The records of a JSON lines question file, with their line numbers. */
async function* records(
  path: string,
): AsyncGenerator<{ r: Record<string, unknown>; line: number }> {
  for await (const l of readLines(path)) {
    const t = l.text.trim();
    if (t === "") continue;
    let r: unknown;
    try {
      r = JSON.parse(t);
    } catch (e) {
      throw new DataError(
        `${path}:${l.number}`,
        "line",
        "one JSON question record",
        (e as Error).message.split("\n")[0],
      );
    }
    if (typeof r !== "object" || r === null || Array.isArray(r)) {
      throw new DataError(`${path}:${l.number}`, "record", "a JSON object");
    }
    yield { r: r as Record<string, unknown>, line: l.number };
  }
}

/**
 * Writes `questions` (vlm3r's JSON lines, as `gen` and `merge` write them) as a Hugging Face
 * dataset folder `outDir`: `data/<split>-NNNNN-of-MMMMM.parquet` and `README.md`. Each file is
 * written to a temporary name and renamed into place; earlier shards of the split that this
 * export does not overwrite are removed (a folder holding other files, such as a clone of the
 * dataset's repository, keeps them).
 *
 * @example
 * ```ts ignore
 * await exportHf("questions.jsonl", "hf/vlm3r-vsi", { split: "test" });
 * ```
 */
export async function exportHf(
  questions: string,
  outDir: string,
  options: HfExportOptions = {},
): Promise<HfExportSummary> {
  const split = options.split ?? "train";
  const rowsPerFile = options.rowsPerFile ?? 250_000;
  const rowGroup = Math.min(options.rowGroup ?? 10_000, rowsPerFile);
  // First pass: count and type every field.
  const stats = new Map<string, FieldStat>();
  const counts = new Map<string, number>();
  const ids = new Map<string, number>();
  let total = 0;
  for await (const { r, line } of records(questions)) {
    total++;
    if (typeof r.question_type !== "string") {
      throw new DataError(`${questions}:${line}`, "question_type", "a string");
    }
    if (typeof r.id === "string") {
      if (ids.has(r.id)) {
        throw new DataError(
          `${questions}:${line}`,
          "id",
          `a unique id (also on line ${ids.get(r.id)})`,
        );
      }
      ids.set(r.id, line);
    }
    counts.set(r.question_type, (counts.get(r.question_type) ?? 0) + 1);
    for (const [k, v] of Object.entries(r)) {
      let s = stats.get(k);
      if (!s) stats.set(k, s = { present: 0, nulls: 0, kinds: new Set() });
      s.present++;
      const kind = valueKind(v);
      if (kind === "null") s.nulls++;
      else s.kinds.add(kind);
    }
  }
  ids.clear();
  if (total === 0) throw new DataError(questions, "content", "at least one question record");
  const columns = inferColumns(stats, total);
  const schema = [
    { name: "root", num_children: columns.length },
    ...columns.flatMap(schemaOf),
  ];
  const fileCount = Math.ceil(total / rowsPerFile);
  const pad = (n: number) => String(n).padStart(5, "0");
  const dataDir = join(outDir, "data");
  await Deno.mkdir(dataDir, { recursive: true });
  const files: string[] = [];
  const kv = [
    { key: "vlm3r.columns", value: JSON.stringify(columns) },
    { key: "vlm3r.source", value: basename(questions) },
  ];

  // Second pass: the rows, a row group at a time.
  let writer: ParquetWriter | undefined;
  let temp = "", target = "";
  let inFile = 0, written = 0;
  let group: Record<string, unknown>[] = [];
  const flushGroup = async () => {
    if (!group.length) return;
    const columnData = columns.map((c) => ({ name: c.name, data: group.map((r) => cell(c, r)) }));
    await writer!.write({ columnData, rowGroupSize: group.length });
    written += group.length;
    group = [];
    options.onProgress?.(written, total);
  };
  const closeFile = async () => {
    await flushGroup();
    if (!writer) return;
    await writer.finish();
    await Deno.rename(temp, target);
    files.push(target);
    writer = undefined;
  };
  try {
    for await (const { r } of records(questions)) {
      if (!writer) {
        target = join(dataDir, `${split}-${pad(files.length)}-of-${pad(fileCount)}.parquet`);
        temp = tempPathFor(target);
        writer = new ParquetWriter({
          writer: fileWriter(temp),
          schema: schema as unknown as ConstructorParameters<typeof ParquetWriter>[0]["schema"],
          kvMetadata: kv,
          createdBy: `vlm3r ${options.version ?? ""}`.trim(),
        });
        inFile = 0;
      }
      group.push(r);
      inFile++;
      if (group.length >= rowGroup) await flushGroup();
      if (inFile >= rowsPerFile) await closeFile();
    }
    await closeFile();
  } catch (e) {
    if (temp) await Deno.remove(temp).catch(() => {});
    throw e;
  }

  // Shards of an earlier export of this split that were not overwritten.
  const removed: string[] = [];
  const mine = new Set(files.map((f) => basename(f)));
  const pattern = new RegExp(
    `^${split.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d{5}-of-\\d{5}\\.parquet$`,
  );
  for await (const e of Deno.readDir(dataDir)) {
    if (e.isFile && pattern.test(e.name) && !mine.has(e.name)) {
      await Deno.remove(join(dataDir, e.name));
      removed.push(join(dataDir, e.name));
    }
  }

  const card = join(outDir, "README.md");
  await writeFileAtomic(
    card,
    datasetCard({ questions, split, total, columns, counts, files, ...options }),
  );
  return { rows: written, files, card, columns, counts, removed };
}

/** The dataset card: YAML header for the Hub and `datasets`, then the description. */
function datasetCard(o: {
  questions: string;
  split: string;
  total: number;
  columns: ColumnSpec[];
  counts: Map<string, number>;
  files: string[];
  name?: string;
  provenance?: Record<string, unknown>;
  version?: string;
}): string {
  const p = o.provenance;
  const title = o.name ?? basename(o.questions).replace(/\.jsonl?$/, "");
  const lines = [
    "---",
    `pretty_name: ${JSON.stringify(title)}`,
    "task_categories:",
    "- visual-question-answering",
    "tags:",
    "- spatial-reasoning",
    "- 3d",
    "- video",
    "- vlm3r",
    "configs:",
    "- config_name: default",
    "  data_files:",
    `  - split: ${yamlString(o.split)}`,
    `    path: ${JSON.stringify(`data/${o.split}-*.parquet`)}`,
    "dataset_info:",
    "  features:",
    ...o.columns.flatMap(featureYaml),
    "  splits:",
    `  - name: ${yamlString(o.split)}`,
    `    num_examples: ${o.total}`,
    "---",
    "",
    `# ${title}`,
    "",
    `Spatial questions about indoor scans, generated by vlm3r ` +
    `${o.version ? `${o.version} ` : ""}from scene metadata (VSI-Bench and VSTI-Bench question ` +
    `types): ${o.total} questions in ${o.files.length} Parquet file` +
    `${o.files.length === 1 ? "" : "s"}, split \`${o.split}\`.`,
    "",
    "```python",
    "from datasets import load_dataset",
    `ds = load_dataset("path/to/this/folder", split=${JSON.stringify(o.split)})`,
    "```",
    "",
    "## Generation",
    "",
  ];
  if (p) {
    lines.push(
      `- Command: \`${String(p.command)}\``,
      `- Seed: \`${String(p.seed)}\` (same seed and metadata, same bytes)`,
      ...(p.tasks ? [`- Tasks: ${(p.tasks as string[]).join(", ")}`] : []),
      ...(p.distance ? [`- Distances: ${String(p.distance)}`] : []),
      ...(p.input_sha256
        ? [`- Input metadata (SHA-256 of the scenes): \`${p.input_sha256}\``]
        : []),
      ...(p.scenes !== undefined ? [`- Scenes: ${p.scenes}`] : []),
    );
  } else {
    lines.push(
      `- Command and seed: unknown (no \`${basename(o.questions)}.gen.json\` beside the ` +
        "questions; vlm3r gen and vlm3r merge write one)",
    );
  }
  lines.push(
    `- Source file: \`${basename(o.questions)}\``,
    "",
    "## Questions per type",
    "",
    "| question_type | questions |",
    "|---|---:|",
    ...[...o.counts].map(([t, n]) => `| ${t} | ${n} |`),
    `| **total** | ${o.total} |`,
    "",
    "## Fields",
    "",
    "| column | type | holds |",
    "|---|---|---|",
    ...o.columns.map((c) => `| ${c.name} | ${c.kind} | ${describeColumn(c)} |`),
    "",
    "Each Parquet file's key-value metadata `vlm3r.columns` maps the columns back to the " +
      "record fields. The scenes come from ScanNet, ScanNet++ and ARKitScenes, each under its " +
      "own terms of use: set the card's `license` accordingly before publishing.",
    "",
  );
  return lines.join("\n");
}

function describeColumn(c: ColumnSpec): string {
  const absent = c.always ? "" : " (null where a record has no such field)";
  switch (c.kind) {
    case "text":
    case "list<text>":
      return `\`${c.field}\` as text: numbers in their shortest decimal form; the numbers ` +
        `themselves are in \`${c.field}_number\`${absent}`;
    case "number":
    case "list<number>":
      return `\`${c.field}\` where it is a number (null where it is text)`;
    case "json":
      return `\`${c.field}\` as JSON text${absent}`;
    default:
      return `\`${c.field}\`${absent}`;
  }
}
