import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { turnOutput } from "../../jobs/views.js";
import type { ServerDeps } from "../context.js";
import { guard, turnIdInput, waitSecondsInput } from "./common.js";
import { followTurnProgress, turnResult } from "./turn-result.js";

/** get_turn: picks up a turn that went on in the background; never re-sends it. */
export function registerGetTurnTool(server: McpServer, deps: ServerDeps): RegisteredTool {
  return server.registerTool(
    "get_turn",
    {
      title: "Get the result of a running instruction",
      description:
        "Wait (up to wait_seconds) for a turn that send_message left running in the background and return its " +
        "result. Call it as many times as needed; it never sends the message again and spends no credits.",
      inputSchema: {
        turn_id: turnIdInput,
        wait_seconds: waitSecondsInput(45),
      },
      outputSchema: turnOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async ({ turn_id, wait_seconds }, extra) =>
      guard(deps.logger, "get_turn", async () => {
        const follow = followTurnProgress(deps, extra);
        try {
          const view = await deps.jobs.turns.wait(
            turn_id,
            wait_seconds * 1000,
            extra.signal,
            follow.onUpdate,
          );
          return turnResult(view);
        } finally {
          follow.stop();
        }
      }),
  );
}
