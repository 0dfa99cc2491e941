/**
 * Reading a chat-completions request as `vlm3r serve` accepts it: one user message whose
 * content parts are the video (a `video_url`, or `image_url` frames, as vLLM-style servers take
 * them) and the question (text parts). The benchmark prompt `vlm3r bench` and lmms-eval send
 * ("These are frames of a video.\n{question}\nOptions:\n...\nAnswer with ...") is parsed back
 * into its question and options, so that the engine builds VLM-3R's own prompt around them; a
 * plain question works too. Every problem is an {@link ApiError} naming the field.
 *
 * @module
 */

import { resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { PRE_PROMPT } from "../eval/prompt.ts";
import { MCA_POST_PROMPT, NA_POST_PROMPT, NA_POST_PROMPT_API } from "../eval/prompt.ts";
import type { Question } from "../model/vlm3r.ts";
import { ApiError } from "./errors.ts";

/** The most new tokens a request may ask for (its KV cache is allocated up front). */
export const MAX_TOKENS_LIMIT = 4096;

/** VLM-3R's system prompt (`conv_templates["qwen_1_5"]`): a system message may repeat it. */
export const SYSTEM_PROMPT = "You are a helpful assistant.";

/** An image of a frame list, as sent. */
export interface ImageBytes {
  bytes: Uint8Array;
  format: "jpeg" | "png";
  /** The request field it came from (for error messages). */
  param: string;
}

/** The video of a request. */
export type VideoSource =
  /** A local video file or frame folder, resolved and checked to exist. */
  | { kind: "path"; path: string; param: string }
  /** A video sent inline as a `data:` URL. */
  | { kind: "data"; bytes: Uint8Array; extension: string; param: string }
  /** Frames sent as `image_url` parts, in order. */
  | { kind: "images"; images: ImageBytes[] };

/** What a chat request asks. */
export interface ChatJob {
  question: Question;
  video: VideoSource;
  /** `max_completion_tokens` or `max_tokens`, when given. */
  maxTokens?: number;
}

/** Where local paths may be read from. */
export interface MediaPolicy {
  /**
   * Local paths must lie inside this folder (symbolic links resolved), and relative ones are
   * resolved against it; without it, relative paths are resolved against the working folder.
   */
  root?: string;
  /** Whether local paths are read at all (a server on a public address without a root: no). */
  allowLocal: boolean;
}

/**
 * Splits a benchmark prompt (`eval/prompt.ts`, lmms-eval's `doc_to_text`) back into its question
 * and options: the default pre-prompt and post-prompts are removed, and an `Options:` block
 * gives the options. Text that is not such a prompt is the question itself.
 *
 * @example
 * ```ts
 * const q = parseQuestionText("These are frames of a video.\nWhich is closer?\nOptions:\nA. sofa\nB. tv\n" +
 *   "Answer with the option's letter from the given choices directly.");
 * if (q.question !== "Which is closer?" || q.options?.join("|") !== "A. sofa|B. tv") throw new Error();
 * if (parseQuestionText("How many chairs?").options !== null) throw new Error();
 * ```
 */
export function parseQuestionText(text: string): Question {
  let body = text.trim();
  if (body.startsWith(`${PRE_PROMPT}\n`)) body = body.slice(PRE_PROMPT.length + 1);
  for (const post of [MCA_POST_PROMPT, NA_POST_PROMPT, NA_POST_PROMPT_API]) {
    if (body.endsWith(`\n${post}`)) {
      body = body.slice(0, body.length - post.length - 1);
      break;
    }
  }
  const at = body.lastIndexOf("\nOptions:\n");
  if (at >= 0) {
    const options = body.slice(at + "\nOptions:\n".length).split("\n").filter((l) => l.trim());
    if (options.length) return { question: body.slice(0, at), options };
  }
  return { question: body, options: null };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const bad = (message: string, param?: string, code = "invalid_value") =>
  new ApiError(400, message, { param, code });

/** The text of a message's `content`: a string, or its text parts. */
function textOf(content: unknown, param: string): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((p, i) => {
      if (!isObject(p) || p.type !== "text" || typeof p.text !== "string") {
        throw bad(`${param}[${i}]: a system message holds text only`, `${param}[${i}]`);
      }
      return p.text;
    }).join("\n");
  }
  throw bad(`${param}: expected a string or a list of content parts`, param);
}

/** The `url` of an `image_url`/`video_url` part: `{url}` or the string itself. */
function partUrl(part: Record<string, unknown>, key: string, param: string): string {
  const v = part[key];
  const url = typeof v === "string" ? v : isObject(v) ? v.url : undefined;
  if (typeof url !== "string" || !url) {
    throw bad(`${param}.${key}.url: expected a URL string`, `${param}.${key}.url`);
  }
  return url;
}

/** Decodes a base64 `data:` URL: its media type and bytes. */
function dataUrl(url: string, param: string): { mime: string; bytes: Uint8Array } {
  const comma = url.indexOf(",");
  const header = url.slice(5, comma < 0 ? undefined : comma).toLowerCase().split(";");
  if (comma < 0 || !header.includes("base64")) {
    throw bad(`${param}: expected a base64 data: URL (data:TYPE;base64,...)`, param);
  }
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(url.slice(comma + 1).replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    throw bad(`${param}: the data: URL's base64 is malformed`, param);
  }
  if (!bytes.length) throw bad(`${param}: the data: URL is empty`, param);
  return { mime: header[0], bytes };
}

/** JPEG or PNG by its first bytes. */
function imageFormat(bytes: Uint8Array): "jpeg" | "png" | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return "png";
  }
  return undefined;
}

const VIDEO_TYPES: Record<string, string> = {
  "video/mp4": ".mp4",
  "video/quicktime": ".mov",
  "video/webm": ".webm",
  "video/x-matroska": ".mkv",
  "video/x-msvideo": ".avi",
};

/**
 * A local path of a URL (`file://` or a plain path), resolved and checked against `policy`:
 * a remote URL is a 400, a path outside the media root a 403, a missing one a 400.
 */
async function localPath(
  url: string,
  policy: MediaPolicy,
  param: string,
): Promise<{ path: string; info: Deno.FileInfo }> {
  let path: string;
  if (/^file:/i.test(url)) {
    try {
      path = fileURLToPath(url);
    } catch (e) {
      throw bad(`${param}: ${(e as Error).message}`, param);
    }
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    throw bad(
      `${param}: ${url.split(":")[0]}: URLs are not fetched; give a local path, a file:// URL ` +
        `or a data: URL`,
      param,
      "unsupported_url",
    );
  } else {
    path = url;
  }
  if (!policy.allowLocal) {
    throw new ApiError(
      403,
      `${param}: local paths are not read by a server on a public address unless it was ` +
        `started with --media DIR; send the frames as data: URLs`,
      { param, code: "local_media_forbidden" },
    );
  }
  path = policy.root ? resolve(policy.root, path) : resolve(path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw bad(`${param}: ${url}: no such file or folder`, param, "missing_video");
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new ApiError(403, `${param}: ${url}: permission denied`, {
        param,
        code: "local_media_forbidden",
      });
    }
    throw bad(`${param}: ${url}: ${(e as Error).message}`, param, "missing_video");
  }
  if (policy.root) {
    const root = await Deno.realPath(policy.root);
    const real = await Deno.realPath(path);
    if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
      throw new ApiError(403, `${param}: ${url} is outside the media folder (--media)`, {
        param,
        code: "local_media_forbidden",
      });
    }
  }
  return { path, info };
}

/** The bytes of an `image_url` part: a data: URL, a file:// URL or a path, JPEG or PNG. */
async function imagePart(url: string, policy: MediaPolicy, param: string): Promise<ImageBytes> {
  let bytes: Uint8Array;
  if (/^data:/i.test(url)) {
    const d = dataUrl(url, param);
    if (!/^image\/(jpeg|jpg|pjpeg|png)$/.test(d.mime)) {
      throw bad(
        `${param}: image type '${d.mime || "none"}' is not supported (JPEG or PNG)`,
        param,
        "unsupported_image",
      );
    }
    bytes = d.bytes;
  } else {
    const { path, info } = await localPath(url, policy, param);
    if (!info.isFile) throw bad(`${param}: ${url} is not a file`, param, "missing_video");
    bytes = await Deno.readFile(path);
  }
  const format = imageFormat(bytes);
  if (!format) {
    throw bad(`${param}: not a JPEG or PNG image`, param, "unsupported_image");
  }
  return { bytes, format, param };
}

/** The video of a `video_url` part. */
async function videoPart(url: string, policy: MediaPolicy, param: string): Promise<VideoSource> {
  if (/^data:/i.test(url)) {
    const d = dataUrl(url, param);
    const extension = VIDEO_TYPES[d.mime];
    if (!extension) {
      throw bad(
        `${param}: video type '${d.mime || "none"}' is not supported (${
          Object.keys(VIDEO_TYPES).join(", ")
        })`,
        param,
        "unsupported_video",
      );
    }
    return { kind: "data", bytes: d.bytes, extension, param };
  }
  const { path } = await localPath(url, policy, param);
  return { kind: "path", path, param };
}

/** Options of {@link parseChatRequest}. */
export interface ParseOptions {
  media: MediaPolicy;
}

/**
 * Reads a chat-completions request body (already parsed JSON) into the question, the video and
 * the token limit; local files named by the request are checked (and images read) here, so a
 * missing one is answered at once, before the request waits in the queue.
 *
 * @example
 * ```ts
 * const job = await parseChatRequest({
 *   model: "vlm3r",
 *   messages: [{ role: "user", content: [
 *     { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
 *     { type: "text", text: "How many chairs?" },
 *   ] }],
 *   max_tokens: 4,
 * }, { media: { allowLocal: false } });
 * if (job.video.kind !== "images" || job.maxTokens !== 4 || job.question.question !== "How many chairs?") {
 *   throw new Error();
 * }
 * ```
 */
export async function parseChatRequest(body: unknown, options: ParseOptions): Promise<ChatJob> {
  if (!isObject(body)) throw bad("the body must be a JSON object (a chat-completions request)");
  if (body.stream === true) {
    throw bad(
      "stream: streamed answers are not supported; send stream: false",
      "stream",
      "unsupported_parameter",
    );
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    throw bad("n: one answer per request (greedy decoding)", "n", "unsupported_parameter");
  }
  let maxTokens: number | undefined;
  for (const key of ["max_completion_tokens", "max_tokens"]) {
    const v = body[key];
    if (v === undefined || v === null) continue;
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_TOKENS_LIMIT) {
      throw bad(
        `${key}: expected an integer in 1..${MAX_TOKENS_LIMIT}, got ${JSON.stringify(v)}`,
        key,
      );
    }
    maxTokens ??= v as number;
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || !messages.length) {
    throw bad("messages: expected a non-empty list of messages", "messages");
  }
  let user: { content: unknown; at: number } | undefined;
  for (const [i, m] of messages.entries()) {
    const param = `messages[${i}]`;
    if (!isObject(m)) throw bad(`${param}: expected a message object`, param);
    if (m.role === "system" || m.role === "developer") {
      if (textOf(m.content, `${param}.content`).trim() !== SYSTEM_PROMPT) {
        throw bad(
          `${param}: VLM-3R answers with its own system prompt ('${SYSTEM_PROMPT}'); ` +
            "leave the system message out",
          `${param}.content`,
          "unsupported_message",
        );
      }
    } else if (m.role === "user") {
      if (user) {
        throw bad(
          `${param}: one user message per request: VLM-3R answers one question about one video`,
          param,
          "unsupported_message",
        );
      }
      user = { content: m.content, at: i };
    } else {
      throw bad(
        `${param}.role: '${m.role}' is not supported: send one user message (and optionally ` +
          "the system prompt)",
        `${param}.role`,
        "unsupported_message",
      );
    }
  }
  if (!user) throw bad("messages: no user message", "messages", "missing_video");

  const param = `messages[${user.at}].content`;
  const texts: string[] = [];
  const images: ImageBytes[] = [];
  let video: VideoSource | undefined;
  if (typeof user.content === "string") {
    texts.push(user.content);
  } else if (Array.isArray(user.content)) {
    for (const [k, part] of user.content.entries()) {
      const at = `${param}[${k}]`;
      if (!isObject(part)) throw bad(`${at}: expected a content part object`, at);
      if (part.type === "text") {
        if (typeof part.text !== "string") throw bad(`${at}.text: expected a string`, `${at}.text`);
        texts.push(part.text);
      } else if (part.type === "image_url") {
        images.push(
          await imagePart(partUrl(part, "image_url", at), options.media, `${at}.image_url.url`),
        );
      } else if (part.type === "video_url") {
        if (video) {
          throw bad(`${at}: one video per request`, at, "unsupported_content_part");
        }
        video = await videoPart(
          partUrl(part, "video_url", at),
          options.media,
          `${at}.video_url.url`,
        );
      } else {
        throw bad(
          `${at}.type: content part '${String(part.type)}' is not supported (text, image_url ` +
            "frames or a video_url)",
          `${at}.type`,
          "unsupported_content_part",
        );
      }
    }
  } else {
    throw bad(`${param}: expected a string or a list of content parts`, param);
  }
  if (video && images.length) {
    throw bad(
      `${param}: a video_url or image_url frames, not both (the frames are the video)`,
      param,
      "unsupported_content_part",
    );
  }
  if (!video && !images.length) {
    throw bad(
      `${param}: no video: add a video_url part or the frames as image_url parts`,
      param,
      "missing_video",
    );
  }
  const question = parseQuestionText(texts.join("\n"));
  if (!question.question.trim()) {
    throw bad(`${param}: no question: add a text part`, param, "missing_question");
  }
  return { question, video: video ?? { kind: "images", images }, maxTokens };
}
