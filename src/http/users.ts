import { Sessions } from "../client/sessions.js";
import type { JobBus } from "../jobs/bus.js";
import { scopeBus } from "../jobs/bus.js";
import { Jobs } from "../jobs/jobs.js";
import { ScopedJobStore } from "../jobs/scoped-store.js";
import type { JobStore } from "../jobs/store.js";
import type { RequestUser } from "../request-context.js";
import type { Runtime } from "../runtime.js";
import type { ServerDeps } from "../server/context.js";

/** Users whose jobs and sessions stay built in memory; the least recently seen beyond it are rebuilt on demand. */
const MAX_USERS = 10_000;

/**
 * Each user's jobs and sessions over their scope of the shared job store: built on the user's
 * first request, reused while they keep coming, so their running turns stay reachable here.
 */
export class UserScopes {
  private readonly users = new Map<string, ServerDeps & { jobs: Jobs }>();

  constructor(
    private readonly runtime: Runtime,
    private readonly store: JobStore,
    private readonly bus: JobBus | undefined,
  ) {}

  /** The dependencies of one request of `user` (an owner hash names the scope; never the token). */
  depsFor(user: RequestUser | undefined, fallbackOwner: string): ServerDeps {
    const owner = user?.owner ?? fallbackOwner;
    const known = this.users.get(owner);
    if (known) {
      // most recently used last
      this.users.delete(owner);
      this.users.set(owner, known);
      return known;
    }
    const { runtime } = this;
    const store = new ScopedJobStore(this.store, owner);
    const sessions = new Sessions(runtime.client, store);
    const jobs = new Jobs({
      client: runtime.client,
      sessions,
      store,
      logger: runtime.logger,
      turnLimits: {
        streamTimeoutMs: runtime.config.streamTimeoutMs,
        stallMs: runtime.config.stallMs,
        recoveryPollMs: runtime.config.recoveryPollMs,
      },
      renderPollMs: runtime.config.renderPollMs,
      renderMaxPolls: runtime.config.renderMaxPolls,
      bus: this.bus ? scopeBus(this.bus, owner) : undefined,
    });
    const deps = { ...runtime, sessions, jobs };
    this.users.set(owner, deps);
    // Evicting a user never stops their work: running jobs go on, and are found again through the store.
    if (this.users.size > MAX_USERS) {
      const oldest = this.users.keys().next().value;
      if (oldest !== undefined) this.users.delete(oldest);
    }
    return deps;
  }

  /** Ends every wait in flight at once with the current view (first step of a shutdown). */
  drain(): void {
    for (const deps of this.users.values()) deps.jobs.drain();
  }

  /** Stops local work (shutdown): running turns stay "running" in the store for another instance to take over. */
  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.users.values()].map((deps) => deps.jobs.shutdown()));
  }
}
