// Label placement: against a brute-force overlap check on random layouts, and the candidate
// positions' distances from the anchors.
import { assert, assertEquals } from "../assert.ts";
import { Rng } from "../../geometry/rng.ts";
import { anyOverlap, placeLabels, type Rect, textWidth } from "../../geometry/labels.ts";

function overlapArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

Deno.test("placeLabels: labels flagged free overlap nothing, and stay near their anchors", () => {
  const rng = new Rng("labels");
  for (let trial = 0; trial < 20; trial++) {
    const n = 5 + Math.floor(rng.next() * 40);
    const labels = Array.from({ length: n }, () => ({
      x: 50 + rng.next() * 500,
      y: 50 + rng.next() * 300,
      text: ["sofa", "trash bin", "\u21b6 left 90\u00b0", "washing machine", "tv"][
        Math.floor(rng.next() * 5)
      ],
      fontSize: 11,
    }));
    const obstacles = [{ x: 100, y: 100, width: 30, height: 30 }];
    const placed = placeLabels(labels, { obstacles });
    for (let i = 0; i < n; i++) {
      const p = placed[i];
      // The flag is true exactly when the brute-force check finds an overlap with an earlier
      // label or an obstacle.
      const earlier = [...obstacles, ...placed.slice(0, i).map((q) => q.box)];
      const hits = earlier.some((r) => overlapArea(p.box, r) > 0);
      assertEquals(p.overlaps, hits, `label ${i} of trial ${trial}`);
      // Within the farthest ring of candidates.
      const cx = p.box.x + p.box.width / 2, cy = p.box.y + p.box.height / 2;
      assert(
        Math.abs(cx - labels[i].x) <= p.box.width / 2 + 5.5 * 4.5 + 1 &&
          Math.abs(cy - labels[i].y) <= p.box.height / 2 + 5.5 * 4.5 + 1,
        `label ${i} is far from its anchor`,
      );
      assertEquals(p.y, p.box.y + 11);
    }
  }
  // A sparse layout places everything without overlap.
  const sparse = placeLabels(
    Array.from(
      { length: 10 },
      (_, i) => ({ x: 60 * i, y: 20 * (i % 3), text: "chair", fontSize: 10 }),
    ),
  );
  assert(!anyOverlap(sparse.map((p) => p.box)));
  assert(sparse.every((p) => !p.overlaps));
});

Deno.test("placeLabels: a crowd at one point spreads out; a centred label sits on its anchor", () => {
  const crowd = placeLabels(
    Array.from({ length: 8 }, () => ({ x: 200, y: 200, text: "lamp", fontSize: 12 })),
  );
  assert(!anyOverlap(crowd.map((p) => p.box)));
  const [c] = placeLabels([{ x: 100, y: 50, text: "bed", fontSize: 10, centered: true }]);
  assert(Math.abs(c.box.x + c.box.width / 2 - 100) < 1e-9);
  assert(Math.abs(c.box.y + c.box.height / 2 - 50) < 1e-9);
  assert(textWidth("100.0", 9) > textWidth("1.0", 9));
});
