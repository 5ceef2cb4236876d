import { describe, expect, it } from "vitest";
import {
  BackendError,
  CancelledError,
  NetworkError,
  NoCreditsError,
  ServerError,
  StreamFailedError,
  TimeoutError,
} from "../../src/client/errors.js";
import {
  cancelledError,
  lostStreamError,
  mayHaveArrived,
  notSentError,
  stopError,
  streamError,
} from "../../src/client/turn-errors.js";

const LIMITS = { streamTimeoutMs: 900_000, stallMs: 45_000 };
const NOT_AGAIN = /do not send the same message again/;

function networkError(code: string): NetworkError {
  return new NetworkError("fetch failed", undefined, { cause: Object.assign(new Error(code), { code }) });
}

describe("streamError: an error event of the stream", () => {
  it("reads code 2001 and credit wording as out of credits", () => {
    expect(streamError({}, "whatever", 2001)).toBeInstanceOf(NoCreditsError);
    expect(streamError({}, "whatever", "2001")).toBeInstanceOf(NoCreditsError);
    expect(streamError({}, "Insufficient credits for this task", undefined)).toBeInstanceOf(NoCreditsError);
    expect(streamError({}, "not enough credit", "E1")).toBeInstanceOf(NoCreditsError);
  });

  it("keeps the backend's words (one line, at most 300 characters) and a numeric code", () => {
    const error = streamError({}, `  Model\n failed ${"x".repeat(400)}`, "5003");
    expect(error).toBeInstanceOf(StreamFailedError);
    expect(error.code).toBe(5003);
    expect(error.message).toBe(
      `NemoVideo reported an error during the turn (5003): Model failed ${"x".repeat(287)}.`,
    );
    expect(error.nextStep).toContain("{check_state}");
  });

  it("says 'no details' when the event said nothing, and drops a code that is not a number", () => {
    const error = streamError({}, "   ", "oops");
    expect(error.message).toBe("NemoVideo reported an error during the turn: no details.");
    expect(error.code).toBeUndefined();
  });
});

describe("mayHaveArrived: whether a failed /run_sse may have reached the backend", () => {
  it("is true for a header timeout, a gateway failure and a cut connection", () => {
    expect(mayHaveArrived(new TimeoutError("headers"))).toBe(true);
    expect(mayHaveArrived(new ServerError("bad gateway", undefined, { status: 502 }))).toBe(true);
    expect(mayHaveArrived(new ServerError("gateway timeout", undefined, { status: 504 }))).toBe(true);
    expect(mayHaveArrived(networkError("ECONNRESET"))).toBe(true);
    expect(mayHaveArrived(new NetworkError("socket closed"))).toBe(true);
  });

  it("is false when the connection provably never opened, or the backend refused the request", () => {
    for (const code of ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"]) {
      expect(mayHaveArrived(networkError(code))).toBe(false);
    }
    const nested = new NetworkError("connect", undefined, {
      cause: { cause: { code: "UND_ERR_CONNECT_TIMEOUT" } },
    });
    expect(mayHaveArrived(nested)).toBe(false);
    expect(mayHaveArrived(new ServerError("internal", undefined, { status: 500 }))).toBe(false);
    expect(mayHaveArrived(new BackendError("refused"))).toBe(false);
    expect(mayHaveArrived(new Error("plain"))).toBe(false);
  });
});

describe("stopError: why a turn was stopped", () => {
  it("words a timeout and a stall with the limit, and warns against sending again", () => {
    const timeout = stopError("timeout", undefined, LIMITS);
    expect(timeout).toBeInstanceOf(TimeoutError);
    expect(timeout.message).toBe(
      "NemoVideo took longer than 15 minutes on this message; it may still finish.",
    );
    expect(timeout.nextStep).toMatch(NOT_AGAIN);
    expect(timeout.nextStep).toContain("{check_state}");
    const stalled = stopError("stalled", undefined, { streamTimeoutMs: 1_000, stallMs: 45_000 });
    expect(stalled).toBeInstanceOf(StreamFailedError);
    expect(stalled.message).toContain("only heartbeats for 45 seconds");
    expect(stopError("timeout", undefined, { streamTimeoutMs: 60_000, stallMs: 1 }).message).toContain(
      "longer than 1 minute",
    );
    expect(stopError("stalled", undefined, { streamTimeoutMs: 1, stallMs: 500 }).message).toContain("500 ms");
  });

  it("keeps the cause, passes a client error through, and wraps anything else", () => {
    const cause = new Error("boom");
    expect(stopError("cancelled", cause, LIMITS)).toBeInstanceOf(CancelledError);
    expect(stopError("cancelled", cause, LIMITS).cause).toBe(cause);
    const known = new ServerError("down");
    expect(stopError(undefined, known, LIMITS)).toBe(known);
    const wrapped = stopError(undefined, cause, LIMITS);
    expect(wrapped).toBeInstanceOf(StreamFailedError);
    expect(wrapped.message).toBe("The turn failed unexpectedly (boom).");
    expect(wrapped.nextStep).toMatch(NOT_AGAIN);
  });
});

describe("errors of a turn that was not (or may have been) sent", () => {
  it("says nothing was spent when the message never went out", () => {
    const error = notSentError(undefined, new Error("state unreadable"), LIMITS);
    expect(error.message).toBe("The message was not sent (no credits were spent): state unreadable");
    expect(error.nextStep).toBe("Fix the cause, then send the message again.");
    expect(notSentError("timeout", new Error("x"), LIMITS)).toBeInstanceOf(TimeoutError);
    const known = new ServerError("down");
    expect(notSentError(undefined, known, LIMITS)).toBe(known);
  });

  it("words a cancel by whether the backend may be at work", () => {
    expect(cancelledError(false).message).toBe("The turn was cancelled before the message was sent.");
    expect(cancelledError(false).nextStep).toBeUndefined();
    expect(cancelledError(true).message).toContain("may still finish the work");
    expect(cancelledError(true).nextStep).toContain("{check_state}");
  });

  it("tells a lost stream not to be re-sent lightly", () => {
    const error = lostStreamError();
    expect(error.kind).toBe("stream_failed");
    expect(error.nextStep).toContain("{check_state}");
    expect(error.nextStep).toContain("spends credits again");
  });
});
