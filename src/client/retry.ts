import type { RateLimitError } from "./errors.js";

/** The longest a Retry-After is honoured (the contract's bound). */
export const MAX_RETRY_AFTER_MS = 120_000;

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
 * The one retry policy for HTTP 429 (API calls and the token request alike): wait what Retry-After
 * says, at most MAX_RETRY_AFTER_MS, else `fallbackMs` (NEMO_RETRY_429_MS); then retry once.
 */
export function rateLimitDelay(err: RateLimitError, fallbackMs: number): number {
  const asked = err.retryAfterMs;
  return asked === undefined ? fallbackMs : Math.min(asked, MAX_RETRY_AFTER_MS);
}
