/**
 * A one-line progress bar for stderr: count, rate and ETA, redrawn at most ten times a second.
 * Disabled (silent) unless stderr is a terminal and `--quiet` is not given.
 *
 * @module
 */

/** Options of {@link Progress}. */
export interface ProgressOptions {
  enabled: boolean;
  /** What is counted (`frames`, `scenes`). */
  unit?: string;
  write: (text: string) => void;
  /** Clock in milliseconds (tests pass a fake one). */
  now?: () => number;
}

/**
 * Progress of `total` steps.
 *
 * @example
 * ```ts
 * let shown = "";
 * let t = 0;
 * const p = new Progress("synth", 10, { enabled: true, unit: "frames", write: (s) => (shown += s), now: () => t });
 * t = 2000;
 * p.tick(5);
 * if (!shown.includes("5/10") || !shown.includes("2.5 frames/s") || !shown.includes("ETA 0:02")) throw new Error(shown);
 * p.done();
 * ```
 */
export class Progress {
  #done = 0;
  #start: number;
  #lastDraw = -Infinity;
  #now: () => number;

  constructor(readonly label: string, readonly total: number, readonly options: ProgressOptions) {
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** Advances by `n` steps. */
  tick(n = 1): void {
    this.set(this.#done + n);
  }

  /** Sets the number of completed steps. */
  set(done: number): void {
    this.#done = done;
    if (!this.options.enabled) return;
    const now = this.#now();
    if (now - this.#lastDraw < 100 && done < this.total) return;
    this.#lastDraw = now;
    this.options.write("\r\x1b[K" + this.line(now));
  }

  /** Clears the bar. */
  done(): void {
    if (this.options.enabled) this.options.write("\r\x1b[K");
  }

  /** The bar as text, e.g. `synth [#####-----] 150/300  24.1 frames/s  ETA 0:06`. */
  line(now = this.#now()): string {
    const width = 24;
    const frac = this.total > 0 ? Math.min(1, this.#done / this.total) : 1;
    const filled = Math.round(frac * width);
    const secs = (now - this.#start) / 1000;
    const rate = secs > 0 ? this.#done / secs : 0;
    const eta = rate > 0 ? (this.total - this.#done) / rate : NaN;
    const unit = this.options.unit ?? "items";
    return `${this.label} [${"#".repeat(filled)}${
      "-".repeat(width - filled)
    }] ${this.#done}/${this.total}` +
      `  ${rate.toFixed(1)} ${unit}/s  ETA ${Number.isFinite(eta) ? clock(eta) : "?"}`;
  }
}

function clock(seconds: number): string {
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(r).padStart(2, "0")}`;
}
