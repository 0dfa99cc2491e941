/**
 * A client of OpenAI-compatible chat-completions servers (vLLM, llama.cpp server, Ollama, ...):
 * one user message of images plus text, greedy decoding, retries with exponential backoff on
 * network errors, timeouts (a body that stalls after the headers included), 408/409/425/429
 * and 5xx.
 *
 * @module
 */

/** One question to a chat-completions server. */
export interface ChatRequest {
  /** The server's base URL (`http://host:8000/v1`) or the full `.../chat/completions` URL. */
  endpoint: string;
  model: string;
  text: string;
  /** JPEG images, sent before the text as `data:` URLs. */
  images?: readonly Uint8Array[];
  /** Default 16, as the benchmark's generation settings. */
  maxTokens?: number;
  /** Sent as a bearer token when given. */
  apiKey?: string;
}

/** Retry and timeout settings of {@link chatComplete}. */
export interface ChatRetry {
  /** Attempts after the first (default 5). */
  retries?: number;
  /** First backoff in milliseconds, doubled per attempt (default 1000). */
  backoffMs?: number;
  /** Per-request timeout in milliseconds, headers and body together (default 300000). */
  timeoutMs?: number;
  /** Called before each retry. */
  onRetry?: (attempt: number, reason: string, waitMs: number) => void;
}

/**
 * The chat-completions URL of an endpoint: `/chat/completions` appended unless present.
 *
 * @example
 * ```ts
 * if (chatCompletionsUrl("http://h:8000/v1/") !== "http://h:8000/v1/chat/completions") throw new Error();
 * if (chatCompletionsUrl("http://h/v1/chat/completions") !== "http://h/v1/chat/completions") throw new Error();
 * ```
 */
export function chatCompletionsUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, "");
  return base.endsWith("/chat/completions") ? base : `${base}/chat/completions`;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/**
 * The request body: the benchmark's generation settings (temperature 0, top_p 1, at most 16
 * new tokens; data-reference §8.1).
 *
 * @example
 * ```ts
 * const body = chatRequestBody({ endpoint: "", model: "m", text: "Q?", images: [new Uint8Array([1, 2])] });
 * const parts = body.messages[0].content;
 * if (parts[0].type !== "image_url" || parts[1].text !== "Q?" || body.max_tokens !== 16) throw new Error();
 * ```
 */
export function chatRequestBody(req: ChatRequest) {
  const content: (
    | { type: "image_url"; image_url: { url: string }; text?: undefined }
    | { type: "text"; text: string }
  )[] = (req.images ?? []).map((img) => ({
    type: "image_url" as const,
    image_url: { url: `data:image/jpeg;base64,${base64(img)}` },
  }));
  content.push({ type: "text", text: req.text });
  return {
    model: req.model,
    messages: [{ role: "user", content }],
    max_tokens: req.maxTokens ?? 16,
    temperature: 0,
    top_p: 1,
    stream: false,
  };
}

/** A failure the next attempt may not repeat. */
class Transient extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

function answerText(json: unknown): string | undefined {
  const message = (json as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]
    ?.message;
  const c = message?.content;
  if (typeof c === "string") return c;
  if (Array.isArray(c)) {
    return c.map((p) => (typeof p?.text === "string" ? p.text : "")).join("");
  }
  if (c === null && message) return "";
  return undefined;
}

async function attempt(req: ChatRequest, timeoutMs: number): Promise<string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (req.apiKey) headers.authorization = `Bearer ${req.apiKey}`;
  let res: Response;
  try {
    res = await fetch(chatCompletionsUrl(req.endpoint), {
      method: "POST",
      headers,
      body: JSON.stringify(chatRequestBody(req)),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const name = (e as Error)?.name;
    throw new Transient(
      name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : (e as Error).message,
    );
  }
  let body: string;
  try {
    // The timeout's signal aborts a body that stalls after the headers too.
    body = await res.text();
  } catch (e) {
    const name = (e as Error)?.name;
    throw new Transient(
      name === "TimeoutError"
        ? `no complete answer within ${timeoutMs / 1000} s (the body stalled after the headers)`
        : `the answer was cut off after the headers: ${(e as Error).message}`,
    );
  }
  if (!res.ok) {
    const detail = `HTTP ${res.status}${
      body ? `: ${body.slice(0, 200).replace(/\s+/g, " ")}` : ""
    }`;
    if ([408, 409, 425, 429].includes(res.status) || res.status >= 500) {
      const after = Number(res.headers.get("retry-after"));
      throw new Transient(detail, Number.isFinite(after) && after > 0 ? after * 1000 : undefined);
    }
    throw new Error(`${chatCompletionsUrl(req.endpoint)} answered ${detail}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Transient(`the response is not JSON: ${body.slice(0, 80)}`);
  }
  const text = answerText(json);
  if (text === undefined) {
    throw new Error(
      `${chatCompletionsUrl(req.endpoint)}: response: expected choices[0].message.content, got ${
        body.slice(0, 120)
      }`,
    );
  }
  return text;
}

/**
 * Asks the server and returns the answer text, retrying transient failures with exponential
 * backoff (honouring `Retry-After`); other HTTP errors and malformed answers throw at once.
 *
 * @example
 * ```ts
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (r) => {
 *   const body = await r.json();
 *   return Response.json({ choices: [{ message: { role: "assistant", content: body.model } }] });
 * });
 * const answer = await chatComplete({ endpoint: `http://127.0.0.1:${server.addr.port}/v1`, model: "B", text: "?" });
 * await server.shutdown();
 * if (answer !== "B") throw new Error(answer);
 * ```
 */
export async function chatComplete(req: ChatRequest, retry: ChatRetry = {}): Promise<string> {
  const retries = retry.retries ?? 5;
  const backoff = retry.backoffMs ?? 1000;
  const timeoutMs = retry.timeoutMs ?? 300_000;
  for (let i = 0;; i++) {
    try {
      return await attempt(req, timeoutMs);
    } catch (e) {
      if (!(e instanceof Transient)) throw e;
      if (i >= retries) {
        throw new Error(
          `${chatCompletionsUrl(req.endpoint)}: gave up after ${i + 1} attempts: ${e.message}`,
        );
      }
      const wait = Math.min(60_000, Math.max(backoff * 2 ** i, e.retryAfterMs ?? 0));
      retry.onRetry?.(i + 1, e.message, wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
