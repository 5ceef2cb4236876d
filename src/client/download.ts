/** Downloading a finished render over HTTP: redirects, the SSRF guard, size and rate limits, progress. */
import { Writable } from "node:stream";
import { act } from "./actions.js";
import type { NemoClient, ResponseHead } from "./client.js";
import { CancelledError, DownloadFailedError, NemoError, NetworkError, TimeoutError } from "./errors.js";
import { throwIfAborted } from "./poll.js";
import { exportFileName, TempFile } from "./save-file.js";
import { isPrivateHost, privateAddressCause, publicOnlyDispatcher } from "./ssrf.js";
import { pathSegment, sameOrigin } from "./urls.js";

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

/** Where and how a render is downloaded. */
interface DownloadOptions {
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

/** A redirect met while choosing where a body goes: the response is dropped and `location` fetched. */
class Redirect extends Error {
  constructor(readonly location: string) {
    super("redirect");
  }
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

/** A writable that fails with `error` at once: undici then drops the response and rejects with it. */
function refusing(error: Error): Writable {
  const writable = new Writable({ write: (_chunk, _encoding, callback) => callback(error) });
  process.nextTick(() => writable.destroy(error));
  return writable;
}

function failed(renderId: string, message: string, cause?: unknown): DownloadFailedError {
  return new DownloadFailedError(
    message,
    `The render itself is done: try the download again with ${act("resume_export")} (render id ${renderId}).`,
    cause === undefined ? {} : { cause },
  );
}

function refusedPrivate(renderId: string, detail: string): DownloadFailedError {
  return new DownloadFailedError(
    `The download address of render ${renderId} points into a local or private network (${detail}); it was not fetched.`,
    "This is refused to protect the networks this machine can reach; export again, or ask NemoVideo support if it persists.",
  );
}

/** Why a response is not the video (a Redirect says where to go next); undefined when it is the video. */
function refusal(head: ResponseHead, current: string, renderId: string): Error | undefined {
  const { statusCode } = head;
  const download = `The download of render ${renderId}`;
  if (statusCode >= 300 && statusCode < 400) {
    const location = headerValue(head.headers.location);
    const next = location ? new URL(location, current).toString() : undefined;
    if (next && isHttpUrl(next)) return new Redirect(next);
    return failed(renderId, `${download} was redirected nowhere (HTTP ${statusCode}).`);
  }
  if (statusCode !== 200) return failed(renderId, `${download} answered HTTP ${statusCode}.`);
  const type = String(headerValue(head.headers["content-type"]) ?? "");
  if (!/application\/json|text\/html/i.test(type)) return undefined;
  return failed(renderId, `${download} returned ${type.split(";")[0]} instead of a video.`);
}

/**
 * GETs a download URL into the writable `into` gives for the video's response, following redirects by
 * hand so the bearer token only ever goes to the API's own origin (never to a CDN or any host it
 * redirects to), and refusing private addresses when the API itself is not local (SSRF).
 */
async function fetchVideo(
  client: NemoClient,
  url: string,
  renderId: string,
  signal: AbortSignal,
  into: (head: ResponseHead) => Writable,
): Promise<void> {
  let current = url;
  const guard = !isPrivateHost(new URL(client.apiUrl).hostname);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const own = sameOrigin(current, client.apiUrl);
    const host = new URL(current).hostname;
    if (guard && !own && isPrivateHost(host)) throw refusedPrivate(renderId, host);
    const from = current;
    let refused: Error | undefined;
    try {
      const head = await client.stream(
        {
          method: "GET",
          path: current,
          auth: own,
          ...(guard && !own ? { dispatcher: await publicOnlyDispatcher() } : {}),
          headers: { accept: "video/mp4,application/octet-stream;q=0.9,*/*;q=0.8" },
          signal,
          bodyTimeoutMs: IDLE_TIMEOUT_MS,
        },
        (head) => {
          const no = refusal(head, from, renderId);
          return no ? refusing(no) : into(head);
        },
      );
      refused = refusal(head, from, renderId);
    } catch (err) {
      if (!(err instanceof Redirect) || signal.aborted) throw err;
      refused = err;
    }
    if (!refused) return;
    if (!(refused instanceof Redirect)) throw refused;
    current = refused.location;
  }
  throw failed(renderId, `The download of render ${renderId} was redirected too many times.`);
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
  const refused = privateAddressCause(err);
  if (refused) return refusedPrivate(renderId, `${refused.host} is ${refused.address}`);
  if (!(err instanceof NemoError) || !DOWNLOAD_ERROR_KINDS.has(err.kind)) return err;
  return failed(renderId, `Could not download render ${renderId}: ${err.message}`, err);
}

/**
 * Downloads a finished render to `<outputDir>/<fileName>` through a temp file and never overwrites:
 * the output URL first (no token sent to other hosts), the API's download endpoint as fallback, the
 * body written by `undici.stream()` straight into the file, byte count checked against Content-Length
 * and the announced size.
 */
export async function downloadRender(
  client: NemoClient,
  outcome: { renderId: string; url?: string | undefined; sizeBytes?: number | undefined },
  opts: DownloadOptions,
): Promise<DownloadResult> {
  const { renderId, sizeBytes: announced } = outcome;
  const { signal } = opts;
  const name = exportFileName(opts.fileName, renderId);
  throwIfAborted(signal);
  const file = await TempFile.create(opts.outputDir, name);

  // A trickle never ends on its own: fail when a window brings less than the minimum, or too many bytes come.
  const rate = opts.minRate ?? MIN_RATE;
  const stalled = new AbortController();
  let rateTimer: NodeJS.Timeout | undefined;
  let contentLength: number | undefined;
  let totalBytes = announced;
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
  const intoFile = (head: ResponseHead): Writable => {
    contentLength = parseLength(head.headers["content-length"]);
    if (contentLength !== undefined && announced !== undefined && contentLength !== announced) {
      return refusing(
        failed(
          renderId,
          `The download of render ${renderId} announces ${contentLength} bytes, but NemoVideo said the video has ${announced}.`,
        ),
      );
    }
    totalBytes = contentLength ?? announced;
    let windowStart = 0;
    rateTimer = setInterval(() => {
      const tooMuch = totalBytes === undefined && received > MAX_UNSIZED_BYTES;
      if (received - windowStart < rate.bytes || tooMuch) stalled.abort();
      windowStart = received;
    }, rate.windowMs);
    rateTimer.unref();
    report(true);
    return file.writable((bytes) => {
      received = bytes;
      report(false);
    });
  };

  const fetchSignal = signal ? AbortSignal.any([signal, stalled.signal]) : stalled.signal;

  const fallback = `${client.apiUrl}/api/render/proxy/${pathSegment(renderId)}/download`;
  const primary = outcome.url && isHttpUrl(outcome.url) ? outcome.url : undefined;
  try {
    try {
      await fetchVideo(client, primary ?? fallback, renderId, fetchSignal, intoFile);
    } catch (err) {
      const beforeBody = contentLength === undefined && received === 0;
      if (!primary || primary === fallback || !beforeBody || !fallbackWorthy(err) || privateAddressCause(err))
        throw err;
      client.logger.info(
        `Output URL of render ${renderId} failed (${(err as Error).message}); trying the API download.`,
      );
      await fetchVideo(client, fallback, renderId, fetchSignal, intoFile);
    }
  } catch (err) {
    await file.discard();
    if (signal?.aborted) throw new CancelledError("Download cancelled.", undefined, { cause: err });
    if (stalled.signal.aborted) {
      const window = rate.windowMs >= 1000 ? `${Math.round(rate.windowMs / 1000)} s` : `${rate.windowMs} ms`;
      const least = `${Math.round(rate.bytes / 1024)} KiB`;
      const message = `The download of render ${renderId} stalled: less than ${least} arrived in ${window} (${received} bytes so far).`;
      throw failed(renderId, message, err);
    }
    throw transferError(
      err,
      renderId,
      file.dir,
      `${received}${totalBytes !== undefined ? ` of ${totalBytes}` : ""}`,
    );
  } finally {
    clearInterval(rateTimer);
  }
  try {
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
    const saved = await file.save();
    client.logger.info(`Saved render ${renderId} to ${saved} (${received} bytes).`);
    return { file: saved, bytes: received };
  } finally {
    await file.discard();
  }
}

/** What a transfer that failed otherwise is reported as: an HTTP failure, a local write error, or cut off. */
function transferError(err: unknown, renderId: string, dir: string, got: string): unknown {
  if (err instanceof NemoError || privateAddressCause(err)) return asDownloadError(err, renderId);
  const code = (err as NodeJS.ErrnoException).code;
  if (code && /^E[A-Z]+$/.test(code) && code !== "ECONNRESET" && code !== "EPIPE") {
    return new DownloadFailedError(
      `Cannot write the video to ${dir} (${code}).`,
      `Check the free disk space and the folder's permissions, or pass another folder as ${act("choose_folder")}.`,
      { cause: err },
    );
  }
  return failed(renderId, `The download of render ${renderId} was cut off after ${got} bytes.`, err);
}
