/**
 * Summaries of a question set (`vlm3r gen --stats`): counts per question type, the answer
 * letter distribution, ground-truth histograms, and warnings about skewed letters.
 *
 * @module
 */

import type { QaRecord } from "./types.ts";

/** Statistics of one question type (one `question_type`, or one variant of it). */
export interface TypeStats {
  /** `question_type`, with the option count when a type has several (`camera_movement_direction/2`). */
  key: string;
  count: number;
  /** Answer letter -> count, letters A.. up to the option count (multiple choice only). */
  letters: Record<string, number>;
  /** Numerical answers: min, median, max and a 10-bin histogram; text answers: top counts. */
  numeric?: { min: number; median: number; max: number; bins: number[]; values?: ValueHistogram };
  answers?: [string, number][];
}

/** A letter's share may stray this far from an even split before we warn (percentage points). */
export const SKEW_TOLERANCE = 0.05;

/** Questions of a type needed before a skew warning means anything. */
export const SKEW_MIN_QUESTIONS = 20;

/**
 * Per-type statistics, in the order of `order` (question types), then of first appearance.
 *
 * @example
 * ```ts
 * const r = (gt: number | string, mc: string | null, options: string[] | null) => ({
 *   id: "", dataset: "scannet", scene_name: "s", video_path: "", question_type: typeof gt === "number" ? "n" : "m",
 *   question: "", options, ground_truth: gt, mc_answer: mc });
 * const s = questionStats([r(1, null, null), r(3, null, null), r("left", "A", ["A. left", "B. right"])]);
 * if (s[0].numeric!.max !== 3 || s[1].letters.A !== 1 || s[1].letters.B !== 0) throw new Error();
 * ```
 */
export function questionStats(
  records: readonly QaRecord[],
  order: readonly string[] = [],
): TypeStats[] {
  const optionCounts = new Map<string, Set<number>>();
  for (const r of records) {
    const set = optionCounts.get(r.question_type) ?? new Set();
    set.add(r.options?.length ?? 0);
    optionCounts.set(r.question_type, set);
  }
  const groups = new Map<string, QaRecord[]>();
  const rank = (t: string) => (order.includes(t) ? order.indexOf(t) : order.length);
  const sorted = [...records].sort((a, b) => rank(a.question_type) - rank(b.question_type));
  for (const r of sorted) {
    const k = optionCounts.get(r.question_type)!.size > 1
      ? `${r.question_type}/${r.options?.length ?? 0}`
      : r.question_type;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups].map(([key, rs]) => {
    const letters: Record<string, number> = {};
    const k = rs[0].options?.length ?? 0;
    if (rs.some((r) => r.mc_answer)) {
      for (let i = 0; i < k; i++) letters["ABCDEF"[i]] = 0;
      for (const r of rs) if (r.mc_answer) letters[r.mc_answer] = (letters[r.mc_answer] ?? 0) + 1;
    }
    const stats: TypeStats = { key, count: rs.length, letters };
    if (rs.every((r) => typeof r.ground_truth === "number")) {
      const v = rs.map((r) => r.ground_truth as number).sort((a, b) => a - b);
      const min = v[0], max = v[v.length - 1];
      const bins = new Array(10).fill(0);
      for (const x of v) {
        bins[max === min ? 0 : Math.min(9, Math.floor((x - min) / (max - min) * 10))]++;
      }
      stats.numeric = { min, median: v[Math.floor(v.length / 2)], max, bins };
      const values = valueHistogram(v);
      if (values) stats.numeric.values = values;
    } else {
      const counts = new Map<string, number>();
      for (const r of rs) {
        counts.set(String(r.ground_truth), (counts.get(String(r.ground_truth)) ?? 0) + 1);
      }
      stats.answers = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    }
    return stats;
  });
}

/**
 * Warnings for types whose answer letters are unevenly used: some letter's share more than
 * {@link SKEW_TOLERANCE} from `1 / options`, with at least {@link SKEW_MIN_QUESTIONS} questions.
 *
 * @example
 * ```ts
 * const skewed = { key: "t", count: 40, letters: { A: 30, B: 10 } };
 * if (skewWarnings([skewed]).length !== 1) throw new Error();
 * if (skewWarnings([{ key: "t", count: 40, letters: { A: 20, B: 20 } }]).length !== 0) throw new Error();
 * ```
 */
export function skewWarnings(stats: readonly TypeStats[]): string[] {
  const out: string[] = [];
  for (const s of stats) {
    const entries = Object.entries(s.letters);
    const n = entries.reduce((a, [, c]) => a + c, 0);
    if (entries.length < 2 || n < SKEW_MIN_QUESTIONS) continue;
    const even = 1 / entries.length;
    const worst = entries.reduce((w, e) =>
      Math.abs(e[1] / n - even) > Math.abs(w[1] / n - even) ? e : w
    );
    if (Math.abs(worst[1] / n - even) > SKEW_TOLERANCE) {
      out.push(
        `${s.key}: answer letters skewed (${entries.map(([l, c]) => `${l} ${c}`).join(", ")}; ` +
          `${worst[0]} has ${(100 * worst[1] / n).toFixed(0)}%, even is ${
            (100 * even).toFixed(0)
          }%)`,
      );
    }
  }
  return out;
}

const BARS = " ▁▂▃▄▅▆▇█";

/**
 * The statistics as text lines (a table, then per-type histograms).
 *
 * @example
 * ```ts
 * const lines = formatStats([{ key: "object_counting", count: 2, letters: {}, numeric: { min: 2, median: 3, max: 3, bins: [1, 0, 0, 0, 0, 0, 0, 0, 0, 1] } }]);
 * if (!lines.some((l) => l.startsWith("object_counting"))) throw new Error(lines.join("\n"));
 * ```
 */
export function formatStats(stats: readonly TypeStats[]): string[] {
  const width = Math.max(13, ...stats.map((s) => s.key.length)) + 2;
  const lines = [`${"question type".padEnd(width)}${"count".padStart(7)}  letters / answers`];
  for (const s of stats) {
    const letters = Object.entries(s.letters).map(([l, c]) => `${l} ${c}`).join("  ");
    let histogram = "";
    if (s.numeric) {
      const top = Math.max(...s.numeric.bins);
      const bars = s.numeric.bins.map((b) =>
        BARS[b === 0 ? 0 : Math.max(1, Math.round(b / top * 8))]
      ).join("");
      histogram =
        `min ${s.numeric.min}  median ${s.numeric.median}  max ${s.numeric.max}  |${bars}|`;
    }
    lines.push(`${s.key.padEnd(width)}${String(s.count).padStart(7)}  ${letters || histogram}`);
    if (letters && histogram) lines.push(`${"".padEnd(width + 9)}${histogram}`);
    const values = s.numeric?.values;
    if (values) {
      const top = Math.max(...values.counts);
      const bars = values.counts.map((c) =>
        BARS[c === 0 ? 0 : Math.max(1, Math.round(c / top * 8))]
      )
        .join("");
      const holes = valueHoles(values);
      lines.push(
        `${"".padEnd(width + 9)}every ${values.step}: |${bars}|` +
          (holes.length === 0
            ? ""
            : `  none at ${holes.slice(0, 8).join(", ")}${holes.length > 8 ? ", ..." : ""}`),
      );
    }
    if (s.answers && Object.keys(s.letters).length > 0) {
      const shown = s.answers.slice(0, 6).map(([a, c]) => `${a} ${c}`).join(", ");
      lines.push(`${"".padEnd(width + 9)}answers: ${shown}${s.answers.length > 6 ? ", ..." : ""}`);
    }
  }
  const total = stats.reduce((a, s) => a + s.count, 0);
  lines.push(`${"total".padEnd(width)}${String(total).padStart(7)}`);
  return lines;
}

/** Counts of numerical answers on their own grid (`start`, `start + step`, ...). */
export interface ValueHistogram {
  start: number;
  step: number;
  counts: number[];
}

/** Cells a value histogram may have before it says nothing a 10-bin one does not. */
const MAX_VALUE_CELLS = 80;

/**
 * Answers counted value by value at their resolution (whole numbers, tenths or hundredths),
 * from the smallest to the largest: a value never answered shows as a hole. Undefined when the
 * answers are finer or span more than 80 steps.
 *
 * @example
 * ```ts
 * const h = valueHistogram([0.2, 0.4, 0.4, 0.5])!;
 * if (h.step !== 0.1 || h.counts.join() !== "1,0,2,1" || valueHoles(h).join() !== "0.3") throw new Error();
 * ```
 */
export function valueHistogram(values: readonly number[]): ValueHistogram | undefined {
  if (values.length === 0) return undefined;
  for (const decimals of [0, 1, 2]) {
    const scale = 10 ** decimals;
    const ticks = values.map((v) => v * scale);
    if (!ticks.every((t) => Math.abs(t - Math.round(t)) < 1e-6)) continue;
    const ints = ticks.map(Math.round);
    const lo = Math.min(...ints), hi = Math.max(...ints);
    if (hi - lo + 1 > MAX_VALUE_CELLS) return undefined;
    const counts = new Array(hi - lo + 1).fill(0);
    for (const t of ints) counts[t - lo]++;
    return { start: lo / scale, step: 1 / scale, counts };
  }
  return undefined;
}

/**
 * The values of a histogram's grid that no answer took, between its smallest and largest.
 *
 * @example
 * ```ts
 * if (valueHoles({ start: 2, step: 1, counts: [3, 0, 0, 1] }).join() !== "3,4") throw new Error();
 * ```
 */
export function valueHoles(h: ValueHistogram): number[] {
  const decimals = Math.max(0, Math.round(-Math.log10(h.step)));
  const out: number[] = [];
  h.counts.forEach((c, i) => {
    if (c === 0) out.push(Number((h.start + i * h.step).toFixed(decimals)));
  });
  return out;
}

/** The answer mix of route-planning questions. */
export interface RouteMix {
  questions: number;
  /** Questions by their number of blanks. */
  blanks: Record<number, number>;
  /** Every blank's answer, by action. */
  actions: Record<string, number>;
  /** `Turn Back`'s share of all answer actions (0 when there are none). */
  backShare: number;
}

/**
 * The answer mix of the `route_planning` records among `records`: how many questions have
 * one, two, three... blanks, how often each action answers a blank, and the share of
 * `Turn Back` (a set where it dominates teaches nothing but that text).
 *
 * @example
 * ```ts
 * const r = (gt: string) => ({ id: "", dataset: "scannet", scene_name: "s", video_path: "",
 *   question_type: "route_planning", question: "", options: [], ground_truth: gt, mc_answer: "A" });
 * const m = routeMix([r("Turn Back"), r("Turn Left, Turn Right"), r("Turn Left")]);
 * if (m.blanks[2] !== 1 || m.actions["Turn Left"] !== 2 || m.backShare !== 0.25) throw new Error();
 * ```
 */
export function routeMix(records: readonly QaRecord[]): RouteMix {
  const mix: RouteMix = {
    questions: 0,
    blanks: {},
    actions: { "Turn Left": 0, "Turn Right": 0, "Turn Back": 0 },
    backShare: 0,
  };
  let total = 0;
  for (const r of records) {
    if (r.question_type !== "route_planning") continue;
    const actions = String(r.ground_truth).split(", ");
    mix.questions++;
    mix.blanks[actions.length] = (mix.blanks[actions.length] ?? 0) + 1;
    for (const a of actions) mix.actions[a] = (mix.actions[a] ?? 0) + 1;
    total += actions.length;
  }
  mix.backShare = total > 0 ? mix.actions["Turn Back"] / total : 0;
  return mix;
}

/**
 * The route mix as text lines (none when there are no route questions).
 *
 * @example
 * ```ts
 * const lines = formatRouteMix({ questions: 4, blanks: { 1: 3, 2: 1 }, backShare: 0.2,
 *   actions: { "Turn Left": 2, "Turn Right": 2, "Turn Back": 1 } });
 * if (!lines[0].includes("1 blank 3, 2 blanks 1 (25% with two or more)")) throw new Error(lines[0]);
 * ```
 */
export function formatRouteMix(mix: RouteMix): string[] {
  if (mix.questions === 0) return [];
  const blanks = Object.entries(mix.blanks).sort((a, b) => Number(a[0]) - Number(b[0]));
  const many = blanks.filter(([k]) => Number(k) >= 2).reduce((a, [, c]) => a + c, 0);
  const total = Object.values(mix.actions).reduce((a, c) => a + c, 0);
  return [
    `route_planning answer mix: ${mix.questions} questions; ` +
    blanks.map(([k, c]) => `${k} blank${k === "1" ? "" : "s"} ${c}`).join(", ") +
    ` (${pct(many / mix.questions)} with two or more)`,
    `  answer actions: ${Object.entries(mix.actions).map(([a, c]) => `${a} ${c}`).join(", ")}` +
    ` (Turn Back ${pct(mix.backShare)} of ${total})`,
  ];
}

function pct(x: number): string {
  return `${(100 * x).toFixed(0)}%`;
}
