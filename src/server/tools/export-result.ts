import { basename } from "node:path";
import { pathToFileURL } from "node:url";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ExportProgress } from "../../client/export.js";
import { mb, sizeOf } from "../../client/paths.js";
import { type ExportView, wordView } from "../../jobs/views.js";
import { type ProgressExtra, ProgressReporter } from "../progress.js";
import { TOOL_WORDS } from "../wording.js";
import { ok } from "./common.js";

/** Turns an ExportView into the tool result, with the downloaded MP4 as a resource_link. */
export function exportResult(job: ExportView): CallToolResult {
  const view = wordView(job, TOOL_WORDS);
  const structured = { ...view } as Record<string, unknown>;
  if (view.status === "failed" || view.status === "cancelled") {
    const fallback =
      view.status === "cancelled" ? `The export ${view.render_id} was cancelled.` : "The export failed.";
    const text = `${view.error?.message ?? fallback}${view.error?.next_step ? ` ${view.error.next_step}` : ""}`;
    return { content: [{ type: "text", text }], structuredContent: structured, isError: true };
  }
  if (view.status === "rendering") {
    return ok(
      structured,
      `Rendering (${Math.round(view.percent ?? 0)}%, render ${view.render_id}). Call get_export with render_id "${view.render_id}" to wait for the file; do not start another export.`,
    );
  }
  const lines = [`Export finished: ${view.file ?? view.url ?? view.render_id}`];
  if (view.bytes !== undefined) lines[0] += ` (${mb(view.bytes)} MB)`;
  if (view.url) lines.push(`Download link: ${view.url}`);
  if (view.project_url) lines.push(`Open the project in NemoVideo: ${view.project_url}`);
  const links: CallToolResult["content"] = view.file
    ? [
        {
          type: "resource_link",
          uri: pathToFileURL(view.file).href,
          name: basename(view.file),
          mimeType: "video/mp4",
          description: "The exported MP4",
        },
      ]
    : [];
  return ok(structured, lines.join("\n"), links);
}

/** Progress for export calls: render percent on 0–100, then download bytes on 100–200. */
export function exportProgress(extra: ProgressExtra) {
  const progress = new ProgressReporter(extra);
  return (p: ExportProgress) => {
    if (p.stage === "downloading") {
      const total = p.totalBytes ?? 0;
      const got = p.receivedBytes ?? 0;
      const frac = total > 0 ? got / total : 0;
      progress.report(
        total > 0 ? `Downloading ${sizeOf(got, total)}` : `Downloading ${mb(got)} MB`,
        100 + 100 * frac,
        200,
        total > 0 && got >= total,
      );
    } else if (p.stage === "rendering") {
      // One report per status poll: polls are seconds apart, so none needs dropping.
      progress.report(`Rendering ${Math.round(p.percent ?? 0)}%`, p.percent ?? 0, 200, true);
    } else {
      progress.report("Submitting the render…", 0, 200, true);
    }
  };
}

/**
 * Calls `cancelled` when the client cancels this call (`notifications/cancelled`) and `closed` when the
 * connection went away instead (the SDK aborts every call then too, and only later forgets the transport).
 * Returns the function that stops listening.
 */
export function whenCallAborted(
  server: McpServer,
  signal: AbortSignal,
  handlers: { cancelled: () => void; closed: () => void },
): () => void {
  const onAbort = () => {
    setImmediate(() => (server.isConnected() ? handlers.cancelled() : handlers.closed()));
  };
  // the call may have been cancelled while the export was being started
  if (signal.aborted) {
    onAbort();
    return () => {};
  }
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}
