import { registerAppTool } from "@modelcontextprotocol/ext-apps/server";
import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { exportOutput } from "../../jobs/views.js";
import type { ServerDeps } from "../context.js";
import { PLAYER_URI, viewToolMeta } from "../views/apps.js";
import { withContactSheet } from "../views/frames.js";
import { guard, renderIdInput, waitSecondsInput } from "./common.js";
import { exportProgress, exportResult, whenCallAborted } from "./export-result.js";

/** get_export: picks up an export by render id, also after a restart; never re-submits. */
export function registerGetExportTool(server: McpServer, deps: ServerDeps): RegisteredTool {
  return registerAppTool(
    server,
    "get_export",
    {
      title: "Get the result of an export",
      description:
        "Wait (up to wait_seconds) for an export started by export_video and return the downloaded file and URL. " +
        "Call it as many times as needed; it never submits the render again. Finished exports are remembered " +
        "across server restarts. Free: spends no credits.",
      inputSchema: {
        render_id: renderIdInput,
        wait_seconds: waitSecondsInput(45),
      },
      outputSchema: exportOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      _meta: viewToolMeta(PLAYER_URI),
    },
    async ({ render_id, wait_seconds }, extra) =>
      guard(deps.logger, "get_export", async () => {
        // Cancelling this call cancels the export, as cancel_export does, unless another call still follows it.
        const stopListening = whenCallAborted(server, extra.signal, {
          cancelled: () => void deps.jobs.exports.cancelUnfollowed(render_id).catch(() => {}),
          closed: () => {},
        });
        try {
          const view = await deps.jobs.exports.wait(
            render_id,
            wait_seconds * 1000,
            extra.signal,
            exportProgress(extra),
          );
          return withContactSheet(deps, exportResult(view), view, extra.signal);
        } finally {
          stopListening();
        }
      }),
  );
}
