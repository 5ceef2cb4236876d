import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { BGM_DRAFT, say } from "../helpers/adk.js";
import {
  FIXTURES,
  type HttpInstance,
  httpClient,
  sandboxToken,
  startHttpInstance,
} from "../helpers/http-instances.js";
import { CLI } from "../helpers/paths.js";
import { resultText, sc } from "../helpers/results.js";

describe("Streamable HTTP, one instance, memory store", () => {
  let sandbox: Sandbox;
  let instance: HttpInstance;
  beforeAll(async () => {
    sandbox = await startSandbox({ stepMs: 2, renderSteps: 2 });
    instance = await startHttpInstance({ NEMO_API_URL: sandbox.url });
  });
  afterAll(async () => {
    await instance?.stop();
    await sandbox?.close();
  });

  it("answers 401 with WWW-Authenticate without a bearer, and nothing reaches the backend", async () => {
    const before = sandbox.requests.length;
    const res = await fetch(`${instance.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "get_credits", arguments: {} },
      }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(sandbox.requests.length).toBe(before);
  });

  it("reports its store on /healthz", async () => {
    const res = await fetch(`${instance.url}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "ok", store: "memory" });
    expect(typeof body.version).toBe("string");
  });

  it("serves tool calls with the caller's token", async () => {
    const token = await sandboxToken(sandbox.url, "user-a");
    const client = await httpClient(instance.url, token);
    const credits = await client.callTool({ name: "get_credits", arguments: {} });
    expect(sc(credits)).toMatchObject({ available: 100 });
    const run = sandbox.requests.filter((r) => r.path === "/api/credits/balance/simple").at(-1);
    expect(run?.headers.authorization).toBe(`Bearer ${token}`);
    await client.close();
  });
});

describe("Streamable HTTP: files, auth modes and shutdown", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ stepMs: 2, renderSteps: 2 });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it("refuses local paths unless NEMO_ALLOWED_DIRS is set, before anything is uploaded", async () => {
    const instance = await startHttpInstance({ NEMO_API_URL: sandbox.url });
    try {
      const client = await httpClient(instance.url, await sandboxToken(sandbox.url, "files-user"));
      const uploads = () => sandbox.requests.filter((r) => r.path.startsWith("/api/upload-video")).length;
      const before = uploads();
      const refused = await client.callTool({
        name: "upload_media",
        arguments: { paths: [join(FIXTURES, "sample.mp4")] },
      });
      expect(refused.isError).toBe(true);
      expect(resultText(refused)).toMatch(/does not read local files/);
      expect(resultText(refused)).toMatch(/urls/);
      expect(uploads()).toBe(before);
      await client.close();
    } finally {
      await instance.stop();
    }
  });

  it("refuses --http-auth none on a host that is not loopback", async () => {
    const child = spawn(
      process.execPath,
      [CLI, "--http", "--http-auth", "none", "--host", "0.0.0.0", "--port", "0"],
      {
        env: { PATH: process.env.PATH ?? "", NEMO_API_URL: sandbox.url },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--http-auth none is only allowed on a loopback host/);
  });

  it("with --http-auth none on loopback, serves without a bearer using this machine's token", async () => {
    const instance = await startHttpInstance({ NEMO_API_URL: sandbox.url }, ["--http-auth", "none"]);
    try {
      const client = await httpClient(instance.url);
      const credits = await client.callTool({ name: "get_credits", arguments: {} });
      expect(sc(credits)).toMatchObject({ available: 100 });
      await client.close();
    } finally {
      await instance.stop();
    }
  });

  it("on SIGTERM answers the waits in flight with the running turn, then exits", async () => {
    const instance = await startHttpInstance({ NEMO_API_URL: sandbox.url });
    const client = await httpClient(instance.url, await sandboxToken(sandbox.url, "sigterm-user"));
    sandbox.scriptTurn({
      steps: [{ heartbeat: true }, { wait: 8_000 }, { setDraft: BGM_DRAFT }, say("Done.")],
    });
    const started = sc(
      await client.callTool({ name: "send_message", arguments: { message: "a long one", wait_seconds: 0 } }),
    );
    expect(started.status).toBe("running");
    const waiting = client.callTool({
      name: "get_turn",
      arguments: { turn_id: started.turn_id, wait_seconds: 60 },
    });
    await new Promise((r) => setTimeout(r, 300));
    const stoppedAt = Date.now();
    const exited = new Promise<number | null>((resolve) => instance.child.once("exit", resolve));
    instance.child.kill("SIGTERM");
    const answer = sc(await waiting);
    // (a load balancer sees it failing its health check meanwhile, unless it has already closed)
    const health = await fetch(`${instance.url}/healthz`).catch(() => undefined);
    if (health) expect(health.status).toBe(503);
    expect(answer).toMatchObject({ status: "running", turn_id: started.turn_id });
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    await client.close().catch(() => {});
  });
});
