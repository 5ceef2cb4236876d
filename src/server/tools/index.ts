import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ServerDeps } from "../context.js";
import { registerCancelTurnTool } from "./cancel-turn.js";
import { registerCreateSessionTool } from "./create-session.js";
import { registerExportVideoTool } from "./export-video.js";
import { registerGetCreditsTool } from "./get-credits.js";
import { registerGetExportTool } from "./get-export.js";
import { registerGetStateTool } from "./get-state.js";
import { registerGetTurnTool } from "./get-turn.js";
import { registerSendMessageTool } from "./send-message.js";
import { registerUploadMediaTool } from "./upload-media.js";

/** Every tool of the public surface, in the order they are listed. */
export const TOOL_REGISTRARS = [
  registerCreateSessionTool,
  registerUploadMediaTool,
  registerSendMessageTool,
  registerGetTurnTool,
  registerCancelTurnTool,
  registerGetStateTool,
  registerGetCreditsTool,
  registerExportVideoTool,
  registerGetExportTool,
] as const;

/** Registers all nine tools. */
export function registerTools(server: McpServer, deps: ServerDeps): void {
  for (const register of TOOL_REGISTRARS) register(server, deps);
}
