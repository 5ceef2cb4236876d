import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StateStore } from "../../src/client/store.js";
import { MemoryJobStore } from "../../src/jobs/memory-store.js";
import type { ExportRecord, TurnRecord } from "../../src/jobs/records.js";
import { RedisJobBus } from "../../src/jobs/redis-bus.js";
import { RedisJobStore } from "../../src/jobs/redis-store.js";
import { ScopedJobStore } from "../../src/jobs/scoped-store.js";
import { StateDirJobStore } from "../../src/jobs/state-dir-store.js";
import type { JobStore } from "../../src/jobs/store.js";
import { silentLogger } from "../../src/log.js";
import { type RedisServer, startRedis } from "../helpers/http-instances.js";

const turn = (id: string, status: TurnRecord["status"] = "running"): TurnRecord => ({
  kind: "turn",
  status,
  turn_id: id,
  session_id: "sess-1",
  reply: "",
  activity: [],
  started_at: 1,
});
const exported = (ids: string[]): ExportRecord => ({
  kind: "export",
  status: "rendering",
  render_id: ids[0] ?? "",
  render_ids: ids,
  session_id: "sess-1",
  output_dir: "",
});
const session = { sessionId: "sess-1", taskId: "task-1", language: "en", createdAt: 5 };

let redis: RedisServer;
let connection: Redis;
let dir: string;
beforeAll(async () => {
  redis = await startRedis();
  connection = new Redis(redis.url);
  dir = await mkdtemp(join(tmpdir(), "nemo-stores-"));
});
afterAll(async () => {
  connection?.disconnect();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const stores: Array<[string, () => JobStore]> = [
  ["memory", () => new MemoryJobStore()],
  ["redis", () => new RedisJobStore(connection, `t${Math.random().toString(36).slice(2)}:`)],
  [
    "state directory",
    () => new StateDirJobStore(new StateStore(join(dir, Math.random().toString(36).slice(2)))),
  ],
  ["scoped (over redis)", () => new ScopedJobStore(new RedisJobStore(connection, "scoped:"), "owner1")],
];

describe.each(stores)("the %s job store", (_name, make) => {
  it("saves and loads turns, exports under every render id, and current sessions", async () => {
    const store = make();
    await store.saveTurn(turn("t1"));
    expect(await store.loadTurn("t1")).toMatchObject({ turn_id: "t1", status: "running" });
    expect(await store.loadTurn("nope")).toBeUndefined();
    await store.saveExport(exported(["r1", "r2"]));
    expect(await store.loadExport("r2")).toMatchObject({ render_id: "r1", render_ids: ["r1", "r2"] });
    expect(await store.loadExport("r3")).toBeUndefined();
    expect(await store.loadTurn("r1")).toBeUndefined();
    await store.setSession("http://api", "skill", session);
    expect(await store.getSession("http://api", "skill")).toMatchObject({ sessionId: "sess-1" });
    await store.setSession("http://api", "skill", undefined);
    expect(await store.getSession("http://api", "skill")).toBeUndefined();
  });

  it("lets one turn at a time hold a session", async () => {
    const store = make();
    await store.saveTurn(turn("t1"));
    expect(await store.claimTurn("sess-9", "t1")).toBeUndefined();
    expect(await store.claimTurn("sess-9", "t1")).toBeUndefined();
    expect(await store.claimTurn("sess-9", "t2")).toBe("t1");
    await store.releaseTurn("sess-9", "t2");
    expect(await store.claimTurn("sess-9", "t2")).toBe("t1");
    await store.releaseTurn("sess-9", "t1");
    expect(await store.claimTurn("sess-9", "t2")).toBeUndefined();
  });
});

describe("isolation and Redis specifics", () => {
  it("a scope sees only its own owner's records, sessions and guards", async () => {
    const shared = new RedisJobStore(connection, "iso:");
    const a = new ScopedJobStore(shared, "ownerA");
    const b = new ScopedJobStore(shared, "ownerB");
    await a.saveTurn(turn("t1"));
    await a.saveExport(exported(["r1"]));
    await a.setSession("http://api", "skill", session);
    expect(await b.loadTurn("t1")).toBeUndefined();
    expect(await b.loadExport("r1")).toBeUndefined();
    expect(await b.getSession("http://api", "skill")).toBeUndefined();
    expect(await a.claimTurn("sess-1", "t1")).toBeUndefined();
    expect(await b.claimTurn("sess-1", "t9")).toBeUndefined();
    const keys = await connection.keys("iso:*");
    expect(keys.every((k) => k.includes("ownerA") || k.includes("ownerB"))).toBe(true);
  });

  it("a guard whose turn has finished is taken by the next turn (a guard left by a crash never blocks forever)", async () => {
    const store = new RedisJobStore(connection, "stale:");
    await store.saveTurn(turn("t1"));
    expect(await store.claimTurn("sess-1", "t1")).toBeUndefined();
    expect(await store.claimTurn("sess-1", "t2")).toBe("t1");
    await store.saveTurn(turn("t1", "completed"));
    expect(await store.claimTurn("sess-1", "t2")).toBeUndefined();
  });
});

describe("the Redis job bus", () => {
  const buses: RedisJobBus[] = [];
  const connections: Redis[] = [];
  const bus = async (instanceId: string, takeoverMs = 300) => {
    const subscriber = new Redis(redis.url);
    connections.push(subscriber);
    const made = await RedisJobBus.start({
      redis: connection,
      subscriber,
      instanceId,
      takeoverMs,
      logger: silentLogger,
      prefix: `bus${Math.random().toString(36).slice(2)}:`,
    });
    buses.push(made);
    return made;
  };
  afterAll(() => {
    for (const b of buses) b.stop();
    for (const c of connections) c.disconnect();
  });

  it("fans out updates, tells followers when a job finished, and runs a cancel asked from elsewhere", async () => {
    const one = await bus("one");
    // a second bus on the same prefix: the other instance
    const subscriber = new Redis(redis.url);
    connections.push(subscriber);
    const prefix = (one as unknown as { prefix: string }).prefix;
    const two = await RedisJobBus.start({
      redis: connection,
      subscriber,
      instanceId: "two",
      takeoverMs: 300,
      logger: silentLogger,
      prefix,
    });
    buses.push(two);
    let cancelled = 0;
    const lease = one.hold("job1", () => {
      cancelled++;
    });
    expect(await two.isHeld("job1")).toBe(true);
    expect(await two.takeOver("job1")).toBe(false);
    const updates: unknown[] = [];
    const followed = two.follow("job1", 5_000, undefined, (u) => updates.push(u));
    await new Promise((r) => setTimeout(r, 100));
    lease.publish({ type: "tool", name: "add_music" });
    await two.requestCancel("job1");
    await new Promise((r) => setTimeout(r, 100));
    expect(cancelled).toBe(1);
    await lease.release(true);
    expect(await followed).toBe("finished");
    expect(updates).toEqual([{ type: "tool", name: "add_music" }]);
    expect(await two.isHeld("job1")).toBe(false);
  });

  it("keeps a lease alive by heartbeat; once its instance stops, followers see it orphaned and one instance takes it over", async () => {
    const one = await bus("one", 300);
    const prefix = (one as unknown as { prefix: string }).prefix;
    const others = await Promise.all(
      ["two", "three"].map(async (id) => {
        const subscriber = new Redis(redis.url);
        connections.push(subscriber);
        const made = await RedisJobBus.start({
          redis: connection,
          subscriber,
          instanceId: id,
          takeoverMs: 300,
          logger: silentLogger,
          prefix,
        });
        buses.push(made);
        return made;
      }),
    );
    one.hold("job2", () => {});
    await new Promise((r) => setTimeout(r, 700));
    expect(await others[0]!.isHeld("job2")).toBe(true);
    one.stop(); // the instance dies: no more heartbeats
    const started = Date.now();
    expect(await others[0]!.follow("job2", 5_000)).toBe("orphaned");
    expect(Date.now() - started).toBeLessThan(1_000);
    const won = await Promise.all(others.map((o) => o.takeOver("job2")));
    expect(won.filter(Boolean)).toHaveLength(1);
  });
});
