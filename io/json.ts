/**
 * JSON as Python writes it: `json.dump` writes `NaN`, `Infinity` and `-Infinity` as bare
 * literals by default (ScanNet frame metadata has `-Infinity` poses), which `JSON.parse`
 * rejects. {@link parsePythonJson} reads them as the numbers they stand for, so the reader can
 * report the field that holds one instead of losing the whole file.
 *
 * @module
 */

// Strings first, so that a literal inside a string is never touched.
const TOKENS = /"(?:[^"\\]+|\\.)*"|-?Infinity|NaN/g;

/**
 * Parses JSON that may contain Python's `NaN`, `Infinity` and `-Infinity` literals (outside
 * strings). Plain JSON takes the fast path; a syntax error that is not about those literals
 * is thrown as `JSON.parse` throws it.
 *
 * @example
 * ```ts
 * const v = parsePythonJson('{"a": [NaN, -Infinity, 1], "b": "NaN"}') as { a: number[]; b: string };
 * if (!Number.isNaN(v.a[0]) || v.a[1] !== -Infinity || v.a[2] !== 1 || v.b !== "NaN") {
 *   throw new Error(JSON.stringify(v));
 * }
 * ```
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!/NaN|Infinity/.test(text)) throw e;
  }
  // ±Infinity become number literals that overflow to ±Infinity. NaN has no literal: it
  // becomes one that appears nowhere in the text, recognised by its source in the reviver.
  let nan = "0e-99999";
  while (text.includes(nan)) nan += "9";
  let sawNaN = false;
  const replaced = text.replace(TOKENS, (t) => {
    if (t === "NaN") {
      sawNaN = true;
      return nan;
    }
    return t === "Infinity" ? "1e99999" : t === "-Infinity" ? "-1e99999" : t;
  });
  if (!sawNaN) return JSON.parse(replaced);
  return JSON.parse(
    replaced,
    // The third argument (the value's source text) is ES2025's JSON.parse source access.
    (_key, value, context?: { source?: string }) => context?.source === nan ? NaN : value,
  );
}

/**
 * A short rendering of a value for messages: JSON, with non-finite numbers written as
 * `NaN` / `Infinity` (JSON would print `null`), cut to `max` characters.
 *
 * @example
 * ```ts
 * if (describeValue([1, NaN, -Infinity]) !== "[1,NaN,-Infinity]") throw new Error();
 * if (describeValue("x".repeat(50)).length !== 40) throw new Error();
 * ```
 */
export function describeValue(v: unknown, max = 40): string {
  const tag = "\u0000nonfinite:";
  const s = JSON.stringify(
    v,
    (_k, x) => typeof x === "number" && !Number.isFinite(x) ? `${tag}${x}` : x,
  )?.replace(/"\\u0000nonfinite:([^"]*)"/g, "$1");
  const out = s === undefined ? String(v) : s;
  return out.length > max ? out.slice(0, max - 3) + "..." : out;
}
