import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { listen } from "../listen.js";
import type { Logger } from "../log.js";
import { type RequestUser, runAsUser } from "../request-context.js";
import type { ServerDeps } from "../server/context.js";
import { createServer, type ServerInstance } from "../server/server.js";
import type { SkillInfo } from "../skills.js";
import { bearerToken, ownerOf } from "./auth.js";

/** Idle MCP servers kept for reuse, across all users (each is built for one user's dependencies). */
const MAX_IDLE_SERVERS = 256;

/**
 * Idle MCP servers by owner: building one per request (the SDK's stateless pattern) costs more than the
 * request itself, so a server that answered a request is reused for the same user's next one. A server
 * that saw an `initialize` keeps that client's capabilities, so it is closed instead of reused.
 */
class ServerPool {
  private readonly idle = new Map<string, ServerInstance[]>();
  private count = 0;

  take(owner: string): ServerInstance | undefined {
    const list = this.idle.get(owner);
    const instance = list?.pop();
    if (!instance) return undefined;
    this.count--;
    if (list?.length === 0) this.idle.delete(owner);
    return instance;
  }

  give(owner: string, instance: ServerInstance, stopping: boolean): void {
    const { server } = instance;
    if (stopping || server.isConnected() || server.server.getClientCapabilities() !== undefined) {
      void instance.cleanup();
      return;
    }
    const list = this.idle.get(owner) ?? [];
    this.idle.delete(owner); // most recently used last
    list.push(instance);
    this.idle.set(owner, list);
    this.count++;
    while (this.count > MAX_IDLE_SERVERS) {
      const [oldest, servers] = this.idle.entries().next().value ?? [];
      if (oldest === undefined || !servers) break;
      this.idle.delete(oldest);
      this.count -= servers.length;
      for (const s of servers) void s.cleanup();
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    this.count = 0;
    await Promise.allSettled(all.map((s) => s.cleanup()));
  }
}

/** The owner name of every request when `--http-auth none` lets one local person in without a bearer. */
export const LOCAL_OWNER = "local";

interface HttpFaceOptions {
  host: string;
  port: number;
  /** "bearer": every /mcp request must carry the user's token; "none": loopback only, the local token. */
  auth: "bearer" | "none";
  /** Key of the owner hash (shared by every instance, so one token names one owner everywhere). */
  secret: string;
  /** Where jobs live, reported by /healthz. */
  store: "redis" | "memory";
  version: string;
  skills: SkillInfo[];
  logger: Logger;
  /** The dependencies for one request's MCP server, scoped to its user. */
  depsFor: (user: RequestUser | undefined) => ServerDeps;
}

/** A running HTTP face. */
interface HttpFace {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets requests in flight finish (at most `graceMs`), then closes every socket. */
  stop(graceMs: number): Promise<void>;
}

const JSON_TYPE = { "content-type": "application/json" };

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent) return;
  res.writeHead(status, { ...JSON_TYPE, ...headers });
  res.end(JSON.stringify(body));
}

function rpcError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) {
  sendJson(res, status, { jsonrpc: "2.0", error: { code: -32000, message }, id: null }, headers);
}

/**
 * Streamable HTTP on `POST /mcp` in stateless mode (one MCP server per request, so any instance
 * answers any request), `GET /healthz`, and per-request bearer auth.
 */
export async function startHttpFace(options: HttpFaceOptions): Promise<HttpFace> {
  const { logger } = options;
  const inflight = new Set<Promise<void>>();
  const servers = new ServerPool();
  let stopping = false;

  const serveMcp = async (req: IncomingMessage, res: ServerResponse) => {
    const token = bearerToken(req);
    if (!token && options.auth === "bearer") {
      // Nothing reaches the backend without the user's own token.
      rpcError(res, 401, "Send your NemoVideo token as 'Authorization: Bearer <token>'.", {
        "www-authenticate": 'Bearer realm="nemovideo-mcp"',
      });
      return;
    }
    const user = token ? { token, owner: ownerOf(token, options.secret) } : undefined;
    const owner = user?.owner ?? "";
    const run = async () => {
      const instance = servers.take(owner) ?? createServer(options.depsFor(user), options.skills);
      const transport = new StreamableHTTPServerTransport({}); // no sessionIdGenerator: stateless
      res.on("close", () => {
        void transport.close().then(
          () => servers.give(owner, instance, stopping),
          () => instance.cleanup(),
        );
      });
      await instance.server.connect(transport);
      await transport.handleRequest(req, res);
    };
    await (user ? runAsUser(user, run) : run());
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      // A stopping instance fails its health check, so a load balancer stops sending it requests.
      sendJson(res, stopping ? 503 : 200, {
        status: stopping ? "stopping" : "ok",
        version: options.version,
        store: options.store,
      });
      return;
    }
    if (path !== "/mcp") {
      sendJson(res, 404, { error: "Not found: the MCP endpoint is POST /mcp, health is GET /healthz." });
      return;
    }
    if (req.method !== "POST") {
      // Stateless: no standalone SSE stream and no session to delete.
      rpcError(res, 405, "Method not allowed: this server is stateless; use POST /mcp.", { allow: "POST" });
      return;
    }
    if (stopping) {
      rpcError(res, 503, "This instance is shutting down; retry the request.", { "retry-after": "1" });
      return;
    }
    await serveMcp(req, res);
  };

  const http = createHttpServer((req, res) => {
    const done = handle(req, res).catch((err: unknown) => {
      logger.error(`HTTP request failed: ${err instanceof Error ? err.message : String(err)}`);
      rpcError(res, 500, "Internal server error.");
    });
    const tracked = done.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
  });
  // Long tool calls stream progress for up to 15 minutes; Node's default request timeout would cut them.
  http.requestTimeout = 0;
  // Idle keep-alive connections outlive a load balancer's (commonly 60 s), so it never reuses one we closed.
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;

  const address = await listen(http, options.port, options.host);
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${hostPart}:${address.port}`;

  return {
    url,
    port: address.port,
    async stop(graceMs: number) {
      stopping = true;
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inflight]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      if (timer) clearTimeout(timer);
      http.closeAllConnections();
      await closed;
      await servers.closeAll();
    },
  };
}
