/**
 * A restricted reader of Python pickles (protocols 0 to 5, without out-of-band buffers), in the
 * spirit of PyTorch's `weights_only` unpickler: it never calls anything.
 *
 * - Plain values become JavaScript values: `None` null, `bool`, `int` number (bigint beyond
 *   2^53), `float` number, `str` string, `bytes` Uint8Array, `list` array, `tuple` frozen array,
 *   `dict` Map, `set`/`frozenset` array.
 * - A class or function reference (`GLOBAL`, `STACK_GLOBAL`) becomes a {@link PyGlobal}.
 * - Instances of any class (`NEWOBJ`, `NEWOBJ_EX`, `OBJ`, `INST`, then `BUILD`) become inert
 *   {@link PyObject} records of class name, arguments and state: argparse `Namespace`, OmegaConf
 *   `DictConfig`/`AnyNode`, ... are readable as data.
 * - `REDUCE` (a call in Python) is accepted only for the callables of {@link REDUCERS}, each
 *   interpreted here as data (an `OrderedDict`, a tensor view, a record); any other callable
 *   (`os.system`, `builtins.eval`, ...) is refused with a `DataError` before anything else is
 *   read.
 * - Persistent ids (how `torch.save` refers to storages) go to the caller's `persistentLoad`.
 *
 * @module
 */

import { DataError } from "../../io/errors.ts";

/** A reference to a Python class or function, kept as its dotted name. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  /** `module.name`. */
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of a class the reader does not interpret: inert data. */
export class PyObject {
  constructor(
    /** `module.Class`. */
    readonly className: string,
    /** Constructor arguments (`NEWOBJ`), usually empty. */
    readonly args: readonly PyValue[],
    /** What `BUILD` set (`__setstate__`/`__dict__`), or undefined. */
    public state?: PyValue,
  ) {}
}

/** Any value a pickle can hold here. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly PyValue[]
  | Map<PyValue, PyValue>
  | PyGlobal
  | PyObject
  | { readonly [k: string]: unknown }; // values made by reducers and persistentLoad

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** Names the pickle in errors (`adapter_model.bin: adapter_model/data.pkl`). */
  label: string;
  /** Turns a persistent id (torch: `('storage', type, key, location, numel)`) into a value. */
  persistentLoad?: (pid: PyValue) => PyValue;
}

type Reducer = (args: readonly PyValue[], where: string) => PyValue;

/** Builds a record of a reduced call. */
function recordOf(name: string): Reducer {
  return (args) => new PyObject(name, args);
}

const asMap = (args: readonly PyValue[]): Map<PyValue, PyValue> => {
  const m = new Map<PyValue, PyValue>();
  const items = args[0];
  if (Array.isArray(items)) {
    for (const kv of items) if (Array.isArray(kv)) m.set(kv[0], kv[1]);
  } else if (items instanceof Map) {
    for (const [k, v] of items) m.set(k, v);
  }
  return m;
};

/**
 * The callables a pickle may `REDUCE`, by qualified name, and what each becomes. Extended by
 * the torch reader with its tensor builders. Everything else is refused.
 */
export const REDUCERS: Map<string, Reducer> = new Map<string, Reducer>([
  ["collections.OrderedDict", asMap],
  ["collections.defaultdict", () => new Map()],
  ["builtins.dict", asMap],
  ["__builtin__.dict", asMap],
  ["builtins.list", (a) => Array.isArray(a[0]) ? [...a[0]] : []],
  ["__builtin__.list", (a) => Array.isArray(a[0]) ? [...a[0]] : []],
  ["builtins.set", (a) => Array.isArray(a[0]) ? [...a[0]] : []],
  ["__builtin__.set", (a) => Array.isArray(a[0]) ? [...a[0]] : []],
  ["builtins.frozenset", (a) => Array.isArray(a[0]) ? [...a[0]] : []],
  ["__builtin__.frozenset", (a) => Array.isArray(a[0]) ? [...a[0]] : []],
  // Protocol 2 pickles `bytes` as _codecs.encode(str, "latin1").
  ["_codecs.encode", (a, where) => {
    if (typeof a[0] !== "string") throw new DataError(where, "_codecs.encode", "a str argument");
    return Uint8Array.from(a[0], (c) => c.charCodeAt(0) & 0xff);
  }],
  // Records: instances rebuilt by a call in Python, kept as data here.
  ["copyreg._reconstructor", (a) => {
    const cls = a[0];
    return new PyObject(cls instanceof PyGlobal ? cls.qualname : "?", a.slice(1));
  }],
  ["numpy.core.multiarray.scalar", recordOf("numpy.core.multiarray.scalar")],
  ["numpy._core.multiarray.scalar", recordOf("numpy._core.multiarray.scalar")],
  ["numpy.dtype", recordOf("numpy.dtype")],
]);

const MARK = Symbol("mark");
type Item = PyValue | typeof MARK;

/**
 * Reads one pickle. Never executes anything: see the module notes for what each construct
 * becomes and what is refused.
 *
 * @example
 * ```ts
 * // pickle.dumps({"a": (1, 2.5, "x")}, protocol=2)
 * const bytes = new Uint8Array([
 *   0x80, 2, 0x7d, 0x71, 0, 0x58, 1, 0, 0, 0, 0x61, 0x71, 1, 0x4b, 1, 0x47,
 *   0x40, 4, 0, 0, 0, 0, 0, 0, 0x58, 1, 0, 0, 0, 0x78, 0x71, 2, 0x87, 0x71, 3, 0x73, 0x2e,
 * ]);
 * const v = unpickle(bytes, { label: "x.pkl" }) as Map<string, unknown[]>;
 * if (v.get("a")!.join() !== "1,2.5,x") throw new Error();
 * ```
 */
export function unpickle(
  bytes: Uint8Array,
  options: UnpickleOptions,
  reducers: ReadonlyMap<string, Reducer> = REDUCERS,
): PyValue {
  const { label } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: Item[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  let p = 0;
  let at = 0; // offset of the opcode being run, for errors
  const fail = (expected: string, got?: string): never => {
    throw new DataError(label, `opcode at byte ${at}`, expected, got);
  };
  const need = (n: number) => {
    if (p + n > bytes.length) fail(`${n} more bytes`, "end of data (truncated pickle)");
  };
  const u8 = () => (need(1), bytes[p++]);
  const u16 = () => (need(2), p += 2, view.getUint16(p - 2, true));
  const u32 = () => (need(4), p += 4, view.getUint32(p - 4, true));
  const i32 = () => (need(4), p += 4, view.getInt32(p - 4, true));
  const u64 = () => {
    need(8);
    p += 8;
    const v = view.getBigUint64(p - 8, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail("a length below 2^53");
    return Number(v);
  };
  const take = (n: number) => (need(n), p += n, bytes.subarray(p - n, p));
  const utf8 = (b: Uint8Array) => new TextDecoder("utf-8", { fatal: false }).decode(b);
  const line = () => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) fail("a newline-terminated argument", "end of data (truncated pickle)");
    const s = new TextDecoder("latin1").decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0) fail("a value on the stack", "an empty stack");
    const v = stack.pop()!;
    if (v === MARK) fail("a value on the stack", "a mark");
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail("a value on the stack");
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail("a mark", "none");
    return stack.splice(m!) as PyValue[];
  };
  const tuple = (items: PyValue[]): readonly PyValue[] => Object.freeze(items);
  const signedLe = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return small(v);
  };
  const small = (v: bigint): number | bigint =>
    v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  const memoGet = (i: number) => {
    if (!memo.has(i)) fail(`memo entry ${i}`, "none");
    return memo.get(i)!;
  };
  const global = (module: string, name: string) => {
    if (module.includes("\n") || name.includes("\n")) fail("a global name");
    return new PyGlobal(module, name);
  };
  const setItems = (d: PyValue, items: PyValue[]) => {
    if (d instanceof Map) {
      for (let i = 0; i + 1 < items.length; i += 2) d.set(key(items[i]), items[i + 1]);
    } else if (d instanceof PyObject) {
      // __setitem__ on a record (a dict subclass): keep the items in its state.
      const m = d.state instanceof Map ? d.state : new Map<PyValue, PyValue>();
      for (let i = 0; i + 1 < items.length; i += 2) m.set(key(items[i]), items[i + 1]);
      d.state = m;
    } else fail("a dict to set items on", describe(d));
  };
  const appendItems = (l: PyValue, items: PyValue[]) => {
    if (Array.isArray(l) && !Object.isFrozen(l)) (l as PyValue[]).push(...items);
    else if (l instanceof PyObject) {
      const arr = Array.isArray(l.state) ? l.state as PyValue[] : [];
      arr.push(...items);
      l.state = arr;
    } else fail("a list to append to", describe(l));
  };
  const instantiate = (cls: PyValue, args: readonly PyValue[]): PyObject => {
    if (!(cls instanceof PyGlobal)) return fail("a class", describe(cls));
    return new PyObject(cls.qualname, args);
  };

  while (true) {
    if (p >= bytes.length) fail("STOP", "end of data (truncated pickle)");
    at = p;
    const op = bytes[p++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail("protocol <= 5");
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail("one value on the stack at STOP", `${stack.length}`);
        return pop();
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (stack.length && stack[stack.length - 1] === MARK) {
          stack.pop();
          marks.pop();
        } else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(signedLe(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(signedLe(take(u32())));
        break;
      case 0x49: { // INT
        const s = line();
        if (s === "00" || s === "01") stack.push(s === "01");
        else stack.push(small(BigInt(s)));
        break;
      }
      case 0x4c: // LONG
        stack.push(small(BigInt(line().replace(/L$/, ""))));
        break;
      case 0x46: // FLOAT
        stack.push(Number(line()));
        break;
      case 0x47: // BINFLOAT
        need(8);
        p += 8;
        stack.push(view.getFloat64(p - 8, false));
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape)
        stack.push(
          line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
        );
        break;
      case 0x55: // SHORT_BINSTRING (py2 str)
        stack.push(new TextDecoder("latin1").decode(take(u8())));
        break;
      case 0x54: // BINSTRING
        stack.push(new TextDecoder("latin1").decode(take(i32())));
        break;
      case 0x53: { // STRING
        const s = line();
        stack.push(s.replace(/^(['"])(.*)\1$/s, "$2"));
        break;
      }
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop(), a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop(), b = pop(), a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const m = new Map<PyValue, PyValue>();
        setItems(m, popMark());
        stack.push(m);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(), k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(tuple(popMark()));
        break;
      case 0x70: // PUT
        memo.set(Number(line()), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
        stack.push(memoGet(Number(line())));
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x63: { // GLOBAL
        const module = line(), name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          fail("two strings for STACK_GLOBAL");
        }
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        if (!(fn instanceof PyGlobal)) fail("a global callable for REDUCE", describe(fn));
        const g = fn as PyGlobal;
        const reducer = reducers.get(g.qualname) ??
          reducers.get(g.qualname.replace(/^__builtin__\./, "builtins."));
        if (!reducer) {
          fail(
            "a callable from the allowlist (tensor and container builders only)",
            `${g.qualname} (refused: this pickle would run it)`,
          );
        }
        if (!Array.isArray(args)) fail("an argument tuple for REDUCE", describe(args));
        stack.push(reducer!(args as PyValue[], label));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop(), cls = pop();
        stack.push(instantiate(cls, Array.isArray(args) ? args : []));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop(); // kwargs
        const args = pop(), cls = pop();
        stack.push(instantiate(cls, Array.isArray(args) ? args : []));
        break;
      }
      case 0x6f: { // OBJ
        const items = popMark();
        if (items.length === 0) fail("a class after MARK for OBJ");
        stack.push(instantiate(items[0], items.slice(1)));
        break;
      }
      case 0x69: { // INST
        const module = line(), name = line();
        stack.push(new PyObject(`${module}.${name}`, popMark()));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) {
          if (obj.state instanceof Map && state instanceof Map) {
            for (const [k, v] of state) obj.state.set(k, v);
          } else obj.state = state;
        } else if (obj instanceof Map || (typeof obj === "object" && obj !== null)) {
          // A dict subclass or a rebuilt tensor with extra state: nothing to apply.
        } else fail("an object for BUILD", describe(obj));
        break;
      }
      case 0x50: { // PERSID
        if (!options.persistentLoad) fail("no persistent ids in this pickle");
        stack.push(options.persistentLoad!(line()));
        break;
      }
      case 0x51: { // BINPERSID
        if (!options.persistentLoad) fail("no persistent ids in this pickle");
        stack.push(options.persistentLoad!(pop()));
        break;
      }
      default:
        fail(
          "an opcode of pickle protocols 0-5 (no extension registry or out-of-band buffers)",
          `0x${op.toString(16).padStart(2, "0")}`,
        );
    }
  }
}

// Dict keys: strings, numbers and booleans by value; other objects by identity.
function key(k: PyValue): PyValue {
  return k;
}

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "None";
  if (v instanceof PyGlobal) return v.qualname;
  if (v instanceof PyObject) return `a ${v.className} record`;
  if (v instanceof Map) return "a dict";
  if (Array.isArray(v)) return Object.isFrozen(v) ? "a tuple" : "a list";
  return typeof v;
}
