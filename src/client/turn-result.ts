/** What a turn reports: its updates while it runs, and its result (status, reply, changes, error) at the end. */
import type { CreditsUsed } from "./baseline.js";
import type { NemoError } from "./errors.js";
import type { AgentQuestion } from "./questions.js";
import type { TurnEvent } from "./sse.js";

/** What a turn reports while it runs: the stream's events plus the turn's own milestones. */
export type TurnUpdate =
  | TurnEvent
  /** The backend accepted the message: the stream is open. */
  | { type: "started" }
  /** Only heartbeats for `stallMs`: the turn is about to fail as stalled. */
  | { type: "stalled" }
  /** The stream dropped; polling the state, `attempt` of at most `max`. */
  | { type: "recovering"; attempt: number; max: number }
  /** The last update: the turn's result. */
  | { type: "finished"; result: TurnResult };

/** Where a turn stands: running, or how it ended. */
export type TurnStatus = "running" | "completed" | "awaiting_input" | "failed" | "cancelled";

/** Why a turn failed, in plain words, with the next step. */
interface TurnError {
  /** A NemoErrorKind ("timeout", "stream_failed", "no_credits", "cancelled", ...). */
  kind: string;
  message: string;
  nextStep?: string;
  code?: number;
}

/** The outcome of a turn. */
export interface TurnResult {
  turnId: string;
  sessionId: string;
  status: Exclude<TurnStatus, "running">;
  /** GUI-translated text for the user; "" when the backend said nothing. */
  reply: string;
  /** Backend tools run, in order, consecutive duplicates folded. */
  activity: string[];
  /** What changed on the timeline, when the reply was silent or the stream was recovered. */
  changes?: string[];
  /** Summary line of the timeline after the turn, when it could be fetched. */
  timeline?: string;
  /** The stream dropped and the outcome came from polling the state. */
  recovered?: boolean;
  /** What the agent asked (status "awaiting_input"); the answer is the session's next message. */
  questions?: AgentQuestion[];
  /** What a completed turn cost, from the balance before and after it. */
  creditsUsed?: CreditsUsed;
  error?: TurnError;
  /** The original error (non-enumerable: not serialised). */
  cause?: unknown;
  durationMs: number;
}

/** Marks `result` as failed by `error`: the error's words in `error`, the error itself as the hidden `cause`. */
export function failWith(result: TurnResult, error: NemoError): TurnResult {
  const turnError: TurnError = { kind: error.kind, message: error.message };
  if (error.nextStep !== undefined) turnError.nextStep = error.nextStep;
  if (error.code !== undefined) turnError.code = error.code;
  result.error = turnError;
  Object.defineProperty(result, "cause", {
    value: error,
    enumerable: false,
    writable: true,
    configurable: true,
  });
  return result;
}
