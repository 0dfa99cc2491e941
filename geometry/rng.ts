/**
 * Seeded pseudo-random numbers. Every random choice in vlm3r goes through {@link Rng}, so one
 * seed reproduces a whole run byte for byte, whatever the worker count or scene order: a
 * sub-task asks for {@link Rng.child} by name instead of sharing a stream whose state depends
 * on what ran before it.
 *
 * @module
 */

/** Hashes a string to four 32-bit words (a murmur-style mix over UTF-16 code units). */
function hash128(key: string): [number, number, number, number] {
  let h1 = 0x9e3779b9, h2 = 0x243f6a88, h3 = 0xb7e15162, h4 = 0x85a308d3;
  for (let i = 0; i < key.length; i++) {
    const k = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ k, 0x85ebca6b);
    h2 = Math.imul(h2 ^ k, 0xc2b2ae35);
    h3 = Math.imul(h3 ^ k, 0x27d4eb2f);
    h4 = Math.imul(h4 ^ k, 0x165667b1);
    h1 = (h1 << 13) | (h1 >>> 19);
    h2 = (h2 << 17) | (h2 >>> 15);
    h3 = (h3 << 11) | (h3 >>> 21);
    h4 = (h4 << 7) | (h4 >>> 25);
  }
  const fin = (h: number, salt: number) => {
    h = Math.imul(h ^ (h >>> 16) ^ salt, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  const mix = (h1 ^ h2 ^ h3 ^ h4 ^ key.length) >>> 0;
  return [fin(h1, mix), fin(h2, mix), fin(h3, mix), fin(h4, mix)];
}

/**
 * A small fast generator (sfc32) seeded from a string key.
 *
 * @example
 * ```ts
 * const a = new Rng(42), b = new Rng(42);
 * if (a.next() !== b.next()) throw new Error("same seed, same stream");
 * const x = a.uniform(3, 9);
 * if (x < 3 || x >= 9) throw new Error("uniform is half-open");
 * ```
 */
export class Rng {
  /** The key this stream was seeded from; children extend it. */
  readonly key: string;
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds a stream from a number or a string key. */
  constructor(seed: number | string) {
    this.key = String(seed);
    [this.#a, this.#b, this.#c, this.#d] = hash128(this.key);
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  /**
   * An independent stream named by `label`: its values depend only on this stream's key and
   * the label, never on how many values this stream has produced.
   *
   * @example
   * ```ts
   * const r = new Rng(7);
   * const before = r.child("scene0").next();
   * r.next();
   * if (r.child("scene0").next() !== before) throw new Error("children are stable");
   * ```
   */
  child(label: string | number): Rng {
    return new Rng(`${this.key}/${label}`);
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const a = this.#a, b = this.#b, c = this.#c, d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    this.#c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element, uniformly. Throws on an empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Rng.pick: empty list");
    return items[Math.floor(this.next() * items.length)];
  }

  /** One element with probability proportional to its weight. */
  pickWeighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i];
      if (r < 0) return items[i];
    }
    return items[items.length - 1];
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** A standard normal deviate (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}
