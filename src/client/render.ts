/** Renders on NemoVideo: submit one (the paid, never-repeated step), poll it with backoff, cancel it. */
import { randomBytes } from "node:crypto";
import type { NemoClient } from "./client.js";
import { MalformedResponseError, NetworkError, ServerError, TimeoutError } from "./errors.js";
import { backoffDelays, pollUntil } from "./poll.js";
import { RenderCancelSchema, type RenderStatus, RenderStatusSchema, RenderSubmitSchema } from "./schemas.js";
import { pathSegment } from "./urls.js";

/** Where a render stands; `percent` never goes down within one call. */
export type RenderProgress =
  | { stage: "submitting"; percent?: number; renderId: string }
  | { stage: "rendering"; percent?: number; renderId: string };

/** What polling a render found. */
export interface RenderPollResult {
  status: "completed" | "failed" | "cancelled" | "timeout";
  url?: string;
  sizeBytes?: number;
  durationSec?: number;
  /** The backend's reason for a failed render. */
  error?: string;
}

/** How a render is polled. */
interface PollRenderOptions {
  /** The longest wait between two polls (NEMO_RENDER_POLL_MS). */
  intervalMs: number;
  /** With `intervalMs`, the time budget: polling stops after `intervalMs × maxPolls` of waiting. */
  maxPolls: number;
  /** Wait before the first poll; default min(2 s, intervalMs), then ×1.5 per poll up to `intervalMs`. */
  firstDelayMs?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: RenderProgress) => void) | undefined;
}

const SUBMIT_PATH = "/api/render/proxy/lambda";
/** Consecutive failed status polls tolerated before the error is reported. */
const MAX_POLL_ERRORS = 3;
const COMPLETED = new Set(["completed", "complete", "succeeded", "success", "done", "finished"]);
const FAILED = new Set(["failed", "failure", "error", "errored"]);
const CANCELLED = new Set(["cancelled", "canceled", "cancel", "aborted"]);
/** The first status poll after a submit, as NemoVideo's own CLI does; later ones back off ×1.5. */
const FIRST_POLL_MS = 2_000;
const POLL_BACKOFF = 1.5;

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

function normaliseStatus(raw: string): "completed" | "failed" | "cancelled" | "running" {
  const status = raw.trim().toLowerCase();
  if (COMPLETED.has(status)) return "completed";
  if (FAILED.has(status)) return "failed";
  if (CANCELLED.has(status)) return "cancelled";
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

/** The waits before each status poll: ~2 s, ×1.5, capped at `intervalMs`, within `intervalMs × maxPolls`. */
export function renderPollDelays(intervalMs: number, maxPolls: number, firstDelayMs?: number): number[] {
  const budget = Math.max(0, intervalMs) * Math.max(1, maxPolls);
  return backoffDelays(firstDelayMs ?? Math.min(FIRST_POLL_MS, intervalMs), POLL_BACKOFF, intervalMs, budget);
}

/**
 * Polls a render with backoff (see `renderPollDelays`), accepting all three status shapes. Returns `timeout`
 * when it is still running when the time budget is spent; a few transient poll errors are tolerated.
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
  const delays = renderPollDelays(opts.intervalMs, opts.maxPolls, opts.firstDelayMs);
  const result = await pollUntil<RenderPollResult>({
    firstDelayMs: delays[0] ?? 0,
    intervalMs: opts.intervalMs,
    delayMs: (n) => delays[n - 1] ?? opts.intervalMs,
    maxAttempts: delays.length,
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
      if (state === "cancelled") return { done: true, value: { status: "cancelled" } };
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
 * Asks NemoVideo to stop a render (`POST /api/render/proxy/lambda/<id>/cancel`). Returns the status the backend
 * reports: "cancelled", or the final status of a render that had already ended.
 */
export async function cancelRender(
  client: NemoClient,
  renderId: string,
  signal?: AbortSignal,
): Promise<string> {
  const response = await client.call({
    method: "POST",
    path: `${SUBMIT_PATH}/${pathSegment(renderId)}/cancel`,
    signal,
    schema: RenderCancelSchema,
  });
  const status = normaliseStatus(response.status ?? "cancelled");
  client.logger.info(`Render ${renderId}: cancel requested; NemoVideo says ${status}.`);
  return status === "running" ? "cancelled" : status;
}
