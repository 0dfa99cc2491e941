// The request queue (serve/queue.ts), driven by jobs that wait on gates the test opens: one job
// at a time in arrival order, a full queue refused, a waiting job dropped when its client goes
// away or its time runs out (never started), a running one always finished, close() failing
// only the waiting ones.

import { assert, assertEquals, assertRejects } from "../assert.ts";
import { JobDropped, JobQueue, JobTimeout, QueueClosed, QueueFull } from "../../serve/queue.ts";

/** A job that records its start and finishes when `open` is called. */
function gated(name: string, log: string[]) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return {
    open,
    job: async () => {
      log.push(`start ${name}`);
      await gate;
      log.push(`end ${name}`);
      return name;
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("queue: one job at a time, in order; a full queue refuses at once", async () => {
  const q = new JobQueue(2);
  const log: string[] = [];
  const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => gated(n, log));
  const pa = q.submit(a.job), pb = q.submit(b.job), pc = q.submit(c.job);
  await assertRejects(() => q.submit(d.job), /queue is full \(2 requests waiting\)/);
  assertEquals(q.counts.rejected, 1);
  assertEquals([q.busy, q.waiting], [true, 2]);
  await tick();
  assertEquals(log, ["start a"]);
  c.open(); // c may finish its work early: it still waits for its turn
  b.open();
  a.open();
  assertEquals(await Promise.all([pa, pb, pc]), ["a", "b", "c"]);
  assertEquals(log, ["start a", "end a", "start b", "end b", "start c", "end c"]);
  assertEquals(q.counts.completed, 3);
  await q.idle();
  // Capacity 0: a job runs when the queue is idle, and nothing may wait.
  const z = new JobQueue(0);
  const first = gated("x", log);
  const px = z.submit(first.job);
  assert((await z.submit(first.job).catch((e) => e)) instanceof QueueFull);
  first.open();
  assertEquals(await px, "x");
});

Deno.test("queue: a waiting job whose client aborts is dropped; a running one finishes", async () => {
  const q = new JobQueue(4);
  const log: string[] = [];
  const [a, b, c] = ["a", "b", "c"].map((n) => gated(n, log));
  const ca = new AbortController(), cb = new AbortController();
  const pa = q.submit(a.job, { signal: ca.signal });
  const pb = q.submit(b.job, { signal: cb.signal });
  const pc = q.submit(c.job);
  cb.abort();
  assert((await pb.catch((e) => e)) instanceof JobDropped);
  assertEquals([q.waiting, q.counts.dropped], [1, 1]);
  ca.abort(); // a is running: it goes on, and its answer still resolves
  a.open();
  c.open();
  assertEquals(await pa, "a");
  assertEquals(await pc, "c");
  assertEquals(log, ["start a", "end a", "start c", "end c"], "b never started");
  // An already aborted signal never queues.
  assert((await q.submit(b.job, { signal: cb.signal }).catch((e) => e)) instanceof JobDropped);
});

Deno.test("queue: timeouts drop waiting jobs and abandon running ones; close fails the waiting", async () => {
  const q = new JobQueue(4);
  const log: string[] = [];
  const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => gated(n, log));
  const pa = q.submit(a.job, { timeoutMs: 20 });
  const pb = q.submit(b.job, { timeoutMs: 20 });
  const ea = await pa.catch((e) => e), eb = await pb.catch((e) => e);
  assert(ea instanceof JobTimeout && ea.started, String(ea));
  assert(eb instanceof JobTimeout && !eb.started, String(eb));
  assertEquals(ea.message, "no answer within 0.02 s (it was running)");
  assertEquals([q.busy, q.waiting, q.counts.timedOut], [true, 0, 2]);
  // The abandoned job still holds the GPU: the next one waits for it.
  const pc = q.submit(c.job), pd = q.submit(d.job);
  q.close();
  assert((await pd.catch((e) => e)) instanceof QueueClosed);
  assert((await q.submit(d.job).catch((e) => e)) instanceof QueueClosed);
  let idle = false;
  const idling = q.idle().then(() => (idle = true));
  a.open();
  c.open();
  // close() failed every waiting job, c included; only a ever ran.
  assert((await pc.catch((e) => e)) instanceof QueueClosed);
  await idling;
  assert(idle);
  assertEquals(log, ["start a", "end a"]);
});
