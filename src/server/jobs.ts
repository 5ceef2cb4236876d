import type { NemoClient } from "../client/client.js";
import { CancelledError, InvalidInputError, NemoError, SessionNotFoundError } from "../client/errors.js";
import type { DownloadResult, RenderOutcome, RenderProgress } from "../client/render.js";
import type { Sessions } from "../client/sessions.js";
import type { Turn, TurnLimits, TurnResult, TurnUpdate } from "../client/turns.js";
import type { Logger } from "../log.js";

const MAX_FINISHED_IN_MEMORY = 50;

// Loaded on first use, so that starting the server stays fast.
const turnsModule = () => import("../client/turns.js");
const renderModule = () => import("../client/render.js");

/** The shape send_message and get_turn return. */
export interface TurnView {
  status: "completed" | "running" | "failed" | "cancelled";
  turn_id: string;
  session_id: string;
  reply: string;
  activity: string[];
  changes?: string[];
  timeline?: string;
  recovered?: boolean;
  error?: { kind: string; message: string; next_step?: string; code?: number };
}

/** The shape export_video and get_export return. */
export interface ExportView {
  status: "completed" | "rendering" | "failed" | "cancelled";
  render_id: string;
  session_id: string;
  percent?: number;
  url?: string;
  file?: string;
  bytes?: number;
  project_url?: string;
  attempts?: number;
  error?: { kind: string; message: string; next_step?: string; code?: number };
}

export interface ExportRequest {
  sessionId: string;
  outputDir: string;
  fileName?: string | undefined;
  quality?: string | undefined;
}

export interface JobsOptions {
  client: NemoClient;
  sessions: Sessions;
  logger: Logger;
  turnLimits: TurnLimits;
  renderPollMs: number;
  renderMaxPolls: number;
}

/** Listener for live updates of a background job. */
export type ExportListener = (p: RenderProgress) => void;

function errorView(err: unknown): NonNullable<TurnView["error"]> {
  if (err instanceof NemoError) {
    const view: NonNullable<TurnView["error"]> = { kind: err.kind, message: err.message };
    if (err.nextStep) view.next_step = err.nextStep;
    if (err.code !== undefined) view.code = err.code;
    return view;
  }
  return { kind: "internal", message: err instanceof Error ? err.message : String(err) };
}

/** Rebuilds a NemoError-like error from a persisted view, so failures read the same after a restart. */
export function errorFromView(view: NonNullable<TurnView["error"]>): NemoError {
  return new NemoError(view.message, { nextStep: view.next_step, code: view.code });
}

function turnView(turn: Turn, result: TurnResult | undefined): TurnView {
  if (!result) {
    return {
      status: "running",
      turn_id: turn.id,
      session_id: turn.sessionId,
      reply: "",
      activity: [...turn.activity],
    };
  }
  const view: TurnView = {
    status: result.status,
    turn_id: result.turnId,
    session_id: result.sessionId,
    reply: result.reply,
    activity: result.activity,
  };
  if (result.changes) view.changes = result.changes;
  if (result.timeline) view.timeline = result.timeline;
  if (result.recovered) view.recovered = true;
  if (result.error) {
    view.error = { kind: result.error.kind, message: result.error.message };
    if (result.error.nextStep) view.error.next_step = result.error.nextStep;
    if (result.error.code !== undefined) view.error.code = result.error.code;
  }
  return view;
}

export class ExportJob {
  readonly controller = new AbortController();
  readonly listeners = new Set<ExportListener>();
  renderIds: string[] = [];
  status: ExportView["status"] = "rendering";
  percent = 0;
  outcome: RenderOutcome | undefined;
  download: DownloadResult | undefined;
  projectUrl: string | undefined;
  error: unknown;
  done!: Promise<void>;
  submitted!: Promise<void>;

  /** Records render progress and passes it to the listeners of the waiting tool calls. */
  readonly progress = (p: RenderProgress): void => {
    if (p.percent !== undefined) this.percent = Math.max(this.percent, p.percent);
    for (const listener of this.listeners) listener(p);
  };

  constructor(
    readonly request: ExportRequest,
    public id = "",
  ) {}

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
    if (this.error !== undefined && this.status !== "completed") v.error = errorView(this.error);
    return v;
  }
}

/**
 * Background turns and exports: they outlive the tool call that started them, are picked up by
 * id with bounded waits, and finished ones are persisted in the state directory.
 */
export class Jobs {
  private readonly turns = new Map<string, Turn>();
  /** Each turn's result after post-processing (1002 replacement, persistence); what waiters see. */
  private readonly turnResults = new Map<string, Promise<TurnResult>>();
  private readonly exports = new Map<string, ExportJob>();
  private stopping = false;

  constructor(private readonly options: JobsOptions) {}

  /** Starts a turn; refuses while another turn of the same session is still running. */
  async startTurn(sessionId: string, message: string, onUpdate?: (u: TurnUpdate) => void): Promise<Turn> {
    const { startTurn } = await turnsModule();
    this.assertNoRunningTurn(sessionId);
    const turn = startTurn(this.options.client, {
      sessionId,
      message,
      limits: this.options.turnLimits,
      ...(onUpdate ? { onUpdate } : {}),
    });
    this.turns.set(turn.id, turn);
    void this.persistTurn(turn, undefined);
    this.turnResults.set(
      turn.id,
      turn.done.then((result) => this.finishTurn(turn, result)),
    );
    return turn;
  }

  private assertNoRunningTurn(sessionId: string): void {
    for (const turn of this.turns.values()) {
      if (turn.sessionId === sessionId && turn.status === "running") {
        throw new InvalidInputError(
          `A message is still being worked on in this session (turn ${turn.id}); sending another now could run and charge the work twice.`,
          `Wait for it with get_turn (turn_id "${turn.id}"), or stop it with cancel_turn.`,
        );
      }
    }
  }

  private async finishTurn(turn: Turn, result: TurnResult): Promise<TurnResult> {
    if (result.cause instanceof SessionNotFoundError && !result.cause.newSessionId) {
      const replacement = await this.options.sessions.create().catch(() => undefined);
      if (replacement) {
        result.cause.replacedBy(turn.sessionId, replacement.sessionId);
        result.error = {
          kind: result.cause.kind,
          message: result.cause.message,
          ...(result.cause.nextStep ? { nextStep: result.cause.nextStep } : {}),
          code: 1002,
        };
      }
    }
    await this.persistTurn(turn, result);
    this.evictFinishedTurns();
    return result;
  }

  /** Keeps at most MAX_FINISHED_IN_MEMORY finished turns in memory; older ones are read from disk. */
  private evictFinishedTurns(): void {
    const finished = [...this.turns.values()].filter((t) => t.status !== "running");
    for (const turn of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_IN_MEMORY))) {
      this.turns.delete(turn.id);
      this.turnResults.delete(turn.id);
    }
  }

  private async persistTurn(turn: Turn, result: TurnResult | undefined): Promise<void> {
    try {
      await this.options.client.store.saveJob(turn.id, {
        kind: "turn",
        message_chars: turn.message.length,
        started_at: turn.startedAt,
        ...turnView(turn, result),
      });
    } catch (err) {
      this.options.logger.warn(`Could not save turn ${turn.id}: ${(err as Error).message}`);
    }
  }

  /** Waits up to `waitMs` for a turn (in memory, or finished and persisted by an earlier run). */
  async waitTurn(
    turnId: string,
    waitMs: number,
    signal?: AbortSignal,
    onUpdate?: (u: TurnUpdate) => void,
  ): Promise<TurnView> {
    const turn = this.turns.get(turnId);
    if (!turn) return this.persistedTurn(turnId);
    let stopFollowing = false;
    if (onUpdate) {
      void (async () => {
        for await (const update of turn) {
          if (stopFollowing) break;
          onUpdate(update);
        }
      })().catch(() => {});
    }
    try {
      const finished = this.turnResults.get(turnId) ?? turn.done;
      let result: TurnResult | undefined;
      void finished.then((r) => {
        result = r;
      });
      await boundedWait(finished, waitMs, signal);
      return turnView(turn, result);
    } finally {
      stopFollowing = true;
    }
  }

  private async persistedTurn(turnId: string): Promise<TurnView> {
    const record = (await this.options.client.store.loadJob(turnId)) as
      | (TurnView & { kind?: string; message_chars?: number; started_at?: number })
      | undefined;
    if (record?.kind !== "turn") {
      throw new InvalidInputError(
        `No turn with id "${turnId}" is known.`,
        "Use the turn_id that send_message returned.",
      );
    }
    const { kind: _kind, message_chars: _chars, started_at: _started, ...view } = record;
    if (view.status !== "running") return view;
    // The stream belonged to a process that has ended; the backend may still have finished the work.
    return {
      ...view,
      status: "failed",
      error: {
        kind: "stream_failed",
        message: "The server restarted while this turn was running, so its stream was lost.",
        next_step:
          "Check get_state to see whether the edit landed before sending the message again (sending again spends credits again).",
      },
    };
  }

  /** The final view of a turn started in this process, once it has finished. */
  async finalTurn(turnId: string): Promise<TurnView> {
    const turn = this.turns.get(turnId);
    const finished = this.turnResults.get(turnId);
    if (!turn || !finished) return this.persistedTurn(turnId);
    return turnView(turn, await finished);
  }

  /** Cancels a running turn; returns its final status. */
  async cancelTurn(turnId: string): Promise<TurnView["status"]> {
    const turn = this.turns.get(turnId);
    if (!turn) return (await this.persistedTurn(turnId)).status;
    if (turn.status === "running") turn.cancel();
    const result = await (this.turnResults.get(turnId) ?? turn.done);
    return result.status;
  }

  /**
   * Starts an export (render, then download) in the background and resolves once the render was
   * submitted, or failed before that. A running export of the same session is reused, never
   * submitted twice.
   */
  async startExport(request: ExportRequest, listener?: ExportListener): Promise<ExportJob> {
    for (const job of this.exports.values()) {
      if (job.request.sessionId === request.sessionId && job.status === "rendering") {
        if (listener) job.listeners.add(listener);
        return job;
      }
    }
    const job = new ExportJob(request);
    if (listener) job.listeners.add(listener);
    const { client, logger } = this.options;
    let markSubmitted: () => void = () => {};
    job.submitted = new Promise<void>((resolve) => {
      markSubmitted = resolve;
    });
    job.done = (async () => {
      try {
        const { exportSession } = await renderModule();
        const outcome = await exportSession(client, request.sessionId, {
          intervalMs: this.options.renderPollMs,
          maxPolls: this.options.renderMaxPolls,
          ...(request.quality ? { quality: request.quality } : {}),
          signal: job.controller.signal,
          onProgress: job.progress,
          onSubmitted: (renderId) => {
            job.renderIds.push(renderId);
            if (!job.id) {
              job.id = renderId;
              this.exports.set(renderId, job);
            }
            void this.persistExport(job);
            markSubmitted();
          },
        });
        await this.finishExport(job, outcome);
      } catch (err) {
        this.failExport(job, err);
      } finally {
        markSubmitted();
        await this.persistExport(job);
        logger.debug(`Export ${job.id || "(not submitted)"} ended: ${job.status}.`);
      }
    })();
    await job.submitted;
    if (!job.id) {
      // Failed before a render was submitted (nothing to export, 402, 1002...): report it directly.
      await job.done;
      throw job.error;
    }
    // On disk before the caller hears of the render id, so a restart can always pick it up.
    await this.persistExport(job);
    return job;
  }

  private async finishExport(job: ExportJob, outcome: RenderOutcome) {
    job.outcome = outcome;
    job.percent = 100;
    if (!job.renderIds.includes(outcome.renderId)) job.renderIds.push(outcome.renderId);
    this.exports.set(outcome.renderId, job);
    const { downloadRender } = await renderModule();
    job.download = await downloadRender(this.options.client, outcome, {
      outputDir: job.request.outputDir,
      ...(job.request.fileName ? { fileName: job.request.fileName } : {}),
      signal: job.controller.signal,
      onProgress: job.progress,
    });
    const session = await this.options.sessions.current().catch(() => undefined);
    if (session && session.sessionId === job.request.sessionId && session.taskId) {
      job.projectUrl = await this.options.sessions
        .claimLink(session, job.controller.signal)
        .catch(() => undefined);
    }
    job.status = "completed";
  }

  private failExport(job: ExportJob, err: unknown) {
    job.error = err;
    job.status = err instanceof CancelledError ? "cancelled" : "failed";
  }

  private async persistExport(job: ExportJob): Promise<void> {
    // Stopped by a shutdown: the saved record keeps saying "rendering", so the next run polls again.
    if (!job.id || (this.stopping && job.status === "cancelled")) return;
    try {
      const record = {
        kind: "export",
        render_ids: job.renderIds,
        output_dir: job.request.outputDir,
        file_name: job.request.fileName,
        ...job.view(),
      };
      for (const id of job.renderIds) await this.options.client.store.saveJob(id, record);
    } catch (err) {
      this.options.logger.warn(`Could not save export ${job.id}: ${(err as Error).message}`);
    }
  }

  /** Waits up to `waitMs` for an export to finish and returns its view. */
  async waitExport(
    renderId: string,
    waitMs: number,
    signal?: AbortSignal,
    listener?: ExportListener,
  ): Promise<ExportView> {
    const job = this.exports.get(renderId) ?? (await this.resumeExport(renderId));
    if (!(job instanceof ExportJob)) return job;
    const live = job;
    if (listener) live.listeners.add(listener);
    try {
      await boundedWait(live.done, waitMs, signal);
    } finally {
      if (listener) live.listeners.delete(listener);
    }
    return live.view();
  }

  /** Cancels a running export (polling and download stop; the backend render itself goes on). */
  cancelExport(renderId: string): void {
    this.exports.get(renderId)?.controller.abort();
  }

  /** A persisted export: finished ones are reported as saved; one still rendering is polled again, never re-submitted. */
  private async resumeExport(renderId: string): Promise<ExportJob | ExportView> {
    const record = (await this.options.client.store.loadJob(renderId)) as
      | (ExportView & { kind?: string; render_ids?: string[]; output_dir?: string; file_name?: string })
      | undefined;
    if (record?.kind !== "export") {
      throw new InvalidInputError(
        `No export with render id "${renderId}" is known.`,
        "Use the render_id that export_video returned.",
      );
    }
    if (record.status !== "rendering") {
      const { kind: _k, render_ids: _r, output_dir: _o, file_name: _f, ...view } = record;
      return view;
    }
    const lastId = record.render_ids?.at(-1) ?? renderId;
    const job = new ExportJob(
      { sessionId: record.session_id, outputDir: record.output_dir ?? ".", fileName: record.file_name },
      record.render_id,
    );
    job.renderIds = record.render_ids ?? [renderId];
    for (const id of job.renderIds) this.exports.set(id, job);
    job.submitted = Promise.resolve();
    job.done = (async () => {
      try {
        const { pollRender } = await renderModule();
        const polled = await pollRender(this.options.client, lastId, {
          intervalMs: this.options.renderPollMs,
          maxPolls: this.options.renderMaxPolls,
          signal: job.controller.signal,
          onProgress: job.progress,
        });
        if (polled.status !== "completed") {
          throw new NemoError(
            polled.status === "failed"
              ? `The render ${lastId} failed${polled.error ? `: ${polled.error}` : ""}.`
              : `The render ${lastId} is still not finished.`,
            { nextStep: "Check get_export again later, or start a new export with export_video." },
          );
        }
        const outcome: RenderOutcome = {
          renderId: lastId,
          status: "completed",
          attempts: job.renderIds.length,
        };
        if (polled.url) outcome.url = polled.url;
        if (polled.sizeBytes !== undefined) outcome.sizeBytes = polled.sizeBytes;
        await this.finishExport(job, outcome);
      } catch (err) {
        this.failExport(job, err);
      } finally {
        await this.persistExport(job);
      }
    })();
    return job;
  }

  /** Aborts all local work (process shutdown); running exports stay "rendering" on disk. */
  shutdown(): void {
    this.stopping = true;
    for (const turn of this.turns.values()) if (turn.status === "running") turn.cancel();
    for (const job of this.exports.values()) job.controller.abort();
  }
}

/** Resolves when `promise` settles, `ms` passes, or `signal` aborts, whichever comes first. */
export async function boundedWait(
  promise: Promise<unknown>,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      promise.then(
        () => {},
        () => {},
      ),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, ms));
        if (signal) {
          onAbort = () => resolve();
          if (signal.aborted) resolve();
          else signal.addEventListener("abort", onAbort, { once: true });
        }
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    if (signal && onAbort) signal.removeEventListener("abort", onAbort);
  }
}
