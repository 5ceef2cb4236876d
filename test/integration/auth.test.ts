import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MissingClientIdError, type NemoError, RateLimitError } from "../../src/client/errors.js";
import { fetchCredits } from "../../src/client/state.js";
import { type RecordedRequest, type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { makeClient } from "../helpers/client.js";

const UUID_LINE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$/;
const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;
const TOKEN = "/api/auth/anonymous-token";
const CREDITS = "/api/credits/balance/simple";

let sandbox: Sandbox;
let root: string;

/** A state directory path inside the test's temp root; created by the store itself. */
const stateDir = (name = "state") => join(root, name);

async function tokenFile(dir: string): Promise<Record<string, Record<string, unknown>>> {
  return JSON.parse(await readFile(join(dir, "token.json"), "utf8"));
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;
const requestsTo = (path: string): RecordedRequest[] => sandbox.requests.filter((r) => r.path === path);

beforeEach(async () => {
  sandbox = await startSandbox({ stepMs: 0 });
  root = await mkdtemp(join(tmpdir(), "nemo-auth-"));
});

afterEach(async () => {
  await sandbox.close();
  await rm(root, { recursive: true, force: true });
});

describe("anonymous token cache", () => {
  it("keeps the token in token.json with its expiry, user id and client id", async () => {
    const dir = stateDir();
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    const [issued] = [...sandbox.state.tokens.values()];
    const clientId = (await readFile(join(dir, "client_id"), "utf8")).trim();
    expect(await tokenFile(dir)).toEqual({
      [sandbox.url]: {
        token: issued?.token,
        userId: issued?.userId,
        expiresAt: issued?.expiresAt,
        clientId,
      },
    });
    expect(requestsTo(TOKEN)[0]?.headers["x-client-id"]).toBe(clientId);
  });

  it("token.json and client_id are 0600 and the state directory 0700", async () => {
    const dir = stateDir();
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(join(dir, "token.json"))).toBe(0o600);
    expect(await mode(join(dir, "client_id"))).toBe(0o600);
  });

  it("an existing, too open state directory is tightened to 0700", async () => {
    const dir = stateDir();
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    expect(await mode(dir)).toBe(0o700);
  });

  it("a second client on the same state directory (a restart) reuses the token", async () => {
    const dir = stateDir();
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    const restarted = makeClient(sandbox.url, { dir: dir }).client;
    expect(await fetchCredits(restarted)).toMatchObject({ available: 100 });
    expect(sandbox.state.tokenRequests).toBe(1);
    expect(restarted.auth.requests).toBe(0);
    const [first, second] = requestsTo(CREDITS);
    expect(second?.headers.authorization).toBe(first?.headers.authorization);
  });

  it("an expired cached token is replaced by a new one", async () => {
    const dir = stateDir();
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    const file = await tokenFile(dir);
    const stale = file[sandbox.url] as { token: string };
    await writeFile(
      join(dir, "token.json"),
      JSON.stringify({ [sandbox.url]: { ...stale, expiresAt: Date.now() - 1000 } }),
    );
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    expect(sandbox.state.tokenRequests).toBe(2);
    const fresh = (await tokenFile(dir))[sandbox.url] as { token: string; expiresAt: number };
    expect(fresh.token).not.toBe(stale.token);
    expect(fresh.expiresAt).toBeGreaterThan(Date.now());
    expect(requestsTo(CREDITS)[1]?.headers.authorization).toBe(`Bearer ${fresh.token}`);
  });

  it("a cached token in its last minute is not used", async () => {
    const dir = stateDir();
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    const cached = (await tokenFile(dir))[sandbox.url];
    await writeFile(
      join(dir, "token.json"),
      JSON.stringify({ [sandbox.url]: { ...cached, expiresAt: Date.now() + 30_000 } }),
    );
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    expect(sandbox.state.tokenRequests).toBe(2);
  });

  it("assumes 7 days when the token response has no expires_at", async () => {
    const dir = stateDir();
    sandbox.inject({
      endpoint: "token",
      kind: { type: "http", status: 200, body: '{"code":0,"data":{"token":"nmv_usr_noexpiry0001"}}' },
    });
    const before = Date.now();
    const token = await makeClient(sandbox.url, { dir: dir }).client.auth.get();
    expect(token).toMatchObject({ token: "nmv_usr_noexpiry0001", anonymous: true });
    const cached = (await tokenFile(dir))[sandbox.url] as { expiresAt: number };
    expect(cached.expiresAt).toBeGreaterThanOrEqual(before + SEVEN_DAYS_MS);
    expect(cached.expiresAt).toBeLessThanOrEqual(Date.now() + SEVEN_DAYS_MS);
  });

  it("a user NEMO_TOKEN is never cached and never triggers a token request", async () => {
    const dir = stateDir();
    const { token } = sandbox.state.issueToken("user-client", 100, 60_000).token;
    const client = makeClient(sandbox.url, { dir: dir, token }).client;
    await fetchCredits(client);
    expect(client.auth.isUserToken).toBe(true);
    expect(sandbox.state.tokenRequests).toBe(0);
    await expect(readFile(join(dir, "token.json"), "utf8")).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("client id", () => {
  it("is persisted as a plain UUID plus newline and reused by every instance", async () => {
    const dir = stateDir();
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    const text = await readFile(join(dir, "client_id"), "utf8");
    expect(text).toMatch(UUID_LINE);
    // drop the token so the next instance has to ask again: it must ask with the same id
    await rm(join(dir, "token.json"));
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    const ids = sandbox.requests.map((r) => r.headers["x-client-id"]);
    expect(requestsTo(TOKEN)).toHaveLength(2);
    expect(new Set(ids)).toEqual(new Set([text.trim()]));
    expect(await readFile(join(dir, "client_id"), "utf8")).toBe(text);
  });

  it("uses the id NemoVideo's own skill already wrote", async () => {
    const dir = stateDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "client_id"), "9b2f4c1e-7d3a-4e5b-8c6d-0a1b2c3d4e5f\n");
    await fetchCredits(makeClient(sandbox.url, { dir: dir }).client);
    for (const request of sandbox.requests) {
      expect(request.headers["x-client-id"]).toBe("9b2f4c1e-7d3a-4e5b-8c6d-0a1b2c3d4e5f");
    }
  });

  it("NEMO_CLIENT_ID overrides the persisted id on every request", async () => {
    const dir = stateDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "client_id"), "9b2f4c1e-7d3a-4e5b-8c6d-0a1b2c3d4e5f\n");
    await fetchCredits(makeClient(sandbox.url, { dir: dir, clientId: "override-client-0001" }).client);
    expect(sandbox.requests).toHaveLength(2);
    for (const request of sandbox.requests)
      expect(request.headers["x-client-id"]).toBe("override-client-0001");
    expect((await tokenFile(dir))[sandbox.url]?.clientId).toBe("override-client-0001");
    expect(await readFile(join(dir, "client_id"), "utf8")).toBe("9b2f4c1e-7d3a-4e5b-8c6d-0a1b2c3d4e5f\n");
  });
});

describe("HTTP 400 on the token call (client id refused)", () => {
  it("makes a new client id, persists it, retries once and succeeds", async () => {
    const dir = stateDir();
    sandbox.inject({
      endpoint: "token",
      kind: { type: "code", code: 400, status: 400, message: "missing X-Client-Id" },
    });
    expect(await fetchCredits(makeClient(sandbox.url, { dir: dir }).client)).toMatchObject({
      available: 100,
    });
    const [refused, accepted] = requestsTo(TOKEN);
    expect(requestsTo(TOKEN)).toHaveLength(2);
    const oldId = refused?.headers["x-client-id"];
    const newId = accepted?.headers["x-client-id"];
    expect(oldId).toMatch(/^[0-9a-f-]{36}$/);
    expect(newId).toMatch(/^[0-9a-f-]{36}$/);
    expect(newId).not.toBe(oldId);
    expect(await readFile(join(dir, "client_id"), "utf8")).toBe(`${newId}\n`);
    expect((await tokenFile(dir))[sandbox.url]?.clientId).toBe(newId);
    expect(requestsTo(CREDITS)[0]?.headers["x-client-id"]).toBe(newId);
  });

  it("a bare HTTP 400 without a body on the token call is handled the same way", async () => {
    const dir = stateDir();
    sandbox.inject({ endpoint: "token", kind: { type: "http", status: 400 } });
    expect(await fetchCredits(makeClient(sandbox.url, { dir: dir }).client)).toMatchObject({
      available: 100,
    });
    const [refused, accepted] = requestsTo(TOKEN);
    expect(accepted?.headers["x-client-id"]).not.toBe(refused?.headers["x-client-id"]);
    expect(await readFile(join(dir, "client_id"), "utf8")).toBe(`${accepted?.headers["x-client-id"]}\n`);
  });

  it("refused twice: MissingClientIdError after exactly one retry", async () => {
    sandbox.inject({
      endpoint: "token",
      times: 2,
      kind: { type: "code", code: 400, status: 400, message: "missing X-Client-Id" },
    });
    const err = await fetchCredits(makeClient(sandbox.url, { dir: stateDir() }).client).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MissingClientIdError);
    expect((err as NemoError).userMessage).toMatch(/X-Client-Id/);
    expect(requestsTo(TOKEN)).toHaveLength(2);
    expect(requestsTo(CREDITS)).toHaveLength(0);
  });

  it("with NEMO_CLIENT_ID set, the id is not replaced behind the user's back", async () => {
    const dir = stateDir();
    sandbox.inject({
      endpoint: "token",
      kind: { type: "code", code: 400, status: 400, message: "invalid X-Client-Id" },
    });
    const err = await fetchCredits(
      makeClient(sandbox.url, { dir: dir, clientId: "override-client-0001" }).client,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingClientIdError);
    expect(requestsTo(TOKEN)).toHaveLength(1);
  });
});

describe("HTTP 429 on the token call", () => {
  it("waits NEMO_RETRY_429_MS, retries once and succeeds", async () => {
    sandbox.inject({ endpoint: "token", kind: { type: "http", status: 429 } });
    const client = makeClient(sandbox.url, { dir: stateDir(), retry429Ms: 80 }).client;
    expect(await fetchCredits(client)).toMatchObject({ available: 100 });
    const [limited, retried] = requestsTo(TOKEN);
    expect(requestsTo(TOKEN)).toHaveLength(2);
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(75);
    expect(retried?.headers["x-client-id"]).toBe(limited?.headers["x-client-id"]);
  });

  it("twice in a row: RateLimitError, two token requests in all", async () => {
    sandbox.inject({ endpoint: "token", times: 2, kind: { type: "http", status: 429 } });
    const client = makeClient(sandbox.url, { dir: stateDir() }).client;
    const err = await fetchCredits(client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(requestsTo(TOKEN)).toHaveLength(2);
    expect(client.auth.requests).toBe(2);
  });
});

describe("single-flight acquisition", () => {
  it("20 concurrent calls on a fresh state directory: one token request, 20 successes", async () => {
    const dir = stateDir();
    const client = makeClient(sandbox.url, { dir: dir }).client;
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => fetchCredits(client)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(20);
    expect(sandbox.state.tokenRequests).toBe(1);
    expect(client.auth.requests).toBe(1);
    const credits = requestsTo(CREDITS);
    expect(credits).toHaveLength(20);
    const { token } = (await tokenFile(dir))[sandbox.url] as { token: string };
    for (const request of credits) expect(request.headers.authorization).toBe(`Bearer ${token}`);
    const clientId = (await readFile(join(dir, "client_id"), "utf8")).trim();
    expect(new Set(sandbox.requests.map((r) => r.headers["x-client-id"]))).toEqual(new Set([clientId]));
  });

  it("20 concurrent calls rejected with 1001: one refresh, 20 successes, the new token kept on disk", async () => {
    const dir = stateDir();
    const client = makeClient(sandbox.url, { dir: dir }).client;
    await fetchCredits(client);
    sandbox.state.expireAllTokens();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => fetchCredits(client)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(20);
    expect(sandbox.state.tokenRequests).toBe(2);
    const live = [...sandbox.state.tokens.values()].find((t) => t.expiresAt > Date.now());
    expect((await tokenFile(dir))[sandbox.url]?.token).toBe(live?.token);
  });
});
