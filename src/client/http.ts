/** One HTTP exchange with NemoVideo (or a CDN): headers, undici, a timeout kept in scope, transport errors mapped. */
import { Readable, Writable } from "node:stream";
import type { Dispatcher } from "undici";
import type { Logger } from "../log.js";
import {
  CancelledError,
  type ErrorContext,
  MalformedResponseError,
  NemoError,
  NetworkError,
  TimeoutError,
} from "./errors.js";
import { MAX_JSON_BYTES, readEnvelope } from "./envelope.js";
import { callTarget, sameOrigin } from "./urls.js";

/** Values of the three attribution headers, from the active skill. */
export interface SkillIdentity {
  name: string;
  version: string;
  platform: string;
}

/** Where requests go and how they are sent; shared by the client and the token provider. */
export interface HttpSettings {
  apiUrl: string;
  skill: SkillIdentity;
  logger: Logger;
  userAgent?: string | undefined;
  dispatcher?: Dispatcher | undefined;
}

/** One request, ready to send. */
export interface Exchange {
  method: "GET" | "POST" | "HEAD";
  /** Absolute URL. */
  url: string;
  clientId: string;
  /** The bearer token (sent to NemoVideo's own origin only). */
  token?: string | undefined;
  headers?: Record<string, string> | undefined;
  body?: string | Buffer | Readable | undefined;
  signal?: AbortSignal | undefined;
  /** Limit for the whole exchange (JSON) or for the response headers (open). */
  timeoutMs: number;
  /** Idle limit between body chunks for an open response; 0 disables it. */
  bodyTimeoutMs?: number | undefined;
  dispatcher?: Dispatcher | undefined;
}

/** A streaming response: status, headers and a body the caller must consume or destroy. */
export interface OpenResponse {
  statusCode: number;
  headers: Dispatcher.ResponseData["headers"];
  body: Readable;
}

// undici is loaded on the first request, so that starting the MCP server stays fast.
let undici: Promise<typeof import("undici")> | undefined;
const loadUndici = () => {
  undici ??= import("undici");
  return undici;
};

/** Sends `request` and returns the envelope's payload; the timeout covers the headers and the body. */
export async function exchangeJson(
  http: HttpSettings,
  request: Exchange,
  context: ErrorContext,
): Promise<unknown> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const res = await dispatch(http, request, timeout);
  try {
    return await readEnvelope(res, context, http.logger);
  } catch (err) {
    throw transportError(err, request.signal, timeout, http.apiUrl);
  }
}

/**
 * Sends `request` and returns the raw response for streaming; only the headers are timed. An error status
 * or a JSON body is read as an envelope, so error envelopes become errors and a JSON success leaves no body.
 */
export async function exchangeOpen(
  http: HttpSettings,
  request: Exchange,
  context: ErrorContext,
): Promise<OpenResponse> {
  const res = await dispatch(http, request, undefined);
  const type = String(res.headers["content-type"] ?? "");
  if (res.statusCode < 400 && !type.includes("application/json")) {
    return { statusCode: res.statusCode, headers: res.headers, body: res.body };
  }
  try {
    await readEnvelope(res, context, http.logger);
  } catch (err) {
    throw transportError(err, request.signal, undefined, http.apiUrl);
  }
  return { statusCode: res.statusCode, headers: res.headers, body: Readable.from([]) };
}

async function dispatch(
  http: HttpSettings,
  request: Exchange,
  timeout: AbortSignal | undefined,
): Promise<Dispatcher.ResponseData> {
  return sendLogged(http, request, timeout, async (url, options) => {
    const { request: send } = await loadUndici();
    const res = await send(url, options);
    return { result: res, statusCode: res.statusCode };
  });
}

/** Status and headers of a response whose body is streamed elsewhere. */
export interface ResponseHead {
  statusCode: number;
  headers: Dispatcher.ResponseData["headers"];
}

/**
 * Sends `request` and writes a 2xx body straight into the writable `sink` picks for it (`undici.stream()`,
 * no readable in between); only the headers are timed, then `bodyTimeoutMs` between chunks. An error
 * status or a JSON body is read as an envelope, as in exchangeOpen. A failure once the body has started
 * is thrown as it came (never a retryable NemoError: part of the body is already written).
 */
export async function exchangeStream(
  http: HttpSettings,
  request: Exchange,
  context: ErrorContext,
  sink: (head: ResponseHead) => Writable,
): Promise<ResponseHead> {
  let envelope: Buffer[] | undefined;
  let head: ResponseHead | undefined;
  let streaming = false;
  await sendLogged(
    http,
    request,
    undefined,
    async (url, options) => {
      const { stream } = await loadUndici();
      await stream(url, options, ({ statusCode, headers }) => {
        head = { statusCode, headers };
        if (statusCode < 400 && !String(headers["content-type"] ?? "").includes("application/json")) {
          streaming = true;
          return sink(head);
        }
        const chunks: Buffer[] = [];
        envelope = chunks;
        return collector(chunks);
      });
      return { result: undefined, statusCode: head?.statusCode ?? 0 };
    },
    () => streaming,
  );
  if (!head) throw new Error("undici.stream() ended without a response.");
  if (envelope) {
    const res = { ...head, body: Readable.from(envelope) } as unknown as Dispatcher.ResponseData;
    await readEnvelope(res, context, http.logger);
  }
  return head;
}

/** A writable that keeps an envelope's bytes, refusing more than an envelope may have. */
function collector(chunks: Buffer[]): Writable {
  let size = 0;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > MAX_JSON_BYTES) {
        callback(new MalformedResponseError("NemoVideo sent an unexpectedly large response.", "Try again."));
        return;
      }
      chunks.push(chunk);
      callback();
    },
  });
}

/** What sendLogged hands to undici's request() or stream(). */
interface UndiciOptions {
  method: Exchange["method"];
  headers: Record<string, string>;
  body: string | Buffer | Readable | null;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  headersTimeout: number;
  bodyTimeout: number;
}

/** One exchange through undici with the headers, signal and limits of `request`, logged with its timing. */
async function sendLogged<T>(
  http: HttpSettings,
  request: Exchange,
  timeout: AbortSignal | undefined,
  send: (url: string, options: UndiciOptions) => Promise<{ result: T; statusCode: number }>,
  bodyStarted?: () => boolean,
): Promise<T> {
  const ownOrigin = sameOrigin(request.url, http.apiUrl);
  const signals = [request.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const dispatcher = request.dispatcher ?? http.dispatcher;
  const target = `${request.method} ${callTarget(request.url, ownOrigin)}`;
  const started = Date.now();
  try {
    const { result, statusCode } = await send(request.url, {
      method: request.method,
      headers: headers(http, request, ownOrigin),
      body: request.body ?? null,
      ...(signal ? { signal } : {}),
      ...(dispatcher ? { dispatcher } : {}),
      headersTimeout: request.timeoutMs,
      bodyTimeout: timeout ? request.timeoutMs : (request.bodyTimeoutMs ?? 0),
    });
    http.logger.debug(`${target} ${statusCode} ${Date.now() - started} ms`);
    return result;
  } catch (err) {
    if (bodyStarted?.()) {
      http.logger.debug(`${target} body failed after ${Date.now() - started} ms`);
      throw err;
    }
    const error = transportError(err, request.signal, timeout, http.apiUrl, request.url);
    http.logger.debug(`${target} failed after ${Date.now() - started} ms (${error.kind})`);
    throw error;
  }
}

function headers(http: HttpSettings, request: Exchange, ownOrigin: boolean): Record<string, string> {
  const result: Record<string, string> = {
    "user-agent": http.userAgent ?? "nemovideo-mcp",
    accept: "application/json",
  };
  // Attribution, client id and token go to NemoVideo's API only, never to a CDN or other host.
  if (ownOrigin) {
    const { name, version, platform } = http.skill;
    result["x-skill-source"] = name;
    result["x-skill-version"] = version;
    result["x-skill-platform"] = platform;
    result["x-client-id"] = request.clientId;
    if (request.token) result.authorization = `Bearer ${request.token}`;
  }
  for (const [k, v] of Object.entries(request.headers ?? {})) result[k.toLowerCase()] = v;
  return result;
}

/** A failure of the transport as a NemoError: cancelled, timed out, or the host could not be reached. */
function transportError(
  err: unknown,
  signal: AbortSignal | undefined,
  timeout: AbortSignal | undefined,
  apiUrl: string,
  url?: string,
): NemoError {
  if (err instanceof NemoError) return err;
  if (signal?.aborted) return new CancelledError("Cancelled.", undefined, { cause: err });
  const code = (err as { code?: string }).code ?? "";
  if (timeout?.aborted || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return new TimeoutError(
      "NemoVideo did not answer in time.",
      "Check your connection and try again; the backend may be busy.",
      { cause: err },
    );
  }
  const where = url && !sameOrigin(url, apiUrl) ? new URL(url).origin : `NemoVideo at ${apiUrl}`;
  return new NetworkError(
    `Could not reach ${where} (${code || (err as Error).message || "connection failed"}).`,
    "Check your network connection (and NEMO_API_URL), then try again.",
    { cause: err },
  );
}
