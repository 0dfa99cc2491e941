/**
 * A small pool of module workers for CPU-bound work (rendering, encoding, per-scene jobs).
 * Results come back per task, so callers keep their own order and output stays deterministic
 * whatever the pool size.
 *
 * A worker module calls {@link serveWorker} with its handlers; the main thread creates a
 * {@link WorkerPool} on that module's URL. (`deno compile` needs the worker module named with
 * `--include`; the `compile` task does that.)
 *
 * @module
 */

/** Messages from the main thread to a worker. */
type Inbound =
  | { kind: "setup"; id: number; data: unknown }
  | { kind: "task"; id: number; data: unknown };

/** Messages from a worker to the main thread. */
type Outbound =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string; stack?: string };

/** A result and the buffers to transfer (not copy) back to the main thread. */
export interface WorkerReply<T> {
  result: T;
  transfer?: Transferable[];
}

/** Handlers a worker module registers with {@link serveWorker}. */
export interface WorkerHandlers<S, T, R> {
  /** Receives shared context (a scene's mesh) before tasks that need it. */
  setup?: (data: S) => void | Promise<void>;
  /** Runs one task. */
  task: (data: T) => WorkerReply<R> | Promise<WorkerReply<R>>;
}

/**
 * Serves tasks inside a worker module. Call once at the top level of the worker file.
 *
 * @example
 * ```ts ignore
 * // square_worker.ts
 * serveWorker<never, number, number>({ task: (x) => ({ result: x * x }) });
 * ```
 */
export function serveWorker<S, T, R>(handlers: WorkerHandlers<S, T, R>): void {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent<Inbound>) => void) | null;
    postMessage(message: Outbound, transfer?: Transferable[]): void;
  };
  scope.onmessage = async (e: MessageEvent<Inbound>) => {
    const msg = e.data;
    try {
      if (msg.kind === "setup") {
        await handlers.setup?.(msg.data as S);
        scope.postMessage({ id: msg.id, ok: true, result: null });
      } else {
        const reply = await handlers.task(msg.data as T);
        scope.postMessage({ id: msg.id, ok: true, result: reply.result }, reply.transfer ?? []);
      }
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      const stack = err instanceof Error ? err.stack : undefined;
      scope.postMessage({ id: msg.id, ok: false, error, stack });
    }
  };
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (reason: Error) => void;
}

/**
 * A fixed set of workers running one module. `run` queues a task on the next free worker.
 *
 * @example
 * ```ts ignore
 * const pool = new WorkerPool<never, number, number>(new URL("./square_worker.ts", import.meta.url), 2);
 * const squares = await Promise.all([1, 2, 3].map((x) => pool.run(x)));
 * pool.close();
 * ```
 */
export class WorkerPool<S, T, R> {
  #slots: Slot[] = [];
  #queue: { msg: Inbound; transfer: Transferable[]; pending: Pending }[] = [];
  #pending = new Map<number, Pending & { slot: Slot }>();
  #nextId = 0;
  #failed: Error | undefined;

  /** Starts `size` workers on the module at `url`. */
  constructor(url: URL, size: number) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = new Worker(url.href, { type: "module" });
      const slot: Slot = { worker, busy: false };
      worker.onmessage = (e: MessageEvent<Outbound>) => this.#settle(slot, e.data);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#fail(new Error(`worker failed: ${e.message}`));
      };
      this.#slots.push(slot);
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /** Sends shared context to every worker; resolves when all have accepted it. */
  async setup(data: S): Promise<void> {
    await Promise.all(this.#slots.map((slot) => this.#post(slot, "setup", data, [])));
  }

  /** Runs one task on the next free worker. */
  run(data: T, transfer: Transferable[] = []): Promise<R> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise<R>((resolve, reject) => {
      const msg: Inbound = { kind: "task", id: this.#nextId++, data };
      this.#queue.push({
        msg,
        transfer,
        pending: { resolve: resolve as (v: unknown) => void, reject },
      });
      this.#pump();
    });
  }

  /** Terminates every worker; pending tasks are rejected. */
  close(): void {
    for (const slot of this.#slots) slot.worker.terminate();
    this.#fail(new Error("worker pool closed"));
  }

  #post(slot: Slot, kind: "setup", data: unknown, transfer: Transferable[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ kind, id, data } satisfies Inbound, transfer);
    });
  }

  #pump() {
    for (const slot of this.#slots) {
      if (slot.busy || this.#queue.length === 0) continue;
      const job = this.#queue.shift()!;
      slot.busy = true;
      this.#pending.set(job.msg.id, { ...job.pending, slot });
      slot.worker.postMessage(job.msg, job.transfer);
    }
  }

  #settle(slot: Slot, msg: Outbound) {
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (p.slot === slot) slot.busy = [...this.#pending.values()].some((q) => q.slot === slot);
    if (msg.ok) p.resolve(msg.result);
    else {
      const err = new Error(msg.error);
      if (msg.stack) err.stack = msg.stack;
      p.reject(err);
    }
    this.#pump();
  }

  #fail(err: Error) {
    this.#failed ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    for (const job of this.#queue) job.pending.reject(err);
    this.#queue.length = 0;
  }
}
