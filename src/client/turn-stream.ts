/**
 * The one `POST /run_sse` of a turn and the reading of its stream, under a hard time limit and stall detection.
 * It tells a stream that ended from one that dropped (which the turn recovers from the state, never re-sending).
 */
import type { Readable } from "node:stream";
import type { NemoClient } from "./client.js";
import type { NemoError } from "./errors.js";
import { parseTurnStream, StreamTooLargeError, type TurnEvent } from "./sse.js";
import { mayHaveArrived, streamTooLargeError } from "./turn-errors.js";
import type { TurnUpdate } from "./turn-result.js";

/** Text carried by one update (progress only needs to know that text arrived). */
const UPDATE_TEXT_CHARS = 2_000;
const MAX_HEADERS_TIMEOUT_MS = 60_000;

/** The message to send and the limits to read its stream under. */
interface TurnStreamRequest {
  turnId: string;
  sessionId: string;
  message: string;
  streamTimeoutMs: number;
  stallMs: number;
  /** Default min(60 s, streamTimeoutMs). */
  headersTimeoutMs?: number | undefined;
  /** The turn's signal: aborting it closes the stream. */
  signal: AbortSignal;
}

/** What reading the stream reports back to its turn. */
interface TurnStreamHooks {
  /** Reports an update: "started", "stalled" and each event (texts cut short). */
  emit(update: TurnUpdate): void;
  /** Takes a whole event into the turn; returns the failure an error event means. */
  absorb(event: TurnEvent): NemoError | undefined;
  /** Stops the turn (aborts the request's signal). */
  stop(reason: "timeout" | "stalled"): void;
  /** The error to throw once the signal has aborted. */
  stopped(err: unknown): NemoError;
}

/** Sends the message and reads the stream: "ended" when it closed normally, "dropped" when it broke. */
export async function sendAndRead(
  client: NemoClient,
  request: TurnStreamRequest,
  hooks: TurnStreamHooks,
): Promise<"ended" | "dropped"> {
  const { streamTimeoutMs, stallMs, signal } = request;
  const log = client.logger;
  const headersTimeoutMs = request.headersTimeoutMs ?? Math.min(MAX_HEADERS_TIMEOUT_MS, streamTimeoutMs);
  const hardTimer = setTimeout(() => hooks.stop("timeout"), streamTimeoutMs);
  let stallTimer: NodeJS.Timeout | undefined;
  const armStall = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => {
      hooks.emit({ type: "stalled" });
      hooks.stop("stalled");
    }, stallMs);
  };
  let body: Readable | undefined;
  const closeBody = () => body?.destroy();
  signal.addEventListener("abort", closeBody, { once: true });
  try {
    log.debug("Sending a message to NemoVideo", { turn: request.turnId, session: request.sessionId });
    try {
      const res = await client.open({
        method: "POST",
        path: "/run_sse",
        json: {
          app_name: "nemo_agent",
          user_id: "me",
          session_id: request.sessionId,
          new_message: { parts: [{ text: request.message }] },
        },
        headers: { accept: "text/event-stream" },
        signal,
        timeoutMs: headersTimeoutMs,
        bodyTimeoutMs: 0,
      });
      body = res.body;
    } catch (err) {
      if (signal.aborted) throw hooks.stopped(err);
      if (!mayHaveArrived(err)) throw err;
      log.warn("The /run_sse request broke before the stream opened; recovering from the state.", {
        turn: request.turnId,
        error: (err as Error).message,
      });
      return "dropped";
    }
    if (signal.aborted) throw hooks.stopped(undefined);
    hooks.emit({ type: "started" });
    armStall();
    let failure: NemoError | undefined;
    try {
      for await (const event of parseTurnStream(body)) {
        if (event.type !== "heartbeat") armStall();
        // updates carry only the start of a text (listeners show progress); the reply keeps it whole, bounded
        hooks.emit(
          event.type === "text" ? { ...event, text: event.text.slice(0, UPDATE_TEXT_CHARS) } : event,
        );
        failure = hooks.absorb(event);
        if (failure) break;
      }
    } catch (err) {
      if (signal.aborted) throw hooks.stopped(err);
      if (err instanceof StreamTooLargeError) throw streamTooLargeError(err.message, err);
      log.warn("The NemoVideo stream dropped; recovering from the state.", {
        turn: request.turnId,
        error: (err as Error).message,
      });
      return "dropped";
    }
    if (failure) throw failure;
    if (signal.aborted) throw hooks.stopped(undefined);
    return "ended";
  } finally {
    clearTimeout(hardTimer);
    clearTimeout(stallTimer);
    signal.removeEventListener("abort", closeBody);
    closeBody();
  }
}
