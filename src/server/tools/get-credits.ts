import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { fetchCredits } from "../../client/state.js";
import type { ServerDeps } from "../context.js";
import { guard, ok } from "./common.js";

/** get_credits: the credit balance. */
export function registerGetCreditsTool(server: McpServer, deps: ServerDeps): RegisteredTool {
  return server.registerTool(
    "get_credits",
    {
      title: "Check credits",
      description:
        "Show the NemoVideo credit balance: available, frozen (reserved by work in progress) and total. " +
        "Generation spends credits; export and every other tool are free.",
      inputSchema: {},
      outputSchema: { available: z.number(), frozen: z.number(), total: z.number() },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (_args, extra) =>
      guard(deps.logger, "get_credits", async () => {
        const c = await fetchCredits(deps.client, extra.signal);
        const out = { available: c.available, frozen: c.frozen, total: c.total };
        return ok(
          out,
          `Credits: ${c.available} available, ${c.frozen} frozen by work in progress, ${c.total} total.`,
        );
      }),
  );
}
