/**
 * Reading question sets and model predictions.
 *
 * Questions: vlm3r's own records (`id`, `dataset`, `scene_name`, `video_path`, `question_type`,
 * `question`, `options` as `"A. x"`, `ground_truth`, `mc_answer`, `frame_indices`) or the
 * released benchmark records (VSI-Bench: `ground_truth` is the letter of a multiple-choice
 * question and there is no `mc_answer`; VSTI-Bench: `mc_answer`), as JSON lines or one JSON
 * array.
 *
 * Predictions: JSON lines `{"id": ..., "prediction": "..."}`, or lmms-eval's `--log_samples`
 * output (JSON lines, or one JSON file with a `logs` array) whose samples carry the question in
 * `doc` and the answer in `filtered_resps` / `resps`.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import { fileHead, readLines } from "../io/lines.ts";

/** One benchmark question, as scoring and prompting need it. */
export interface EvalQuestion {
  /** The record's `id`, as a string (VSI-Bench ids are integers). */
  id: string;
  /** The `id` as the record wrote it, string or integer (answers are written back with it). */
  rawId?: string | number;
  questionType: string;
  question: string;
  /** Options as written, `"A. chair"`; empty for numerical questions. */
  options: string[];
  /** `ground_truth` as the record holds it: a number, a numeric string, a letter or a text. */
  groundTruth: string | number;
  /** `mc_answer` when the record has one. */
  mcAnswer?: string;
  dataset?: string;
  sceneName?: string;
  videoPath?: string;
  frameIndices?: number[];
  /** Where the record is: 1-based line (JSON lines) or array position. */
  line: number;
}

/** What a question set file holds. */
export interface QuestionSet {
  file: string;
  questions: EvalQuestion[];
  /** 1-based lines of the file that are not valid UTF-8 (read with U+FFFD for the bad bytes). */
  invalidUtf8Lines?: number[];
}

/** One model answer. */
export interface Prediction {
  id: string;
  /** The raw model output; `null` when the file says there is none. */
  prediction: string | null;
  line: number;
}

/** A predictions file, read and matched against a question set. */
export interface PredictionSet {
  file: string;
  format: "jsonl" | "lmms-eval";
  /** Answers by question id. */
  byId: Map<string, Prediction>;
  /** Ids in the file that are not in the question set. */
  unknownIds: string[];
  /** 1-based lines of the file that are not valid UTF-8 (read with U+FFFD for the bad bytes). */
  invalidUtf8Lines?: number[];
}

/**
 * A file's text as UTF-8, with the 1-based lines that are not valid UTF-8 (their bad bytes
 * become U+FFFD, as a lenient decoder reads them), so that the caller can say where.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/p.jsonl`, Uint8Array.of(0x61, 0x0a, 0x62, 0xe9, 0x0a, 0x63));
 * const { text, invalidLines } = await readUtf8(`${dir}/p.jsonl`);
 * if (text !== "a\nb\ufffd\nc" || invalidLines.join() !== "2") throw new Error(invalidLines.join());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readUtf8(path: string): Promise<{ text: string; invalidLines: number[] }> {
  const bytes = await Deno.readFile(path);
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), invalidLines: [] };
  } catch {
    // Find the lines: a newline byte never occurs inside a UTF-8 sequence.
    const strict = new TextDecoder("utf-8", { fatal: true });
    const invalidLines: number[] = [];
    for (let start = 0, line = 1; start <= bytes.length; line++) {
      let end = bytes.indexOf(0x0a, start);
      if (end < 0) end = bytes.length;
      try {
        strict.decode(bytes.subarray(start, end));
      } catch {
        invalidLines.push(line);
      }
      start = end + 1;
    }
    return { text: new TextDecoder().decode(bytes), invalidLines };
  }
}

type Json = Record<string, unknown>;

/** Parses JSON lines or a JSON document into records with their positions. */
function parseRecords(text: string, file: string): { value: unknown; line: number }[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("[") || (trimmed.startsWith("{") && !firstLineIsJson(trimmed))) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      if (trimmed.startsWith("[")) {
        throw new DataError(file, "content", "a JSON array or JSON lines", errText(e));
      }
      // Neither a JSON document nor a valid first line: report the first line.
      const first = text.split("\n").findIndex((l) => l.trim() !== "");
      throw new DataError(`${file}:${first + 1}`, "line", "one JSON object", errText(e));
    }
    const list = Array.isArray(doc)
      ? doc
      : Array.isArray((doc as Json).logs)
      ? (doc as Json).logs as unknown[]
      : undefined;
    if (!list) throw new DataError(file, "content", "a JSON array or an object with 'logs'");
    return list.map((value, i) => ({ value, line: i + 1 }));
  }
  const out: { value: unknown; line: number }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l === "") continue;
    try {
      out.push({ value: JSON.parse(l), line: i + 1 });
    } catch (e) {
      throw new DataError(`${file}:${i + 1}`, "line", "one JSON object", errText(e));
    }
  }
  // A one-line {"logs": [...]} file (older lmms-eval) or JSON array.
  if (out.length === 1) {
    const v = out[0].value;
    const list = Array.isArray(v) ? v : Array.isArray((v as Json)?.logs) ? (v as Json).logs : null;
    if (Array.isArray(list)) return list.map((value, i) => ({ value, line: i + 1 }));
  }
  return out;
}

function firstLineIsJson(text: string): boolean {
  const nl = text.indexOf("\n");
  try {
    JSON.parse(nl < 0 ? text : text.slice(0, nl));
    return true;
  } catch {
    return false;
  }
}

function errText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + "..." : s;
}

function idOf(v: unknown): string | undefined {
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number" && Number.isInteger(v)) return String(v);
  return undefined;
}

/** Options of reading questions. */
export interface QuestionReadOptions {
  /**
   * Keep only what scoring needs (id, type, options, answers, line): the question text, video
   * and frame fields are left out, for scoring question sets of millions.
   */
  lean?: boolean;
}

/**
 * Strings a lean read keeps once however often they occur (question types, option texts,
 * answers); cleared when it grows past a million, so that it stays bounded.
 */
const interned = new Map<string, string>();
function intern(s: string): string {
  let v = interned.get(s);
  if (v === undefined) {
    if (interned.size >= 1_000_000) interned.clear();
    interned.set(s, v = s);
  }
  return v;
}

/**
 * One question record checked and read (`seen`: the ids so far, with their lines).
 */
function questionFromRecord(
  value: unknown,
  line: number,
  file: string,
  seen: Map<string, number>,
  lean = false,
): EvalQuestion {
  const where = `${file}:${line}`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DataError(where, "record", "a JSON object", describe(value));
  }
  const r = value as Json;
  const id = idOf(r.id);
  if (id === undefined) throw new DataError(where, "id", "a string or integer", describe(r.id));
  if (seen.has(id)) {
    throw new DataError(where, "id", `a unique id (${id} is also on line ${seen.get(id)})`);
  }
  seen.set(id, line);
  if (typeof r.question_type !== "string") {
    throw new DataError(where, "question_type", "a string", describe(r.question_type));
  }
  const gt = r.ground_truth;
  if (typeof gt !== "string" && typeof gt !== "number") {
    throw new DataError(where, "ground_truth", "a string or number", describe(gt));
  }
  const options = r.options ?? [];
  if (!Array.isArray(options) || options.some((o) => typeof o !== "string")) {
    throw new DataError(where, "options", "a list of strings", describe(r.options));
  }
  if (r.mc_answer !== undefined && r.mc_answer !== null && typeof r.mc_answer !== "string") {
    throw new DataError(where, "mc_answer", "a letter", describe(r.mc_answer));
  }
  if (lean) {
    // Options, answers and letters repeat across a set: one string each.
    const q: EvalQuestion = {
      id,
      questionType: intern(r.question_type),
      question: "",
      options: (options as string[]).map(intern),
      groundTruth: typeof gt === "string" ? intern(gt) : gt,
      line,
    };
    if (typeof r.mc_answer === "string") q.mcAnswer = intern(r.mc_answer);
    return q;
  }
  const q: EvalQuestion = {
    id,
    rawId: r.id as string | number,
    questionType: r.question_type,
    question: typeof r.question === "string" ? r.question : "",
    options: options as string[],
    groundTruth: gt,
    line,
  };
  if (typeof r.mc_answer === "string") q.mcAnswer = r.mc_answer;
  if (typeof r.dataset === "string") q.dataset = r.dataset;
  if (typeof r.scene_name === "string") q.sceneName = r.scene_name;
  if (typeof r.video_path === "string") q.videoPath = r.video_path;
  if (Array.isArray(r.frame_indices)) q.frameIndices = r.frame_indices as number[];
  return q;
}

/**
 * Parses a question set (JSON lines or a JSON array). Every record needs `id` (string or
 * integer, unique), `question_type` and `ground_truth`; `options` is a list of strings or
 * absent/null. A malformed record stops the read with one line naming file, line and field.
 *
 * @example
 * ```ts
 * const set = parseQuestions(
 *   '{"id": 1, "question_type": "object_counting", "question": "How many chairs?", "ground_truth": "4"}\n',
 *   "q.jsonl",
 * );
 * if (set.questions[0].id !== "1" || set.questions[0].options.length !== 0) throw new Error();
 * ```
 */
export function parseQuestions(text: string, file: string): QuestionSet {
  const seen = new Map<string, number>();
  const questions = parseRecords(text, file).map(({ value, line }) =>
    questionFromRecord(value, line, file, seen)
  );
  return { file, questions };
}

/**
 * The records of a file, as {@link parseRecords} reads its text, but JSON lines are read a
 * line at a time (a file of any size; one JSON document is read whole). Lines that are not
 * valid UTF-8 are added to `invalid`.
 */
async function* streamRecords(
  path: string,
  invalid: number[],
): AsyncGenerator<{ value: unknown; line: number }> {
  const head = await fileHead(path, 1);
  let whole = head === "[";
  if (head === "{") {
    for await (const l of readLines(path)) {
      if (l.text.trim() === "") continue;
      whole = !isJson(l.text);
      break;
    }
  }
  if (whole) {
    const { text, invalidLines } = await readUtf8(path);
    invalid.push(...invalidLines);
    yield* parseRecords(text, path);
    return;
  }
  let first: { value: unknown; line: number } | undefined;
  let count = 0;
  for await (const l of readLines(path)) {
    if (l.invalidUtf8) invalid.push(l.number);
    const t = l.text.trim();
    if (t === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch (e) {
      throw new DataError(`${path}:${l.number}`, "line", "one JSON object", errText(e));
    }
    if (++count === 1) {
      first = { value, line: l.number };
      continue;
    }
    if (count === 2) yield first!;
    yield { value, line: l.number };
  }
  if (count === 1) {
    // A one-line {"logs": [...]} file (older lmms-eval) or JSON array.
    const v = first!.value;
    const list = Array.isArray(v) ? v : Array.isArray((v as Json)?.logs) ? (v as Json).logs : null;
    if (Array.isArray(list)) {
      yield* list.map((value, i) => ({ value, line: i + 1 }));
    } else yield first!;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads a question set file (lines that are not valid UTF-8 in `invalidUtf8Lines`). JSON lines
 * are read a line at a time; with `lean`, only what scoring needs is kept of each record.
 */
export async function readQuestions(
  path: string,
  options: QuestionReadOptions = {},
): Promise<QuestionSet> {
  const seen = new Map<string, number>();
  const invalid: number[] = [];
  const questions: EvalQuestion[] = [];
  for await (const { value, line } of streamRecords(path, invalid)) {
    questions.push(questionFromRecord(value, line, path, seen, options.lean));
  }
  const set: QuestionSet = { file: path, questions };
  if (invalid.length) set.invalidUtf8Lines = invalid;
  return set;
}

/** The first string in a possibly nested list (lmms-eval nests responses per filter). */
function firstString(v: unknown): string | undefined {
  while (Array.isArray(v)) v = v[0];
  return typeof v === "string" ? v : undefined;
}

/** An lmms-eval sample's question id: `doc.id`, else the `id` of a per-task score record. */
function sampleId(r: Json): string | undefined {
  const doc = r.doc as Json | undefined;
  const fromDoc = doc && typeof doc === "object" ? idOf(doc.id) : undefined;
  if (fromDoc !== undefined) return fromDoc;
  for (const v of Object.values(r)) {
    if (v && typeof v === "object" && !Array.isArray(v) && "question_type" in v) {
      const id = idOf((v as Json).id);
      if (id !== undefined) return id;
    }
  }
  return undefined;
}

/** Reads predictions one record at a time, calling `onAnswer` for each. */
class PredictionReader {
  format: PredictionSet["format"] | undefined;

  constructor(
    readonly file: string,
    readonly questionIds: (position: number) => string | undefined,
  ) {}

  /** One record: its id and answer. */
  read(value: unknown, line: number): { id: string; prediction: string | null } {
    const where = `${this.file}:${line}`;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new DataError(where, "record", "a JSON object", describe(value));
    }
    const r = value as Json;
    const lmms = "resps" in r || "filtered_resps" in r;
    if (this.format !== undefined && this.format !== (lmms ? "lmms-eval" : "jsonl")) {
      throw new DataError(where, "record", "the same format as the lines before it");
    }
    this.format = lmms ? "lmms-eval" : "jsonl";
    let id: string | undefined, prediction: string | null;
    if (lmms) {
      id = sampleId(r);
      if (id === undefined && typeof r.doc_id === "number" && Number.isInteger(r.doc_id)) {
        id = this.questionIds(r.doc_id) ?? `doc_id ${r.doc_id}`;
      }
      if (id === undefined) throw new DataError(where, "doc.id", "the question id or a doc_id");
      const s = firstString(r.filtered_resps) ?? firstString(r.resps);
      if (s === undefined) {
        throw new DataError(
          where,
          "filtered_resps",
          "a response string",
          describe(r.filtered_resps),
        );
      }
      prediction = s;
    } else {
      id = idOf(r.id);
      if (id === undefined) throw new DataError(where, "id", "a string or integer", describe(r.id));
      const p = r.prediction;
      if (p !== null && typeof p !== "string" && typeof p !== "number") {
        throw new DataError(where, "prediction", "a string, a number or null", describe(p));
      }
      prediction = p === null ? null : String(p);
    }
    return { id, prediction };
  }

  duplicate(id: string, line: number, firstLine: number): DataError {
    return new DataError(
      `${this.file}:${line}`,
      "id",
      `one answer per question (${id} is also on line ${firstLine})`,
    );
  }
}

/**
 * Parses predictions and matches them to `questions`. Recognises `{id, prediction}` lines and
 * lmms-eval samples (`filtered_resps`/`resps`; the id from `doc.id`, or else `doc_id` as the
 * position in the question set, which holds when lmms-eval did not shuffle). Duplicate ids are
 * an error.
 *
 * @example
 * ```ts
 * const qs = parseQuestions('{"id": 7, "question_type": "route_planning", "ground_truth": "B"}', "q.jsonl");
 * const lmms = '{"doc_id": 0, "doc": {"id": 7}, "resps": [["B."]], "filtered_resps": ["B."]}';
 * const p = parsePredictions(lmms, "samples.jsonl", qs.questions);
 * if (p.format !== "lmms-eval" || p.byId.get("7")?.prediction !== "B.") throw new Error();
 * ```
 */
export function parsePredictions(
  text: string,
  file: string,
  questions: readonly EvalQuestion[],
): PredictionSet {
  const known = new Set(questions.map((q) => q.id));
  const byId = new Map<string, Prediction>();
  const unknownIds: string[] = [];
  const reader = new PredictionReader(file, (i) => questions[i]?.id);
  for (const { value, line } of parseRecords(text, file)) {
    const { id, prediction } = reader.read(value, line);
    if (byId.has(id)) throw reader.duplicate(id, line, byId.get(id)!.line);
    byId.set(id, { id, prediction, line });
    if (!known.has(id)) unknownIds.push(id);
  }
  return { file, format: reader.format ?? "jsonl", byId, unknownIds };
}

/**
 * Reads a predictions file and matches it to `questions` (lines that are not valid UTF-8 in
 * `invalidUtf8Lines`). JSON lines are read a line at a time.
 */
export async function readPredictions(
  path: string,
  questions: readonly EvalQuestion[],
): Promise<PredictionSet> {
  const known = new Set(questions.map((q) => q.id));
  const byId = new Map<string, Prediction>();
  const unknownIds: string[] = [];
  const invalid: number[] = [];
  const reader = new PredictionReader(path, (i) => questions[i]?.id);
  for await (const { value, line } of streamRecords(path, invalid)) {
    const { id, prediction } = reader.read(value, line);
    if (byId.has(id)) throw reader.duplicate(id, line, byId.get(id)!.line);
    byId.set(id, { id, prediction, line });
    if (!known.has(id)) unknownIds.push(id);
  }
  const set: PredictionSet = { file: path, format: reader.format ?? "jsonl", byId, unknownIds };
  if (invalid.length) set.invalidUtf8Lines = invalid;
  return set;
}

/**
 * The records of a question file one at a time, each checked as {@link readQuestions} checks
 * it but for unique ids (the caller's: a stream keeps nothing per question). With `lean`, only
 * what scoring needs is kept of each (see {@link QuestionReadOptions}). Lines that are not valid
 * UTF-8 are added to `invalid`.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/q.jsonl`, '{"id": 1, "question_type": "t", "ground_truth": 2}\n');
 * for await (const q of streamQuestions(`${dir}/q.jsonl`)) if (q.id !== "1") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function* streamQuestions(
  path: string,
  options: QuestionReadOptions & { invalid?: number[] } = {},
): AsyncGenerator<EvalQuestion> {
  const unchecked = { has: () => false, get: () => undefined, set() {} };
  for await (const { value, line } of streamRecords(path, options.invalid ?? [])) {
    yield questionFromRecord(
      value,
      line,
      path,
      unchecked as unknown as Map<string, number>,
      options.lean,
    );
  }
}

/**
 * The answers of a predictions file one at a time (`{id, prediction}` lines or lmms-eval
 * samples; see {@link parsePredictions}), without the duplicate check (the caller's). `idAt`
 * gives the id of the question at a position (lmms-eval's `doc_id`).
 */
export async function* streamPredictions(
  path: string,
  idAt: (position: number) => string | undefined,
  invalid: number[] = [],
  onFormat?: (format: PredictionSet["format"]) => void,
): AsyncGenerator<Prediction> {
  const reader = new PredictionReader(path, idAt);
  for await (const { value, line } of streamRecords(path, invalid)) {
    const { id, prediction } = reader.read(value, line);
    onFormat?.(reader.format!);
    yield { id, prediction, line };
  }
}

/** The error of a second answer to one question (on `line`; the first on `firstLine`). */
export function duplicateAnswer(
  file: string,
  id: string,
  line: number,
  firstLine: number,
): DataError {
  return new PredictionReader(file, () => undefined).duplicate(id, line, firstLine);
}

/** The error of a question id given twice (on `line`; first on `firstLine`). */
export function duplicateQuestion(
  file: string,
  id: string,
  line: number,
  firstLine: number,
): DataError {
  return new DataError(
    `${file}:${line}`,
    "id",
    `a unique id (${id} is also on line ${firstLine})`,
  );
}
