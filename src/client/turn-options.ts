/** What a turn is started or resumed with: its time limits, callbacks and, when resumed, its baseline. */
import type { TurnBaseline } from "./baseline.js";
import type { TurnUpdate } from "./turn-result.js";

/** Time limits of one turn (see the NEMO_* timing settings). */
export interface TurnLimits {
  /** Hard limit from the start of the request to the end of the stream. */
  streamTimeoutMs: number;
  /** Heartbeats-only time after which the turn counts as stalled. */
  stallMs: number;
  /** State poll interval after a dropped stream; the first poll comes after half of it. */
  recoveryPollMs: number;
  /** Unchanged polls before a dropped turn is reported as failed; default 5. */
  recoveryMaxPolls?: number;
  /** Limit for the response headers; default min(60 s, streamTimeoutMs). */
  headersTimeoutMs?: number;
}

/** What a new turn is started with. */
export interface StartTurnOptions {
  sessionId: string;
  message: string;
  limits: TurnLimits;
  /** Aborting it cancels the turn. */
  signal?: AbortSignal;
  /** Called with every update, in order (exceptions are logged and ignored). */
  onUpdate?: (update: TurnUpdate) => void;
  /** Defaults to a new UUID. */
  turnId?: string;
  /** Awaited with the state before the turn, before the message is sent (to persist what recovery needs). */
  onBaseline?: (baseline: TurnBaseline) => Promise<void> | void;
}

/** A turn whose stream belonged to a process that has ended: it is recovered from the state, never re-sent. */
export interface ResumeTurnOptions {
  turnId: string;
  sessionId: string;
  startedAt: number;
  baseline: TurnBaseline;
  limits: TurnLimits;
  signal?: AbortSignal;
  onUpdate?: (update: TurnUpdate) => void;
}
