import type { NemoClient } from "./client.js";
import { type Credits, CreditsSchema, type RawState, StateSchema } from "./schemas.js";
import { parseDraft, type Timeline } from "./timeline.js";
import { pathSegment } from "./urls.js";

/** A session's state as fetched: the typed timeline plus the raw draft (needed to render). */
export interface SessionState {
  sessionId: string;
  timeline: Timeline;
  draft: unknown;
  raw: RawState;
}

/** Fetches a session's latest state and parses its draft. */
export async function fetchState(
  client: NemoClient,
  sessionId: string,
  signal?: AbortSignal,
): Promise<SessionState> {
  const raw = await client.call({
    method: "GET",
    path: `/api/state/nemo_agent/me/${pathSegment(sessionId)}/latest`,
    signal,
    schema: StateSchema,
  });
  const draft = raw.state?.draft ?? {};
  return { sessionId, timeline: parseDraft(draft), draft, raw };
}

/** Fetches the credit balance (available, frozen by work in progress, total). */
export async function fetchCredits(client: NemoClient, signal?: AbortSignal): Promise<Credits> {
  return client.call({ method: "GET", path: "/api/credits/balance/simple", signal, schema: CreditsSchema });
}
