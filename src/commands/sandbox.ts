import { startSandbox } from "../sandbox/index.js";

/** `nemovideo-mcp sandbox`: serves the local fake backend until interrupted. */
export async function runSandboxCommand(options: { port?: string | undefined; host?: string | undefined }) {
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write("nemovideo-mcp sandbox: --port must be a number from 0 to 65535\n");
    return 2;
  }
  const sandbox = await startSandbox({
    port,
    ...(options.host ? { host: options.host } : {}),
    log: (line) => process.stderr.write(`[sandbox] ${line}\n`),
  });
  process.stderr.write(
    `NemoVideo sandbox listening on ${sandbox.url}\n` +
      `Try it:  NEMO_API_URL=${sandbox.url} npx @modelcontextprotocol/inspector node dist/cli.js\n` +
      "Press Ctrl+C to stop.\n",
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await sandbox.close();
  return 0;
}
