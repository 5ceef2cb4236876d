#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ConfigError, type ConfigOverrides, loadConfig, type LogLevel } from "./config.js";
import { Logger } from "./log.js";
import { packageVersion } from "./version.js";
import { SkillError } from "./skills.js";

const HELP = `nemovideo-mcp ${packageVersion()}: MCP server and CLI for the NemoVideo cloud video agent

Usage:
  nemovideo-mcp [--skill <name|path>]        serve MCP over stdio (for Claude Desktop, Cursor, VS Code, ...)
  nemovideo-mcp --http [--port 3000] [--host 127.0.0.1] [--http-auth bearer|none]
                                             serve MCP over Streamable HTTP (POST /mcp, GET /healthz) for many users
  nemovideo-mcp sandbox [--port N]           run the local NemoVideo sandbox backend
  nemovideo-mcp credits                      credit balance
  nemovideo-mcp session [--new] [--language xx]   current (or a new) session and its project link
  nemovideo-mcp upload <path|url>...         upload media into the current session
  nemovideo-mcp send "<message>" [--wait s]  one instruction to the agent (spends credits)
  nemovideo-mcp send --answer "<option>"     answer the agent's question with an option's words
  nemovideo-mcp state                        the timeline
  nemovideo-mcp export [--out dir]           render and download the MP4 (free)
  nemovideo-mcp export --resume <render_id>  pick up an export an earlier run left rendering
  nemovideo-mcp route "<words>" [--dry-run]  pick one of the above from the user's words (send spends credits)

Options:
  --skill <name|path>   bundled skill (ai-video-generator-ai, ai-voiceover-for) or a skill folder / SKILL.md
  --state-dir <dir>     state directory (default ~/.config/nemovideo)
  --api-url <url>       NemoVideo API base URL (default NEMO_API_URL or the production API)
  --log-level <level>   debug | info | notice | warning | error
  --json                machine-readable output for CLI subcommands (one JSON document on stdout)
  --new                 session: start a new session
  --language <xx>       session: language of the new session (default en)
  --out <dir>           export: folder for the MP4 (default NEMO_OUTPUT_DIR or ./nemovideo-exports)
  --resume <render_id>  export: resume that render (never submits it again)
  --wait <seconds>      send: return after this long with the turn id if it still runs (the backend goes on)
  --dry-run             route: print the command it would run, run nothing
  --answer <text>       send: the answer to the agent's question (on a terminal, send asks for it instead)
  --http                serve Streamable HTTP instead of stdio (each request: Authorization: Bearer <token>)
  --http-auth <mode>    http: bearer (default) or none (loopback host only: uses NEMO_TOKEN or an anonymous token)
  --port <n>            http: port (default NEMO_HTTP_PORT or 3000); sandbox: port (default: a free one)
  --host <host>         http: interface (default NEMO_HTTP_HOST or 127.0.0.1); sandbox: interface
  -h, --help            show this help
  -v, --version         print the version

Environment (a flag of the same meaning wins; the README has defaults and meanings):
  account   NEMO_TOKEN, NEMO_CLIENT_ID, NEMO_API_URL, NEMO_WEB_URL
  skill     NEMO_SKILL, SKILL_SOURCE
  files     NEMO_STATE_DIR, NEMO_OUTPUT_DIR, NEMO_ALLOWED_DIRS, NEMO_FFMPEG, NEMO_MEDIA_ORIGINS
  timing    NEMO_RENDER_POLL_MS, NEMO_RENDER_MAX_POLLS, NEMO_RECOVERY_POLL_MS, NEMO_STALL_MS,
            NEMO_STREAM_TIMEOUT_MS, NEMO_RETRY_429_MS, NEMO_REQUEST_TIMEOUT_MS, NEMO_STILL_WORKING_MS
  hosting   NEMO_HTTP_PORT, NEMO_HTTP_HOST, NEMO_HTTP_SECRET, NEMO_REDIS_URL, NEMO_TAKEOVER_MS
  logs      NEMO_LOG_LEVEL (debug: one line per backend call with method, path, status and time)

Run nemovideo-mcp <command> --help for one command's options.
`;

const OPTIONS = {
  skill: { type: "string" },
  "state-dir": { type: "string" },
  "api-url": { type: "string" },
  "log-level": { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  out: { type: "string" },
  new: { type: "boolean" },
  json: { type: "boolean" },
  language: { type: "string" },
  wait: { type: "string" },
  "dry-run": { type: "boolean" },
  http: { type: "boolean" },
  "http-auth": { type: "string" },
  resume: { type: "string" },
  answer: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

/** Exit codes: 0 ok, 1 backend or runtime error, 2 bad usage. */
async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`nemovideo-mcp: ${(err as Error).message}\nRun nemovideo-mcp --help for usage.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    const { commandHelp } = await import("./commands/help.js");
    const topic = positionals[0];
    process.stdout.write((topic !== undefined ? commandHelp(topic) : undefined) ?? HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  const flags: ConfigOverrides = {
    skill: values.skill,
    stateDir: values["state-dir"],
    apiUrl: values["api-url"],
    logLevel: values["log-level"],
  };
  if (command === "sandbox") {
    const { runSandboxCommand } = await import("./commands/sandbox.js");
    return runSandboxCommand({ port: values.port, host: values.host });
  }
  if (command !== undefined) {
    const { runCommand } = await import("./commands/index.js");
    // The one place the CLI reads its environment: a command adds only its own flags and defaults.
    return runCommand(command, rest, values, (overrides, defaults) =>
      loadConfig(process.env, { ...flags, ...overrides }, defaults),
    );
  }
  if (values.http) {
    const auth = values["http-auth"] ?? "bearer";
    if (auth !== "bearer" && auth !== "none") {
      process.stderr.write("nemovideo-mcp: --http-auth must be 'bearer' or 'none'\n");
      return 2;
    }
    return serveHttp({ ...flags, httpPort: values.port, httpHost: values.host }, auth);
  }
  return serve(flags);
}

/** The configuration from the environment and flags; undefined (after saying why on stderr) when it is invalid. */
function configOrUsage(flags: ConfigOverrides): ReturnType<typeof loadConfig> | undefined {
  try {
    return loadConfig(process.env, flags);
  } catch (err) {
    process.stderr.write(`nemovideo-mcp: ${(err as Error).message}\n`);
    return undefined;
  }
}

async function serveHttp(flags: ConfigOverrides, auth: "bearer" | "none"): Promise<number> {
  const config = configOrUsage(flags);
  if (!config) return 2;
  const logger = new Logger(config.logLevel as LogLevel);
  // A failed call must never take the process down: log stray errors and keep serving.
  process.on("unhandledRejection", (reason) => logger.error(`Unhandled rejection: ${String(reason)}`));
  process.on("uncaughtException", (err) => logger.error(`Uncaught exception: ${err.stack ?? err.message}`));
  const { serveHttp: run } = await import("./http/main.js");
  try {
    await run(config, logger, auth);
  } catch (err) {
    if (err instanceof SkillError || err instanceof ConfigError) {
      process.stderr.write(`nemovideo-mcp: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return 0;
}

async function serve(flags: ConfigOverrides): Promise<number> {
  const config = configOrUsage(flags);
  if (!config) return 2;
  // Loaded here so that CLI subcommands do not pay for the MCP SDK at start-up.
  const [{ StdioServerTransport }, { createRuntime }, { createServer }] = await Promise.all([
    import("@modelcontextprotocol/sdk/server/stdio.js"),
    import("./runtime.js"),
    import("./server/server.js"),
  ]);
  const logger = new Logger(config.logLevel as LogLevel);
  let runtime: Awaited<ReturnType<typeof createRuntime>>;
  try {
    runtime = await createRuntime(config, logger);
  } catch (err) {
    if (err instanceof SkillError || err instanceof ConfigError) {
      process.stderr.write(`nemovideo-mcp: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // A failed call must never take the process down: log stray errors and keep serving.
  process.on("unhandledRejection", (reason) => logger.error(`Unhandled rejection: ${String(reason)}`));
  process.on("uncaughtException", (err) => logger.error(`Uncaught exception: ${err.stack ?? err.message}`));

  const { server, cleanup } = createServer(runtime, runtime.skills);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once("end", () => resolve());
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await server.connect(transport);
  logger.info(
    `nemovideo-mcp ${runtime.version} serving on stdio (skill ${runtime.skill.name}@${runtime.skill.version}, platform ${runtime.skill.platform}, API ${config.apiUrl}).`,
  );
  await closed;
  runtime.jobs.shutdown();
  await runtime.store.flush();
  await cleanup();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`nemovideo-mcp: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
