/**
 * The errors a turn ends with, in neutral words with a symbolic next action: why it was stopped (cancelled,
 * timed out, stalled), what an `error` event of the stream means, and whether a failed request may have reached
 * the backend. Every wording that follows a sent message warns against sending it again (credits spent twice).
 */
import { act } from "./actions.js";
import {
  CancelledError,
  type ErrorContext,
  NemoError,
  NetworkError,
  NoCreditsError,
  ServerError,
  StreamFailedError,
  TimeoutError,
} from "./errors.js";

/** Why a turn was stopped from this side. */
export type StopReason = "cancelled" | "timeout" | "stalled";

const NOT_AGAIN = `Check ${act("check_state")} before asking again; do not send the same message again (that would run the work, and spend credits, twice).`;
/** Errors that prove the request never reached the backend, so there is nothing to recover. */
const NOT_CONNECTED = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** The time limits a stop reason is worded with. */
interface StopLimits {
  streamTimeoutMs: number;
  stallMs: number;
}

/** The error to report for `err`, given why the turn was stopped (if it was). */
export function stopError(reason: StopReason | undefined, err: unknown, limits: StopLimits): NemoError {
  switch (reason) {
    case "timeout":
      return new TimeoutError(
        `NemoVideo took longer than ${duration(limits.streamTimeoutMs)} on this message; it may still finish.`,
        NOT_AGAIN,
        { cause: err },
      );
    case "stalled":
      return new StreamFailedError(
        `NemoVideo sent only heartbeats for ${duration(limits.stallMs)}: the turn looks stalled, though it may still finish.`,
        NOT_AGAIN,
        { cause: err },
      );
    case "cancelled":
      return new CancelledError("The turn was cancelled.", undefined, { cause: err });
    default:
      if (err instanceof NemoError) return err;
      return new StreamFailedError(
        `The turn failed unexpectedly (${err instanceof Error ? err.message : String(err)}).`,
        NOT_AGAIN,
        { cause: err },
      );
  }
}

/** The error for a failure before the message went out: it says nothing was sent or spent. */
export function notSentError(reason: StopReason | undefined, err: unknown, limits: StopLimits): NemoError {
  if (reason || err instanceof NemoError) return stopError(reason, err, limits);
  return new StreamFailedError(
    `The message was not sent (no credits were spent): ${err instanceof Error ? err.message : String(err)}`,
    "Fix the cause, then send the message again.",
    { cause: err },
  );
}

/** The error of a turn cancelled by its caller; `sent` tells whether the backend may be at work already. */
export function cancelledError(sent: boolean): CancelledError {
  return sent
    ? new CancelledError(
        "The turn was cancelled; NemoVideo may still finish the work it had started.",
        `Check ${act("check_state")} to see what changed before sending anything again.`,
      )
    : new CancelledError("The turn was cancelled before the message was sent.");
}

/** The stream grew past what this program keeps in memory (`detail` says how large). */
export function streamTooLargeError(detail: string, cause: unknown): StreamFailedError {
  return new StreamFailedError(
    `NemoVideo sent ${detail}, so the turn was stopped to protect this program's memory.`,
    NOT_AGAIN,
    { cause },
  );
}

/** The stream dropped and polling the state showed no change before the polls ran out. */
export function lostStreamError(): StreamFailedError {
  return new StreamFailedError(
    "The connection to NemoVideo dropped and the timeline has not changed since.",
    `The backend may still be working: check ${act("check_state")} in a few minutes. Send the message again only if you are sure it was lost (that spends credits again).`,
  );
}

/** The error an `error` event stands for: out of credits, or a failed turn with the backend's words. */
export function streamError(
  context: ErrorContext,
  message: string,
  code: string | number | undefined,
): NemoError {
  const numeric =
    typeof code === "number" ? code : code !== undefined && /^\d+$/.test(code) ? Number(code) : undefined;
  const detail = message.replace(/\s+/g, " ").trim().slice(0, 300);
  if (numeric === 2001 || /\b(insufficient|not enough|no)\s+credits?\b/i.test(detail)) {
    return new NoCreditsError(context, detail ? `: ${detail}` : "");
  }
  return new StreamFailedError(
    `NemoVideo reported an error during the turn${numeric !== undefined ? ` (${numeric})` : ""}: ${detail || "no details"}.`,
    `Check ${act("check_state")} to see what was done, then rephrase the request or try again.`,
    numeric !== undefined ? { code: numeric } : {},
  );
}

/** True when a failed /run_sse request may have reached the backend (so the work may be under way). */
export function mayHaveArrived(err: unknown): boolean {
  if (err instanceof TimeoutError) return true; // the headers never came
  // A gateway failure may come after the backend accepted the message: check the state, never re-send.
  if (err instanceof ServerError && (err.status === 502 || err.status === 504)) return true;
  if (!(err instanceof NetworkError)) return false;
  const cause = err.cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = String(cause?.code ?? cause?.cause?.code ?? "");
  return !NOT_CONNECTED.has(code);
}

/** 900000 → "15 minutes", 45000 → "45 seconds", 500 → "500 ms". */
function duration(ms: number): string {
  if (ms >= 60_000) {
    const minutes = Math.round(ms / 6_000) / 10;
    return `${minutes} ${minutes === 1 ? "minute" : "minutes"}`;
  }
  if (ms >= 1_000) {
    const seconds = Math.round(ms / 100) / 10;
    return `${seconds} ${seconds === 1 ? "second" : "seconds"}`;
  }
  return `${ms} ms`;
}
