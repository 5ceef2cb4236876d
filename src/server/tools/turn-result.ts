import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { questionText } from "../../client/questions.js";
import type { TurnUpdate } from "../../client/turns.js";
import type { ServerDeps } from "../context.js";
import { describeTurnUpdate } from "../../jobs/updates.js";
import { type TurnView, wordView } from "../../jobs/views.js";
import { TOOL_WORDS } from "../wording.js";
import { type ProgressExtra, ProgressReporter } from "../progress.js";
import { fail, ok } from "./common.js";

/** Turns a TurnView into the tool result: failures are isError, running work says how to pick it up. */
export function turnResult(job: TurnView): CallToolResult {
  const view = wordView(job, TOOL_WORDS);
  const structured = { ...view } as Record<string, unknown>;
  if (view.status === "failed" || view.status === "cancelled") {
    const text =
      view.status === "cancelled"
        ? `The turn ${view.turn_id} was cancelled.`
        : `${view.error?.message ?? "The turn failed."}${view.error?.next_step ? ` ${view.error.next_step}` : ""}`;
    const result = fail(new Error(text), structured);
    const first = result.content[0];
    if (first?.type === "text") first.text = text;
    return result;
  }
  if (view.status === "running") {
    const did = view.activity.length ? ` Backend activity so far: ${view.activity.join(", ")}.` : "";
    return ok(
      structured,
      `Still working on it (turn ${view.turn_id}).${did} Call get_turn with turn_id "${view.turn_id}" to wait for the result; do not send the message again.`,
    );
  }
  if (view.status === "awaiting_input") return ok(structured, awaitingText(view));
  const parts: string[] = [];
  if (view.reply) parts.push(view.reply);
  else if (view.changes?.length) parts.push(`Done. Changes to the timeline:\n- ${view.changes.join("\n- ")}`);
  else if (view.changes) parts.push("The backend finished without a reply, and the timeline did not change.");
  else {
    parts.push(
      "The backend finished without a reply, and the timeline could not be read afterwards. Check it with get_state.",
    );
  }
  if (view.recovered) parts.push("(The connection dropped; the result was confirmed from the timeline.)");
  if (view.credits_used !== undefined) {
    const about = view.credits_used_approximate ? "about " : "";
    parts.push(
      `This turn cost ${about}${view.credits_used} ${view.credits_used === 1 ? "credit" : "credits"}.`,
    );
  }
  if (view.timeline) parts.push(view.timeline);
  return ok(structured, parts.join("\n\n"));
}

/** The agent's question, its options, and how to answer, so a model can relay it to the person. */
function awaitingText(view: TurnView): string {
  const questions = view.questions ?? (view.question ? [view.question] : []);
  const parts: string[] = [];
  if (view.reply) parts.push(view.reply);
  parts.push(`NemoVideo's agent is waiting for an answer before it goes on:\n${questionText(questions)}`);
  parts.push(
    `Ask the person, then send their answer (the option's words) with send_message in session "${view.session_id}". ` +
      "Nothing was changed yet.",
  );
  return parts.join("\n\n");
}

/**
 * Progress for a tool call that follows a turn: backend tool names, replies, recovery polls, and
 * "Still working…" whenever nothing was reported for `stillWorkingMs`.
 */
export function followTurnProgress(deps: ServerDeps, extra: ProgressExtra) {
  const progress = new ProgressReporter(extra);
  const quietMs = deps.stillWorkingMs ?? 120_000;
  let lastAt = Date.now();
  let count = 0;
  let stopped = false;
  const say = (message: string, force = false) => {
    if (stopped) return;
    count++;
    lastAt = Date.now();
    progress.report(message, count, undefined, force);
  };
  const timer = progress.enabled
    ? setInterval(
        () => {
          if (Date.now() - lastAt >= quietMs) say("Still working…", true);
        },
        Math.max(50, Math.min(quietMs, 10_000)),
      )
    : undefined;
  timer?.unref();
  const onUpdate = (u: TurnUpdate) => {
    if (u.type === "heartbeat") {
      if (Date.now() - lastAt >= quietMs) say("Still working…", true);
      return;
    }
    const line = describeTurnUpdate(u);
    if (line) say(line.text, !line.minor);
  };
  const stop = () => {
    stopped = true;
    if (timer) clearInterval(timer);
  };
  return { onUpdate, stop };
}
