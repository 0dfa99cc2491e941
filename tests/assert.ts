/**
 * Minimal assertions for the tests (jsr:@std/assert is unreachable here).
 *
 * @module
 */

/** Throws unless `cond` holds. */
export function assert(cond: unknown, message = "assertion failed"): asserts cond {
  if (!cond) throw new Error(message);
}

/** Deep equality through JSON-compatible structure and typed arrays. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  const a = canon(actual), e = canon(expected);
  if (a !== e) throw new Error(`${message ? message + ": " : ""}expected ${e}, got ${a}`);
}

/** |actual - expected| <= tol. */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tol = 1e-9,
  message?: string,
): void {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(
      `${message ? message + ": " : ""}expected ${expected} +- ${tol}, got ${actual}`,
    );
  }
}

/** Runs `fn` and returns what it throws; fails if it does not throw. */
export async function assertRejects(fn: () => unknown, match?: RegExp): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    if (match && !match.test(err.message)) {
      throw new Error(`error '${err.message}' does not match ${match}`);
    }
    return err;
  }
  throw new Error("expected an error");
}

function canon(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) => (ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : x),
  );
}
