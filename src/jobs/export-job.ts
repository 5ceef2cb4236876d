import type { NemoClient } from "../client/client.js";
import { CancelledError, TimeoutError } from "../client/errors.js";
import type { DownloadResult } from "../client/download.js";
import type { ExportProgress, RenderOutcome } from "../client/export.js";
import type { Sessions } from "../client/sessions.js";
import type { Logger } from "../log.js";
import type { ExportRecord } from "./records.js";
import type { JobStore } from "./store.js";
import { errorView, type ExportView } from "./views.js";
import { act } from "../client/actions.js";

// Loaded on first use, so that starting the server stays fast.
const exportModule = () => import("../client/export.js");

/** What an export is started with. */
export interface ExportRequest {
  sessionId: string;
  /** Where the MP4 is downloaded; "" (a hosted server without NEMO_OUTPUT_DIR): not downloaded, the URL only. */
  outputDir: string;
  fileName?: string | undefined;
  quality?: string | undefined;
}

/** Listener for live updates of an export job. */
export type ExportListener = (p: ExportProgress) => void;

/** What export jobs need. */
export interface ExportJobsOptions {
  client: NemoClient;
  sessions: Sessions;
  store: JobStore;
  logger: Logger;
  renderPollMs: number;
  renderMaxPolls: number;
}

/**
 * One export (render, then download) running in the background. It submits a render once, or
 * resumes polling a render recorded by an earlier process; it records itself at every step.
 */
export class ExportJob {
  private readonly controller = new AbortController();
  private readonly listeners = new Set<ExportListener>();
  private renderIds: string[] = [];
  private status: ExportView["status"] = "rendering";
  private percent = 0;
  private outcome: RenderOutcome | undefined;
  private download: DownloadResult | undefined;
  private projectUrl: string | undefined;
  private error: unknown;
  private stopping = false;
  /** Set when run() has returned: a job still "rendering" then only waits to be picked up again. */
  private ended = false;
  private readonly onSubmitted: Array<() => void> = [];
  /** Settles when the job has ended (completed, failed or cancelled); never rejects. */
  readonly done: Promise<void>;

  private constructor(
    private readonly options: ExportJobsOptions,
    readonly request: ExportRequest,
    record: ExportRecord | undefined,
  ) {
    if (record) this.renderIds = [...record.render_ids];
    this.done = this.run(record !== undefined);
  }

  /** Starts an export that submits a new render. */
  static submit(options: ExportJobsOptions, request: ExportRequest): ExportJob {
    return new ExportJob(options, request, undefined);
  }

  /** Resumes an export recorded while rendering: polls its last render again, never re-submits. */
  static resume(options: ExportJobsOptions, record: ExportRecord): ExportJob {
    const request = {
      sessionId: record.session_id,
      outputDir: record.output_dir,
      fileName: record.file_name,
    };
    return new ExportJob(options, request, record);
  }

  /** The first render id (what callers pick the export up by); "" until submitted. */
  get id(): string {
    return this.renderIds[0] ?? "";
  }

  /** Every render id this job submitted (two after the single retry). */
  get ids(): readonly string[] {
    return this.renderIds;
  }

  /** True while rendering or downloading here (false once polls ran out: the render goes on at NemoVideo). */
  get running(): boolean {
    return this.status === "rendering" && !this.ended;
  }

  /** Resolves once a render was submitted or the job ended before that. */
  submitted(): Promise<void> {
    if (this.id || !this.running) return Promise.resolve();
    return new Promise((resolve) => this.onSubmitted.push(resolve));
  }

  /** Calls waiting on this export right now (see ExportJobs.wait): a cancelled call stops it only when none is left. */
  followers = 0;

  /** Adds a progress listener; returns the function that removes it. */
  subscribe(listener: ExportListener): () => void {
    this.listeners.add(listener);
    return () => this.unsubscribe(listener);
  }

  /** Removes a progress listener. */
  unsubscribe(listener: ExportListener): void {
    this.listeners.delete(listener);
  }

  /** Stops the local polling and download (the render on NemoVideo goes on). */
  cancel(): void {
    this.controller.abort();
  }

  /**
   * Cancels the export: local polling and download stop at once (no file is left), and NemoVideo is asked to
   * stop the render unless it had finished. Returns the final status ("completed" when it had already ended so).
   */
  async stop(): Promise<ExportView["status"]> {
    if (!this.running) return this.status;
    this.controller.abort();
    const renderId = this.renderIds.at(-1);
    const rendered = this.outcome !== undefined;
    let backend: string | undefined;
    if (renderId && !rendered) {
      const { cancelRender } = await import("../client/render.js");
      backend = await cancelRender(this.options.client, renderId).catch((err: unknown) => {
        this.options.logger.warn(
          `Could not cancel render ${renderId} on NemoVideo: ${(err as Error).message}`,
        );
        return undefined;
      });
    }
    await this.done;
    if (this.status === "completed") return this.status;
    this.status = "cancelled";
    this.error = new CancelledError(
      backend === undefined && !rendered
        ? `The export ${this.id} was stopped here, but NemoVideo could not be asked to stop the render.`
        : `The export ${this.id} was cancelled${rendered ? " during the download" : " and NemoVideo stopped the render"}; no file was saved.`,
      `Rendering is free: start it again with ${act("export")} when you want the video.`,
    );
    await this.persist();
    return this.status;
  }

  /** Cancels the job when `signal` aborts, until the returned function detaches it. */
  cancelOn(signal: AbortSignal | undefined): () => void {
    if (!signal) return () => {};
    if (signal.aborted) {
      this.cancel();
      return () => {};
    }
    const onAbort = () => this.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
    return () => signal.removeEventListener("abort", onAbort);
  }

  /** Stops local work for a process shutdown: the record keeps saying "rendering", so the next run resumes it. */
  shutdown(): void {
    this.stopping = true;
    this.controller.abort();
  }

  /** The error that ended the job, if it failed. */
  get failure(): unknown {
    return this.status === "completed" ? undefined : this.error;
  }

  /** The job as reported to callers. */
  view(): ExportView {
    const v: ExportView = { status: this.status, render_id: this.id, session_id: this.request.sessionId };
    if (this.status === "rendering") v.percent = this.percent;
    const url = this.outcome?.url;
    if (url) v.url = url;
    if (this.download) {
      v.file = this.download.file;
      v.bytes = this.download.bytes;
    }
    if (this.projectUrl) v.project_url = this.projectUrl;
    if (this.renderIds.length > 1) v.attempts = this.renderIds.length;
    if (this.error !== undefined && (this.status === "failed" || this.status === "cancelled")) {
      v.error = errorView(this.error);
    }
    return v;
  }

  private readonly progress = (p: ExportProgress): void => {
    if (p.percent !== undefined) this.percent = Math.max(this.percent, p.percent);
    for (const listener of this.listeners) listener(p);
  };

  private markSubmitted(renderId: string): void {
    this.renderIds.push(renderId);
    void this.persist();
    for (const resolve of this.onSubmitted.splice(0)) resolve();
  }

  private async run(resuming: boolean): Promise<void> {
    try {
      const { exportVideo, resumeExport } = await exportModule();
      const { client } = this.options;
      const { sessionId, outputDir, fileName, quality } = this.request;
      const options = {
        intervalMs: this.options.renderPollMs,
        maxPolls: this.options.renderMaxPolls,
        ...(quality ? { quality } : {}),
        signal: this.controller.signal,
        onProgress: this.progress,
        onSubmitted: (renderId: string) => this.markSubmitted(renderId),
        onRendered: (outcome: RenderOutcome) => this.rendered(outcome),
      };
      const target = { outputDir, fileName };
      const result = resuming
        ? await resumeExport(client, this.renderIds, target, options)
        : await exportVideo(client, sessionId, target, options);
      this.download = result.download;
      await this.claimProjectLink();
      this.status = "completed";
    } catch (err) {
      this.error = err;
      // Polls ran out while NemoVideo still renders: not a failure; the export stays "rendering" and
      // picking it up (get_export, export --resume, a restart) polls the same render again.
      const stillRendering =
        err instanceof TimeoutError && this.outcome === undefined && !this.controller.signal.aborted;
      this.status = err instanceof CancelledError ? "cancelled" : stillRendering ? "rendering" : "failed";
    } finally {
      this.ended = true;
      for (const resolve of this.onSubmitted.splice(0)) resolve();
      await this.persist();
      this.options.logger.debug(`Export ${this.id || "(not submitted)"} ended: ${this.status}.`);
    }
  }

  private rendered(outcome: RenderOutcome): void {
    this.outcome = outcome;
    this.percent = 100;
    if (!this.renderIds.includes(outcome.renderId)) this.renderIds.push(outcome.renderId);
  }

  private async claimProjectLink(): Promise<void> {
    const { sessions } = this.options;
    const session = await sessions.current().catch(() => undefined);
    if (session && session.sessionId === this.request.sessionId && session.taskId) {
      this.projectUrl = await sessions.claimLink(session, this.controller.signal).catch(() => undefined);
    }
  }

  /** The job as persisted. */
  record(): ExportRecord {
    return {
      kind: "export",
      render_ids: [...this.renderIds],
      output_dir: this.request.outputDir,
      ...(this.request.fileName !== undefined ? { file_name: this.request.fileName } : {}),
      ...this.view(),
      session_id: this.request.sessionId,
    };
  }

  /** Records the job under every render id; done before callers hear of an id, so a restart can pick it up. */
  async persist(): Promise<void> {
    // Stopped by a shutdown: the saved record keeps saying "rendering", so the next run polls again.
    if (!this.id || (this.stopping && this.status === "cancelled")) return;
    try {
      await this.options.store.saveExport(this.record());
    } catch (err) {
      this.options.logger.warn(`Could not save export ${this.id}: ${(err as Error).message}`);
    }
  }
}

/** Failures after which the render may still be fine on NemoVideo: picking the export up polls it again. */
const RESUMABLE_FAILURES = new Set(["timeout", "download_failed", "network", "server", "rate_limited"]);

/** True when picking up this export should poll its render again (still rendering, or a resumable failure). */
export function resumable(view: ExportView): boolean {
  return (
    view.status === "rendering" ||
    (view.status === "failed" && RESUMABLE_FAILURES.has(view.error?.kind ?? ""))
  );
}
