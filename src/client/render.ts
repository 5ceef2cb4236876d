import { randomBytes } from "node:crypto";
import { type NemoClient, pathSegment } from "./client.js";
import {
  MalformedResponseError,
  NetworkError,
  NotExportableError,
  RenderFailedError,
  ServerError,
  TimeoutError,
} from "./errors.js";
import { pollUntil, throwIfAborted } from "./poll.js";
import { type RenderStatus, RenderStatusSchema, RenderSubmitSchema } from "./schemas.js";
import { fetchState } from "./state.js";

export { type DownloadResult, downloadRender } from "./download.js";

/** Where an export stands; `percent` never goes down within one call. */
export interface RenderProgress {
  stage: "submitting" | "rendering" | "downloading";
  percent?: number;
  receivedBytes?: number;
  totalBytes?: number;
  renderId: string;
}

/** The end of an export on NemoVideo's side (before any download). */
export interface RenderOutcome {
  renderId: string;
  status: "completed" | "failed";
  url?: string;
  sizeBytes?: number;
  durationSec?: number;
  /** Renders submitted: 1, or 2 after the single retry of a failed render. */
  attempts: number;
}

/** What polling a render found. */
export interface RenderPollResult {
  status: "completed" | "failed" | "timeout";
  url?: string;
  sizeBytes?: number;
  durationSec?: number;
  /** The backend's reason for a failed render. */
  error?: string;
}

export interface PollRenderOptions {
  intervalMs: number;
  maxPolls: number;
  /** Wait before the first poll; default 0 (a render just submitted is never done at once, so export waits). */
  firstDelayMs?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: RenderProgress) => void) | undefined;
}

export interface ExportOptions {
  intervalMs: number;
  maxPolls: number;
  quality?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: RenderProgress) => void) | undefined;
  /** Called with each render id as soon as the backend accepted it (before polling). */
  onSubmitted?: ((renderId: string) => void) | undefined;
}

const SUBMIT_PATH = "/api/render/proxy/lambda";
/** Consecutive failed status polls tolerated before the error is reported. */
const MAX_POLL_ERRORS = 3;
const COMPLETED = new Set(["completed", "complete", "succeeded", "success", "done", "finished"]);
const FAILED = new Set(["failed", "failure", "error", "errored", "cancelled", "canceled"]);

let lastStamp = 0;

/** A new render id: `render_<Date.now()>`, with a random suffix when two are made in the same millisecond. */
export function newRenderId(): string {
  const now = Date.now();
  const id = now === lastStamp ? `render_${now}_${randomBytes(3).toString("hex")}` : `render_${now}`;
  lastStamp = now;
  return id;
}

/** Submits a render of `draft` (the one non-idempotent export step) and returns its id. */
export async function submitRender(
  client: NemoClient,
  sessionId: string,
  draft: unknown,
  opts: {
    quality?: string | undefined;
    renderId?: string | undefined;
    signal?: AbortSignal | undefined;
  } = {},
): Promise<string> {
  const renderId = opts.renderId ?? newRenderId();
  const response = await client.call({
    method: "POST",
    path: SUBMIT_PATH,
    json: {
      id: renderId,
      sessionId,
      draft,
      output: { format: "mp4", quality: opts.quality ?? "high" },
    },
    signal: opts.signal,
    schema: RenderSubmitSchema,
    // never resubmit on a network error: the render may have started
    retryTransient: false,
  });
  if (response.id && response.id !== renderId) {
    client.logger.debug(`Render submitted as ${renderId}; the backend answered with id ${response.id}.`);
  }
  client.logger.info(`Render ${renderId} submitted for session ${sessionId}.`);
  return renderId;
}

function normaliseStatus(raw: string): "completed" | "failed" | "running" {
  const status = raw.trim().toLowerCase();
  if (COMPLETED.has(status)) return "completed";
  if (FAILED.has(status)) return "failed";
  return "running";
}

function failureReason(status: RenderStatus): string | undefined {
  const { error } = status;
  if (typeof error === "string" && error.trim()) return error.trim();
  if (error && typeof error === "object") {
    const message = (error as Record<string, unknown>).message;
    if (typeof message === "string" && message.trim()) return message.trim();
  }
  const message = status.message?.trim();
  return message && !/^(success|ok)$/i.test(message) ? message : undefined;
}

function outputUrl(status: RenderStatus): string | undefined {
  const url = status.output?.url ?? status.outputUrl ?? (status as Record<string, unknown>).url;
  return typeof url === "string" && url.trim() ? url.trim() : undefined;
}

function isTransient(err: unknown): boolean {
  return (
    err instanceof NetworkError ||
    err instanceof TimeoutError ||
    err instanceof MalformedResponseError ||
    (err instanceof ServerError && (err.status ?? 0) >= 500)
  );
}

function clampPercent(value: number | undefined): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  return Math.min(100, Math.max(0, Math.round(value)));
}

/**
 * Polls a render every `intervalMs`, at most `maxPolls` times, accepting all three status shapes.
 * Returns `timeout` when it is still running after the last poll; a few transient poll errors are tolerated.
 */
export async function pollRender(
  client: NemoClient,
  renderId: string,
  opts: PollRenderOptions,
): Promise<RenderPollResult> {
  let percent = 0;
  let errors = 0;
  const report = (value: number | undefined) => {
    if (value !== undefined) percent = Math.max(percent, value);
    opts.onProgress?.({ stage: "rendering", percent, renderId });
  };
  const result = await pollUntil<RenderPollResult>({
    firstDelayMs: opts.firstDelayMs ?? 0,
    intervalMs: opts.intervalMs,
    maxAttempts: opts.maxPolls,
    signal: opts.signal,
    attempt: async () => {
      let status: RenderStatus;
      try {
        status = await client.call({
          method: "GET",
          path: `${SUBMIT_PATH}/${pathSegment(renderId)}`,
          signal: opts.signal,
          schema: RenderStatusSchema,
        });
        errors = 0;
      } catch (err) {
        if (!isTransient(err) || ++errors >= MAX_POLL_ERRORS) throw err;
        client.logger.debug(
          `Render ${renderId}: status poll failed (${(err as Error).message}); polling on.`,
        );
        return { done: false };
      }
      const state = normaliseStatus(status.status);
      if (state === "failed") {
        const error = failureReason(status);
        return { done: true, value: { status: "failed", ...(error ? { error } : {}) } };
      }
      if (state === "running") {
        report(clampPercent(status.progress));
        return { done: false };
      }
      report(100);
      const value: RenderPollResult = { status: "completed" };
      const url = outputUrl(status);
      if (url) value.url = url;
      if (status.output?.size !== undefined && status.output.size > 0) value.sizeBytes = status.output.size;
      if (status.output?.duration !== undefined) value.durationSec = status.output.duration;
      return { done: true, value };
    },
  });
  return result ?? { status: "timeout" };
}

/**
 * Exports a session: checks that the timeline has something on it, submits the current draft, polls
 * until done, and resubmits once (new id) if the render failed. Throws RenderFailedError after the
 * second failure and TimeoutError when polling ran out while NemoVideo is still rendering.
 */
export async function exportSession(
  client: NemoClient,
  sessionId: string,
  opts: ExportOptions,
): Promise<RenderOutcome> {
  const { signal } = opts;
  throwIfAborted(signal);
  const { timeline, draft } = await fetchState(client, sessionId, signal);
  if (!timeline.exportable) {
    throw new NotExportableError(
      "There is nothing on the timeline to export yet.",
      "Generate or upload something first with send_message / upload_media.",
    );
  }
  // percent stays monotonic over the whole export, the retry included
  let best = 0;
  const onProgress = (progress: RenderProgress) => {
    if (!opts.onProgress) return;
    if (progress.percent !== undefined) best = Math.max(best, progress.percent);
    opts.onProgress({ ...progress, percent: best });
  };
  let lastError: string | undefined;
  for (let attempts = 1; attempts <= 2; attempts++) {
    const renderId = newRenderId();
    onProgress({ stage: "submitting", renderId });
    await submitRender(client, sessionId, draft, { quality: opts.quality, renderId, signal });
    opts.onSubmitted?.(renderId);
    const result = await pollRender(client, renderId, {
      intervalMs: opts.intervalMs,
      maxPolls: opts.maxPolls,
      firstDelayMs: opts.intervalMs,
      signal,
      onProgress,
    });
    if (result.status === "completed") {
      const outcome: RenderOutcome = { renderId, status: "completed", attempts };
      if (result.url) outcome.url = result.url;
      if (result.sizeBytes !== undefined) outcome.sizeBytes = result.sizeBytes;
      if (result.durationSec !== undefined) outcome.durationSec = result.durationSec;
      client.logger.info(`Render ${renderId} completed.`);
      return outcome;
    }
    if (result.status === "timeout") {
      throw new TimeoutError(
        `The render ${renderId} is still running on NemoVideo after ${opts.maxPolls} status checks.`,
        `Check it again later with get_export (render id ${renderId}); for long videos, raise NEMO_RENDER_MAX_POLLS.`,
      );
    }
    lastError = result.error;
    client.logger.warn(`Render ${renderId} failed${lastError ? `: ${lastError}` : ""}.`);
  }
  throw new RenderFailedError(
    `NemoVideo could not render the video (failed twice)${lastError ? `: ${lastError.slice(0, 300)}` : ""}.`,
    "Check the timeline with get_state, fix or simplify it with send_message, then export again.",
  );
}
