/**
 * One message to the NemoVideo agent over `POST /run_sse`, as a Turn: an async iterable of updates and a final
 * result, with a hard time limit, stall detection, cancellation and, when the stream drops, recovery by polling
 * the session state. A message is sent at most once: a dropped turn is never re-sent (that would duplicate the
 * work and charge the credits twice). Its parts: `turn-stream.ts` (the request), `reply.ts` (the reply text),
 * `turn-replay.ts` (updates for iterators), `turn-errors.ts`, `turn-recovery.ts` and `baseline.ts`.
 */
import { v4 as uuidv4 } from "uuid";
import { priceTurn, readBaseline, type TurnBaseline } from "./baseline.js";
import type { NemoClient } from "./client.js";
import { InvalidInputError, type NemoError } from "./errors.js";
import { Reply } from "./reply.js";
import type { TurnEvent } from "./sse.js";
import { fetchState, type SessionState } from "./state.js";
import { type Timeline, timelineFromJSON } from "./timeline.js";
import { diffTimelines, summarizeTimeline } from "./timeline-diff.js";
import {
  cancelledError,
  lostStreamError,
  notSentError,
  type StopReason,
  stopError,
  streamError,
} from "./turn-errors.js";
import type { ResumeTurnOptions, StartTurnOptions, TurnLimits } from "./turn-options.js";
import { pollForChange } from "./turn-recovery.js";
import { ReplayBuffer } from "./turn-replay.js";
import { failWith, type TurnResult, type TurnStatus, type TurnUpdate } from "./turn-result.js";
import { sendAndRead } from "./turn-stream.js";

/** The types a caller of a turn uses, from the modules that define them. */
export type { TurnLimits } from "./turn-options.js";
export type { TurnResult, TurnUpdate } from "./turn-result.js";

/**
 * Sends one message and follows the turn. Throws InvalidInputError for an empty message (nothing is sent);
 * every other failure ends up in the result, `done` never rejects.
 */
export function startTurn(client: NemoClient, options: StartTurnOptions): Turn {
  if (options.message.trim() === "") {
    throw new InvalidInputError("The message is empty.", "Say what to generate or change in the video.");
  }
  return new Turn(client, options);
}

/** Follows a turn of an earlier process by polling the state against its baseline; nothing is sent. */
export function resumeTurn(client: NemoClient, options: ResumeTurnOptions): Turn {
  const { baseline, startedAt, ...rest } = options;
  return new Turn(client, { ...rest, message: "" }, { baseline, startedAt });
}

/** A running (or finished) message to the backend agent; iterate it for updates, await `done` for the result. */
export class Turn implements AsyncIterable<TurnUpdate> {
  readonly id: string;
  readonly sessionId: string;
  readonly message: string;
  readonly startedAt: number;
  /** The result; never rejects. */
  readonly done: Promise<TurnResult>;

  private readonly client: NemoClient;
  private readonly limits: TurnLimits;
  private readonly onUpdate: ((update: TurnUpdate) => void) | undefined;
  private readonly controller = new AbortController();
  private readonly external: AbortSignal | undefined;
  private readonly updates = new ReplayBuffer<TurnUpdate>();
  private state: TurnStatus = "running";
  private stopReason: StopReason | undefined;
  private sent = false;
  private resolveDone!: (result: TurnResult) => void;
  private readonly reply = new Reply();
  private readonly onBaseline: StartTurnOptions["onBaseline"];
  private readonly resumed: TurnBaseline | undefined;

  constructor(
    client: NemoClient,
    options: StartTurnOptions,
    resume?: { baseline: TurnBaseline; startedAt: number },
  ) {
    this.client = client;
    this.id = options.turnId ?? uuidv4();
    this.sessionId = options.sessionId;
    this.message = options.message;
    this.limits = options.limits;
    this.onUpdate = options.onUpdate;
    this.external = options.signal;
    this.onBaseline = options.onBaseline;
    this.resumed = resume?.baseline;
    this.startedAt = resume?.startedAt ?? Date.now();
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    if (this.external?.aborted) {
      this.cancel();
      return;
    }
    this.external?.addEventListener("abort", this.onExternalAbort, { once: true });
    void this.run();
  }

  /** Running, or how the turn ended. */
  get status(): TurnStatus {
    return this.state;
  }

  /** Backend tools run so far, consecutive duplicates folded. */
  get activity(): readonly string[] {
    return this.reply.activity;
  }

  /** Waits at most `ms` for the result; undefined when the turn is still running then (or `signal` aborts). */
  wait(ms: number, signal?: AbortSignal): Promise<TurnResult | undefined> {
    if (this.state !== "running") return this.done;
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const finish = (result: TurnResult | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
      void this.done.then(finish);
    });
  }

  /** Stops the turn at once: closes the stream or stops polling. The backend may still finish its work. */
  cancel(): void {
    if (this.state !== "running") return;
    this.stop("cancelled");
    this.finish(this.failure("cancelled", cancelledError(this.sent)));
  }

  /** Replays the updates so far, then follows live ones; ends after "finished". */
  [Symbol.asyncIterator](): AsyncIterator<TurnUpdate> {
    return this.updates[Symbol.asyncIterator]();
  }

  private readonly onExternalAbort = (): void => this.cancel();

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  private get log() {
    return this.client.logger;
  }

  private async run(): Promise<void> {
    try {
      if (this.resumed) {
        this.sent = true;
        this.finish(await this.recover(timelineFromJSON(this.resumed.timeline), this.resumed));
        return;
      }
      let before: SessionState;
      let baseline: TurnBaseline;
      try {
        ({ state: before, baseline } = await readBaseline(this.client, this.sessionId, this.signal));
        await this.onBaseline?.(baseline);
      } catch (err) {
        // the message is not sent when the state cannot be read (or recorded) first: nothing to recover, nothing spent
        this.finish(this.failure("failed", notSentError(this.stopReason, err, this.limits)));
        return;
      }
      if (this.signal.aborted) throw this.stopped(undefined);
      this.sent = true;
      const end = await sendAndRead(
        this.client,
        {
          ...this.limits,
          turnId: this.id,
          sessionId: this.sessionId,
          message: this.message,
          signal: this.signal,
        },
        {
          emit: (update) => this.emit(update),
          absorb: (event) => this.absorb(event),
          stop: (reason) => this.stop(reason),
          stopped: (err) => this.stopped(err),
        },
      );
      const result = this.reply.asked
        ? await this.awaiting(before)
        : end === "ended"
          ? await this.completed(before.timeline, baseline)
          : await this.recover(before.timeline, baseline);
      this.finish(result);
    } catch (err) {
      this.finish(this.failure(this.stopReason === "cancelled" ? "cancelled" : "failed", this.stopped(err)));
    }
  }

  /** Takes one event into the reply (logging it); returns the failure an error event means. */
  private absorb(event: TurnEvent): NemoError | undefined {
    this.reply.take(event);
    const turn = this.id;
    switch (event.type) {
      case "error":
        this.log.warn("NemoVideo reported an error in the stream", { turn, code: event.code });
        return streamError(this.client.errorContext(), event.message, event.code);
      case "text":
        // partial chunks can number tens of thousands: no per-chunk log record (allocation-light)
        if (!event.partial) this.log.debug("Turn text", { turn, chars: event.text.length });
        return undefined;
      case "tool_call":
        this.log.debug("Backend tool call", { turn, tool: event.name });
        return undefined;
      case "question":
        this.log.debug("The agent asks a question", { turn, questions: event.questions.length });
        return undefined;
      case "tool_result":
      case "heartbeat":
        return undefined;
      default:
        this.log.debug("Turn event", { turn, type: event.type });
        return undefined;
    }
  }

  /** The agent asked a question and the stream ended: the turn waits for the answer (never a silent edit). */
  private async awaiting(before: SessionState): Promise<TurnResult> {
    const result = this.result("awaiting_input", this.reply.text());
    result.questions = this.reply.asked?.questions ?? [];
    result.timeline = summarizeTimeline(before.timeline);
    return result;
  }

  /** Sets what the turn cost, when the balances before and after it can be read. */
  private async price(result: TurnResult, baseline: TurnBaseline): Promise<void> {
    const used = await priceTurn(this.client, baseline, this.signal, this.id);
    if (used) result.creditsUsed = used;
  }

  /** The stream closed normally: fetch the state after the turn for the summary (and the diff when silent). */
  private async completed(before: Timeline, baseline: TurnBaseline): Promise<TurnResult> {
    const reply = this.reply.text();
    const result = this.result("completed", reply);
    const priced = this.price(result, baseline);
    try {
      const after = await fetchState(this.client, this.sessionId, this.signal);
      result.timeline = summarizeTimeline(after.timeline);
      if (reply === "") result.changes = diffTimelines(before, after.timeline);
    } catch (err) {
      if (this.signal.aborted) throw err;
      this.log.warn("Could not read the state after the turn", {
        turn: this.id,
        error: (err as Error).message,
      });
    }
    await priced;
    return result;
  }

  /** The stream dropped: poll the state (never re-send) until the timeline changes or the polls run out. */
  private async recover(before: Timeline, baseline: TurnBaseline): Promise<TurnResult> {
    const after = await pollForChange(this.client, {
      sessionId: this.sessionId,
      before,
      intervalMs: this.limits.recoveryPollMs,
      maxPolls: this.limits.recoveryMaxPolls,
      signal: this.signal,
      turnId: this.id,
      onAttempt: (attempt, max) => this.emit({ type: "recovering", attempt, max }),
    });
    if (after === undefined) return this.failure("failed", lostStreamError());
    const result = this.result("completed", this.reply.text());
    result.recovered = true;
    result.changes = diffTimelines(before, after.timeline);
    result.timeline = summarizeTimeline(after.timeline);
    await this.price(result, baseline);
    return result;
  }

  private stop(reason: StopReason): void {
    if (this.signal.aborted) return;
    this.stopReason = reason;
    this.controller.abort();
  }

  /** The error to report for `err`, given why the turn was stopped (if it was). */
  private stopped(err: unknown): NemoError {
    return stopError(this.stopReason, err, this.limits);
  }

  private result(status: TurnResult["status"], reply: string): TurnResult {
    return {
      turnId: this.id,
      sessionId: this.sessionId,
      status,
      reply,
      activity: [...this.reply.activity],
      durationMs: Date.now() - this.startedAt,
    };
  }

  private failure(status: "failed" | "cancelled", error: NemoError): TurnResult {
    return failWith(this.result(status, this.reply.text()), error);
  }

  /** Settles the turn once; later calls (a run unwinding after cancel) are ignored. */
  private finish(result: TurnResult): void {
    if (this.state !== "running") return;
    result.durationMs = Date.now() - this.startedAt;
    this.external?.removeEventListener("abort", this.onExternalAbort);
    this.stop("cancelled"); // releases anything still running (a no-op once the work is over)
    this.log.debug("Turn finished", {
      turn: this.id,
      status: result.status,
      error: result.error?.kind,
      ms: result.durationMs,
    });
    this.emit({ type: "finished", result });
    this.state = result.status;
    // A finished turn keeps only its last updates for late iterators; the result holds what matters.
    this.updates.close();
    this.resolveDone(result);
  }

  private emit(update: TurnUpdate): void {
    if (this.state !== "running") return;
    this.updates.push(update);
    try {
      this.onUpdate?.(update);
    } catch (err) {
      this.log.warn("A turn update listener failed", { turn: this.id, error: (err as Error).message });
    }
  }
}
