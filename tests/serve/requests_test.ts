// Reading chat requests (serve/requests.ts): the benchmark prompt `vlm3r bench` sends parses
// back into a question and options from which VLM-3R's own prompt (model/prompt.ts userText)
// rebuilds the very same text; content parts, data: URLs and local paths; every bad request
// gets its status, code and the field at fault.

import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { benchmarkPrompt } from "../../eval/prompt.ts";
import { encodeJpeg, encodePng8 } from "../../io/image.ts";
import { userText } from "../../model/prompt.ts";
import { ApiError } from "../../serve/errors.ts";
import {
  type ChatJob,
  type MediaPolicy,
  parseChatRequest,
  parseQuestionText,
} from "../../serve/requests.ts";

const QUESTIONS = [
  {
    kind: "mca" as const,
    question: "Measuring from the closest point of each object, which of these objects (piano, " +
      "door, tv) is the closest to the sofa?",
    options: ["A. piano", "B. door", "C. tv"],
  },
  { kind: "na" as const, question: "How many door(s) are in this room?", options: [] },
  {
    // VSI-Bench's room size question has a line break (and a space before it) inside.
    kind: "na" as const,
    question: "What is the size of this room (in square meters)? \nIf multiple rooms are " +
      "shown, estimate the size of the combined space.",
    options: [],
  },
];

Deno.test("benchmark prompts parse back into question and options; userText rebuilds them", () => {
  for (const q of QUESTIONS) {
    const record = { id: "1", questionType: "x", groundTruth: "1", line: 1, ...q };
    const text = benchmarkPrompt(record, q.kind);
    const parsed = parseQuestionText(text);
    assertEquals(parsed.question, q.question);
    assertEquals(parsed.options, q.kind === "mca" ? q.options : null);
    // The engine's prompt is the benchmark's own text: nothing is lost or added.
    assertEquals(userText(parsed), text);
  }
  // A plain question, and one with its options but without the benchmark's wrapping.
  assertEquals(parseQuestionText("  How many chairs?\n"), {
    question: "How many chairs?",
    options: null,
  });
  assertEquals(parseQuestionText("Which is closer?\nOptions:\nA. sofa\nB. tv"), {
    question: "Which is closer?",
    options: ["A. sofa", "B. tv"],
  });
  // The API post-prompt of numerical questions is recognised too.
  assertEquals(
    parseQuestionText(
      "These are frames of a video.\nHow tall?\nDo not response anything other than a single number!",
    ).question,
    "How tall?",
  );
});

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const PNG = encodePng8(new Uint8Array(4 * 3).fill(7), 4, 3);
const JPEG = encodeJpeg(new Uint8Array(8 * 8 * 4).fill(90), 8, 8);
const png = { type: "image_url", image_url: { url: `data:image/png;base64,${b64(PNG)}` } };
const jpeg = { type: "image_url", image_url: { url: `data:image/jpeg;base64,${b64(JPEG)}` } };
const text = (t: string) => ({ type: "text", text: t });
const user = (...content: unknown[]) => ({ messages: [{ role: "user", content }] });
const LOOPBACK: MediaPolicy = { allowLocal: true };

async function rejection(
  body: unknown,
  media: MediaPolicy = LOOPBACK,
): Promise<{ status: number; code?: string; param?: string; message: string }> {
  try {
    await parseChatRequest(body, { media });
  } catch (e) {
    assert(e instanceof ApiError, String(e));
    return { status: e.status, code: e.options.code, param: e.options.param, message: e.message };
  }
  throw new Error(`accepted: ${JSON.stringify(body).slice(0, 200)}`);
}

Deno.test("chat requests: frames, question and token limit", async () => {
  const job = await parseChatRequest({
    model: "anything",
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: [jpeg, png, text("These are frames of a video."), text("Q?")] },
    ],
    max_tokens: 9,
    max_completion_tokens: 5,
    temperature: 0,
  }, { media: LOOPBACK });
  assert(job.video.kind === "images");
  assertEquals(job.video.images.map((i) => i.format), ["jpeg", "png"]);
  assertEquals(job.video.images[1].bytes, PNG);
  assertEquals(job.video.images[0].param, "messages[1].content[0].image_url.url");
  // Text parts are joined with line breaks, as vLLM joins them.
  assertEquals(job.question, { question: "Q?", options: null });
  assertEquals(job.maxTokens, 5, "max_completion_tokens wins over max_tokens");
  // A plain string content has no video.
  assertEquals(
    (await rejection({ messages: [{ role: "user", content: "Q?" }] })).code,
    "missing_video",
  );
});

Deno.test("chat requests: each malformed request names its field", async () => {
  const cases: [unknown, number, string, string | undefined][] = [
    [[], 400, "invalid_value", undefined],
    [{ messages: [] }, 400, "invalid_value", "messages"],
    [user(text("Q?")), 400, "missing_video", "messages[0].content"],
    [
      user(png, { type: "input_audio", input_audio: {} }, text("Q?")),
      400,
      "unsupported_content_part",
      "messages[0].content[1].type",
    ],
    [
      user({ type: "image_url", image_url: { url: "data:image/webp;base64,AAAA" } }, text("Q?")),
      400,
      "unsupported_image",
      "messages[0].content[0].image_url.url",
    ],
    [
      user({ type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }, text("Q?")),
      400,
      "unsupported_image",
      "messages[0].content[0].image_url.url",
    ],
    [
      user({ type: "image_url", image_url: { url: "data:image/png;base64,@@" } }, text("Q?")),
      400,
      "invalid_value",
      "messages[0].content[0].image_url.url",
    ],
    [
      user({ type: "image_url", image_url: {} }, text("Q?")),
      400,
      "invalid_value",
      "messages[0].content[0].image_url.url",
    ],
    [
      user({ type: "video_url", video_url: { url: "https://example.com/v.mp4" } }, text("Q?")),
      400,
      "unsupported_url",
      "messages[0].content[0].video_url.url",
    ],
    [
      user({ type: "video_url", video_url: { url: "data:video/x-flv;base64,AAAA" } }, text("Q?")),
      400,
      "unsupported_video",
      "messages[0].content[0].video_url.url",
    ],
    [
      user({ type: "video_url", video_url: { url: "/no/such/video.mp4" } }, text("Q?")),
      400,
      "missing_video",
      "messages[0].content[0].video_url.url",
    ],
    [
      user(
        { type: "video_url", video_url: { url: "data:video/mp4;base64,AAAA" } },
        png,
        text("Q?"),
      ),
      400,
      "unsupported_content_part",
      "messages[0].content",
    ],
    [user(png, text("  ")), 400, "missing_question", "messages[0].content"],
    [{ ...user(png, text("Q?")), stream: true }, 400, "unsupported_parameter", "stream"],
    [{ ...user(png, text("Q?")), n: 2 }, 400, "unsupported_parameter", "n"],
    [{ ...user(png, text("Q?")), max_tokens: 0 }, 400, "invalid_value", "max_tokens"],
    [{ ...user(png, text("Q?")), max_tokens: 2.5 }, 400, "invalid_value", "max_tokens"],
    [
      { ...user(png, text("Q?")), max_completion_tokens: 1e6 },
      400,
      "invalid_value",
      "max_completion_tokens",
    ],
    [
      { messages: [{ role: "system", content: "Be terse." }, user(png, text("Q?")).messages[0]] },
      400,
      "unsupported_message",
      "messages[0].content",
    ],
    [
      { messages: [user(png, text("Q?")).messages[0], { role: "assistant", content: "A" }] },
      400,
      "unsupported_message",
      "messages[1].role",
    ],
    [
      { messages: [user(png, text("Q?")).messages[0], user(png, text("Q?")).messages[0]] },
      400,
      "unsupported_message",
      "messages[1]",
    ],
  ];
  for (const [body, status, code, param] of cases) {
    const got = await rejection(body);
    assertEquals([got.status, got.code, got.param], [status, code, param], got.message);
    assert(got.message.length < 300, got.message);
  }
});

Deno.test("chat requests: local paths, file:// URLs and the media folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const media = join(dir, "media dir");
    await Deno.mkdir(join(media, "frames"), { recursive: true });
    await Deno.writeFile(join(media, "frames", "0.png"), PNG);
    await Deno.writeFile(join(dir, "secret.png"), PNG);
    await Deno.writeTextFile(join(media, "notes.txt"), "not an image");
    await Deno.symlink(join(dir, "secret.png"), join(media, "link.png"));
    const part = (url: string) => user({ type: "image_url", image_url: { url } }, text("Q?"));
    const video = (url: string) => user({ type: "video_url", video_url: { url } }, text("Q?"));
    const root: MediaPolicy = { root: media, allowLocal: true };

    // Inside the media folder: a relative path, an absolute one, a file:// URL (with %20).
    for (
      const url of [
        "frames/0.png",
        join(media, "frames/0.png"),
        pathToFileURL(join(media, "frames/0.png")).href,
      ]
    ) {
      const job: ChatJob = await parseChatRequest(part(url), { media: root });
      assert(job.video.kind === "images" && job.video.images[0].format === "png", url);
    }
    const folder = await parseChatRequest(video("frames"), { media: root });
    assertEquals(folder.video, {
      kind: "path",
      path: join(media, "frames"),
      param: "messages[0].content[0].video_url.url",
    });
    // Escapes by .. and by a symbolic link are refused; so is anything local off loopback.
    assertEquals((await rejection(part("../secret.png"), root)).status, 403);
    assertEquals((await rejection(part(join(dir, "secret.png")), root)).status, 403);
    assertEquals((await rejection(part("link.png"), root)).status, 403);
    const off = await rejection(part(join(dir, "secret.png")), { allowLocal: false });
    assertEquals([off.status, off.code], [403, "local_media_forbidden"]);
    assert(off.message.includes("--media DIR"), off.message);
    // Not an image; a folder where an image is expected; nothing there.
    assertEquals((await rejection(part("notes.txt"), root)).code, "unsupported_image");
    assertEquals((await rejection(part("frames"), root)).code, "missing_video");
    const missing = await rejection(video("frames/none.mp4"), root);
    assertEquals([missing.status, missing.code], [400, "missing_video"]);
    assert(missing.message.includes("frames/none.mp4: no such file or folder"), missing.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
