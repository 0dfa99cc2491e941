// The score chart's geometry: bars at their heights, and value labels that never run together
// (side by side at 100.0 they are written upright).
import { assert, assertEquals } from "../assert.ts";
import { barChartSvg } from "../../eval/chart.ts";
import { textWidth } from "../../geometry/labels.ts";

function chart(series: number) {
  const groups = ["Obj. Count", "Abs. Dist.", "Avg."];
  return barChartSvg({
    title: "t",
    groups,
    series: Array.from({ length: series }, (_, i) => ({
      name: `m${i}`,
      color: "#4e79a7",
      values: groups.map((_, g) => (g === 0 ? 100 : 40 + i)),
    })),
  });
}

Deno.test("bar chart: value labels fit their bars, upright when the bars are narrow", () => {
  for (const n of [1, 2, 3, 6, 12]) {
    const svg = chart(n);
    const bars = [...svg.matchAll(/<rect class="bar" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"/g)]
      .map(([, x, y, w]) => ({ x: Number(x), y: Number(y), w: Number(w) }));
    const labels = [
      ...svg.matchAll(/<text class="value" x="([\d.]+)" y="([\d.]+)"([^>]*)>([^<]+)</g),
    ];
    assertEquals(labels.length, bars.length, `${n} series`);
    const upright = labels.some(([, , , attrs]) => attrs.includes("rotate(-90"));
    labels.forEach(([, x, y, attrs, value], k) => {
      const bar = bars[k];
      const size = Number(attrs.match(/font-size="([\d.]+)"/)![1]);
      // Centred on its bar, just above its top.
      assert(Math.abs(Number(x) - (bar.x - 1 + (bar.w + 2) / 2)) < 1e-6);
      assertEquals(Number(y), bar.y - 3);
      // Horizontal labels are no wider than the distance to the next label; upright ones no
      // thicker than a bar.
      const pitch = n > 1 ? bar.w + 2 : 96;
      const extent = attrs.includes("rotate(-90") ? size * 1.2 : textWidth(value, size);
      assert(extent <= pitch + 1e-9, `${n} series: '${value}' is ${extent} wide`);
      // Upright labels of bars at 100 stay inside the drawing.
      if (attrs.includes("rotate(-90")) assert(Number(y) - textWidth(value, size) >= 0);
    });
    assertEquals(upright, n >= 2, `${n} series`);
  }
});
