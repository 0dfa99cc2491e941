/**
 * Reading large text files line by line, in bounded memory: JSON lines of questions,
 * predictions, shard files and journals of any size.
 *
 * @module
 */

/** One line of a file. */
export interface Line {
  /** The text, without its `\n` (a `\r` before it is kept). */
  text: string;
  /** 1-based line number. */
  number: number;
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past the line's `\n` (or past its last byte at the end of the file). */
  end: number;
  /** Whether the file ends after this line without a final `\n` (a half-written last line). */
  unterminated: boolean;
  /** Whether the line's bytes are not valid UTF-8 (bad bytes read as U+FFFD). */
  invalidUtf8: boolean;
}

/** Options of {@link readLines}. */
export interface ReadLinesOptions {
  /** Byte offset to start at (the start of a line). */
  from?: number;
  /** Line number of the line at `from` (default 1). */
  firstLine?: number;
  /** Bytes read at a time (default 1 MiB). */
  chunk?: number;
}

/**
 * The lines of `path`, read a chunk at a time: memory holds one chunk and the current line,
 * whatever the file's size. Bytes that are not valid UTF-8 become U+FFFD and mark the line.
 *
 * @example
 * ```ts
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, Uint8Array.of(0x61, 0x0a, 0x62, 0xe9, 0x0a, 0x63));
 * const lines = [];
 * for await (const l of readLines(path, { chunk: 2 })) lines.push(l);
 * if (lines.map((l) => l.text).join("|") !== "a|b\ufffd|c") throw new Error();
 * if (!lines[1].invalidUtf8 || !lines[2].unterminated || lines[2].start !== 5) throw new Error();
 * await Deno.remove(path);
 * ```
 */
export async function* readLines(
  path: string,
  options: ReadLinesOptions = {},
): AsyncGenerator<Line> {
  const file = await Deno.open(path, { read: true });
  const strict = new TextDecoder("utf-8", { fatal: true });
  const lenient = new TextDecoder();
  const decode = (bytes: Uint8Array): [string, boolean] => {
    try {
      return [strict.decode(bytes), false];
    } catch {
      return [lenient.decode(bytes), true];
    }
  };
  try {
    let offset = options.from ?? 0;
    if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
    let number = options.firstLine ?? 1;
    const size = options.chunk ?? 1 << 20;
    // Bytes of the line being assembled across chunks.
    let carry: Uint8Array[] = [];
    let carryBytes = 0;
    const buf = new Uint8Array(size);
    for (;;) {
      const n = await file.read(buf);
      if (n === null) break;
      const data = buf.subarray(0, n);
      let at = 0;
      for (;;) {
        const nl = data.indexOf(0x0a, at);
        if (nl < 0) break;
        let bytes: Uint8Array = data.subarray(at, nl);
        if (carry.length) {
          bytes = concat([...carry, bytes], carryBytes + bytes.length);
          carry = [];
          carryBytes = 0;
        }
        const [text, invalidUtf8] = decode(bytes);
        yield {
          text,
          number: number++,
          start: offset,
          end: offset + bytes.length + 1,
          unterminated: false,
          invalidUtf8,
        };
        offset += bytes.length + 1;
        at = nl + 1;
      }
      if (at < n) {
        carry.push(data.slice(at));
        carryBytes += n - at;
      }
    }
    if (carryBytes > 0) {
      const bytes = concat(carry, carryBytes);
      const [text, invalidUtf8] = decode(bytes);
      yield {
        text,
        number,
        start: offset,
        end: offset + bytes.length,
        unterminated: true,
        invalidUtf8,
      };
    }
  } finally {
    file.close();
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The first non-blank characters of a file (up to `n`), without reading all of it: enough to
 * tell JSON lines from one JSON document.
 *
 * @example
 * ```ts
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "\n  [1, 2]");
 * if (await fileHead(path, 3) !== "[1,") throw new Error();
 * await Deno.remove(path);
 * ```
 */
export async function fileHead(path: string, n = 1): Promise<string> {
  const file = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(64 * 1024);
    let head = "";
    const dec = new TextDecoder();
    for (;;) {
      const got = await file.read(buf);
      if (got === null) return head;
      head += dec.decode(buf.subarray(0, got), { stream: true }).replace(/\s+/g, "");
      if (head.length >= n) return head.slice(0, n);
    }
  } finally {
    file.close();
  }
}
