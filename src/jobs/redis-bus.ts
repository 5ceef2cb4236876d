import type { Redis } from "ioredis";
import type { Logger } from "../log.js";
import type { FollowOutcome, JobBus, JobLease } from "./bus.js";

/** Renews a lease only while this instance holds it (or nobody does). */
const RENEW_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

/** Deletes a lease only when this instance holds it. */
const DROP_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

const FINISHED = JSON.stringify({ type: "finished" });

interface RedisJobBusOptions {
  /** Connection for commands and publishing. */
  redis: Redis;
  /** A second connection, used only for subscriptions. */
  subscriber: Redis;
  /** This instance's id (written into leases). */
  instanceId: string;
  /** A holder silent this long is presumed dead (NEMO_TAKEOVER_MS). */
  takeoverMs: number;
  logger: Logger;
  prefix?: string;
}

/**
 * The job bus over Redis: leases `<prefix>lease:<id>` renewed every third of NEMO_TAKEOVER_MS,
 * updates published on `<prefix>job:<id>`, cancel requests on `<prefix>cancel`.
 */
export class RedisJobBus implements JobBus {
  private readonly held = new Map<string, () => void>();
  private readonly listeners = new Map<string, Set<(message: string) => void>>();
  private readonly prefix: string;
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(private readonly options: RedisJobBusOptions) {
    this.prefix = options.prefix ?? "nemo:";
  }

  /** Connects the subscriber (cancel requests) and returns the bus. */
  static async start(options: RedisJobBusOptions): Promise<RedisJobBus> {
    const bus = new RedisJobBus(options);
    options.subscriber.on("message", (channel: string, message: string) => bus.dispatch(channel, message));
    await options.subscriber.subscribe(`${bus.prefix}cancel`);
    return bus;
  }

  private dispatch(channel: string, message: string): void {
    if (channel === `${this.prefix}cancel`) {
      const cancel = this.held.get(message);
      if (cancel) {
        this.options.logger.info(`Cancelling job ${message} at another instance's request.`);
        cancel();
      }
      return;
    }
    for (const listener of this.listeners.get(channel) ?? []) listener(message);
  }

  private leaseKey(id: string): string {
    return `${this.prefix}lease:${id}`;
  }

  private renew(id: string): Promise<unknown> {
    const { redis, instanceId, takeoverMs } = this.options;
    return redis.eval(RENEW_SCRIPT, 1, this.leaseKey(id), instanceId, String(takeoverMs));
  }

  private beat(): void {
    if (this.heartbeat || this.held.size === 0) return;
    const every = Math.max(20, Math.floor(this.options.takeoverMs / 3));
    this.heartbeat = setInterval(() => {
      if (this.held.size === 0) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
        return;
      }
      for (const id of this.held.keys()) {
        this.renew(id).then(
          (kept) => {
            if (kept === 0) this.options.logger.warn(`Job ${id} was taken over by another instance.`);
          },
          (err: unknown) =>
            this.options.logger.warn(`Could not renew the lease of job ${id}: ${String(err)}`),
        );
      }
    }, every);
  }

  hold(id: string, cancel: () => void): JobLease {
    this.held.set(id, cancel);
    void this.renew(id).catch(() => {});
    this.beat();
    const channel = `${this.prefix}job:${id}`;
    const { redis, instanceId } = this.options;
    return {
      publish: (update) => {
        void redis.publish(channel, JSON.stringify(update)).catch(() => {});
      },
      release: async (finished) => {
        this.held.delete(id);
        await redis.eval(DROP_SCRIPT, 1, this.leaseKey(id), instanceId).catch(() => {});
        if (finished) await redis.publish(channel, FINISHED).catch(() => {});
      },
    };
  }

  async isHeld(id: string): Promise<boolean> {
    return (await this.options.redis.exists(this.leaseKey(id))) === 1;
  }

  async takeOver(id: string): Promise<boolean> {
    const { redis, instanceId, takeoverMs } = this.options;
    const won = await redis.set(this.leaseKey(id), instanceId, "PX", takeoverMs, "NX");
    if (won === "OK") this.options.logger.info(`Taking over job ${id}: the instance that held it is gone.`);
    return won === "OK";
  }

  async follow(
    id: string,
    ms: number,
    signal?: AbortSignal,
    onUpdate?: (update: unknown) => void,
  ): Promise<FollowOutcome> {
    const channel = `${this.prefix}job:${id}`;
    let settle: (outcome: FollowOutcome) => void = () => {};
    const outcome = new Promise<FollowOutcome>((resolve) => {
      settle = resolve;
    });
    const listener = (message: string) => {
      if (message === FINISHED) return settle("finished");
      try {
        onUpdate?.(JSON.parse(message) as unknown);
      } catch {
        // an update that cannot be read is skipped
      }
    };
    await this.listen(channel, listener);
    const onAbort = () => settle("aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => settle("timeout"), Math.max(0, ms));
    // The holder's lease lapses when its instance dies; look often enough to notice within NEMO_TAKEOVER_MS.
    const every = Math.min(5_000, Math.max(20, Math.floor(this.options.takeoverMs / 4)));
    const check = async () => {
      if (!(await this.isHeld(id).catch(() => true))) settle("orphaned");
    };
    const watcher = setInterval(() => void check(), every);
    void check();
    if (signal?.aborted) settle("aborted");
    try {
      return await outcome;
    } finally {
      clearTimeout(timer);
      clearInterval(watcher);
      signal?.removeEventListener("abort", onAbort);
      await this.unlisten(channel, listener);
    }
  }

  private async listen(channel: string, listener: (message: string) => void): Promise<void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      set.add(listener);
      await this.options.subscriber.subscribe(channel);
      return;
    }
    set.add(listener);
  }

  private async unlisten(channel: string, listener: (message: string) => void): Promise<void> {
    const set = this.listeners.get(channel);
    if (!set) return;
    set.delete(listener);
    if (set.size === 0) {
      this.listeners.delete(channel);
      await this.options.subscriber.unsubscribe(channel).catch(() => {});
    }
  }

  async requestCancel(id: string): Promise<void> {
    await this.options.redis.publish(`${this.prefix}cancel`, id);
  }

  /** Stops the heartbeat (leases then lapse, and other instances take the jobs over). */
  stop(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
