import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PassThrough } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../src/sandbox/index.js";
import { CLI, FIXTURES } from "./paths.js";

export interface ChildServer {
  client: Client;
  sandbox: Sandbox;
  dir: string;
  stateDir: string;
  outputDir: string;
  /** Everything the server wrote to stderr so far. */
  stderr: () => string;
  /** Errors the client transport saw (a non-JSON stdout line lands here). */
  transportErrors: Error[];
  close: () => Promise<void>;
  /** Starts a second server process on the same state directory and sandbox (a restart). */
  restart: () => Promise<ChildServer>;
}

export interface ChildOptions {
  sandbox?: Sandbox;
  sandboxOptions?: SandboxOptions;
  env?: Record<string, string>;
  dir?: string;
  args?: string[];
  clientCapabilities?: ConstructorParameters<typeof Client>[1];
}

/** Spawns the built `dist/cli.js` over stdio against a sandbox, with compressed timing knobs. */
export async function startChild(options: ChildOptions = {}): Promise<ChildServer> {
  const sandbox =
    options.sandbox ?? (await startSandbox({ stepMs: 2, renderSteps: 2, ...options.sandboxOptions }));
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "nemo-e2e-")));
  const stateDir = join(dir, "state");
  const outputDir = join(dir, "exports");
  await mkdir(outputDir, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: dir,
    NEMO_API_URL: sandbox.url,
    NEMO_WEB_URL: "https://nemovideo.test",
    NEMO_STATE_DIR: stateDir,
    NEMO_OUTPUT_DIR: outputDir,
    NEMO_ALLOWED_DIRS: [FIXTURES, dir].join(":"),
    NEMO_RENDER_POLL_MS: "20",
    NEMO_RENDER_MAX_POLLS: "50",
    NEMO_RECOVERY_POLL_MS: "60",
    NEMO_STALL_MS: "3000",
    NEMO_STREAM_TIMEOUT_MS: "20000",
    NEMO_RETRY_429_MS: "20",
    NEMO_LOG_LEVEL: "debug",
    ...options.env,
  };
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, ...(options.args ?? [])],
    env,
    cwd: dir,
    stderr: "pipe",
  });
  let stderr = "";
  const errStream = transport.stderr as PassThrough | null;
  errStream?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const transportErrors: Error[] = [];
  const client = new Client(
    { name: "e2e-test", version: "1.0.0" },
    options.clientCapabilities ?? { capabilities: {} },
  );
  client.onerror = (err) => transportErrors.push(err);
  await client.connect(transport);
  const child: ChildServer = {
    client,
    sandbox,
    dir,
    stateDir,
    outputDir,
    stderr: () => stderr,
    transportErrors,
    close: async () => {
      await client.close().catch(() => {});
    },
    restart: async () => startChild({ ...options, sandbox, dir }),
  };
  return child;
}

/** Closes the child and, when it owns them, the sandbox and temp folder. */
export async function stopChild(child: ChildServer, ownsSandbox = true): Promise<void> {
  await child.close();
  if (ownsSandbox) {
    await child.sandbox.close();
    await rm(child.dir, { recursive: true, force: true });
  }
}
