import { fileURLToPath } from "node:url";
import { startSandbox } from "../sandbox/index.js";

/** The last MCP Inspector release that runs on Node 20 (0.16 and later need Node 22). */
const INSPECTOR_FOR_NODE_20 = "@modelcontextprotocol/inspector@0.15.0";

/** Render polling that suits the sandbox's renders of a second or two (the default, 30 s, suits the real backend). */
const SANDBOX_RENDER_POLL_MS = 500;

/** The Inspector package to run on this Node.js. */
function inspectorPackage(): string {
  const major = Number(process.versions.node.split(".")[0]);
  return major >= 22 ? "@modelcontextprotocol/inspector" : INSPECTOR_FOR_NODE_20;
}

/** What the sandbox prints at start: what it is, what its renders are, and the lines to paste. */
function sandboxBanner(url: string, renders: "timeline" | "stand-in", cli: string): string {
  const env = `NEMO_API_URL=${url} NEMO_RENDER_POLL_MS=${SANDBOX_RENDER_POLL_MS}`;
  const rendersLine =
    renders === "timeline"
      ? "Renders: drawn from each timeline by ffmpeg (titles, a tone for the voiceover, the timeline's length)\n" +
        "  over a stand-in clip at 640x360: a preview of the edit, not the real backend's video."
      : "Renders: every export is the same stand-in clip, whatever the timeline says\n" +
        "  (install ffmpeg, or set NEMO_FFMPEG, to have each render drawn from its timeline).";
  return [
    `NemoVideo sandbox on ${url}`,
    "A local fake of the NemoVideo backend: no account, no network, no real AI; its credits are pretend.",
    rendersLine,
    "",
    "Point nemovideo-mcp at it with this environment (fast render polling suits the sandbox):",
    `  ${env}`,
    "Try it with the MCP Inspector:",
    `  ${env} npx -y ${inspectorPackage()} node ${cli}`,
    "",
    "Press Ctrl+C to stop.",
    "",
  ].join("\n");
}

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
    timelineRenders: true,
    log: (line) => process.stderr.write(`[sandbox] ${line}\n`),
  });
  const cli = fileURLToPath(new URL("../cli.js", import.meta.url));
  process.stderr.write(sandboxBanner(sandbox.url, sandbox.renders, cli));
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await sandbox.close();
  return 0;
}
