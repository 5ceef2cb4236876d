import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, type FileHandle, link, mkdir, open, rename, rm } from "node:fs/promises";
import { extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { act } from "./actions.js";
import { type NemoClient, type OpenResponse, pathSegment, sameOrigin } from "./client.js";
import {
  CancelledError,
  DownloadFailedError,
  InvalidInputError,
  NemoError,
  NetworkError,
  TimeoutError,
} from "./errors.js";
import { throwIfAborted } from "./poll.js";
import { isPrivateHost, privateAddressCause, publicOnlyDispatcher } from "./ssrf.js";

/** How far a download has come. */
export interface DownloadProgress {
  stage: "downloading";
  receivedBytes: number;
  /** From Content-Length, else the size the render announced. */
  totalBytes?: number;
  percent?: number;
  renderId: string;
}

/** A finished download. */
export interface DownloadResult {
  /** Absolute path of the MP4. */
  file: string;
  bytes: number;
}

export interface DownloadOptions {
  outputDir: string;
  /** Plain file name (".mp4" is added when missing); default `nemovideo-<renderId>.mp4`. */
  fileName?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  /** Least a download must receive per window, else it fails as stalled (default 16 KiB per 30 s). */
  minRate?: { bytes: number; windowMs: number } | undefined;
}

/** The contract's minimum rate: less than 16 KiB in any 30 s window fails as stalled. */
const MIN_RATE = { bytes: 16 * 1024, windowMs: 30_000 };
/** Most a download without an announced size may bring (a render is at most a few hundred MB). */
const MAX_UNSIZED_BYTES = 4 * 1024 * 1024 * 1024;

const MAX_REDIRECTS = 5;
const PROGRESS_STEP_BYTES = 256 * 1024;
/** A download that receives nothing for this long counts as stalled. */
const IDLE_TIMEOUT_MS = 60_000;
/** 255 bytes (the usual file-name limit) minus the temp suffix `.<name>.<12 hex>.part`. */
const MAX_NAME_BYTES = 255 - 19;
const MAX_NUMBERED_NAMES = 1000;
/** Primary-URL failures after which the API's own download endpoint is tried. */
const FALLBACK_STATUS = new Set([403, 404, 410]);
const DOWNLOAD_ERROR_KINDS = new Set([
  "backend",
  "server",
  "network",
  "timeout",
  "malformed_response",
  "rate_limited",
]);

/** The file name a download is saved under; throws InvalidInputError for anything but a plain name. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

export function exportFileName(fileName: string | undefined, renderId: string): string {
  if (fileName === undefined) return `nemovideo-${renderId.replace(/[^A-Za-z0-9._-]/g, "_")}.mp4`;
  const name = fileName.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is being rejected
  const invalid = !name || /[/\\]/.test(name) || name.includes("..") || /[\u0000-\u001f\u007f]/.test(name);
  if (invalid) {
    throw new InvalidInputError(
      `Invalid file_name ${JSON.stringify(fileName.slice(0, 100))}: it must be a plain file name.`,
      `Use a name such as "my-video.mp4", without folders, ".." or control characters; choose the folder with ${act("choose_folder")}.`,
    );
  }
  const withExtension = extname(name).toLowerCase() === ".mp4" ? name : `${name}.mp4`;
  if (Buffer.byteLength(withExtension) > MAX_NAME_BYTES) {
    throw new InvalidInputError("The file_name is too long.", `Use at most ${MAX_NAME_BYTES} bytes.`);
  }
  return withExtension;
}

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseLength(value: string | string[] | undefined): number | undefined {
  const raw = headerValue(value)?.trim();
  if (!raw || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

/** Drops a response body; undici reports an unread body's destruction as an error nobody needs. */
function discard(body: OpenResponse["body"]): void {
  body.on("error", () => {});
  body.destroy();
}

function failed(renderId: string, message: string, cause?: unknown): DownloadFailedError {
  return new DownloadFailedError(
    message,
    `The render itself is done: try the download again with ${act("resume_export")} (render id ${renderId}).`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * GETs a download URL, following redirects by hand so the bearer token only ever goes to the API's
 * own origin (never to a CDN or any host it redirects to).
 */
async function openDownload(
  client: NemoClient,
  url: string,
  renderId: string,
  signal: AbortSignal | undefined,
): Promise<OpenResponse> {
  let current = url;
  // A backend that is not itself local must not make this machine fetch from its own networks (SSRF).
  const guard = !isPrivateHost(new URL(client.apiUrl).hostname);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const own = sameOrigin(current, client.apiUrl);
    const host = new URL(current).hostname;
    if (guard && !own && isPrivateHost(host)) throw refusedPrivate(renderId, host);
    const res = await client.open({
      method: "GET",
      path: current,
      auth: own,
      ...(guard && !own ? { dispatcher: await publicOnlyDispatcher() } : {}),
      headers: { accept: "video/mp4,application/octet-stream;q=0.9,*/*;q=0.8" },
      signal,
      bodyTimeoutMs: IDLE_TIMEOUT_MS,
    });
    if (res.statusCode >= 300 && res.statusCode < 400) {
      discard(res.body);
      const location = headerValue(res.headers.location);
      const next = location ? new URL(location, current).toString() : undefined;
      if (!next || !isHttpUrl(next)) {
        throw failed(
          renderId,
          `The download of render ${renderId} was redirected nowhere (HTTP ${res.statusCode}).`,
        );
      }
      current = next;
      continue;
    }
    if (res.statusCode !== 200) {
      discard(res.body);
      throw failed(renderId, `The download of render ${renderId} answered HTTP ${res.statusCode}.`);
    }
    const type = String(headerValue(res.headers["content-type"]) ?? "");
    if (/application\/json|text\/html/i.test(type)) {
      discard(res.body);
      throw failed(
        renderId,
        `The download of render ${renderId} returned ${type.split(";")[0]} instead of a video.`,
      );
    }
    return res;
  }
  throw failed(renderId, `The download of render ${renderId} was redirected too many times.`);
}

function refusedPrivate(renderId: string, detail: string): DownloadFailedError {
  return new DownloadFailedError(
    `The download address of render ${renderId} points into a local or private network (${detail}); it was not fetched.`,
    "This is refused to protect the networks this machine can reach; export again, or ask NemoVideo support if it persists.",
  );
}

function fallbackWorthy(err: unknown): boolean {
  return (
    err instanceof NetworkError ||
    err instanceof TimeoutError ||
    (err instanceof NemoError && err.kind !== "cancelled" && FALLBACK_STATUS.has(err.status ?? 0))
  );
}

/** Transport and HTTP failures of a download become DownloadFailedError; auth, plan and cancel errors stay. */
function asDownloadError(err: unknown, renderId: string): unknown {
  if (!(err instanceof NemoError) || !DOWNLOAD_ERROR_KINDS.has(err.kind)) return err;
  return failed(renderId, `Could not download render ${renderId}: ${err.message}`, err);
}

/** Links the finished temp file to `name`, or `name (1)`, `name (2)`, ... : an existing file is never replaced. */
async function placeWithoutOverwrite(temp: string, dir: string, name: string): Promise<string> {
  const ext = extname(name);
  const stem = ext ? name.slice(0, -ext.length) : name;
  for (let n = 0; n < MAX_NUMBERED_NAMES; n++) {
    const candidate = join(dir, n === 0 ? name : `${stem} (${n})${ext}`);
    try {
      await link(temp, candidate);
      await rm(temp, { force: true }).catch(() => {});
      return candidate;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
    }
    // no hard links on this file system: reserve the name exclusively, then move the temp file onto it
    try {
      await (await open(candidate, "wx")).close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    await rename(temp, candidate);
    return candidate;
  }
  throw new DownloadFailedError(
    `Too many files named like ${name} in ${dir}.`,
    `Pass another folder as ${act("choose_folder")}, or another file name.`,
  );
}

/**
 * Checks, before a render is submitted, that its download can be saved: a plain file name that fits
 * (with the temp suffix), and an output folder that is (or can be made) a writable directory.
 */
export async function checkOutputTarget(outputDir: string, fileName: string | undefined): Promise<void> {
  exportFileName(fileName, "render_0000000000000");
  const dir = resolve(outputDir);
  const next = `Pass a writable folder as ${act("choose_folder")} (or set NEMO_OUTPUT_DIR) before exporting.`;
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    const what =
      code === "EEXIST" || code === "ENOTDIR" ? "is a file, not a folder" : `cannot be created (${code})`;
    throw new InvalidInputError(`The output folder ${dir} ${what}; nothing was rendered.`, next, {
      cause: err,
    });
  }
  const probe = join(dir, `.nemovideo-check-${randomBytes(6).toString("hex")}.part`);
  try {
    await (await open(probe, "wx", 0o600)).close();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new InvalidInputError(
      `Cannot write to the output folder ${dir} (${code}); nothing was rendered.`,
      next,
      {
        cause: err,
      },
    );
  } finally {
    await rm(probe, { force: true }).catch(() => {});
  }
}

/**
 * Downloads a finished render to `<outputDir>/<fileName>` through a temp file and never overwrites:
 * the output URL first (no token sent to other hosts), the API's download endpoint as fallback, byte
 * count checked against Content-Length and the announced size.
 */
export async function downloadRender(
  client: NemoClient,
  outcome: { renderId: string; url?: string | undefined; sizeBytes?: number | undefined },
  opts: DownloadOptions,
): Promise<DownloadResult> {
  const { renderId } = outcome;
  const { signal } = opts;
  const name = exportFileName(opts.fileName, renderId);
  const dir = resolve(opts.outputDir);
  throwIfAborted(signal);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new DownloadFailedError(
      `Cannot create the output folder ${dir} (${(err as NodeJS.ErrnoException).code ?? "error"}).`,
      `Pass a writable folder as ${act("choose_folder")} (or set NEMO_OUTPUT_DIR).`,
      { cause: err },
    );
  }
  const rel = relative(dir, join(dir, name));
  if (!rel || isAbsolute(rel) || rel.split(sep)[0] === "..") {
    throw new InvalidInputError("The file_name must stay inside output_dir.", "Use a plain file name.");
  }

  const fallback = `${client.apiUrl}/api/render/proxy/${pathSegment(renderId)}/download`;
  const primary = outcome.url && isHttpUrl(outcome.url) ? outcome.url : undefined;
  let res: OpenResponse;
  try {
    try {
      res = await openDownload(client, primary ?? fallback, renderId, signal);
    } catch (err) {
      if (!primary || primary === fallback || !fallbackWorthy(err) || privateAddressCause(err)) throw err;
      client.logger.info(
        `Output URL of render ${renderId} failed (${(err as Error).message}); trying the API download.`,
      );
      res = await openDownload(client, fallback, renderId, signal);
    }
  } catch (err) {
    const refused = privateAddressCause(err);
    if (refused) throw refusedPrivate(renderId, `${refused.host} is ${refused.address}`);
    throw asDownloadError(err, renderId);
  }

  const contentLength = parseLength(res.headers["content-length"]);
  const announced = outcome.sizeBytes;
  if (contentLength !== undefined && announced !== undefined && contentLength !== announced) {
    discard(res.body);
    throw failed(
      renderId,
      `The download of render ${renderId} announces ${contentLength} bytes, but NemoVideo said the video has ${announced}.`,
    );
  }
  const totalBytes = contentLength ?? announced;
  let received = 0;
  let reported = -1;
  const report = (force: boolean) => {
    if (!opts.onProgress || received === reported || (!force && received - reported < PROGRESS_STEP_BYTES))
      return;
    reported = received;
    const progress: DownloadProgress = { stage: "downloading", receivedBytes: received, renderId };
    if (totalBytes !== undefined) progress.totalBytes = totalBytes;
    try {
      opts.onProgress(progress);
    } catch (err) {
      client.logger.debug("Download progress callback failed", { error: String(err) });
    }
  };
  // 1 MiB buffers: with Node's 16 KiB default each socket chunk waits for one small file write.
  const counter = new Transform({
    highWaterMark: WRITE_BUFFER_BYTES,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      received += chunk.length;
      report(false);
      callback(null, chunk);
    },
  });

  const temp = join(dir, `.${name}.${randomBytes(6).toString("hex")}.part`);
  let handle: FileHandle;
  try {
    // created before streaming starts, so cleanup never races the file's creation
    handle = await open(temp, "wx", 0o600);
  } catch (err) {
    discard(res.body);
    throw new DownloadFailedError(
      `Cannot write to ${dir} (${(err as NodeJS.ErrnoException).code ?? "error"}).`,
      `Pass a writable folder as ${act("choose_folder")} (or set NEMO_OUTPUT_DIR).`,
      { cause: err },
    );
  }
  let placed = false;
  // A trickle never ends on its own: fail when a window brings less than the minimum, or too many bytes come.
  const rate = opts.minRate ?? MIN_RATE;
  const stalled = new AbortController();
  let windowStart = 0;
  const rateTimer = setInterval(() => {
    const tooMuch = totalBytes === undefined && received > MAX_UNSIZED_BYTES;
    if (received - windowStart < rate.bytes || tooMuch) stalled.abort();
    windowStart = received;
  }, rate.windowMs);
  rateTimer.unref();
  const pipeSignal = signal ? AbortSignal.any([signal, stalled.signal]) : stalled.signal;
  try {
    report(true);
    try {
      await pipeline(
        res.body,
        counter,
        createWriteStream("", { fd: handle, highWaterMark: WRITE_BUFFER_BYTES }),
        { signal: pipeSignal },
      );
    } catch (err) {
      if (signal?.aborted) throw new CancelledError("Download cancelled.", undefined, { cause: err });
      if (stalled.signal.aborted) {
        throw failed(
          renderId,
          `The download of render ${renderId} stalled: less than ${Math.round(rate.bytes / 1024)} KiB arrived in ${rate.windowMs >= 1000 ? `${Math.round(rate.windowMs / 1000)} s` : `${rate.windowMs} ms`} (${received} bytes so far).`,
          err,
        );
      }
      if (err instanceof NemoError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code && /^E[A-Z]+$/.test(code) && code !== "ECONNRESET" && code !== "EPIPE") {
        throw new DownloadFailedError(
          `Cannot write the video to ${dir} (${code}).`,
          `Check the free disk space and the folder's permissions, or pass another folder as ${act("choose_folder")}.`,
          { cause: err },
        );
      }
      throw failed(
        renderId,
        `The download of render ${renderId} was cut off after ${received}${totalBytes !== undefined ? ` of ${totalBytes}` : ""} bytes.`,
        err,
      );
    }
    if (contentLength !== undefined && received !== contentLength) {
      throw failed(
        renderId,
        `The download of render ${renderId} ended after ${received} of ${contentLength} bytes.`,
      );
    }
    if (announced !== undefined && received !== announced) {
      throw failed(
        renderId,
        `The download of render ${renderId} has ${received} bytes, but NemoVideo said the video has ${announced}.`,
      );
    }
    if (received === 0) throw failed(renderId, `The download of render ${renderId} was empty.`);
    report(true);
    throwIfAborted(signal);
    await chmod(temp, 0o644).catch(() => {});
    const file = await placeWithoutOverwrite(temp, dir, name);
    placed = true;
    client.logger.info(`Saved render ${renderId} to ${file} (${received} bytes).`);
    return { file, bytes: received };
  } finally {
    clearInterval(rateTimer);
    if (!res.body.destroyed) discard(res.body);
    if (!placed) {
      await handle.close().catch(() => {});
      await rm(temp, { force: true }).catch(() => {});
    }
  }
}
