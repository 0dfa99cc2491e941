/**
 * `vlm3r serve`: VLM-3R behind an OpenAI-compatible HTTP API, as llama-server and vLLM offer
 * their models, so that any chat-completions client (`vlm3r bench --endpoint`, lmms-eval's
 * OpenAI-compatible model) can ask it about videos.
 *
 * - `POST /v1/chat/completions`: one user message whose parts are the video (a `video_url`, or
 *   the frames as `image_url` parts) and the question (text); answered greedily with
 *   `max_completion_tokens`/`max_tokens` new tokens at most.
 * - `GET /v1/models`: the one model served.
 * - `GET /health`: 200 while serving (503 while shutting down), with the queue's state.
 *
 * The model is loaded once; requests run one at a time from a bounded queue (429 when it is
 * full) and share the engine's per-video cache. Errors are OpenAI's error JSON (see
 * `errors.ts` for the statuses).
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import type { CacheStats } from "../model/cache.ts";
import type { LoadedVideo } from "../model/video_input.ts";
import {
  type Answer,
  type AskOptions,
  emptyTimes,
  type Question,
  type StageTimes,
} from "../model/vlm3r.ts";
import { ApiError, errorResponse } from "./errors.ts";
import { JobDropped, JobQueue, JobTimeout, QueueClosed, QueueFull } from "./queue.ts";
import { type ChatJob, type MediaPolicy, parseChatRequest } from "./requests.ts";
import { loadSource } from "./video.ts";

/** What the server needs of the model: `Vlm3r` is one. */
export interface ServeEngine {
  /** Answers a question about a loaded video (as `Vlm3r.askLoaded`). */
  askLoaded(
    video: LoadedVideo,
    question: Question,
    options?: AskOptions,
    seconds?: StageTimes,
  ): Promise<Answer>;
  /** Ids that end an answer (an answer that ends otherwise was cut at its token limit). */
  readonly stopIds: readonly number[];
  /** The device's name, for `/health`. */
  readonly adapter: string;
  /** What the per-video cache did, for `/health`. */
  readonly cacheStats?: CacheStats;
}

/** Settings of {@link ChatServer}. */
export interface ServerOptions {
  engine: ServeEngine;
  /** The model's name in responses and `/v1/models`. */
  model: string;
  /** Frames sampled per video (and at most taken from a frame list). */
  frames: number;
  /** New tokens when a request gives no limit. */
  maxNewTokens: number;
  /** Add VLM-3R's time instruction (videos with a frame rate; `fps` for frame lists). */
  timeInstruction?: boolean;
  /** Frame rate of frame folders and frame lists. */
  fps?: number;
  /** Requests that may wait while one runs (default 64); more are answered 429. */
  queue?: number;
  /** Milliseconds from a request's arrival to its answer before 504 (default 600 000). */
  timeoutMs?: number;
  /** Largest request body in bytes (default 64 MiB); larger ones are answered 413. */
  maxBodyBytes?: number;
  /** Where local video and image paths may be read from. */
  media: MediaPolicy;
  /** Told one line per chat request (status, times, tokens). */
  log?: (line: string) => void;
}

const now = () => performance.now() / 1000;
const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The request handler: routes, the queue, the error responses. Sockets are {@link serveHttp}'s.
 *
 * @example
 * ```ts
 * const engine = { stopIds: [0], adapter: "none", askLoaded: () => Promise.reject(new Error("unused")) };
 * const server = new ChatServer({ engine, model: "m", frames: 4, maxNewTokens: 16, media: { allowLocal: false } });
 * const res = await server.handle(new Request("http://x/v1/models"));
 * if ((await res.json()).data[0].id !== "m") throw new Error();
 * const bad = await server.handle(new Request("http://x/v1/chat/completions", { method: "POST", body: "{" }));
 * if (bad.status !== 400 || (await bad.json()).error.code !== "invalid_json") throw new Error();
 * ```
 */
export class ChatServer {
  /** The request queue (one job at a time). */
  readonly queue: JobQueue;
  /** When the server started, in seconds since 1970 (`created` of `/v1/models`). */
  readonly created: number = Math.floor(Date.now() / 1000);
  readonly #timeoutMs: number;
  readonly #maxBody: number;

  constructor(readonly options: ServerOptions) {
    this.queue = new JobQueue(options.queue ?? 64);
    this.#timeoutMs = options.timeoutMs ?? 600_000;
    this.#maxBody = options.maxBodyBytes ?? 64 * 2 ** 20;
  }

  /** Answers one HTTP request. */
  handle = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname.replace(/\/+$/, "") || "/";
    const route: Record<string, [string, () => Response | Promise<Response>]> = {
      "/health": ["GET", () => this.#health()],
      "/v1/models": ["GET", () => Response.json(this.models())],
      "/v1/chat/completions": ["POST", () => this.#chat(req)],
    };
    const r = route[path];
    if (!r) {
      return errorResponse(
        new ApiError(
          404,
          `no endpoint ${path}: POST /v1/chat/completions, GET /v1/models, GET /health`,
          {
            code: "not_found",
          },
        ),
      );
    }
    const allowed = r[0] === "GET" ? ["GET", "HEAD"] : [r[0]];
    if (!allowed.includes(req.method)) {
      return errorResponse(
        new ApiError(405, `${path} takes ${r[0]}, not ${req.method}`, {
          code: "method_not_allowed",
          headers: { allow: allowed.join(", ") },
        }),
      );
    }
    return await r[1]();
  };

  /** The `/v1/models` list. */
  models(): { object: "list"; data: Record<string, unknown>[] } {
    return {
      object: "list",
      data: [{ id: this.options.model, object: "model", created: this.created, owned_by: "vlm3r" }],
    };
  }

  /** The `/health` body: status, queue, counts and cache. */
  health(): Record<string, unknown> {
    const q = this.queue;
    return {
      status: q.closed ? "shutting_down" : "ok",
      model: this.options.model,
      adapter: this.options.engine.adapter,
      queue: { running: q.busy ? 1 : 0, waiting: q.waiting, capacity: q.capacity },
      requests: {
        completed: q.counts.completed,
        failed: q.counts.failed,
        rejected: q.counts.rejected,
        dropped: q.counts.dropped,
        timed_out: q.counts.timedOut,
      },
      ...(this.options.engine.cacheStats ? { cache: this.options.engine.cacheStats } : {}),
    };
  }

  #health(): Response {
    return Response.json(this.health(), { status: this.queue.closed ? 503 : 200 });
  }

  /**
   * Stops taking requests: the waiting ones are answered 503, the running one finishes.
   * Resolves when it has.
   */
  async close(): Promise<void> {
    this.queue.close();
    await this.queue.idle();
  }

  async #chat(req: Request): Promise<Response> {
    const arrived = now();
    const deadline = arrived + this.#timeoutMs / 1000;
    let status = 200, detail = "";
    try {
      const job = await parseChatRequest(await this.#json(req, deadline), {
        media: this.options.media,
      });
      const maxNew = job.maxTokens ?? this.options.maxNewTokens;
      let started = 0;
      const answer = await this.queue.submit(async () => {
        started = now();
        return await this.#run(job, maxNew);
      }, { signal: req.signal, timeoutMs: Math.max(1, (deadline - now()) * 1000) });
      const done = now();
      const cut = answer.ids.length >= maxNew &&
        !this.options.engine.stopIds.includes(answer.ids[answer.ids.length - 1]);
      detail = `${answer.frames.length} frames, ${answer.promptLength} + ${answer.ids.length} ` +
        `tokens, waited ${(started - arrived).toFixed(2)} s, visual ${
          answer.cached.visual ? "cached" : "computed"
        }`;
      return Response.json(this.#completion(answer, cut, started - arrived, done - started));
    } catch (e) {
      const err = apiError(e, this.#timeoutMs / 1000);
      status = err.status;
      detail = err.message;
      return errorResponse(err);
    } finally {
      this.options.log?.(
        `POST /v1/chat/completions ${status} in ${(now() - arrived).toFixed(2)} s: ${detail}`,
      );
    }
  }

  /** The body as JSON, at most `maxBodyBytes`, arriving before the deadline. */
  async #json(req: Request, deadline: number): Promise<unknown> {
    const limit = this.#maxBody;
    const tooLarge = () =>
      new ApiError(413, `the request body is over the limit of ${limit} bytes (--max-body)`, {
        code: "body_too_large",
      });
    const declared = req.headers.get("content-length");
    if (declared !== null && Number(declared) > limit) throw tooLarge();
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (req.body) {
      const reader = req.body.getReader();
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reader.cancel().catch(() => {});
      }, Math.max(1, (deadline - now()) * 1000));
      try {
        for (;;) {
          const { done, value } = await reader.read().catch((e) => {
            throw new ApiError(400, `the request body was cut off: ${(e as Error).message}`, {
              code: "body_cut_off",
            });
          });
          if (late) {
            throw new ApiError(408, "the request body did not arrive within the timeout", {
              code: "timeout",
            });
          }
          if (done) break;
          total += value.length;
          if (total > limit) {
            reader.cancel().catch(() => {});
            throw tooLarge();
          }
          chunks.push(value);
        }
      } finally {
        clearTimeout(timer);
      }
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    try {
      return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      throw new ApiError(400, `the body is not valid JSON: ${(e as Error).message}`, {
        code: "invalid_json",
      });
    }
  }

  /** One job on the GPU: the video loaded, the question answered. */
  async #run(job: ChatJob, maxNewTokens: number): Promise<Answer> {
    const o = this.options;
    const seconds = emptyTimes();
    const t = now();
    let video: LoadedVideo;
    try {
      video = await loadSource(job.video, { frames: o.frames, fps: o.fps });
    } catch (e) {
      const where = job.video.kind === "images" ? "image_url frames" : job.video.param;
      throw new ApiError(400, `${where}: the video could not be read: ${(e as Error).message}`, {
        code: "invalid_video",
        param: job.video.kind === "images" ? undefined : job.video.param,
      });
    }
    seconds.decode = now() - t;
    try {
      return await o.engine.askLoaded(video, job.question, {
        frames: o.frames,
        fps: o.fps,
        timeInstruction: o.timeInstruction,
        maxNewTokens,
      }, seconds);
    } catch (e) {
      if (e instanceof DataError) throw new ApiError(400, e.message, { code: "invalid_request" });
      throw e;
    }
  }

  #completion(answer: Answer, cut: boolean, waited: number, ran: number) {
    const s = answer.seconds;
    return {
      id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: this.options.model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: answer.text },
        logprobs: null,
        finish_reason: cut ? "length" : "stop",
      }],
      usage: {
        prompt_tokens: answer.promptLength,
        completion_tokens: answer.ids.length,
        total_tokens: answer.promptLength + answer.ids.length,
      },
      // Not OpenAI's: what VLM-3R did, for people measuring it (clients ignore extra fields).
      vlm3r: {
        frames: answer.frames,
        visual_tokens: answer.visualTokens,
        cached: answer.cached,
        seconds: {
          queued: round(waited),
          run: round(ran),
          decode: round(s.decode),
          preprocess: round(s.preprocess),
          siglip: round(s.siglip),
          cut3r: round(s.cut3r),
          fusion_projector: round(s.fusion),
          prefix: round(s.prefix),
          prefill: round(s.prefill),
          decode_tokens: round(s.decodeTokens),
        },
      },
    };
  }
}

/** The status and message of any failure of a chat request. */
function apiError(e: unknown, timeout: number): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof QueueFull) {
    return new ApiError(429, e.message, { code: "queue_full", headers: { "retry-after": "1" } });
  }
  if (e instanceof QueueClosed) {
    return new ApiError(503, `${e.message}; retry on another server or after the restart`, {
      code: "shutting_down",
    });
  }
  if (e instanceof JobTimeout) {
    return new ApiError(
      504,
      `no answer within ${timeout} s (--timeout): ${
        e.started ? "it was running, and its answer will be thrown away" : "it was still waiting"
      }`,
      { code: "timeout" },
    );
  }
  // 499 (nginx's "client closed request"): nobody reads it, the log does.
  if (e instanceof JobDropped) return new ApiError(499, e.message, { code: "client_gone" });
  return new ApiError(500, `the model failed: ${(e as Error)?.message ?? e}`, {
    code: "model_error",
  });
}

/** Whether `host` is a loopback address (only this machine can connect). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A running server. */
export interface ServeHandle {
  /** The API's base URL (`http://127.0.0.1:8000/v1`). */
  url: string;
  port: number;
  server: ChatServer;
  /**
   * Stops gracefully: no new connections, waiting requests answered 503, the running one
   * finished and answered. Resolves when all is done.
   */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/**
 * Listens on `hostname:port` (port 0: any free port) and serves {@link ChatServer}.
 *
 * @example
 * ```ts
 * const engine = { stopIds: [0], adapter: "none", askLoaded: () => Promise.reject(new Error("unused")) };
 * const h = serveHttp({ engine, model: "m", frames: 4, maxNewTokens: 16, media: { allowLocal: false },
 *   hostname: "127.0.0.1", port: 0 });
 * const health = await (await fetch(`http://127.0.0.1:${h.port}/health`)).json();
 * await h.shutdown();
 * if (health.status !== "ok") throw new Error();
 * ```
 */
export function serveHttp(
  options: ServerOptions & { hostname: string; port: number },
): ServeHandle {
  quietLegacyAbortWarning();
  const server = new ChatServer(options);
  const http = Deno.serve(
    { hostname: options.hostname, port: options.port, onListen() {} },
    server.handle,
  );
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${http.addr.port}/v1`,
    port: http.addr.port,
    server,
    shutdown() {
      stopping ??= (async () => {
        server.queue.close();
        await Promise.all([http.shutdown(), server.close()]);
      })();
      return stopping;
    },
    finished: http.finished,
  };
}

let quieted = false;

/**
 * The queue reads each request's `signal` to drop the job of a client that went away. Deno 2.9
 * warns once that the signal also aborts after a successful response (its legacy behaviour,
 * harmless here: the queue stops listening when the job settles), and its opt-in new behaviour
 * (`--unstable-no-legacy-abort`) does not abort a POST whose client went away, which the queue
 * needs; so that one warning is kept off the server's stderr.
 */
function quietLegacyAbortWarning(): void {
  if (quieted) return;
  quieted = true;
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith("Deno.serve: request.signal aborts")) {
      return;
    }
    warn(...args);
  };
}
