import { isInside, mb } from "./paths.js";
import { randomBytes } from "node:crypto";
import { constants as fsConstants, createReadStream } from "node:fs";
import { access, type FileHandle, open, realpath, stat } from "node:fs/promises";
import { basename, extname, resolve } from "node:path";
import { Readable } from "node:stream";
import { act } from "./actions.js";
import { type NemoClient, pathSegment } from "./client.js";
import { mediaTypeOf } from "./formats.js";
import {
  ACCEPTED_FORMATS,
  CancelledError,
  FileTooLargeError,
  InvalidInputError,
  MAX_UPLOAD_BYTES,
  TimeoutError,
  UnsupportedFileError,
} from "./errors.js";
import { throwIfAborted } from "./poll.js";
import { UploadedFileSchema, UploadResponseSchema } from "./schemas.js";

/** Upload progress: file bytes handed to the connection so far, over all files of the call. */
export interface UploadProgress {
  sentBytes: number;
  totalBytes: number;
  /** Base name of the file being sent. */
  file: string;
  fileIndex: number;
  fileCount: number;
}

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

export interface UploadResult {
  sessionId: string;
  files: UploadedMedia[];
  /** The backend's `session_state_applied`: the media was added to the session's state. */
  stateApplied?: boolean;
}

/** A local file that passed every pre-upload check. */
export interface LocalFileCheck {
  /** Real path (symlinks resolved). */
  path: string;
  name: string;
  size: number;
  /** Lower-case extension without the dot. */
  extension: string;
}

export interface CheckOptions {
  /** Directories the file must be inside (after resolving symlinks); no restriction when absent. */
  allowedRoots?: string[] | undefined;
  /** Largest accepted size; default 500 MB. */
  maxBytes?: number | undefined;
}

export interface UploadOptions extends CheckOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: UploadProgress) => void) | undefined;
}

/** File extensions NemoVideo accepts (lower case, no dot). */
export const ACCEPTED_EXTENSIONS: readonly string[] = ACCEPTED_FORMATS;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  mp4: "video/mp4",
  mov: "video/quicktime",
  avi: "video/x-msvideo",
  webm: "video/webm",
  mkv: "video/x-matroska",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  m4a: "audio/mp4",
  aac: "audio/aac",
  txt: "text/plain",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
};

const CHUNK_BYTES = 1024 * 1024;
const PROGRESS_STEP_BYTES = 64 * 1024;
/** A 500 MB upload on a slow uplink takes a while; the limit covers the whole request. */
const UPLOAD_TIMEOUT_MS = 30 * 60 * 1000;
/** The backend fetches URL media itself before it answers. */
const URL_UPLOAD_TIMEOUT_MS = 10 * 60 * 1000;
const CRLF = "\r\n";

function formatList(): string {
  return `Accepted formats: ${ACCEPTED_EXTENSIONS.join(", ")}.`;
}

function megabytes(bytes: number): string {
  return `${mb(bytes)} MB`;
}

async function realRoots(roots: string[]): Promise<string[]> {
  const resolved = await Promise.all(roots.map((root) => realpath(resolve(root)).catch(() => undefined)));
  return resolved.filter((root): root is string => root !== undefined);
}

function outsideRootsError(path: string, roots: string[]): InvalidInputError {
  return new InvalidInputError(
    `${path} is outside the folders this server may read.`,
    roots.length > 0
      ? `Move or copy the file into one of: ${roots.join(", ")} (or add its folder to NEMO_ALLOWED_DIRS).`
      : "Add its folder to NEMO_ALLOWED_DIRS (or to the client's MCP roots).",
  );
}

/** A checked file plus its identity, so the bytes sent later come from the very file that was checked. */
interface CheckedFile extends LocalFileCheck {
  dev: number;
  ino: number;
}

/**
 * Checks one local file before anything is sent: no NUL byte, real path inside the allowed roots,
 * exists, regular file, readable, accepted extension, non-empty and within the size limit.
 */
export async function checkLocalFile(path: string, opts: CheckOptions = {}): Promise<LocalFileCheck> {
  const { path: real, name, size, extension } = await inspectLocalFile(path, opts);
  return { path: real, name, size, extension };
}

async function inspectLocalFile(path: string, opts: CheckOptions): Promise<CheckedFile> {
  if (typeof path !== "string" || path.trim() === "") {
    throw new InvalidInputError("An empty file path was given.", "Pass the path of a local media file.");
  }
  if (path.includes("\0")) {
    throw new InvalidInputError("The file path contains a NUL byte.", "Pass a plain file path.");
  }
  const roots = opts.allowedRoots ? await realRoots(opts.allowedRoots) : undefined;
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Do not reveal whether files outside the roots exist.
    if (roots && !roots.some((root) => isInside(root, resolve(path)))) throw outsideRootsError(path, roots);
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new InvalidInputError(`file not found: ${path}`, "Check the path (absolute paths are safest).", {
        cause: err,
      });
    }
    throw new InvalidInputError(
      `Cannot open ${path} (${code ?? "error"}).`,
      "Check the path and its permissions.",
      {
        cause: err,
      },
    );
  }
  if (roots && !roots.some((root) => isInside(root, real))) throw outsideRootsError(path, roots);

  const info = await stat(real);
  if (info.isDirectory()) {
    throw new InvalidInputError(
      `${path} is a directory, not a file.`,
      "Pass the path of a media file inside it.",
    );
  }
  if (!info.isFile()) {
    throw new InvalidInputError(
      `${path} is not a regular file (it is a device, pipe or socket).`,
      "Pass the path of a media file saved on disk.",
    );
  }
  const name = basename(real);
  const extension = extname(name).slice(1).toLowerCase();
  if (!ACCEPTED_EXTENSIONS.includes(extension)) {
    throw new UnsupportedFileError(
      `${name} is not a format NemoVideo accepts${extension ? ` (.${extension})` : " (no file extension)"}.`,
      `${formatList()} Convert the file to one of these first.`,
    );
  }
  const maxBytes = opts.maxBytes ?? MAX_UPLOAD_BYTES;
  if (info.size > maxBytes) {
    throw new FileTooLargeError(
      `${name} is ${megabytes(info.size)}, over the ${megabytes(maxBytes)} upload limit.`,
      "Compress the video or trim it, then upload again.",
    );
  }
  if (info.size === 0) {
    throw new InvalidInputError(`${name} is empty (0 bytes).`, "Check that the file was saved completely.");
  }
  try {
    await access(real, fsConstants.R_OK);
  } catch (err) {
    throw new InvalidInputError(
      `${path} cannot be read (permission denied).`,
      "Check the file's permissions.",
      {
        cause: err,
      },
    );
  }
  return { path: real, name, size: info.size, extension, dev: info.dev, ino: info.ino };
}

/** Quotes a file name for a multipart header the way browsers do (HTML spec form-data encoding). */
export function escapeFileName(name: string): string {
  return name.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** The Content-Type sent for a file with this extension. */
export function contentTypeFor(extension: string): string {
  return CONTENT_TYPES[extension.toLowerCase()] ?? "application/octet-stream";
}

/** The framing of a multipart/form-data body: one header per file, then the closing boundary. */
export interface MultipartLayout {
  boundary: string;
  contentType: string;
  partHeaders: Buffer[];
  closing: Buffer;
  /** Exact body length: framing plus file sizes. */
  contentLength: number;
}

/** Computes the multipart framing for files named `files`, so the body length is known up front. */
export function multipartLayout(
  files: ReadonlyArray<Pick<LocalFileCheck, "name" | "size" | "extension">>,
  boundary = `----NemoVideoBoundary${randomBytes(16).toString("hex")}`,
): MultipartLayout {
  const partHeaders = files.map((file, i) =>
    Buffer.from(
      `${i === 0 ? "" : CRLF}--${boundary}${CRLF}` +
        `Content-Disposition: form-data; name="files"; filename="${escapeFileName(file.name)}"${CRLF}` +
        `Content-Type: ${contentTypeFor(file.extension)}${CRLF}${CRLF}`,
      "utf8",
    ),
  );
  const closing = Buffer.from(`${CRLF}--${boundary}--${CRLF}`, "utf8");
  const contentLength =
    partHeaders.reduce((sum, header) => sum + header.length, 0) +
    files.reduce((sum, file) => sum + file.size, 0) +
    closing.length;
  return {
    boundary,
    contentType: `multipart/form-data; boundary=${boundary}`,
    partHeaders,
    closing,
    contentLength,
  };
}

/** Opens a checked file without following a swapped-in symlink or blocking on a swapped-in FIFO. */
async function openChecked(file: CheckedFile): Promise<FileHandle> {
  const flags = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);
  const handle = await open(file.path, flags).catch((err: unknown) => {
    throw new InvalidInputError(
      `Cannot open ${file.path}.`,
      "Check that the file still exists and is readable.",
      {
        cause: err,
      },
    );
  });
  const info = await handle.stat().catch(() => undefined);
  if (!info?.isFile() || info.dev !== file.dev || info.ino !== file.ino || info.size !== file.size) {
    await handle.close().catch(() => {});
    throw new InvalidInputError(`${file.name} changed while it was being uploaded.`, "Try the upload again.");
  }
  return handle;
}

/** Tracks progress over every attempt, reporting only growth so a retried body never goes backwards. */
class ProgressMeter {
  private reported = -1;
  private lastFile = "";

  constructor(
    readonly totalBytes: number,
    readonly fileCount: number,
    private readonly onProgress: ((progress: UploadProgress) => void) | undefined,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Reports `sentBytes` when it grew by a step since the last report, or at once when `force`. */
  update(sentBytes: number, file: string, fileIndex: number, force: boolean): void {
    if (!this.onProgress || sentBytes <= this.reported) return;
    if (!force && sentBytes - this.reported < PROGRESS_STEP_BYTES) return;
    this.reported = sentBytes;
    this.lastFile = file;
    try {
      this.onProgress({ sentBytes, totalBytes: this.totalBytes, file, fileIndex, fileCount: this.fileCount });
    } catch (err) {
      this.onError(err);
    }
  }

  /** Makes sure the last report says everything was sent. */
  finish(): void {
    this.update(this.totalBytes, this.lastFile, this.fileCount - 1, true);
  }
}

/** A fresh multipart body stream: part headers and file bytes, read with backpressure, never buffered whole. */
function multipartBody(files: CheckedFile[], layout: MultipartLayout, meter: ProgressMeter): Readable {
  async function* parts(): AsyncGenerator<Buffer> {
    let sent = 0;
    for (const [index, file] of files.entries()) {
      yield layout.partHeaders[index] as Buffer;
      meter.update(sent, file.name, index, index === 0);
      let fileSent = 0;
      const handle = await openChecked(file);
      // the stream owns the handle and closes it when it ends or is destroyed
      const stream = createReadStream("", {
        fd: handle,
        start: 0,
        end: file.size - 1,
        highWaterMark: CHUNK_BYTES,
      });
      try {
        for await (const chunk of stream) {
          const buf = chunk as Buffer;
          fileSent += buf.length;
          sent += buf.length;
          yield buf;
          meter.update(sent, file.name, index, false);
        }
      } finally {
        stream.destroy();
      }
      if (fileSent !== file.size) {
        throw new InvalidInputError(
          `${file.name} changed while it was being uploaded.`,
          "Try the upload again.",
        );
      }
      meter.update(sent, file.name, index, true);
    }
    yield layout.closing;
  }
  return Readable.from(parts(), { objectMode: false, highWaterMark: CHUNK_BYTES });
}

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
    client.logger.info(
      `Uploading ${checked.length} file(s), ${megabytes(totalBytes)}, to session ${sessionId}.`,
    );
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
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
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
