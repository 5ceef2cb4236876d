import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { ServerDeps } from "../context.js";
import {
  alreadyFinished,
  cancelAnnotations,
  cancelStatusOutput,
  guard,
  ok,
  renderIdInput,
} from "./common.js";

/** cancel_export: stops an export here and asks NemoVideo to stop its render. */
export function registerCancelExportTool(server: McpServer, deps: ServerDeps): RegisteredTool {
  return server.registerTool(
    "cancel_export",
    {
      title: "Cancel a running export",
      description:
        "Stop an export that export_video started: status polling and the download stop at once (no file is " +
        "left), and NemoVideo is asked to cancel the render. An export that already finished is reported as " +
        "completed. Free: rendering spends no credits, so a cancelled export can simply be started again.",
      inputSchema: {
        render_id: renderIdInput,
      },
      outputSchema: {
        render_id: z.string(),
        status: cancelStatusOutput,
        error: z
          .object({
            kind: z.string(),
            message: z.string(),
            next_step: z.string().optional(),
            code: z.number().optional(),
          })
          .optional(),
      },
      annotations: cancelAnnotations(true),
    },
    async ({ render_id }) =>
      guard(deps.logger, "cancel_export", async () => {
        const view = await deps.jobs.exports.cancel(render_id);
        // a render that was still running when this process ended reads as cancelled once cancelled here
        const status = view.status === "rendering" ? "cancelled" : view.status;
        const structured: Record<string, unknown> = { render_id, status };
        if (view.error && status !== "completed") structured.error = view.error;
        const text =
          status === "cancelled"
            ? `Cancelled export ${render_id}. ${view.error?.message ?? ""}`.trim()
            : `${alreadyFinished(`Export ${render_id}`, status === "completed" ? "completed" : "failed")}${view.file ? ` The file is ${view.file}.` : ""}`;
        return ok(structured, text);
      }),
  );
}
