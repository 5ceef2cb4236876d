/**
 * What a turn knew before its message was sent: the timeline and the credit balance. A turn compares against it
 * afterwards (what changed, what it cost), and a turn record keeps it so that a turn whose process ended can be
 * recovered later by polling the state, never by sending the message again.
 */
import type { NemoClient } from "./client.js";
import type { Credits } from "./schemas.js";
import { fetchCredits, fetchState, type SessionState } from "./state.js";
import { type TimelineJSON, timelineToJSON } from "./timeline.js";

/** The state before a turn, in a form that can be saved in a job record. */
export interface TurnBaseline {
  timeline: TimelineJSON;
  /** The balance before the turn, when it could be read. */
  credits?: { available: number; frozen: number; total: number };
}

/** What a turn cost, from the balance before and after it. */
export interface CreditsUsed {
  credits: number;
  /** Other work reserved or settled credits meanwhile, so the figure may include it. */
  approximate: boolean;
}

/**
 * Reads the state before a turn and, when it can, the balance; throws when the state cannot be read (the message
 * must not be sent then: there would be nothing to recover against).
 */
export async function readBaseline(
  client: NemoClient,
  sessionId: string,
  signal: AbortSignal,
): Promise<{ state: SessionState; baseline: TurnBaseline }> {
  // the balance is optional (it only prices the turn); the state is not
  const credits = fetchCredits(client, signal).then(balance, () => undefined);
  const state = await fetchState(client, sessionId, signal);
  const known = await credits;
  return {
    state,
    baseline: { timeline: timelineToJSON(state.timeline), ...(known ? { credits: known } : {}) },
  };
}

/**
 * What a finished turn cost: the balance now against the one in `baseline`; undefined when either is unknown.
 * Rejects only when `signal` has aborted.
 */
export async function priceTurn(
  client: NemoClient,
  baseline: TurnBaseline,
  signal: AbortSignal,
  turnId: string,
): Promise<CreditsUsed | undefined> {
  if (!baseline.credits) return undefined;
  try {
    return creditsUsed(baseline.credits, balance(await fetchCredits(client, signal)));
  } catch (err) {
    if (signal.aborted) throw err;
    client.logger.debug("Could not read the balance after the turn", { turn: turnId });
    return undefined;
  }
}

function balance(credits: Credits): NonNullable<TurnBaseline["credits"]> {
  return { available: credits.available, frozen: credits.frozen, total: credits.total };
}

/**
 * Credits a turn used: what left `available` (spent, or still reserved as `frozen` for this turn). When frozen
 * credits were released meanwhile (other work settled) only the drop of `total` is certain; either way the
 * figure is marked approximate when other work held frozen credits before or after the turn.
 */
export function creditsUsed(
  before: NonNullable<TurnBaseline["credits"]>,
  after: NonNullable<TurnBaseline["credits"]>,
): CreditsUsed {
  const released = after.frozen < before.frozen;
  const used = released ? before.total - after.total : before.available - after.available;
  return {
    credits: Math.max(0, Math.round(used * 100) / 100),
    approximate: before.frozen > 0 || after.frozen > 0 || released,
  };
}
