/**
 * Recovery of a turn whose stream was lost (dropped, or owned by a process that ended): the session state is
 * polled, a bounded number of times, until the timeline differs from the one before the turn. Nothing is re-sent.
 */
import type { NemoClient } from "./client.js";
import { pollUntil } from "./poll.js";
import { fetchState, type SessionState } from "./state.js";
import { type Timeline, timelineToJSON } from "./timeline.js";

/** Unchanged polls before a lost turn counts as failed, unless the limits say otherwise. */
const DEFAULT_RECOVERY_POLLS = 5;

/** What a recovery polls, how often, and whom it tells about each attempt. */
interface RecoveryOptions {
  sessionId: string;
  /** The timeline before the turn. */
  before: Timeline;
  /** Poll interval; the first poll comes after half of it. */
  intervalMs: number;
  /** Unchanged polls before giving up; default 5. */
  maxPolls?: number | undefined;
  signal: AbortSignal;
  turnId: string;
  /** Called before each poll (1-based). */
  onAttempt: (attempt: number, max: number) => void;
}

/**
 * Polls the state until the timeline has changed since `before`; undefined when the polls ran out first. A failed
 * poll counts as unchanged; rejects only when `signal` aborts.
 */
export function pollForChange(
  client: NemoClient,
  options: RecoveryOptions,
): Promise<SessionState | undefined> {
  const { before, intervalMs, signal } = options;
  const max = options.maxPolls ?? DEFAULT_RECOVERY_POLLS;
  const seen = JSON.stringify(timelineToJSON(before));
  return pollUntil<SessionState>({
    firstDelayMs: Math.round(intervalMs / 2),
    intervalMs,
    maxAttempts: max,
    signal,
    attempt: async (attempt) => {
      options.onAttempt(attempt, max);
      try {
        const state = await fetchState(client, options.sessionId, signal);
        if (JSON.stringify(timelineToJSON(state.timeline)) !== seen) return { done: true, value: state };
      } catch (err) {
        if (signal.aborted) throw err;
        client.logger.warn("A recovery poll failed; counting it as unchanged", {
          turn: options.turnId,
          attempt,
          error: (err as Error).message,
        });
      }
      return { done: false };
    },
  });
}
