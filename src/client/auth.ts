import { addSecret } from "../log.js";
import { currentUser } from "../request-context.js";
import { AuthError, MissingClientIdError, NemoError, RateLimitError } from "./errors.js";
import { parsePayload } from "./envelope.js";
import { exchangeJson, type HttpSettings } from "./http.js";
import { waitShared } from "./poll.js";
import { withRetry } from "./retry.js";
import { type AnonymousToken, AnonymousTokenSchema } from "./schemas.js";
import type { StateStore } from "./store.js";

const TOKEN_PATH = "/api/auth/anonymous-token";

const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;
/** A cached token is not used in its last minute, so it never expires mid-request. */
const EXPIRY_MARGIN_MS = 60_000;

/** The token the next request uses, and whether it is the user's own. */
export interface ActiveToken {
  token: string;
  /** True for an anonymous token acquired by this program (it can be re-acquired on 1001). */
  anonymous: boolean;
  /** The backend's user id of an anonymous token (what the registration link binds). */
  userId?: string | undefined;
}

/** What the token provider needs: where to ask for a token, where to keep it, and the configured tokens. */
interface TokenProviderOptions {
  /** The API and attribution of the token request (the client's own settings). */
  http: HttpSettings;
  /** The state directory: the persisted client id, the token cache and its cross-process lock. */
  store: StateStore;
  /** NEMO_WEB_URL, for the wording of errors on the token request. */
  webUrl: string;
  /** NEMO_TOKEN: used as is, never cached. */
  userToken?: string | undefined;
  /** Hosted mode: only the token of the request being served is used (never NEMO_TOKEN or an anonymous one). */
  requestTokensOnly?: boolean | undefined;
  /** NEMO_CLIENT_ID: used instead of the persisted id. */
  clientId?: string | undefined;
  /** NEMO_RETRY_429_MS: the wait before the one retry on HTTP 429 when no Retry-After is sent. */
  retry429Ms: number;
  /** NEMO_REQUEST_TIMEOUT_MS: the limit of one token request. */
  requestTimeoutMs: number;
  /** The clock for token expiry (tests). */
  now?: () => number;
}

/**
 * Hands out the bearer token: NEMO_TOKEN when set, else a cached anonymous token bound to the
 * persisted client id. Concurrent callers share one in-flight acquisition; the anonymous-token request
 * is its own, with its own rules for HTTP 429 (the one retry policy) and 400 (a new client id).
 */
export class TokenProvider {
  private inflight: Promise<ActiveToken> | undefined;
  private memo: ActiveToken | undefined;
  private readonly now: () => number;
  /** Number of anonymous-token requests sent (for tests and diagnostics). */
  requests = 0;

  constructor(private readonly options: TokenProviderOptions) {
    this.now = options.now ?? Date.now;
    addSecret(options.userToken);
  }

  /** True when the user supplied the token (NEMO_TOKEN, or the bearer of a hosted request). */
  get isUserToken(): boolean {
    return this.options.userToken !== undefined || currentUser() !== undefined;
  }

  /**
   * The user id of the anonymous token in use (from the token response or the cache), which the
   * registration link binds; undefined with the user's own token.
   */
  get userId(): string | undefined {
    if (this.isUserToken || this.options.requestTokensOnly) return undefined;
    return this.memo?.userId;
  }

  /** The client id sent as X-Client-Id. */
  async clientId(): Promise<string> {
    return this.options.clientId ?? (await this.options.store.clientId());
  }

  /** The token to use now, acquiring an anonymous one when none is cached. */
  async get(signal?: AbortSignal): Promise<ActiveToken> {
    // A hosted request carries its user's token; it wins over anything this process holds.
    const user = currentUser();
    if (user) return { token: user.token, anonymous: false };
    if (this.options.requestTokensOnly) {
      throw new AuthError(
        "This server only acts with the bearer token of the request, and none was given.",
        "Send your NemoVideo token as 'Authorization: Bearer <token>'.",
      );
    }
    if (this.options.userToken) return { token: this.options.userToken, anonymous: false };
    if (this.memo) return this.memo;
    // Shared by concurrent callers, so it does not follow any one caller's signal.
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return waitShared(this.inflight, signal);
  }

  /** Forgets `token` after the backend rejected it (1001); the next get() acquires a new one. */
  async invalidate(token: string): Promise<void> {
    if (this.options.userToken || currentUser()) return;
    if (this.memo?.token === token) this.memo = undefined;
    const cached = await this.options.store.getToken(this.options.http.apiUrl);
    if (cached?.token === token) await this.options.store.setToken(this.options.http.apiUrl, undefined);
  }

  private async load(signal?: AbortSignal): Promise<ActiveToken> {
    const cached = await this.cachedToken();
    if (cached) return cached;
    // One process of the state directory at a time: the others wait, then find its token in the cache.
    return this.options.store.withTokenLock(
      async () => (await this.cachedToken()) ?? (await this.acquireAndCache(signal)),
      signal,
    );
  }

  /** The cached token of this API URL, remembered when still valid. */
  private async cachedToken(): Promise<ActiveToken | undefined> {
    const cached = await this.options.store.getToken(this.options.http.apiUrl);
    if (!cached || cached.expiresAt - EXPIRY_MARGIN_MS <= this.now()) return undefined;
    addSecret(cached.token);
    this.memo = { token: cached.token, anonymous: true, userId: cached.userId };
    return this.memo;
  }

  private async acquireAndCache(signal?: AbortSignal): Promise<ActiveToken> {
    const { store } = this.options;
    const { apiUrl } = this.options.http;
    let clientId = await this.clientId();
    let response: AnonymousToken;
    try {
      response = await this.acquire(clientId, signal);
    } catch (err) {
      // HTTP 400: the backend wants a (new) client id; make one, keep it, try once more.
      if (!(err instanceof MissingClientIdError) || this.options.clientId) throw err;
      clientId = await store.resetClientId();
      response = await this.acquire(clientId, signal);
    }
    addSecret(response.token);
    const parsedExpiry = response.expires_at ? Date.parse(response.expires_at) : Number.NaN;
    const expiresAt = Number.isFinite(parsedExpiry) ? parsedExpiry : this.now() + SEVEN_DAYS_MS;
    const record = { token: response.token, userId: response.user_id, expiresAt, clientId };
    // Kept in memory first: a state folder that cannot be written must not cost a new token per call.
    this.memo = { token: record.token, anonymous: true, userId: record.userId };
    await store.setToken(apiUrl, record);
    return this.memo;
  }

  /** One token request, with the single wait-and-retry on HTTP 429 (Retry-After honoured). */
  private acquire(clientId: string, signal?: AbortSignal): Promise<AnonymousToken> {
    return withRetry(() => this.requestToken(clientId, signal), {
      rateLimit: true,
      transient: false,
      retry429Ms: this.options.retry429Ms,
      logger: this.options.http.logger,
      label: `POST ${TOKEN_PATH}`,
      signal,
    });
  }

  /** POST /api/auth/anonymous-token for `clientId` (no token, no body), its failures worded for the token. */
  private async requestToken(clientId: string, signal?: AbortSignal): Promise<AnonymousToken> {
    this.requests++;
    const { http, webUrl, requestTimeoutMs } = this.options;
    let data: unknown;
    try {
      data = await exchangeJson(
        http,
        { method: "POST", url: `${http.apiUrl}${TOKEN_PATH}`, clientId, signal, timeoutMs: requestTimeoutMs },
        { userToken: false, webUrl },
      );
    } catch (err) {
      throw tokenError(err);
    }
    return parsePayload(AnonymousTokenSchema, data, "POST", TOKEN_PATH);
  }
}

/** The token request's own rules: 429 names the one-per-week limit; a 400 can only be about X-Client-Id. */
function tokenError(err: unknown): unknown {
  if (err instanceof RateLimitError) {
    const limited = new RateLimitError(
      "NemoVideo rate limit (HTTP 429) on the anonymous token: one is issued per client every 7 days.",
      "Wait a minute and try again, or set NEMO_TOKEN to a token from your NemoVideo account.",
      { status: 429, code: err.code, cause: err },
    );
    limited.retryAfterMs = err.retryAfterMs;
    return limited;
  }
  if (err instanceof NemoError && err.status === 400 && !(err instanceof MissingClientIdError)) {
    return new MissingClientIdError(err.message, "A new client id is generated automatically; try again.", {
      status: 400,
      code: err.code,
      cause: err,
    });
  }
  return err;
}
