// Hosting benchmarks (`--only http-tool-call`, `http-turns`, `http-scale`): the Streamable HTTP face on real
// processes, with the memory store and a real redis-server side by side in the same run. See bench/README.md.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, request as httpRequest } from "node:http";

import { startRedis as startRedisServer, stopProcess } from "../test/helpers/loopback.mjs";
import { CLI, median, percentile, round, spawnTracked } from "./lib.mjs";

/** A redis-server this bench kills on exit with its other children. */
const startRedis = () => startRedisServer(spawnTracked);

const ms = (v) => `${round(v, v < 10 ? 2 : v < 100 ? 1 : 0)} ms`;
const x = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : "n/a");

/** One `dist/cli.js --http` child on a free port. */
async function startInstance(env) {
  const home = await mkdtemp(join(process.env.BENCH_TMPDIR || tmpdir(), "nemo-bench-http-"));
  const child = spawnTracked(process.execPath, [CLI, "--http", "--port", "0"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      NEMO_STATE_DIR: join(home, "state"),
      NEMO_LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start: ${stderr}`)), 15_000);
    child.stderr.on("data", (c) => {
      stderr += c.toString();
      const m = /serving Streamable HTTP on (http:\/\/\S+)\/mcp/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`instance exited ${code}: ${stderr}`)));
  });
  return { url, pid: child.pid, stop: () => stopProcess(child, "SIGTERM") };
}

/** A round-robin proxy over `targets` (what a plain load balancer does). */
async function startProxy(targets) {
  let next = 0;
  const agent = new (await import("node:http")).Agent({ keepAlive: true, maxSockets: 256 });
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? "/", targets[next++ % targets.length]);
    const up = httpRequest(target, { method: req.method, headers: req.headers, agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  // longer than the clients' idle sockets live, so none is reused after the proxy closed it
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections();
      agent.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

async function mcpClient(baseUrl, token) {
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = await import(
    "@modelcontextprotocol/sdk/client/streamableHttp.js"
  );
  const client = new Client({ name: "nemovideo-bench", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

async function sandboxToken(sandboxUrl, clientId) {
  const res = await fetch(`${sandboxUrl}/api/auth/anonymous-token`, {
    method: "POST",
    headers: { "x-client-id": clientId },
  });
  return (await res.json()).data.token;
}

async function rssKb(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return m ? Number(m[1]) : Number.NaN;
}

async function credits(client) {
  const result = await client.callTool({ name: "get_credits", arguments: {} });
  if (result.isError) throw new Error(`get_credits failed: ${JSON.stringify(result.content)}`);
}

/** `n` get_credits calls, `parallel` at a time, spread over `clients`; returns calls per second. */
async function throughput(clients, n, parallel) {
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async (_, lane) => {
      while (issued < n) {
        issued++;
        await credits(clients[lane % clients.length]);
      }
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

/** Settings scale with --quick; `runs` from the main runner. */
export function hostingSettings(quick, runs) {
  return {
    runs,
    calls: quick ? 60 : 200,
    parallel: 16,
    throughputCalls: quick ? 200 : 600,
    turns: quick ? 40 : 200,
    turnMs: quick ? 3_000 : 8_000,
    scaleCalls: quick ? 300 : 800,
    scaleParallel: 32,
  };
}

/** Tool-call latency (sequential p50/p95) and throughput (16 in flight) on one instance: memory vs Redis. */
export async function httpToolCall({ settings, sandboxModule }) {
  const { startSandbox } = await sandboxModule();
  const sandbox = await startSandbox({ stepMs: 0 });
  const redis = await startRedis();
  const samples = [];
  try {
    const base = { NEMO_API_URL: sandbox.url };
    const memory = await startInstance(base);
    const shared = await startInstance({ ...base, NEMO_REDIS_URL: redis.url });
    try {
      const token = await sandboxToken(sandbox.url, "bench-tool-call");
      const clients = {
        memory: await mcpClient(memory.url, token),
        redis: await mcpClient(shared.url, token),
      };
      const lanes = {
        memory: await Promise.all(Array.from({ length: 4 }, () => mcpClient(memory.url, token))),
        redis: await Promise.all(Array.from({ length: 4 }, () => mcpClient(shared.url, token))),
      };
      for (let i = 0; i < 20; i++) await Promise.all([credits(clients.memory), credits(clients.redis)]);
      for (let run = 0; run < settings.runs; run++) {
        const order = run % 2 === 0 ? ["memory", "redis"] : ["redis", "memory"];
        const sample = {};
        for (const kind of order) {
          const times = [];
          for (let i = 0; i < settings.calls; i++) {
            const started = performance.now();
            await credits(clients[kind]);
            times.push(performance.now() - started);
          }
          sample[`${kind}P50`] = percentile(times, 50);
          sample[`${kind}P95`] = percentile(times, 95);
          sample[`${kind}PerSec`] = await throughput(
            lanes[kind],
            settings.throughputCalls,
            settings.parallel,
          );
        }
        samples.push(sample);
      }
      for (const c of [clients.memory, clients.redis, ...lanes.memory, ...lanes.redis]) await c.close();
    } finally {
      await memory.stop();
      await shared.stop();
    }
  } finally {
    await redis.stop();
    await sandbox.close();
  }
  const m = (k) => median(samples.map((s) => s[k]));
  const summary = {
    memoryP50: m("memoryP50"),
    memoryP95: m("memoryP95"),
    redisP50: m("redisP50"),
    redisP95: m("redisP95"),
    memoryPerSec: m("memoryPerSec"),
    redisPerSec: m("redisPerSec"),
    p50Ratio: median(samples.map((s) => s.redisP50 / s.memoryP50)),
    throughputRatio: median(samples.map((s) => s.memoryPerSec / s.redisPerSec)),
  };
  return {
    samples,
    summary,
    rows: [
      {
        name: "HTTP get_credits p50 (p95), Redis vs memory",
        ours: `${ms(summary.redisP50)} (${ms(summary.redisP95)})`,
        ref: `${ms(summary.memoryP50)} (${ms(summary.memoryP95)}) memory`,
        ratio: x(summary.p50Ratio),
        target: "(info)",
        pass: null,
        detail: `sequential calls, one instance (a user's idle MCP server reused per request); p95 ratio ${x(summary.redisP95 / summary.memoryP95)}`,
      },
      {
        name: `HTTP get_credits throughput, ${settings.parallel} in flight`,
        ours: `${round(summary.redisPerSec, 0)}/s Redis`,
        ref: `${round(summary.memoryPerSec, 0)}/s memory`,
        ratio: x(summary.throughputRatio),
        target: "(info)",
        pass: null,
        detail: "ratio = memory rate / Redis rate",
      },
    ],
  };
}

/** Many concurrent long turns on one instance, each followed by a waiting get_turn: RSS per turn, memory vs Redis. */
export async function httpTurns({ settings, sandboxModule }) {
  const { startSandbox } = await sandboxModule();
  const samples = [];
  const redis = await startRedis();
  try {
    for (const kind of ["memory", "redis"]) {
      const sandbox = await startSandbox({ stepMs: 0 });
      const env = { NEMO_API_URL: sandbox.url, NEMO_STALL_MS: "60000" };
      if (kind === "redis") env.NEMO_REDIS_URL = redis.url;
      const instance = await startInstance(env);
      try {
        const n = settings.turns;
        const tokens = await Promise.all(
          Array.from({ length: n }, (_, i) => sandboxToken(sandbox.url, `turn-${kind}-${i}`)),
        );
        // idle: a started instance that has answered a few calls (code loaded), before any of the n users
        const warm = await mcpClient(instance.url, await sandboxToken(sandbox.url, `warm-${kind}`));
        for (let i = 0; i < 5; i++) await credits(warm);
        await warm.close();
        await new Promise((r) => setTimeout(r, 500));
        const idle = await rssKb(instance.pid);
        const clients = await Promise.all(tokens.map((t) => mcpClient(instance.url, t)));
        await Promise.all(clients.map((c) => c.callTool({ name: "create_session", arguments: {} })));
        const steps = [
          {
            data: {
              author: "nemo_agent",
              content: { parts: [{ functionCall: { name: "generate_video", args: {} } }] },
            },
          },
        ];
        for (let t = 0; t < settings.turnMs; t += 500) steps.push({ heartbeat: true }, { wait: 500 });
        steps.push({ data: { author: "nemo_agent", content: { parts: [{ text: "Done." }] } } });
        for (let i = 0; i < n; i++) sandbox.scriptTurn({ steps });
        const started = performance.now();
        const sent = await Promise.all(
          clients.map((c) =>
            c.callTool({ name: "send_message", arguments: { message: "make a video", wait_seconds: 0 } }),
          ),
        );
        let peak = await rssKb(instance.pid);
        const sampler = setInterval(async () => {
          peak = Math.max(peak, await rssKb(instance.pid));
        }, 100);
        const done = await Promise.all(
          clients.map((c, i) =>
            c.callTool(
              {
                name: "get_turn",
                arguments: { turn_id: sent[i].structuredContent.turn_id, wait_seconds: 120 },
              },
              undefined,
              { timeout: 180_000 },
            ),
          ),
        );
        clearInterval(sampler);
        const wallMs = performance.now() - started;
        const completed = done.filter((d) => d.structuredContent?.status === "completed").length;
        const runSse = sandbox.requests.filter((r) => r.path === "/run_sse").length;
        samples.push({
          kind,
          turns: n,
          idleKb: idle,
          peakKb: peak,
          perTurnKb: (peak - idle) / n,
          wallMs,
          completed,
          runSse,
        });
        await Promise.all(clients.map((c) => c.close()));
      } finally {
        await instance.stop();
        await sandbox.close();
      }
    }
  } finally {
    await redis.stop();
  }
  const byKind = Object.fromEntries(samples.map((s) => [s.kind, s]));
  const summary = { ...byKind };
  const kb = (v) => `${round(v / 1024, 2)} MB`;
  return {
    samples,
    summary,
    rows: [
      {
        name: `${settings.turns} concurrent ${settings.turnMs / 1000} s turns, RSS per turn`,
        ours: `${kb(byKind.redis.perTurnKb)} Redis`,
        ref: `${kb(byKind.memory.perTurnKb)} memory`,
        ratio: x(byKind.redis.perTurnKb / byKind.memory.perTurnKb),
        target: "all completed, 1 /run_sse each",
        pass: samples.every((s) => s.completed === s.turns && s.runSse === s.turns),
        detail: samples
          .map(
            (s) =>
              `${s.kind}: idle ${kb(s.idleKb)}, peak ${kb(s.peakKb)}, ${s.completed}/${s.turns} completed in ${round(s.wallMs / 1000, 1)} s, ${s.runSse} /run_sse`,
          )
          .join("; "),
      },
    ],
  };
}

/** get_credits throughput through a round-robin proxy over 1, 2 and 4 instances sharing Redis. */
export async function httpScale({ settings, sandboxModule }) {
  const { startSandbox } = await sandboxModule();
  const sandbox = await startSandbox({ stepMs: 0 });
  const redis = await startRedis();
  const samples = [];
  try {
    const env = { NEMO_API_URL: sandbox.url, NEMO_REDIS_URL: redis.url };
    const instances = await Promise.all([1, 2, 3, 4].map(() => startInstance(env)));
    try {
      const tokens = await Promise.all(
        Array.from({ length: 8 }, (_, i) => sandboxToken(sandbox.url, `scale-${i}`)),
      );
      for (let run = 0; run < settings.runs; run++) {
        const sample = {};
        const counts = run % 2 === 0 ? [1, 2, 4] : [4, 2, 1];
        for (const count of counts) {
          const proxy = await startProxy(instances.slice(0, count).map((i) => i.url));
          const clients = await Promise.all(tokens.map((t) => mcpClient(proxy.url, t)));
          await throughput(clients, 40, 8);
          sample[`i${count}`] = await throughput(clients, settings.scaleCalls, settings.scaleParallel);
          await Promise.all(clients.map((c) => c.close()));
          await proxy.close();
        }
        samples.push(sample);
      }
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
    }
  } finally {
    await redis.stop();
    await sandbox.close();
  }
  const m = (k) => median(samples.map((s) => s[k]));
  const summary = {
    one: m("i1"),
    two: m("i2"),
    four: m("i4"),
    ratio2: median(samples.map((s) => s.i2 / s.i1)),
    ratio4: median(samples.map((s) => s.i4 / s.i1)),
  };
  return {
    samples,
    summary,
    rows: [
      {
        name: "1→2→4 instances behind a proxy (Redis)",
        ours: `${round(summary.two, 0)}/s, ${round(summary.four, 0)}/s`,
        ref: `${round(summary.one, 0)}/s one instance`,
        ratio: `${x(summary.ratio2)}, ${x(summary.ratio4)}`,
        target: "(info)",
        pass: null,
        detail: `get_credits with ${settings.scaleParallel} in flight from 8 users; ratio = rate / one instance's rate (all processes share ${"this machine's"} CPUs)`,
      },
    ],
  };
}
