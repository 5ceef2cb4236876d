/** Uploads into a session: local files as one streamed multipart request, or URLs the backend fetches. */
import type { Readable } from "node:stream";
import { act } from "./actions.js";
import type { NemoClient } from "./client.js";
import { CancelledError, InvalidInputError, TimeoutError } from "./errors.js";
import { mediaTypeOf } from "./formats.js";
import { type CheckedFile, type CheckOptions, inspectLocalFile } from "./local-files.js";
import { multipartBody, multipartLayout, ProgressMeter, type UploadProgress } from "./multipart.js";
import { mb } from "./paths.js";
import { throwIfAborted } from "./poll.js";
import { UploadedFileSchema, UploadResponseSchema } from "./schemas.js";
import { pathSegment } from "./urls.js";

/** One file as NemoVideo registered it. */
export interface UploadedMedia {
  name: string;
  type: "video" | "image" | "audio" | "document" | "other";
  url?: string;
  durationMs?: number;
  width?: number;
  height?: number;
  fps?: number;
  hash?: string;
}

/** What an upload call registered in the session. */
export interface UploadResult {
  sessionId: string;
  files: UploadedMedia[];
  /** The backend's `session_state_applied`: the media was added to the session's state. */
  stateApplied?: boolean;
}

/** Where files may come from, cancellation and progress for `uploadFiles`. */
interface UploadOptions extends CheckOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: UploadProgress) => void) | undefined;
}

/** A 500 MB upload on a slow uplink takes a while; the limit covers the whole request. */
const UPLOAD_TIMEOUT_MS = 30 * 60 * 1000;
/** The backend fetches URL media itself before it answers. */
const URL_UPLOAD_TIMEOUT_MS = 10 * 60 * 1000;

/** Reads the upload response's `files`, skipping entries that cannot be parsed. */
export function parseUploadedFiles(files: unknown[]): UploadedMedia[] {
  const out: UploadedMedia[] = [];
  for (const entry of files) {
    const parsed = UploadedFileSchema.safeParse(entry);
    if (!parsed.success) continue;
    const f = parsed.data;
    const media: UploadedMedia = { name: f.filename, type: mediaType(f.file_type, f.filename) };
    if (f.cdn_url) media.url = f.cdn_url;
    if (f.duration !== undefined) media.durationMs = Math.round(f.duration * 1000);
    if (f.width !== undefined) media.width = f.width;
    if (f.height !== undefined) media.height = f.height;
    if (f.fps !== undefined) media.fps = f.fps;
    if (f.hash) media.hash = f.hash;
    out.push(media);
  }
  return out;
}

function mediaType(fileType: string | undefined, fileName: string): UploadedMedia["type"] {
  const given = fileType?.toLowerCase().split("/")[0];
  if (given === "video" || given === "image" || given === "audio") return given;
  if (given === "document" || given === "text" || given === "application") return "document";
  return mediaTypeOf(fileName) ?? "other";
}

function uploadPath(sessionId: string): string {
  return `/api/upload-video/nemo_agent/me/${pathSegment(sessionId)}`;
}

/**
 * Uploads local files to a session in one streamed multipart request (constant memory, exact
 * Content-Length). Every file is checked before any byte is sent.
 */
export async function uploadFiles(
  client: NemoClient,
  sessionId: string,
  paths: string[],
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const { signal } = opts;
  if (paths.length === 0)
    throw new InvalidInputError("No files were given to upload.", "Pass at least one path.");
  throwIfAborted(signal);
  const checked: CheckedFile[] = [];
  for (const path of paths) checked.push(await inspectLocalFile(path, opts));
  throwIfAborted(signal);

  const bodies = new Set<Readable>();
  // Once the whole body is sent, NemoVideo must answer within NEMO_REQUEST_TIMEOUT_MS.
  const unanswered = new AbortController();
  let answerTimer: NodeJS.Timeout | undefined;
  const callSignal = signal ? AbortSignal.any([signal, unanswered.signal]) : unanswered.signal;
  const abort = () => {
    for (const body of bodies) body.destroy(new CancelledError("Cancelled."));
  };
  signal?.addEventListener("abort", abort, { once: true });
  try {
    const layout = multipartLayout(checked);
    const totalBytes = checked.reduce((sum, file) => sum + file.size, 0);
    const meter = new ProgressMeter(totalBytes, checked.length, opts.onProgress, (err) =>
      client.logger.debug("Upload progress callback failed", { error: String(err) }),
    );
    client.logger.info(`Uploading ${checked.length} file(s), ${mb(totalBytes)} MB, to session ${sessionId}.`);
    const response = await client.call({
      method: "POST",
      path: uploadPath(sessionId),
      body: () => {
        throwIfAborted(signal);
        // a retry starts over; the previous attempt's body is finished with
        for (const previous of bodies) previous.destroy();
        const body = multipartBody(checked, layout, meter);
        body.on("error", () => {}); // surfaces through the request; destroying it must not crash the process
        body.on("end", () => {
          clearTimeout(answerTimer);
          answerTimer = setTimeout(() => unanswered.abort(), client.requestTimeoutMs);
        });
        bodies.add(body);
        return {
          body,
          headers: { "content-type": layout.contentType, "content-length": String(layout.contentLength) },
        };
      },
      schema: UploadResponseSchema,
      signal: callSignal,
      timeoutMs: UPLOAD_TIMEOUT_MS,
    });
    meter.finish();
    const result: UploadResult = { sessionId, files: parseUploadedFiles(response.files) };
    if (response.session_state_applied !== undefined) result.stateApplied = response.session_state_applied;
    return result;
  } catch (err) {
    if (signal?.aborted && !(err instanceof CancelledError)) {
      throw new CancelledError("Upload cancelled.", undefined, { cause: err });
    }
    if (unanswered.signal.aborted && !signal?.aborted) {
      throw new TimeoutError(
        `NemoVideo did not answer within ${client.requestTimeoutMs >= 1000 ? `${Math.round(client.requestTimeoutMs / 1000)} s` : `${client.requestTimeoutMs} ms`} after the upload was sent.`,
        `Check the session with ${act("check_state")} to see whether the file arrived before uploading it again.`,
        { cause: err },
      );
    }
    throw err;
  } finally {
    clearTimeout(answerTimer);
    signal?.removeEventListener("abort", abort);
    for (const body of bodies) body.destroy();
  }
}

/** The URL `text` names when it is an http(s) URL; undefined for anything else. */
export function httpUrl(text: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
}

/** Asks NemoVideo to fetch media from http(s) URLs into a session. */
export async function uploadUrls(
  client: NemoClient,
  sessionId: string,
  urls: string[],
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<UploadResult> {
  if (urls.length === 0)
    throw new InvalidInputError("No URLs were given to upload.", "Pass at least one URL.");
  for (const url of urls) {
    if (!httpUrl(url)) {
      throw new InvalidInputError(
        `Not an http(s) URL: ${url.slice(0, 200)}`,
        "Pass a public http:// or https:// link, or upload a local file with paths.",
      );
    }
  }
  throwIfAborted(opts.signal);
  const response = await client.call({
    method: "POST",
    path: uploadPath(sessionId),
    json: { urls, source_type: "url" },
    schema: UploadResponseSchema,
    signal: opts.signal,
    timeoutMs: URL_UPLOAD_TIMEOUT_MS,
  });
  const result: UploadResult = { sessionId, files: parseUploadedFiles(response.files) };
  if (response.session_state_applied !== undefined) result.stateApplied = response.session_state_applied;
  return result;
}
