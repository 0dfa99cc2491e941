// `vlm3r serve`'s HTTP server (serve/server.ts) on 127.0.0.1 with a stand-in engine whose
// answers echo what it was given and whose jobs wait on a gate the test opens: the response
// schema, frame lists decoded, sampled and hashed as the per-video cache keys them, every
// documented status (400, 404, 405, 413, 429, 500, 503, 504) with the server still serving
// after it, a client that goes away while waiting (its job never runs) or while running, and
// the graceful shutdown. The real model behind the same server is tested in serve_e2e_test.ts.

import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { encodePng8 } from "../../io/image.ts";
import { loadVideo } from "../../model/video_input.ts";
import { type Answer, emptyTimes } from "../../model/vlm3r.ts";
import { type ServeEngine, type ServeHandle, serveHttp } from "../../serve/server.ts";
import { imagesHash } from "../../serve/video.ts";

const STOP = 99;

/** An engine that answers `question|options|hash|indices|first pixel`, after `gate` opens. */
function fakeEngine() {
  const state = {
    calls: [] as { question: string; hash: string; indices: number[]; maxNewTokens?: number }[],
    gate: Promise.resolve(),
    open: () => {},
  };
  const engine: ServeEngine = {
    stopIds: [STOP],
    adapter: "fake adapter",
    async askLoaded(video, q, options = {}, seconds = emptyTimes()): Promise<Answer> {
      state.calls.push({
        question: q.question,
        hash: video.hash,
        indices: video.indices,
        maxNewTokens: options.maxNewTokens,
      });
      await state.gate;
      if (q.question === "crash") throw new Error("out of GPU memory");
      const n = options.maxNewTokens ?? 16;
      // "stop" questions end with a stop id before the limit; others run to it.
      const ids = q.question.includes("stop") ? [5, STOP] : Array.from({ length: n }, (_, i) => i);
      return {
        text: [
          q.question,
          (q.options ?? []).join(","),
          video.hash.slice(0, 8),
          video.indices.join(","),
          video.frames[0].data[0],
        ].join("|"),
        ids,
        promptIds: [],
        promptLength: 100 + q.question.length,
        visualTokens: 80,
        frames: video.indices,
        cached: { visual: false, prefix: false },
        seconds,
        decodeTokensPerSecond: null,
      };
    },
  };
  const close = () => {
    state.gate = new Promise<void>((r) => (state.open = r));
  };
  return { engine, state, close };
}

function start(engine: ServeEngine, extra: Partial<Parameters<typeof serveHttp>[0]> = {}) {
  const lines: string[] = [];
  const h = serveHttp({
    engine,
    model: "vlm3r-test",
    frames: 4,
    maxNewTokens: 16,
    media: { allowLocal: true },
    hostname: "127.0.0.1",
    port: 0,
    log: (l) => lines.push(l),
    ...extra,
  });
  return { h, lines, base: `http://127.0.0.1:${h.port}` };
}

const PNGS = [10, 20, 30, 40, 50, 60].map((v) => encodePng8(new Uint8Array(4 * 3).fill(v), 4, 3));
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const frames = (pngs = PNGS) =>
  pngs.map((p) => ({ type: "image_url", image_url: { url: `data:image/png;base64,${b64(p)}` } }));
const chat = (content: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: "x", messages: [{ role: "user", content }], ...extra });
const text = (t: string) => ({ type: "text", text: t });

async function post(base: string, body: BodyInit, init: RequestInit = {}) {
  const res = await fetch(`${base}/v1/chat/completions`, { method: "POST", body, ...init });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

async function health(base: string) {
  const res = await fetch(`${base}/health`);
  return { http: res.status, ...(await res.json()) };
}

/**
 * Sends a chat request over a raw TCP connection and returns it unread: closing it is a client
 * that goes away. (Deno's fetch keeps the connection of an aborted POST open, so the server
 * would never know.)
 */
async function rawPost(port: number, body: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = new TextEncoder().encode(body);
  const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
    `content-type: application/json\r\ncontent-length: ${bytes.length}\r\n\r\n`;
  const all = new Uint8Array([...new TextEncoder().encode(head), ...bytes]);
  for (let at = 0; at < all.length;) at += await conn.write(all.subarray(at));
  return conn;
}

/** Polls until `ready` holds: a guard against a hang, not a timing assertion. */
async function until(ready: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

Deno.test("serve: a chat.completion from image_url frames, sampled and hashed; a frame folder by path", async () => {
  const { engine, state } = fakeEngine();
  const { h, base, lines } = start(engine);
  const dir = await Deno.makeTempDir();
  try {
    const prompt = "These are frames of a video.\nWhich is closer?\nOptions:\nA. sofa\nB. tv\n" +
      "Answer with the option's letter from the given choices directly.";
    const r = await post(base, chat([...frames(), text(prompt)], { max_tokens: 3 }));
    assertEquals(r.status, 200, JSON.stringify(r.json));
    const hash = imagesHash(PNGS);
    // Six frames sampled to four as a folder of six is (floor(linspace(0, 5, 4))).
    assertEquals(r.json.choices[0].message, {
      role: "assistant",
      content: `Which is closer?|A. sofa,B. tv|${hash.slice(0, 8)}|0,1,3,5|10`,
    });
    assert(/^chatcmpl-[0-9a-f]{32}$/.test(r.json.id), r.json.id);
    assertEquals([r.json.object, r.json.model, r.json.choices[0].finish_reason], [
      "chat.completion",
      "vlm3r-test",
      "length",
    ]);
    assert(Number.isInteger(r.json.created));
    assertEquals(r.json.usage, { prompt_tokens: 116, completion_tokens: 3, total_tokens: 119 });
    assertEquals(r.json.vlm3r.frames, [0, 1, 3, 5]);
    assertEquals(state.calls[0].maxNewTokens, 3);
    // The same frames are the same video for the cache; their order makes another one.
    const again = await post(base, chat([...frames(), text("How many? stop")]));
    assertEquals(again.json.choices[0].finish_reason, "stop");
    assertEquals(again.json.usage.completion_tokens, 2);
    assertEquals(state.calls[1].maxNewTokens, 16, "the server's default without max_tokens");
    await post(base, chat([...frames([...PNGS].reverse()), text("Q")]));
    assertEquals(state.calls.map((c) => c.hash === hash), [true, true, false]);

    // A frame folder named by a video_url: read as `vlm3r ask` reads it, with its hash.
    for (const [i, p] of PNGS.entries()) await Deno.writeFile(join(dir, `${i}.png`), p);
    const byPath = await post(
      base,
      chat([{ type: "video_url", video_url: { url: dir } }, text("Q")]),
    );
    assertEquals(byPath.status, 200);
    assertEquals(state.calls[3].hash, (await loadVideo(dir, { frames: 4 })).hash);
    assertEquals(state.calls[3].indices, [0, 1, 3, 5]);

    const models = await (await fetch(`${base}/v1/models`)).json();
    assertEquals(models.data.map((m: { id: string }) => m.id), ["vlm3r-test"]);
    const hl = await health(base);
    assertEquals([hl.http, hl.status, hl.adapter, hl.requests.completed], [
      200,
      "ok",
      "fake adapter",
      4,
    ]);
    assert(lines[0].startsWith("POST /v1/chat/completions 200 in "), lines[0]);
  } finally {
    await h.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve: each bad request gets its status and OpenAI error JSON; the server goes on", async () => {
  const { engine, state } = fakeEngine();
  const { h, base } = start(engine, { maxBodyBytes: 64 * 1024 });
  try {
    const big = "x".repeat(100 * 1024);
    const stream = () =>
      new ReadableStream({
        start(c) {
          for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode(big.slice(0, 30 * 1024)));
          c.close();
        },
      });
    const corrupt = encodePng8(new Uint8Array(12), 4, 3).slice(0, 20); // a PNG cut short
    const cases: [
      string,
      () => ReturnType<typeof post>,
      number,
      string,
    ][] = [
      ["malformed JSON", () => post(base, '{"messages": ['), 400, "invalid_json"],
      ["invalid UTF-8", () => post(base, new Uint8Array([0x7b, 0xff, 0x7d])), 400, "invalid_json"],
      ["no video", () => post(base, chat([text("How many chairs?")])), 400, "missing_video"],
      [
        "a missing video file",
        () =>
          post(base, chat([{ type: "video_url", video_url: { url: "/no/such.mp4" } }, text("Q")])),
        400,
        "missing_video",
      ],
      [
        "an unsupported part",
        () =>
          post(
            base,
            chat([...frames(), { type: "input_audio", input_audio: { data: "" } }, text("Q")]),
          ),
        400,
        "unsupported_content_part",
      ],
      [
        "an unreadable frame",
        () => post(base, chat([...frames([corrupt]), text("Q")])),
        400,
        "invalid_video",
      ],
      ["a declared oversized body", () => post(base, chat([text(big)])), 413, "body_too_large"],
      ["a streamed oversized body", () => post(base, stream()), 413, "body_too_large"],
      [
        "the model failing",
        () => post(base, chat([...frames(), text("crash")])),
        500,
        "model_error",
      ],
      [
        "another path",
        async () => {
          const res = await fetch(`${base}/v1/completions`, { method: "POST", body: "{}" });
          return { status: res.status, headers: res.headers, json: await res.json() };
        },
        404,
        "not_found",
      ],
      [
        "another method",
        async () => {
          const res = await fetch(`${base}/v1/chat/completions`);
          return { status: res.status, headers: res.headers, json: await res.json() };
        },
        405,
        "method_not_allowed",
      ],
    ];
    for (const [what, send, status, code] of cases) {
      const r = await send();
      assertEquals(
        [r.status, r.json.error?.code],
        [status, code],
        `${what}: ${JSON.stringify(r.json)}`,
      );
      assertEquals(typeof r.json.error.message, "string");
      assert("type" in r.json.error && "param" in r.json.error, what);
      assertEquals((await health(base)).http, 200, `serving after ${what}`);
    }
    assertEquals(
      state.calls.map((c) => c.question),
      ["crash"],
      "only valid requests reach the model",
    );
    const ok = await post(base, chat([...frames(), text("Still there?")]));
    assertEquals(ok.status, 200);
  } finally {
    await h.shutdown();
  }
});

Deno.test("serve: a full queue answers 429; a client gone while waiting is dropped, one gone while running does no harm", async () => {
  const { engine, state, close } = fakeEngine();
  const { h, base } = start(engine, { queue: 2 });
  const dir = await Deno.makeTempDir();
  try {
    for (const [i, p] of PNGS.entries()) await Deno.writeFile(join(dir, `${i}.png`), p);
    const byPath = (q: string) => chat([{ type: "video_url", video_url: { url: dir } }, text(q)]);
    close();
    const a = await rawPost(h.port, chat([...frames(), text("A")]));
    await until(async () => (await health(base)).queue.running === 1, "A to run");
    const b = await rawPost(h.port, byPath("B"));
    const e = await rawPost(h.port, chat([...frames(), text("E")]));
    await until(async () => (await health(base)).queue.waiting === 2, "B and E to wait");
    const c = await post(base, chat([...frames(), text("C")]));
    assertEquals([c.status, c.json.error.code, c.headers.get("retry-after")], [
      429,
      "queue_full",
      "1",
    ]);
    b.close();
    await until(async () => (await health(base)).requests.dropped === 1, "B to be dropped");
    assertEquals((await health(base)).queue, { running: 1, waiting: 1, capacity: 2 });
    // A's job is running: it finishes and its answer is thrown away. E's client goes too:
    // Deno 2.9 tells a handler that its client left only when the request body was small (a
    // video_url), so E may run or be dropped; either way the server goes on.
    a.close();
    e.close();
    state.open();
    await until(async () => {
      const hl = await health(base);
      return hl.queue.running === 0 && hl.queue.waiting === 0;
    }, "A and E to end");
    assertEquals(state.calls.map((x) => x.question).filter((q) => q !== "E"), ["A"], "B never ran");
    const d = await post(base, byPath("D"));
    assertEquals(d.status, 200);
    const hl = await health(base);
    const eRan = state.calls.some((x) => x.question === "E");
    assertEquals(hl.requests, {
      completed: eRan ? 3 : 2,
      failed: 0,
      rejected: 1,
      dropped: eRan ? 1 : 2,
      timed_out: 0,
    });
    // A client that leaves halfway through sending its body: the read fails, the server goes on.
    const cut = await Deno.connect({ hostname: "127.0.0.1", port: h.port });
    await cut.write(new TextEncoder().encode(
      'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n{"messages": [',
    ));
    cut.close();
    assertEquals((await post(base, byPath("F"))).status, 200);
  } finally {
    state.open();
    await h.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve: 504 past the timeout; shutdown answers the waiting 503 and finishes the running", async () => {
  const { engine, state, close } = fakeEngine();
  let s = start(engine, { timeoutMs: 300 });
  try {
    close();
    const late = await post(s.base, chat([...frames(), text("slow")]));
    assertEquals([late.status, late.json.error.code], [504, "timeout"]);
    assert(
      late.json.error.message.includes("no answer within 0.3 s (--timeout): it was running"),
      late.json.error.message,
    );
    state.open();
    await until(async () => (await health(s.base)).queue.running === 0, "the abandoned job to end");
    assertEquals((await post(s.base, chat([...frames(), text("quick")]))).status, 200);
  } finally {
    state.open();
    await s.h.shutdown();
  }

  s = start(engine);
  let h: ServeHandle = s.h;
  try {
    close();
    const running = post(s.base, chat([...frames(), text("running")]));
    await until(async () => (await health(s.base)).queue.running === 1, "the job to run");
    const waiting = post(s.base, chat([...frames(), text("waiting")]));
    await until(async () => (await health(s.base)).queue.waiting === 1, "the job to wait");
    let stopped = false;
    const stopping = h.shutdown().then(() => (stopped = true));
    const w = await waiting;
    assertEquals([w.status, w.json.error.code], [503, "shutting_down"]);
    // No new connections (a fresh client, so no kept-alive connection is reused).
    const client = Deno.createHttpClient({});
    const refused = await fetch(`${s.base}/health`, { client }).then(
      (r) => r.body?.cancel(),
      (e) => e,
    );
    client.close();
    assert(refused instanceof TypeError, `a new connection was served: ${refused}`);
    assert(!stopped, "the running job holds the shutdown");
    state.open();
    const r = await running;
    assertEquals([r.status, r.json.choices[0].message.content.split("|")[0]], [200, "running"]);
    await stopping;
    assert(stopped);
  } finally {
    state.open();
    await h.shutdown();
    h = s.h;
  }
});
