import type { AddressInfo } from "node:net";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { createServer as createMswServer } from "@mswjs/http-middleware";
import { type HttpHandler, HttpResponse, http } from "msw";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { Logger } from "../../src/log.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { createServer } from "../../src/server/server.js";
import { sc } from "../helpers/results.js";

// A second, independent fake of the contract, written as msw handlers and served on a real port through
// @mswjs/http-middleware. It answers in the contract's other styles (bare fields, {success,data}, CRLF
// SSE with partial text, no claim endpoint), so the client is not only tuned to our own sandbox.

const VIDEO = Buffer.alloc(64 * 1024, 7);
const VOICE_REPLY = "Voiceover added. Click the Export button when you are ready.";

/** msw handlers as an express app; http-middleware types msw through its CJS declarations, hence the cast. */
function serve(...handlers: HttpHandler[]) {
  return createMswServer(...(handlers as unknown as Parameters<typeof createMswServer>));
}

/** A CDN on another origin: it must never see the bearer token. */
function cdn(seen: string[]) {
  return serve(
    http.get("*/cdn/:file", ({ request }) => {
      seen.push(`cdn:${request.headers.get("authorization") ? "with-token" : "no-token"}`);
      return new HttpResponse(VIDEO, {
        headers: { "content-type": "video/mp4", "content-length": String(VIDEO.length) },
      });
    }),
  );
}

function backend(cdnOrigin: () => string) {
  let draft: unknown = {
    t: [{ tt: 0, sg: [{ id: "v", st: 0, d: 8000, m: { name: "demo.mp4" } }] }],
    d: 8000,
  };
  let polls = 0;
  const seen: string[] = [];
  const handlers = [
    http.post("*/api/auth/anonymous-token", ({ request }) => {
      seen.push("token");
      if (!request.headers.get("x-client-id")) return new HttpResponse(null, { status: 400 });
      return HttpResponse.json({ code: 0, data: { token: "nmv_usr_msw_token_123456", user_id: "anon_msw" } });
    }),
    http.get("*/api/credits/balance/simple", () =>
      HttpResponse.json({ available: 42, frozen: 3, total: 45 }),
    ),
    http.post("*/api/tasks/me/with-session/nemo_agent", () =>
      HttpResponse.json({ code: 0, data: { task_id: 7, session_id: "sess_msw" } }),
    ),
    http.get("*/api/state/nemo_agent/me/:sid/latest", ({ params }) =>
      HttpResponse.json({ code: 0, data: { session_id: params.sid, state: { draft } } }),
    ),
    http.post("*/run_sse", async ({ request }) => {
      const body = (await request.json()) as { new_message: { parts: Array<{ text: string }> } };
      const text = body.new_message.parts[0]?.text ?? "";
      seen.push(`run_sse:${text}`);
      const event = (value: unknown) => `data: ${JSON.stringify(value)}\r\n\r\n`;
      const model = (parts: unknown[], partial = false) => ({
        author: "nemo_agent",
        content: { role: "model", parts },
        partial,
      });
      let sse = `${event(model([{ functionCall: { id: "c1", name: "add_audio", args: {} } }]))}: ping\r\n\r\n`;
      if (/voiceover/.test(text)) {
        sse += event(model([{ text: "Voiceover " }], true)) + event(model([{ text: VOICE_REPLY }]));
        draft = {
          t: [
            { tt: 0, sg: [{ id: "v", st: 0, d: 8000, m: { name: "demo.mp4" } }] },
            { tt: 1, m: { name: "Voice" }, sg: [{ id: "a", st: 0, d: 8000, m: { name: "English" } }] },
          ],
          d: 8000,
        };
      } else {
        draft = {
          t: [
            ...(draft as { t: unknown[] }).t,
            { tt: 7, sg: [{ id: "t", st: 0, d: 2000, m: { text: "Hello" } }] },
          ],
          d: 8000,
        };
      }
      return new HttpResponse(sse, { headers: { "content-type": "text/event-stream" } });
    }),
    http.post("*/api/render/proxy/lambda", async ({ request }) => {
      const body = (await request.json()) as { id: string; sessionId: string };
      seen.push(`render:${body.sessionId}`);
      return HttpResponse.json({ success: true, data: { id: body.id, status: "pending" } });
    }),
    http.get("*/api/render/proxy/lambda/:id", ({ params }) => {
      polls++;
      const origin = cdnOrigin();
      return polls < 2
        ? HttpResponse.json({ success: true, data: { status: "processing", progress: 40 } })
        : HttpResponse.json({
            success: true,
            data: { status: "completed", progress: 100, outputUrl: `${origin}/cdn/${params.id}.mp4` },
          });
    }),
  ];
  return { app: serve(...handlers), seen };
}

describe("against an independent msw-based fake of the contract", () => {
  let server: Server;
  let cdnServer: Server;
  let dir: string;
  let runtime: Runtime;
  let client: Client;
  let cleanup: () => Promise<void>;
  let seen: string[];

  beforeAll(async () => {
    let cdnUrl = "";
    const made = backend(() => cdnUrl);
    seen = made.seen;
    const listen = (app: ReturnType<typeof createMswServer>) =>
      new Promise<Server>((resolve) => {
        const s = app.listen(0, "127.0.0.1", () => resolve(s));
      });
    server = await listen(made.app);
    cdnServer = await listen(cdn(seen));
    cdnUrl = `http://127.0.0.1:${(cdnServer.address() as AddressInfo).port}`;
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "nemo-msw-"));
    await mkdir(join(dir, "out"));
    const config = loadConfig({
      NEMO_API_URL: url,
      NEMO_STATE_DIR: join(dir, "state"),
      NEMO_OUTPUT_DIR: join(dir, "out"),
      NEMO_ALLOWED_DIRS: dir,
      NEMO_RENDER_POLL_MS: "10",
    });
    runtime = await createRuntime(config, new Logger("error", () => {}));
    const mcp = createServer(runtime, runtime.skills);
    cleanup = mcp.cleanup;
    client = new Client({ name: "msw-test", version: "1.0.0" });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await mcp.server.connect(b);
    await client.connect(a);
  });

  afterAll(async () => {
    runtime.jobs.shutdown();
    await client.close();
    await cleanup();
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => cdnServer.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("reads bare-field credits and a session without a claim endpoint", async () => {
    expect(sc(await client.callTool({ name: "get_credits", arguments: {} }))).toEqual({
      available: 42,
      frozen: 3,
      total: 45,
    });
    const session = sc(await client.callTool({ name: "create_session", arguments: {} }));
    expect(session).toEqual({ session_id: "sess_msw", task_id: "7" });
  });

  it("takes the final text over partial chunks, translates GUI talk, and reports a silent edit", async () => {
    const turn = sc(
      await client.callTool({ name: "send_message", arguments: { message: "add a voiceover" } }),
    );
    expect(turn.status).toBe("completed");
    expect(turn.reply).toBe("Voiceover added. Ask me to export (export_video) when you are ready.");
    expect(turn.activity).toEqual(["add_audio"]);
    expect(turn.timeline).toBe("Timeline (2 tracks): 1. Video: demo.mp4 (0-8s) 2. Voice: English (0-8s)");
    const silent = sc(await client.callTool({ name: "send_message", arguments: { message: "add a title" } }));
    expect(silent.reply).toBe("");
    expect(silent.changes.join("\n")).toMatch(/Added text track/);
    expect(seen.filter((s) => s.startsWith("run_sse:"))).toHaveLength(2);
  });

  it("exports with {success, data} statuses and downloads from the CDN URL without sending the token", async () => {
    const view = sc(await client.callTool({ name: "export_video", arguments: { file_name: "msw.mp4" } }));
    expect(view.status).toBe("completed");
    expect(view.file).toBe(join(dir, "out", "msw.mp4"));
    expect((await stat(view.file)).size).toBe(VIDEO.length);
    expect(seen).toContain("render:sess_msw");
    expect(seen).toContain("cdn:no-token");
  });
});
