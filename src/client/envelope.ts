/** Reading NemoVideo's JSON answers: the three envelope styles, size-bounded bodies, errors from status and body. */
import type { Dispatcher } from "undici";
import type { z } from "zod";
import type { Logger } from "../log.js";
import { type ErrorContext, MalformedResponseError, NemoError, RateLimitError } from "./errors.js";
import { parseRetryAfter } from "./retry.js";
import { ErrorBodySchema } from "./schemas.js";
import { pathOf } from "./urls.js";

/** Most bytes a JSON answer may have. */
export const MAX_JSON_BYTES = 32 * 1024 * 1024;

interface DecodedFailure {
  code?: number | undefined;
  message?: string | undefined;
}

/** Result of reading a JSON body: the payload after the envelope, or the failure it reports. */
type Decoded = { ok: true; data: unknown } | { ok: false; failure: DecodedFailure };

/**
 * Reads any of the backend's three response styles: `{code, message, data}`, `{success, data}`,
 * or fields at the top level. `code != 0` is a failure even with HTTP 200.
 */
export function decodeEnvelope(status: number, body: unknown): Decoded {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return status >= 400 ? { ok: false, failure: {} } : { ok: true, data: body ?? {} };
  }
  const obj = body as Record<string, unknown>;
  const parsed = ErrorBodySchema.safeParse(obj);
  const fields = parsed.success ? parsed.data : {};
  const message = [fields.message, fields.msg, fields.error].find((m) => typeof m === "string") as
    | string
    | undefined;
  if (fields.code !== undefined && "code" in obj) {
    if (fields.code !== 0) return { ok: false, failure: { code: fields.code, message } };
    if (status >= 400) return { ok: false, failure: { message } };
    return { ok: true, data: obj.data ?? {} };
  }
  if (typeof obj.success === "boolean") {
    if (!obj.success || status >= 400) return { ok: false, failure: { message } };
    return { ok: true, data: obj.data ?? {} };
  }
  if (status >= 400) return { ok: false, failure: { message } };
  return { ok: true, data: obj };
}

/**
 * Reads a response body as JSON (at most 32 MiB) and returns the envelope's payload; an error envelope,
 * an error status or a body that is not JSON becomes a NemoError. Stream failures are thrown as they come.
 */
export async function readEnvelope(
  res: Dispatcher.ResponseData,
  context: ErrorContext,
  logger: Logger,
): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BYTES) {
      res.body.destroy();
      throw new MalformedResponseError("NemoVideo sent an unexpectedly large response.", "Try again.");
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  let json: unknown;
  try {
    json = text.trim() === "" ? {} : JSON.parse(text);
  } catch (err) {
    if (res.statusCode >= 400) throw responseError(res, {}, context);
    throw new MalformedResponseError(
      "NemoVideo sent a response that is not valid JSON.",
      "Try again in a moment; if it keeps happening, the backend may be having trouble.",
      { cause: err, status: res.statusCode },
    );
  }
  const decoded = decodeEnvelope(res.statusCode, json);
  if (decoded.ok) return decoded.data;
  const error = responseError(res, decoded.failure, context);
  logger.debug("NemoVideo returned an error", {
    status: res.statusCode,
    code: decoded.failure.code,
    message: decoded.failure.message,
  });
  throw error;
}

/** The payload validated by `schema`, or an error that names the call whose answer could not be read. */
export function parsePayload<T>(schema: z.ZodType<T>, data: unknown, method: string, path: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new MalformedResponseError(
      `NemoVideo sent a response this client cannot read (${method} ${pathOf(path)}).`,
      "Try again; if it keeps happening, the backend may have changed.",
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

function responseError(
  res: Dispatcher.ResponseData,
  failure: DecodedFailure,
  context: ErrorContext,
): NemoError {
  const error = NemoError.fromResponse(res.statusCode, failure, context);
  if (error instanceof RateLimitError) error.retryAfterMs = parseRetryAfter(res.headers["retry-after"]);
  return error;
}
