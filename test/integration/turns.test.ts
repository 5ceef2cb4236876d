import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NemoClient } from "../../src/client/client.js";
import { InvalidInputError } from "../../src/client/errors.js";
import { startTurn, type TurnLimits, type TurnResult, type TurnUpdate } from "../../src/client/turns.js";
import { type Sandbox, startSandbox, type TurnStep } from "../../src/sandbox/index.js";
import { makeClient, makeSessions } from "../helpers/client.js";
import { BGM_DRAFT, say, toolCall } from "../helpers/adk.js";

const LIMITS: TurnLimits = { streamTimeoutMs: 3_000, stallMs: 1_000, recoveryPollMs: 40 };

let sandbox: Sandbox;
let client: NemoClient;
let sessionId: string;
let dir: string;
let logs: string[];

beforeEach(async () => {
  logs = [];
  sandbox = await startSandbox({ stepMs: 2, heartbeatMs: 5, log: (line) => logs.push(line) });
  dir = await mkdtemp(join(tmpdir(), "nemo-turns-"));
  const made = makeClient(sandbox.url, {
    dir,
    webUrl: "https://nemovideo.example",
    clientId: "turns-test-client",
  });
  client = made.client;
  sessionId = (await makeSessions(made).create()).sessionId;
});

afterEach(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

function run(message: string, limits: Partial<TurnLimits> = {}, signal?: AbortSignal) {
  const updates: TurnUpdate[] = [];
  const turn = startTurn(client, {
    sessionId,
    message,
    limits: { ...LIMITS, ...limits },
    onUpdate: (u) => updates.push(u),
    ...(signal ? { signal } : {}),
  });
  return { turn, updates };
}

const runSse = () => sandbox.requests.filter((r) => r.path === "/run_sse");
const statePolls = () => sandbox.requests.filter((r) => r.path.startsWith("/api/state/"));
const socketClosed = () => logs.some((l) => /^POST \/run_sse 200 cut/.test(l));

async function until(check: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("startTurn against the sandbox", () => {
  it("runs the default voiceover turn: translated reply, activity, timeline summary", async () => {
    const { turn, updates } = run("Add an AI voiceover to my video");
    const result = await turn.done;

    expect(result.status).toBe("completed");
    expect(result.reply).toContain("voiceover");
    expect(result.reply).not.toMatch(/click the Export button/i);
    expect(result.reply).toContain("{export}");
    expect(result.activity).toEqual(["generate_voiceover"]);
    expect(result.timeline).toMatch(/^Timeline \(1 track\): 1\. AI Voiceover: English voiceover/);
    expect(result.changes).toBeUndefined();
    expect(result.recovered).toBeUndefined();
    expect(result.error).toBeUndefined();
    expect(turn.status).toBe("completed");
    expect(turn.activity).toEqual(["generate_voiceover"]);

    const [request] = runSse();
    expect(runSse()).toHaveLength(1);
    expect(request?.headers.accept).toBe("text/event-stream");
    expect(request?.body).toEqual({
      app_name: "nemo_agent",
      user_id: "me",
      session_id: sessionId,
      new_message: { parts: [{ text: "Add an AI voiceover to my video" }] },
    });

    const types = updates.map((u) => u.type);
    expect(types[0]).toBe("started");
    expect(types.at(-1)).toBe("finished");
    expect(types).toContain("tool_call");
    expect(types).toContain("tool_result");
    expect(types).toContain("heartbeat");
    expect(updates.at(-1)).toEqual({ type: "finished", result });
    // the original error is never serialised; a completed turn has none anyway
    expect(JSON.parse(JSON.stringify(result))).toEqual(
      expect.objectContaining({ turnId: turn.id, sessionId }),
    );
  });

  it("reports what changed when the backend says nothing (silent BGM edit)", async () => {
    const result = await run("add some background music").turn.done;

    expect(result.status).toBe("completed");
    expect(result.reply).toBe("");
    expect(result.activity).toEqual(["add_bgm"]);
    expect(result.changes).toEqual([
      expect.stringMatching(/^Added audio track "BGM" with "Lo-fi"/),
      "Duration 0s → 30s",
    ]);
    expect(result.timeline).toMatch(/BGM: Lo-fi/);
  });

  it("reports an empty change list when a silent turn changed nothing", async () => {
    sandbox.scriptTurn({ steps: [toolCall("inspect"), { heartbeat: true }] });
    const result = await run("look at it").turn.done;

    expect(result.status).toBe("completed");
    expect(result.reply).toBe("");
    expect(result.changes).toEqual([]);
    expect(result.timeline).toBe("Timeline (0 tracks): empty");
  });

  it("reads CRLF, split chunks, comments, empty data lines and non-JSON data", async () => {
    const event = (value: unknown) => `data: ${JSON.stringify(value)}\r\n\r\n`;
    const text = event({
      author: "nemo_agent",
      content: { role: "model", parts: [{ text: "Héllo wörld 你好 🎬" }] },
    });
    const cut1 = text.indexOf("wör") + 2;
    const cut2 = text.indexOf("🎬");
    sandbox.scriptTurn({
      steps: [
        { raw: ": hello\r\n\r\n" },
        { raw: "data:\r\n\r\n" },
        { raw: "data: not json at all\r\n\r\n" },
        {
          raw: event({ author: "nemo_agent", content: { parts: [{ functionCall: { name: "add_text" } }] } }),
        },
        {
          raw: event({ author: "nemo_agent", content: { parts: [{ functionCall: { name: "add_text" } }] } }),
        },
        { raw: event({ author: "user", content: { role: "user", parts: [{ text: "echo of the user" }] } }) },
        {
          raw: event({
            author: "nemo_agent",
            content: { parts: [{ functionResponse: { name: "add_text" } }] },
          }),
        },
        { raw: event({ author: "nemo_agent", content: { parts: [{ functionCall: { name: "add_bgm" } }] } }) },
        { raw: text.slice(0, cut1) },
        { wait: 10 },
        { raw: text.slice(cut1, cut2) },
        { wait: 10 },
        { raw: text.slice(cut2) },
        { comment: "ping" },
      ],
    });
    const { turn, updates } = run("add a title");
    const result = await turn.done;

    expect(result.status).toBe("completed");
    expect(result.reply).toBe("Héllo wörld 你好 🎬");
    expect(result.activity).toEqual(["add_text", "add_bgm"]);
    expect(updates).toContainEqual({ type: "unknown", raw: "not json at all" });
    expect(updates.filter((u) => u.type === "heartbeat")).toHaveLength(3);
  });

  it("lets the final text replace the partial chunks, and keeps partials when no final text comes", async () => {
    sandbox.scriptTurn({
      steps: [
        say("Adding ", true),
        say("music…", true),
        say("Adding music now."),
        say("Done: ", true),
        say("Lo-fi at 35%.", true),
      ],
    });
    const result = await run("add music").turn.done;
    expect(result.reply).toBe("Adding music now.\n\nDone: Lo-fi at 35%.");
  });

  it("fails the turn on an error event, with the backend's words", async () => {
    sandbox.scriptTurn({
      steps: [toolCall("generate_video"), { data: { error: "model overloaded" } }, say("never")],
    });
    const result = await run("make a video").turn.done;

    expect(result.status).toBe("failed");
    expect(result.error?.kind).toBe("stream_failed");
    expect(result.error?.message).toContain("model overloaded");
    expect(result.activity).toEqual(["generate_video"]);
    expect(result.reply).toBe("");
  });

  it("maps a credits error event to no_credits with a registration link", async () => {
    sandbox.scriptTurn({ steps: [{ data: { error: "Insufficient credits for this operation" } }] });
    const result = await run("make a video").turn.done;

    expect(result.status).toBe("failed");
    expect(result.error).toMatchObject({ kind: "no_credits", code: 2001 });
    expect(result.error?.nextStep).toMatch(/https:\/\/nemovideo\.example\/register\?bind=anon_/);
  });

  it("fails with no_credits on a 2001 envelope before streaming, and nothing was processed", async () => {
    sandbox.state.setCredits("all", 0);
    const result = await run("Add an AI voiceover").turn.done;

    expect(result.status).toBe("failed");
    expect(result.error).toMatchObject({ kind: "no_credits", code: 2001 });
    expect(result.cause).toBeInstanceOf(Error);
    expect(Object.keys(result)).not.toContain("cause");
    expect(sandbox.state.runSseRequests).toBe(1);
    expect(sandbox.state.getDraft(sessionId)).toEqual({ t: [], d: 0, m: {} });
    expect([...sandbox.state.accounts.values()][0]?.credits.frozen).toBe(0);
  });

  it("does not send the message when the state cannot be read first", async () => {
    sandbox.inject({ endpoint: "state", kind: { type: "code", code: 1002 } });
    const result = await run("Add an AI voiceover").turn.done;

    expect(result.status).toBe("failed");
    expect(result.error?.kind).toBe("session_not_found");
    expect(runSse()).toHaveLength(0);
  });

  it("completes with the reply when the state after the turn cannot be read", async () => {
    sandbox.scriptTurn({ steps: [say("All done."), { wait: 20 }] });
    const { turn } = startTurnInjectingOnStart("state", 500);
    const result = await turn.done;

    expect(result.status).toBe("completed");
    expect(result.reply).toBe("All done.");
    expect(result.timeline).toBeUndefined();
  });

  it("recovers a cut stream from the state without re-sending the message", async () => {
    sandbox.scriptTurn({
      steps: [
        toolCall("add_bgm"),
        say("Adding background music; preview it in the timeline."),
        { cut: true },
      ],
    });
    sandbox.scriptTurn({ steps: [] }); // a re-send would play this, not the work below
    const { turn, updates } = run("add music", { recoveryPollMs: 60 });
    await until(() => updates.some((u) => u.type === "recovering"));
    sandbox.state.setDraft(sessionId, BGM_DRAFT); // the backend finishes after the drop
    const result = await turn.done;

    expect(result.status).toBe("completed");
    expect(result.recovered).toBe(true);
    expect(result.changes).toEqual([expect.stringMatching(/^Added audio track "BGM"/), "Duration 0s → 10s"]);
    expect(result.timeline).toMatch(/BGM: Lo-fi/);
    expect(result.reply).toContain("{check_state}");
    expect(result.reply).not.toMatch(/preview it in the timeline/);
    expect(result.activity).toEqual(["add_bgm"]);
    expect(sandbox.state.runSseRequests).toBe(1);
    expect(updates.filter((u) => u.type === "recovering")[0]).toEqual({
      type: "recovering",
      attempt: 1,
      max: 5,
    });
  });

  it("recovers when the work lands in the draft right before the cut", async () => {
    sandbox.scriptTurn({ steps: [toolCall("add_bgm"), { setDraft: BGM_DRAFT }, { cut: true }] });
    const result = await run("add music").turn.done;

    expect(result).toMatchObject({ status: "completed", recovered: true, reply: "" });
    expect(result.changes?.[0]).toMatch(/^Added audio track "BGM"/);
    expect(sandbox.state.runSseRequests).toBe(1);
  });

  it("fails after exactly recoveryMaxPolls unchanged polls, still with one request", async () => {
    sandbox.scriptTurn({ steps: [toolCall("add_bgm"), { cut: true }] });
    const { turn, updates } = run("add music", { recoveryMaxPolls: 3, recoveryPollMs: 30 });
    const result = await turn.done;

    expect(result.status).toBe("failed");
    expect(result.error).toEqual({
      kind: "stream_failed",
      message: "The connection to NemoVideo dropped and the timeline has not changed since.",
      nextStep:
        "The backend may still be working: check {check_state} in a few minutes. Send the message again only if you are sure it was lost (that spends credits again).",
    });
    expect(updates.filter((u) => u.type === "recovering")).toEqual([
      { type: "recovering", attempt: 1, max: 3 },
      { type: "recovering", attempt: 2, max: 3 },
      { type: "recovering", attempt: 3, max: 3 },
    ]);
    expect(statePolls()).toHaveLength(1 + 3); // the "before" state, then the polls
    expect(sandbox.state.runSseRequests).toBe(1);
  });

  it("treats a gateway 502 on /run_sse as a maybe-accepted message: recovers from the state, never re-sends", async () => {
    sandbox.inject({ endpoint: "run_sse", kind: { type: "http", status: 502 } });
    const { turn, updates } = run("add music", { recoveryMaxPolls: 2, recoveryPollMs: 30 });
    const result = await turn.done;

    expect(result.status).toBe("failed");
    expect(result.error?.kind).toBe("stream_failed");
    expect(updates.filter((u) => u.type === "recovering")).toHaveLength(2);
    expect(runSse()).toHaveLength(1);
  });

  it("counts failing recovery polls as unchanged", async () => {
    sandbox.scriptTurn({ steps: [{ cut: true }] });
    const { turn } = run("add music", { recoveryMaxPolls: 2, recoveryPollMs: 30 });
    await until(() => runSse().length === 1);
    sandbox.inject({ endpoint: "state", times: 5, kind: { type: "http", status: 500 } });
    const result = await turn.done;

    expect(result.status).toBe("failed");
    expect(result.error?.kind).toBe("stream_failed");
    expect(statePolls()).toHaveLength(1 + 2);
  });

  it("recovers when the response headers never arrive in time", async () => {
    // undici checks this limit on a coarse (~0.5 s) clock
    sandbox.inject({ endpoint: "run_sse", kind: { type: "delay", ms: 2_500 } });
    const { turn, updates } = run("add music", {
      headersTimeoutMs: 50,
      recoveryMaxPolls: 2,
      recoveryPollMs: 30,
    });
    const result = await turn.done;

    expect(result.status).toBe("failed");
    expect(result.error?.kind).toBe("stream_failed");
    expect(updates.filter((u) => u.type === "recovering")).toHaveLength(2);
    expect(updates.some((u) => u.type === "started")).toBe(false);
    expect(runSse()).toHaveLength(1);
  });

  it("fails as stalled after stallMs of heartbeats only, and closes the socket", async () => {
    const beats: TurnStep[] = [];
    for (let i = 0; i < 20; i++)
      beats.push(i % 3 === 0 ? { comment: "ping" } : { heartbeat: true }, { wait: 30 });
    sandbox.scriptTurn({
      steps: [toolCall("generate_video"), { raw: "data:\n\n" }, ...beats, say("too late")],
    });
    const { turn, updates } = run("make a video", { stallMs: 150 });
    const result = await turn.done;

    expect(result.status).toBe("failed");
    expect(result.error?.kind).toBe("stream_failed");
    expect(result.error?.message).toMatch(/stalled/);
    expect(result.error?.nextStep).toContain("{check_state}");
    expect(updates.map((u) => u.type)).toContain("stalled");
    expect(result.durationMs).toBeLessThan(500);
    await until(socketClosed);
    expect(runSse()).toHaveLength(1);
  });

  it("resets the stall clock on every real event", async () => {
    const steps: TurnStep[] = [];
    for (let i = 0; i < 4; i++) {
      steps.push({ heartbeat: true }, { wait: 50 }, { comment: "ping" }, { wait: 50 }, toolCall(`tool_${i}`));
    }
    sandbox.scriptTurn({ steps });
    const result = await run("make a video", { stallMs: 250 }).turn.done;

    expect(result.status).toBe("completed");
    expect(result.activity).toEqual(["tool_0", "tool_1", "tool_2", "tool_3"]);
  });

  it("times out after streamTimeoutMs and closes the socket", async () => {
    sandbox.scriptTurn({ steps: [toolCall("generate_video"), { hang: true }] });
    const started = Date.now();
    const result = await run("make a video", { streamTimeoutMs: 500, stallMs: 10_000 }).turn.done;

    expect(result.status).toBe("failed");
    expect(result.error?.kind).toBe("timeout");
    expect(result.error?.message).toBe(
      "NemoVideo took longer than 500 ms on this message; it may still finish.",
    );
    expect(result.error?.nextStep).toContain("{check_state}");
    expect(Date.now() - started).toBeGreaterThanOrEqual(490);
    expect(Date.now() - started).toBeLessThan(1_500);
    await until(socketClosed);
    expect(runSse()).toHaveLength(1);
  });

  it("cancels mid-stream at once and closes the socket", async () => {
    sandbox.scriptTurn({ steps: [toolCall("generate_video"), { hang: true }] });
    const { turn, updates } = run("make a video");
    await until(() => updates.some((u) => u.type === "tool_call"));
    expect(turn.status).toBe("running");
    const before = Date.now();
    turn.cancel();
    expect(turn.status).toBe("cancelled");
    const result = await turn.done;

    expect(Date.now() - before).toBeLessThan(100);
    expect(result.status).toBe("cancelled");
    expect(result.error?.kind).toBe("cancelled");
    expect(result.activity).toEqual(["generate_video"]);
    await until(socketClosed, 1_000);
  });

  it("cancels through the external signal, also during recovery sleeps", async () => {
    sandbox.scriptTurn({ steps: [{ cut: true }] });
    const controller = new AbortController();
    const { turn, updates } = run("add music", { recoveryPollMs: 10_000 }, controller.signal);
    await until(() => runSse().length === 1);
    await new Promise((r) => setTimeout(r, 100)); // the stream has dropped: recovery sleeps 5 s
    expect(turn.status).toBe("running");
    controller.abort();
    const result = await turn.done;

    expect(result.status).toBe("cancelled");
    expect(result.error?.kind).toBe("cancelled");
    expect(result.error?.message).toMatch(/may still finish/);
    expect(result.durationMs).toBeLessThan(1_000);
    expect(updates.some((u) => u.type === "recovering")).toBe(false);
  });

  it("cancels before anything is sent when the signal already fired", async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await run("add music", {}, controller.signal).turn.done;

    expect(result.status).toBe("cancelled");
    expect(result.error?.message).toMatch(/before the message was sent/);
    expect(runSse()).toHaveLength(0);
  });

  it("replays every update to a late iterator, which ends after finished", async () => {
    const { turn, updates } = run("Add an AI voiceover");
    const early: TurnUpdate[] = [];
    const earlyDone = (async () => {
      for await (const u of turn) early.push(u);
    })();
    await turn.done;
    await earlyDone;
    const late: TurnUpdate[] = [];
    for await (const u of turn) late.push(u);

    expect(late).toEqual(updates);
    expect(early).toEqual(updates);
    expect(late.at(-1)?.type).toBe("finished");
  });

  it("wait(ms) gives undefined while running, then the result", async () => {
    sandbox.scriptTurn({ steps: [toolCall("add_bgm"), { wait: 300 }, say("Done.")] });
    const { turn } = run("add music");

    const t0 = Date.now();
    expect(await turn.wait(50)).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(250);
    const aborted = new AbortController();
    setTimeout(() => aborted.abort(), 20);
    expect(await turn.wait(5_000, aborted.signal)).toBeUndefined();
    const result = (await turn.wait(5_000)) as TurnResult;
    expect(result.status).toBe("completed");
    expect(result.reply).toBe("Done.");
    expect(await turn.wait(0)).toBe(result);
  });

  it("rejects an empty message without sending anything", () => {
    const count = sandbox.requests.length;
    expect(() => run("   \n\t ")).toThrow(InvalidInputError);
    expect(sandbox.requests).toHaveLength(count);
  });
});

/** Starts a turn that injects a fault on `endpoint` as soon as the stream opens (after the "before" state). */
function startTurnInjectingOnStart(endpoint: "state", status: number) {
  const turn = startTurn(client, {
    sessionId,
    message: "say hi",
    limits: LIMITS,
    onUpdate: (u) => {
      if (u.type === "started") sandbox.inject({ endpoint, times: 2, kind: { type: "http", status } });
    },
  });
  return { turn };
}
