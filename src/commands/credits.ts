import { fetchCredits } from "../client/state.js";
import { plainCommand } from "./context.js";

/** `credits`: the credit balance (available, frozen by work in progress, total). */
export const creditsCommand = plainCommand("credits", async (ctx) => {
  const c = await fetchCredits(ctx.runtime.client, ctx.signal);
  return {
    json: { available: c.available, frozen: c.frozen, total: c.total },
    text: `Credits: ${c.available} available, ${c.frozen} frozen by work in progress, ${c.total} total.`,
  };
});
