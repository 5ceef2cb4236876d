import { registerAppTool } from "@modelcontextprotocol/ext-apps/server";
import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { fetchState } from "../../client/state.js";
import { timelineToJSON } from "../../client/timeline.js";
import { summarizeTimeline } from "../../client/timeline-diff.js";
import { timelineShape } from "../../jobs/views.js";
import type { ServerDeps } from "../context.js";
import { TIMELINE_URI, viewToolMeta } from "../views/apps.js";
import { guard, ok, sessionIdInput } from "./common.js";

/** The output schema of get_state: the session, its timeline and a summary. */
export const stateOutput = {
  session_id: z.string(),
  ...timelineShape,
  summary: z.string(),
};

/** The get_state result of a session: typed tracks plus the summary line. */
async function stateView(deps: ServerDeps, sessionId: string | undefined, signal?: AbortSignal) {
  return deps.sessions.run(sessionId, (session) => sessionStateView(deps, session.sessionId, signal), signal);
}

/** The get_state view of one given session, with no session bookkeeping (a vanished id just fails). */
export async function sessionStateView(deps: ServerDeps, sessionId: string, signal?: AbortSignal) {
  const state = await fetchState(deps.client, sessionId, signal);
  const json = timelineToJSON(state.timeline);
  return {
    session_id: sessionId,
    exportable: json.exportable,
    duration_ms: json.duration_ms,
    tracks: json.tracks,
    summary: summarizeTimeline(state.timeline),
  };
}

/** get_state: the session's timeline. */
export function registerGetStateTool(server: McpServer, deps: ServerDeps): RegisteredTool {
  return registerAppTool(
    server,
    "get_state",
    {
      title: "Show the timeline",
      description:
        "Read the session's current timeline: tracks (video, audio, text), their segments with start and end " +
        "times, total duration, whether there is anything to export, and a one-line summary. Use it to preview " +
        "the project or to check whether an edit landed. Free: spends no credits.",
      inputSchema: { session_id: sessionIdInput },
      outputSchema: stateOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      _meta: viewToolMeta(TIMELINE_URI),
    },
    async ({ session_id }, extra) =>
      guard(deps.logger, "get_state", async () => {
        const view = await stateView(deps, session_id, extra.signal);
        return ok(view, view.summary);
      }),
  );
}
