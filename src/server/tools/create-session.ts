import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { ServerDeps } from "../context.js";
import { languageInput, sessionLanguage } from "./language.js";
import { guard, ok } from "./common.js";

/** create_session: a new NemoVideo project that becomes the current session. */
export function registerCreateSessionTool(server: McpServer, deps: ServerDeps): RegisteredTool {
  return server.registerTool(
    "create_session",
    {
      title: "Create a NemoVideo session",
      description:
        "Start a new, empty NemoVideo editing session and make it the current one. Use it to begin a new video " +
        "project; other tools create a session on first need, so this is only required for a fresh start. " +
        "Free: it spends no credits. Returns a project_url link that opens the project in the NemoVideo web app.",
      inputSchema: {
        language: languageInput.describe(
          "Language the backend agent should reply in (default: the skill's, else en)",
        ),
      },
      outputSchema: {
        session_id: z.string(),
        task_id: z.string(),
        project_url: z.string().optional(),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    async ({ language }, extra) =>
      guard(deps.logger, "create_session", async () => {
        const session = await deps.sessions.create(sessionLanguage(deps, language), extra.signal);
        const projectUrl = await deps.sessions.claimLink(session, extra.signal).catch((err: Error) => {
          deps.logger.warn(`Could not make the project link: ${err.message}`);
          return undefined;
        });
        const out: { session_id: string; task_id: string; project_url?: string } = {
          session_id: session.sessionId,
          task_id: session.taskId,
        };
        if (projectUrl) out.project_url = projectUrl;
        return ok(
          out,
          `Created session ${session.sessionId}; it is now the current session.${projectUrl ? ` Open the project in the browser: ${projectUrl}` : ""}`,
        );
      }),
  );
}
