import { randomBytes, randomUUID } from "node:crypto";
import type { Config } from "../config.js";
import { ConfigError } from "../config.js";
import type { JobBus } from "../jobs/bus.js";
import { MemoryJobStore } from "../jobs/memory-store.js";
import type { JobStore } from "../jobs/store.js";
import type { Logger } from "../log.js";
import { createRuntime } from "../runtime.js";
import { isLoopbackHost } from "./auth.js";
import { LOCAL_OWNER, startHttpFace } from "./server.js";
import { UserScopes } from "./users.js";

/** How long a stopping instance lets requests in flight finish before closing their sockets. */
const STOP_GRACE_MS = 10_000;
/** How long start-up waits for Redis before giving up with a clear error. */
const REDIS_CONNECT_MS = 10_000;

/** Waits for `work`, at most `ms`. */
async function within(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

interface SharedState {
  store: JobStore;
  bus: JobBus | undefined;
  secret: string;
  kind: "redis" | "memory";
  close(): Promise<void>;
}

/** The job store: Redis (shared by every instance) with NEMO_REDIS_URL, else this process's memory. */
async function openSharedState(config: Config, logger: Logger): Promise<SharedState> {
  if (!config.redisUrl) {
    return {
      store: new MemoryJobStore(),
      bus: undefined,
      secret: config.httpSecret ?? randomBytes(32).toString("hex"),
      kind: "memory",
      close: async () => {},
    };
  }
  const [{ Redis }, { RedisJobStore }, { RedisJobBus }] = await Promise.all([
    import("ioredis"),
    import("../jobs/redis-store.js"),
    import("../jobs/redis-bus.js"),
  ]);
  const options = { lazyConnect: true, connectTimeout: REDIS_CONNECT_MS, maxRetriesPerRequest: 3 };
  const redis = new Redis(config.redisUrl, options);
  const subscriber = new Redis(config.redisUrl, options);
  for (const connection of [redis, subscriber]) {
    connection.on("error", (err: Error) => logger.warn(`Redis: ${err.message}`));
  }
  try {
    await Promise.all([redis.connect(), subscriber.connect()]);
  } catch (err) {
    redis.disconnect();
    subscriber.disconnect();
    throw new ConfigError(
      `Could not connect to Redis at NEMO_REDIS_URL (${(err as Error).message}). Check that it runs and the URL is right.`,
    );
  }
  // Every instance must hash one token to one owner: the key comes from NEMO_HTTP_SECRET, else the first
  // instance makes one and keeps it in Redis.
  let secret = config.httpSecret;
  if (!secret) {
    await redis.set("nemo:secret", randomBytes(32).toString("hex"), "NX");
    secret = (await redis.get("nemo:secret")) ?? undefined;
    if (!secret) throw new ConfigError("Could not read the owner-hash key from Redis.");
  }
  const bus = await RedisJobBus.start({
    redis,
    subscriber,
    instanceId: randomUUID(),
    takeoverMs: config.takeoverMs,
    logger,
  });
  return {
    store: new RedisJobStore(redis),
    bus,
    secret,
    kind: "redis",
    close: async () => {
      bus.stop();
      await Promise.allSettled([redis.quit(), subscriber.quit()]);
    },
  };
}

/** `nemovideo-mcp --http`: serves Streamable HTTP until SIGTERM/SIGINT, then stops gracefully. */
export async function serveHttp(config: Config, logger: Logger, auth: "bearer" | "none"): Promise<void> {
  if (auth === "none" && !isLoopbackHost(config.httpHost)) {
    throw new ConfigError(
      `--http-auth none is only allowed on a loopback host (127.0.0.1, ::1, localhost), not on "${config.httpHost}": ` +
        "without a bearer every caller would act with this machine's token.",
    );
  }
  const runtime = await createRuntime(config, logger, { hosted: true, requestTokensOnly: auth === "bearer" });
  const shared = await openSharedState(config, logger);
  const users = new UserScopes(runtime, shared.store, shared.bus);
  const face = await startHttpFace({
    host: config.httpHost,
    port: config.httpPort,
    auth,
    secret: shared.secret,
    store: shared.kind,
    version: runtime.version,
    skills: runtime.skills,
    logger,
    depsFor: (user) => users.depsFor(user, LOCAL_OWNER),
  });
  logger.info(
    `nemovideo-mcp ${runtime.version} serving Streamable HTTP on ${face.url}/mcp (auth ${auth}, store ${shared.kind}, skill ${runtime.skill.name}@${runtime.skill.version}, API ${config.apiUrl}).`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  logger.info("Stopping: no new requests; running jobs are left for another instance to take over.");
  // Waits in flight answer now with what they have (status running/rendering and the id)...
  users.drain();
  await face.stop(STOP_GRACE_MS);
  // ...then local streams stop; their records stay running and their leases end, so another instance recovers them.
  await within(STOP_GRACE_MS, users.shutdown());
  await runtime.store.flush();
  await shared.close();
}
