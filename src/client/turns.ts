/**
 * One message to the NemoVideo agent over `POST /run_sse`, as a Turn: an async iterable of updates and a final
 * result, with a hard time limit, stall detection, cancellation and, when the stream drops, recovery by polling
 * the session state. A message is sent at most once: a dropped turn is never re-sent (that would duplicate the
 * work and charge the credits twice).
 */
import type { Readable } from "node:stream";
import { v4 as uuidv4 } from "uuid";
import { balance, creditsUsed, type CreditsUsed, type TurnBaseline, timelineFromJSON } from "./baseline.js";
import type { NemoClient } from "./client.js";
import {
  CancelledError,
  InvalidInputError,
  NemoError,
  NetworkError,
  NoCreditsError,
  ServerError,
  StreamFailedError,
  TimeoutError,
} from "./errors.js";
import { translateGuiText } from "./gui.js";
import { pollUntil } from "./poll.js";
import type { AgentQuestion } from "./questions.js";
import { parseTurnStream, StreamTooLargeError, type TurnEvent } from "./sse.js";
import { fetchCredits, fetchState, type SessionState } from "./state.js";
import { diffTimelines, summarizeTimeline, type Timeline, timelineToJSON } from "./timeline.js";
import { act } from "./actions.js";

/** Time limits of one turn (see the NEMO_* timing settings). */
export interface TurnLimits {
  /** Hard limit from the start of the request to the end of the stream. */
  streamTimeoutMs: number;
  /** Heartbeats-only time after which the turn counts as stalled. */
  stallMs: number;
  /** State poll interval after a dropped stream; the first poll comes after half of it. */
  recoveryPollMs: number;
  /** Unchanged polls before a dropped turn is reported as failed; default 5. */
  recoveryMaxPolls?: number;
  /** Limit for the response headers; default min(60 s, streamTimeoutMs). */
  headersTimeoutMs?: number;
}

/** What a turn reports while it runs: the stream's events plus the turn's own milestones. */
export type TurnUpdate =
  | TurnEvent
  /** The backend accepted the message: the stream is open. */
  | { type: "started" }
  /** Only heartbeats for `stallMs`: the turn is about to fail as stalled. */
  | { type: "stalled" }
  /** The stream dropped; polling the state, `attempt` of at most `max`. */
  | { type: "recovering"; attempt: number; max: number }
  /** The last update: the turn's result. */
  | { type: "finished"; result: TurnResult };

export type TurnStatus = "running" | "completed" | "awaiting_input" | "failed" | "cancelled";

/** Why a turn failed, in plain words, with the next step. */
export interface TurnError {
  /** A NemoErrorKind ("timeout", "stream_failed", "no_credits", "cancelled", ...). */
  kind: string;
  message: string;
  nextStep?: string;
  code?: number;
}

/** The outcome of a turn. */
export interface TurnResult {
  turnId: string;
  sessionId: string;
  status: Exclude<TurnStatus, "running">;
  /** GUI-translated text for the user; "" when the backend said nothing. */
  reply: string;
  /** Backend tools run, in order, consecutive duplicates folded. */
  activity: string[];
  /** What changed on the timeline, when the reply was silent or the stream was recovered. */
  changes?: string[];
  /** Summary line of the timeline after the turn, when it could be fetched. */
  timeline?: string;
  /** The stream dropped and the outcome came from polling the state. */
  recovered?: boolean;
  /** What the agent asked (status "awaiting_input"); the answer is the session's next message. */
  questions?: AgentQuestion[];
  /** What a completed turn cost, from the balance before and after it. */
  creditsUsed?: CreditsUsed;
  error?: TurnError;
  /** The original error (non-enumerable: not serialised). */
  cause?: unknown;
  durationMs: number;
}

export interface StartTurnOptions {
  sessionId: string;
  message: string;
  limits: TurnLimits;
  /** Aborting it cancels the turn. */
  signal?: AbortSignal;
  /** Called with every update, in order (exceptions are logged and ignored). */
  onUpdate?: (update: TurnUpdate) => void;
  /** Defaults to a new UUID. */
  turnId?: string;
  /** Awaited with the state before the turn, before the message is sent (to persist what recovery needs). */
  onBaseline?: (baseline: TurnBaseline) => Promise<void> | void;
}

/** A turn whose stream belonged to a process that has ended: it is recovered from the state, never re-sent. */
export interface ResumeTurnOptions {
  turnId: string;
  sessionId: string;
  startedAt: number;
  baseline: TurnBaseline;
  limits: TurnLimits;
  signal?: AbortSignal;
  onUpdate?: (update: TurnUpdate) => void;
}

const DEFAULT_RECOVERY_POLLS = 5;
/** Most reply text a turn keeps (characters); a longer reply is cut, saying so. */
export const MAX_REPLY_CHARS = 64 * 1024;
const REPLY_CUT_NOTE = "[The reply was cut here: it was longer than 64 KB.]";
/** Text carried by one update (progress only needs to know that text arrived). */
const UPDATE_TEXT_CHARS = 2_000;
const MAX_REPLAY_UPDATES = 2_000;
const FINISHED_REPLAY_UPDATES = 100;
const MAX_HEADERS_TIMEOUT_MS = 60_000;
const NOT_AGAIN = `Check ${act("check_state")} before asking again; do not send the same message again (that would run the work, and spend credits, twice).`;
/** Errors that prove the request never reached the backend, so there is nothing to recover. */
const NOT_CONNECTED = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

type StopReason = "cancelled" | "timeout" | "stalled";

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
  /** Replay buffer: updates[i] is update number `dropped + i` (old ones are dropped to bound memory). */
  private readonly updates: TurnUpdate[] = [];
  private dropped = 0;
  private readonly tools: string[] = [];
  private wake: Array<() => void> = [];
  private state: TurnStatus = "running";
  private stopReason: StopReason | undefined;
  private sent = false;
  private resolveDone!: (result: TurnResult) => void;
  // the reply as it arrives: final (non-partial) texts, and partial chunks since the last final one
  private readonly finals: string[] = [];
  private finalChars = 0;
  private partial = "";
  private replyCut = false;
  private questions: { list: AgentQuestion[]; id?: string } | undefined;
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

  get status(): TurnStatus {
    return this.state;
  }

  /** Backend tools run so far, consecutive duplicates folded. */
  get activity(): readonly string[] {
    return this.tools;
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
    const error = this.sent
      ? new CancelledError(
          "The turn was cancelled; NemoVideo may still finish the work it had started.",
          `Check ${act("check_state")} to see what changed before sending anything again.`,
        )
      : new CancelledError("The turn was cancelled before the message was sent.");
    this.finish(this.failure("cancelled", error));
  }

  /** Replays the updates so far, then follows live ones; ends after "finished". */
  [Symbol.asyncIterator](): AsyncIterator<TurnUpdate> {
    let index = 0;
    let closed = false;
    return {
      next: async (): Promise<IteratorResult<TurnUpdate>> => {
        for (;;) {
          if (closed) return { done: true, value: undefined };
          index = Math.max(index, this.dropped);
          const update = this.updates[index - this.dropped];
          if (update !== undefined) {
            index += 1;
            return { done: false, value: update };
          }
          if (this.state !== "running") return { done: true, value: undefined };
          await new Promise<void>((resolve) => this.wake.push(resolve));
        }
      },
      return: async (): Promise<IteratorResult<TurnUpdate>> => {
        closed = true;
        return { done: true, value: undefined };
      },
    };
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
        // the balance is optional (it only prices the turn); the state is not
        const credits = fetchCredits(this.client, this.signal).then(balance, () => undefined);
        before = await fetchState(this.client, this.sessionId, this.signal);
        const known = await credits;
        baseline = { timeline: timelineToJSON(before.timeline), ...(known ? { credits: known } : {}) };
        await this.onBaseline?.(baseline);
      } catch (err) {
        // the message is not sent when the state cannot be read (or recorded) first: nothing to recover, nothing spent
        this.finish(this.failure("failed", this.notSent(err)));
        return;
      }
      if (this.signal.aborted) throw this.stopped(undefined);
      const end = await this.stream();
      const result = this.questions
        ? await this.awaiting(before)
        : end === "ended"
          ? await this.completed(before.timeline, baseline)
          : await this.recover(before.timeline, baseline);
      this.finish(result);
    } catch (err) {
      this.finish(this.failure(this.stopReason === "cancelled" ? "cancelled" : "failed", this.stopped(err)));
    }
  }

  /** Sends the message and reads the stream: "ended" when it closed normally, "dropped" when it broke. */
  private async stream(): Promise<"ended" | "dropped"> {
    const { streamTimeoutMs, stallMs } = this.limits;
    const headersTimeoutMs =
      this.limits.headersTimeoutMs ?? Math.min(MAX_HEADERS_TIMEOUT_MS, streamTimeoutMs);
    const hardTimer = setTimeout(() => this.stop("timeout"), streamTimeoutMs);
    let stallTimer: NodeJS.Timeout | undefined;
    const armStall = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        this.emit({ type: "stalled" });
        this.stop("stalled");
      }, stallMs);
    };
    let body: Readable | undefined;
    const closeBody = () => body?.destroy();
    this.signal.addEventListener("abort", closeBody, { once: true });
    try {
      this.sent = true;
      this.log.debug("Sending a message to NemoVideo", { turn: this.id, session: this.sessionId });
      try {
        const res = await this.client.open({
          method: "POST",
          path: "/run_sse",
          json: {
            app_name: "nemo_agent",
            user_id: "me",
            session_id: this.sessionId,
            new_message: { parts: [{ text: this.message }] },
          },
          headers: { accept: "text/event-stream" },
          signal: this.signal,
          timeoutMs: headersTimeoutMs,
          bodyTimeoutMs: 0,
        });
        body = res.body;
      } catch (err) {
        if (this.signal.aborted) throw this.stopped(err);
        if (!mayHaveArrived(err)) throw err;
        this.log.warn("The /run_sse request broke before the stream opened; recovering from the state.", {
          turn: this.id,
          error: (err as Error).message,
        });
        return "dropped";
      }
      if (this.signal.aborted) throw this.stopped(undefined);
      this.emit({ type: "started" });
      armStall();
      let failure: NemoError | undefined;
      try {
        for await (const event of parseTurnStream(body)) {
          if (event.type !== "heartbeat") armStall();
          // updates carry only the start of a text (listeners show progress); the reply keeps it whole, bounded
          this.emit(
            event.type === "text" ? { ...event, text: event.text.slice(0, UPDATE_TEXT_CHARS) } : event,
          );
          failure = this.absorb(event);
          if (failure) break;
        }
      } catch (err) {
        if (this.signal.aborted) throw this.stopped(err);
        if (err instanceof StreamTooLargeError) {
          throw new StreamFailedError(
            `NemoVideo sent ${err.message}, so the turn was stopped to protect this program's memory.`,
            NOT_AGAIN,
            { cause: err },
          );
        }
        this.log.warn("The NemoVideo stream dropped; recovering from the state.", {
          turn: this.id,
          error: (err as Error).message,
        });
        return "dropped";
      }
      if (failure) throw failure;
      if (this.signal.aborted) throw this.stopped(undefined);
      return "ended";
    } finally {
      clearTimeout(hardTimer);
      clearTimeout(stallTimer);
      this.signal.removeEventListener("abort", closeBody);
      closeBody();
    }
  }

  /** Takes one event into the reply and activity; returns the failure an error event means. */
  private absorb(event: TurnEvent): NemoError | undefined {
    switch (event.type) {
      case "text":
        // partial chunks can number tens of thousands: no per-chunk log record (allocation-light)
        if (event.partial) {
          this.partial = this.keep(this.partial + event.text, this.finalChars);
        } else {
          // ADK repeats the whole text in a final non-partial event: it replaces the partial chunks
          this.log.debug("Turn text", { turn: this.id, chars: event.text.length });
          const final = this.keep(event.text, this.finalChars);
          if (final !== "") this.finals.push(final);
          this.finalChars += final.length;
          this.partial = "";
        }
        return undefined;
      case "tool_call":
        this.log.debug("Backend tool call", { turn: this.id, tool: event.name });
        if (this.tools.at(-1) !== event.name) this.tools.push(event.name);
        return undefined;
      case "question":
        this.log.debug("The agent asks a question", { turn: this.id, questions: event.questions.length });
        this.questions = { list: event.questions, ...(event.id !== undefined ? { id: event.id } : {}) };
        return undefined;
      case "tool_result":
        // the question was answered on the backend's side after all
        if (this.questions && this.questions.id !== undefined && event.id === this.questions.id)
          this.questions = undefined;
        return undefined;
      case "error":
        this.log.warn("NemoVideo reported an error in the stream", { turn: this.id, code: event.code });
        return streamError(this.client, event.message, event.code);
      case "heartbeat":
        return undefined;
      default:
        this.log.debug("Turn event", { turn: this.id, type: event.type });
        return undefined;
    }
  }

  /** `text` cut to what still fits in the reply after `used` characters (noting that it was cut). */
  private keep(text: string, used: number): string {
    const room = Math.max(0, MAX_REPLY_CHARS - used);
    if (text.length <= room) return text;
    this.replyCut = true;
    return text.slice(0, room);
  }

  /** The reply as it stands, GUI-translated, at most MAX_REPLY_CHARS (and saying so when cut). */
  private reply(): string {
    const parts = [...this.finals, this.partial].map((s) => s.trim()).filter((s) => s !== "");
    if (parts.length === 0) return "";
    const text = translateGuiText(parts.join("\n\n")).slice(0, MAX_REPLY_CHARS);
    return this.replyCut ? `${text}\n\n${REPLY_CUT_NOTE}` : text;
  }

  /** The agent asked a question and the stream ended: the turn waits for the answer (never a silent edit). */
  private async awaiting(before: SessionState): Promise<TurnResult> {
    const result = this.result("awaiting_input", this.reply());
    result.questions = this.questions?.list ?? [];
    result.timeline = summarizeTimeline(before.timeline);
    return result;
  }

  /** The balance after a completed turn, compared with the one before it (when both can be read). */
  private async price(result: TurnResult, baseline: TurnBaseline): Promise<void> {
    if (!baseline.credits) return;
    try {
      const after = balance(await fetchCredits(this.client, this.signal));
      result.creditsUsed = creditsUsed(baseline.credits, after);
    } catch (err) {
      if (this.signal.aborted) throw err;
      this.log.debug("Could not read the balance after the turn", { turn: this.id });
    }
  }

  /** The stream closed normally: fetch the state after the turn for the summary (and the diff when silent). */
  private async completed(before: Timeline, baseline: TurnBaseline): Promise<TurnResult> {
    const reply = this.reply();
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
    const max = this.limits.recoveryMaxPolls ?? DEFAULT_RECOVERY_POLLS;
    const interval = this.limits.recoveryPollMs;
    const after = await pollUntil<SessionState>({
      firstDelayMs: Math.round(interval / 2),
      intervalMs: interval,
      maxAttempts: max,
      signal: this.signal,
      attempt: async (attempt) => {
        this.emit({ type: "recovering", attempt, max });
        try {
          const state = await fetchState(this.client, this.sessionId, this.signal);
          if (changed(before, state.timeline)) return { done: true, value: state };
        } catch (err) {
          if (this.signal.aborted) throw err;
          this.log.warn("A recovery poll failed; counting it as unchanged", {
            turn: this.id,
            attempt,
            error: (err as Error).message,
          });
        }
        return { done: false };
      },
    });
    if (after === undefined) {
      return this.failure(
        "failed",
        new StreamFailedError(
          "The connection to NemoVideo dropped and the timeline has not changed since.",
          `The backend may still be working: check ${act("check_state")} in a few minutes. Send the message again only if you are sure it was lost (that spends credits again).`,
        ),
      );
    }
    const result = this.result("completed", this.reply());
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
    switch (this.stopReason) {
      case "timeout":
        return new TimeoutError(
          `NemoVideo took longer than ${duration(this.limits.streamTimeoutMs)} on this message; it may still finish.`,
          NOT_AGAIN,
          { cause: err },
        );
      case "stalled":
        return new StreamFailedError(
          `NemoVideo sent only heartbeats for ${duration(this.limits.stallMs)}: the turn looks stalled, though it may still finish.`,
          NOT_AGAIN,
          { cause: err },
        );
      case "cancelled":
        return new CancelledError("The turn was cancelled.", undefined, { cause: err });
      default:
        if (err instanceof NemoError) return err;
        return new StreamFailedError(
          `The turn failed unexpectedly (${err instanceof Error ? err.message : String(err)}).`,
          NOT_AGAIN,
          { cause: err },
        );
    }
  }

  /** The error for a failure before the message went out: it says nothing was sent or spent. */
  private notSent(err: unknown): NemoError {
    if (this.stopReason || err instanceof NemoError) return this.stopped(err);
    return new StreamFailedError(
      `The message was not sent (no credits were spent): ${err instanceof Error ? err.message : String(err)}`,
      "Fix the cause, then send the message again.",
      { cause: err },
    );
  }

  private result(status: TurnResult["status"], reply: string): TurnResult {
    return {
      turnId: this.id,
      sessionId: this.sessionId,
      status,
      reply,
      activity: [...this.tools],
      durationMs: Date.now() - this.startedAt,
    };
  }

  private failure(status: "failed" | "cancelled", error: NemoError): TurnResult {
    const result = this.result(status, this.reply());
    const turnError: TurnError = { kind: error.kind, message: error.message };
    if (error.nextStep !== undefined) turnError.nextStep = error.nextStep;
    if (error.code !== undefined) turnError.code = error.code;
    result.error = turnError;
    Object.defineProperty(result, "cause", {
      value: error,
      enumerable: false,
      writable: true,
      configurable: true,
    });
    return result;
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
    // A finished turn keeps only its last updates for late iterators; the result holds what matters.
    if (this.updates.length > FINISHED_REPLAY_UPDATES)
      this.dropOldest(this.updates.length - FINISHED_REPLAY_UPDATES);
    this.state = result.status;
    this.resolveDone(result);
    this.notify();
  }

  private emit(update: TurnUpdate): void {
    if (this.state !== "running") return;
    this.updates.push(update);
    // A long stream (heartbeats, partial text) must not grow memory without bound: keep the recent part.
    if (this.updates.length > MAX_REPLAY_UPDATES) this.dropOldest(MAX_REPLAY_UPDATES / 2);
    try {
      this.onUpdate?.(update);
    } catch (err) {
      this.log.warn("A turn update listener failed", { turn: this.id, error: (err as Error).message });
    }
    this.notify();
  }

  private dropOldest(count: number): void {
    this.updates.splice(0, count);
    this.dropped += count;
  }

  private notify(): void {
    if (this.wake.length === 0) return;
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }
}

/** The error an `error` event stands for: out of credits, or a failed turn with the backend's words. */
function streamError(client: NemoClient, message: string, code: string | number | undefined): NemoError {
  const numeric =
    typeof code === "number" ? code : code !== undefined && /^\d+$/.test(code) ? Number(code) : undefined;
  const detail = message.replace(/\s+/g, " ").trim().slice(0, 300);
  if (numeric === 2001 || /\b(insufficient|not enough|no)\s+credits?\b/i.test(detail)) {
    return new NoCreditsError(client.errorContext(), detail ? `: ${detail}` : "");
  }
  return new StreamFailedError(
    `NemoVideo reported an error during the turn${numeric !== undefined ? ` (${numeric})` : ""}: ${detail || "no details"}.`,
    `Check ${act("check_state")} to see what was done, then rephrase the request or try again.`,
    numeric !== undefined ? { code: numeric } : {},
  );
}

/** True when a failed /run_sse request may have reached the backend (so the work may be under way). */
function mayHaveArrived(err: unknown): boolean {
  if (err instanceof TimeoutError) return true; // the headers never came
  // A gateway failure may come after the backend accepted the message: check the state, never re-send.
  if (err instanceof ServerError && (err.status === 502 || err.status === 504)) return true;
  if (!(err instanceof NetworkError)) return false;
  const cause = err.cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = String(cause?.code ?? cause?.cause?.code ?? "");
  return !NOT_CONNECTED.has(code);
}

function changed(before: Timeline, after: Timeline): boolean {
  return JSON.stringify(timelineToJSON(before)) !== JSON.stringify(timelineToJSON(after));
}

/** 900000 → "15 minutes", 45000 → "45 seconds", 500 → "500 ms". */
function duration(ms: number): string {
  if (ms >= 60_000) {
    const minutes = Math.round(ms / 6_000) / 10;
    return `${minutes} ${minutes === 1 ? "minute" : "minutes"}`;
  }
  if (ms >= 1_000) {
    const seconds = Math.round(ms / 100) / 10;
    return `${seconds} ${seconds === 1 ? "second" : "seconds"}`;
  }
  return `${ms} ms`;
}
