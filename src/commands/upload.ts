import { homedir } from "node:os";
import { join } from "node:path";
import { sizeOf } from "../client/paths.js";
import { checkLocalFile } from "../client/local-files.js";
import { httpUrl, type UploadedMedia, uploadFiles, uploadUrls } from "../client/upload.js";
import { type Command, type CommandContext, UsageError } from "./context.js";

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Local paths and http(s) URLs, split; throws UsageError for other URL schemes. */
function splitSources(items: string[]): { paths: string[]; urls: string[] } {
  const paths: string[] = [];
  const urls: string[] = [];
  for (const raw of items) {
    const item = raw.trim();
    if (item === "") throw new UsageError("An empty path was given to upload.");
    if (URL_SCHEME.test(item)) {
      if (!httpUrl(item)) {
        throw new UsageError(
          `Only local files and http(s) URLs can be uploaded (got ${JSON.stringify(item.slice(0, 200))}).`,
        );
      }
      urls.push(item);
    } else {
      // words routed from a quoted sentence never went through the shell's ~ expansion
      paths.push(item === "~" ? homedir() : item.startsWith("~/") ? join(homedir(), item.slice(2)) : item);
    }
  }
  return { paths, urls };
}

function describe(file: UploadedMedia): string {
  const details: string[] = [file.type];
  if (file.durationMs !== undefined) details.push(`${Math.round(file.durationMs / 100) / 10}s`);
  if (file.width !== undefined && file.height !== undefined) details.push(`${file.width}x${file.height}`);
  return `- ${file.name} (${details.join(", ")})${file.url ? `: ${file.url}` : ""}`;
}

function fileJSON(f: UploadedMedia): Record<string, unknown> {
  const o: Record<string, unknown> = { name: f.name, type: f.type };
  if (f.url) o.url = f.url;
  if (f.durationMs !== undefined) o.duration_ms = f.durationMs;
  if (f.width !== undefined) o.width = f.width;
  if (f.height !== undefined) o.height = f.height;
  return o;
}

/**
 * Where the CLI may read uploads from: the NEMO_ALLOWED_DIRS folders when that is set; otherwise
 * anywhere. Unlike the MCP server (whose paths come from a model, so they stay inside the client's
 * roots or cwd and home), a CLI path is typed by a person in their own shell, who may upload any file
 * they can read; the file must still exist and pass every other check.
 */
function allowedRoots(ctx: CommandContext): string[] | undefined {
  return ctx.config.allowedDirsSet ? ctx.config.allowedDirs : undefined;
}

/** Uploads local files (streamed) and URLs into the current session. */
async function runUpload(ctx: CommandContext, items: string[]) {
  const { paths, urls } = splitSources(items);
  const roots = allowedRoots(ctx);
  // every local file is checked before anything (even a session) is requested
  for (const path of paths) await checkLocalFile(path, { allowedRoots: roots });
  const { sessions, client } = ctx.runtime;
  const files: UploadedMedia[] = [];
  const sessionId = await sessions.run(
    undefined,
    async (session) => {
      if (paths.length > 0) {
        const result = await uploadFiles(client, session.sessionId, paths, {
          allowedRoots: roots,
          signal: ctx.signal,
          onProgress: (p) => {
            const percent = p.totalBytes > 0 ? Math.floor((100 * p.sentBytes) / p.totalBytes) : 100;
            const which = p.fileCount > 1 ? ` (${p.fileIndex + 1}/${p.fileCount})` : "";
            ctx.progress.update(
              `upload:${p.fileIndex}`,
              `Uploading ${p.file}${which}: ${sizeOf(p.sentBytes, p.totalBytes)} (${percent}%)`,
              percent,
            );
          },
        });
        files.push(...result.files);
      }
      if (urls.length > 0) {
        ctx.progress.update(
          "urls",
          `Asking NemoVideo to fetch ${urls.length} URL${urls.length > 1 ? "s" : ""}…`,
        );
        const result = await uploadUrls(client, session.sessionId, urls, { signal: ctx.signal });
        files.push(...result.files);
      }
      return session.sessionId;
    },
    ctx.signal,
  );
  const n = files.length;
  const head = `Uploaded ${n} file${n === 1 ? "" : "s"} to session ${sessionId}${n > 0 ? ":" : "."}`;
  return {
    json: { session_id: sessionId, files: files.map(fileJSON) },
    text: [head, ...files.map(describe)].join("\n"),
  };
}

/** `upload <path|url>...`: local media files and/or http(s) URLs into the current session. */
export const uploadCommand: Command = {
  name: "upload",
  flags: [],
  prepare(args) {
    if (args.length === 0) {
      throw new UsageError(
        "upload needs at least one local file path or http(s) URL.",
        "Example: nemovideo-mcp upload ./clip.mp4 https://example.com/music.mp3",
      );
    }
    splitSources(args);
    return (ctx) => runUpload(ctx, args);
  },
};
