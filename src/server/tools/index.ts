import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ServerDeps } from "../context.js";
import { registerCancelExportTool } from "./cancel-export.js";
import { registerCancelTurnTool } from "./cancel-turn.js";
import { registerCreateSessionTool } from "./create-session.js";
import { registerExportVideoTool } from "./export-video.js";
import { registerGetCreditsTool } from "./get-credits.js";
import { registerGetExportTool } from "./get-export.js";
import { registerGetStateTool } from "./get-state.js";
import { registerGetTurnTool } from "./get-turn.js";
import { registerSendMessageTool } from "./send-message.js";
import { registerUploadMediaTool } from "./upload-media.js";

/** Every tool of the public surface by name, in the order they are listed. */
export const TOOL_REGISTRARS = {
  create_session: registerCreateSessionTool,
  upload_media: registerUploadMediaTool,
  send_message: registerSendMessageTool,
  get_turn: registerGetTurnTool,
  cancel_turn: registerCancelTurnTool,
  get_state: registerGetStateTool,
  get_credits: registerGetCreditsTool,
  export_video: registerExportVideoTool,
  get_export: registerGetExportTool,
  cancel_export: registerCancelExportTool,
} as const;

/** The name of one of our tools. */
export type ToolName = keyof typeof TOOL_REGISTRARS;

/** Registers every tool; returns them by name. */
export function registerTools(server: McpServer, deps: ServerDeps): Map<ToolName, RegisteredTool> {
  const tools = new Map<ToolName, RegisteredTool>();
  for (const [name, register] of Object.entries(TOOL_REGISTRARS) as Array<
    [ToolName, typeof registerGetTurnTool]
  >) {
    tools.set(name, register(server, deps));
  }
  return tools;
}
