import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp } from "node:fs/promises";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { stopProcess } from "./loopback.mjs";
import { CLI, FIXTURES } from "./paths.js";

export { freePort, type RedisServer, startRedis, stopProcess } from "./loopback.mjs";

/** One `nemovideo-mcp --http` process. */
export interface HttpInstance {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

/** Spawns the built CLI with `--http` on a free port and waits for its "serving" line. */
export async function startHttpInstance(
  env: Record<string, string>,
  args: string[] = [],
  dir?: string,
): Promise<HttpInstance> {
  const home = dir ?? (await mkdtemp(join(tmpdir(), "nemo-http-")));
  await mkdir(join(home, "state"), { recursive: true });
  const child = spawn(process.execPath, [CLI, "--http", "--port", "0", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      NEMO_STATE_DIR: join(home, "state"),
      NEMO_WEB_URL: "https://nemovideo.test",
      NEMO_RENDER_POLL_MS: "20",
      NEMO_RENDER_MAX_POLLS: "50",
      NEMO_RECOVERY_POLL_MS: "100",
      NEMO_STALL_MS: "5000",
      NEMO_STREAM_TIMEOUT_MS: "30000",
      NEMO_RETRY_429_MS: "20",
      NEMO_LOG_LEVEL: "debug",
      ...env,
    },
    cwd: home,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start:\n${stderr}`)), 15_000);
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
      const match = /serving Streamable HTTP on (http:\/\/\S+)\/mcp/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`instance exited with ${code}:\n${stderr}`));
    });
  });
  return {
    url,
    child,
    stderr: () => stderr + stdout,
    stop: () => stopProcess(child, "SIGTERM"),
    kill: () => stopProcess(child, "SIGKILL"),
  };
}

/** A round-robin HTTP proxy: consecutive requests go to consecutive targets; it records who served what. */
export interface RoundRobinProxy {
  url: string;
  /** Index of the target that served each request, in arrival order. */
  served: number[];
  /** Targets taken out of the rotation (e.g. a killed instance). */
  down: Set<number>;
  /** Every response body so far (the first 16 MiB), to check what reached the clients. */
  responses(): string;
  close(): Promise<void>;
}

/** Starts the proxy on a free loopback port. */
export async function startProxy(targets: string[]): Promise<RoundRobinProxy> {
  let next = 0;
  const served: number[] = [];
  const down = new Set<number>();
  const bodies: Buffer[] = [];
  let kept = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let index = next % targets.length;
    for (let i = 0; i < targets.length && down.has(index); i++) index = (index + 1) % targets.length;
    next = index + 1;
    served.push(index);
    const target = new URL(req.url ?? "/", targets[index]);
    const upstream = request(target, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.on("data", (chunk: Buffer) => {
        if (kept + chunk.length <= 16 * 1024 * 1024) {
          bodies.push(chunk);
          kept += chunk.length;
        }
      });
      up.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    down,
    responses: () => Buffer.concat(bodies).toString("utf8"),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An MCP client over Streamable HTTP that sends `token` as its bearer. */
export async function httpClient(baseUrl: string, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client({ name: "http-e2e", version: "1.0.0" }, { capabilities: {} });
  await client.connect(transport);
  return client;
}

/** An anonymous token straight from the sandbox, for one test user. */
export async function sandboxToken(sandboxUrl: string, clientId: string): Promise<string> {
  const res = await fetch(`${sandboxUrl}/api/auth/anonymous-token`, {
    method: "POST",
    headers: { "x-client-id": clientId },
  });
  const body = (await res.json()) as { data: { token: string } };
  return body.data.token;
}

export { FIXTURES };
