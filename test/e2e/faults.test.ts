/**
 * Fault matrix: every contract error code on every endpoint it can come from, HTTP errors, resets, slow,
 * malformed and truncated responses on every endpoint each tool reaches, streams cut at every stage, failing
 * renders and broken downloads. Each case runs against its own in-memory server and sandbox and checks:
 * a clear result (isError naming the cause, or success where the contract's single retry recovers), the
 * server still answering, no temp file left, the token and current session kept (unless 1002 replaced the
 * session), and no message sent twice.
 */
import { basename } from "node:path";
import type { ExpectStatic } from "vitest";
import { describe, it } from "vitest";
import type { EndpointName, FaultKind, TurnStep } from "../../src/sandbox/index.js";
import {
  type FaultServer,
  plainWordsProblem,
  registerUserToken,
  withFaultServer,
  type ToolName,
  until,
} from "../helpers/fault-harness.js";
import { resultText, sc } from "../helpers/results.js";
import { adk, BGM_DRAFT, say, toolCall } from "../helpers/adk.js";

// ---------------------------------------------------------------------------------------------------------
// The matrix: routes (tool × endpoint it reaches) × faults

/** An endpoint as a tool reaches it; `state_after` is the state read that follows a turn. */
type Target = EndpointName | "state_after";
type Setup = "fresh" | "token" | "session" | "exportable";
type FaultName =
  | "code 1001"
  | "code 1002"
  | "code 2001"
  | "code 4001"
  | "code 4002"
  | "HTTP 400"
  | "HTTP 402"
  | "HTTP 429 once"
  | "HTTP 429 twice"
  | "HTTP 500"
  | "HTTP 502"
  | "HTTP 503"
  | "reset"
  | "delay"
  | "malformed JSON"
  | "truncated JSON";

/** Request limit for the `delay` cases, and how long the sandbox sits on the request. */
const SLOW_LIMIT_MS = 300;
const SLOW_DELAY_MS = 800;

const FAULTS: Record<FaultName, { kind: FaultKind; times?: number; env?: Record<string, string> }> = {
  "code 1001": { kind: { type: "code", code: 1001, status: 401 } },
  "code 1002": { kind: { type: "code", code: 1002 } },
  "code 2001": { kind: { type: "code", code: 2001 } },
  "code 4001": { kind: { type: "code", code: 4001 } },
  "code 4002": { kind: { type: "code", code: 4002, message: "file too large (limit 524288000 bytes)" } },
  "HTTP 400": { kind: { type: "http", status: 400 } },
  "HTTP 402": { kind: { type: "http", status: 402 } },
  "HTTP 429 once": { kind: { type: "http", status: 429 }, times: 1 },
  "HTTP 429 twice": { kind: { type: "http", status: 429 }, times: 2 },
  "HTTP 500": { kind: { type: "http", status: 500 } },
  "HTTP 502": { kind: { type: "http", status: 502 } },
  "HTTP 503": { kind: { type: "http", status: 503 } },
  reset: { kind: { type: "reset" } },
  delay: {
    kind: { type: "delay", ms: SLOW_DELAY_MS },
    env: { NEMO_REQUEST_TIMEOUT_MS: String(SLOW_LIMIT_MS) },
  },
  "malformed JSON": { kind: { type: "malformed" } },
  "truncated JSON": { kind: { type: "truncated" } },
};

/** Faults every endpoint can produce. */
const GENERAL: FaultName[] = [
  "HTTP 400",
  "HTTP 429 once",
  "HTTP 429 twice",
  "HTTP 500",
  "HTTP 502",
  "HTTP 503",
  "reset",
  "delay",
  "malformed JSON",
  "truncated JSON",
];

interface Route {
  tool: ToolName;
  target: Target;
  /** What exists before the faulted call: nothing, a cached token, a current session, an exportable timeline. */
  setup: Setup;
  /** Contract codes this endpoint can answer with (on top of GENERAL). */
  codes: FaultName[];
}

const ROUTES: Route[] = [
  { tool: "get_credits", target: "token", setup: "fresh", codes: [] },
  { tool: "get_credits", target: "credits", setup: "token", codes: ["code 1001"] },
  { tool: "create_session", target: "session", setup: "token", codes: ["code 1001"] },
  { tool: "create_session", target: "claim", setup: "token", codes: ["code 1001", "code 1002"] },
  { tool: "upload_media", target: "session", setup: "token", codes: ["code 1001"] },
  {
    tool: "upload_media",
    target: "upload",
    setup: "session",
    codes: ["code 1001", "code 1002", "code 4001", "code 4002"],
  },
  { tool: "send_message", target: "session", setup: "token", codes: ["code 1001"] },
  { tool: "send_message", target: "state", setup: "session", codes: ["code 1001", "code 1002"] },
  {
    tool: "send_message",
    target: "run_sse",
    setup: "session",
    codes: ["code 1001", "code 1002", "code 2001"],
  },
  { tool: "send_message", target: "state_after", setup: "session", codes: ["code 1001", "code 1002"] },
  { tool: "get_state", target: "session", setup: "token", codes: ["code 1001"] },
  { tool: "get_state", target: "state", setup: "session", codes: ["code 1001", "code 1002"] },
  { tool: "export_video", target: "state", setup: "exportable", codes: ["code 1001", "code 1002"] },
  {
    tool: "export_video",
    target: "render_submit",
    setup: "exportable",
    codes: ["code 1001", "code 1002", "HTTP 402"],
  },
  { tool: "export_video", target: "render_status", setup: "exportable", codes: ["code 1001"] },
  { tool: "export_video", target: "download", setup: "exportable", codes: ["code 1001"] },
  { tool: "export_video", target: "claim", setup: "exportable", codes: ["code 1001", "code 1002"] },
];

/** What the cause must look like in the text of a failed call. */
const CAUSE: Partial<Record<FaultName, RegExp[]>> = {
  "code 1002": [
    /NemoVideo error 1002 \(session not found\)/,
    /timeline is gone/,
    /new empty session \S+ was started and is now current/,
  ],
  "code 2001": [/NemoVideo error 2001 \(no credits\)/, /register\?bind=anon_\w+/],
  "code 4001": [/NemoVideo error 4001 \(unsupported file\)/, /Accepted formats: mp4, mov, avi/],
  "code 4002": [/NemoVideo error 4002 \(file too large\)/, /500 MB/],
  "HTTP 400": [/HTTP 400/],
  "HTTP 402": [/HTTP 402/, /plan \(subscription\) issue, not a lack of credits/, /upgrade your plan/],
  "HTTP 429 twice": [/rate limit \(HTTP 429\)/],
  "HTTP 500": [/HTTP 500/],
  "HTTP 502": [/HTTP 502/],
  "HTTP 503": [/HTTP 503/],
  reset: [/Could not reach NemoVideo|connection/i],
  delay: [/did not answer in time/],
  "malformed JSON": [/not valid JSON/],
  "truncated JSON": [/Could not reach NemoVideo|connection|cut off/i],
};

/** GET endpoints the client retries once after a network error or a 502/503/504. */
const RETRIED_ON_TRANSIENT: FaultName[] = ["HTTP 502", "HTTP 503", "reset", "truncated JSON"];

interface Expectation {
  ok: boolean;
  /** For failures: every pattern must match the text. */
  cause?: RegExp[];
  /** Patterns that must not match: a wrong cause. */
  wrongCause?: RegExp[];
  /** 1002: a new session became current and the text names it. */
  replaced?: boolean;
  /** 1001: the anonymous token was re-acquired. */
  newToken?: boolean;
  /** For claim faults: whether a project link still came back. */
  projectUrl?: boolean;
  /** For state_after faults: whether the timeline summary could still be read. */
  timeline?: boolean;
  /** run_sse dropped and the outcome came from polling the state. */
  recovered?: boolean;
  /** /run_sse requests the backend refused before doing anything (1001, 429): the contract's retry re-sends them. */
  refusedRunSse?: number;
}

/** /run_sse requests a fault makes the backend refuse outright (so the contract's single retry may re-send them). */
const REFUSED_RUN_SSE: Partial<Record<FaultName, number>> = {
  "code 1001": 1,
  "HTTP 429 once": 1,
  "HTTP 429 twice": 2,
};

/** The contract's answer for one fault on one route. */
function expectation(route: Route, fault: FaultName): Expectation {
  const { target } = route;
  // only the token call is limited per client id: elsewhere a 429 must not blame the anonymous-token quota
  // (and must not tell a NEMO_TOKEN user to set NEMO_TOKEN)
  const wrongCause =
    fault === "HTTP 429 twice" && target !== "token"
      ? [/anonymous tokens are limited/, /set NEMO_TOKEN/]
      : [];
  const fail = (cause: RegExp[] | undefined = CAUSE[fault]): Expectation => ({
    ok: false,
    cause: cause ?? [],
    wrongCause,
  });
  const refused = target === "run_sse" ? REFUSED_RUN_SSE[fault] : undefined;
  const extra = refused ? { refusedRunSse: refused } : {};
  // create_session made the session's project link, still fresh: export_video reuses it, asking no new one
  if (target === "claim" && route.tool === "export_video") return { ok: true, projectUrl: true };
  // the single retries of the contract: a new anonymous token (1001), one wait after HTTP 429
  if (fault === "code 1001") return { ok: true, newToken: true, projectUrl: true, timeline: true, ...extra };
  if (fault === "HTTP 429 once") return { ok: true, projectUrl: true, timeline: true, ...extra };
  // the project link and the summary after a turn are extras: the call still succeeds without them
  if (target === "claim") return { ok: true, projectUrl: false };
  if (target === "state_after") return { ok: true, timeline: RETRIED_ON_TRANSIENT.includes(fault) };
  // render status polls tolerate a transient failure and poll on
  if (target === "render_status") {
    return fault === "HTTP 400" || fault === "HTTP 429 twice" ? fail() : { ok: true };
  }
  // HTTP 400 on the token call means "X-Client-Id": a new client id, one retry
  if (target === "token" && fault === "HTTP 400") return { ok: true };
  if (fault === "code 1002") return { ...fail(), replaced: true };
  if ((target === "credits" || target === "state") && RETRIED_ON_TRANSIENT.includes(fault))
    return { ok: true };
  if (target === "download") {
    // transient failures are retried, a slow CDN falls back to the API's download endpoint
    if (["HTTP 502", "HTTP 503", "reset", "delay"].includes(fault)) return { ok: true };
    const cut = /download of render render_\w+ was cut off after \d+ of \d+ bytes/;
    return fail([/render_\w+/, /get_export/, ...(fault === "truncated JSON" ? [cut] : (CAUSE[fault] ?? []))]);
  }
  if (target === "run_sse") {
    // the first event arrives, then the connection drops while the backend goes on: recovered from the state
    if (fault === "truncated JSON") return { ok: true, recovered: true };
    // the stream's own limits apply to /run_sse, not the request limit
    if (fault === "delay") return { ok: true };
    // may have reached the backend: poll the state, never re-send
    if (fault === "HTTP 502" || fault === "reset") {
      return fail([/connection to NemoVideo dropped/, /timeline has not changed/, /check get_state/]);
    }
    return { ...fail(), ...extra };
  }
  // the answer to a sent upload is bounded by NEMO_REQUEST_TIMEOUT_MS too (contract): a clear timeout
  if (target === "upload" && fault === "delay")
    return fail([/did not answer within 300 ms after the upload was sent/]);
  return fail();
}

interface Case {
  name: string;
  route: Route;
  fault: FaultName;
  expect: Expectation;
}

const CASES: Case[] = ROUTES.flatMap((route) =>
  [...route.codes, ...GENERAL].map((fault) => ({
    name: `${route.tool} → ${route.target}: ${fault}`,
    route,
    fault,
    expect: expectation(route, fault),
  })),
);

const MUSIC = "add some background music";

function argsFor(tool: ToolName, h: FaultServer): Promise<Record<string, unknown>> | Record<string, unknown> {
  switch (tool) {
    case "create_session":
      return { language: "en" };
    case "upload_media":
      return h.samplePath().then((path) => ({ paths: [path] }));
    case "send_message":
      return { message: MUSIC, wait_seconds: 20 };
    case "export_video":
      return { wait_seconds: 20 };
    default:
      return {};
  }
}

async function prepare(h: FaultServer, setup: Setup, expect: ExpectStatic): Promise<void> {
  if (setup === "fresh") return;
  const credits = await h.call("get_credits");
  expect(credits.isError, resultText(credits)).toBeFalsy();
  if (setup === "token") return;
  const session = await h.call("create_session", { language: "en" });
  expect(session.isError, resultText(session)).toBeFalsy();
  if (setup === "session") return;
  const upload = await h.call("upload_media", { urls: ["https://media.example/clips/intro.mp4"] });
  expect(upload.isError, resultText(upload)).toBeFalsy();
}

function inject(h: FaultServer, target: Target, fault: FaultName): void {
  const { kind, times } = FAULTS[fault];
  if (target === "state_after") {
    // a no-op fault takes the state read before the turn, so the real one hits the read after it
    h.sandbox.inject({ endpoint: "state", kind: { type: "delay", ms: 0 } });
    h.sandbox.inject({ endpoint: "state", kind, times: times ?? 1 });
    return;
  }
  h.sandbox.inject({ endpoint: target, kind, times: times ?? 1 });
}

/** The invariants every case shares, after the faulted call. */
async function checkAftermath(
  h: FaultServer,
  expect: ExpectStatic,
  opts: { token0?: string | undefined; newToken?: boolean; refusedRunSse?: number },
): Promise<void> {
  // the token cache still holds a working token (a new one only after 1001)
  const token = await h.cachedToken();
  expect(token, "token.json holds a token").toMatch(/^nmv_usr_/);
  expect(h.sandbox.state.authenticate(token!), "the cached token is valid").toBeDefined();
  if (opts.token0 !== undefined) {
    if (opts.newToken) expect(token).not.toBe(opts.token0);
    else expect(token).toBe(opts.token0);
  }
  // the server still answers
  const credits = await h.call("get_credits");
  expect(credits.isError, resultText(credits)).toBeFalsy();
  expect(typeof sc(credits).available).toBe("number");
  // no message was sent twice: one /run_sse per send_message, beyond requests the backend refused outright
  const sends = h.calls.send_message ?? 0;
  expect(h.sandbox.state.runSseRequests - (opts.refusedRunSse ?? 0)).toBeLessThanOrEqual(sends);
  expect(h.turnsPlayed()).toBeLessThanOrEqual(sends);
  // no temp file left behind (background job records may still be being written for a moment)
  await until(async () => (await h.tempFiles()).length === 0, 2_000, "no temp files").catch(() => {});
  expect(await h.tempFiles()).toEqual([]);
}

describe.concurrent("fault matrix: endpoint × fault for every tool", () => {
  it.for(CASES)("$name", async (c, { expect }) => {
    const { route, fault } = c;
    const exp = c.expect;
    await withFaultServer({ env: FAULTS[fault].env ?? {} }, async (h) => {
      await prepare(h, route.setup, expect);
      const token0 = await h.cachedToken();
      const session0 = await h.currentSession();
      const args = await argsFor(route.tool, h);
      inject(h, route.target, fault);

      const result = await h.call(route.tool, args);
      const text = resultText(result);
      expect(plainWordsProblem(text), text).toBeUndefined();
      if (exp.ok) {
        expect(result.isError, text).toBeFalsy();
      } else {
        expect(result.isError, text).toBe(true);
        for (const cause of exp.cause ?? []) expect(text).toMatch(cause);
        for (const wrong of exp.wrongCause ?? []) expect(text).not.toMatch(wrong);
      }

      // what the tool reports beyond ok / not ok
      const out = sc(result);
      if (route.tool === "send_message" && exp.ok) expect(out.status, text).toBe("completed");
      if (route.tool === "export_video" && exp.ok) {
        expect(out.status, text).toBe("completed");
        expect(out.file).toBeTruthy();
        expect(await h.exportFiles()).toEqual([basename(out.file)]);
      }
      if (route.tool === "export_video" && !exp.ok) expect(await h.exportFiles()).toEqual([]);
      if (route.target === "claim") {
        if (exp.projectUrl) expect(out.project_url).toMatch(/\/workspace\/claim\?ct=clm_/);
        else expect(out.project_url).toBeUndefined();
      }
      if (route.target === "state_after") {
        if (exp.timeline) {
          expect(out.timeline).toMatch(/^Timeline \(1 track\)/);
          expect(out.changes?.[0]).toMatch(/Added audio track "BGM"/);
        } else {
          // the state after the turn could not be read: nothing may be claimed about the timeline
          expect(out.timeline).toBeUndefined();
          expect(text).not.toMatch(/did not change/);
        }
      }
      if (exp.recovered) {
        expect(out.recovered).toBe(true);
        expect(out.changes?.[0]).toMatch(/Added audio track "BGM"/);
      }

      // the current session: kept, replaced after 1002, new after create_session, made on first use
      let session = await h.currentSession();
      if (exp.replaced) {
        await until(
          async () => (await h.currentSession()) !== session0,
          2_000,
          "a new current session",
        ).catch(() => {});
        session = await h.currentSession();
        expect(session).toBeDefined();
        expect(session).not.toBe(session0);
        expect(h.sandbox.state.sessions.has(session!)).toBe(true);
        expect(text).toContain(session!);
      } else if (route.tool === "create_session" && exp.ok) {
        expect(session).toBeDefined();
        expect(session).not.toBe(session0);
      } else if (route.target === "session" && exp.ok) {
        expect(session).toBeDefined();
      } else {
        expect(session).toBe(session0);
      }

      if (route.target === "token" && !exp.ok) {
        // nothing was cached; the next call acquires the token
        expect(await h.cachedToken()).toBeUndefined();
        const again = await h.call("get_credits");
        expect(again.isError, resultText(again)).toBeFalsy();
      }
      await checkAftermath(h, expect, {
        token0,
        newToken: exp.newToken ?? false,
        refusedRunSse: exp.refusedRunSse ?? 0,
      });

      // the next call of the same tool works (after 1002: in the new, empty session)
      if (exp.replaced) {
        const state = await h.call("get_state");
        expect(state.isError, resultText(state)).toBeFalsy();
        expect(sc(state).session_id).toBe(session);
        expect(sc(state).tracks).toEqual([]);
      }
      if (!(exp.replaced && route.tool === "export_video")) {
        const next = await h.call(route.tool, await argsFor(route.tool, h));
        expect(next.isError, resultText(next)).toBeFalsy();
      }
      const sends = h.calls.send_message ?? 0;
      expect(h.sandbox.state.runSseRequests - (exp.refusedRunSse ?? 0)).toBeLessThanOrEqual(sends);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Real (not injected) contract errors, and the user's own token

describe.concurrent("contract errors as the backend really produces them", () => {
  it("1001 on an expired anonymous token: re-acquired silently, the call succeeds", async ({ expect }) => {
    await withFaultServer(async (h) => {
      await h.call("create_session");
      const token0 = await h.cachedToken();
      h.sandbox.state.expireAllTokens();
      const state = await h.call("get_state");
      expect(state.isError, resultText(state)).toBeFalsy();
      expect(h.sandbox.state.tokenRequests).toBe(2);
      const token = await h.cachedToken();
      expect(token).not.toBe(token0);
      await checkAftermath(h, expect, { token0, newToken: true });
    });
  });

  const USER_TOKEN = "nmv_usr_usersowntoken0123456789";
  const USER_ROUTES: Array<{ tool: ToolName; endpoint: EndpointName }> = [
    { tool: "get_credits", endpoint: "credits" },
    { tool: "create_session", endpoint: "session" },
    { tool: "upload_media", endpoint: "upload" },
    { tool: "send_message", endpoint: "run_sse" },
    { tool: "get_state", endpoint: "state" },
    { tool: "export_video", endpoint: "render_submit" },
  ];
  it.for(USER_ROUTES)(
    "1001 with NEMO_TOKEN set: $tool → $endpoint names NEMO_TOKEN, never fetches an anonymous token",
    async ({ tool, endpoint }, { expect }) => {
      await withFaultServer({ env: { NEMO_TOKEN: USER_TOKEN } }, async (h) => {
        registerUserToken(h.sandbox, USER_TOKEN);
        await h.call("create_session");
        await h.call("upload_media", { urls: ["https://media.example/clips/intro.mp4"] });
        const session0 = await h.currentSession();
        h.sandbox.inject({ endpoint, kind: { type: "code", code: 1001, status: 401 } });
        const args =
          tool === "upload_media"
            ? { paths: [await h.samplePath()] }
            : tool === "send_message"
              ? { message: MUSIC }
              : {};
        const result = await h.call(tool, args);
        const text = resultText(result);
        expect(result.isError, text).toBe(true);
        expect(text).toMatch(/NemoVideo error 1001/);
        expect(text).toMatch(/NEMO_TOKEN/);
        expect(text).not.toContain(USER_TOKEN);
        expect(plainWordsProblem(text), text).toBeUndefined();
        expect(h.sandbox.state.tokenRequests).toBe(0);
        expect(await h.cachedToken()).toBeUndefined();
        expect(await h.currentSession()).toBe(session0);
        const again = await h.call(tool, args);
        expect(again.isError, resultText(again)).toBeFalsy();
        expect(h.sandbox.state.runSseRequests).toBeLessThanOrEqual(h.calls.send_message ?? 0);
        expect(await h.tempFiles()).toEqual([]);
      });
    },
  );

  it("2001 when the credits run out: registration link with the user id; the next call works", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      await h.call("create_session");
      const userId = [...h.sandbox.state.accounts.values()][0]!.userId;
      h.sandbox.state.setCredits("all", 3);
      const result = await h.call("send_message", { message: "generate a 30-second video from my script" });
      const text = resultText(result);
      expect(result.isError, text).toBe(true);
      expect(text).toContain("NemoVideo error 2001 (no credits)");
      expect(text).toContain(`https://nemovideo.test/register?bind=${userId}`);
      expect(plainWordsProblem(text), text).toBeUndefined();
      expect(h.sandbox.state.runSseRequests).toBe(1);
      expect(h.turnsPlayed()).toBe(0);
      // a cheaper edit still fits in the 3 credits left
      const next = await h.call("send_message", { message: MUSIC });
      expect(next.isError, resultText(next)).toBeFalsy();
      await checkAftermath(h, expect, {});
    });
  });

  it("2001 with NEMO_TOKEN set: top up in the account, no registration link", async ({ expect }) => {
    const token = "nmv_usr_registereduser987654321";
    await withFaultServer({ env: { NEMO_TOKEN: token } }, async (h) => {
      registerUserToken(h.sandbox, token, 0);
      const result = await h.call("send_message", { message: "generate a video about the sea" });
      const text = resultText(result);
      expect(result.isError, text).toBe(true);
      expect(text).toContain("NemoVideo error 2001 (no credits)");
      expect(text).toMatch(/Top up credits in your NemoVideo account/);
      expect(text).not.toMatch(/register/);
    });
  });

  const DELETED: ToolName[] = ["get_state", "upload_media", "send_message", "export_video"];
  it.for(DELETED)(
    "1002 when the session is gone: %s says so, starts a new current session, the next call works there",
    async (tool, { expect }) => {
      await withFaultServer(async (h) => {
        await h.call("create_session");
        await h.call("upload_media", { urls: ["https://media.example/clips/intro.mp4"] });
        const old = (await h.currentSession())!;
        h.sandbox.state.deleteSession(old);
        const args =
          tool === "upload_media"
            ? { paths: [await h.samplePath()] }
            : tool === "send_message"
              ? { message: MUSIC }
              : {};
        const result = await h.call(tool, args);
        const text = resultText(result);
        expect(result.isError, text).toBe(true);
        expect(text).toMatch(/NemoVideo error 1002/);
        expect(text).toContain(old);
        expect(text).toMatch(/timeline is gone/);
        await until(async () => (await h.currentSession()) !== old, 2_000, "a new session").catch(() => {});
        const fresh = await h.currentSession();
        expect(fresh).toBeDefined();
        expect(fresh).not.toBe(old);
        expect(text).toContain(fresh!);
        expect(h.sandbox.state.runSseRequests).toBe(0);
        // the next call works, in the new (empty) session
        const state = await h.call("get_state");
        expect(state.isError, resultText(state)).toBeFalsy();
        expect(sc(state).session_id).toBe(fresh);
        expect(sc(state).exportable).toBe(false);
        const again = await h.call(tool === "export_video" ? "get_state" : tool, args);
        expect(again.isError, resultText(again)).toBeFalsy();
        await checkAftermath(h, expect, {});
      });
    },
  );

  it("4001 for a format NemoVideo does not take (URL upload): lists the accepted formats", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      const result = await h.call("upload_media", { urls: ["https://media.example/notes/plan.xyz"] });
      const text = resultText(result);
      expect(result.isError, text).toBe(true);
      expect(text).toMatch(/NemoVideo error 4001/);
      expect(text).toMatch(/Accepted formats: mp4, mov, avi, webm, mkv, jpg/);
      await checkAftermath(h, expect, {});
    });
  });

  it("4002 when the backend's size limit is hit mid-upload: suggests compressing or trimming", async ({
    expect,
  }) => {
    await withFaultServer({ sandboxOptions: { maxUploadBytes: 64 * 1024 } }, async (h) => {
      const result = await h.call("upload_media", { paths: [await h.samplePath()] });
      const text = resultText(result);
      expect(result.isError, text).toBe(true);
      expect(text).toMatch(/NemoVideo error 4002/);
      expect(text).toMatch(/500 MB: compress the video or trim it/);
      await checkAftermath(h, expect, {});
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Streams: cut at every stage, error events, stalls, the hard limit

const STAGES: Record<string, TurnStep[]> = {
  "before any event": [],
  "after the tool call": [toolCall("add_bgm")],
  "after partial text": [toolCall("add_bgm"), say("Adding lo-fi music to your", true)],
  "after the final text, before the close": [toolCall("add_bgm"), say("I added lo-fi background music.")],
  "mid-heartbeats": [
    toolCall("add_bgm"),
    { heartbeat: true },
    { comment: "ping" },
    { raw: "data:\n\n" },
    { heartbeat: true },
  ],
};
const VARIANTS: Record<string, (prefix: TurnStep[]) => TurnStep[]> = {
  "nothing changed": (p) => [...p, { cut: true }],
  "draft changed before the cut": (p) => [...p, { setDraft: BGM_DRAFT }, { cut: true }],
  "draft changed after the cut": (p) => [...p, { cut: true }, { wait: 50 }, { setDraft: BGM_DRAFT }],
};
const CUTS = Object.entries(STAGES).flatMap(([stage, prefix]) =>
  Object.entries(VARIANTS).map(([variant, build]) => ({ stage, variant, steps: build(prefix) })),
);

describe.concurrent("streams", () => {
  it.for(CUTS)(
    "a stream cut $stage ($variant): recovered or failed after the polls, never re-sent",
    async ({ variant, steps }, { expect }) => {
      await withFaultServer(async (h) => {
        await h.call("create_session");
        const from = h.sandbox.requests.length;
        h.sandbox.scriptTurn({ steps });
        const result = await h.call("send_message", { message: MUSIC, wait_seconds: 20 });
        const text = resultText(result);
        const out = sc(result);
        expect(plainWordsProblem(text), text).toBeUndefined();
        expect(h.sandbox.state.runSseRequests).toBe(1);
        if (variant === "nothing changed") {
          expect(result.isError, text).toBe(true);
          expect(out.status).toBe("failed");
          expect(text).toMatch(/The connection to NemoVideo dropped and the timeline has not changed since/);
          expect(text).toMatch(/check get_state/);
          // the state before the turn, then the five recovery polls
          expect(h.requestsTo(/^\/api\/state\//, from)).toBe(1 + 5);
        } else {
          expect(result.isError, text).toBeFalsy();
          expect(out.status).toBe("completed");
          expect(out.recovered).toBe(true);
          expect(out.changes?.[0]).toMatch(/^Added audio track "BGM"/);
          expect(out.timeline).toMatch(/^Timeline \(1 track\): 1\. BGM/);
          expect(text).toMatch(/connection dropped; the result was confirmed from the timeline/);
        }
        await checkAftermath(h, expect, {});
        expect(h.sandbox.state.runSseRequests).toBe(1);
      });
    },
  );

  const ERROR_EVENTS: Array<{ name: string; steps: TurnStep[]; cause: RegExp[] }> = [
    {
      name: '{"error":"…"}',
      steps: [toolCall("generate_video"), { data: { error: "video model overloaded, please retry later" } }],
      cause: [/NemoVideo reported an error during the turn: video model overloaded, please retry later/],
    },
    {
      name: "ADK errorCode/errorMessage",
      steps: [adk([], { errorCode: "INTERNAL", errorMessage: "tool generate_video crashed" })],
      cause: [/reported an error during the turn: tool generate_video crashed/],
    },
    {
      name: "an error event with code 2001",
      steps: [{ data: { error: { message: "insufficient credits", code: 2001 } } }],
      cause: [/NemoVideo error 2001 \(no credits\)/, /register\?bind=anon_/],
    },
  ];
  it.for(ERROR_EVENTS)(
    "an error event in the stream ($name): isError with the backend's words",
    async ({ steps, cause }, { expect }) => {
      await withFaultServer(async (h) => {
        await h.call("create_session");
        h.sandbox.scriptTurn({ steps: [...steps, { heartbeat: true }, { wait: 20 }] });
        const result = await h.call("send_message", { message: "generate a video", wait_seconds: 20 });
        const text = resultText(result);
        expect(result.isError, text).toBe(true);
        expect(sc(result).status).toBe("failed");
        for (const c of cause) expect(text).toMatch(c);
        expect(plainWordsProblem(text), text).toBeUndefined();
        await checkAftermath(h, expect, {});
        expect(h.sandbox.state.runSseRequests).toBe(1);
      });
    },
  );

  it("a stall (heartbeats only past NEMO_STALL_MS) fails clearly, without re-sending", async ({ expect }) => {
    await withFaultServer({ env: { NEMO_STALL_MS: "250", NEMO_STREAM_TIMEOUT_MS: "10000" } }, async (h) => {
      await h.call("create_session");
      const beats: TurnStep[] = Array.from(
        { length: 40 },
        () => [{ heartbeat: true }, { wait: 30 }] as TurnStep[],
      ).flat();
      h.sandbox.scriptTurn({ steps: [toolCall("generate_video"), ...beats, say("done")] });
      const started = Date.now();
      const result = await h.call("send_message", { message: "generate a video", wait_seconds: 20 });
      const text = resultText(result);
      expect(result.isError, text).toBe(true);
      expect(text).toMatch(/sent only heartbeats for 250 ms: the turn looks stalled/);
      expect(text).toMatch(/do not send the same message again/);
      expect(Date.now() - started).toBeLessThan(1_100);
      expect(sc(result).activity).toEqual(["generate_video"]);
      await checkAftermath(h, expect, {});
      expect(h.sandbox.state.runSseRequests).toBe(1);
    });
  });

  it("the hard limit (NEMO_STREAM_TIMEOUT_MS) ends a hung stream clearly", async ({ expect }) => {
    await withFaultServer({ env: { NEMO_STREAM_TIMEOUT_MS: "400", NEMO_STALL_MS: "10000" } }, async (h) => {
      await h.call("create_session");
      h.sandbox.scriptTurn({
        steps: [toolCall("generate_video"), say("Working on it", true), { hang: true }],
      });
      const result = await h.call("send_message", { message: "generate a video", wait_seconds: 20 });
      const text = resultText(result);
      expect(result.isError, text).toBe(true);
      expect(text).toMatch(/NemoVideo took longer than 400 ms on this message; it may still finish/);
      await checkAftermath(h, expect, {});
      expect(h.sandbox.state.runSseRequests).toBe(1);
    });
  });

  it("the hard limit also covers a /run_sse whose headers never come", async ({ expect }) => {
    await withFaultServer(
      { env: { NEMO_STREAM_TIMEOUT_MS: "400", NEMO_RECOVERY_POLL_MS: "20" } },
      async (h) => {
        await h.call("create_session");
        h.sandbox.inject({ endpoint: "run_sse", kind: { type: "delay", ms: 1_500 } });
        const started = Date.now();
        const result = await h.call("send_message", { message: MUSIC, wait_seconds: 20 });
        const text = resultText(result);
        expect(result.isError, text).toBe(true);
        expect(text).toMatch(/took longer than 400 ms|connection to NemoVideo dropped/);
        expect(Date.now() - started).toBeLessThan(1_400);
        expect(plainWordsProblem(text), text).toBeUndefined();
        await checkAftermath(h, expect, {});
        expect(h.sandbox.state.runSseRequests).toBe(1);
        expect(h.turnsPlayed()).toBe(0);
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Renders and downloads

describe.concurrent("renders and downloads", () => {
  async function exportable(h: FaultServer): Promise<void> {
    await h.call("create_session");
    await h.call("upload_media", { urls: ["https://media.example/clips/intro.mp4"] });
  }
  const submits = (h: FaultServer) =>
    h.sandbox.requests.filter((r) => r.method === "POST" && r.path === "/api/render/proxy/lambda").length;

  it("a render that fails once is submitted once more and completes (attempts 2)", async ({ expect }) => {
    await withFaultServer(async (h) => {
      await exportable(h);
      h.sandbox.state.failNextRenders(1);
      const result = await h.call("export_video", { wait_seconds: 20 });
      const out = sc(result);
      expect(result.isError, resultText(result)).toBeFalsy();
      expect(out.status).toBe("completed");
      expect(out.attempts).toBe(2);
      expect(submits(h)).toBe(2);
      expect(await h.exportFiles()).toHaveLength(1);
      await checkAftermath(h, expect, {});
    });
  });

  it("a render that fails twice: isError naming the render failure, exactly two submits", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      await exportable(h);
      h.sandbox.state.failNextRenders(2);
      const result = await h.call("export_video", { wait_seconds: 20 });
      const text = resultText(result);
      expect(result.isError, text).toBe(true);
      expect(sc(result).status).toBe("failed");
      expect(text).toMatch(
        /could not render the video \(failed twice\): render failed: lambda worker timed out/,
      );
      expect(plainWordsProblem(text), text).toBeUndefined();
      expect(submits(h)).toBe(2);
      expect(await h.exportFiles()).toEqual([]);
      await checkAftermath(h, expect, {});
      // the next export renders
      const again = await h.call("export_video", { wait_seconds: 20 });
      expect(sc(again).status, resultText(again)).toBe("completed");
      expect(submits(h)).toBe(3);
    });
  });

  it("render status answering 5xx for a while: polled on, completed", async ({ expect }) => {
    await withFaultServer(async (h) => {
      await exportable(h);
      h.sandbox.inject({ endpoint: "render_status", kind: { type: "http", status: 500 } });
      h.sandbox.inject({ endpoint: "render_status", kind: { type: "http", status: 503 }, times: 2 });
      const result = await h.call("export_video", { wait_seconds: 20 });
      expect(sc(result).status, resultText(result)).toBe("completed");
      expect(submits(h)).toBe(1);
      await checkAftermath(h, expect, {});
    });
  });

  it("a download that stops half way: isError, no partial file, and a later export works", async ({
    expect,
  }) => {
    await withFaultServer({ sandboxOptions: { renderOutputBytes: 3 * 1024 * 1024 } }, async (h) => {
      await exportable(h);
      h.sandbox.inject({ endpoint: "download", kind: { type: "truncated" } });
      const result = await h.call("export_video", { wait_seconds: 20 });
      const text = resultText(result);
      expect(result.isError, text).toBe(true);
      expect(text).toMatch(/was cut off after \d+ of 3145728 bytes/);
      expect(text).toMatch(/get_export \(render id render_\w+\)/);
      expect(plainWordsProblem(text), text).toBeUndefined();
      expect(await h.exportFiles()).toEqual([]);
      await checkAftermath(h, expect, {});
      const again = await h.call("export_video", { wait_seconds: 20 });
      const out = sc(again);
      expect(out.status, resultText(again)).toBe("completed");
      expect(out.bytes).toBe(3 * 1024 * 1024);
      expect(await h.exportFiles()).toEqual([basename(out.file)]);
      expect(await h.tempFiles()).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Cancellation must only ever cancel the call that was cancelled

describe.concurrent("cancelling one call leaves concurrent calls alone", () => {
  const SHARED: Array<{ name: string; endpoint: EndpointName; setup: Setup }> = [
    { name: "the first session, created once for both calls", endpoint: "session", setup: "token" },
    { name: "the anonymous token, acquired once for both calls", endpoint: "token", setup: "fresh" },
  ];
  it.for(SHARED)("$name", async ({ endpoint, setup }, { expect }) => {
    await withFaultServer(async (h) => {
      await prepare(h, setup, expect);
      // the shared request is slow, so both calls wait on it
      h.sandbox.inject({ endpoint, kind: { type: "delay", ms: 300 } });
      const controller = new AbortController();
      const cancelled = h.call(
        "upload_media",
        { paths: [await h.samplePath()] },
        { signal: controller.signal },
      );
      cancelled.catch(() => {});
      await new Promise((r) => setTimeout(r, 60));
      const bystander = h.call("get_state");
      await new Promise((r) => setTimeout(r, 60));
      controller.abort();
      await expect(cancelled).rejects.toThrow();
      const result = await bystander;
      const text = resultText(result);
      expect(text).not.toMatch(/^Cancelled/);
      expect(result.isError, text).toBeFalsy();
      expect(sc(result).session_id).toBe(await h.currentSession());
      await checkAftermath(h, expect, {});
    });
  });
});
