import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NemoClient, SkillIdentity } from "../../src/client/client.js";
import {
  AuthError,
  BackendError,
  CancelledError,
  FileTooLargeError,
  MalformedResponseError,
  NemoError,
  NetworkError,
  NoCreditsError,
  PlanRequiredError,
  RateLimitError,
  ServerError,
  SessionNotFoundError,
  TimeoutError,
  UnsupportedFileError,
} from "../../src/client/errors.js";
import { ACCEPTED_FORMATS } from "../../src/client/formats.js";
import { submitRender } from "../../src/client/render.js";
import { CreditsSchema } from "../../src/client/schemas.js";
import { Sessions } from "../../src/client/sessions.js";
import { fetchCredits, fetchState } from "../../src/client/state.js";
import type { StateStore } from "../../src/client/store.js";
import { uploadUrls } from "../../src/client/upload.js";
import { loadConfig } from "../../src/config.js";
import { Logger } from "../../src/log.js";
import { type FaultKind, type RecordedRequest, type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { resolveSkill, type SkillInfo, skillHeaders } from "../../src/skills.js";
import { makeClient } from "../helpers/client.js";

const WEB = "https://nemovideo.test";
const _VOICEOVER: SkillIdentity = { name: "ai-voiceover-for", version: "1.0.0", platform: "unknown" };
const FIXTURES = resolve(import.meta.dirname, "../fixtures/skills");

let sandbox: Sandbox;

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<NemoError> {
  const result = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in result)) throw new Error(`expected a rejection, got ${JSON.stringify(result.value)}`);
  expect(result.error).toBeInstanceOf(NemoError);
  return result.error as NemoError;
}

const requestsTo = (path: string): RecordedRequest[] => sandbox.requests.filter((r) => r.path === path);
const CREDITS = "/api/credits/balance/simple";
const TOKEN = "/api/auth/anonymous-token";
const SESSION = "/api/tasks/me/with-session/nemo_agent";

function fault(endpoint: Parameters<Sandbox["inject"]>[0]["endpoint"], kind: FaultKind, times = 1): void {
  sandbox.inject({ endpoint, kind, times });
}

/** A port on 127.0.0.1 with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** The anonymous token and user id a client's state directory holds for the sandbox. */
async function cachedToken(dir: string): Promise<{ token: string; userId: string; clientId: string }> {
  const file = JSON.parse(await readFile(join(dir, "token.json"), "utf8"));
  return file[sandbox.url];
}

beforeEach(async () => {
  sandbox = await startSandbox({ stepMs: 0 });
});

afterEach(async () => {
  await sandbox.close();
});

describe("response styles", () => {
  it("reads the standard {code, message, data} envelope", async () => {
    const { client } = makeClient(sandbox.url);
    expect(await fetchCredits(client)).toEqual({ available: 100, frozen: 0, total: 100 });
  });

  it("reads the {success, data} style", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", {
      type: "http",
      status: 200,
      body: '{"success":true,"data":{"available":7,"frozen":2,"total":9}}',
    });
    expect(await fetchCredits(client)).toMatchObject({ available: 7, frozen: 2, total: 9 });
  });

  it("reads fields at the top level", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "http", status: 200, body: '{"available":5,"frozen":1,"total":6}' });
    expect(await fetchCredits(client)).toMatchObject({ available: 5, frozen: 1, total: 6 });
  });

  it("ignores unknown keys in the envelope and in the data", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", {
      type: "http",
      status: 200,
      body: JSON.stringify({
        code: 0,
        message: "success",
        trace_id: "t-1",
        data: { available: 3, frozen: 0, total: 3, currency: "credits", tiers: [1, 2] },
      }),
    });
    expect(await fetchCredits(client)).toMatchObject({ available: 3, frozen: 0, total: 3 });
  });

  it("{success:false} is an error carrying the backend's message", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "http", status: 200, body: '{"success":false,"message":"ledger offline"}' });
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(BackendError);
    expect(err.message).toContain("ledger offline");
  });

  it("code != 0 with HTTP 200 is an error with that code", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "code", code: 7777, message: "quota daemon asleep" });
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 7777, status: 200 });
    expect(err.message).toContain("quota daemon asleep");
    expect(err.nextStep).toBeTruthy();
  });

  it("a body that is not JSON: MalformedResponseError, not retried", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "malformed" });
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(err.userMessage).toMatch(/not valid JSON/);
    expect(requestsTo(CREDITS)).toHaveLength(1);
  });

  it("JSON that lacks required fields: MalformedResponseError naming the call", async () => {
    const { client, store } = makeClient(sandbox.url);
    fault("session", { type: "http", status: 200, body: '{"code":0,"data":{"task":"no ids here"}}' });
    const err = await failure(new Sessions(client, store).create());
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(err.message).toContain(`POST ${SESSION}`);
  });

  it("a truncated body on a POST: a typed error, not retried", async () => {
    const { client, store } = makeClient(sandbox.url);
    fault("session", { type: "truncated" });
    const err = await failure(new Sessions(client, store).create());
    expect(err).toBeInstanceOf(NetworkError);
    expect(requestsTo(SESSION)).toHaveLength(1);
  });

  it("a truncated body on a GET is retried once and then succeeds", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "truncated" });
    expect(await fetchCredits(client)).toMatchObject({ available: 100 });
    expect(requestsTo(CREDITS)).toHaveLength(2);
  });
});

describe("1001: invalid or expired token", () => {
  it("anonymous: re-acquires once with the same client id and retries the call once", async () => {
    const { client, dir } = makeClient(sandbox.url);
    await fetchCredits(client);
    const first = await cachedToken(dir);
    sandbox.state.expireAllTokens();

    expect(await fetchCredits(client)).toMatchObject({ available: 100 });

    const tokens = requestsTo(TOKEN);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]?.headers["x-client-id"]).toBe(tokens[0]?.headers["x-client-id"]);
    const credits = requestsTo(CREDITS);
    expect(credits).toHaveLength(3);
    const second = await cachedToken(dir);
    expect(second.token).not.toBe(first.token);
    expect(second.clientId).toBe(first.clientId);
    expect(credits[1]?.headers.authorization).toBe(`Bearer ${first.token}`);
    expect(credits[2]?.headers.authorization).toBe(`Bearer ${second.token}`);
  });

  it("anonymous: 1001 twice in a row is an AuthError after one retry", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "code", code: 1001, status: 401 }, 2);
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.code).toBe(1001);
    expect(err.userMessage).toMatch(/token/);
    expect(requestsTo(CREDITS)).toHaveLength(2);
    expect(requestsTo(TOKEN)).toHaveLength(2);
  });

  it.each([1010, 1011])("%i is a token error too: a new anonymous token and one retry", async (code) => {
    const { client } = makeClient(sandbox.url);
    await fetchCredits(client);
    fault("credits", { type: "code", code, status: 200 });
    expect(await fetchCredits(client)).toMatchObject({ available: 100 });
    expect(requestsTo(TOKEN)).toHaveLength(2);
    expect(requestsTo(CREDITS)).toHaveLength(3);
    fault("credits", { type: "code", code }, 2);
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.code).toBe(code);
    expect(err.userMessage).toContain(`NemoVideo error ${code}`);
  });

  it("1001 inside an HTTP 200 body is handled the same way", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "code", code: 1001, status: 200 });
    expect(await fetchCredits(client)).toMatchObject({ available: 100 });
    expect(requestsTo(TOKEN)).toHaveLength(2);
  });

  it("a user NEMO_TOKEN: AuthError at once saying NEMO_TOKEN was rejected, no token request", async () => {
    const { client } = makeClient(sandbox.url, { token: "nmv_usr_revoked0000000000" });
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.userMessage).toMatch(/NEMO_TOKEN was rejected/);
    expect(requestsTo(CREDITS)).toHaveLength(1);
    expect(sandbox.state.tokenRequests).toBe(0);
  });
});

describe("1002: session not found", () => {
  it("is a SessionNotFoundError telling the user to start a new session", async () => {
    const { client, store } = makeClient(sandbox.url);
    const session = await new Sessions(client, store).create();
    sandbox.state.deleteSession(session.sessionId);
    const err = await failure(fetchState(client, session.sessionId));
    expect(err).toBeInstanceOf(SessionNotFoundError);
    expect(err.code).toBe(1002);
    expect(err.userMessage).toContain("{new_session}");
    expect(err.userMessage).toMatch(/old timeline is gone/);
  });
});

describe("2001: no credits", () => {
  it("anonymous: registration link bound to the user id from the token response", async () => {
    const { client, store, dir } = makeClient(sandbox.url);
    await fetchCredits(client);
    const { userId } = await cachedToken(dir);
    expect(userId).toMatch(/^anon_/);
    fault("session", { type: "code", code: 2001 });
    const err = await failure(new Sessions(client, store).create());
    expect(err).toBeInstanceOf(NoCreditsError);
    expect((err as NoCreditsError).registrationUrl).toBe(`${WEB}/register?bind=${userId}`);
    expect(err.userMessage).toContain(`${WEB}/register?bind=${userId}`);
  });

  it("anonymous after a restart (token from token.json): the link is still bound to the user id", async () => {
    const first = makeClient(sandbox.url);
    await fetchCredits(first.client);
    const { userId } = await cachedToken(first.dir);
    const { client } = makeClient(sandbox.url, { dir: first.dir });
    fault("credits", { type: "code", code: 2001 });
    const err = await failure(fetchCredits(client));
    expect(requestsTo(TOKEN)).toHaveLength(1);
    expect((err as NoCreditsError).registrationUrl).toBe(`${WEB}/register?bind=${userId}`);
  });

  it("the real shortage: a turn the account cannot pay for", async () => {
    const { client, store, dir } = makeClient(sandbox.url);
    const session = await new Sessions(client, store).create();
    const { token, userId } = await cachedToken(dir);
    sandbox.state.setCredits(token, 0);
    const err = await failure(
      client.call({
        method: "POST",
        path: "/run_sse",
        json: {
          app_name: "nemo_agent",
          user_id: "me",
          session_id: session.sessionId,
          new_message: { parts: [{ text: "generate a video of a sunrise" }] },
        },
        schema: CreditsSchema,
      }),
    );
    expect(err).toBeInstanceOf(NoCreditsError);
    expect(err.userMessage).toContain(`${WEB}/register?bind=${userId}`);
  });

  it("registered (NEMO_TOKEN): top up wording and no link", async () => {
    const { token } = sandbox.state.issueToken("user-client", 100, 60_000).token;
    const { client } = makeClient(sandbox.url, { token });
    fault("credits", { type: "code", code: 2001 });
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(NoCreditsError);
    expect((err as NoCreditsError).registrationUrl).toBeUndefined();
    expect(err.userMessage).toMatch(/[Tt]op up/);
    expect(err.userMessage).not.toMatch(/register|https?:/i);
  });
});

describe("4001 and 4002: upload refused", () => {
  it("4001 lists the accepted formats", async () => {
    const { client, store } = makeClient(sandbox.url);
    const { sessionId } = await new Sessions(client, store).create();
    fault("upload", { type: "code", code: 4001 });
    const err = await failure(uploadUrls(client, sessionId, ["https://media.example/clip.xyz"]));
    expect(err).toBeInstanceOf(UnsupportedFileError);
    expect(err.code).toBe(4001);
    for (const format of ["mp4", "mov", "webm", "jpg", "png", "mp3", "wav"]) {
      expect(err.userMessage).toContain(format);
    }
    expect(err.userMessage).toContain(ACCEPTED_FORMATS.join(", "));
  });

  it("4002 names the 500 MB limit and suggests compressing or trimming", async () => {
    const { client, store } = makeClient(sandbox.url);
    const { sessionId } = await new Sessions(client, store).create();
    fault("upload", { type: "code", code: 4002 });
    const err = await failure(uploadUrls(client, sessionId, ["https://media.example/huge.mp4"]));
    expect(err).toBeInstanceOf(FileTooLargeError);
    expect(err.code).toBe(4002);
    expect(err.userMessage).toContain("500 MB");
    expect(err.userMessage).toMatch(/compress/);
    expect(err.userMessage).toMatch(/trim/);
  });
});

describe("HTTP 402: plan required", () => {
  it("is a PlanRequiredError about the plan, not credits", async () => {
    const { client, store } = makeClient(sandbox.url);
    const { sessionId } = await new Sessions(client, store).create();
    fault("render_submit", { type: "http", status: 402 });
    const err = await failure(submitRender(client, sessionId, { t: [] }));
    expect(err).toBeInstanceOf(PlanRequiredError);
    expect(err.status).toBe(402);
    expect(err.userMessage).toMatch(/plan/);
    expect(err.userMessage).toMatch(/subscription/);
    expect(err.userMessage).toMatch(/not .*credits/);
    expect(err.userMessage).toContain(WEB);
    expect(requestsTo("/api/render/proxy/lambda")).toHaveLength(1);
  });
});

describe("HTTP 429: rate limit", () => {
  it("waits retry429Ms and retries once, then succeeds", async () => {
    const { client } = makeClient(sandbox.url, { retry429Ms: 60 });
    await fetchCredits(client);
    fault("credits", { type: "http", status: 429 });
    expect(await fetchCredits(client)).toMatchObject({ available: 100 });
    const [, limited, retried] = requestsTo(CREDITS);
    expect(requestsTo(CREDITS)).toHaveLength(3);
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(55);
  });

  it("honours Retry-After (seconds or a date) instead of retry429Ms", async () => {
    // retry429Ms of 10 minutes: only Retry-After can make the retry come in time
    const { client } = makeClient(sandbox.url, { retry429Ms: 600_000 });
    await fetchCredits(client);
    fault("credits", { type: "http", status: 429, headers: { "retry-after": "0" } });
    expect(await fetchCredits(client)).toMatchObject({ available: 100 });
    const past = new Date(Date.now() - 5_000).toUTCString();
    fault("credits", { type: "http", status: 429, headers: { "retry-after": past } });
    expect(await fetchCredits(client)).toMatchObject({ available: 100 });
    expect(requestsTo(CREDITS)).toHaveLength(5);
  });

  it("twice in a row: RateLimitError with a clear message after exactly one retry", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "http", status: 429 }, 2);
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.status).toBe(429);
    expect(err.userMessage).toMatch(/rate limit/i);
    expect(err.userMessage).toMatch(/try again/);
    expect(requestsTo(CREDITS)).toHaveLength(2);
  });

  it("on the token call: waits and retries once, then succeeds", async () => {
    const { client } = makeClient(sandbox.url);
    fault("token", { type: "http", status: 429 });
    expect(await fetchCredits(client)).toMatchObject({ available: 100 });
    expect(sandbox.state.tokenRequests).toBe(2);
  });

  it("on the token call twice: RateLimitError after exactly one retry", async () => {
    const { client } = makeClient(sandbox.url);
    fault("token", { type: "http", status: 429 }, 2);
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.userMessage).toMatch(/NEMO_TOKEN/);
    expect(sandbox.state.tokenRequests).toBe(2);
    expect(requestsTo(CREDITS)).toHaveLength(0);
  });
});

describe("5xx: server errors", () => {
  it.each([502, 503, 504])("GET answered %i is retried once and then succeeds", async (status) => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "http", status });
    expect(await fetchCredits(client)).toMatchObject({ available: 100 });
    expect(requestsTo(CREDITS)).toHaveLength(2);
  });

  it("GET answered 503 twice: ServerError after one retry", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "http", status: 503 }, 2);
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(ServerError);
    expect(err.status).toBe(503);
    expect(err.userMessage).toMatch(/NemoVideo's side/);
    expect(requestsTo(CREDITS)).toHaveLength(2);
  });

  it("GET answered 500 is not retried", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "code", code: 500, status: 500, message: "internal error" });
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(ServerError);
    expect(err.status).toBe(500);
    expect(requestsTo(CREDITS)).toHaveLength(1);
  });

  it("POST answered 503 is not retried", async () => {
    const { client, store } = makeClient(sandbox.url);
    fault("session", { type: "http", status: 503 });
    const err = await failure(new Sessions(client, store).create());
    expect(err).toBeInstanceOf(ServerError);
    expect(requestsTo(SESSION)).toHaveLength(1);
  });
});

describe("network failures, timeouts and cancellation", () => {
  it("connection refused: NetworkError naming the URL", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { client } = makeClient(url);
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toContain(url);
    expect(err.message).toContain("ECONNREFUSED");
    expect(err.userMessage).toMatch(/NEMO_API_URL/);
  });

  it("connection reset on a POST: NetworkError, not retried", async () => {
    const { client, store } = makeClient(sandbox.url);
    await fetchCredits(client);
    fault("session", { type: "reset" });
    const err = await failure(new Sessions(client, store).create());
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toContain(sandbox.url);
    expect(requestsTo(SESSION)).toHaveLength(1);
  });

  it("connection reset on a GET: retried once; twice is a NetworkError", async () => {
    const { client } = makeClient(sandbox.url);
    fault("credits", { type: "reset" });
    expect(await fetchCredits(client)).toMatchObject({ available: 100 });
    expect(requestsTo(CREDITS)).toHaveLength(2);
    fault("credits", { type: "reset" }, 2);
    expect(await failure(fetchCredits(client))).toBeInstanceOf(NetworkError);
    expect(requestsTo(CREDITS)).toHaveLength(4);
  });

  it("no answer within requestTimeoutMs: TimeoutError", async () => {
    const { client, store } = makeClient(sandbox.url, { requestTimeoutMs: 150 });
    await fetchCredits(client);
    fault("session", { type: "delay", ms: 1500 });
    const started = Date.now();
    const err = await failure(new Sessions(client, store).create());
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.userMessage).toMatch(/in time/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("an AbortSignal fired during a request: CancelledError, at once", async () => {
    const { client } = makeClient(sandbox.url);
    await fetchCredits(client);
    fault("credits", { type: "delay", ms: 1500 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const err = await failure(fetchCredits(client, controller.signal));
    expect(err).toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("an AbortSignal fired during the 429 wait: CancelledError, no retry", async () => {
    const { client } = makeClient(sandbox.url, { retry429Ms: 5000 });
    await fetchCredits(client);
    fault("credits", { type: "http", status: 429 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    expect(await failure(fetchCredits(client, controller.signal))).toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(requestsTo(CREDITS)).toHaveLength(2);
  });

  it("an already aborted signal: CancelledError", async () => {
    const { client } = makeClient(sandbox.url);
    await fetchCredits(client);
    const before = requestsTo(CREDITS).length;
    const err = await failure(fetchCredits(client, AbortSignal.abort()));
    expect(err).toBeInstanceOf(CancelledError);
    expect(requestsTo(CREDITS)).toHaveLength(before);
  });
});

describe("headers on every request", () => {
  /** Runs a token call, a GET, and two POSTs; returns every recorded request. */
  async function exercise(client: NemoClient, store: StateStore): Promise<RecordedRequest[]> {
    const sessions = new Sessions(client, store);
    await fetchCredits(client);
    const session = await sessions.create();
    await sessions.claimLink(session);
    await fetchState(client, session.sessionId);
    return sandbox.requests;
  }

  function identity(skill: SkillInfo): SkillIdentity {
    return { name: skill.name, version: skill.version, platform: skill.platform };
  }

  it.each(["ai-voiceover-for", "ai-video-generator-ai"])(
    "bundled skill %s: attribution from its frontmatter, bearer and client id",
    async (name) => {
      const skill = await resolveSkill(name);
      const { client, dir, store } = makeClient(sandbox.url, { skill: identity(skill) });
      const requests = await exercise(client, store);
      const expected = skillHeaders(skill);
      expect(expected).toEqual({
        "X-Skill-Source": name,
        "X-Skill-Version": "1.0.0",
        "X-Skill-Platform": "unknown",
      });
      const clientId = (await readFile(join(dir, "client_id"), "utf8")).trim();
      const { token } = await cachedToken(dir);
      expect(requests.map((r) => r.path)).toEqual([
        TOKEN,
        CREDITS,
        SESSION,
        "/api/auth/claim-token",
        expect.stringMatching(/^\/api\/state\//),
      ]);
      for (const request of requests) {
        expect(request.headers["x-skill-source"], request.path).toBe(expected["X-Skill-Source"]);
        expect(request.headers["x-skill-version"], request.path).toBe(expected["X-Skill-Version"]);
        expect(request.headers["x-skill-platform"], request.path).toBe(expected["X-Skill-Platform"]);
        expect(request.headers["x-client-id"], request.path).toBe(clientId);
        if (request.path === TOKEN) expect(request.headers.authorization).toBeUndefined();
        else expect(request.headers.authorization, request.path).toBe(`Bearer ${token}`);
      }
    },
  );

  it.each([
    ["clawhub", "clawhub-home/.clawhub/skills/demo-skill"],
    ["clawhub", "clawdhub-home/.clawdhub/skills/demo-skill"],
    ["clawhub", "clawhub-workdir/skills/demo-skill"],
    ["cursor", "cursor-project/.cursor/skills/demo-skill"],
    ["unknown", "plain/demo-skill"],
  ])("X-Skill-Platform %s for a skill installed at %s", async (platform, path) => {
    const skill = await resolveSkill(join(FIXTURES, path));
    expect(skill.platform).toBe(platform);
    const { client } = makeClient(sandbox.url, { skill: identity(skill) });
    await fetchCredits(client);
    expect(sandbox.requests).toHaveLength(2);
    for (const request of sandbox.requests) {
      expect(request.headers["x-skill-platform"]).toBe(platform);
      expect(request.headers["x-skill-source"]).toBe("demo-skill");
      expect(request.headers["x-skill-version"]).toBe("2.3.4");
    }
  });

  it("SKILL_SOURCE overrides the detected platform", async () => {
    const { skillPlatform } = loadConfig({ SKILL_SOURCE: " openclaw " });
    const skill = await resolveSkill(join(FIXTURES, "cursor-project/.cursor/skills/demo-skill"), {
      platform: skillPlatform,
    });
    const { client } = makeClient(sandbox.url, { skill: identity(skill) });
    await fetchCredits(client);
    for (const request of sandbox.requests) expect(request.headers["x-skill-platform"]).toBe("openclaw");
  });

  it("a user NEMO_TOKEN is the bearer on every call and no token is requested", async () => {
    const { token } = sandbox.state.issueToken("user-client", 100, 60_000).token;
    const { client, store } = makeClient(sandbox.url, { token });
    const requests = await exercise(client, store);
    expect(requests.some((r) => r.path === TOKEN)).toBe(false);
    for (const request of requests) {
      expect(request.headers.authorization).toBe(`Bearer ${token}`);
      expect(request.headers["x-client-id"]).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("concurrent first calls with a user token share one persisted client id", async () => {
    const { token } = sandbox.state.issueToken("user-client", 100, 60_000).token;
    const { client, dir } = makeClient(sandbox.url, { token });
    await Promise.all(Array.from({ length: 10 }, () => fetchCredits(client)));
    const clientId = (await readFile(join(dir, "client_id"), "utf8")).trim();
    expect(new Set(sandbox.requests.map((r) => r.headers["x-client-id"]))).toEqual(new Set([clientId]));
  });
});

describe("the token never leaks", () => {
  it("not in errors when the backend echoes the anonymous token back", async () => {
    const lines: string[] = [];
    const logger = new Logger("debug", (line) => lines.push(line));
    const { client, dir } = makeClient(sandbox.url, { logger });
    await fetchCredits(client);
    const { token } = await cachedToken(dir);
    fault("credits", { type: "code", code: 5005, message: `token ${token} is not allowed here` });
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(BackendError);
    for (const text of [err.message, err.userMessage, String(err), err.stack ?? "", JSON.stringify(err)]) {
      expect(text).not.toContain(token);
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("")).not.toContain(token);
  });

  it("not in errors when the backend echoes a user NEMO_TOKEN of any shape", async () => {
    const token = "user-supplied-secret-4242";
    const lines: string[] = [];
    const { client } = makeClient(sandbox.url, {
      token,
      logger: new Logger("debug", (line) => lines.push(line)),
    });
    fault("credits", { type: "code", code: 1001, status: 401, message: `bad token: ${token}` });
    const err = await failure(fetchCredits(client));
    expect(err).toBeInstanceOf(AuthError);
    for (const text of [err.message, err.userMessage, String(err)]) expect(text).not.toContain(token);
    expect(lines.join("")).not.toContain(token);
  });

  it("not in the logs of a 1001 refresh, a 429 retry and a failure", async () => {
    const lines: string[] = [];
    const { client, dir } = makeClient(sandbox.url, {
      logger: new Logger("debug", (line) => lines.push(line)),
    });
    await fetchCredits(client);
    const first = (await cachedToken(dir)).token;
    sandbox.state.expireAllTokens();
    fault("credits", { type: "http", status: 429 });
    await fetchCredits(client);
    const second = (await cachedToken(dir)).token;
    fault("credits", { type: "http", status: 500, body: `{"code":500,"message":"Bearer ${second} broke"}` });
    const err = await failure(fetchCredits(client));
    const all = `${lines.join("")}\n${String(err)}\n${err.userMessage}`;
    expect(lines.some((l) => l.includes("1001"))).toBe(true);
    expect(all).not.toContain(first);
    expect(all).not.toContain(second);
  });

  it("not in a NetworkError", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const token = "nmv_usr_networkleak000000";
    const { client } = makeClient(url, { token });
    const err = await failure(fetchCredits(client));
    expect(String(err)).not.toContain(token);
    expect(err.userMessage).not.toContain(token);
  });
});
