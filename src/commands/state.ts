import { fetchState } from "../client/state.js";
import { timelineToJSON } from "../client/timeline.js";
import { summarizeTimeline } from "../client/timeline-diff.js";
import { plainCommand } from "./context.js";

/** `state`: the current session's timeline; with --json the get_state shape. */
export const stateCommand = plainCommand("state", async (ctx) => {
  const { sessions, client } = ctx.runtime;
  const view = await sessions.run(
    undefined,
    async (session) => {
      const { timeline } = await fetchState(client, session.sessionId, ctx.signal);
      const json = timelineToJSON(timeline);
      return {
        session_id: session.sessionId,
        exportable: json.exportable,
        duration_ms: json.duration_ms,
        tracks: json.tracks,
        summary: summarizeTimeline(timeline),
      };
    },
    ctx.signal,
  );
  return { json: view, text: view.summary };
});
