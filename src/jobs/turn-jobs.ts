import { randomUUID } from "node:crypto";
import { act } from "../client/actions.js";
import type { TurnBaseline } from "../client/baseline.js";
import type { NemoClient } from "../client/client.js";
import { InvalidInputError, SessionNotFoundError } from "../client/errors.js";
import type { Sessions } from "../client/sessions.js";
import type { Turn, TurnLimits, TurnResult, TurnUpdate } from "../client/turns.js";
import type { Logger } from "../log.js";
import type { FollowOutcome, JobBus, JobLease } from "./bus.js";
import { recordedView, turnRecord } from "./records.js";
import type { JobStore } from "./store.js";
import { lostTurnView, type TurnView, turnView } from "./views.js";
import { boundedWait } from "./wait.js";

const MAX_FINISHED_IN_MEMORY = 50;
/** How long cancelling a turn waits for another instance to close the turn's stream and record the outcome. */
const REMOTE_CANCEL_WAIT_MS = 10_000;

// Loaded on first use, so that starting the server stays fast.
const turnsModule = () => import("../client/turns.js");

/** What turn jobs need. */
interface TurnJobsOptions {
  client: NemoClient;
  sessions: Sessions;
  store: JobStore;
  logger: Logger;
  limits: TurnLimits;
  /** Coordination with other instances (Redis); absent when this process holds every turn. */
  bus?: JobBus | undefined;
}

/** What one turn is started with. */
interface TurnStart {
  sessionId: string;
  message: string;
  /** Caps this turn's stream time below the configured limit. */
  streamTimeoutMs?: number | undefined;
  onUpdate?: ((u: TurnUpdate) => void) | undefined;
}

/**
 * Turns as background jobs: they outlive the call that started them, are picked up by id with
 * bounded waits, and are recorded in the job store (running, then finished).
 */
export class TurnJobs {
  private readonly turns = new Map<string, Turn>();
  /** Each turn's result after post-processing (1002 replacement, persistence); what waiters see. */
  private readonly results = new Map<string, Promise<TurnResult>>();
  /** Baselines of running turns, kept in their records until they finish. */
  private readonly baselines = new Map<string, TurnBaseline>();
  private stopping = false;
  /** Aborted when the process stops: waits return the current view at once. */
  private readonly draining = new AbortController();

  constructor(private readonly options: TurnJobsOptions) {}

  /** Starts a turn; refuses while another turn of the same session is still running. */
  async start(request: TurnStart): Promise<Turn> {
    const { startTurn } = await turnsModule();
    const { store } = this.options;
    const turnId = randomUUID();
    const holder = await store.claimTurn(request.sessionId, turnId);
    if (holder !== undefined) {
      // a turn of an ended process still holds the session: recover it now, so the guard ends with it
      if (!this.turns.has(holder) && (await this.resumable(holder))) {
        throw new InvalidInputError(
          `A message sent before the server restarted may still be worked on in this session (turn ${holder}); sending another now could run and charge the work twice.`,
          `Wait for it with ${act("resume_turn")} (turn_id "${holder}"): it is being recovered from the timeline, never re-sent.`,
        );
      }
      throw new InvalidInputError(
        `A message is still being worked on in this session (turn ${holder}); sending another now could run and charge the work twice.`,
        `Wait for it with ${act("resume_turn")} (turn_id "${holder}"), or stop it with ${act("stop_turn")}.`,
      );
    }
    let turn: Turn;
    let saved: Promise<void> = Promise.resolve();
    try {
      const limits =
        request.streamTimeoutMs === undefined
          ? this.options.limits
          : {
              ...this.options.limits,
              streamTimeoutMs: Math.min(this.options.limits.streamTimeoutMs, request.streamTimeoutMs),
            };
      turn = startTurn(this.options.client, {
        sessionId: request.sessionId,
        message: request.message,
        limits,
        turnId,
        // the record holds what recovery needs before the message is sent
        onBaseline: (baseline) => {
          saved = saved.then(() => this.persist(turn, undefined, baseline));
          return saved;
        },
        ...(request.onUpdate ? { onUpdate: request.onUpdate } : {}),
      });
    } catch (err) {
      await store.releaseTurn(request.sessionId, turnId);
      throw err;
    }
    saved = this.persist(turn, undefined);
    this.follow(turn);
    return turn;
  }

  private follow(turn: Turn): void {
    this.turns.set(turn.id, turn);
    const lease = this.share(turn);
    this.results.set(
      turn.id,
      turn.done.then((result) => this.finish(turn, result, lease)),
    );
  }

  /** With other instances: hold the turn's lease, and pass its updates to whoever follows it elsewhere. */
  private share(turn: Turn): JobLease | undefined {
    const lease = this.options.bus?.hold(turn.id, () => turn.cancel());
    if (lease) {
      void (async () => {
        for await (const update of turn) if (update.type !== "finished") lease.publish(update);
      })().catch(() => {});
    }
    return lease;
  }

  /**
   * A turn an ended process left running, recovered by polling the state against its saved baseline (never
   * re-sent); undefined when the record is unknown, finished, or too old to carry a baseline.
   */
  private async resumable(turnId: string): Promise<Turn | undefined> {
    const live = this.turns.get(turnId);
    if (live) return live;
    const record = await this.options.store.loadTurn(turnId);
    if (record?.status !== "running" || !record.baseline) return undefined;
    // With other instances: only a turn whose instance died, and only by the one instance that takes it over.
    const bus = this.options.bus;
    if (bus && ((await bus.isHeld(turnId)) || !(await bus.takeOver(turnId)))) return undefined;
    // parsed by BaselineSchema: the same shape, optional fields read as `| undefined`
    const baseline = record.baseline as TurnBaseline;
    const { resumeTurn } = await turnsModule();
    const again = this.turns.get(turnId);
    if (again) return again;
    this.options.logger.info(`Recovering turn ${turnId} from the session state (it is never re-sent).`);
    const turn = resumeTurn(this.options.client, {
      turnId,
      sessionId: record.session_id,
      startedAt: record.started_at ?? Date.now(),
      baseline,
      limits: this.options.limits,
    });
    this.baselines.set(turnId, baseline);
    // the session stays claimed by this turn until its recovery ends
    await this.options.store.claimTurn(record.session_id, turnId).catch(() => undefined);
    this.follow(turn);
    return turn;
  }

  private async finish(turn: Turn, result: TurnResult, lease?: JobLease): Promise<TurnResult> {
    if (result.cause instanceof SessionNotFoundError) {
      // the current session is replaced (and says so); an unknown explicit id changes nothing
      await this.options.sessions.vanished(result.cause, { sessionId: turn.sessionId, language: "en" });
      if (result.cause.newSessionId || result.cause.unknownId) {
        result.error = {
          kind: result.cause.kind,
          message: result.cause.message,
          ...(result.cause.nextStep ? { nextStep: result.cause.nextStep } : {}),
          code: 1002,
        };
      }
    }
    // Stopped by a shutdown: the record keeps saying "running" (with its baseline), so the next run recovers it.
    // Its lease ends at once, so another instance takes it over without waiting for NEMO_TAKEOVER_MS.
    if (this.stopping && result.status === "cancelled") {
      await lease?.release(false);
      return result;
    }
    await this.persist(turn, result);
    await this.options.store.releaseTurn(turn.sessionId, turn.id).catch(() => {});
    await lease?.release(true);
    this.evictFinished();
    return result;
  }

  /** Keeps at most MAX_FINISHED_IN_MEMORY finished turns in memory; older ones are read from the store. */
  private evictFinished(): void {
    const finished = [...this.turns.values()].filter((t) => t.status !== "running");
    for (const turn of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_IN_MEMORY))) {
      this.turns.delete(turn.id);
      this.results.delete(turn.id);
    }
  }

  private async persist(turn: Turn, result: TurnResult | undefined, baseline?: TurnBaseline): Promise<void> {
    if (baseline) this.baselines.set(turn.id, baseline);
    const known = result ? undefined : this.baselines.get(turn.id);
    if (result) this.baselines.delete(turn.id);
    try {
      await this.options.store.saveTurn(turnRecord(turn, turnView(turn, result), known));
    } catch (err) {
      this.options.logger.warn(`Could not save turn ${turn.id}: ${(err as Error).message}`);
    }
  }

  /** Waits up to `waitMs` for a turn (in memory, or recorded by an earlier run). */
  async wait(
    turnId: string,
    waitMs: number,
    signal?: AbortSignal,
    onUpdate?: (u: TurnUpdate) => void,
  ): Promise<TurnView> {
    const stop = signal ? AbortSignal.any([signal, this.draining.signal]) : this.draining.signal;
    const startedAt = Date.now();
    let turn = this.turns.get(turnId) ?? (await this.resumable(turnId));
    // Running on another instance: follow it there; if that instance dies, take the turn over (or
    // follow whichever instance did), a bounded number of times.
    for (let round = 0; !turn && round < 3; round++) {
      const left = Math.max(0, waitMs - (Date.now() - startedAt));
      if ((await this.followElsewhere(turnId, left, stop, onUpdate)) !== "orphaned") break;
      turn = await this.resumable(turnId);
    }
    if (!turn) return this.recorded(turnId);
    const live = turn;
    let stopFollowing = false;
    if (onUpdate) {
      void (async () => {
        for await (const update of live) {
          if (stopFollowing) break;
          onUpdate(update);
        }
      })().catch(() => {});
    }
    try {
      const finished = this.results.get(turnId) ?? live.done;
      let result: TurnResult | undefined;
      void finished.then((r) => {
        result = r;
      });
      await boundedWait(finished, Math.max(0, waitMs - (Date.now() - startedAt)), stop);
      return turnView(live, result);
    } finally {
      stopFollowing = true;
    }
  }

  /** Follows a turn another instance is running, through the bus; undefined when there is none to follow. */
  private async followElsewhere(
    turnId: string,
    waitMs: number,
    signal: AbortSignal,
    onUpdate?: (u: TurnUpdate) => void,
  ): Promise<FollowOutcome | undefined> {
    const bus = this.options.bus;
    if (!bus || (await this.options.store.loadTurn(turnId))?.status !== "running") return undefined;
    return bus.follow(
      turnId,
      waitMs,
      signal,
      onUpdate ? (update) => onUpdate(update as TurnUpdate) : undefined,
    );
  }

  private async recorded(turnId: string): Promise<TurnView> {
    const record = await this.options.store.loadTurn(turnId);
    if (!record) {
      throw new InvalidInputError(
        `No turn with id "${turnId}" is known.`,
        `Use the turn_id that ${act("send")} returned.`,
      );
    }
    const view = recordedView(record);
    // Running on another instance, or its stream belonged to a process that has ended.
    if (view.status !== "running" || (await this.options.bus?.isHeld(turnId))) return view;
    return lostTurnView(view);
  }

  /** The final view of a turn, once it has finished. */
  async final(turnId: string): Promise<TurnView> {
    const turn = this.turns.get(turnId);
    const finished = this.results.get(turnId);
    if (!turn || !finished) return this.recorded(turnId);
    return turnView(turn, await finished);
  }

  /** Cancels a running turn; returns its final status. */
  async cancel(turnId: string): Promise<TurnView["status"]> {
    const turn = this.turns.get(turnId) ?? (await this.resumable(turnId));
    if (!turn) return this.cancelElsewhere(turnId);
    if (turn.status === "running") turn.cancel();
    const result = await (this.results.get(turnId) ?? turn.done);
    return result.status;
  }

  /** Asks the instance that holds the turn to cancel it, and waits (bounded) for the outcome. */
  private async cancelElsewhere(turnId: string): Promise<TurnView["status"]> {
    const bus = this.options.bus;
    const record = await this.options.store.loadTurn(turnId);
    if (bus && record?.status === "running" && (await bus.isHeld(turnId))) {
      await bus.requestCancel(turnId);
      await bus.follow(turnId, REMOTE_CANCEL_WAIT_MS);
      const latest = await this.options.store.loadTurn(turnId);
      if (latest && latest.status !== "running") return latest.status;
    }
    return (await this.recorded(turnId)).status;
  }

  /** Ends every wait now with the current view (first step of a shutdown); the turns go on. */
  drain(): void {
    this.draining.abort();
  }

  /** Stops every running turn (process shutdown); their records stay "running" for a takeover or the next run. */
  shutdown(): Promise<void> {
    this.stopping = true;
    const stopped: Promise<unknown>[] = [];
    for (const turn of this.turns.values()) {
      if (turn.status !== "running") continue;
      turn.cancel();
      stopped.push(this.results.get(turn.id) ?? turn.done);
    }
    return Promise.allSettled(stopped).then(() => {});
  }
}
