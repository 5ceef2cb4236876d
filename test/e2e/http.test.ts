import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { type HttpInstance, httpClient, sandboxToken, startHttpInstance } from "../helpers/http-instances.js";
import { structured } from "../helpers/mcp-child.js";

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
    expect(structured(credits)).toMatchObject({ available: 100 });
    const run = sandbox.requests.filter((r) => r.path === "/api/credits/balance/simple").at(-1);
    expect(run?.headers.authorization).toBe(`Bearer ${token}`);
    await client.close();
  });
});
