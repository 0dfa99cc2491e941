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
  numeric?: { min: number; median: number; max: number; bins: number[] };
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
    if (s.answers && Object.keys(s.letters).length > 0) {
      const shown = s.answers.slice(0, 6).map(([a, c]) => `${a} ${c}`).join(", ");
      lines.push(`${"".padEnd(width + 9)}answers: ${shown}${s.answers.length > 6 ? ", ..." : ""}`);
    }
  }
  const total = stats.reduce((a, s) => a + s.count, 0);
  lines.push(`${"total".padEnd(width)}${String(total).padStart(7)}`);
  return lines;
}
