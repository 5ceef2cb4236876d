import { mkdir, mkdtemp, open, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { type Sandbox, startSandbox } from "../sandbox/index.js";
import {
  type Credits,
  DemoServer,
  type SessionResult,
  type StateResult,
  ToolFailure,
  type TurnResult,
  type UploadResult,
} from "./mcp.js";
import { packageVersion, packageRoot } from "../version.js";
import { describeFile, printSummary, printTimeline, showExportProgress } from "./report.js";
import { formatBytes, type Terminal } from "./terminal.js";

/** What the command line asked for. */
interface DemoOptions {
  /** Run the ai-video-generator-ai flow (script to video) instead of the voiceover flow. */
  generator: boolean;
  /** Sandbox port; 0 picks a free one. */
  port: number;
  /** Absolute folder the MP4 is downloaded into. */
  outDir: string;
  /** Compressed timing, for tests. */
  fast: boolean;
}

/** One skill's walk-through: what to upload and what to ask for. */
interface Flow {
  skill: string;
  title: string;
  /** File in fixtures/ to upload. */
  upload: string;
  message: string;
  /** A line about the uploaded file worth showing (the script's first line). */
  preview?: (path: string) => Promise<string | undefined>;
}

const VOICEOVER: Flow = {
  skill: "ai-voiceover-for",
  title: "AI voiceover for a product video",
  upload: "sample.mp4",
  message: "add a natural AI voiceover in English for my product walkthrough video",
};

const GENERATOR: Flow = {
  skill: "ai-video-generator-ai",
  title: "a video generated from a script",
  upload: "script.txt",
  message: "generate a 60-second video from my script with voiceover and visuals",
  preview: async (path) => {
    const first = (await readFile(path, "utf8")).split("\n").find((l) => l.trim() !== "");
    return first ? `Script: "${first.trim()}"` : undefined;
  },
};

const STAGES = 6;

/** Thrown by the stages once Ctrl+C (or SIGTERM) has aborted the run. */
export class Interrupted extends Error {
  override name = "Interrupted";

  constructor(
    readonly signalName: string,
    readonly exitCode: number,
  ) {
    super(`Interrupted by ${signalName}`);
  }
}

/**
 * Runs the whole demo: sandbox backend, the real server over stdio, one skill's flow from upload to a
 * downloaded MP4. Returns the exit code: 0 done, 1 failed, 130/143 interrupted. Always cleans up.
 */
export async function runDemo(options: DemoOptions, term: Terminal, signal: AbortSignal): Promise<number> {
  const root = packageRoot();
  if (!root) throw new Error("Could not find the nemovideo-mcp package above the demo's module.");
  const fixtures = join(root, "fixtures");
  const flow = options.generator ? GENERATOR : VOICEOVER;
  const startedAt = Date.now();
  let sandbox: Sandbox | undefined;
  let server: DemoServer | undefined;
  let stateDir: string | undefined;
  let stage = "";
  const begin = (index: number, text: string) => {
    if (signal.aborted) throw signal.reason;
    stage = `${index}/${STAGES} ${text}`;
    term.stage(index, STAGES, text);
  };

  try {
    term.line(`${term.paint("bold", "NemoVideo MCP demo")}: ${flow.title} (skill ${flow.skill})`);
    term.line(
      term.paint(
        "dim",
        "Runs the real MCP server against a local sandbox backend: no account, no network, no credits of yours.",
      ),
    );
    term.line();

    // 1. sandbox + server
    begin(1, "Connecting to the sandbox…");
    // a folder that cannot be made fails here, before any credit is spent
    await mkdir(options.outDir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw new Error(
        `Cannot use ${options.outDir} for the MP4 (${err.code ?? err.message}); pass --out <dir>.`,
      );
    });
    sandbox = await startSandbox({
      port: options.port,
      ...(options.fast ? { stepMs: 5, renderSteps: 2 } : {}),
      timelineRenders: true,
    });
    term.done(`Sandbox backend on ${sandbox.url}`);
    term.info(
      sandbox.renders === "timeline"
        ? "Its renders are stand-ins drawn from the timeline by ffmpeg (titles, a tone for the voice, the length)."
        : "Its renders are a stand-in clip, the same whatever the edit (install ffmpeg to draw the timeline).",
    );
    stateDir = await mkdtemp(join(tmpdir(), "nemovideo-demo-"));
    const env: Record<string, string> = {
      NEMO_API_URL: sandbox.url,
      NEMO_STATE_DIR: stateDir,
      NEMO_OUTPUT_DIR: options.outDir,
      NEMO_ALLOWED_DIRS: fixtures,
      NEMO_SKILL: flow.skill,
      NEMO_RENDER_POLL_MS: options.fast ? "50" : "500",
      // the sandbox may draw the render with ffmpeg: a few seconds for a minute of video
      NEMO_RENDER_MAX_POLLS: options.fast ? "1200" : "240",
      NEMO_LOG_LEVEL: "warning",
    };
    for (const name of ["PATH", "HOME", "USERPROFILE", "SYSTEMROOT"]) {
      const value = process.env[name];
      if (value) env[name] = value;
    }
    server = await DemoServer.start(
      { cli: join(dirname(fileURLToPath(import.meta.url)), "..", "cli.js"), env, cwd: process.cwd() },
      packageVersion(),
      signal,
    );
    const { tools } = await server.client.listTools(undefined, { signal });
    term.done(`${server.serverName} over stdio: ${tools.length} tools`);
    const before = await server.call<Credits>("get_credits");
    term.info(`Credits before: ${before.available}`);

    // 2. session
    begin(2, "Creating a project…");
    const session = await server.call<SessionResult>("create_session", { language: "en" });
    term.done(`Session ${session.session_id}`);
    if (session.project_url) term.info(`Project link: ${session.project_url}`);

    // 3. upload
    begin(3, `Uploading ${flow.upload}…`);
    const uploadPath = join(fixtures, flow.upload);
    const uploadBar = term.progress();
    const upload = await server.call<UploadResult>("upload_media", { paths: [uploadPath] }, (p: Progress) =>
      uploadBar.update("upload", p.total ? p.progress / p.total : undefined, p.message ?? "Uploading…"),
    );
    uploadBar.finish(upload.files.map(describeFile).join(", ") || "Uploaded");
    const preview = await flow.preview?.(uploadPath);
    if (preview) term.info(preview);

    // 4. the instruction
    begin(4, "Asking the agent…");
    term.info(`You: "${flow.message}"`);
    const spinner = term.spinner();
    let turn: TurnResult;
    try {
      turn = await server.sendMessage(flow.message, (p) => {
        if (p.message) spinner.update(p.message);
      });
    } finally {
      spinner.stop();
    }
    const ran = turn.activity.length ? `; the backend ran ${turn.activity.join(", ")}` : "";
    term.done(`Done in ${spinner.elapsedSeconds.toFixed(1)} s${ran}`);
    term.line();
    term.info(term.paint("bold", "Agent:"));
    if (turn.reply) term.paragraph(turn.reply, "    ");
    else if (turn.changes?.length) term.paragraph(`(no reply) Changes: ${turn.changes.join("; ")}`, "    ");
    else term.paragraph("(no reply)", "    ");
    term.line();
    const state = await server.call<StateResult>("get_state");
    printTimeline(term, state);
    term.line();

    // 5. export
    begin(5, "Exporting the MP4…");
    const exportBar = term.progress();
    const exported = await server.exportVideo((p) => showExportProgress(exportBar, p));
    const file = exported.file ?? "";
    const size = (await stat(file)).size;
    exportBar.finish(`Downloaded ${basename(file)} (${formatBytes(size)})`);

    // 6. credits
    begin(6, "Checking credits…");
    const after = await server.call<Credits>("get_credits");
    const spent = before.available - after.available;
    term.info(`Credits after: ${after.available} (spent ${spent})`);
    term.line();

    printSummary(term, {
      file,
      size,
      h264: await looksLikeH264(file),
      renders: sandbox.renders,
      before: before.available,
      after: after.available,
      activity: turn.activity,
      projectUrl: session.project_url ?? exported.project_url,
      seconds: (Date.now() - startedAt) / 1000,
    });
    return 0;
  } catch (err) {
    // Ctrl+C also reaches the server child; its closed pipe can surface here just before our handler runs.
    if (!signal.aborted && !(err instanceof ToolFailure)) await new Promise((r) => setTimeout(r, 100));
    if (signal.aborted) {
      const reason = signal.reason instanceof Interrupted ? signal.reason : new Interrupted("SIGINT", 130);
      term.error(`Interrupted${stage ? ` during ${stage}` : ""}; stopped the server and the sandbox.`);
      return reason.exitCode;
    }
    const where = stage ? ` at ${stage}` : "";
    const message =
      err instanceof ToolFailure
        ? `${err.tool} failed${where}: ${err.message}`
        : `Failed${where}: ${errMessage(err)}`;
    const tail = server?.stderrTail() ?? [];
    term.error(message, tail.length ? ["Server log (last lines):", ...tail.map((l) => `  ${l}`)] : []);
    return 1;
  } finally {
    term.restore();
    await server?.close();
    await sandbox?.close().catch(() => {});
    if (stateDir) await rm(stateDir, { recursive: true, force: true }).catch(() => {});
  }
}

/** True when the first megabyte holds an `ftyp` box and an `avc1` sample entry (a fast-start H.264 MP4). */
async function looksLikeH264(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(1024 * 1024), 0, 1024 * 1024, 0);
    const head = buffer.subarray(0, bytesRead);
    return head.includes("ftyp") && head.includes("avc1");
  } finally {
    await handle.close();
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
