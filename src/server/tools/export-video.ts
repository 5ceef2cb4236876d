import { registerAppTool } from "@modelcontextprotocol/ext-apps/server";
import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { exportFileName } from "../../client/save-file.js";
import { exportOutput } from "../../jobs/views.js";
import type { ServerDeps } from "../context.js";
import type { ExportListener } from "../../jobs/export-job.js";
import { PLAYER_URI, viewToolMeta } from "../views/apps.js";
import { withContactSheet } from "../views/frames.js";
import { guard, sessionIdInput, waitSecondsInput } from "./common.js";
import { exportProgress, exportResult, whenCallAborted } from "./export-result.js";

/** Checks the output folder, resolves the session and starts (or joins) its export job. */
export async function startExportJob(
  deps: ServerDeps,
  args: {
    session_id?: string | undefined;
    output_dir?: string | undefined;
    file_name?: string | undefined;
    quality?: string | undefined;
  },
  signal: AbortSignal,
  onProgress?: ExportListener,
) {
  const outputDir = await deps.files.exportDir(args.output_dir);
  // Refuse a bad file name now, before a render is submitted.
  if (args.file_name !== undefined) exportFileName(args.file_name, "check");
  return deps.sessions.run(
    args.session_id,
    (session) =>
      deps.jobs.exports.start(
        { sessionId: session.sessionId, outputDir, fileName: args.file_name, quality: args.quality },
        { listener: onProgress },
      ),
    signal,
  );
}

/** export_video: render the timeline to MP4 and download it; background past wait_seconds. */
export function registerExportVideoTool(server: McpServer, deps: ServerDeps): RegisteredTool {
  return registerAppTool(
    server,
    "export_video",
    {
      title: "Export the video as MP4",
      description:
        "Render the session's timeline to an MP4 (H.264, up to 1080x1920) on NemoVideo and download it into the " +
        "output folder. Export is FREE (no credits); generating content with send_message is what spends credits. " +
        "Rendering takes 30–90 s: past wait_seconds this returns status 'rendering' with a render_id; then call " +
        "get_export instead of exporting again. Fails clearly when the timeline is still empty.",
      inputSchema: {
        session_id: sessionIdInput,
        output_dir: z
          .string()
          .max(4096)
          .optional()
          .describe(
            "Folder for the MP4 (default NEMO_OUTPUT_DIR or ./nemovideo-exports); must stay inside it or an allowed folder",
          ),
        file_name: z
          .string()
          .trim()
          .min(1, "file_name must not be empty")
          .max(200, "file_name is too long")
          .refine(
            (n) => !/[\\/\0]/.test(n) && n !== "." && n !== "..",
            "file_name must be a plain file name without folders",
          )
          .optional()
          .describe(
            "File name for the MP4 (default nemovideo-<render_id>.mp4); an existing file is never overwritten",
          ),
        quality: z.enum(["high", "medium", "low"]).default("high").describe("Render quality (default high)"),
        wait_seconds: waitSecondsInput(45),
      },
      outputSchema: exportOutput,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
      _meta: viewToolMeta(PLAYER_URI),
    },
    async ({ session_id, output_dir, file_name, quality, wait_seconds }, extra) =>
      guard(deps.logger, "export_video", async () => {
        const onProgress = exportProgress(extra);
        const job = await startExportJob(
          deps,
          { session_id, output_dir, file_name, quality },
          extra.signal,
          onProgress,
        );
        // Cancelling this call cancels the export (local work and the render), as cancel_export does; a
        // connection that goes away only stops the local work. Either only when no other call follows it.
        const stopListening = whenCallAborted(server, extra.signal, {
          cancelled: () => void deps.jobs.exports.cancelUnfollowed(job).catch(() => {}),
          closed: () => {
            if (job.followers === 0) job.cancel();
          },
        });
        try {
          const view = await deps.jobs.exports.wait(job, wait_seconds * 1000, extra.signal);
          return withContactSheet(deps, exportResult(view), view, extra.signal);
        } finally {
          stopListening();
          job.unsubscribe(onProgress);
        }
      }),
  );
}
