import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NoCreditsError, SessionNotFoundError } from "../../src/client/errors.js";
import { fetchState } from "../../src/client/state.js";
import { type RecordedRequest, type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { makeClient, makeSessions, TEST_SKILL } from "../helpers/client.js";

const WEB = "https://nemovideo.test";
const SESSION = "/api/tasks/me/with-session/nemo_agent";
const CLAIM = "/api/auth/claim-token";

let sandbox: Sandbox;
let dir: string;

const requestsTo = (path: string): RecordedRequest[] => sandbox.requests.filter((r) => r.path === path);

async function sessionsFile(): Promise<Record<string, Record<string, Record<string, unknown>>>> {
  return JSON.parse(await readFile(join(dir, "sessions.json"), "utf8"));
}

beforeEach(async () => {
  sandbox = await startSandbox({ stepMs: 0 });
  dir = await mkdtemp(join(tmpdir(), "nemo-sessions-"));
});

afterEach(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

describe("create", () => {
  it("sends task_name and language, and returns the backend's ids", async () => {
    const session = await makeSessions(makeClient(sandbox.url, { dir })).create("fr");
    const [request] = requestsTo(SESSION);
    expect(request?.method).toBe("POST");
    expect(request?.body).toEqual({ task_name: "project", language: "fr" });
    expect(request?.headers["content-type"]).toBe("application/json");
    const record = sandbox.state.sessions.get(session.sessionId);
    expect(record?.language).toBe("fr");
    expect(session).toEqual({
      sessionId: record?.sessionId,
      taskId: record?.taskId,
      userId: record?.userId,
      language: "fr",
    });
  });

  it("defaults the language to en", async () => {
    await makeSessions(makeClient(sandbox.url, { dir })).create();
    expect(requestsTo(SESSION)[0]?.body).toEqual({ task_name: "project", language: "en" });
  });

  it("makes the new session current, persisted in sessions.json per API URL and skill (0600)", async () => {
    const session = await makeSessions(makeClient(sandbox.url, { dir })).create("de");
    const file = await sessionsFile();
    expect(file[sandbox.url]?.["ai-voiceover-for"]).toMatchObject({
      sessionId: session.sessionId,
      taskId: session.taskId,
      language: "de",
    });
    expect((await stat(join(dir, "sessions.json"))).mode & 0o777).toBe(0o600);
  });

  it("remembers the user id the session response gave", async () => {
    const made = makeClient(sandbox.url, { dir });
    const session = await makeSessions(made).create();
    expect((await made.client.auth.get()).userId).toBe(session.userId);
    expect(made.client.errorContext().userId).toBe(session.userId);
    expect(session.userId).toMatch(/^anon_/);
  });
});

describe("current", () => {
  it("survives a restart: a new client on the same state directory sees it", async () => {
    const session = await makeSessions(makeClient(sandbox.url, { dir })).create();
    const current = await makeSessions(makeClient(sandbox.url, { dir })).current();
    expect(current).toEqual(session);
  });

  it("is kept per skill", async () => {
    const voice = await makeSessions(
      makeClient(sandbox.url, { dir, skill: { ...TEST_SKILL, name: "ai-voiceover-for" } }),
    ).create();
    const generator = makeSessions(
      makeClient(sandbox.url, { dir, skill: { ...TEST_SKILL, name: "ai-video-generator-ai" } }),
    );
    expect(await generator.current()).toBeUndefined();
    const made = await generator.create();
    expect(made.sessionId).not.toBe(voice.sessionId);
    expect(
      (
        await makeSessions(
          makeClient(sandbox.url, { dir, skill: { ...TEST_SKILL, name: "ai-voiceover-for" } }),
        ).current()
      )?.sessionId,
    ).toBe(voice.sessionId);
    expect(Object.keys((await sessionsFile())[sandbox.url] ?? {}).sort()).toEqual([
      "ai-video-generator-ai",
      "ai-voiceover-for",
    ]);
  });

  it("is kept per API base URL", async () => {
    await makeSessions(makeClient(sandbox.url, { dir })).create();
    expect(await makeSessions(makeClient("http://127.0.0.1:1", { dir })).current()).toBeUndefined();
  });

  it("is undefined before any session exists", async () => {
    expect(await makeSessions(makeClient(sandbox.url, { dir })).current()).toBeUndefined();
  });
});

describe("resolve", () => {
  it("creates a session once for 10 concurrent callers", async () => {
    const sessions = makeSessions(makeClient(sandbox.url, { dir }));
    const all = await Promise.all(Array.from({ length: 10 }, () => sessions.resolve()));
    expect(requestsTo(SESSION)).toHaveLength(1);
    expect(new Set(all.map((s) => s.sessionId)).size).toBe(1);
    expect((await sessions.current())?.sessionId).toBe(all[0]?.sessionId);
  });

  it("returns the current session without a request", async () => {
    const sessions = makeSessions(makeClient(sandbox.url, { dir }));
    const made = await sessions.create();
    expect(await sessions.resolve()).toEqual(made);
    expect(requestsTo(SESSION)).toHaveLength(1);
  });

  it("an explicit session id is used as given", async () => {
    const sessions = makeSessions(makeClient(sandbox.url, { dir }));
    const made = await sessions.create("ja");
    expect(await sessions.resolve(made.sessionId)).toEqual(made);
    expect((await sessions.resolve("other-sid")).sessionId).toBe("other-sid");
    expect(requestsTo(SESSION)).toHaveLength(1);
  });
});

describe("claimLink", () => {
  it("builds <webUrl>/workspace/claim?ct=<claim token> from the claim-token call", async () => {
    const sessions = makeSessions(makeClient(sandbox.url, { dir }));
    const session = await sessions.create();
    const link = await sessions.claimLink(session);
    expect(link).toMatch(/^https:\/\/nemovideo\.test\/workspace\/claim\?ct=clm_[0-9a-f]+$/);
    const [request] = requestsTo(CLAIM);
    expect(request?.body).toEqual({ task_id: session.taskId, session_id: session.sessionId });
  });

  it("gives the same link for the same session on later calls (one claim-token call), a new one per session", async () => {
    const sessions = makeSessions(makeClient(sandbox.url, { dir }));
    const first = await sessions.create();
    const before = requestsTo(CLAIM).length;
    const link = await sessions.claimLink(first);
    expect(await sessions.claimLink(first)).toBe(link);
    expect(requestsTo(CLAIM).length).toBe(before + 1);
    const other = await sessions.claimLink(await sessions.create());
    expect(other).not.toBe(link);
    expect(requestsTo(CLAIM).length).toBe(before + 2);
  });

  it("never puts the nmv_ token in the link", async () => {
    const made = makeClient(sandbox.url, { dir });
    const { client } = made;
    const sessions = makeSessions(made);
    const link = await sessions.claimLink(await sessions.create());
    const { token } = await client.auth.get();
    expect(token).toMatch(/^nmv_/);
    expect(link).not.toContain(token);
    expect(link).not.toContain("nmv_");
  });

  it("URL-encodes an odd claim token", async () => {
    const sessions = makeSessions(makeClient(sandbox.url, { dir }));
    const session = await sessions.create();
    sandbox.inject({
      endpoint: "claim",
      kind: { type: "http", status: 200, body: '{"code":0,"data":{"claim_token":"clm a&b=c"}}' },
    });
    expect(await sessions.claimLink(session)).toBe(`${WEB}/workspace/claim?ct=clm%20a%26b%3Dc`);
  });

  it("for a vanished session: SessionNotFoundError", async () => {
    const sessions = makeSessions(makeClient(sandbox.url, { dir }));
    const session = await sessions.create();
    sandbox.state.deleteSession(session.sessionId);
    await expect(sessions.claimLink(session)).rejects.toBeInstanceOf(SessionNotFoundError);
  });
});

describe("run: 1002 recovery", () => {
  it("creates a new session, makes it current, and says the old timeline is gone", async () => {
    const made = makeClient(sandbox.url, { dir });
    const { client } = made;
    const sessions = makeSessions(made);
    const old = await sessions.create("es");
    sandbox.state.deleteSession(old.sessionId);
    let attempts = 0;

    const err = await sessions
      .run(undefined, (session) => {
        attempts++;
        return fetchState(client, session.sessionId);
      })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(SessionNotFoundError);
    const notFound = err as SessionNotFoundError;
    const current = await sessions.current();
    expect(current?.sessionId).toBeDefined();
    expect(current?.sessionId).not.toBe(old.sessionId);
    expect(current?.language).toBe("es");
    expect(sandbox.state.sessions.has(current?.sessionId ?? "")).toBe(true);
    expect(notFound.oldSessionId).toBe(old.sessionId);
    expect(notFound.newSessionId).toBe(current?.sessionId);
    expect(notFound.message).toContain(old.sessionId);
    expect(notFound.message).toMatch(/timeline is gone/);
    expect(notFound.userMessage).toContain(current?.sessionId);
    expect(notFound.userMessage).toMatch(/now current/);
    // the work relied on the old timeline, so it is not silently re-run
    expect(attempts).toBe(1);
    expect(requestsTo(SESSION)).toHaveLength(2);
    expect(requestsTo(SESSION)[1]?.body).toEqual({ task_name: "project", language: "es" });
  });

  it("passes other errors through untouched and keeps the session", async () => {
    const made = makeClient(sandbox.url, { dir });
    const { client } = made;
    const sessions = makeSessions(made);
    const session = await sessions.create();
    sandbox.inject({ endpoint: "state", kind: { type: "code", code: 2001 } });
    await expect(sessions.run(undefined, (s) => fetchState(client, s.sessionId))).rejects.toBeInstanceOf(
      NoCreditsError,
    );
    expect((await sessions.current())?.sessionId).toBe(session.sessionId);
    expect(requestsTo(SESSION)).toHaveLength(1);
  });

  it("returns the work's result when all goes well", async () => {
    const made = makeClient(sandbox.url, { dir });
    const { client } = made;
    const sessions = makeSessions(made);
    const state = await sessions.run(undefined, (s) => fetchState(client, s.sessionId));
    expect(state.sessionId).toBe((await sessions.current())?.sessionId);
    expect(state.timeline).toBeDefined();
  });

  it("when the replacement cannot be created, the 1002 error still reaches the caller", async () => {
    const made = makeClient(sandbox.url, { dir });
    const { client } = made;
    const sessions = makeSessions(made);
    const old = await sessions.create();
    sandbox.state.deleteSession(old.sessionId);
    sandbox.inject({ endpoint: "session", kind: { type: "http", status: 500 } });
    const err = await sessions
      .run(undefined, (s) => fetchState(client, s.sessionId))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionNotFoundError);
    expect((err as SessionNotFoundError).newSessionId).toBeUndefined();
    expect((err as SessionNotFoundError).userMessage).toContain("{new_session}");
  });
});
