import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { InvalidInputError } from "../../client/errors.js";
import { sizeOf } from "../../client/paths.js";
import type { UploadResult } from "../../client/upload.js";
import type { ServerDeps } from "../context.js";
import { ProgressReporter } from "../progress.js";
import { guard, ok, sessionIdInput } from "./common.js";

const fileOut = z.object({
  name: z.string(),
  type: z.string(),
  url: z.string().optional(),
  duration_ms: z.number().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
});

/** upload_media: local files (streamed) or URLs into a session. */
export function registerUploadMediaTool(server: McpServer, deps: ServerDeps): RegisteredTool {
  return server.registerTool(
    "upload_media",
    {
      title: "Upload media to NemoVideo",
      description:
        "Upload local video, image, audio or script files (paths) or public URLs (urls) into the session so the " +
        "backend agent can use them. Accepted: mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac, " +
        "txt, docx; at most 500 MB per file. Local files must be inside the allowed folders. Free: spends no credits.",
      inputSchema: {
        session_id: sessionIdInput,
        paths: z
          .array(z.string().min(1, "a path must not be empty").max(4096))
          .max(20, "at most 20 files per call")
          .optional()
          .describe("Local file paths to upload"),
        urls: z
          .array(z.url({ protocol: /^https?$/, error: "urls must be http(s) URLs" }))
          .max(20, "at most 20 URLs per call")
          .optional()
          .describe("Public http(s) URLs of media for the backend to fetch"),
      },
      outputSchema: { session_id: z.string(), files: z.array(fileOut) },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    async ({ session_id, paths, urls }, extra) =>
      guard(deps.logger, "upload_media", async () => {
        if (!paths?.length && !urls?.length) {
          throw new InvalidInputError(
            "Nothing to upload.",
            "Give at least one local path in paths or a URL in urls.",
          );
        }
        const progress = new ProgressReporter(extra);
        const allowedRoots = await deps.files.allowedRoots();
        const files: UploadResult["files"] = [];
        const { uploadFiles, uploadUrls } = await import("../../client/upload.js");
        const sessionId = await deps.sessions.run(
          session_id,
          async (session) => {
            if (paths?.length) {
              const result = await uploadFiles(deps.client, session.sessionId, paths, {
                signal: extra.signal,
                allowedRoots,
                onProgress: (p) =>
                  progress.report(
                    `Uploading ${p.file} ${sizeOf(p.sentBytes, p.totalBytes)}`,
                    p.sentBytes,
                    p.totalBytes,
                    p.sentBytes === p.totalBytes,
                  ),
              });
              files.push(...result.files);
            }
            if (urls?.length) {
              const result = await uploadUrls(deps.client, session.sessionId, urls, { signal: extra.signal });
              files.push(...result.files);
            }
            return session.sessionId;
          },
          extra.signal,
        );
        const out = {
          session_id: sessionId,
          files: files.map((f) => {
            const o: z.infer<typeof fileOut> = { name: f.name, type: f.type };
            if (f.url) o.url = f.url;
            if (f.durationMs !== undefined) o.duration_ms = f.durationMs;
            if (f.width !== undefined) o.width = f.width;
            if (f.height !== undefined) o.height = f.height;
            return o;
          }),
        };
        const names = out.files.map((f) => f.name).join(", ");
        return ok(out, `Uploaded ${out.files.length} file(s) to session ${sessionId}: ${names || "(none)"}.`);
      }),
  );
}
