/**
 * Placing text labels on a drawing so that they do not overlap: each label has an anchor point
 * and a list of candidate positions around it; labels are placed in order, each at its first
 * candidate that collides with nothing placed before it (nor with the given obstacles), else at
 * the candidate that overlaps least. Text extents are estimated from the character count, which
 * is close enough for sans-serif labels of a few words.
 *
 * @module
 */

/** An axis-aligned rectangle in drawing units (y down, as in SVG). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A label to place. */
export interface LabelRequest {
  /** The point the label describes. */
  x: number;
  y: number;
  text: string;
  fontSize: number;
  /** Gap between the anchor and the text (default `fontSize / 2`). */
  gap?: number;
  /** Try centring the text on the anchor first (a name written on the thing it names). */
  centered?: boolean;
  /** Bold text is wider. */
  bold?: boolean;
}

/** Where a label went: the text's baseline start, and its box. */
export interface PlacedLabel {
  /** `x` for `text-anchor="start"`, `y` the baseline. */
  x: number;
  y: number;
  box: Rect;
  /** Whether the label still overlaps something (no free candidate was found). */
  overlaps: boolean;
}

/**
 * Estimated width of `text` at `fontSize` in a sans-serif face, on the wide side (DejaVu Sans,
 * the usual fallback, is wider than Helvetica): digits 0.64 em, symbols a full em.
 */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let w = 0;
  for (const c of text) {
    w += c.charCodeAt(0) > 0x7f
      ? 1
      : /[ il.,:;!|']/.test(c)
      ? 0.32
      : /[A-Z@%MWmw]/.test(c)
      ? 0.82
      : 0.64;
  }
  return w * fontSize * (bold ? 1.1 : 1);
}

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Places labels in order around their anchors (right, left, above, below, the four corners,
 * then the same further out), avoiding each other and `obstacles`, within `bounds` when given.
 *
 * @example
 * ```ts
 * const [a, b] = placeLabels([
 *   { x: 10, y: 10, text: "sofa", fontSize: 10 },
 *   { x: 10, y: 10, text: "door", fontSize: 10 },
 * ]);
 * const apart = a.box.x + a.box.width <= b.box.x || b.box.x + b.box.width <= a.box.x ||
 *   a.box.y + a.box.height <= b.box.y || b.box.y + b.box.height <= a.box.y;
 * if (!apart || a.overlaps || b.overlaps) throw new Error();
 * ```
 */
export function placeLabels(
  labels: readonly LabelRequest[],
  options: { obstacles?: readonly Rect[]; bounds?: Rect } = {},
): PlacedLabel[] {
  const taken: Rect[] = [...(options.obstacles ?? [])];
  const bounds = options.bounds;
  return labels.map((l) => {
    const w = textWidth(l.text, l.fontSize, l.bold), h = l.fontSize * 1.2;
    const g = l.gap ?? l.fontSize / 2;
    let best: Rect | undefined, bestCost = Infinity;
    for (const ring of [1, 2.5, 4.5]) {
      const d = g * ring;
      const candidates: [number, number][] = [
        ...(l.centered && ring === 1 ? [[l.x - w / 2, l.y - h / 2] as [number, number]] : []),
        [l.x + d, l.y - h / 2], // right
        [l.x - d - w, l.y - h / 2], // left
        [l.x - w / 2, l.y - d - h], // above
        [l.x - w / 2, l.y + d], // below
        [l.x + d, l.y - d - h], // above right
        [l.x - d - w, l.y - d - h], // above left
        [l.x + d, l.y + d], // below right
        [l.x - d - w, l.y + d], // below left
      ];
      for (const [x, y] of candidates) {
        const box = { x, y, width: w, height: h };
        let cost = 0;
        for (const t of taken) cost += overlap(box, t);
        if (bounds) cost += w * h - overlap(box, bounds);
        // Prefer nearer rings a little even when they overlap slightly less.
        if (cost < bestCost - 1e-9) [best, bestCost] = [box, cost];
        if (cost === 0) break;
      }
      if (bestCost === 0) break;
    }
    taken.push(best!);
    return {
      x: best!.x,
      y: best!.y + l.fontSize,
      box: best!,
      overlaps: bestCost > 0,
    };
  });
}

/**
 * Whether any two rectangles overlap (by more than `tolerance` in area).
 *
 * @example
 * ```ts
 * const r = (x: number) => ({ x, y: 0, width: 10, height: 5 });
 * if (!anyOverlap([r(0), r(5)]) || anyOverlap([r(0), r(10)])) throw new Error();
 * ```
 */
export function anyOverlap(rects: readonly Rect[], tolerance = 0): boolean {
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      if (overlap(rects[i], rects[j]) > tolerance) return true;
    }
  }
  return false;
}
