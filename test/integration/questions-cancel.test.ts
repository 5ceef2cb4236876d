import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { VOICE_OPTIONS } from "../../src/sandbox/turns.js";
import { resultText as txt, sc } from "../helpers/results.js";
import { type MemoryServer, startMemoryServer } from "../helpers/mcp-memory.js";

const runSseTexts = (mem: MemoryServer) =>
  mem.sandbox.requests
    .filter((r) => r.path === "/run_sse")
    .map((r) => (r.body as { new_message: { parts: Array<{ text: string }> } }).new_message.parts[0]?.text);

let mem: MemoryServer | undefined;
afterEach(async () => {
  await mem?.close();
  mem = undefined;
});

describe("the agent's questions over MCP", () => {
  it("returns awaiting_input with the question and its options; the answer goes back with send_message", async () => {
    mem = await startMemoryServer();
    const asked = await mem.client.callTool({
      name: "send_message",
      arguments: { message: "add a voiceover and let me choose the voice", wait_seconds: 30 },
    });
    expect(asked.isError).toBeFalsy();
    const view = sc(asked);
    expect(view.status).toBe("awaiting_input");
    expect(view.question).toMatchObject({ id: "voice", prompt: "Which voice should the voiceover use?" });
    expect(view.question.options).toEqual(VOICE_OPTIONS);
    expect(view.changes).toBeUndefined();
    expect(view.credits_used).toBeUndefined();
    const text = txt(asked);
    expect(text).toContain("Which voice should the voiceover use?");
    for (const option of VOICE_OPTIONS) expect(text).toContain(option);
    expect(text).toMatch(/send_message/);
    expect(text).not.toMatch(/without a reply|did not change/);

    // the guard is released: the answer is the next message of the same session
    const answered = await mem.client.callTool({
      name: "send_message",
      arguments: { message: VOICE_OPTIONS[1], session_id: view.session_id, wait_seconds: 30 },
    });
    expect(answered.isError, txt(answered)).toBeFalsy();
    expect(sc(answered)).toMatchObject({ status: "completed", credits_used: 5 });
    expect(sc(answered).activity).toEqual(["generate_voiceover"]);
    expect(txt(answered)).toContain("This turn cost 5 credits.");
    expect(runSseTexts(mem)).toEqual(["add a voiceover and let me choose the voice", VOICE_OPTIONS[1]]);
  });

  it("get_turn reports the same awaiting_input view for a question turn", async () => {
    mem = await startMemoryServer();
    const started = await mem.client.callTool({
      name: "send_message",
      arguments: { message: "add a voiceover, ask me which voice", wait_seconds: 0 },
    });
    const turnId = sc(started).turn_id as string;
    const picked = await mem.client.callTool({
      name: "get_turn",
      arguments: { turn_id: turnId, wait_seconds: 30 },
    });
    expect(sc(picked).status).toBe("awaiting_input");
    expect(sc(picked).question.options).toEqual(VOICE_OPTIONS);
  });
});

describe("asking the person through elicitation", () => {
  const ASK = "add a voiceover and let me choose the voice";

  async function withElicitation(answer: (params: any) => Record<string, unknown>) {
    const asked: any[] = [];
    const m = await startMemoryServer({
      clientCapabilities: { capabilities: { elicitation: { form: {} } } },
      beforeConnect: (client) =>
        client.setRequestHandler(ElicitRequestSchema, async (request) => {
          asked.push(request.params);
          return answer(request.params) as any;
        }),
    });
    return { m, asked };
  }

  it("asks in form mode with an enum of the options and sends the choice as the next message, in the same call", async () => {
    const { m, asked } = await withElicitation((params) => ({
      action: "accept",
      content: { answer1: params.requestedSchema.properties.answer1.enum[2] },
    }));
    mem = m;
    const result = await m.client.callTool({
      name: "send_message",
      arguments: { message: ASK, wait_seconds: 30 },
    });
    expect(result.isError, txt(result)).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(asked[0].message).toContain("Which voice should the voiceover use?");
    expect(asked[0].requestedSchema.properties.answer1).toMatchObject({
      type: "string",
      enum: VOICE_OPTIONS,
    });
    expect(sc(result)).toMatchObject({ status: "completed", credits_used: 5 });
    expect(runSseTexts(m)).toEqual([ASK, VOICE_OPTIONS[2]]);
  });

  it("returns awaiting_input on decline, sending nothing more", async () => {
    const { m, asked } = await withElicitation(() => ({ action: "decline" }));
    mem = m;
    const result = await m.client.callTool({
      name: "send_message",
      arguments: { message: ASK, wait_seconds: 30 },
    });
    expect(asked).toHaveLength(1);
    expect(sc(result).status).toBe("awaiting_input");
    expect(runSseTexts(m)).toEqual([ASK]);
  });

  it("does not ask when the call has no time left (wait_seconds 0 returns running)", async () => {
    const { m, asked } = await withElicitation(() => ({ action: "accept", content: { answer1: "x" } }));
    mem = m;
    const result = await m.client.callTool({
      name: "send_message",
      arguments: { message: ASK, wait_seconds: 0 },
    });
    expect(sc(result).status).toBe("running");
    expect(asked).toEqual([]);
  });
});

describe("session language", () => {
  const languages = (m: MemoryServer) =>
    m.sandbox.requests
      .filter((r) => r.path === "/api/tasks/me/with-session/nemo_agent")
      .map((r) => (r.body as { language: string }).language);

  it("creates the session in the language asked for, else the script of the message, else the skill's", async () => {
    mem = await startMemoryServer();
    await mem.client.callTool({
      name: "send_message",
      arguments: { message: "加一段背景音乐", wait_seconds: 5 },
    });
    expect(languages(mem)).toEqual(["zh"]);
    await mem.client.callTool({ name: "create_session", arguments: {} });
    await mem.client.callTool({ name: "create_session", arguments: { language: "pt-BR" } });
    expect(languages(mem)).toEqual(["zh", "en", "pt-BR"]);
    const bad = await mem.client.callTool({
      name: "send_message",
      arguments: { message: "hi", language: "english!" },
    });
    expect(bad.isError).toBe(true);
    expect(txt(bad)).toMatch(/language/);
  });
});

describe("cancel_export", () => {
  async function rendering(m: MemoryServer): Promise<string> {
    const upload = await m.client.callTool({
      name: "upload_media",
      arguments: { urls: ["https://cdn.example.com/clips/intro.mp4"] },
    });
    expect(upload.isError, txt(upload)).toBeFalsy();
    const started = await m.client.callTool({ name: "export_video", arguments: { wait_seconds: 0 } });
    expect(sc(started).status, txt(started)).toBe("rendering");
    return sc(started).render_id as string;
  }

  it("stops the export here and on NemoVideo; get_export then says cancelled and no file is written", async () => {
    mem = await startMemoryServer({ sandboxOptions: { renderSteps: 1_000 } });
    const renderId = await rendering(mem);
    const cancelled = await mem.client.callTool({
      name: "cancel_export",
      arguments: { render_id: renderId },
    });
    expect(cancelled.isError, txt(cancelled)).toBeFalsy();
    expect(sc(cancelled)).toMatchObject({ render_id: renderId, status: "cancelled" });
    expect(txt(cancelled)).toMatch(/NemoVideo stopped the render/);
    expect(
      mem.sandbox.requests.filter((r) => r.path === `/api/render/proxy/lambda/${renderId}/cancel`),
    ).toHaveLength(1);
    expect(mem.sandbox.state.renders.get(renderId)?.status).toBe("cancelled");
    const after = await mem.client.callTool({ name: "get_export", arguments: { render_id: renderId } });
    expect(sc(after).status).toBe("cancelled");
    expect(txt(after)).toMatch(/export_video/);
    expect(await readdir(join(mem.dir, "exports"))).toEqual([]);
    // idempotent: a second cancel changes nothing and sends nothing
    const again = await mem.client.callTool({ name: "cancel_export", arguments: { render_id: renderId } });
    expect(sc(again).status).toBe("cancelled");
    expect(mem.sandbox.requests.filter((r) => r.path.endsWith("/cancel"))).toHaveLength(1);
  });

  it("reports a finished export as completed and leaves its file", async () => {
    mem = await startMemoryServer();
    const upload = await mem.client.callTool({
      name: "upload_media",
      arguments: { urls: ["https://cdn.example.com/clips/intro.mp4"] },
    });
    expect(upload.isError).toBeFalsy();
    const done = await mem.client.callTool({ name: "export_video", arguments: { wait_seconds: 30 } });
    expect(sc(done).status, txt(done)).toBe("completed");
    const cancelled = await mem.client.callTool({
      name: "cancel_export",
      arguments: { render_id: sc(done).render_id },
    });
    expect(sc(cancelled).status).toBe("completed");
    expect(await readdir(join(mem.dir, "exports"))).toHaveLength(1);
    expect(mem.sandbox.requests.filter((r) => r.path.endsWith("/cancel"))).toEqual([]);
  });

  it("a cancelled export_video call (notifications/cancelled) cancels the render too", async () => {
    mem = await startMemoryServer({ sandboxOptions: { renderSteps: 1_000 } });
    const upload = await mem.client.callTool({
      name: "upload_media",
      arguments: { urls: ["https://cdn.example.com/clips/intro.mp4"] },
    });
    expect(upload.isError).toBeFalsy();
    const controller = new AbortController();
    const call = mem.client
      .callTool({ name: "export_video", arguments: { wait_seconds: 60 } }, undefined, {
        signal: controller.signal,
      })
      .catch((err: unknown) => err);
    const sandbox = mem.sandbox;
    await until(() => sandbox.state.renders.size === 1);
    const renderId = [...sandbox.state.renders.keys()][0] as string;
    controller.abort();
    await call;
    await until(() => sandbox.state.renders.get(renderId)?.status === "cancelled");
    const view = await mem.client.callTool({ name: "get_export", arguments: { render_id: renderId } });
    expect(sc(view).status).toBe("cancelled");
    expect(await readdir(join(mem.dir, "exports"))).toEqual([]);
  });

  it("refuses an unknown render id with the same words as get_export", async () => {
    mem = await startMemoryServer();
    const result = await mem.client.callTool({
      name: "cancel_export",
      arguments: { render_id: "render_nope" },
    });
    expect(result.isError).toBe(true);
    expect(txt(result)).toMatch(/No export with render id "render_nope"/);
  });
});

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
