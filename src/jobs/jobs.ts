import type { NemoClient } from "../client/client.js";
import type { Sessions } from "../client/sessions.js";
import type { TurnLimits } from "../client/turns.js";
import { type Logger, redactDeep } from "../log.js";
import type { JobBus } from "./bus.js";
import { ExportJobs } from "./export-jobs.js";
import type { ExportRecord, TurnRecord } from "./records.js";
import type { JobStore } from "./store.js";
import { TurnJobs } from "./turn-jobs.js";

/** What the job layer is built from. */
interface JobsOptions {
  client: NemoClient;
  sessions: Sessions;
  store: JobStore;
  logger: Logger;
  turnLimits: TurnLimits;
  renderPollMs: number;
  renderMaxPolls: number;
  /** Coordination with other instances (Redis); absent when this process holds every job. */
  bus?: JobBus | undefined;
}

/** The application layer both faces use: turn jobs and export jobs over one job store. */
export class Jobs {
  /** Messages to the backend agent. */
  readonly turns: TurnJobs;
  /** Renders and their downloads. */
  readonly exports: ExportJobs;
  /** Where records, current sessions and the running-turn guard are kept. */
  readonly store: JobStore;

  constructor(options: JobsOptions) {
    const { turnLimits, renderPollMs, renderMaxPolls, bus, ...rest } = options;
    // Every record is redacted once on its way into the store, whatever the store is.
    const shared = { ...rest, store: new RedactingJobStore(options.store) };
    this.store = shared.store;
    this.turns = new TurnJobs({ ...shared, limits: turnLimits, bus });
    this.exports = new ExportJobs({ ...shared, renderPollMs, renderMaxPolls });
  }

  /** Ends every wait at once with the current view (before a shutdown), so callers get an answer. */
  drain(): void {
    this.turns.drain();
    this.exports.drain();
  }

  /** Aborts all local work (process shutdown); running exports stay "rendering" in the store. */
  shutdown(): Promise<void> {
    this.exports.shutdown();
    return this.turns.shutdown();
  }
}

/** A job store that redacts every string of a record before it is saved. */
class RedactingJobStore implements JobStore {
  constructor(private readonly inner: JobStore) {}
  saveTurn(record: TurnRecord): Promise<void> {
    return this.inner.saveTurn(redactDeep(record));
  }
  loadTurn(turnId: string): Promise<TurnRecord | undefined> {
    return this.inner.loadTurn(turnId);
  }
  saveExport(record: ExportRecord): Promise<void> {
    return this.inner.saveExport(redactDeep(record));
  }
  loadExport(renderId: string): Promise<ExportRecord | undefined> {
    return this.inner.loadExport(renderId);
  }
  claimTurn(sessionId: string, turnId: string): Promise<string | undefined> {
    return this.inner.claimTurn(sessionId, turnId);
  }
  releaseTurn(sessionId: string, turnId: string): Promise<void> {
    return this.inner.releaseTurn(sessionId, turnId);
  }
  getSession: JobStore["getSession"] = (apiUrl, skill) => this.inner.getSession(apiUrl, skill);
  setSession: JobStore["setSession"] = (apiUrl, skill, session) =>
    this.inner.setSession(apiUrl, skill, session);
  flush(): Promise<void> {
    return this.inner.flush();
  }
}
