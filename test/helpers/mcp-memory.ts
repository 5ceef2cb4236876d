import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { loadConfig } from "../../src/config.js";
import { Logger } from "../../src/log.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../src/sandbox/index.js";
import { createServer } from "../../src/server/server.js";

export interface MemoryServer {
  client: Client;
  server: McpServer;
  /** The server's own cleanup (what `close` calls after the client closes). */
  cleanup: () => Promise<void>;
  runtime: Runtime;
  sandbox: Sandbox;
  dir: string;
  logs: string[];
  close: () => Promise<void>;
}

export interface MemoryOptions {
  env?: Record<string, string>;
  sandboxOptions?: SandboxOptions;
  clientCapabilities?: ConstructorParameters<typeof Client>[1];
  /** Runs after the client is built and before it connects (e.g. to set request handlers). */
  beforeConnect?: (client: Client) => void;
}

/** createServer(deps) connected to an SDK Client through a linked in-memory transport pair. */
export async function startMemoryServer(options: MemoryOptions = {}): Promise<MemoryServer> {
  const sandbox = await startSandbox({ stepMs: 1, renderSteps: 2, ...options.sandboxOptions });
  const dir = await mkdtemp(join(tmpdir(), "nemo-mem-"));
  await mkdir(join(dir, "exports"), { recursive: true });
  const config = loadConfig({
    NEMO_API_URL: sandbox.url,
    NEMO_WEB_URL: "https://nemovideo.test",
    NEMO_STATE_DIR: join(dir, "state"),
    NEMO_OUTPUT_DIR: join(dir, "exports"),
    NEMO_ALLOWED_DIRS: dir,
    NEMO_RENDER_POLL_MS: "10",
    NEMO_RENDER_MAX_POLLS: "50",
    NEMO_RECOVERY_POLL_MS: "40",
    NEMO_RETRY_429_MS: "10",
    // ffmpeg (contact sheets) is found on PATH, as in a real process
    PATH: process.env.PATH ?? "",
    ...options.env,
  });
  const logs: string[] = [];
  const logger = new Logger("debug", (line) => logs.push(line));
  const runtime = await createRuntime(config, logger);
  const { server, cleanup } = createServer(runtime, runtime.skills);
  const client = new Client(
    { name: "memory-test", version: "1.0.0" },
    options.clientCapabilities ?? { capabilities: {} },
  );
  options.beforeConnect?.(client);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return {
    client,
    server,
    cleanup,
    runtime,
    sandbox,
    dir,
    logs,
    close: async () => {
      runtime.jobs.shutdown();
      await client.close().catch(() => {});
      await cleanup();
      await sandbox.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
