import { act } from "../client/actions.js";
import { InvalidInputError } from "../client/errors.js";
import {
  ExportJob,
  type ExportJobsOptions,
  type ExportListener,
  type ExportRequest,
  resumable,
} from "./export-job.js";
import type { ExportView } from "./views.js";
import { boundedWait } from "./wait.js";

/** Exports as background jobs, picked up by render id (also after a restart, from the job store). */
export class ExportJobs {
  private readonly jobs = new Map<string, ExportJob>();
  /** Aborted when the process stops: waits return the current view at once. */
  private readonly draining = new AbortController();

  constructor(private readonly options: ExportJobsOptions) {}

  /**
   * Starts an export and resolves once its render was submitted; throws what failed before that
   * (nothing to export, 402, 1002...). A running export of the same session is joined, never
   * submitted twice. `listener` stays subscribed until the caller unsubscribes it;
   * `signal` cancels the export until it was submitted.
   */
  async start(
    request: ExportRequest,
    follow: { listener?: ExportListener | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<ExportJob> {
    const { listener, signal } = follow;
    for (const job of this.jobs.values()) {
      if (job.request.sessionId === request.sessionId && job.running) {
        if (listener) job.subscribe(listener);
        return job;
      }
    }
    const job = ExportJob.submit(this.options, request);
    if (listener) job.subscribe(listener);
    // `signal` cancels the export while it is being submitted; afterwards the caller decides (cancelOn).
    const detach = job.cancelOn(signal);
    await job.submitted().finally(detach);
    if (!job.id) {
      await job.done;
      throw job.failure;
    }
    this.track(job);
    await job.persist();
    return job;
  }

  /**
   * The job of `renderId`: the running one; else one that polls its render again (recorded while
   * rendering, or ended by polls running out or a failed download); else the view of a finished one.
   * Never submits a render.
   */
  async resume(renderId: string): Promise<ExportJob | ExportView> {
    const live = this.jobs.get(renderId);
    if (live && (live.running || !resumable(live.view()))) return live;
    const record = live?.record() ?? (await this.options.store.loadExport(renderId));
    if (!record) {
      throw new InvalidInputError(
        `No export with render id "${renderId}" is known.`,
        `Use the render_id that ${act("export")} returned.`,
      );
    }
    if (!resumable(record)) {
      const { kind: _k, render_ids: _r, output_dir: _o, file_name: _f, ...view } = record;
      return view;
    }
    const job = ExportJob.resume(this.options, record);
    this.track(job);
    return job;
  }

  /** Finds `job` by each of its render ids (a retry adds one). */
  private track(job: ExportJob): void {
    for (const id of job.ids) this.jobs.set(id, job);
    void job.done.then(() => {
      for (const id of job.ids) this.jobs.set(id, job);
    });
  }

  /**
   * Waits up to `waitMs` for an export to finish and returns its view: `job` itself, or the export
   * of a render id as `resume` finds it.
   */
  async wait(
    target: string | ExportJob,
    waitMs: number,
    signal?: AbortSignal,
    listener?: ExportListener,
  ): Promise<ExportView> {
    const job = typeof target === "string" ? await this.resume(target) : target;
    if (!(job instanceof ExportJob)) return job;
    const unsubscribe = listener ? job.subscribe(listener) : undefined;
    job.followers++;
    try {
      const stop = signal ? AbortSignal.any([signal, this.draining.signal]) : this.draining.signal;
      await boundedWait(job.done, waitMs, stop);
    } finally {
      job.followers--;
      unsubscribe?.();
    }
    return job.view();
  }

  /** Stops the local work of a running export only (the backend render goes on), e.g. when a client leaves. */
  release(renderId: string): void {
    this.jobs.get(renderId)?.cancel();
  }

  /**
   * Cancels an export (cancel_export, or a cancelled export_video / get_export call): local work stops and the
   * render is cancelled on NemoVideo, also for a render an earlier process left running. Returns the final view.
   */
  async cancel(renderId: string): Promise<ExportView> {
    const job = await this.resume(renderId);
    if (!(job instanceof ExportJob)) return job;
    await job.stop();
    return job.view();
  }

  /**
   * A cancelled call's share of cancelling: the export stops (as `cancel` does) only when no other call is
   * still waiting for it, so one client's cancellation never ends an export that another call follows.
   */
  async cancelUnfollowed(target: string | ExportJob): Promise<void> {
    const job = typeof target === "string" ? this.jobs.get(target) : target;
    if (job && job.followers > 0) return;
    const renderId = typeof target === "string" ? target : target.id;
    if (renderId) await this.cancel(renderId);
    else job?.cancel();
  }

  /** Ends every wait now with the current view (first step of a shutdown); the work goes on. */
  drain(): void {
    this.draining.abort();
  }

  /** Stops every export's local work (process shutdown); running ones stay "rendering" in the store. */
  shutdown(): void {
    for (const job of this.jobs.values()) job.shutdown();
  }
}
