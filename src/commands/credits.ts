import { fetchCredits } from "../client/state.js";
import { type Command, expectNoArgs } from "./context.js";

/** `credits`: the credit balance (available, frozen by work in progress, total). */
export const creditsCommand: Command = {
  name: "credits",
  flags: [],
  prepare(args) {
    expectNoArgs("credits", args);
    return async (ctx) => {
      const c = await fetchCredits(ctx.runtime.client, ctx.signal);
      return {
        json: { available: c.available, frozen: c.frozen, total: c.total },
        text: `Credits: ${c.available} available, ${c.frozen} frozen by work in progress, ${c.total} total.`,
      };
    };
  },
};
