import { existsSync } from "node:fs";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ListRootsRequestSchema, LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { type MemoryServer, startMemoryServer } from "../helpers/mcp-memory.js";
import { ROOT, SAMPLE } from "../helpers/paths.js";
import { resultText as txt, sc } from "../helpers/results.js";

const SNAPSHOT = join(ROOT, "test", "tools.snapshot.json");

let mem: MemoryServer | undefined;
afterEach(async () => {
  await mem?.close();
  mem = undefined;
});

describe("the public tool surface", () => {
  it("matches the checked-in snapshot (names, schemas, annotations)", async () => {
    mem = await startMemoryServer();
    const { tools } = await mem.client.listTools();
    const surface = tools.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: t.inputSchema,
      outputSchema: t.outputSchema,
      annotations: t.annotations,
      _meta: t._meta,
    }));
    const current = `${JSON.stringify(surface, null, 2)}\n`;
    if (process.env.UPDATE_SNAPSHOT === "1" || !existsSync(SNAPSHOT)) {
      if (process.env.CI)
        throw new Error("test/tools.snapshot.json is missing; run UPDATE_SNAPSHOT=1 npx vitest run");
      await writeFile(SNAPSHOT, current);
    }
    expect(current).toBe(await readFile(SNAPSHOT, "utf8"));
  });

  it("sets all four annotations, a title and an output schema on every tool", async () => {
    mem = await startMemoryServer();
    const { tools } = await mem.client.listTools();
    expect(tools).toHaveLength(10);
    for (const tool of tools) {
      expect(tool.title).toBeTruthy();
      expect(tool.description?.length).toBeGreaterThan(40);
      expect(tool.outputSchema?.type).toBe("object");
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
        expect(typeof tool.annotations?.[hint], `${tool.name} ${hint}`).toBe("boolean");
      }
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.send_message?.description).toMatch(/credits/i);
    expect(byName.export_video?.description).toMatch(/free/i);
  });

  it("answers invalid arguments with the schema's message", async () => {
    mem = await startMemoryServer();
    const bad = await mem.client.callTool({
      name: "send_message",
      arguments: { message: "hi", wait_seconds: 5000 },
    });
    expect(bad.isError).toBe(true);
    expect(txt(bad)).toMatch(/wait_seconds can be at most 900/);
    const missing = await mem.client.callTool({ name: "get_turn", arguments: {} });
    expect(missing.isError).toBe(true);
    expect(txt(missing)).toMatch(/turn_id/);
  });
});

describe("progress", () => {
  it("sends 'Still working…' while the backend only sends heartbeats", async () => {
    mem = await startMemoryServer({ env: { NEMO_STILL_WORKING_MS: "100", NEMO_STALL_MS: "5000" } });
    mem.sandbox.scriptTurn({
      steps: [
        {
          data: {
            author: "nemo_agent",
            content: { role: "model", parts: [{ functionCall: { name: "generate_video", args: {} } }] },
          },
        },
        ...Array.from({ length: 12 }, () => [{ heartbeat: true as const }, { wait: 40 }]).flat(),
        {
          data: {
            author: "nemo_agent",
            content: { role: "model", parts: [{ text: "Your video is ready." }] },
          },
        },
      ],
    });
    const seen: Array<{ progress: number; message?: string | undefined }> = [];
    const result = await mem.client.callTool(
      { name: "send_message", arguments: { message: "generate a video", wait_seconds: 30 } },
      undefined,
      { onprogress: (p) => seen.push(p) },
    );
    expect(sc(result).status).toBe("completed");
    expect(seen.map((p) => p.message)).toContain("Backend is running generate_video");
    expect(seen.filter((p) => p.message === "Still working…").length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
  });

  it("reports render percent and download bytes for an export, monotonically", async () => {
    mem = await startMemoryServer({ sandboxOptions: { stepMs: 1, renderSteps: 4 } });
    await copyFile(SAMPLE, join(mem.dir, "clip.mp4"));
    await mem.client.callTool({ name: "upload_media", arguments: { paths: [join(mem.dir, "clip.mp4")] } });
    const seen: Array<{ progress: number; total?: number | undefined; message?: string | undefined }> = [];
    const result = await mem.client.callTool({ name: "export_video", arguments: {} }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    expect(sc(result).status).toBe("completed");
    expect(seen.some((p) => /^Rendering \d+%$/.test(p.message ?? ""))).toBe(true);
    expect(seen.some((p) => /^Downloading/.test(p.message ?? ""))).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
  });
});

describe("cancellation", () => {
  it("cancel_turn aborts a running turn and closes its stream", async () => {
    mem = await startMemoryServer();
    mem.sandbox.scriptTurn({ steps: [{ heartbeat: true }, { hang: true }] });
    const started = sc(
      await mem.client.callTool({
        name: "send_message",
        arguments: { message: "generate", wait_seconds: 0.2 },
      }),
    );
    expect(started.status).toBe("running");
    const cancelled = await mem.client.callTool({
      name: "cancel_turn",
      arguments: { turn_id: started.turn_id },
    });
    expect(sc(cancelled)).toEqual({ turn_id: started.turn_id, status: "cancelled" });
    const after = await mem.client.callTool({
      name: "get_turn",
      arguments: { turn_id: started.turn_id, wait_seconds: 0 },
    });
    expect(sc(after).status).toBe("cancelled");
    // A second message in the same session is accepted once the first is cancelled.
    const next = await mem.client.callTool({ name: "send_message", arguments: { message: "hello" } });
    expect(sc(next).status).toBe("completed");
  });

  it("refuses a second message while one is still running in the session", async () => {
    mem = await startMemoryServer();
    mem.sandbox.scriptTurn({ steps: [{ heartbeat: true }, { wait: 600 }] });
    const first = sc(
      await mem.client.callTool({
        name: "send_message",
        arguments: { message: "generate", wait_seconds: 0 },
      }),
    );
    expect(first.status).toBe("running");
    const second = await mem.client.callTool({ name: "send_message", arguments: { message: "generate" } });
    expect(second.isError).toBe(true);
    expect(txt(second)).toContain(first.turn_id);
    const done = sc(
      await mem.client.callTool({
        name: "get_turn",
        arguments: { turn_id: first.turn_id, wait_seconds: 10 },
      }),
    );
    expect(done.status).toBe("completed");
    expect(mem.sandbox.state.runSseRequests).toBe(1);
  });
});

describe("resources and prompts", () => {
  it("serves the timeline as JSON and text, and each bundled SKILL.md", async () => {
    mem = await startMemoryServer();
    await copyFile(SAMPLE, join(mem.dir, "clip.mp4"));
    const upload = sc(
      await mem.client.callTool({ name: "upload_media", arguments: { paths: [join(mem.dir, "clip.mp4")] } }),
    );
    const sid = upload.session_id as string;
    const { resources } = await mem.client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toContain(`nemovideo://sessions/${sid}/state`);
    expect(uris).toContain(`nemovideo://sessions/${sid}/timeline`);
    expect(uris).toContain("nemovideo://skills/ai-voiceover-for");
    expect(uris).toContain("nemovideo://skills/ai-video-generator-ai");
    const json = await mem.client.readResource({ uri: `nemovideo://sessions/${sid}/state` });
    const state = JSON.parse((json.contents[0] as { text: string }).text);
    expect(state.exportable).toBe(true);
    expect(state.tracks[0].kind).toBe("video");
    const text = await mem.client.readResource({ uri: `nemovideo://sessions/${sid}/timeline` });
    expect((text.contents[0] as { text: string }).text).toMatch(
      /^Timeline \(1 track\): 1\. Video: clip\.mp4/,
    );
    const skill = await mem.client.readResource({ uri: "nemovideo://skills/ai-voiceover-for" });
    expect((skill.contents[0] as { text: string }).text).toMatch(/^---\nname: ai-voiceover-for/);
  });

  it("offers one quick-start prompt per bundled skill", async () => {
    mem = await startMemoryServer();
    const { prompts } = await mem.client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(["ai-video-generator-ai", "ai-voiceover-for"]);
    const prompt = await mem.client.getPrompt({
      name: "ai-voiceover-for",
      arguments: { media_path: "/videos/demo.mp4", instruction: "add a calm voiceover" },
    });
    const body = (prompt.messages[0]?.content as { text: string } | undefined)?.text ?? "";
    expect(body).toContain("/videos/demo.mp4");
    expect(body).toContain("add a calm voiceover");
    expect(body).toMatch(/upload_media[\s\S]*send_message[\s\S]*export_video/);
  });
});

describe("files and roots", () => {
  it("uses the client's MCP roots for uploads and refreshes them on roots/list_changed", async () => {
    let roots: string[] = [];
    mem = await startMemoryServer({
      clientCapabilities: { capabilities: { roots: { listChanged: true } } },
      beforeConnect: (client) =>
        client.setRequestHandler(ListRootsRequestSchema, async () => ({
          roots: roots.map((r) => ({ uri: pathToFileURL(r).href, name: "root" })),
        })),
    });
    const inside = join(mem.dir, "work");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(inside, { recursive: true });
    await copyFile(SAMPLE, join(inside, "a.mp4"));
    await copyFile(SAMPLE, join(mem.dir, "b.mp4"));
    roots = [inside];
    const ok = await mem.client.callTool({
      name: "upload_media",
      arguments: { paths: [join(inside, "a.mp4")] },
    });
    expect(ok.isError).toBeFalsy();
    // b.mp4 is inside NEMO_ALLOWED_DIRS but outside the client's roots, which take precedence.
    const outside = await mem.client.callTool({
      name: "upload_media",
      arguments: { paths: [join(mem.dir, "b.mp4")] },
    });
    expect(outside.isError).toBe(true);
    roots = [mem.dir];
    await mem.client.sendRootsListChanged();
    await new Promise((r) => setTimeout(r, 50));
    const now = await mem.client.callTool({
      name: "upload_media",
      arguments: { paths: [join(mem.dir, "b.mp4")] },
    });
    expect(now.isError).toBeFalsy();
  });
});

describe("logging", () => {
  it("sends MCP logging notifications with the token redacted", async () => {
    mem = await startMemoryServer();
    const messages: string[] = [];
    mem.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      messages.push(JSON.stringify(n.params));
    });
    await mem.client.setLoggingLevel("debug");
    await mem.client.callTool({ name: "create_session", arguments: {} });
    const token = (await mem.runtime.client.auth.get()).token;
    mem.runtime.logger.info(`testing redaction of ${token}`);
    await new Promise((r) => setTimeout(r, 20));
    expect(messages.some((m) => m.includes("Created session"))).toBe(true);
    expect(messages.some((m) => m.includes("testing redaction of [redacted]"))).toBe(true);
    expect(messages.join("\n")).not.toContain(token);
    expect(mem.logs.join("")).not.toContain(token);
  });
});

describe("MCP tasks (protocol 2025-11-25)", () => {
  it("offers send_message and export_video as tasks to clients that declare tasks support", async () => {
    mem = await startMemoryServer({
      clientCapabilities: { capabilities: { tasks: { list: {}, cancel: {} } } },
    });
    const { tools } = await mem.client.listTools();
    const support = Object.fromEntries(tools.map((t) => [t.name, t.execution?.taskSupport]));
    expect(support.send_message).toBe("optional");
    expect(support.export_video).toBe("optional");
    expect(support.get_state).not.toBe("optional");

    const kinds: string[] = [];
    let final: unknown;
    for await (const message of mem.client.experimental.tasks.callToolStream({
      name: "send_message",
      arguments: { message: "add a natural AI voiceover in English" },
      task: { ttl: 60_000 },
    })) {
      kinds.push(message.type);
      if (message.type === "result") final = message.result;
      if (message.type === "error") throw message.error;
    }
    expect(kinds[0]).toBe("taskCreated");
    expect(kinds.at(-1)).toBe("result");
    expect(sc(final).status).toBe("completed");
    expect(sc(final).activity).toContain("generate_voiceover");
    expect(mem.sandbox.state.runSseRequests).toBe(1);
  });

  it("keeps bounded waits and progress on a plain tools/call from a client that declares tasks", async () => {
    mem = await startMemoryServer({
      clientCapabilities: { capabilities: { tasks: { list: {}, cancel: {} } } },
    });
    const { tools } = await mem.client.listTools();
    expect(tools.find((t) => t.name === "send_message")?.execution?.taskSupport).toBe("optional");
    mem.sandbox.scriptTurn({ steps: [{ heartbeat: true }, { wait: 3_000 }] });
    const progress: string[] = [];
    const startedAt = Date.now();
    const started = sc(
      await mem.client.callTool(
        { name: "send_message", arguments: { message: "hi", wait_seconds: 0.3 } },
        undefined,
        {
          onprogress: (p) => progress.push(p.message ?? ""),
        },
      ),
    );
    // the tool's own wait (0.3 s), not the SDK's polling of a task until the turn ends
    expect(started.status).toBe("running");
    expect(Date.now() - startedAt).toBeLessThan(2_500);
    expect(progress).toContain("NemoVideo is working on your message…");
    const done = sc(
      await mem.client.callTool({
        name: "get_turn",
        arguments: { turn_id: started.turn_id, wait_seconds: 30 },
      }),
    );
    expect(done.status).toBe("completed");
    expect(mem.sandbox.state.runSseRequests).toBe(1);
  });

  it("keeps the bounded-wait path for clients without tasks support", async () => {
    mem = await startMemoryServer();
    const { tools } = await mem.client.listTools();
    expect(tools.find((t) => t.name === "send_message")?.execution?.taskSupport).not.toBe("optional");
    mem.sandbox.scriptTurn({ steps: [{ heartbeat: true }, { wait: 400 }] });
    const started = sc(
      await mem.client.callTool({ name: "send_message", arguments: { message: "hi", wait_seconds: 0 } }),
    );
    expect(started.status).toBe("running");
  });
});

describe("a session that vanished (1002)", () => {
  it("send_message says the old timeline is gone and names the new current session", async () => {
    mem = await startMemoryServer();
    const first = sc(await mem.client.callTool({ name: "create_session", arguments: {} }));
    mem.sandbox.state.deleteSession(first.session_id);
    const result = await mem.client.callTool({ name: "send_message", arguments: { message: "add a title" } });
    expect(result.isError).toBe(true);
    expect(txt(result)).toMatch(/1002/);
    expect(txt(result)).toMatch(/timeline is gone/);
    const current = await mem.runtime.sessions.current();
    expect(current?.sessionId).not.toBe(first.session_id);
    expect(txt(result)).toContain(current?.sessionId);
    expect(mem.sandbox.state.runSseRequests).toBe(0);
    const next = await mem.client.callTool({ name: "send_message", arguments: { message: "hello" } });
    expect(sc(next).session_id).toBe(current?.sessionId);
  });
});
