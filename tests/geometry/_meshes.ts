/**
 * Small z-up test meshes with known navigation answers.
 *
 * @module
 */

import type { TriangleMesh } from "../../geometry/navmesh/mod.ts";

/** Accumulates quads and boxes into one triangle mesh. */
export class MeshBuilder {
  positions: number[] = [];
  triangles: number[] = [];

  /** A quad a-b-c-d; counter-clockwise seen from where its normal points. */
  quad(a: number[], b: number[], c: number[], d: number[]): this {
    const o = this.positions.length / 3;
    this.positions.push(...a, ...b, ...c, ...d);
    this.triangles.push(o, o + 1, o + 2, o, o + 2, o + 3);
    return this;
  }

  /** An upward-facing floor rectangle at height z. */
  floor(x0: number, y0: number, x1: number, y1: number, z = 0): this {
    return this.quad([x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]);
  }

  /** A closed axis-aligned box with outward faces. */
  box(x0: number, y0: number, z0: number, x1: number, y1: number, z1: number): this {
    this.quad([x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]);
    this.quad([x0, y0, z0], [x0, y1, z0], [x1, y1, z0], [x1, y0, z0]);
    this.quad([x0, y0, z0], [x1, y0, z0], [x1, y0, z1], [x0, y0, z1]);
    this.quad([x1, y0, z0], [x1, y1, z0], [x1, y1, z1], [x1, y0, z1]);
    this.quad([x1, y1, z0], [x0, y1, z0], [x0, y1, z1], [x1, y1, z1]);
    return this.quad([x0, y1, z0], [x0, y0, z0], [x0, y0, z1], [x0, y1, z1]);
  }

  /** A room: floor and four thin walls of height h. */
  room(x0: number, y0: number, x1: number, y1: number, h = 2.5): this {
    this.floor(x0, y0, x1, y1);
    const t = 0.05;
    this.box(x0 - t, y0 - t, 0, x1 + t, y0, h);
    this.box(x0 - t, y1, 0, x1 + t, y1 + t, h);
    this.box(x0 - t, y0, 0, x0, y1, h);
    return this.box(x1, y0, 0, x1 + t, y1, h);
  }

  mesh(): TriangleMesh {
    return { positions: this.positions, triangles: this.triangles };
  }
}

/** A ramp rising along +x at `deg` degrees, `width` wide, `run` long horizontally. */
export function ramp(deg: number, run = 3, width = 2): TriangleMesh {
  const h = run * Math.tan(deg * Math.PI / 180);
  return new MeshBuilder().quad([0, 0, 0], [run, 0, h], [run, width, h], [0, width, 0]).mesh();
}

/** A 12 x 6 m room split at x = 6 by a 10 cm wall with a door from y = 2 to y = 4. */
export function doorRoom(): TriangleMesh {
  return new MeshBuilder().room(0, 0, 12, 6).box(5.95, 0, 0, 6.05, 2, 2.5).box(
    5.95,
    4,
    0,
    6.05,
    6,
    2.5,
  ).mesh();
}
