// `vlm3r bench` against a local chat-completions server (Deno.serve on 127.0.0.1, random port)
// that checks the request schema, the images and the prompt; frame extraction on a video whose
// frames are distinguishable; retries, resume, bounded concurrency.

import { assert, assertEquals } from "../assert.ts";
import { main } from "../../cli/main.ts";
import { collectAnswers } from "../../eval/collect.ts";
import { chatComplete } from "../../io/chat.ts";
import { extractFrames, uniformFrameIndices, videoFrameCount } from "../../io/frames.ts";
import { decodeJpeg, encodeJpeg } from "../../io/image.ts";
import { encodeMp4 } from "../../io/video.ts";
import { needs } from "../_support.ts";
import { capture } from "../_support.ts";

const FRAMES = 40;
const level = (i: number) => 20 + 5 * i; // frame i is a flat grey of this level

/** A 64x48 MP4 whose frame i is flat grey level(i). */
async function greyVideo(path: string): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    for (let i = 0; i < FRAMES; i++) {
      const rgba = new Uint8Array(64 * 48 * 4).fill(level(i));
      await Deno.writeFile(`${dir}/${i}.jpg`, encodeJpeg(rgba, 64, 48));
    }
    await encodeMp4(dir, FRAMES, path, { fps: 10, encoder: "ffmpeg" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const meanOf = (jpeg: Uint8Array) => {
  const img = decodeJpeg(jpeg);
  let s = 0;
  for (let i = 0; i < img.data.length; i += img.channels) s += img.data[i];
  return s / (img.width * img.height);
};

Deno.test("frames: count, numpy linspace sampling, and the decoded frames are the chosen ones", {
  ...needs("ffmpeg", "ffprobe"),
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    await greyVideo(`${dir}/v.mp4`);
    assertEquals(await videoFrameCount(`${dir}/v.mp4`), FRAMES);
    // floor(linspace(0, 39, 4)) = 0, 13, 26, 39; floor(linspace(0, 39, 32)) steps by 39/31.
    assertEquals(uniformFrameIndices(FRAMES, 4), [0, 13, 26, 39]);
    const idx32 = uniformFrameIndices(FRAMES, 32);
    assertEquals(idx32.length, 32);
    assertEquals(idx32.slice(0, 6), [0, 1, 2, 3, 5, 6]); // 4 * 39/31 = 5.03
    const jpegs = await extractFrames(`${dir}/v.mp4`, [0, 13, 26, 39]);
    assertEquals(jpegs.length, 4);
    [0, 13, 26, 39].forEach((i, k) => {
      const m = meanOf(jpegs[k]);
      assert(Math.abs(m - level(i)) < 2.5, `frame ${i}: mean ${m}, want ${level(i)}`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("chat client: retries transient errors with backoff, fails at once on 4xx", async () => {
  let calls = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    calls++;
    const body = await req.json();
    if (body.model === "flaky" && calls <= 2) return new Response("busy", { status: 503 });
    if (body.model === "bad") return new Response("no such model", { status: 404 });
    if (body.model === "weird") return Response.json({ choices: [] });
    return Response.json({ choices: [{ message: { role: "assistant", content: "A." } }] });
  });
  const endpoint = `http://127.0.0.1:${server.addr.port}/v1`;
  try {
    const retries: string[] = [];
    const answer = await chatComplete({ endpoint, model: "flaky", text: "?" }, {
      backoffMs: 5,
      onRetry: (n, why, wait) => retries.push(`${n} ${why} ${wait}`),
    });
    assertEquals(answer, "A.");
    assertEquals(retries, ["1 HTTP 503: busy 5", "2 HTTP 503: busy 10"]);
    calls = 0;
    let msg = "";
    await chatComplete({ endpoint, model: "bad", text: "?" }, { backoffMs: 5 }).catch((
      e,
    ) => (msg = e.message));
    assertEquals(msg, `${endpoint}/chat/completions answered HTTP 404: no such model`);
    assertEquals(calls, 1, "a 404 is not retried");
    await chatComplete({ endpoint, model: "weird", text: "?" }).catch((e) => (msg = e.message));
    assert(msg.includes("expected choices[0].message.content"), msg);
    calls = -10; // every call fails from here
    await chatComplete({ endpoint, model: "flaky", text: "?" }, { retries: 2, backoffMs: 1 })
      .catch((e) => (msg = e.message));
    assertEquals(msg, `${endpoint}/chat/completions: gave up after 3 attempts: HTTP 503: busy`);
  } finally {
    await server.shutdown();
  }
});

/** `vlm3r bench` on `dir/q.jsonl` with videos under `dir/<videos>`, answers to `dir/p.jsonl`. */
function benchArgs(dir: string, videos: string, endpoint: string): string[] {
  return [
    "bench",
    "--questions",
    `${dir}/q.jsonl`,
    "--videos",
    `${dir}/${videos}`,
    "--endpoint",
    endpoint,
    "--model",
    "test-model",
    "--out",
    `${dir}/p.jsonl`,
    "--frames",
    "4",
  ];
}

const QUESTIONS = [
  {
    id: "q1",
    dataset: "synth",
    scene_name: "scene0000_00",
    question_type: "object_rel_distance",
    question: "Which is closest to the bed?",
    options: ["A. chair", "B. lamp", "C. sofa", "D. tv"],
    ground_truth: "lamp",
    mc_answer: "B",
  },
  {
    id: "q2",
    dataset: "synth",
    scene_name: "scene0000_00",
    question_type: "object_counting",
    question: "How many chair(s) are in this room?",
    options: [],
    ground_truth: 3,
  },
  {
    id: "q3",
    dataset: "synth",
    scene_name: "scene0000_00",
    question_type: "route_planning",
    question: "Route?",
    options: ["A. Turn Left", "B. Turn Right"],
    ground_truth: "Turn Left",
    mc_answer: "A",
  },
  {
    id: "q4",
    dataset: "synth",
    scene_name: "scene0000_00",
    question_type: "room_size_estimation",
    question: "How big is this room?",
    options: [],
    ground_truth: 21.5,
  },
  {
    id: "q5",
    dataset: "synth",
    scene_name: "scene0000_00",
    question_type: "obj_appearance_order",
    question: "Order?",
    options: ["A. a, b", "B. b, a", "C. a, c"],
    ground_truth: "b, a",
    mc_answer: "B",
  },
];

/** A chat-completions server that checks every request and answers like an oracle. */
function oracleServer(options: { failOnce?: string; delayMs?: number } = {}) {
  const state = {
    asked: new Map<string, number>(),
    inFlight: 0,
    maxInFlight: 0,
    prompts: new Map<string, string>(),
    errors: [] as string[],
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      const url = new URL(req.url);
      if (req.method !== "POST" || url.pathname !== "/v1/chat/completions") {
        return new Response("not found", { status: 404 });
      }
      const body = await req.json();
      const problems: string[] = [];
      if (body.model !== "test-model") problems.push(`model ${body.model}`);
      if (body.temperature !== 0 || body.max_tokens !== 16 || body.top_p !== 1) {
        problems.push("sampling");
      }
      const msgs = body.messages;
      if (!Array.isArray(msgs) || msgs.length !== 1 || msgs[0].role !== "user") {
        problems.push("messages");
      }
      const parts = msgs?.[0]?.content ?? [];
      const images = parts.filter((p: { type: string }) => p.type === "image_url");
      const texts = parts.filter((p: { type: string }) => p.type === "text");
      if (texts.length !== 1 || parts[parts.length - 1].type !== "text") problems.push("text part");
      // Four frames, and they are frames 0, 13, 26, 39 of the video.
      const want = [0, 13, 26, 39];
      if (images.length !== 4) problems.push(`${images.length} images`);
      images.forEach((p: { image_url: { url: string } }, k: number) => {
        const m = /^data:image\/jpeg;base64,(.+)$/.exec(p.image_url.url);
        if (!m) return problems.push("image url");
        const mean = meanOf(Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0)));
        if (Math.abs(mean - level(want[k])) > 2.5) problems.push(`image ${k} mean ${mean}`);
      });
      if (problems.length) {
        state.errors.push(problems.join("; "));
        return new Response(problems.join("; "), { status: 400 });
      }
      const text: string = texts[0].text;
      const q = QUESTIONS.find((x) => text.includes(`\n${x.question}\n`))!;
      state.prompts.set(q.id, text);
      state.asked.set(q.id, (state.asked.get(q.id) ?? 0) + 1);
      if (options.failOnce === q.id && state.asked.get(q.id) === 1) {
        return new Response("model crashed", { status: 400 });
      }
      await new Promise((r) => setTimeout(r, options.delayMs ?? 20));
      const answer = q.options.length
        ? `${q.mc_answer}. ${q.ground_truth}`
        : String(q.ground_truth);
      return Response.json({
        id: "x",
        object: "chat.completion",
        choices: [{
          index: 0,
          message: { role: "assistant", content: answer },
          finish_reason: "stop",
        }],
      });
    } finally {
      state.inFlight--;
    }
  });
  return { server, state, endpoint: `http://127.0.0.1:${server.addr.port}/v1` };
}

Deno.test(
  "vlm3r bench: schema, frames, exact prompts, order, concurrency; eval scores the oracle 100",
  { ...needs("ffmpeg", "ffprobe") },
  async () => {
    const dir = await Deno.makeTempDir();
    const { server, state, endpoint } = oracleServer();
    try {
      await Deno.mkdir(`${dir}/videos/scene0000_00`, { recursive: true });
      await greyVideo(`${dir}/videos/scene0000_00/scene0000_00.mp4`);
      await Deno.writeTextFile(
        `${dir}/q.jsonl`,
        QUESTIONS.map((q) => JSON.stringify(q)).join("\n") + "\n",
      );
      const args = [...benchArgs(dir, "videos", endpoint), "--concurrency", "2"];
      const io = capture();
      assertEquals(await main(args, io), 0, io.err);
      assertEquals(state.errors, []);
      assert(io.out.includes("5 answered, 0 already in"), io.out);
      assertEquals(state.maxInFlight, 2);
      assertEquals(
        state.prompts.get("q1"),
        "These are frames of a video.\nWhich is closest to the bed?\nOptions:\nA. chair\nB. lamp\nC. sofa\nD. tv\n" +
          "Answer with the option's letter from the given choices directly.",
      );
      assertEquals(
        state.prompts.get("q2"),
        "These are frames of a video.\nHow many chair(s) are in this room?\n" +
          "Please answer the question using a single word or phrase.",
      );
      const lines = (await Deno.readTextFile(`${dir}/p.jsonl`)).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assertEquals(lines.map((l) => l.id), ["q1", "q2", "q3", "q4", "q5"]);
      assertEquals(lines[0].prediction, "B. lamp");

      const ev = capture();
      assertEquals(
        await main(
          ["eval", "--questions", `${dir}/q.jsonl`, "--predictions", `${dir}/p.jsonl`],
          ev,
        ),
        0,
        ev.err,
      );
      assert(/\np +100\.0 /.test(ev.out), ev.out);

      // An existing output without --resume is a usage error.
      const again = capture();
      assertEquals(await main(args, again), 2);
      assert(again.err.includes("exists: add --resume to continue it, or remove it"), again.err);
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("vlm3r bench: a crash keeps the answers so far; --resume asks only the rest", {
  ...needs("ffmpeg", "ffprobe"),
}, async () => {
  const dir = await Deno.makeTempDir();
  const { server, state, endpoint } = oracleServer({ failOnce: "q3" });
  try {
    await Deno.mkdir(`${dir}/v/synth`, { recursive: true });
    await greyVideo(`${dir}/v/synth/scene0000_00.mp4`); // the <dataset>/<scene>.mp4 layout
    await Deno.writeTextFile(
      `${dir}/q.jsonl`,
      QUESTIONS.map((q) => JSON.stringify(q)).join("\n") + "\n",
    );
    const args = [...benchArgs(dir, "v", endpoint), "--concurrency", "1"];
    let io = capture();
    assertEquals(await main(args, io), 1);
    assert(io.err.includes("answered HTTP 400: model crashed"), io.err);
    const first = (await Deno.readTextFile(`${dir}/p.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l).id
    );
    assertEquals(first, ["q1", "q2"]);
    // A crash mid-line leaves half a line: resume drops it.
    await Deno.writeTextFile(`${dir}/p.jsonl`, '{"id":"q9","predic', { append: true });
    io = capture();
    assertEquals(await main([...args, "--resume"], io), 0, io.err);
    assert(io.out.includes("3 answered, 2 already in"), io.out);
    assertEquals([...state.asked].sort(), [["q1", 1], ["q2", 1], ["q3", 2], ["q4", 1], ["q5", 1]]);
    const ids = (await Deno.readTextFile(`${dir}/p.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l).id
    );
    assertEquals(ids, ["q1", "q2", "q3", "q4", "q5"]);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vlm3r bench: questions without a video are skipped, counted and reported", {
  ...needs("ffmpeg", "ffprobe"),
}, async () => {
  const dir = await Deno.makeTempDir();
  const { server, endpoint } = oracleServer();
  try {
    await Deno.mkdir(`${dir}/v`);
    await greyVideo(`${dir}/v/scene0000_00.mp4`);
    const qs = [{ ...QUESTIONS[0], id: 7 }, {
      ...QUESTIONS[1],
      id: "q2x",
      scene_name: "scene0099_00",
    }];
    await Deno.writeTextFile(`${dir}/q.jsonl`, qs.map((q) => JSON.stringify(q)).join("\n"));
    const io = capture();
    const code = await main(benchArgs(dir, "v", endpoint), io);
    assertEquals(code, 1);
    assert(io.out.includes("1 answered, 0 already in"), io.out);
    assert(io.err.includes("1 questions skipped (id q2x: no video for scene0099_00 under"), io.err);
    // One line, its integer id written back as an integer (as VSI-Bench ids are).
    assertEquals(await Deno.readTextFile(`${dir}/p.jsonl`), '{"id":7,"prediction":"B. lamp"}\n');
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A server whose answers stall after the headers for the first `stalls` requests. */
function stallingServer(stalls: number) {
  let calls = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.text();
    if (++calls <= stalls) {
      // Headers and the start of the JSON, then nothing more: the stream is never closed.
      const body = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"choices": ['));
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    return Response.json({ choices: [{ message: { role: "assistant", content: "C" } }] });
  });
  return { server, endpoint: `http://127.0.0.1:${server.addr.port}/v1`, calls: () => calls };
}

Deno.test("chat client: a body that stalls after the headers is retried; giving up names the URL", async () => {
  const { server, endpoint, calls } = stallingServer(3);
  try {
    const retries: string[] = [];
    const answer = await chatComplete({ endpoint, model: "m", text: "?" }, {
      timeoutMs: 200,
      backoffMs: 1,
      onRetry: (n, why) => retries.push(`${n} ${why}`),
    });
    assertEquals(answer, "C");
    assertEquals(
      retries,
      [1, 2, 3].map((n) =>
        `${n} no complete answer within 0.2 s (the body stalled after the headers)`
      ),
    );
    assertEquals(calls(), 4);
  } finally {
    await server.shutdown();
  }
  const always = stallingServer(Infinity);
  try {
    const questions = [QUESTIONS[0], QUESTIONS[1]].map((q, i) => ({
      id: q.id,
      questionType: q.question_type,
      question: q.question,
      options: q.options,
      groundTruth: q.ground_truth,
      line: i + 1,
    }));
    const dir = await Deno.makeTempDir();
    const out = `${dir}/p.jsonl`;
    let msg = "";
    await collectAnswers(questions, {
      out,
      concurrency: 1,
      ask: () =>
        chatComplete({ endpoint: always.endpoint, model: "m", text: "?" }, {
          retries: 1,
          timeoutMs: 100,
          backoffMs: 1,
        }),
    }).catch((e) => (msg = e.message));
    assertEquals(
      msg,
      `id q1: ${always.endpoint}/chat/completions: gave up after 2 attempts: no complete answer ` +
        "within 0.1 s (the body stalled after the headers)",
    );
    // Stopped before any answer: no file left to force --resume.
    assertEquals(await Deno.stat(out).then(() => true, () => false), false);
    await Deno.remove(dir, { recursive: true });
  } finally {
    await always.server.shutdown();
  }
});

Deno.test("vlm3r bench: a bad endpoint is a usage error at once; no answer leaves no --out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const endpoint of ["localhost:8000/v1", "ftp://host/v1", "file:///tmp/x"]) {
      const io = capture();
      // The questions do not exist either: the endpoint is checked first.
      assertEquals(await main(benchArgs(dir, "v", endpoint), io), 2, endpoint);
      assert(
        io.err.startsWith(
          `vlm3r bench: --endpoint expects an http:// or https:// URL (http://host:8000/v1), ` +
            `got '${endpoint}'\n`,
        ),
        io.err,
      );
    }
    // Every question skipped (no videos): exit 1, and no empty p.jsonl to trip the next run.
    await Deno.writeTextFile(
      `${dir}/q.jsonl`,
      QUESTIONS.map((q) => JSON.stringify(q)).join("\n") + "\n",
    );
    await Deno.mkdir(`${dir}/v`);
    for (let run = 0; run < 2; run++) {
      const io = capture();
      assertEquals(await main(benchArgs(dir, "v", "http://127.0.0.1:9/v1"), io), 1, io.err);
      assert(io.err.includes("5 questions skipped (id q1: no video for scene0000_00"), io.err);
      assert(io.err.endsWith(`no answer, so no ${dir}/p.jsonl\n`), io.err);
      assertEquals(await Deno.stat(`${dir}/p.jsonl`).then(() => true, () => false), false);
    }
    // An empty file from elsewhere holds nothing to lose: no --resume needed.
    await Deno.writeTextFile(`${dir}/p.jsonl`, "");
    assertEquals(await main(benchArgs(dir, "v", "http://127.0.0.1:9/v1"), capture()), 1);
    // --out in a missing folder: said at once, with the path as given.
    const io = capture();
    const args = benchArgs(dir, "v", "http://127.0.0.1:9/v1");
    args[args.indexOf("--out") + 1] = `${dir}/nope/p.jsonl`;
    assertEquals(await main(args, io), 1);
    assertEquals(
      io.err,
      `vlm3r bench: --out ${dir}/nope/p.jsonl: the folder ${dir}/nope does not exist\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
