/**
 * Errors of `vlm3r serve`, answered as OpenAI's error JSON
 * (`{"error": {"message", "type", "param", "code"}}`) with the HTTP status that says what
 * happened: 400 a bad request, 403 a local path outside `--media`, 404/405 no such endpoint,
 * 413 a body over the limit, 429 the queue is full, 500 the model failed, 503 shutting down,
 * 504 no answer within the request timeout.
 *
 * @module
 */

/** OpenAI's error `type` for each status this server answers with. */
const TYPES: Record<number, string> = {
  400: "invalid_request_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  408: "timeout_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
  500: "server_error",
  503: "server_error",
  504: "timeout_error",
};

/** Options of {@link ApiError}. */
export interface ApiErrorOptions {
  /** The request field at fault (`messages[0].content[1].type`), when there is one. */
  param?: string;
  /** A short machine-readable code (`invalid_json`, `queue_full`). */
  code?: string;
  /** Extra response headers (`Retry-After`, `Allow`). */
  headers?: Record<string, string>;
}

/**
 * An error answered with `status` and OpenAI's error JSON.
 *
 * @example
 * ```ts
 * const e = new ApiError(400, "messages: expected an array", { param: "messages", code: "invalid_value" });
 * const body = await errorResponse(e).json();
 * if (body.error.type !== "invalid_request_error" || body.error.param !== "messages") throw new Error();
 * ```
 */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly options: ApiErrorOptions = {}) {
    super(message);
    this.name = "ApiError";
  }

  /** OpenAI's error `type` of this status. */
  get type(): string {
    return TYPES[this.status] ?? (this.status >= 500 ? "server_error" : "invalid_request_error");
  }
}

/** The response of an {@link ApiError}. */
export function errorResponse(e: ApiError): Response {
  return Response.json({
    error: {
      message: e.message,
      type: e.type,
      param: e.options.param ?? null,
      code: e.options.code ?? null,
    },
  }, { status: e.status, headers: e.options.headers });
}
