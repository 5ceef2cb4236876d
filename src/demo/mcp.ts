import type { PassThrough } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import type { ExportView, TurnView } from "../jobs/views.js";
import type { stateOutput } from "../server/tools/get-state.js";

/** Keeps this much of the server's stderr for the failure report. */
const STDERR_KEEP_CHARS = 16_000;
/** Bounds the get_turn / get_export follow-ups after a call returned while work went on. */
const MAX_FOLLOW_UPS = 4;
/** A tool name and its arguments (without `wait_seconds`). */
type ToolCall = [name: string, args: Record<string, unknown>];
/** Seconds each long call waits before it returns running/rendering (the sandbox needs a few). */
const WAIT_SECONDS = 60;

/** A tool call that came back with `isError: true`; `message` is the server's text for people. */
export class ToolFailure extends Error {
  override name = "ToolFailure";

  constructor(
    readonly tool: string,
    message: string,
  ) {
    super(message);
  }
}

/** get_credits */
export interface Credits {
  available: number;
  frozen: number;
  total: number;
}

/** create_session */
export interface SessionResult {
  session_id: string;
  task_id: string;
  project_url?: string;
}

/** upload_media */
export interface UploadResult {
  session_id: string;
  files: Array<{
    name: string;
    type: string;
    url?: string;
    duration_ms?: number;
    width?: number;
    height?: number;
  }>;
}

/** send_message and get_turn */
export type TurnResult = TurnView;

/** get_state */
export type StateResult = z.infer<z.ZodObject<typeof stateOutput>>;

/** export_video and get_export */
export type ExportResult = ExportView;

/** How to start the server child. */
interface ServerLaunch {
  /** The built `cli.js`. */
  cli: string;
  env: Record<string, string>;
  cwd: string;
}

/**
 * The real nemovideo-mcp server as a stdio child, seen through the MCP SDK client: typed calls,
 * `isError` results as {@link ToolFailure}, progress callbacks, and bounded follow-ups of long work.
 */
export class DemoServer {
  private stderrText = "";

  private constructor(
    readonly client: Client,
    private readonly transport: StdioClientTransport,
    private readonly signal: AbortSignal,
  ) {
    (transport.stderr as PassThrough | null)?.on("data", (chunk: Buffer) => {
      this.stderrText = (this.stderrText + chunk.toString("utf8")).slice(-STDERR_KEEP_CHARS);
    });
  }

  /** Spawns the server and completes the MCP handshake. */
  static async start(launch: ServerLaunch, version: string, signal: AbortSignal): Promise<DemoServer> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [launch.cli],
      env: launch.env,
      cwd: launch.cwd,
      stderr: "pipe",
    });
    const client = new Client({ name: "nemovideo-demo", version }, { capabilities: {} });
    const server = new DemoServer(client, transport, signal);
    await client.connect(transport, { signal, timeout: 30_000 });
    return server;
  }

  /** The last `lines` lines the server wrote to stderr. */
  stderrTail(lines = 15): string[] {
    return this.stderrText.trimEnd().split("\n").filter(Boolean).slice(-lines);
  }

  /** The server's name and version from the handshake. */
  get serverName(): string {
    const info = this.client.getServerVersion();
    return info ? `${info.name} ${info.version}` : "nemovideo-mcp";
  }

  /** Calls a tool and returns its structured content; an `isError` result throws {@link ToolFailure}. */
  async call<T>(
    name: string,
    args: Record<string, unknown> = {},
    onProgress?: (p: Progress) => void,
    waitSeconds = 0,
  ): Promise<T> {
    const result = await this.client.callTool({ name, arguments: args }, undefined, {
      signal: this.signal,
      // a call may wait `waitSeconds` on the server; progress notifications keep it alive past that
      timeout: (waitSeconds + 60) * 1000,
      resetTimeoutOnProgress: true,
      maxTotalTimeout: (waitSeconds + 600) * 1000,
      ...(onProgress ? { onprogress: onProgress } : {}),
    });
    if (result.isError) {
      const content = Array.isArray(result.content) ? result.content : [];
      const first = content[0] as { type?: string; text?: string } | undefined;
      throw new ToolFailure(name, first?.type === "text" && first.text ? first.text : `${name} failed.`);
    }
    if (!result.structuredContent) throw new ToolFailure(name, `${name} returned no structured content.`);
    return result.structuredContent as T;
  }

  /** send_message, then get_turn (bounded) while the turn is still running. */
  async sendMessage(message: string, onProgress: (p: Progress) => void): Promise<TurnResult> {
    const turn = await this.callWhile<TurnResult>(
      ["send_message", { message }],
      (t) => (t.status === "running" ? ["get_turn", { turn_id: t.turn_id }] : undefined),
      onProgress,
    );
    if (turn.status !== "completed") {
      throw new ToolFailure(
        "get_turn",
        `The turn ${turn.turn_id} is still ${turn.status}; giving up waiting.`,
      );
    }
    return turn;
  }

  /** export_video, then get_export (bounded) while the render is still going. */
  async exportVideo(onProgress: (p: Progress) => void): Promise<ExportResult> {
    const view = await this.callWhile<ExportResult>(
      ["export_video", {}],
      (v) => (v.status === "rendering" ? ["get_export", { render_id: v.render_id }] : undefined),
      onProgress,
    );
    if (view.status !== "completed" || !view.file) {
      throw new ToolFailure("get_export", `The export ${view.render_id} did not finish (${view.status}).`);
    }
    return view;
  }

  /** Calls `first`, then the follow-up `next` names while it names one (at most MAX_FOLLOW_UPS), each waiting. */
  private async callWhile<T>(
    first: ToolCall,
    next: (result: T) => ToolCall | undefined,
    onProgress: (p: Progress) => void,
  ): Promise<T> {
    let call: ToolCall | undefined = first;
    let result = await this.call<T>(
      call[0],
      { ...call[1], wait_seconds: WAIT_SECONDS },
      onProgress,
      WAIT_SECONDS,
    );
    for (let i = 0; i < MAX_FOLLOW_UPS; i++) {
      call = next(result);
      if (!call) break;
      result = await this.call<T>(
        call[0],
        { ...call[1], wait_seconds: WAIT_SECONDS },
        onProgress,
        WAIT_SECONDS,
      );
    }
    return result;
  }

  /** Closes the client, which ends the child (stdin closed, then SIGTERM if needed). */
  async close(): Promise<void> {
    await this.client.close().catch(() => {});
    await this.transport.close().catch(() => {});
  }
}
