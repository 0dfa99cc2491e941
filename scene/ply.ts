/**
 * PLY meshes: a general reader (ascii, binary little and big endian, any scalar and list
 * properties, as ScanNet, ScanNet++ and ARKitScenes write them) and a writer for ScanNet's
 * `_vh_clean_2.ply` layout (binary little endian; x y z float, red green blue alpha uchar;
 * faces as `list uchar int vertex_indices`).
 *
 * @module
 */

import { DataError } from "../io/errors.ts";

/** A numeric column of a PLY element, in its declared type. */
export type PlyColumn =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** A list property: row `i` holds `values[offsets[i] .. offsets[i + 1])`. */
export interface PlyList {
  offsets: Uint32Array;
  values: PlyColumn;
}

/** One element (vertex, face, ...) with its columns. */
export interface PlyElement {
  name: string;
  count: number;
  scalars: Map<string, PlyColumn>;
  lists: Map<string, PlyList>;
}

/** A parsed PLY file. */
export interface PlyData {
  format: "ascii" | "binary_little_endian" | "binary_big_endian";
  comments: string[];
  elements: PlyElement[];
}

/** The usual view of a mesh: positions, optional RGBA colours, triangles. */
export interface PlyMesh {
  positions: Float32Array | Float64Array;
  colors?: Uint8Array;
  triangles: Uint32Array;
}

type ScalarType =
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "float32"
  | "float64";

const TYPE_ALIASES: Record<string, ScalarType> = {
  char: "int8",
  int8: "int8",
  uchar: "uint8",
  uint8: "uint8",
  short: "int16",
  int16: "int16",
  ushort: "uint16",
  uint16: "uint16",
  int: "int32",
  int32: "int32",
  uint: "uint32",
  uint32: "uint32",
  float: "float32",
  float32: "float32",
  double: "float64",
  float64: "float64",
};

const TYPE_INFO: Record<ScalarType, { size: number; make: (n: number) => PlyColumn }> = {
  int8: { size: 1, make: (n) => new Int8Array(n) },
  uint8: { size: 1, make: (n) => new Uint8Array(n) },
  int16: { size: 2, make: (n) => new Int16Array(n) },
  uint16: { size: 2, make: (n) => new Uint16Array(n) },
  int32: { size: 4, make: (n) => new Int32Array(n) },
  uint32: { size: 4, make: (n) => new Uint32Array(n) },
  float32: { size: 4, make: (n) => new Float32Array(n) },
  float64: { size: 8, make: (n) => new Float64Array(n) },
};

interface PropDecl {
  name: string;
  type: ScalarType;
  countType?: ScalarType;
}

interface ElementDecl {
  name: string;
  count: number;
  props: PropDecl[];
}

/**
 * Parses a PLY file. `file` names it in error messages.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode(
 *   "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n" +
 *     "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n" +
 *     "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n",
 * );
 * const mesh = plyToMesh(readPly(bytes));
 * if (mesh.triangles.length !== 3 || mesh.positions[3] !== 1) throw new Error();
 * ```
 */
export function readPly(bytes: Uint8Array, file = "<ply>"): PlyData {
  const { header, bodyStart } = splitHeader(bytes, file);
  const lines = header.split(/\r?\n/);
  if (lines[0].trim() !== "ply") throw new DataError(file, "header", "a file starting with 'ply'");
  let format: PlyData["format"] | undefined;
  const comments: string[] = [];
  const decls: ElementDecl[] = [];
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    if (line === "" || line === "end_header") continue;
    const parts = line.split(/\s+/);
    switch (parts[0]) {
      case "format":
        if (!["ascii", "binary_little_endian", "binary_big_endian"].includes(parts[1])) {
          throw new DataError(file, "format", "ascii or binary_little/big_endian", parts[1]);
        }
        format = parts[1] as PlyData["format"];
        break;
      case "comment":
      case "obj_info":
        comments.push(line.slice(parts[0].length + 1));
        break;
      case "element": {
        const count = Number(parts[2]);
        if (!Number.isInteger(count) || count < 0) {
          throw new DataError(file, `element ${parts[1]}`, "a non-negative count", parts[2]);
        }
        decls.push({ name: parts[1], count, props: [] });
        break;
      }
      case "property": {
        const el = decls[decls.length - 1];
        if (!el) throw new DataError(file, "header", "'element' before 'property'");
        if (parts[1] === "list") {
          const countType = TYPE_ALIASES[parts[2]], type = TYPE_ALIASES[parts[3]];
          if (!countType || !type) {
            throw new DataError(file, `property ${parts[4]}`, "known list types", line);
          }
          el.props.push({ name: parts[4], type, countType });
        } else {
          const type = TYPE_ALIASES[parts[1]];
          if (!type) throw new DataError(file, `property ${parts[2]}`, "a known type", parts[1]);
          el.props.push({ name: parts[2], type });
        }
        break;
      }
      default:
        throw new DataError(file, "header", "format/comment/element/property lines", line);
    }
  }
  if (!format) throw new DataError(file, "format", "a format line");
  const elements = format === "ascii"
    ? readAscii(bytes.subarray(bodyStart), decls, file)
    : readBinary(bytes, bodyStart, decls, format === "binary_little_endian", file);
  return { format, comments, elements };
}

function splitHeader(bytes: Uint8Array, file: string): { header: string; bodyStart: number } {
  const marker = new TextEncoder().encode("end_header");
  const limit = Math.min(bytes.length, 1 << 16);
  outer: for (let i = 0; i + marker.length <= limit; i++) {
    for (let j = 0; j < marker.length; j++) if (bytes[i + j] !== marker[j]) continue outer;
    let end = i + marker.length;
    if (bytes[end] === 13) end++;
    if (bytes[end] !== 10) throw new DataError(file, "header", "a newline after end_header");
    return { header: new TextDecoder().decode(bytes.subarray(0, i)), bodyStart: end + 1 };
  }
  throw new DataError(file, "header", "an 'end_header' line", "none (truncated or not a PLY file)");
}

function readBinary(
  bytes: Uint8Array,
  start: number,
  decls: ElementDecl[],
  little: boolean,
  file: string,
): PlyElement[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = start;
  const get = (type: ScalarType): number => {
    const size = TYPE_INFO[type].size;
    if (off + size > bytes.length) throw new RangeError("eof");
    let v: number;
    switch (type) {
      case "int8":
        v = view.getInt8(off);
        break;
      case "uint8":
        v = view.getUint8(off);
        break;
      case "int16":
        v = view.getInt16(off, little);
        break;
      case "uint16":
        v = view.getUint16(off, little);
        break;
      case "int32":
        v = view.getInt32(off, little);
        break;
      case "uint32":
        v = view.getUint32(off, little);
        break;
      case "float32":
        v = view.getFloat32(off, little);
        break;
      case "float64":
        v = view.getFloat64(off, little);
        break;
    }
    off += size;
    return v;
  };
  const out: PlyElement[] = [];
  for (const el of decls) {
    const scalars = new Map<string, PlyColumn>();
    const lists = new Map<string, { offsets: Uint32Array; values: number[] }>();
    const cols = el.props.map((p) => {
      if (p.countType) {
        const l = { offsets: new Uint32Array(el.count + 1), values: [] as number[] };
        lists.set(p.name, l);
        return l;
      }
      const c = TYPE_INFO[p.type].make(el.count);
      scalars.set(p.name, c);
      return c;
    });
    try {
      for (let i = 0; i < el.count; i++) {
        for (let k = 0; k < el.props.length; k++) {
          const p = el.props[k];
          if (p.countType) {
            const l = cols[k] as { offsets: Uint32Array; values: number[] };
            const n = get(p.countType);
            for (let j = 0; j < n; j++) l.values.push(get(p.type));
            l.offsets[i + 1] = l.values.length;
          } else {
            (cols[k] as PlyColumn)[i] = get(p.type);
          }
        }
      }
    } catch (e) {
      if (e instanceof RangeError) {
        throw new DataError(file, `element ${el.name}`, `${el.count} rows`, "a truncated file");
      }
      throw e;
    }
    out.push(finishElement(el, scalars, lists));
  }
  return out;
}

function readAscii(body: Uint8Array, decls: ElementDecl[], file: string): PlyElement[] {
  const tokens = new TextDecoder().decode(body).split(/\s+/).filter((t) => t !== "");
  let at = 0;
  const next = (el: string): number => {
    if (at >= tokens.length) {
      throw new DataError(file, `element ${el}`, "more values", "a truncated file");
    }
    const v = Number(tokens[at++]);
    if (Number.isNaN(v)) throw new DataError(file, `element ${el}`, "numbers", tokens[at - 1]);
    return v;
  };
  return decls.map((el) => {
    const scalars = new Map<string, PlyColumn>();
    const lists = new Map<string, { offsets: Uint32Array; values: number[] }>();
    for (const p of el.props) {
      if (p.countType) lists.set(p.name, { offsets: new Uint32Array(el.count + 1), values: [] });
      else scalars.set(p.name, TYPE_INFO[p.type].make(el.count));
    }
    for (let i = 0; i < el.count; i++) {
      for (const p of el.props) {
        if (p.countType) {
          const l = lists.get(p.name)!;
          const n = next(el.name);
          for (let j = 0; j < n; j++) l.values.push(next(el.name));
          l.offsets[i + 1] = l.values.length;
        } else {
          scalars.get(p.name)![i] = next(el.name);
        }
      }
    }
    return finishElement(el, scalars, lists);
  });
}

function finishElement(
  el: ElementDecl,
  scalars: Map<string, PlyColumn>,
  lists: Map<string, { offsets: Uint32Array; values: number[] }>,
): PlyElement {
  const out = new Map<string, PlyList>();
  for (const p of el.props) {
    const l = lists.get(p.name);
    if (!l) continue;
    const values = TYPE_INFO[p.type].make(l.values.length);
    values.set(l.values);
    out.set(p.name, { offsets: l.offsets, values });
  }
  return { name: el.name, count: el.count, scalars, lists: out };
}

/**
 * Extracts positions, colours (when present) and triangles (polygons fan-triangulated) from a
 * parsed PLY. `file` names it in error messages.
 *
 * @example
 * ```ts
 * const ply = writeMeshPly({ positions: Float32Array.of(0, 0, 0, 1, 0, 0, 0, 1, 0), triangles: Uint32Array.of(0, 1, 2) });
 * if (plyToMesh(readPly(ply)).triangles[2] !== 2) throw new Error();
 * ```
 */
export function plyToMesh(ply: PlyData, file = "<ply>"): PlyMesh {
  const vertex = ply.elements.find((e) => e.name === "vertex");
  if (!vertex) throw new DataError(file, "element vertex", "a vertex element");
  const xyz = ["x", "y", "z"].map((k) => {
    const c = vertex.scalars.get(k);
    if (!c) throw new DataError(file, `vertex.${k}`, "a vertex coordinate property");
    return c;
  });
  const n = vertex.count;
  const double = xyz.some((c) => c instanceof Float64Array);
  const positions = double ? new Float64Array(3 * n) : new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    positions[3 * i] = xyz[0][i];
    positions[3 * i + 1] = xyz[1][i];
    positions[3 * i + 2] = xyz[2][i];
  }
  let colors: Uint8Array | undefined;
  const [r, g, b] = ["red", "green", "blue"].map((k) => vertex.scalars.get(k));
  if (r && g && b) {
    const a = vertex.scalars.get("alpha");
    colors = new Uint8Array(4 * n);
    for (let i = 0; i < n; i++) {
      colors[4 * i] = r[i];
      colors[4 * i + 1] = g[i];
      colors[4 * i + 2] = b[i];
      colors[4 * i + 3] = a ? a[i] : 255;
    }
  }
  const face = ply.elements.find((e) => e.name === "face");
  const list = face?.lists.get("vertex_indices") ?? face?.lists.get("vertex_index");
  const tris: number[] = [];
  if (face && list) {
    for (let f = 0; f < face.count; f++) {
      const s = list.offsets[f], e = list.offsets[f + 1];
      for (let k = s + 1; k + 1 < e; k++) {
        const a = list.values[s], b2 = list.values[k], c = list.values[k + 1];
        if (a < 0 || b2 < 0 || c < 0 || a >= n || b2 >= n || c >= n) {
          throw new DataError(file, `face ${f}`, `vertex indices below ${n}`, `${a} ${b2} ${c}`);
        }
        tris.push(a, b2, c);
      }
    }
  }
  return { positions, colors, triangles: Uint32Array.from(tris) };
}

/**
 * Writes a mesh in ScanNet's `_vh_clean_2.ply` layout: binary little endian, float xyz,
 * uchar RGBA (opaque grey when `colors` is omitted), triangles as `list uchar int`.
 *
 * @example
 * ```ts
 * const bytes = writeMeshPly({ positions: Float32Array.of(0, 0, 0, 1, 0, 0, 0, 1, 0), triangles: Uint32Array.of(0, 1, 2) });
 * const head = new TextDecoder().decode(bytes.subarray(0, 40));
 * if (!head.startsWith("ply\nformat binary_little_endian 1.0")) throw new Error(head);
 * ```
 */
export function writeMeshPly(mesh: PlyMesh, comment = "vlm3r synth"): Uint8Array {
  const nv = mesh.positions.length / 3, nf = mesh.triangles.length / 3;
  const header = "ply\nformat binary_little_endian 1.0\n" + `comment ${comment}\n` +
    `element vertex ${nv}\nproperty float x\nproperty float y\nproperty float z\n` +
    "property uchar red\nproperty uchar green\nproperty uchar blue\nproperty uchar alpha\n" +
    `element face ${nf}\nproperty list uchar int vertex_indices\nend_header\n`;
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(head.length + nv * 16 + nf * 13);
  out.set(head);
  const view = new DataView(out.buffer);
  let off = head.length;
  for (let i = 0; i < nv; i++) {
    view.setFloat32(off, mesh.positions[3 * i], true);
    view.setFloat32(off + 4, mesh.positions[3 * i + 1], true);
    view.setFloat32(off + 8, mesh.positions[3 * i + 2], true);
    for (let c = 0; c < 4; c++) {
      out[off + 12 + c] = mesh.colors ? mesh.colors[4 * i + c] : c === 3 ? 255 : 128;
    }
    off += 16;
  }
  for (let f = 0; f < nf; f++) {
    out[off] = 3;
    view.setInt32(off + 1, mesh.triangles[3 * f], true);
    view.setInt32(off + 5, mesh.triangles[3 * f + 1], true);
    view.setInt32(off + 9, mesh.triangles[3 * f + 2], true);
    off += 13;
  }
  return out;
}
