import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox, type TurnStep } from "../../src/sandbox/index.js";
import { BGM_DRAFT, say, toolCall } from "../helpers/adk.js";
import {
  type HttpInstance,
  httpClient,
  type RedisServer,
  type RoundRobinProxy,
  sandboxToken,
  startHttpInstance,
  startProxy,
  startRedis,
} from "../helpers/http-instances.js";
import { resultText, sc } from "../helpers/results.js";
import { within } from "../helpers/within.js";

const TAKEOVER_MS = 1500;

/** A turn that runs for about `ms` (heartbeats every 200 ms, a tool call half-way), then changes the timeline and answers. */
function longTurn(ms: number): TurnStep[] {
  const steps: TurnStep[] = [toolCall("generate_video")];
  for (let t = 0; t < ms; t += 200) {
    if (t >= ms / 2 && t - 200 < ms / 2) steps.push(toolCall("add_music"));
    steps.push({ heartbeat: true }, { wait: 200 });
  }
  steps.push({ setDraft: BGM_DRAFT }, say("Added the music."));
  return steps;
}

describe("two instances behind a round-robin proxy, jobs in Redis", () => {
  let sandbox: Sandbox;
  let redis: RedisServer;
  let instances: HttpInstance[];
  let proxy: RoundRobinProxy;
  const sandboxLog: Array<{ at: number; line: string }> = [];
  let tokenA: string;
  let tokenB: string;
  const clients: Client[] = [];

  const connect = async (url: string, token: string) => {
    const client = await httpClient(url, token);
    clients.push(client);
    return client;
  };
  const runSseCount = () => sandbox.requests.filter((r) => r.path === "/run_sse").length;

  beforeAll(async () => {
    sandbox = await startSandbox({
      stepMs: 2,
      renderSteps: 2,
      log: (line) => sandboxLog.push({ at: Date.now(), line }),
    });
    redis = await startRedis();
    const env = {
      NEMO_API_URL: sandbox.url,
      NEMO_REDIS_URL: redis.url,
      NEMO_TAKEOVER_MS: String(TAKEOVER_MS),
      // recovery after a takeover polls the state for about 10 s (5 unchanged polls), longer than the turn
      NEMO_RECOVERY_POLL_MS: "2000",
    };
    instances = await Promise.all([startHttpInstance(env), startHttpInstance(env)]);
    proxy = await startProxy(instances.map((i) => i.url));
    tokenA = await sandboxToken(sandbox.url, "client-user-a");
    tokenB = await sandboxToken(sandbox.url, "client-user-b");
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await proxy?.close();
    await Promise.allSettled((instances ?? []).map((i) => i.stop()));
    await redis?.stop();
    await sandbox?.close();
  });

  it("reports the Redis store on /healthz", async () => {
    const body = (await (await fetch(`${proxy.url}/healthz`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "ok", store: "redis" });
  });

  it("serves one user's flow with consecutive requests on alternating instances", async () => {
    const client = await connect(proxy.url, tokenA);
    const before = proxy.served.length;
    const session = sc(await client.callTool({ name: "create_session", arguments: {} }));
    const sent = sc(
      await client.callTool({
        name: "send_message",
        arguments: { message: "add some music", wait_seconds: 30 },
      }),
    );
    expect(sent.status).toBe("completed");
    expect(sent.session_id).toBe(session.session_id);
    // the current session is the user's, on every instance
    const state = sc(await client.callTool({ name: "get_state", arguments: {} }));
    expect(state.session_id).toBe(session.session_id);
    const turn = sc(await client.callTool({ name: "get_turn", arguments: { turn_id: sent.turn_id } }));
    expect(turn.status).toBe("completed");
    expect(new Set(proxy.served.slice(before))).toEqual(new Set([0, 1]));
  });

  it("follows a turn started on instance 1 to completion on instance 2, with one /run_sse", async () => {
    const one = await connect(instances[0]!.url, tokenA);
    const two = await connect(instances[1]!.url, tokenA);
    const session = sc(await one.callTool({ name: "create_session", arguments: {} }));
    sandbox.scriptTurn({ steps: longTurn(1500) });
    const runs = runSseCount();
    const started = sc(
      await one.callTool({
        name: "send_message",
        arguments: { session_id: session.session_id, message: "make a video", wait_seconds: 0 },
      }),
    );
    expect(started.status).toBe("running");
    const progress: string[] = [];
    const followed = await two.callTool(
      { name: "get_turn", arguments: { turn_id: started.turn_id, wait_seconds: 30 } },
      undefined,
      { onprogress: (p) => progress.push(p.message ?? ""), timeout: 40_000 },
    );
    expect(sc(followed)).toMatchObject({ status: "completed", turn_id: started.turn_id });
    expect(sc(followed).reply).toContain("Added the music.");
    // progress of a turn running on instance 1 reaches the request on instance 2 (on its SSE response)
    expect(progress.join("\n")).toMatch(/add_music/);
    expect(runSseCount() - runs).toBe(1);
  });

  it("cancel_turn through instance 2 closes instance 1's backend stream within 3 s", async () => {
    const one = await connect(instances[0]!.url, tokenA);
    const two = await connect(instances[1]!.url, tokenA);
    const session = sc(await one.callTool({ name: "create_session", arguments: {} }));
    sandbox.scriptTurn({ steps: longTurn(20_000) });
    const started = sc(
      await one.callTool({
        name: "send_message",
        arguments: { session_id: session.session_id, message: "make a long video", wait_seconds: 1 },
      }),
    );
    expect(started.status).toBe("running");
    const asked = Date.now();
    const cancelled = sc(
      await two.callTool({ name: "cancel_turn", arguments: { turn_id: started.turn_id } }),
    );
    expect(cancelled.status).toBe("cancelled");
    const cut = await within(
      3_000,
      "the backend stream closing",
      (async () => {
        for (;;) {
          const line = sandboxLog.find((l) => l.at >= asked - 50 && /POST \/run_sse \S+ cut/.test(l.line));
          if (line) return line;
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
    );
    expect(cut.at - asked).toBeLessThan(3_000);
    const after = sc(await two.callTool({ name: "get_turn", arguments: { turn_id: started.turn_id } }));
    expect(after.status).toBe("cancelled");
  });

  it("follows an export started on instance 1 to its url on instance 2, submitted once", async () => {
    const one = await connect(instances[0]!.url, tokenA);
    const two = await connect(instances[1]!.url, tokenA);
    const session = sc(await one.callTool({ name: "create_session", arguments: {} }));
    await one.callTool({
      name: "send_message",
      arguments: { session_id: session.session_id, message: "add music", wait_seconds: 30 },
    });
    const submits = () =>
      sandbox.requests.filter((r) => r.method === "POST" && r.path === "/api/render/proxy/lambda");
    const before = submits().length;
    const started = sc(
      await one.callTool({
        name: "export_video",
        arguments: { session_id: session.session_id, wait_seconds: 0 },
      }),
    );
    expect(started.status).toBe("rendering");
    const done = sc(
      await two.callTool({
        name: "get_export",
        arguments: { render_id: started.render_id, wait_seconds: 30 },
      }),
    );
    expect(done).toMatchObject({ status: "completed", render_id: started.render_id });
    expect(done.url).toMatch(/^http/);
    expect(done.file).toBeUndefined();
    expect(submits().length - before).toBe(1);
  });

  it("keeps users apart: B cannot see A's turn, export or session, and reads them as unknown ids", async () => {
    const a = await connect(proxy.url, tokenA);
    const b = await connect(proxy.url, tokenB);
    const session = sc(await a.callTool({ name: "create_session", arguments: {} }));
    const sent = sc(
      await a.callTool({ name: "send_message", arguments: { message: "add music", wait_seconds: 30 } }),
    );
    const exported = sc(await a.callTool({ name: "export_video", arguments: { wait_seconds: 30 } }));
    expect(exported.status).toBe("completed");
    expect(exported.url).toMatch(/^http/);
    expect(exported.file).toBeUndefined();

    const theirs = await b.callTool({ name: "get_turn", arguments: { turn_id: sent.turn_id } });
    const madeUp = await b.callTool({
      name: "get_turn",
      arguments: { turn_id: "00000000-0000-4000-8000-000000000000" },
    });
    expect(theirs.isError).toBe(true);
    expect(resultText(theirs).replace(sent.turn_id, "ID")).toBe(
      resultText(madeUp).replace("00000000-0000-4000-8000-000000000000", "ID"),
    );
    const theirExport = await b.callTool({
      name: "get_export",
      arguments: { render_id: exported.render_id },
    });
    const madeUpExport = await b.callTool({ name: "get_export", arguments: { render_id: "render_000" } });
    expect(theirExport.isError).toBe(true);
    expect(resultText(theirExport).replace(exported.render_id, "ID")).toBe(
      resultText(madeUpExport).replace("render_000", "ID"),
    );
    const cancel = await b.callTool({ name: "cancel_turn", arguments: { turn_id: sent.turn_id } });
    expect(cancel.isError).toBe(true);
    const theirState = await b.callTool({ name: "get_state", arguments: { session_id: session.session_id } });
    const madeUpState = await b.callTool({ name: "get_state", arguments: { session_id: "sess_made_up" } });
    expect(theirState.isError).toBe(true);
    // (a new session the message may name is the caller's own, different each time)
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
    expect(resultText(theirState).replaceAll(session.session_id, "ID").replace(uuid, "NEW")).toBe(
      resultText(madeUpState).replaceAll("sess_made_up", "ID").replace(uuid, "NEW"),
    );
    // B's current session is B's own
    const bState = sc(await b.callTool({ name: "get_state", arguments: {} }));
    expect(bState.session_id).not.toBe(session.session_id);
  });

  it("never keeps a token in Redis keys or values, in logs or in responses", async () => {
    const { Redis } = await import("ioredis");
    const r = new Redis(redis.url);
    try {
      const keys = await r.keys("*");
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key).not.toContain(tokenA);
        expect(key).not.toContain(tokenB);
        const dump = await r.dumpBuffer(key);
        const value = dump ? dump.toString("latin1") : "";
        expect(value).not.toContain(tokenA);
        expect(value).not.toContain(tokenB);
      }
    } finally {
      r.disconnect();
    }
    expect(proxy.responses().length).toBeGreaterThan(0);
    expect(proxy.responses()).not.toContain(tokenA);
    expect(proxy.responses()).not.toContain(tokenB);
    for (const instance of instances) {
      expect(instance.stderr()).not.toContain(tokenA);
      expect(instance.stderr()).not.toContain(tokenB);
    }
  });

  // last: it kills instance 1
  it("takes over a turn whose instance was killed (SIGKILL) and recovers it from the state, never re-sent", async () => {
    const one = await connect(instances[0]!.url, tokenA);
    const two = await connect(instances[1]!.url, tokenA);
    const session = sc(await one.callTool({ name: "create_session", arguments: {} }));
    sandbox.scriptTurn({ steps: longTurn(3_000) });
    const runs = runSseCount();
    const started = sc(
      await one.callTool({
        name: "send_message",
        arguments: { session_id: session.session_id, message: "make a video with music", wait_seconds: 1 },
      }),
    );
    expect(started.status).toBe("running");
    await instances[0]!.kill();
    proxy.down.add(0);
    const killedAt = Date.now();
    const recovered = sc(
      await two.callTool(
        { name: "get_turn", arguments: { turn_id: started.turn_id, wait_seconds: 30 } },
        undefined,
        { timeout: 40_000 },
      ),
    );
    expect(recovered).toMatchObject({ status: "completed", turn_id: started.turn_id, recovered: true });
    expect(recovered.changes?.join(" ")).toMatch(/Lo-fi|BGM/);
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    expect(runSseCount() - runs).toBe(1);
    expect(instances[1]!.stderr()).toMatch(/Taking over job/);
    // the session is free again for the next message, through the proxy
    const next = sc(
      await (await connect(proxy.url, tokenA)).callTool({
        name: "send_message",
        arguments: { session_id: session.session_id, message: "add a title", wait_seconds: 30 },
      }),
    );
    expect(next.status).toBe("completed");
    expect(runSseCount() - runs).toBe(2);
  });
});
