// `vlm3r serve` as a real process with a random tiny VLM-3R (model/weights/tiny.ts) on
// 127.0.0.1 (a random port), and `vlm3r bench --endpoint` against it over questions `vlm3r gen`
// made for a `vlm3r synth` scene. References:
// - `bench --endpoint` sends each question's sampled frames as JPEGs: its predictions equal
//   what the engine answers (`Vlm3r.ask`, as `vlm3r ask` runs it) on a folder of those very
//   JPEGs with the same questions;
// - `bench --model` (in-process) decodes the video itself: its predictions equal the engine's
//   answers on the MP4, and so does the server's answer to a `video_url` of it;
// - bad requests (malformed JSON, a missing video, an unsupported part, an oversized body), a
//   full queue and clients that go away get their documented statuses, and the server keeps
//   answering; SIGTERM lets the running request finish and exits 0.
// The queue and disconnect checks need a request that runs for seconds: the CPU adapter's
// decode speed gives that; on a real GPU they are skipped (server_test.ts covers them with
// gates, deterministically).

import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { capture, needs, testGpu } from "../_support.ts";
import { main } from "../../cli/main.ts";
import { detectBenchmark } from "../../eval/benchmarks.ts";
import { promptKind } from "../../eval/prompt.ts";
import { readQuestions } from "../../eval/records.ts";
import { extractFrames, uniformFrameIndices, videoFrameCount } from "../../io/frames.ts";
import { VideoCache } from "../../model/cache.ts";
import { Vlm3r } from "../../model/vlm3r.ts";
import { writeTinyRelease } from "../../model/weights/tiny.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const gpu = await testGpu();
const FRAMES = 4, TOKENS = 3;

/** Polls until `ready` holds: a guard against a hang, not a timing assertion. */
async function until(ready: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A chat request over a raw connection, left unread: closing it is a client that leaves. */
async function rawPost(port: number, body: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = new TextEncoder().encode(body);
  const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
    `content-length: ${bytes.length}\r\n\r\n`;
  const all = new Uint8Array([...new TextEncoder().encode(head), ...bytes]);
  for (let at = 0; at < all.length;) at += await conn.write(all.subarray(at));
  return conn;
}

/** The first line of `stream` matching `pattern`; the rest is collected into `sink`. */
async function watch(
  stream: ReadableStream<Uint8Array>,
  sink: { text: string },
  pattern: RegExp,
): Promise<RegExpMatchArray> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let found: RegExpMatchArray | null = null;
  let resolve!: (m: RegExpMatchArray) => void, reject!: (e: Error) => void;
  const first = new Promise<RegExpMatchArray>((a, b) => ((resolve = a), (reject = b)));
  (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      sink.text += value;
      if (!found && (found = sink.text.match(pattern))) resolve(found);
    }
    if (!found) reject(new Error(`the server ended without printing ${pattern}: ${sink.text}`));
  })();
  return await first;
}

Deno.test({
  name: "vlm3r serve: bench --endpoint answers as the engine on the same frames; bench --model " +
    "as on the video; statuses; SIGTERM",
  ...needs("ffmpeg", "ffprobe"),
  ...(gpu ? {} : { ignore: true }),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "vlm3r-serve-" });
    let child: Deno.ChildProcess | undefined;
    try {
      // The model, the scene, its questions: an MCA question and two numerical ones (one with
      // a line break inside, as VSI-Bench's room size question).
      const tiny = join(dir, "tiny");
      await writeTinyRelease(tiny, 3);
      const release = [
        "--base",
        join(tiny, "base"),
        "--lora",
        join(tiny, "lora"),
        "--cut3r",
        join(tiny, "cut3r/cut3r_tiny.pth"),
        "--siglip",
        join(tiny, "siglip"),
        "--dtype",
        "f32",
        "--no-cache",
      ];
      const raw = join(dir, "raw"), proc = join(dir, "proc"), all = join(dir, "all.jsonl");
      const run = async (args: string[]) => {
        const io = capture();
        assertEquals(await main(args, io), 0, `${args[0]}: ${io.err}`);
        return io.out;
      };
      await run([
        "synth",
        "--out",
        raw,
        "--frames",
        "12",
        "--width",
        "160",
        "--height",
        "120",
        "--workers",
        "1",
        "-q",
      ]);
      await run([
        "meta",
        "--dataset",
        "scannet",
        "--root",
        raw,
        "--out",
        proc,
        "--frames",
        "8",
        "--workers",
        "1",
        "-q",
      ]);
      await run([
        "gen",
        "--meta",
        join(proc, "metadata/val"),
        "--out",
        all,
        "--tasks",
        "vsi",
        "--per-scene",
        "1",
        "-q",
      ]);
      const lines = (await Deno.readTextFile(all)).trim().split("\n");
      const pick = ["object_counting", "room_size_estimation", "object_rel_distance"].map((t) =>
        lines.find((l) => JSON.parse(l).question_type.startsWith(t))!
      );
      assert(pick.every(Boolean), `gen made ${lines.length} questions without all three types`);
      const qPath = join(dir, "q.jsonl");
      await Deno.writeTextFile(qPath, pick.join("\n") + "\n");
      const questions = (await readQuestions(qPath)).questions;
      const bench = detectBenchmark(questions.map((q) => q.questionType))!;
      const asked = questions.map((q) => ({
        question: q.question,
        options: promptKind(bench, q) === "mca" ? q.options : null,
      }));
      assert(asked[2].options?.length && asked[1].question.includes("\n"), JSON.stringify(asked));
      const video = join(raw, "scene0000_00", "scene0000_00.mp4");

      // The server, on a random port; its URL is the first line it prints.
      child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          join(repo, "cli/main.ts"),
          "serve",
          "--port",
          "0",
          ...release,
          "--frames",
          String(FRAMES),
          "--max-new-tokens",
          String(TOKENS),
          "--queue",
          "1",
          "--max-body",
          "1",
        ],
        cwd: repo,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const out = { text: "" }, err = { text: "" };
      const stderrDone = watch(child.stderr, err, /$^/).catch(() => {});
      const [, url] = await watch(child.stdout, out, /at (http:\/\/127\.0\.0\.1:\d+\/v1) /);
      const port = Number(new URL(url).port);
      const root = url.replace(/\/v1$/, "");
      const health = async () => await (await fetch(`${root}/health`)).json();
      const post = async (body: BodyInit) => {
        const res = await fetch(`${url}/chat/completions`, { method: "POST", body });
        return { status: res.status, json: await res.json() };
      };

      // bench --endpoint, unchanged, against it.
      const pE = join(dir, "endpoint.jsonl");
      const benchArgs = ["bench", "--questions", qPath, "--videos", raw, "--out"];
      const io = capture();
      const code = await main([
        ...benchArgs,
        pE,
        "--endpoint",
        url,
        "--model",
        "vlm3r",
        "--frames",
        String(FRAMES),
        "--max-tokens",
        String(TOKENS),
        "--concurrency",
        "2",
      ], io);
      assertEquals(code, 0, io.err + err.text);
      const endpoint = (await Deno.readTextFile(pE)).trim().split("\n").map((l) => JSON.parse(l));
      assertEquals(endpoint.map((p) => p.id), questions.map((q) => q.rawId ?? q.id));

      // The engine on a folder of the JPEGs bench sent, and on the MP4.
      const jpegs = join(dir, "jpegs");
      await Deno.mkdir(jpegs);
      const frames = await extractFrames(
        video,
        uniformFrameIndices(await videoFrameCount(video), FRAMES),
      );
      for (const [k, f] of frames.entries()) await Deno.writeFile(join(jpegs, `${k}.jpg`), f);
      const tower = {
        base: join(tiny, "base"),
        lora: join(tiny, "lora"),
        cut3r: join(tiny, "cut3r/cut3r_tiny.pth"),
        siglip: join(tiny, "siglip"),
      };
      const vlm = await Vlm3r.open(tower, {
        gpu: gpu!,
        precision: "f32",
        cache: new VideoCache({ dir: null }),
      });
      const onJpegs: string[] = [], onVideo: string[] = [];
      try {
        const o = { frames: FRAMES, maxNewTokens: TOKENS };
        for (const q of asked) onJpegs.push((await vlm.ask(jpegs, q, o)).text);
        for (const q of asked) onVideo.push((await vlm.ask(video, q, o)).text);
      } finally {
        vlm.destroy();
      }
      assertEquals(endpoint.map((p) => p.prediction), onJpegs);
      assert(onJpegs.every((t) => t.length > 0), JSON.stringify(onJpegs));

      // bench --model: in-process, from the MP4.
      const pM = join(dir, "model.jsonl");
      const mio = capture();
      assertEquals(
        await main([
          ...benchArgs,
          pM,
          ...release,
          "--frames",
          String(FRAMES),
          "--max-tokens",
          String(TOKENS),
        ], mio),
        0,
        mio.err,
      );
      const inProcess = (await Deno.readTextFile(pM)).trim().split("\n").map((l) => JSON.parse(l));
      assertEquals(inProcess.map((p) => p.id), endpoint.map((p) => p.id));
      assertEquals(inProcess.map((p) => p.prediction), onVideo);
      // Resume: nothing left to ask, so no model is loaded.
      const again = capture();
      assertEquals(
        await main([
          ...benchArgs,
          pM,
          ...release,
          "--frames",
          String(FRAMES),
          "--max-tokens",
          String(TOKENS),
          "--resume",
        ], again),
        0,
        again.err,
      );
      assert(again.out.includes("0 answered, 3 already in"), again.out);

      // A video_url of the MP4 with the plain question: the engine's answer on the MP4.
      const byPath = (q: typeof asked[number], extra: Record<string, unknown> = {}) =>
        JSON.stringify({
          model: "vlm3r",
          messages: [{
            role: "user",
            content: [
              { type: "video_url", video_url: { url: `file://${video}` } },
              {
                type: "text",
                text: q.options ? `${q.question}\nOptions:\n${q.options.join("\n")}` : q.question,
              },
            ],
          }],
          ...extra,
        });
      const v = await post(byPath(asked[2]));
      assertEquals(v.status, 200, JSON.stringify(v.json));
      assertEquals(v.json.choices[0].message.content, onVideo[2]);
      assertEquals(v.json.usage.completion_tokens, TOKENS);
      assertEquals(v.json.choices[0].finish_reason, "length");

      // Bad requests: their statuses, and the server answers the next one.
      const bad: [string, BodyInit, number, string][] = [
        ["malformed JSON", '{"messages": [', 400, "invalid_json"],
        [
          "a missing video",
          byPath(asked[0]).replace(video, join(dir, "none.mp4")),
          400,
          "missing_video",
        ],
        [
          "an unsupported part",
          byPath(asked[0]).replace('"type":"video_url"', '"type":"input_audio"'),
          400,
          "unsupported_content_part",
        ],
        [
          "an oversized body",
          JSON.stringify({ messages: [], pad: "x".repeat(2 ** 21) }),
          413,
          "body_too_large",
        ],
      ];
      for (const [what, body, status, errCode] of bad) {
        const r = await post(body);
        assertEquals(
          [r.status, r.json.error?.code],
          [status, errCode],
          `${what}: ${JSON.stringify(r.json)}`,
        );
        assertEquals((await health()).status, "ok", `serving after ${what}`);
      }

      if (gpu!.cpu) {
        // A full queue, and clients that leave: A runs (a few seconds at the CPU adapter's
        // decode speed), B waits and leaves (dropped), C finds the queue full, A leaves while
        // running (its answer is thrown away).
        const a = await rawPost(port, byPath(asked[0], { max_tokens: 8 }));
        await until(async () => (await health()).queue.running === 1, "A to run");
        const b = await rawPost(port, byPath(asked[1]));
        await until(async () => (await health()).queue.waiting === 1, "B to wait");
        const c = await post(byPath(asked[2]));
        assertEquals([c.status, c.json.error.code], [429, "queue_full"]);
        b.close();
        await until(async () => (await health()).requests.dropped === 1, "B to be dropped");
        assertEquals((await health()).queue.running, 1, "A was still running: the check held");
        a.close();
        await until(async () => (await health()).queue.running === 0, "A to finish");
        const h = await health();
        assertEquals([h.requests.rejected, h.requests.dropped, h.requests.failed], [1, 1, 0]);
        assertEquals((await post(byPath(asked[2]))).json.choices[0].message.content, onVideo[2]);

        // SIGTERM while a request runs: it is answered, then the server exits 0.
        const last = post(byPath(asked[0], { max_tokens: 6 }));
        await until(async () => (await health()).queue.running === 1, "the last request to run");
        child.kill("SIGTERM");
        const answered = await last;
        assertEquals(answered.status, 200, JSON.stringify(answered.json));
      } else {
        console.log(
          "queue and disconnect checks skipped: a real GPU answers too fast to hold them",
        );
        child.kill("SIGTERM");
      }
      const status = await child.status;
      child = undefined;
      await stderrDone;
      assertEquals(status.code, 0, err.text);
      assert(err.text.includes("vlm3r serve: stopped"), err.text);
      if (gpu!.cpu) assert(err.text.includes("POST /v1/chat/completions 429 "), err.text);
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
