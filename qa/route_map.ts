/**
 * A top-down SVG map of a scene for reading routes: the floor and obstacles (rasterised from
 * the mesh), the navmesh polygons, object boxes with labels, and routes with their anchors and
 * turn marks. North is +y, up the page.
 *
 * @module
 */

import type { NavMesh, TriangleMesh } from "../geometry/navmesh/mod.ts";
import { encodePng8 } from "../io/image.ts";
import type { Vec3 } from "../geometry/vec.ts";
import { encodeBase64Lines } from "../geometry/navmesh/_base64.ts";
import type { RouteAnchor, RouteObject } from "./route_planning.ts";
import { type LabelRequest, placeLabels } from "../geometry/labels.ts";

/** A route to draw. */
export interface MapRoute {
  points: Vec3[];
  anchors?: RouteAnchor[];
  /** The route's turns: the index of the point where each happens, its angle (deg, + left). */
  turns?: readonly { index: number; degrees: number }[];
  label?: string;
}

/** What {@link routeMapSvg} draws. */
export interface RouteMapInput {
  mesh: TriangleMesh;
  nav: NavMesh;
  objects?: readonly RouteObject[];
  routes?: readonly MapRoute[];
  title?: string;
}

/** Occupancy raster cell size (m). */
const CELL = 0.05;
/** The map's longer side in pixels (within 40..200 pixels per metre). */
const SIDE = 900;
const PAD = 40;
// Distinct route colours (Tableau 10 without its grey); a map of more routes repeats them, and
// each route's legend line names its question.
const ROUTE_COLORS = [
  "#d62728",
  "#9467bd",
  "#2ca02c",
  "#ff7f0e",
  "#8c564b",
  "#1f77b4",
  "#e377c2",
  "#bcbd22",
  "#17becf",
];

/**
 * Renders the map as an SVG document.
 *
 * @example
 * ```ts
 * import { buildNavMesh } from "../geometry/navmesh/mod.ts";
 * const mesh = { positions: [0, 0, 0, 3, 0, 0, 3, 2, 0, 0, 2, 0], triangles: [0, 1, 2, 0, 2, 3] };
 * const nav = buildNavMesh(mesh);
 * const svg = routeMapSvg({ mesh, nav, routes: [{ points: nav.findPath([0.5, 0.5, 0], [2.5, 1.5, 0]).points }] });
 * if (!svg.startsWith("<svg") || !svg.includes("<polyline")) throw new Error();
 * ```
 */
export function routeMapSvg(input: RouteMapInput): string {
  const { mesh, nav } = input;
  const [x0, y0, x1, y1, zFloor] = footprint(mesh);
  const SCALE = Math.min(200, Math.max(40, SIDE / Math.max(x1 - x0, y1 - y0, 1e-6)));
  const routes = input.routes ?? [];
  const mapH = Math.ceil((y1 - y0) * SCALE);
  const W = Math.ceil((x1 - x0) * SCALE) + 2 * PAD, H = mapH + 2 * PAD + 30 + 16 * routes.length;
  const sx = (x: number) => Math.round(((x - x0) * SCALE + PAD) * 10) / 10;
  const sy = (y: number) => Math.round(((y1 - y) * SCALE + PAD + 30) * 10) / 10;
  const pts = (ps: readonly Vec3[]) => ps.map((p) => `${sx(p[0])},${sy(p[1])}`).join(" ");
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
  ];
  const grid = occupancy(mesh, x0, y0, x1, y1, zFloor);
  const png = encodePng8(grid.data, grid.width, grid.height);
  out.push(
    `<image x="${PAD}" y="${PAD + 30}" width="${grid.width * CELL * SCALE}" height="${
      grid.height * CELL * SCALE
    }" preserveAspectRatio="none" style="image-rendering:pixelated" href="data:image/png;base64,${
      encodeBase64Lines(png, 1 << 30).join("")
    }"/>`,
  );
  out.push(`<g fill="#4682b4" fill-opacity="0.28" stroke="#2b5d8a" stroke-width="0.8">`);
  for (let p = 0; p < nav.polygonCount; p++) out.push(`<polygon points="${pts(nav.polygon(p))}"/>`);
  out.push(`</g>`);
  out.push(`<g fill="#f2c14e" fill-opacity="0.35" stroke="#a67c00" stroke-width="1.2">`);
  for (const o of input.objects ?? []) out.push(`<polygon points="${pts(boxFootprint(o))}"/>`);
  out.push(`</g>`);
  // Labels are placed after everything else is known, so that none covers another: anchor
  // marks are obstacles; route labels (anchors' objects, turns) go first, object names last.
  const marks = routes.flatMap((r) =>
    (r.anchors ?? []).map((a) => ({
      x: sx(a.point[0]) - 8,
      y: sy(a.point[1]) - 8,
      width: 16,
      height: 16,
    }))
  );
  const requests: (LabelRequest & { color: string })[] = [];
  routes.forEach((r, i) => {
    const color = ROUTE_COLORS[i % ROUTE_COLORS.length];
    for (const a of r.anchors ?? []) {
      requests.push({
        x: sx(a.point[0]),
        y: sy(a.point[1]),
        text: a.object.category,
        fontSize: 11,
        gap: 10,
        color,
      });
    }
    for (const { index, degrees: deg } of r.turns ?? []) {
      const p = r.points[index];
      if (!p) continue;
      requests.push({
        x: sx(p[0]),
        y: sy(p[1]),
        text: `${deg > 0 ? "\u21b6 left" : "\u21b7 right"} ${Math.abs(deg).toFixed(0)}\u00b0`,
        fontSize: 12,
        gap: 10,
        color,
        bold: true,
      });
    }
  });
  for (const o of input.objects ?? []) {
    requests.push({
      x: sx(o.center[0]),
      y: sy(o.center[1]),
      text: o.category,
      fontSize: 11,
      centered: true,
      color: "#000000",
    });
  }
  const placed = placeLabels(requests, {
    obstacles: marks,
    bounds: { x: 0, y: PAD + 30, width: W, height: mapH },
  });
  routes.forEach((r, i) => {
    const color = ROUTE_COLORS[i % ROUTE_COLORS.length];
    out.push(
      `<g><polyline points="${
        pts(r.points)
      }" fill="none" stroke="${color}" stroke-width="3" stroke-linejoin="round"/>`,
    );
    for (const a of r.anchors ?? []) {
      const mark = a.role === "start" ? "S" : a.role === "end" ? "E" : a.role === "mid" ? "M" : "T";
      out.push(
        `<circle cx="${sx(a.point[0])}" cy="${
          sy(a.point[1])
        }" r="7" fill="#fff" stroke="${color}" stroke-width="2.5"/>`,
        `<text x="${sx(a.point[0])}" y="${
          sy(a.point[1])
        }" dy="4" font-size="10" font-weight="bold" text-anchor="middle" fill="${color}">${mark}</text>`,
      );
    }
    if (r.label) {
      out.push(
        `<text x="${PAD}" y="${mapH + PAD + 30 + 24 + 16 * i}" font-size="13" fill="${color}">${
          escape(r.label)
        }</text>`,
      );
    }
    out.push(`</g>`);
  });
  out.push(`<g class="labels" stroke="#fff" stroke-width="3" paint-order="stroke">`);
  requests.forEach((q, k) => {
    const at = placed[k];
    out.push(
      `<text x="${round1(at.x)}" y="${round1(at.y)}" font-size="${q.fontSize}"${
        q.bold ? ' font-weight="bold"' : ""
      } fill="${q.color}" data-w="${round1(at.box.width)}" data-h="${round1(at.box.height)}">${
        escape(q.text)
      }</text>`,
    );
  });
  out.push(`</g>`);
  // Title and a 1 m scale bar.
  out.push(
    `<text x="${PAD}" y="22" font-size="15" font-weight="bold">${
      escape(input.title ?? "route map")
    }</text>`,
    `<text x="${
      W - PAD
    }" y="22" font-size="11" text-anchor="end">${nav.polygonCount} polygons, ${nav.islandCount} island(s), ${
      nav.area().toFixed(1)
    } m\u00b2 navigable</text>`,
    `<line x1="${PAD}" y1="${PAD + 18}" x2="${PAD + SCALE}" y2="${
      PAD + 18
    }" stroke="#000" stroke-width="2"/><text x="${PAD + SCALE + 6}" y="${
      PAD + 22
    }" font-size="11">1 m</text>`,
    `</svg>`,
  );
  return out.join("\n") + "\n";
}

/** xy bounds of the mesh and its floor height (lowest upward-facing surface). */
function footprint(mesh: TriangleMesh): [number, number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, z0 = Infinity;
  const p = mesh.positions;
  for (let i = 0; i < p.length; i += 3) {
    x0 = Math.min(x0, p[i]);
    x1 = Math.max(x1, p[i]);
    y0 = Math.min(y0, p[i + 1]);
    y1 = Math.max(y1, p[i + 1]);
    z0 = Math.min(z0, p[i + 2]);
  }
  return [x0, y0, x1, y1, z0];
}

/** Grey levels: 255 nothing, 228 floor, 120 obstacles between 0.1 m and 2 m above the floor. */
function occupancy(
  mesh: TriangleMesh,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  zFloor: number,
): { data: Uint8Array; width: number; height: number } {
  const width = Math.max(1, Math.ceil((x1 - x0) / CELL)),
    height = Math.max(1, Math.ceil((y1 - y0) / CELL));
  const data = new Uint8Array(width * height).fill(255);
  const p = mesh.positions, t = mesh.triangles;
  const mark = (x: number, y: number, v: number) => {
    const cx = Math.min(width - 1, Math.floor((x - x0) / CELL));
    const cy = Math.min(height - 1, Math.floor((y1 - y) / CELL));
    const k = cy * width + cx;
    data[k] = Math.min(data[k], v);
  };
  for (let i = 0; i < t.length; i += 3) {
    const v = [t[i], t[i + 1], t[i + 2]].map((j) => [p[3 * j], p[3 * j + 1], p[3 * j + 2]]);
    const zmin = Math.min(v[0][2], v[1][2], v[2][2]), zmax = Math.max(v[0][2], v[1][2], v[2][2]);
    const obstacle = zmax > zFloor + 0.1 && zmin < zFloor + 2;
    const floor = zmax <= zFloor + 0.1;
    if (!obstacle && !floor) continue;
    const value = obstacle ? 120 : 228;
    // Edges (vertical walls project to lines), then the interior at cell centres.
    for (let e = 0; e < 3; e++) {
      const a = v[e], b = v[(e + 1) % 3];
      const n = Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / (CELL / 2)) + 1;
      for (let k = 0; k <= n; k++) {
        mark(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n, value);
      }
    }
    const bx0 = Math.floor((Math.min(v[0][0], v[1][0], v[2][0]) - x0) / CELL);
    const bx1 = Math.floor((Math.max(v[0][0], v[1][0], v[2][0]) - x0) / CELL);
    const by0 = Math.floor((Math.min(v[0][1], v[1][1], v[2][1]) - y0) / CELL);
    const by1 = Math.floor((Math.max(v[0][1], v[1][1], v[2][1]) - y0) / CELL);
    for (let cy = by0; cy <= by1; cy++) {
      for (let cx = bx0; cx <= bx1; cx++) {
        const x = x0 + (cx + 0.5) * CELL, y = y0 + (cy + 0.5) * CELL;
        if (inTriangle(x, y, v)) mark(x, y, value);
      }
    }
  }
  return { data, width, height };
}

function inTriangle(x: number, y: number, v: number[][]): boolean {
  const s = (a: number[], b: number[]) => (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
  const d0 = s(v[0], v[1]), d1 = s(v[1], v[2]), d2 = s(v[2], v[0]);
  return (d0 >= 0 && d1 >= 0 && d2 >= 0) || (d0 <= 0 && d1 <= 0 && d2 <= 0);
}

/** The box's outline seen from above: its two most horizontal axes around the centre. */
function boxFootprint(o: RouteObject): Vec3[] {
  const order = [0, 1, 2].sort((a, b) => Math.abs(o.axes[a][2]) - Math.abs(o.axes[b][2]));
  const [a, b] = [order[0], order[1]];
  const u = o.axes[a].map((c) => c * o.halfSize[a]), w = o.axes[b].map((c) => c * o.halfSize[b]);
  return [[1, 1], [-1, 1], [-1, -1], [1, -1]].map(([i, j]) => [
    o.center[0] + i * u[0] + j * w[0],
    o.center[1] + i * u[1] + j * w[1],
    o.center[2],
  ]);
}

const round1 = (v: number) => Math.round(v * 10) / 10;

function escape(s: string): string {
  return s.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
}
