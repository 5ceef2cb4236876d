import type { Readable, Writable } from "node:stream";
import type { Dispatcher } from "undici";
import type { z } from "zod";
import type { Config } from "../config.js";
import { type Logger, silentLogger } from "../log.js";
import { type ActiveToken, TokenProvider } from "./auth.js";
import { parsePayload } from "./envelope.js";
import { AuthError, type ErrorContext } from "./errors.js";
import {
  type Exchange,
  exchangeJson,
  exchangeOpen,
  exchangeStream,
  type HttpSettings,
  type OpenResponse,
  type ResponseHead,
} from "./http.js";
import { withRetry } from "./retry.js";
import type { StateStore } from "./store.js";
import { pathOf } from "./urls.js";

// The types of NemoClient's own signature, so that callers import the client from one module.
export type { OpenResponse, ResponseHead, SkillIdentity } from "./http.js";

/** How a NemoClient is made: configuration, attribution, and the state store its token provider keeps. */
interface NemoClientOptions {
  config: Pick<Config, "apiUrl" | "webUrl" | "token" | "clientId" | "retry429Ms" | "requestTimeoutMs">;
  skill: HttpSettings["skill"];
  /** The state directory of the token provider (client id, token cache and lock); the client keeps no other use. */
  store: StateStore;
  logger?: Logger;
  dispatcher?: Dispatcher;
  userAgent?: string;
  /** Hosted mode: act only with the bearer token of the request being served. */
  requestTokensOnly?: boolean;
}

/** A request body that can be produced again for the single retry after an auth failure. */
type BodyFactory = () => { body: string | Buffer | Readable; headers?: Record<string, string> };

/** One call to NemoVideo: method, path or URL, body, limits and which retries apply. */
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
  /** Retry once on a network error or 502/503/504; defaults to true for GET. */
  retryTransient?: boolean;
  /** Connects through this dispatcher instead of the client's (e.g. one that refuses private addresses). */
  dispatcher?: Dispatcher | undefined;
}

/**
 * The one request path to NemoVideo: base URL, attribution and auth headers, envelope decoding,
 * error mapping, and the retries the contract allows (1001 with an anonymous token, 429, transient).
 */
export class NemoClient {
  readonly auth: TokenProvider;
  readonly logger: Logger;
  private readonly options: NemoClientOptions;
  private readonly http: HttpSettings;

  constructor(options: NemoClientOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.http = {
      apiUrl: options.config.apiUrl,
      skill: options.skill,
      logger: this.logger,
      userAgent: options.userAgent,
      dispatcher: options.dispatcher,
    };
    this.auth = new TokenProvider({
      http: this.http,
      store: options.store,
      webUrl: options.config.webUrl,
      userToken: options.config.token,
      requestTokensOnly: options.requestTokensOnly,
      clientId: options.config.clientId,
      retry429Ms: options.config.retry429Ms,
      requestTimeoutMs: options.config.requestTimeoutMs,
    });
  }

  /** NEMO_API_URL: the base of every API path. */
  get apiUrl(): string {
    return this.options.config.apiUrl;
  }

  /** NEMO_WEB_URL: the web app, for claim and registration links. */
  get webUrl(): string {
    return this.options.config.webUrl;
  }

  /** The active skill, sent in the attribution headers. */
  get skill(): HttpSettings["skill"] {
    return this.options.skill;
  }

  /** NEMO_REQUEST_TIMEOUT_MS: the limit of one ordinary request (and of the answer to a sent upload). */
  get requestTimeoutMs(): number {
    return this.options.config.requestTimeoutMs;
  }

  /** What error messages need to word the next step for this user (the user id of the active token). */
  errorContext(): ErrorContext {
    return { userToken: this.auth.isUserToken, userId: this.auth.userId, webUrl: this.webUrl };
  }

  /** Sends a request and returns the envelope's payload validated by `schema`. */
  async call<T>(options: CallOptions & { schema: z.ZodType<T> }): Promise<T> {
    const data = await this.withRetries(options, async (token) =>
      exchangeJson(this.http, await this.exchange(options, token), this.errorContext()),
    );
    return parsePayload(options.schema, data, options.method, options.path);
  }

  /**
   * Sends a request and returns the raw 2xx response for streaming (SSE, downloads). A JSON body
   * is still decoded so that error envelopes (`code != 0`) become errors. The caller must consume
   * or destroy the body.
   */
  async open(options: CallOptions): Promise<OpenResponse> {
    return this.withRetries(options, async (token) =>
      exchangeOpen(this.http, await this.exchange(options, token), this.errorContext()),
    );
  }

  /**
   * Sends a request and writes the response body straight into the writable `sink` picks from the status
   * and headers (downloads); error statuses and JSON bodies are decoded as in open(). Retries apply only
   * until the body starts.
   */
  async stream(options: CallOptions, sink: (head: ResponseHead) => Writable): Promise<ResponseHead> {
    return this.withRetries(options, async (token) =>
      exchangeStream(this.http, await this.exchange(options, token), this.errorContext(), sink),
    );
  }

  private async withRetries<T>(options: CallOptions, run: (token: ActiveToken | undefined) => Promise<T>) {
    let token = options.auth !== false ? await this.auth.get(options.signal) : undefined;
    return withRetry(() => run(token), {
      rateLimit: true,
      transient: options.retryTransient ?? options.method === "GET",
      retry429Ms: this.options.config.retry429Ms,
      logger: this.logger,
      label: `${options.method} ${pathOf(options.path)}`,
      signal: options.signal,
      // An anonymous token the backend rejects (1001) is replaced once; the user's own token is not.
      recover: async (err) => {
        if (!(err instanceof AuthError && token?.anonymous)) return false;
        this.logger.info("Token rejected (1001); acquiring a new anonymous token and retrying once.");
        await this.auth.invalidate(token.token);
        token = await this.auth.get(options.signal);
        return true;
      },
    });
  }

  /** The request of one attempt: absolute URL, token, body produced afresh. */
  private async exchange(options: CallOptions, token: ActiveToken | undefined): Promise<Exchange> {
    const headers: Record<string, string> = {};
    let body: Exchange["body"];
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = "application/json";
    } else if (options.body) {
      const made = options.body();
      body = made.body;
      Object.assign(headers, made.headers);
    }
    return {
      method: options.method,
      url: /^https?:\/\//.test(options.path) ? options.path : `${this.apiUrl}${options.path}`,
      clientId: await this.auth.clientId(),
      token: token?.token,
      headers: { ...headers, ...options.headers },
      body,
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? this.options.config.requestTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs,
      dispatcher: options.dispatcher,
    };
  }
}
