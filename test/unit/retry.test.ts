import { afterEach, describe, expect, it, vi } from "vitest";
import {
  AuthError,
  CancelledError,
  NemoError,
  NetworkError,
  RateLimitError,
  ServerError,
} from "../../src/client/errors.js";
import {
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  type RetryPolicy,
  rateLimitDelay,
  TRANSIENT_RETRY_MS,
  withRetry,
} from "../../src/client/retry.js";
import { silentLogger } from "../../src/log.js";

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

/** An attempt that fails with `errors` in turn, then answers "done"; records the fake time of each call. */
function scripted(...errors: unknown[]) {
  const calls: number[] = [];
  const attempt = async () => {
    calls.push(Date.now());
    const next = errors.shift();
    if (next !== undefined) throw next;
    return "done";
  };
  return { calls, attempt };
}

const POLICY: RetryPolicy = {
  rateLimit: true,
  transient: true,
  retry429Ms: 30_000,
  logger: silentLogger,
  label: "GET /api/x",
};

const limited = (retryAfterMs?: number) => {
  const err = new RateLimitError("limited", undefined, { status: 429 });
  err.retryAfterMs = retryAfterMs;
  return err;
};

describe("withRetry: each kind of retry at most once", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("429: waits Retry-After (not the fallback), then retries once", async () => {
    vi.useFakeTimers({ now: 0 });
    const { calls, attempt } = scripted(limited(4_000));
    const result = withRetry(attempt, POLICY);
    await vi.advanceTimersByTimeAsync(3_999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toBe("done");
    expect(calls).toEqual([0, 4_000]);
  });

  it("429 twice: the second is thrown; without Retry-After the fallback is waited", async () => {
    vi.useFakeTimers({ now: 0 });
    const second = limited();
    const { calls, attempt } = scripted(limited(), second);
    const result = withRetry(attempt, POLICY).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await result).toBe(second);
    expect(calls).toEqual([0, 30_000]);
  });

  it("502/503/504 and network errors: one retry after TRANSIENT_RETRY_MS, when the call allows it", async () => {
    vi.useFakeTimers({ now: 0 });
    for (const status of [502, 503, 504]) {
      const { calls, attempt } = scripted(new ServerError("bad gateway", undefined, { status }));
      const result = withRetry(attempt, POLICY);
      await vi.advanceTimersByTimeAsync(TRANSIENT_RETRY_MS);
      expect(await result).toBe("done");
      expect(calls).toHaveLength(2);
    }
    const reset = new NetworkError("reset");
    const { calls, attempt } = scripted(reset);
    await expect(withRetry(attempt, { ...POLICY, transient: false })).rejects.toBe(reset);
    expect(calls).toHaveLength(1);
  });

  it("a 500 or a non-retriable error is thrown at once", async () => {
    const server = new ServerError("internal", undefined, { status: 500 });
    const { calls, attempt } = scripted(server);
    await expect(withRetry(attempt, POLICY)).rejects.toBe(server);
    expect(calls).toHaveLength(1);
  });

  it("recover is asked first and used once; its retry is immediate", async () => {
    const rejected = new AuthError("expired", undefined, { code: 1001 });
    const again = new AuthError("expired", undefined, { code: 1001 });
    const recover = vi.fn(async (err: unknown) => err instanceof AuthError);
    const { calls, attempt } = scripted(rejected, again);
    await expect(withRetry(attempt, { ...POLICY, recover })).rejects.toBe(again);
    expect(recover).toHaveBeenCalledTimes(1);
    expect(calls).toHaveLength(2);
  });

  it("the wait is cancellable", async () => {
    const controller = new AbortController();
    const { attempt } = scripted(limited(60_000));
    const result = withRetry(attempt, { ...POLICY, signal: controller.signal });
    controller.abort();
    await expect(result).rejects.toBeInstanceOf(CancelledError);
  });
});
