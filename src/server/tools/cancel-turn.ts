import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { ServerDeps } from "../context.js";
import { alreadyFinished, cancelAnnotations, cancelStatusOutput, guard, ok, turnIdInput } from "./common.js";

/** cancel_turn: stops following a running turn and closes its stream. */
export function registerCancelTurnTool(server: McpServer, deps: ServerDeps): RegisteredTool {
  return server.registerTool(
    "cancel_turn",
    {
      title: "Cancel a running instruction",
      description:
        "Stop a turn that is still running: the stream to NemoVideo is closed at once. Work the backend already " +
        "started may still finish and credits it already spent are not refunded; check get_state afterwards. " +
        "Free: spends no credits.",
      inputSchema: {
        turn_id: turnIdInput,
      },
      outputSchema: { turn_id: z.string(), status: cancelStatusOutput },
      annotations: cancelAnnotations(false),
    },
    async ({ turn_id }) =>
      guard(deps.logger, "cancel_turn", async () => {
        const status = await deps.jobs.turns.cancel(turn_id);
        const final = status === "running" ? "cancelled" : status;
        const text =
          final === "cancelled"
            ? `Cancelled turn ${turn_id}. The backend may still finish work it had started; check get_state.`
            : alreadyFinished(`Turn ${turn_id}`, final === "completed" ? "completed" : "failed");
        return ok({ turn_id, status: final }, text);
      }),
  );
}
