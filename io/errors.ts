/**
 * Errors that reach the user as one line.
 *
 * @module
 */

/**
 * Bad input data: names the file, the field and what was expected.
 *
 * @example
 * ```ts
 * const e = new DataError("scene0000_00.txt", "axisAlignment", "16 numbers", "3 numbers");
 * if (e.message !== "scene0000_00.txt: axisAlignment: expected 16 numbers, got 3 numbers") {
 *   throw new Error(e.message);
 * }
 * ```
 */
export class DataError extends Error {
  /** Builds the one-line message `FILE: FIELD: expected X[, got Y]`. */
  constructor(
    readonly file: string,
    readonly field: string,
    readonly expected: string,
    readonly got?: string,
  ) {
    super(`${file}: ${field}: expected ${expected}${got === undefined ? "" : `, got ${got}`}`);
    this.name = "DataError";
  }
}
