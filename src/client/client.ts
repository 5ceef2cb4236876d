import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { z } from "zod";
import type { Config } from "../config.js";
import { type Logger, silentLogger } from "../log.js";
import { type ActiveToken, TokenProvider } from "./auth.js";
import {
  AuthError,
  CancelledError,
  type ErrorContext,
  InvalidInputError,
  MalformedResponseError,
  MissingClientIdError,
  NemoError,
  NetworkError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "./errors.js";
import { sleep } from "./poll.js";
import { parseRetryAfter, rateLimitDelay } from "./retry.js";
import { AnonymousTokenSchema, ErrorBodySchema } from "./schemas.js";
import type { StateStore } from "./store.js";

/** Values of the three attribution headers, from the active skill. */
export interface SkillIdentity {
  name: string;
  version: string;
  platform: string;
}

export interface NemoClientOptions {
  config: Pick<Config, "apiUrl" | "webUrl" | "token" | "clientId" | "retry429Ms" | "requestTimeoutMs">;
  skill: SkillIdentity;
  store: StateStore;
  logger?: Logger;
  dispatcher?: Dispatcher;
  userAgent?: string;
  /** Hosted mode: act only with the bearer token of the request being served. */
  requestTokensOnly?: boolean;
}

/** A request body that can be produced again for the single retry after an auth failure. */
export type BodyFactory = () => { body: string | Buffer | Readable; headers?: Record<string, string> };

export interface CallOptions {
  method: "GET" | "POST" | "HEAD";
  /** Path below the API base URL (starting with /), or an absolute URL. */
  path: string;
  /** JSON body (sent as application/json). */
  json?: unknown;
  /** Raw body, produced once per attempt. */
  body?: BodyFactory;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Limit for the whole call (JSON) or for the response headers (open). */
  timeoutMs?: number;
  /** Idle limit between body chunks for open(); 0 disables it (SSE manages its own limits). */
  bodyTimeoutMs?: number;
  /** Send Authorization (default true). */
  auth?: boolean;
  /** Wait and retry once on HTTP 429 (default true); the token call has its own retry. */
  retryRateLimit?: boolean;
  /** Retry once on a network error or 502/503/504; defaults to true for GET. */
  retryTransient?: boolean;
  /** Connects through this dispatcher instead of the client's (e.g. one that refuses private addresses). */
  dispatcher?: Dispatcher | undefined;
}

/** A streaming response: status, headers and a body the caller must consume or destroy. */
export interface OpenResponse {
  statusCode: number;
  headers: Dispatcher.ResponseData["headers"];
  body: Readable;
}

interface DecodedFailure {
  code?: number | undefined;
  message?: string | undefined;
}

/** Result of reading a JSON body: the payload after the envelope, or the failure it reports. */
export type Decoded = { ok: true; data: unknown } | { ok: false; failure: DecodedFailure };

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

const TRANSIENT_STATUS = new Set([502, 503, 504]);

// undici is loaded on the first request, so that starting the MCP server stays fast.
let undici: Promise<typeof import("undici")> | undefined;
const loadUndici = () => {
  undici ??= import("undici");
  return undici;
};
const MAX_JSON_BYTES = 32 * 1024 * 1024;

/**
 * The one request path to NemoVideo: base URL, attribution and auth headers, envelope decoding,
 * error mapping, and the single retries the contract allows (1001 with an anonymous token, 429).
 */
export class NemoClient {
  readonly auth: TokenProvider;
  readonly logger: Logger;
  /** The last user id the backend told us (token, session or state responses). */
  userId: string | undefined;
  private readonly options: NemoClientOptions;

  constructor(options: NemoClientOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.auth = new TokenProvider({
      apiUrl: options.config.apiUrl,
      store: options.store,
      userToken: options.config.token,
      requestTokensOnly: options.requestTokensOnly,
      clientId: options.config.clientId,
      retry429Ms: options.config.retry429Ms,
      requestToken: (clientId, signal) => this.requestToken(clientId, signal),
    });
  }

  get apiUrl(): string {
    return this.options.config.apiUrl;
  }

  get webUrl(): string {
    return this.options.config.webUrl;
  }

  get skill(): SkillIdentity {
    return this.options.skill;
  }

  /** NEMO_REQUEST_TIMEOUT_MS: the limit of one ordinary request (and of the answer to a sent upload). */
  get requestTimeoutMs(): number {
    return this.options.config.requestTimeoutMs;
  }

  get store(): StateStore {
    return this.options.store;
  }

  /** What error messages need to word the next step for this user. */
  errorContext(): ErrorContext {
    return { userToken: this.auth.isUserToken, userId: this.userId, webUrl: this.webUrl };
  }

  /** Remembers a user id seen in a response (for the 2001 registration link). */
  noteUserId(userId: string | undefined): void {
    if (userId) this.userId = userId;
  }

  /** Sends a request and returns the envelope's payload validated by `schema`. */
  async call<T>(options: CallOptions & { schema: z.ZodType<T> }): Promise<T> {
    const data = await this.withRetries(options, async (token) => {
      const res = await this.send(options, token, false);
      return this.readJson(res, options.signal);
    });
    const parsed = options.schema.safeParse(data);
    if (!parsed.success) {
      throw new MalformedResponseError(
        `NemoVideo sent a response this client cannot read (${options.method} ${pathOf(options.path)}).`,
        "Try again; if it keeps happening, the backend may have changed.",
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }

  /**
   * Sends a request and returns the raw 2xx response for streaming (SSE, downloads). A JSON body
   * is still decoded so that error envelopes (`code != 0`) become errors. The caller must consume
   * or destroy the body.
   */
  async open(options: CallOptions): Promise<OpenResponse> {
    return this.withRetries(options, async (token) => {
      const res = await this.send(options, token, true);
      const type = String(res.headers["content-type"] ?? "");
      if (res.statusCode >= 400 || type.includes("application/json")) {
        // Throws for error envelopes; a JSON success on a streaming endpoint leaves an empty body.
        await this.readJson(res, options.signal);
        return { statusCode: res.statusCode, headers: res.headers, body: Readable.from([]) };
      }
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    });
  }

  private async withRetries<T>(options: CallOptions, run: (token: ActiveToken | undefined) => Promise<T>) {
    const wantsAuth = options.auth !== false;
    let token = wantsAuth ? await this.auth.get(options.signal) : undefined;
    this.noteUserId(token?.userId);
    const retryTransient = options.retryTransient ?? options.method === "GET";
    let authRetried = false;
    let rateRetried = false;
    let transientRetried = false;
    for (;;) {
      try {
        return await run(token);
      } catch (err) {
        if (err instanceof AuthError && token?.anonymous && !authRetried) {
          authRetried = true;
          this.logger.info("Token rejected (1001); acquiring a new anonymous token and retrying once.");
          await this.auth.invalidate(token.token);
          token = await this.auth.get(options.signal);
          this.noteUserId(token.userId);
          continue;
        }
        if (err instanceof RateLimitError && options.retryRateLimit !== false && !rateRetried) {
          rateRetried = true;
          const delay = rateLimitDelay(err, this.options.config.retry429Ms);
          this.logger.warn(`Rate limited (HTTP 429); retrying once in ${delay} ms.`);
          await sleep(delay, options.signal);
          continue;
        }
        const transient =
          err instanceof NetworkError ||
          (err instanceof ServerError && TRANSIENT_STATUS.has(err.status ?? 0));
        if (transient && retryTransient && !transientRetried) {
          transientRetried = true;
          this.logger.debug(`Transient failure on ${options.method} ${pathOf(options.path)}; retrying once.`);
          await sleep(300, options.signal);
          continue;
        }
        throw err;
      }
    }
  }

  private headers(
    clientId: string,
    token: ActiveToken | undefined,
    extra: Record<string, string> | undefined,
    ownOrigin: boolean,
  ) {
    const headers: Record<string, string> = {
      "user-agent": this.options.userAgent ?? "nemovideo-mcp",
      accept: "application/json",
    };
    // Attribution, client id and token go to NemoVideo's API only, never to a CDN or other host.
    if (ownOrigin) {
      const { name, version, platform } = this.options.skill;
      headers["x-skill-source"] = name;
      headers["x-skill-version"] = version;
      headers["x-skill-platform"] = platform;
      headers["x-client-id"] = clientId;
      if (token) headers.authorization = `Bearer ${token.token}`;
    }
    for (const [k, v] of Object.entries(extra ?? {})) headers[k.toLowerCase()] = v;
    return headers;
  }

  private async send(
    options: CallOptions,
    token: ActiveToken | undefined,
    streaming: boolean,
  ): Promise<Dispatcher.ResponseData> {
    const clientId = await this.auth.clientId();
    const url = /^https?:\/\//.test(options.path) ? options.path : `${this.apiUrl}${options.path}`;
    const ownOrigin = sameOrigin(url, this.apiUrl);
    const timeoutMs = options.timeoutMs ?? this.options.config.requestTimeoutMs;
    const timeout = streaming ? undefined : AbortSignal.timeout(timeoutMs);
    const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const started = Date.now();
    try {
      let body: string | Buffer | Readable | undefined;
      const extra: Record<string, string> = {};
      if (options.json !== undefined) {
        body = JSON.stringify(options.json);
        extra["content-type"] = "application/json";
      } else if (options.body) {
        const made = options.body();
        body = made.body;
        Object.assign(extra, made.headers);
      }
      const { request } = await loadUndici();
      const res = await request(url, {
        method: options.method,
        headers: this.headers(clientId, token, { ...extra, ...options.headers }, ownOrigin),
        body: body ?? null,
        ...(signal ? { signal } : {}),
        ...(options.dispatcher || this.options.dispatcher
          ? { dispatcher: options.dispatcher ?? this.options.dispatcher }
          : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: streaming ? (options.bodyTimeoutMs ?? 0) : timeoutMs,
      });
      if (timeout && !streaming) {
        // keep the timeout alive while the body is read
        (res as { timeoutSignal?: AbortSignal }).timeoutSignal = timeout;
      }
      this.logger.debug(
        `${options.method} ${callTarget(url, ownOrigin)} ${res.statusCode} ${Date.now() - started} ms`,
      );
      return res;
    } catch (err) {
      const error = this.transportError(err, options, timeout, url);
      this.logger.debug(
        `${options.method} ${callTarget(url, ownOrigin)} failed after ${Date.now() - started} ms (${error.kind})`,
      );
      throw error;
    }
  }

  private async readJson(res: Dispatcher.ResponseData, signal?: AbortSignal): Promise<unknown> {
    let text: string;
    try {
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
      text = Buffer.concat(chunks).toString("utf8");
    } catch (err) {
      if (err instanceof NemoError) throw err;
      const timeout = (res as { timeoutSignal?: AbortSignal }).timeoutSignal;
      throw this.transportError(err, { signal }, timeout);
    }
    let json: unknown;
    try {
      json = text.trim() === "" ? {} : JSON.parse(text);
    } catch (err) {
      if (res.statusCode >= 400) {
        const error = NemoError.fromResponse(res.statusCode, {}, this.errorContext());
        if (error instanceof RateLimitError) error.retryAfterMs = parseRetryAfter(res.headers["retry-after"]);
        throw error;
      }
      throw new MalformedResponseError(
        "NemoVideo sent a response that is not valid JSON.",
        "Try again in a moment; if it keeps happening, the backend may be having trouble.",
        { cause: err, status: res.statusCode },
      );
    }
    const decoded = decodeEnvelope(res.statusCode, json);
    if (decoded.ok) return decoded.data;
    const error = NemoError.fromResponse(res.statusCode, decoded.failure, this.errorContext());
    if (error instanceof RateLimitError) error.retryAfterMs = parseRetryAfter(res.headers["retry-after"]);
    this.logger.debug("NemoVideo returned an error", {
      status: res.statusCode,
      code: decoded.failure.code,
      message: decoded.failure.message,
    });
    throw error;
  }

  private transportError(
    err: unknown,
    options: { signal?: AbortSignal | undefined },
    timeout: AbortSignal | undefined,
    url?: string,
  ): NemoError {
    if (err instanceof NemoError) return err;
    if (options.signal?.aborted) return new CancelledError("Cancelled.", undefined, { cause: err });
    const code = (err as { code?: string }).code ?? "";
    if (timeout?.aborted || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      return new TimeoutError(
        "NemoVideo did not answer in time.",
        "Check your connection and try again; the backend may be busy.",
        { cause: err },
      );
    }
    const where = url && !sameOrigin(url, this.apiUrl) ? new URL(url).origin : `NemoVideo at ${this.apiUrl}`;
    return new NetworkError(
      `Could not reach ${where} (${code || (err as Error).message || "connection failed"}).`,
      "Check your network connection (and NEMO_API_URL), then try again.",
      { cause: err },
    );
  }

  private async requestToken(clientId: string, signal?: AbortSignal) {
    const result = await this.call({
      method: "POST",
      path: "/api/auth/anonymous-token",
      auth: false,
      retryRateLimit: false,
      headers: { "x-client-id": clientId },
      signal,
      schema: AnonymousTokenSchema,
    }).catch((err: unknown) => {
      if (err instanceof RateLimitError) {
        const limited = new RateLimitError(
          "NemoVideo rate limit (HTTP 429) on the anonymous token: one is issued per client every 7 days.",
          "Wait a minute and try again, or set NEMO_TOKEN to a token from your NemoVideo account.",
          { status: 429, code: err.code, cause: err },
        );
        limited.retryAfterMs = err.retryAfterMs;
        throw limited;
      }
      // on the token call (no body) a 400 can only be about X-Client-Id
      if (err instanceof NemoError && err.status === 400 && !(err instanceof MissingClientIdError)) {
        throw new MissingClientIdError(
          err.message,
          "A new client id is generated automatically; try again.",
          {
            status: 400,
            code: err.code,
            cause: err,
          },
        );
      }
      throw err;
    });
    this.noteUserId(result.user_id);
    return result;
  }
}

/** One id as a URL path segment; "." and ".." would climb to other endpoints, so they are refused. */
export function pathSegment(id: string): string {
  if (id === "" || /^\.+$/.test(id)) {
    throw new InvalidInputError(`"${id}" is not a valid id.`, "Use the id a previous call returned.");
  }
  return encodeURIComponent(id);
}

/** True when `url` has the same origin as `base` (where the token and attribution headers may go). */
export function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/** A request's target for the debug log: the path on the API, host and path elsewhere; never the query. */
function callTarget(url: string, ownOrigin: boolean): string {
  if (ownOrigin) return pathOf(url);
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return "(another host)";
  }
}

function pathOf(path: string): string {
  return path.replace(/^https?:\/\/[^/]+/, "").split("?")[0] ?? path;
}
