/**
 * The request queue of `vlm3r serve`: one job on the GPU at a time, first come first served,
 * at most `capacity` waiting. A waiting job whose client went away, or whose time ran out, is
 * dropped without running; a running job always finishes (GPU work is not interrupted), and
 * an answer nobody waits for any more is thrown away.
 *
 * @module
 */

/** The queue already holds `capacity` waiting jobs. */
export class QueueFull extends Error {
  constructor(capacity: number) {
    super(`the queue is full (${capacity} requests waiting); retry later`);
    this.name = "QueueFull";
  }
}

/** The queue was closed (the server is shutting down) before the job started. */
export class QueueClosed extends Error {
  constructor() {
    super("the server is shutting down");
    this.name = "QueueClosed";
  }
}

/** The job's client went away before it started: it was dropped. */
export class JobDropped extends Error {
  constructor() {
    super("the client went away before its job started");
    this.name = "JobDropped";
  }
}

/** The job's time ran out; `started` says whether it was running (it still finishes). */
export class JobTimeout extends Error {
  constructor(readonly seconds: number, readonly started: boolean) {
    super(
      `no answer within ${seconds} s (${started ? "it was running" : "it was still waiting"})`,
    );
    this.name = "JobTimeout";
  }
}

/** Options of {@link JobQueue.submit}. */
export interface SubmitOptions {
  /** The client's signal: an abort drops the job if it has not started. */
  signal?: AbortSignal;
  /** Milliseconds until the submission fails with {@link JobTimeout}. */
  timeoutMs?: number;
}

/** What the queue did so far. */
export interface QueueCounts {
  /** Jobs that ran and succeeded. */
  completed: number;
  /** Jobs that ran and threw. */
  failed: number;
  /** Submissions refused because the queue was full. */
  rejected: number;
  /** Waiting jobs dropped because their client went away. */
  dropped: number;
  /** Submissions whose time ran out (waiting or running). */
  timedOut: number;
}

interface Entry {
  job: () => Promise<unknown>;
  settle: (ok: boolean, value: unknown) => void;
  started: boolean;
}

/**
 * A bounded first-in-first-out queue that runs one job at a time.
 *
 * @example
 * ```ts
 * const queue = new JobQueue(1);
 * const order: string[] = [];
 * const job = (name: string) => async () => { order.push(name); return name; };
 * const [a, b] = await Promise.all([queue.submit(job("a")), queue.submit(job("b"))]);
 * if (a !== "a" || b !== "b" || order.join() !== "a,b") throw new Error();
 * ```
 */
export class JobQueue {
  readonly #waiting: Entry[] = [];
  #running: Entry | undefined;
  #closed = false;
  #idle: (() => void)[] = [];
  /** What the queue did so far. */
  readonly counts: QueueCounts = { completed: 0, failed: 0, rejected: 0, dropped: 0, timedOut: 0 };

  /** `capacity`: jobs that may wait while one runs. */
  constructor(readonly capacity: number) {}

  /** Jobs waiting. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Whether a job is running. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queues `job` and resolves with its result. Throws {@link QueueFull} at once when
   * `capacity` jobs wait, {@link QueueClosed} after {@link close}, {@link JobDropped} when
   * `signal` aborts before the job starts, {@link JobTimeout} when `timeoutMs` passes first.
   */
  submit<T>(job: () => Promise<T>, options: SubmitOptions = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new QueueClosed());
    if (options.signal?.aborted) return Promise.reject(new JobDropped());
    if (this.#waiting.length >= this.capacity && (this.#running || this.#waiting.length)) {
      this.counts.rejected++;
      return Promise.reject(new QueueFull(this.capacity));
    }
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const entry: Entry = {
        job,
        started: false,
        settle: (ok, value) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
          if (ok) resolve(value as T);
          else reject(value);
        },
      };
      const leave = () => {
        const at = this.#waiting.indexOf(entry);
        if (at >= 0) this.#waiting.splice(at, 1);
        this.#checkIdle();
      };
      const onAbort = () => {
        if (entry.started) return; // a running job finishes; its answer is thrown away
        leave();
        this.counts.dropped++;
        entry.settle(false, new JobDropped());
      };
      options.signal?.addEventListener("abort", onAbort);
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          if (!entry.started) leave();
          this.counts.timedOut++;
          entry.settle(false, new JobTimeout(options.timeoutMs! / 1000, entry.started));
        }, options.timeoutMs);
      }
      this.#waiting.push(entry);
      this.#pump();
    });
  }

  /** Refuses new jobs and fails the waiting ones with {@link QueueClosed}; the running one goes on. */
  close(): void {
    this.#closed = true;
    for (const e of this.#waiting.splice(0)) e.settle(false, new QueueClosed());
    this.#checkIdle();
  }

  /** Resolves when no job runs and none waits. */
  idle(): Promise<void> {
    if (!this.#running && !this.#waiting.length) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  #checkIdle(): void {
    if (this.#running || this.#waiting.length) return;
    for (const r of this.#idle.splice(0)) r();
  }

  #pump(): void {
    if (this.#running) return;
    const entry = this.#waiting.shift();
    if (!entry) return this.#checkIdle();
    this.#running = entry;
    entry.started = true;
    let run: Promise<unknown>;
    try {
      run = entry.job();
    } catch (e) {
      run = Promise.reject(e);
    }
    run.then(
      (value) => {
        this.counts.completed++;
        entry.settle(true, value);
      },
      (e) => {
        this.counts.failed++;
        entry.settle(false, e);
      },
    ).finally(() => {
      this.#running = undefined;
      this.#pump();
    });
  }
}
