import { describe, expect, it } from "vitest";
import { AuthError, NemoError, RateLimitError } from "../../src/client/errors.js";
import { MAX_RETRY_AFTER_MS, parseRetryAfter, rateLimitDelay } from "../../src/client/retry.js";

describe("the one retry policy for HTTP 429", () => {
  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter(["2.5"], now)).toBe(2500);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });

  it("waits what the backend asked, at most 120 s, else NEMO_RETRY_429_MS", () => {
    const err = new RateLimitError("limited");
    expect(rateLimitDelay(err, 30_000)).toBe(30_000);
    err.retryAfterMs = 4_000;
    expect(rateLimitDelay(err, 30_000)).toBe(4_000);
    err.retryAfterMs = 3_600_000;
    expect(rateLimitDelay(err, 30_000)).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe("token errors", () => {
  it.each([1001, 1010, 1011])("body code %i is a token error", (code) => {
    const err = NemoError.fromResponse(200, { code, message: "token invalid" }, {});
    expect(err).toBeInstanceOf(AuthError);
    expect(err.code).toBe(code);
    expect(err.message).toContain(`error ${code}`);
  });
});
