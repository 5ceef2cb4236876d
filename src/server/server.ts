import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { RootsListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { LogLevel } from "../config.js";
import { currentUser } from "../request-context.js";
import type { SkillInfo } from "../skills.js";
import type { ServerDeps } from "./context.js";
import { registerPrompts } from "./prompts.js";
import { registerResources } from "./resources.js";
import { clientSupportsTasks, enableToolTasks, JobTaskStore, markPlainToolCalls } from "./tasks.js";
import { guardToolCalls } from "./tool-calls.js";
import { registerTools } from "./tools/index.js";
import { registerViews, UI_EXTENSION_ID } from "./views/apps.js";

const INSTRUCTIONS =
  "NemoVideo turns instructions into edited or generated videos. Typical flow: upload_media (optional) → " +
  "send_message with what to make → get_state to preview → export_video to download the MP4. Generation " +
  "spends credits; export is free. Long work continues in the background: use get_turn / get_export with the " +
  "returned id instead of repeating a call.";

const MCP_LEVEL: Record<LogLevel, "debug" | "info" | "notice" | "warning" | "error"> = {
  debug: "debug",
  info: "info",
  notice: "notice",
  warning: "warning",
  error: "error",
};

/** An MCP server and the one call that releases what it made; the caller owns both. */
export interface ServerInstance {
  server: McpServer;
  /**
   * Closes the server and releases what it made (log sink, task store and its timers, task listeners on
   * jobs, the roots source); jobs themselves go on. Call it once, when the transport or session ends.
   */
  cleanup: () => Promise<void>;
}

/** Builds the MCP server with tools, resources and prompts; the transport is attached by the caller. */
export function createServer(deps: ServerDeps, skills: SkillInfo[] = [deps.skill]): ServerInstance {
  const taskStore = new JobTaskStore();
  const server = new McpServer(
    { name: "nemovideo-mcp", title: "NemoVideo", version: deps.version },
    {
      capabilities: {
        tools: {},
        resources: {},
        prompts: {},
        logging: {},
        tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
        // MCP Apps: the player and timeline views.
        extensions: { [UI_EXTENSION_ID]: {} },
      },
      instructions: INSTRUCTIONS,
      taskStore,
    },
  );
  const tools = registerTools(server, deps);
  guardToolCalls(server, tools);
  markPlainToolCalls(server);
  registerResources(server, deps, skills);
  registerViews(server, deps.config);
  registerPrompts(server, skills);

  // MCP logging: every log record also goes to the client once it is connected; when hosted, only
  // the records logged while serving this client's own user (never another user's).
  const owner = currentUser()?.owner;
  const removeSink = deps.logger.addSink((level, message, data) => {
    if (!server.isConnected() || currentUser()?.owner !== owner) return;
    server.server
      .sendLoggingMessage({
        level: MCP_LEVEL[level],
        logger: "nemovideo",
        data: data ? { message, ...data } : message,
      })
      .catch(() => {});
  });

  // Upload roots: the client's MCP roots when it offers them, refreshed when they change.
  let usesRoots = false;
  server.server.oninitialized = () => {
    if (server.server.getClientCapabilities()?.roots) {
      usesRoots = true;
      deps.files.useRoots(async () => (await server.server.listRoots()).roots.map((r) => r.uri));
    }
    // MCP tasks (protocol 2025-11-25) for clients that declare them; everyone else keeps bounded waits.
    if (clientSupportsTasks(server)) {
      enableToolTasks(server, deps, taskStore, tools);
    }
  };
  server.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    deps.files.invalidate();
  });

  let cleaned: Promise<void> | undefined;
  const cleanup = () => {
    cleaned ??= (async () => {
      removeSink();
      taskStore.cleanup();
      if (usesRoots) deps.files.useRoots(undefined);
      await server.close().catch(() => {});
    })();
    return cleaned;
  };
  return { server, cleanup };
}
