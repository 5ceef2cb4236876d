/** The export flow in one place: render a session (or pick up a render by id), then download the MP4. */
import { act } from "./actions.js";
import type { NemoClient } from "./client.js";
import { type DownloadProgress, type DownloadResult, downloadRender } from "./download.js";
import { CancelledError, NemoError, NotExportableError, RenderFailedError, TimeoutError } from "./errors.js";
import { throwIfAborted } from "./poll.js";
import {
  newRenderId,
  pollRender,
  type RenderPollResult,
  type RenderProgress,
  submitRender,
} from "./render.js";
import { checkOutputTarget } from "./save-file.js";
import { fetchState } from "./state.js";

/** Where an export stands: submitting, rendering (percent never goes down within one call), downloading. */
export type ExportProgress = RenderProgress | DownloadProgress;

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

/** How an export renders and reports. */
interface ExportOptions {
  /** The longest wait between two status polls (NEMO_RENDER_POLL_MS). */
  intervalMs: number;
  /** With `intervalMs`, the time budget of the polls (NEMO_RENDER_MAX_POLLS). */
  maxPolls: number;
  quality?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: ExportProgress) => void) | undefined;
  /** Called with each render id as soon as the backend accepted it (before polling). */
  onSubmitted?: ((renderId: string) => void) | undefined;
  /** Called once the render is done, before the download starts. */
  onRendered?: ((outcome: RenderOutcome) => void) | undefined;
}

/** Where the video goes: `outputDir` "" (a hosted server without NEMO_OUTPUT_DIR) means not downloaded. */
interface ExportTarget {
  outputDir: string;
  fileName?: string | undefined;
}

/** A finished export: the render, and the file when it was downloaded. */
export interface ExportResult {
  outcome: RenderOutcome;
  download?: DownloadResult;
}

/**
 * Exports a session: checks first that the file can be saved, renders the current timeline
 * (exportSession), then downloads the MP4.
 */
export async function exportVideo(
  client: NemoClient,
  sessionId: string,
  target: ExportTarget,
  opts: ExportOptions,
): Promise<ExportResult> {
  // a folder or file name that cannot take the video is found now, not after a render was made
  if (target.outputDir !== "") await checkOutputTarget(target.outputDir, target.fileName);
  return download(client, await exportSession(client, sessionId, opts), target, opts);
}

/**
 * Picks up an export by its render ids (the last one is polled; nothing is ever submitted), then
 * downloads the MP4. Throws TimeoutError while NemoVideo still renders when the polls run out.
 */
export async function resumeExport(
  client: NemoClient,
  renderIds: readonly string[],
  target: ExportTarget,
  opts: ExportOptions,
): Promise<ExportResult> {
  const renderId = renderIds.at(-1);
  if (renderId === undefined) throw new NemoError("No render to resume.");
  const polled = await pollRender(client, renderId, {
    intervalMs: opts.intervalMs,
    maxPolls: opts.maxPolls,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  if (polled.status === "cancelled") throw cancelledOnNemo(renderId);
  if (polled.status === "timeout") {
    // still rendering after this round of polls: not a failure, so picking it up again polls once more
    throw new TimeoutError(
      `The render ${renderId} is still running on NemoVideo.`,
      `Check ${act("resume_export")} again later; for long videos, raise NEMO_RENDER_MAX_POLLS.`,
    );
  }
  if (polled.status !== "completed") {
    throw new NemoError(`The render ${renderId} failed${polled.error ? `: ${polled.error}` : ""}.`, {
      nextStep: `Check ${act("resume_export")} again later, or start a new export with ${act("export")}.`,
    });
  }
  return download(client, completed(renderId, polled, renderIds.length), target, opts);
}

async function download(
  client: NemoClient,
  outcome: RenderOutcome,
  target: ExportTarget,
  opts: ExportOptions,
): Promise<ExportResult> {
  opts.onRendered?.(outcome);
  if (target.outputDir === "") return { outcome };
  const result = await downloadRender(client, outcome, {
    outputDir: target.outputDir,
    ...(target.fileName ? { fileName: target.fileName } : {}),
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  return { outcome, download: result };
}

function completed(renderId: string, polled: RenderPollResult, attempts: number): RenderOutcome {
  const outcome: RenderOutcome = { renderId, status: "completed", attempts };
  if (polled.url) outcome.url = polled.url;
  if (polled.sizeBytes !== undefined) outcome.sizeBytes = polled.sizeBytes;
  if (polled.durationSec !== undefined) outcome.durationSec = polled.durationSec;
  return outcome;
}

function cancelledOnNemo(renderId: string): CancelledError {
  return new CancelledError(
    `The render ${renderId} was cancelled on NemoVideo.`,
    `Rendering is free: start it again with ${act("export")} when you want the video.`,
  );
}

/**
 * The render half of an export: checks that the timeline has something on it, submits the current
 * draft, polls until done, and resubmits once (new id) if the render failed. Throws RenderFailedError
 * after the second failure and TimeoutError when polling ran out while NemoVideo is still rendering.
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
      `Generate or upload something first with ${act("send")} / ${act("upload")}.`,
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
      signal,
      onProgress,
    });
    if (result.status === "completed") {
      client.logger.info(`Render ${renderId} completed.`);
      return completed(renderId, result, attempts);
    }
    if (result.status === "cancelled") {
      throw new CancelledError(
        `The render ${renderId} was cancelled on NemoVideo.`,
        `Rendering is free: start it again with ${act("export")} when you want the file.`,
      );
    }
    if (result.status === "timeout") {
      const minutes = Math.round((opts.intervalMs * opts.maxPolls) / 6_000) / 10;
      throw new TimeoutError(
        `The render ${renderId} is still running on NemoVideo after ${minutes} minutes of status checks.`,
        `Check it again later with ${act("resume_export")} (render id ${renderId}); for long videos, raise NEMO_RENDER_MAX_POLLS.`,
      );
    }
    lastError = result.error;
    client.logger.warn(`Render ${renderId} failed${lastError ? `: ${lastError}` : ""}.`);
  }
  throw new RenderFailedError(
    `NemoVideo could not render the video (failed twice)${lastError ? `: ${lastError.slice(0, 300)}` : ""}.`,
    `Check the timeline with ${act("check_state")}, fix or simplify it with ${act("send")}, then export again.`,
  );
}
