import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Turn, TurnUpdate } from "../../client/turns.js";
import { turnOutput } from "../../jobs/views.js";
import type { ServerDeps } from "../context.js";
import { guard, sessionIdInput, waitSecondsInput } from "./common.js";
import { answerQuestions } from "./elicit.js";
import { languageInput, sessionLanguage } from "./language.js";
import { followTurnProgress, turnResult } from "./turn-result.js";

/** Resolves the session and starts a turn as a background job. */
export async function startTurnJob(
  deps: ServerDeps,
  args: { session_id?: string | undefined; message: string; language?: string | undefined },
  signal: AbortSignal,
  onUpdate?: (u: TurnUpdate) => void,
): Promise<Turn> {
  const language = sessionLanguage(deps, args.language, args.message);
  const session = await deps.sessions.resolve(args.session_id, signal, language);
  return await deps.jobs.turns.start({ sessionId: session.sessionId, message: args.message, onUpdate });
}

/** send_message: one instruction to the backend agent, over SSE, in the background past wait_seconds. */
export function registerSendMessageTool(server: McpServer, deps: ServerDeps): RegisteredTool {
  return server.registerTool(
    "send_message",
    {
      title: "Send an instruction to the NemoVideo agent",
      description:
        "Send one instruction to NemoVideo's video agent: generate a video from a script or prompt, add an AI " +
        "voiceover, music, titles, or edit the timeline. Generation SPENDS CREDITS (export does not). Waits up to " +
        "wait_seconds; longer work (video generation takes 1–5 minutes) goes on in the background and this returns " +
        "status 'running' with a turn_id: then call get_turn, and never send the same message again (that would " +
        "run and charge it twice). When the agent replies without text, `changes` lists what changed on the timeline. " +
        "When the agent needs a choice first, status is 'awaiting_input' with its `question` and options: ask the " +
        "person and send the answer with send_message in the same session (clients with elicitation are asked " +
        "directly). A completed turn reports `credits_used`.",
      inputSchema: {
        session_id: sessionIdInput,
        message: z
          .string()
          .trim()
          .min(1, "message must not be empty")
          .max(20_000, "message is too long (20000 characters at most)")
          .describe("What to create or change, in plain words"),
        wait_seconds: waitSecondsInput(45),
        language: languageInput.describe(
          "Language of a session created for this message (default: the script the message is written in, else the skill's, else en)",
        ),
      },
      outputSchema: turnOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async ({ session_id, message, wait_seconds, language }, extra) =>
      guard(deps.logger, "send_message", async () => {
        const deadline = Date.now() + wait_seconds * 1000;
        const follow = followTurnProgress(deps, extra);
        try {
          const turn = await startTurnJob(
            deps,
            { session_id, message, language },
            extra.signal,
            follow.onUpdate,
          );
          // Cancelling this call (notifications/cancelled) stops the turn and closes the stream.
          const onAbort = () => turn.cancel();
          extra.signal.addEventListener("abort", onAbort, { once: true });
          try {
            const view = await deps.jobs.turns.wait(turn.id, wait_seconds * 1000, extra.signal);
            const ctx = { server, deps, signal: extra.signal, deadline, onUpdate: follow.onUpdate };
            return turnResult(await answerQuestions(view, ctx));
          } finally {
            extra.signal.removeEventListener("abort", onAbort);
          }
        } finally {
          follow.stop();
        }
      }),
  );
}
