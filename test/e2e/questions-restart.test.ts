/**
 * Issue 11 over stdio against the sandbox, with the built server: the agent's questions (answered through
 * elicitation in the same call, or relayed as awaiting_input), cancel_export, and a turn that survives kill -9.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { startSandbox } from "../../src/sandbox/index.js";
import { VOICE_OPTIONS } from "../../src/sandbox/turns.js";
import { type ChildServer, startChild, stopChild } from "../helpers/mcp-child.js";
import { resultText, sc } from "../helpers/results.js";

const ASK = "add a voiceover and let me choose the voice";

function runSseTexts(child: ChildServer): string[] {
  return child.sandbox.requests
    .filter((r) => r.path === "/run_sse")
    .map(
      (r) => (r.body as { new_message: { parts: Array<{ text: string }> } }).new_message.parts[0]?.text ?? "",
    );
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("the agent's questions (stdio)", () => {
  it("(a) with elicitation: the person picks an option in the same call and the second /run_sse carries it", async () => {
    const child = await startChild({
      clientCapabilities: { capabilities: { elicitation: { form: {} } } },
    });
    const asked: Array<{ message: string; requestedSchema: any }> = [];
    child.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params as (typeof asked)[number]);
      return { action: "accept", content: { answer1: VOICE_OPTIONS[0] as string } };
    });
    try {
      const result = await child.client.callTool({
        name: "send_message",
        arguments: { message: ASK, wait_seconds: 30 },
      });
      expect(result.isError, resultText(result)).toBeFalsy();
      expect(asked).toHaveLength(1);
      expect(asked[0]?.requestedSchema.properties.answer1.enum).toEqual(VOICE_OPTIONS);
      expect(sc(result)).toMatchObject({ status: "completed", credits_used: 5 });
      expect(runSseTexts(child)).toEqual([ASK, VOICE_OPTIONS[0]]);
      expect(child.sandbox.state.runSseRequests).toBe(2);
    } finally {
      await stopChild(child);
    }
  });

  it("(b) without elicitation: awaiting_input with the question, then send_message with the answer", async () => {
    const child = await startChild();
    try {
      const asked = await child.client.callTool({
        name: "send_message",
        arguments: { message: ASK, wait_seconds: 30 },
      });
      const view = sc(asked);
      expect(view.status).toBe("awaiting_input");
      expect(view.question.options).toEqual(VOICE_OPTIONS);
      for (const option of VOICE_OPTIONS) expect(resultText(asked)).toContain(option);
      const answered = await child.client.callTool({
        name: "send_message",
        arguments: { message: VOICE_OPTIONS[2], session_id: view.session_id, wait_seconds: 30 },
      });
      expect(sc(answered)).toMatchObject({ status: "completed", activity: ["generate_voiceover"] });
      expect(runSseTexts(child)).toEqual([ASK, VOICE_OPTIONS[2]]);
    } finally {
      await stopChild(child);
    }
  });
});

describe("cancel_export (stdio)", () => {
  it("the backend sees the cancel, get_export says cancelled, and no file is written", async () => {
    const child = await startChild({ sandboxOptions: { renderSteps: 10_000 } });
    try {
      const upload = await child.client.callTool({
        name: "upload_media",
        arguments: { urls: ["https://cdn.example.com/clips/intro.mp4"] },
      });
      expect(upload.isError, resultText(upload)).toBeFalsy();
      const started = await child.client.callTool({ name: "export_video", arguments: { wait_seconds: 1 } });
      const renderId = sc(started).render_id as string;
      expect(sc(started).status).toBe("rendering");
      const cancelled = await child.client.callTool({
        name: "cancel_export",
        arguments: { render_id: renderId },
      });
      expect(sc(cancelled)).toMatchObject({ render_id: renderId, status: "cancelled" });
      const cancels = child.sandbox.requests.filter(
        (r) => r.method === "POST" && r.path === `/api/render/proxy/lambda/${renderId}/cancel`,
      );
      expect(cancels).toHaveLength(1);
      const after = await child.client.callTool({ name: "get_export", arguments: { render_id: renderId } });
      expect(sc(after).status).toBe("cancelled");
      expect(sc(after).file).toBeUndefined();
      expect(await readdir(child.outputDir)).toEqual([]);
    } finally {
      await stopChild(child);
    }
  });
});

describe("a turn that survives kill -9 (stdio)", () => {
  it("restart → get_turn recovers it from the state: completed, recovered, changes; one /run_sse", async () => {
    // a slow generation: the backend goes on after the server process is killed
    const sandbox = await startSandbox({ stepMs: 150, heartbeatMs: 100, renderSteps: 2 });
    const env = { NEMO_RECOVERY_POLL_MS: "500" };
    const first = await startChild({ sandbox, env });
    let second: ChildServer | undefined;
    try {
      const started = await first.client.callTool({
        name: "send_message",
        arguments: { message: "generate a 10-second video from my script", wait_seconds: 0 },
      });
      const turnId = sc(started).turn_id as string;
      const sessionId = sc(started).session_id as string;
      expect(sc(started).status).toBe("running");
      await until(() => sandbox.state.runSseRequests === 1);
      // the record holds the baseline before the message went out
      const record = JSON.parse(await readFile(join(first.stateDir, "jobs", `${turnId}.json`), "utf8"));
      expect(record).toMatchObject({ status: "running", baseline: { timeline: { tracks: [] } } });
      const pid = (first.client.transport as StdioClientTransport | undefined)?.pid;
      expect(pid).toBeGreaterThan(0);
      process.kill(pid as number, "SIGKILL");
      await first.close();

      second = await startChild({ sandbox, env, dir: first.dir });
      // the session stays guarded until the recovery has ended
      const again = await second.client.callTool({
        name: "send_message",
        arguments: { message: "add background music", session_id: sessionId, wait_seconds: 0 },
      });
      expect(again.isError).toBe(true);
      expect(resultText(again)).toContain(turnId);
      const recovered = await second.client.callTool({
        name: "get_turn",
        arguments: { turn_id: turnId, wait_seconds: 30 },
      });
      expect(recovered.isError, resultText(recovered)).toBeFalsy();
      const view = sc(recovered);
      expect(view).toMatchObject({ status: "completed", recovered: true, turn_id: turnId });
      expect(view.changes.length).toBeGreaterThan(0);
      expect(view.timeline).toMatch(/AI generated video/);
      expect(sandbox.state.runSseRequests).toBe(1);
      // the guard is released once recovered
      const next = await second.client.callTool({
        name: "send_message",
        arguments: { message: 'add a title "Done"', session_id: sessionId, wait_seconds: 30 },
      });
      expect(next.isError, resultText(next)).toBeFalsy();
      expect(sandbox.state.runSseRequests).toBe(2);
    } finally {
      if (second) await stopChild(second, false);
      await stopChild(first, true);
    }
  });
});

describe("token codes from NemoVideo's own CLI (stdio)", () => {
  it("1010 → a new anonymous token, and the call is retried once", async () => {
    const child = await startChild();
    try {
      const first = await child.client.callTool({ name: "get_credits", arguments: {} });
      expect(first.isError, resultText(first)).toBeFalsy();
      const token0 = JSON.parse(await readFile(join(child.stateDir, "token.json"), "utf8"));
      child.sandbox.inject({ endpoint: "credits", kind: { type: "code", code: 1010 } });
      const again = await child.client.callTool({ name: "get_credits", arguments: {} });
      expect(again.isError, resultText(again)).toBeFalsy();
      expect(sc(again).available).toBe(100);
      expect(child.sandbox.state.tokenRequests).toBe(2);
      expect(child.sandbox.requests.filter((r) => r.path === "/api/credits/balance/simple")).toHaveLength(3);
      const token1 = JSON.parse(await readFile(join(child.stateDir, "token.json"), "utf8"));
      expect(JSON.stringify(token1)).not.toBe(JSON.stringify(token0));
    } finally {
      await stopChild(child);
    }
  });
});
