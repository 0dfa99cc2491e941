/**
 * Reading a model's answer the way lmms-eval's VSI-Bench and VSTI-Bench tasks do, with Python's
 * string and float semantics reproduced exactly (the scorer calls `str.split(" ")`,
 * `str.rstrip(".")`, `str.strip()` and `float()`; JavaScript's `trim` and `Number` differ from
 * them on several inputs).
 *
 * @module
 */

// Python's str.isspace() set: what str.strip() removes (JS trim() also strips U+FEFF and keeps
// U+001C..U+001F and U+0085).
const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029" +
  "\\u202f\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");

/**
 * Python's `s.strip()` with no argument.
 *
 * @example
 * ```ts
 * if (pythonStrip("\x1c A \u0085") !== "A") throw new Error();
 * if (pythonStrip("\ufeffA") !== "\ufeffA") throw new Error("U+FEFF is not Python whitespace");
 * ```
 */
export function pythonStrip(s: string): string {
  return s.replace(PY_STRIP, "");
}

/**
 * lmms-eval's `fuzzy_matching`: the text before the first space character (a plain split on
 * `" "`, so a leading space gives an empty answer and tabs or newlines do not split), every
 * trailing `.` removed, then Python whitespace stripped.
 *
 * @example
 * ```ts
 * if (fuzzyMatch("A. chair") !== "A") throw new Error();
 * if (fuzzyMatch("3.5...") !== "3.5") throw new Error();
 * if (fuzzyMatch(" B") !== "") throw new Error("a leading space leaves nothing");
 * ```
 */
export function fuzzyMatch(prediction: string): string {
  const space = prediction.indexOf(" ");
  let token = space < 0 ? prediction : prediction.slice(0, space);
  let end = token.length;
  while (end > 0 && token.charCodeAt(end - 1) === 46) end--;
  token = token.slice(0, end);
  return pythonStrip(token);
}

/**
 * lmms-eval's `exact_match`: 1 when the two strings are equal ignoring case, else 0.
 *
 * @example
 * ```ts
 * if (exactMatch("a", "A") !== 1 || exactMatch("(A)", "A") !== 0) throw new Error();
 * ```
 */
export function exactMatch(prediction: string, target: string): number {
  return prediction.toLowerCase() === target.toLowerCase() ? 1 : 0;
}

// Python's float() grammar (PEP 515 underscores between digits): digits, optional fraction,
// optional exponent; or inf, infinity, nan in any case.
const DIGITS = "[0-9](?:_?[0-9])*";
const PY_FLOAT = new RegExp(
  `^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`,
);
const PY_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
const NON_ASCII_DIGIT = /\p{Nd}/u;
// float() first maps non-ASCII whitespace to spaces, then strips only ASCII whitespace: unlike
// str.strip(), it keeps U+001C..U+001F (and so fails on them).
const FLOAT_SPACE =
  "\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const FLOAT_STRIP = new RegExp(`^[${FLOAT_SPACE}]+|[${FLOAT_SPACE}]+$`, "g");

/** Python maps every Unicode decimal digit to its value before parsing a float. */
function asciiDigits(s: string): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 128 || !NON_ASCII_DIGIT.test(ch)) {
      out += ch;
      continue;
    }
    // Unicode encodes decimal digits in runs of ten, 0 to 9: the value is the offset in the run.
    let start = cp;
    while (NON_ASCII_DIGIT.test(String.fromCodePoint(start - 1))) start--;
    out += String((cp - start) % 10);
  }
  return out;
}

/**
 * Python's `float(s)` for a string: the number, or `undefined` where Python raises ValueError
 * (lmms-eval's `to_float` then gives `None` and the answer scores 0).
 *
 * @example
 * ```ts
 * if (pythonFloat("1_000.5") !== 1000.5 || pythonFloat(" 2e3 ") !== 2000) throw new Error();
 * if (pythonFloat("3.5m") !== undefined || pythonFloat("0x10") !== undefined) throw new Error();
 * if (pythonFloat("") !== undefined || pythonFloat("-Infinity") !== -Infinity) throw new Error();
 * ```
 */
export function pythonFloat(s: string): number | undefined {
  let t = s.replace(FLOAT_STRIP, "");
  if (/[^ -~]/.test(t)) t = asciiDigits(t);
  if (PY_FLOAT.test(t)) return Number(t.replaceAll("_", ""));
  const special = PY_SPECIAL.exec(t);
  if (!special) return undefined;
  if (special[2].toLowerCase() === "nan") return NaN;
  return special[1] === "-" ? -Infinity : Infinity;
}
