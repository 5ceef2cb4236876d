/** The one retry policy of the client: HTTP 429 (honouring Retry-After) and transient failures, each once. */
import type { Logger } from "../log.js";
import { NetworkError, RateLimitError, ServerError } from "./errors.js";
import { sleep } from "./poll.js";

/** The longest a Retry-After is honoured (the contract's bound). */
export const MAX_RETRY_AFTER_MS = 120_000;
/** The pause before the single retry after a network error or HTTP 502/503/504. */
export const TRANSIENT_RETRY_MS = 300;
const TRANSIENT_STATUS = new Set([502, 503, 504]);

/** A Retry-After header (seconds, or an HTTP date) in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== "string" || text.trim() === "") return undefined;
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before retrying after HTTP 429 (API calls and the token request alike): what Retry-After
 * says, at most MAX_RETRY_AFTER_MS, else `fallbackMs` (NEMO_RETRY_429_MS).
 */
export function rateLimitDelay(err: RateLimitError, fallbackMs: number): number {
  const asked = err.retryAfterMs;
  return asked === undefined ? fallbackMs : Math.min(asked, MAX_RETRY_AFTER_MS);
}

/** True for failures worth one more try: a network error or HTTP 502/503/504. */
function isTransient(err: unknown): boolean {
  return err instanceof NetworkError || (err instanceof ServerError && TRANSIENT_STATUS.has(err.status ?? 0));
}

/** Which retries one call allows; each kind is used at most once. */
export interface RetryPolicy {
  /** Wait (rateLimitDelay) and retry once on HTTP 429. */
  rateLimit: boolean;
  /** Retry once, TRANSIENT_RETRY_MS later, on a network error or HTTP 502/503/504 (only for safe requests). */
  transient: boolean;
  /** NEMO_RETRY_429_MS: the wait on HTTP 429 when the backend gives no Retry-After. */
  retry429Ms: number;
  logger: Logger;
  /** The call as log lines name it (method and path, never a query or token). */
  label: string;
  signal?: AbortSignal | undefined;
  /** Asked first, once: resolves true when it repaired the cause (a new token) and the call should run again. */
  recover?: ((err: unknown) => Promise<boolean>) | undefined;
}

/** Runs `attempt`, retrying as `policy` allows; the last failure is thrown as it is. */
export async function withRetry<T>(attempt: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  let recovered = false;
  let rateRetried = false;
  let transientRetried = false;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (policy.recover && !recovered && (await policy.recover(err))) {
        recovered = true;
        continue;
      }
      if (err instanceof RateLimitError && policy.rateLimit && !rateRetried) {
        rateRetried = true;
        const delay = rateLimitDelay(err, policy.retry429Ms);
        policy.logger.warn(`Rate limited (HTTP 429); retrying once in ${delay} ms.`);
        await sleep(delay, policy.signal);
        continue;
      }
      if (isTransient(err) && policy.transient && !transientRetried) {
        transientRetried = true;
        policy.logger.debug(`Transient failure on ${policy.label}; retrying once.`);
        await sleep(TRANSIENT_RETRY_MS, policy.signal);
        continue;
      }
      throw err;
    }
  }
}
