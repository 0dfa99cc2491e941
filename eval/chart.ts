/**
 * A grouped bar chart as a standalone SVG (no scripts, no external fonts or files), readable in
 * a browser and pasteable into a paper: one group per task, one bar per series, optional
 * reference marks (the random-chance level) as dashed ticks.
 *
 * @module
 */

import { textWidth } from "../geometry/labels.ts";

/** One series of bars: a value per group in 0..100, `null` where there is none. */
export interface BarSeries {
  name: string;
  color: string;
  values: readonly (number | null)[];
}

/** What {@link barChartSvg} draws. */
export interface BarChart {
  title: string;
  groups: readonly string[];
  series: readonly BarSeries[];
  /** Dashed marks across each group (for example chance level), values in 0..100. */
  marks?: { name: string; values: readonly (number | null)[] };
  /** Axis label, e.g. "score (%)". */
  yLabel?: string;
}

/** Distinct colours for model series (colour-blind-friendly Tableau 10, grey left out). */
export const SERIES_COLORS: readonly string[] = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#59a14f",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#ff9da7",
  "#9c755f",
];

/** The colour of baseline series. */
export const BASELINE_COLOR = "#a0a0a0";

const escapeXml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`,
  );

/** Splits a label into at most two lines near its middle space. */
function labelLines(label: string, maxChars: number): string[] {
  if (label.length <= maxChars || !label.includes(" ")) return [label];
  let best = -1;
  for (let i = 0; i < label.length; i++) {
    if (
      label[i] === " " &&
      (best < 0 || Math.abs(i - label.length / 2) < Math.abs(best - label.length / 2))
    ) best = i;
  }
  return [label.slice(0, best), label.slice(best + 1)];
}

const fmt = (x: number) => (Math.round(x * 10) / 10).toFixed(1);
const isNumber = (v: number | null | undefined): v is number =>
  v !== null && v !== undefined && Number.isFinite(v);
/** Font size of the value written over each bar. */
const VALUE_FONT = 9;

/**
 * Renders `chart` as SVG text. Geometry: y from 0 to 100, gridlines every 20; each bar's top is
 * at `plotTop + plotHeight * (1 - value / 100)`.
 *
 * @example
 * ```ts
 * const svg = barChartSvg({
 *   title: "VSI-Bench",
 *   groups: ["Obj. Count", "Avg."],
 *   series: [{ name: "model", color: "#4e79a7", values: [50, 42.5] }],
 * });
 * if (!svg.startsWith("<svg") || (svg.match(/<rect class="bar"/g) ?? []).length !== 2) throw new Error();
 * ```
 */
export function barChartSvg(chart: BarChart): string {
  const nSeries = Math.max(1, chart.series.length);
  const barW = Math.max(8, Math.min(26, Math.floor(150 / nSeries)));
  const groupW = Math.max(nSeries * barW + 28, 96);
  const left = 58, right = 18, top = 44;
  // Legend: entries laid out in rows that fit the width.
  const width = left + right + groupW * chart.groups.length;
  const legend = [
    ...chart.series.map((s) => ({ name: s.name, color: s.color, dashed: false })),
    ...(chart.marks ? [{ name: chart.marks.name, color: "#222222", dashed: true }] : []),
  ];
  const legendRows: { name: string; color: string; dashed: boolean; x: number }[][] = [[]];
  let x = left;
  for (const item of legend) {
    const w = 26 + item.name.length * 6.6 + 18;
    if (x + w > width - right && legendRows[legendRows.length - 1].length) {
      legendRows.push([]);
      x = left;
    }
    legendRows[legendRows.length - 1].push({ ...item, x });
    x += w;
  }
  const legendTop = top;
  const plotH = 280;
  // Value labels that are wider than their bar stand upright above it (several bars of 100.0
  // side by side would otherwise run together); the plot then needs room above 100.
  const values = chart.series.flatMap((s) => s.values).filter(isNumber);
  const pitch = nSeries > 1 ? barW : groupW; // between the centres of neighbouring labels
  const upright = values.some((v) => textWidth(fmt(v), VALUE_FONT) > pitch - 2);
  const valueFont = upright ? Math.min(VALUE_FONT, barW - 1) : VALUE_FONT;
  const headroom = upright
    ? Math.ceil(
      Math.max(0, ...values.map((v) => textWidth(fmt(v), valueFont) + 4 - (100 - v) / 100 * plotH)),
    )
    : 0;
  const plotTop = legendTop + legendRows.length * 20 + 16 + headroom;
  const plotBottom = plotTop + plotH;
  const height = plotBottom + 58;
  const yOf = (v: number) => plotTop + plotH * (1 - Math.max(0, Math.min(100, v)) / 100);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${
      escapeXml(chart.title)
    }</text>`,
  );
  for (const row of legendRows) {
    const y = legendTop + legendRows.indexOf(row) * 20;
    for (const item of row) {
      out.push(
        item.dashed
          ? `<line x1="${item.x}" y1="${y + 6}" x2="${item.x + 18}" y2="${
            y + 6
          }" stroke="${item.color}" stroke-width="2" stroke-dasharray="4 3"/>`
          : `<rect x="${item.x}" y="${y}" width="18" height="12" fill="${item.color}"/>`,
      );
      out.push(
        `<text x="${item.x + 24}" y="${y + 10}" font-size="12">${escapeXml(item.name)}</text>`,
      );
    }
  }
  for (let v = 0; v <= 100; v += 20) {
    const y = yOf(v);
    out.push(
      `<line x1="${left}" y1="${y}" x2="${width - right}" y2="${y}" stroke="${
        v ? "#e4e4e4" : "#444444"
      }" stroke-width="1"/>`,
    );
    out.push(
      `<text x="${left - 6}" y="${
        y + 4
      }" text-anchor="end" font-size="11" fill="#444444">${v}</text>`,
    );
  }
  if (chart.yLabel) {
    const cy = plotTop + plotH / 2;
    out.push(
      `<text x="16" y="${cy}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${cy})">${
        escapeXml(chart.yLabel)
      }</text>`,
    );
  }
  chart.groups.forEach((group, g) => {
    const gx = left + g * groupW;
    const x0 = gx + (groupW - nSeries * barW) / 2;
    chart.series.forEach((s, i) => {
      const v = s.values[g];
      if (!isNumber(v)) return;
      const y = yOf(v);
      out.push(
        `<rect class="bar" x="${x0 + i * barW + 1}" y="${y}" width="${barW - 2}" height="${
          plotBottom - y
        }" fill="${s.color}"><title>${escapeXml(`${s.name}, ${group}: ${fmt(v)}`)}</title></rect>`,
      );
      const cx = x0 + i * barW + barW / 2;
      out.push(
        upright
          ? `<text class="value" x="${cx}" y="${y - 3}" transform="rotate(-90 ${cx} ${
            y - 3
          })" dy="${valueFont * 0.35}" font-size="${valueFont}" fill="#333333">${fmt(v)}</text>`
          : `<text class="value" x="${cx}" y="${
            y - 3
          }" text-anchor="middle" font-size="${valueFont}" fill="#333333">${fmt(v)}</text>`,
      );
    });
    const mark = chart.marks?.values[g];
    if (mark !== null && mark !== undefined && Number.isFinite(mark)) {
      const y = yOf(mark);
      out.push(
        `<line class="mark" x1="${x0 - 4}" y1="${y}" x2="${
          x0 + nSeries * barW + 4
        }" y2="${y}" stroke="#222222" stroke-width="1.5" stroke-dasharray="4 3"/>`,
      );
    }
    labelLines(group, Math.floor(groupW / 6.5)).forEach((line, k) => {
      out.push(
        `<text x="${gx + groupW / 2}" y="${
          plotBottom + 18 + k * 14
        }" text-anchor="middle" font-size="12">${escapeXml(line)}</text>`,
      );
    });
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
