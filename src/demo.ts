#!/usr/bin/env node
/**
 * `npm run demo`: the whole product in one command. Starts the local sandbox backend and the real
 * nemovideo-mcp server over stdio, then walks one skill's flow from upload to a downloaded MP4.
 * A terminal program (not the MCP server), so it may write to stdout.
 */
import { setMaxListeners } from "node:events";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Interrupted, runDemo } from "./demo/run.js";
import { Terminal } from "./demo/terminal.js";

const USAGE = `Usage: node dist/demo.js [--generator] [--port N] [--out dir] [--fast]

  --generator   the ai-video-generator-ai flow (script to video) instead of the AI voiceover flow
  --port N      port of the local sandbox backend (default: a free port)
  --out dir     where the MP4 goes (default ./nemovideo-exports); existing files are never overwritten
  --fast        compressed timing (for tests)
  -h, --help    show this help
`;

/** Exit codes: 0 done, 1 failed, 2 bad usage, 130 Ctrl+C, 143 SIGTERM. */
async function main(argv: string[]): Promise<number> {
  let values: { generator?: boolean; port?: string; out?: string; fast?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        generator: { type: "boolean" },
        port: { type: "string" },
        out: { type: "string" },
        fast: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`demo: --port must be a whole number from 0 to 65535, not "${values.port}".\n`);
    return 2;
  }

  const term = new Terminal(process.stdout, process.stderr, process.env);
  const controller = new AbortController();
  // every tool call listens on this one signal (the SDK keeps one listener per request)
  setMaxListeners(100, controller.signal);
  const onSignal = (signalName: string, exitCode: number) => () => {
    if (controller.signal.aborted) {
      // a second Ctrl+C while cleaning up: leave at once
      term.restore();
      process.exit(exitCode);
    }
    controller.abort(new Interrupted(signalName, exitCode));
  };
  const onSigint = onSignal("SIGINT", 130);
  const onSigterm = onSignal("SIGTERM", 143);
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  try {
    return await runDemo(
      {
        generator: values.generator === true,
        port,
        outDir: resolve(process.cwd(), values.out ?? "nemovideo-exports"),
        fast: values.fast === true,
      },
      term,
      controller.signal,
    );
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; if a stray handle still holds the loop, do not hang the terminal.
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
