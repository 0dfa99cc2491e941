/**
 * A minimal ONNX model writer: protobuf wire encoding of just the messages a plain inference
 * graph needs (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto),
 * written from the field numbers of onnx.proto.
 *
 * @module
 */

/** Appends protobuf fields to a growing byte buffer. */
class Pb {
  #buf = new Uint8Array(256);
  #n = 0;

  #reserve(k: number): void {
    if (this.#n + k <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#n + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#n));
    this.#buf = next;
  }

  #raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#n);
    this.#n += bytes.length;
  }

  #varint(v: bigint): void {
    // Negative int64 values are encoded as their 64-bit two's complement (10 bytes).
    let x = BigInt.asUintN(64, v);
    this.#reserve(10);
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      this.#buf[this.#n++] = byte;
    } while (x);
  }

  #key(field: number, wire: number): void {
    this.#varint(BigInt((field << 3) | wire));
  }

  int(field: number, v: number | bigint): this {
    this.#key(field, 0);
    this.#varint(BigInt(v));
    return this;
  }

  float(field: number, v: number): this {
    this.#key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.#raw(b);
    return this;
  }

  bytes(field: number, v: Uint8Array | string | Pb): this {
    const b = typeof v === "string" ? new TextEncoder().encode(v) : v instanceof Pb ? v.done() : v;
    this.#key(field, 2);
    this.#varint(BigInt(b.length));
    this.#raw(b);
    return this;
  }

  done(): Uint8Array {
    return this.#buf.subarray(0, this.#n);
  }
}

/** ONNX TensorProto.DataType values used here. */
const FLOAT = 1, INT64 = 7;

/** An attribute value: a number is an INT unless listed in `floats`; arrays are INTS. */
export type OnnxAttr = number | number[] | { float: number };

/** A dimension: a size, or a symbolic name. */
export type OnnxDim = number | string;

/**
 * Builds an ONNX graph node by node and serialises it as a model.
 *
 * @example
 * ```ts
 * const g = new OnnxGraph("add");
 * g.input("x", [2]);
 * g.initializer("one", [2], new Float32Array([1, 1]));
 * g.node("Add", ["x", "one"], ["y"]);
 * g.output("y", [2]);
 * const bytes = g.model();
 * if (bytes[0] !== 0x08) throw new Error("ir_version comes first");
 * ```
 */
export class OnnxGraph {
  readonly #nodes: Pb[] = [];
  readonly #inits: Pb[] = [];
  readonly #inputs: Pb[] = [];
  readonly #outputs: Pb[] = [];
  #count = 0;

  /** `name` becomes the graph's name. */
  constructor(readonly name: string) {}

  /** A float32 (or int64, for shapes) constant tensor. */
  initializer(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): string {
    const t = new Pb();
    for (const d of dims) t.int(1, d);
    t.int(2, data instanceof Float32Array ? FLOAT : INT64);
    t.bytes(8, name);
    t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.#inits.push(t);
    return name;
  }

  /** A float32 graph input. */
  input(name: string, dims: readonly OnnxDim[]): string {
    this.#inputs.push(valueInfo(name, dims));
    return name;
  }

  /** A float32 graph output. */
  output(name: string, dims: readonly OnnxDim[]): string {
    this.#outputs.push(valueInfo(name, dims));
    return name;
  }

  /** A node of the default domain; returns its first output's name. */
  node(
    op: string,
    inputs: readonly string[],
    outputs: readonly string[] = [`${op.toLowerCase()}_${this.#count}`],
    attrs: Record<string, OnnxAttr> = {},
  ): string {
    const n = new Pb();
    for (const i of inputs) n.bytes(1, i);
    for (const o of outputs) n.bytes(2, o);
    n.bytes(3, `${op}_${this.#count++}`);
    n.bytes(4, op);
    for (const [k, v] of Object.entries(attrs)) {
      const a = new Pb().bytes(1, k);
      if (typeof v === "number") a.int(3, v).int(20, 2);
      else if (Array.isArray(v)) {
        for (const x of v) a.int(8, x);
        a.int(20, 7);
      } else a.float(2, v.float).int(20, 1);
      n.bytes(5, a);
    }
    this.#nodes.push(n);
    return outputs[0];
  }

  /** The serialised ModelProto (IR version 8, default opset `opset`). */
  model(opset = 17): Uint8Array {
    const g = new Pb();
    for (const n of this.#nodes) g.bytes(1, n);
    g.bytes(2, this.name);
    for (const t of this.#inits) g.bytes(5, t);
    for (const i of this.#inputs) g.bytes(11, i);
    for (const o of this.#outputs) g.bytes(12, o);
    return new Pb()
      .int(1, 8)
      .bytes(2, "vlm3r")
      .bytes(7, g)
      .bytes(8, new Pb().bytes(1, "").int(2, opset))
      .done();
  }
}

function valueInfo(name: string, dims: readonly OnnxDim[]): Pb {
  const shape = new Pb();
  for (const d of dims) {
    shape.bytes(1, typeof d === "number" ? new Pb().int(1, d) : new Pb().bytes(2, d));
  }
  const tensor = new Pb().int(1, FLOAT).bytes(2, shape);
  return new Pb().bytes(1, name).bytes(2, new Pb().bytes(1, tensor));
}
