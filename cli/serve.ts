/**
 * `vlm3r serve`: VLM-3R loaded once behind an OpenAI-compatible HTTP API (serve/server.ts),
 * until Ctrl-C or SIGTERM, which stop it gracefully: no new requests, the running one finished.
 *
 * @module
 */

import { isLoopback, type ServeHandle, serveHttp } from "../serve/server.ts";
import { askOptions, MODEL_OPTIONS, modelLocation, openEngine, QUESTION_OPTIONS } from "./ask.ts";
import { type Command, type Context, UsageError } from "./_command.ts";

/** The `serve` command. */
export const serveCommand: Command = {
  name: "serve",
  summary: "serve VLM-3R to OpenAI-style clients (chat completions with a video)",
  usage: "vlm3r serve [--model DIR | --base DIR --lora DIR --cut3r FILE] [--port 8000] " +
    "[--host 127.0.0.1] [--name vlm3r] [--frames 32] [--max-new-tokens 16] [--queue 64] " +
    "[--timeout 600] [--max-body 64] [--media DIR]",
  examples: [
    "vlm3r serve --model models/vlm3r --port 8000",
    "vlm3r bench --questions vsibench.jsonl --videos vsibench/ --endpoint " +
    "http://127.0.0.1:8000/v1 --model vlm3r --out answers.jsonl",
  ],
  options: {
    ...MODEL_OPTIONS,
    ...QUESTION_OPTIONS,
    "max-new-tokens": {
      ...QUESTION_OPTIONS["max-new-tokens"],
      description: "answer tokens at most when a request gives no max_tokens",
    },
    port: {
      type: "string",
      value: "N",
      description: "TCP port (0: any free one)",
      default: "8000",
    },
    host: {
      type: "string",
      value: "ADDR",
      description: "address to listen on (0.0.0.0: every interface)",
      default: "127.0.0.1",
    },
    name: {
      type: "string",
      value: "NAME",
      description: "the model's name in responses and /v1/models",
      default: "vlm3r",
    },
    queue: {
      type: "string",
      value: "N",
      description: "requests that may wait while one runs; more are answered 429",
      default: "64",
    },
    timeout: {
      type: "string",
      value: "S",
      description: "seconds from a request's arrival to its answer, else 504",
      default: "600",
    },
    "max-body": {
      type: "string",
      value: "MB",
      description: "largest request body in MiB, else 413",
      default: "64",
    },
    media: {
      type: "string",
      value: "DIR",
      description: "read local video/image paths only inside DIR (needed for them off loopback)",
    },
  },
  run: runServe,
};

async function runServe(ctx: Context): Promise<number> {
  const port = ctx.int("port", 8000, { min: 0, max: 65535 });
  const host = ctx.string("host") ?? "127.0.0.1";
  if (!host.trim()) throw new UsageError("--host expects an address (127.0.0.1, 0.0.0.0, ::1)");
  const name = ctx.string("name") ?? "vlm3r";
  const ask = askOptions(ctx);
  const queue = ctx.int("queue", 64, { min: 0, max: 1_000_000 });
  const timeout = ctx.float("timeout", 600, { min: 0.001 });
  const maxBody = ctx.float("max-body", 64, { min: 0.001 });
  const media = ctx.string("media");
  modelLocation(ctx); // usage errors before the model loads
  if (media) {
    const info = await Deno.stat(media).catch(() => undefined);
    if (!info?.isDirectory) throw new Error(`--media ${media}: no such folder`);
  }
  // A port in use is said now, not after minutes of loading the model.
  if (port !== 0) listenError(host, port, () => Deno.listen({ hostname: host, port }).close());

  const engine = await openEngine(ctx);
  let handle!: ServeHandle;
  try {
    listenError(host, port, () =>
      handle = serveHttp({
        engine: {
          askLoaded: (video, question, options, seconds) =>
            engine.askLoaded(video, question, options, seconds),
          stopIds: engine.config.generation.eosTokenIds,
          adapter: engine.adapter,
          get cacheStats() {
            return engine.cacheStats;
          },
        },
        model: name,
        frames: ask.frames,
        maxNewTokens: ask.maxNewTokens!,
        timeInstruction: ask.timeInstruction,
        fps: ask.fps,
        queue,
        timeoutMs: timeout * 1000,
        maxBodyBytes: Math.round(maxBody * 2 ** 20),
        media: { root: media, allowLocal: media !== undefined || isLoopback(host) },
        log: ctx.flag("quiet") ? undefined : (line) => ctx.err(line),
        hostname: host,
        port,
      }));
  } catch (e) {
    engine.destroy();
    throw e;
  }

  let stopped!: () => void;
  const done = new Promise<void>((r) => (stopped = r));
  let stopping = false;
  const onSignal = () => {
    if (stopping) {
      ctx.err("vlm3r serve: stopped at once");
      Deno.exit(130);
    }
    stopping = true;
    ctx.err(
      "vlm3r serve: stopping: no new requests, finishing the running one (signal again to " +
        "stop at once)",
    );
    handle.shutdown().then(stopped, stopped);
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    if (!isLoopback(host)) {
      ctx.err(
        `warning: listening on ${host}: other machines can reach the model` +
          (media ? `; local paths only inside ${media}` : "; local paths are refused (--media)"),
      );
    }
    ctx.out(
      `vlm3r serve: ${name} at ${handle.url} (POST /chat/completions, GET /models; GET /health ` +
        `at the root) on ${engine.adapter}; Ctrl-C stops`,
    );
    await Promise.race([done, handle.finished]);
    await handle.shutdown();
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    engine.destroy();
  }
  ctx.err("vlm3r serve: stopped");
  return 0;
}

/** Runs `listen`, saying in one line why `host:port` cannot be listened on. */
function listenError(host: string, port: number, listen: () => void): void {
  try {
    listen();
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new Error(`cannot listen on ${host}:${port}: the port is in use (--port)`);
    }
    if (e instanceof Deno.errors.AddrNotAvailable) {
      throw new Error(`cannot listen on ${host}: not an address of this machine (--host)`);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new Error(`cannot listen on ${host}:${port}: permission denied (a port below 1024?)`);
    }
    throw e;
  }
}
