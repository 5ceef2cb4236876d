import type { NemoClient } from "../client/client.js";
import type { Sessions } from "../client/sessions.js";
import type { TurnLimits } from "../client/turns.js";
import type { Logger } from "../log.js";
import type { JobBus } from "./bus.js";
import { ExportJobs } from "./export-jobs.js";
import type { JobStore } from "./store.js";
import { TurnJobs } from "./turn-jobs.js";

/** What the job layer is built from. */
export interface JobsOptions {
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
    const { turnLimits, renderPollMs, renderMaxPolls, bus, ...shared } = options;
    this.store = options.store;
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
