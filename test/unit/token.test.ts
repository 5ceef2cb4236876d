import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TokenProvider } from "../../src/client/auth.js";
import { MissingClientIdError, RateLimitError } from "../../src/client/errors.js";
import { StateStore } from "../../src/client/store.js";
import { Logger } from "../../src/log.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";

const TOKEN = "/api/auth/anonymous-token";
const SKILL = { name: "ai-voiceover-for", version: "1.0.0", platform: "unknown" };

let sandbox: Sandbox;
let dir: string;
let logs: string[];

function provider(options: { store?: StateStore; userToken?: string; clientId?: string } = {}) {
  const logger = new Logger("debug", (line) => logs.push(line.trim()));
  return new TokenProvider({
    http: { apiUrl: sandbox.url, skill: SKILL, logger },
    store: options.store ?? new StateStore(dir),
    webUrl: "https://nemovideo.test",
    userToken: options.userToken,
    clientId: options.clientId,
    retry429Ms: 30_000,
    requestTimeoutMs: 10_000,
  });
}

const tokenRequests = () => sandbox.requests.filter((r) => r.path === TOKEN);

/** Lets real I/O run (fake timers leave setImmediate alone) until `done()` holds, for at most 10 s. */
async function until(done: () => boolean): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!done() && performance.now() < deadline) await new Promise((r) => setImmediate(r));
  expect(done(), logs.join("\n")).toBe(true);
}

beforeEach(async () => {
  sandbox = await startSandbox({ stepMs: 0 });
  dir = await mkdtemp(join(tmpdir(), "nemo-token-"));
  logs = [];
});

afterEach(async () => {
  vi.useRealTimers();
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

describe("HTTP 429 on the token request: the one retry policy", { timeout: 20_000 }, () => {
  it.each([
    ["7", 7_000],
    ["3600", 120_000],
  ])("Retry-After: %s waits %i ms, then asks once more", async (retryAfter, waitMs) => {
    sandbox.inject({
      endpoint: "token",
      kind: { type: "http", status: 429, headers: { "retry-after": retryAfter } },
    });
    const tokens = provider();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const active = tokens.get();
    await until(() => logs.some((l) => l.includes("Rate limited")));
    expect(logs).toContain(
      `[nemovideo-mcp] warning: Rate limited (HTTP 429); retrying once in ${waitMs} ms.`,
    );
    await vi.advanceTimersByTimeAsync(waitMs - 1);
    expect(tokenRequests()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const token = await active;
    expect(tokenRequests()).toHaveLength(2);
    expect(tokens.requests).toBe(2);
    expect(token.anonymous).toBe(true);
    expect((await new StateStore(dir).getToken(sandbox.url))?.token).toBe(token.token);
  });

  it("429 twice: a RateLimitError that names the weekly limit and keeps the asked wait", async () => {
    sandbox.inject({
      endpoint: "token",
      times: 2,
      kind: { type: "http", status: 429, headers: { "retry-after": "1" } },
    });
    const tokens = provider();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const failed = tokens.get().catch((e: unknown) => e);
    await until(() => logs.some((l) => l.includes("Rate limited")));
    await vi.advanceTimersByTimeAsync(1_000);
    const err = await failed;
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).message).toMatch(/anonymous token: one is issued per client every 7 days/);
    expect((err as RateLimitError).retryAfterMs).toBe(1_000);
    expect(tokens.requests).toBe(2);
  });
});

describe("HTTP 400 on the token request", () => {
  it("is about the client id: a new one is made and kept, and the request is sent once more", async () => {
    const store = new StateStore(dir);
    const before = await store.clientId();
    sandbox.inject({ endpoint: "token", kind: { type: "http", status: 400 } });
    const tokens = provider({ store });
    await tokens.get();
    const [refused, accepted] = tokenRequests();
    expect(refused?.headers["x-client-id"]).toBe(before);
    expect(accepted?.headers["x-client-id"]).toBe(await tokens.clientId());
    expect(accepted?.headers["x-client-id"]).not.toBe(before);
  });

  it("with NEMO_CLIENT_ID set: MissingClientIdError, one request, the id kept", async () => {
    sandbox.inject({ endpoint: "token", kind: { type: "http", status: 400 } });
    const tokens = provider({ clientId: "override-client-0001" });
    await expect(tokens.get()).rejects.toBeInstanceOf(MissingClientIdError);
    expect(tokenRequests()).toHaveLength(1);
    expect(await tokens.clientId()).toBe("override-client-0001");
  });
});

describe("cache and cross-process lock", () => {
  it("waits for the lock and re-reads the cache: the token another process stored is used, none requested", async () => {
    /** The provider's store, counting its reads of the token cache. */
    class WatchedStore extends StateStore {
      reads = 0;
      override async getToken(apiUrl: string) {
        const token = await super.getToken(apiUrl);
        this.reads++;
        return token;
      }
    }
    const other = new StateStore(dir);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = other.withTokenLock(async () => {
      locked();
      await held;
      await other.setToken(sandbox.url, {
        token: "tok-from-another-process",
        userId: "anon_other",
        expiresAt: Date.now() + 3_600_000,
        clientId: await other.clientId(),
      });
    });
    await isLocked;
    const store = new WatchedStore(dir);
    const tokens = provider({ store });
    const active = tokens.get();
    await until(() => store.reads === 1); // found nothing: it goes on to wait for the lock
    release();
    await holder;
    expect(await active).toEqual({
      token: "tok-from-another-process",
      anonymous: true,
      userId: "anon_other",
    });
    expect(store.reads).toBe(2);
    expect(tokens.requests).toBe(0);
    expect(tokenRequests()).toHaveLength(0);
  });

  it("exposes the user id of the active anonymous token, none for the user's own token", async () => {
    const tokens = provider();
    expect(tokens.userId).toBeUndefined();
    const active = await tokens.get();
    expect(active.userId).toMatch(/^anon_/);
    expect(tokens.userId).toBe(active.userId);
    const own = provider({ userToken: "user-token-0001" });
    expect(await own.get()).toEqual({ token: "user-token-0001", anonymous: false });
    expect(own.userId).toBeUndefined();
    expect(own.requests).toBe(0);
  });
});
