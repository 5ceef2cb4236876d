import { z } from "zod";
import { act, type Vocabulary, wordActions } from "../client/actions.js";
import { NemoError } from "../client/errors.js";
import type { Turn, TurnResult } from "../client/turns.js";

/** The `error` member of every failed job view (and of the CLI's JSON failures). */
const errorShape = z
  .object({
    kind: z.string(),
    message: z.string(),
    next_step: z.string().optional(),
    code: z.number().optional(),
  })
  .optional();

/** A question of the backend agent (status awaiting_input). */
const questionShape = z.object({
  id: z.string().optional(),
  prompt: z.string(),
  options: z.array(z.string()).optional(),
  allow_multiple: z.boolean().optional(),
});

/** A timeline as get_state reports it (tracks, segments to the millisecond), and as turn baselines keep it. */
export const timelineShape = {
  exportable: z.boolean(),
  duration_ms: z.number(),
  tracks: z.array(
    z.object({
      index: z.number(),
      kind: z.enum(["video", "audio", "text", "other"]),
      name: z.string(),
      segments: z.array(
        z.object({
          start_ms: z.number(),
          end_ms: z.number(),
          label: z.string(),
          volume: z.number().optional(),
        }),
      ),
    }),
  ),
};

/** Output schema of send_message and get_turn; printed as-is by `send --json`. */
export const turnOutput = {
  status: z.enum(["completed", "running", "awaiting_input", "failed", "cancelled"]),
  turn_id: z.string(),
  session_id: z.string(),
  reply: z.string(),
  activity: z.array(z.string()),
  changes: z.array(z.string()).optional(),
  timeline: z.string().optional(),
  recovered: z.boolean().optional(),
  /** What the agent asks (awaiting_input): the first question, and all of them when it asked several. */
  question: questionShape.optional(),
  questions: z.array(questionShape).optional(),
  /** Credits a completed turn used; `credits_used_approximate` when other work ran in the account meanwhile. */
  credits_used: z.number().optional(),
  credits_used_approximate: z.boolean().optional(),
  error: errorShape,
};

/** Output schema of export_video and get_export; printed as-is by `export --json`. */
export const exportOutput = {
  status: z.enum(["completed", "rendering", "failed", "cancelled"]),
  render_id: z.string(),
  session_id: z.string().optional(),
  percent: z.number().optional(),
  url: z.string().optional(),
  file: z.string().optional(),
  bytes: z.number().optional(),
  project_url: z.string().optional(),
  attempts: z.number().optional(),
  error: errorShape,
};

/** A job's failure as reported: kind, message, next step, backend code. */
type ErrorView = NonNullable<z.infer<typeof errorShape>>;
/** What a turn job reports (send_message, get_turn, `send`). */
export type TurnView = z.infer<z.ZodObject<typeof turnOutput>>;
/** What an export job reports (export_video, get_export, `export`). */
export type ExportView = z.infer<z.ZodObject<typeof exportOutput>>;

/** The error view of any failure. */
export function errorView(err: unknown): ErrorView {
  if (err instanceof NemoError) {
    const view: ErrorView = { kind: err.kind, message: err.message };
    if (err.nextStep) view.next_step = err.nextStep;
    if (err.code !== undefined) view.code = err.code;
    return view;
  }
  return { kind: "internal", message: err instanceof Error ? err.message : String(err) };
}

/** A view with its texts worded for one face: the reply and the error's message and next step. */
export function wordView<T extends { reply?: string; error?: ErrorView | undefined }>(
  view: T,
  words: Vocabulary,
): T {
  const worded = { ...view };
  if (typeof view.reply === "string") worded.reply = wordActions(view.reply, words);
  if (view.error) {
    const error: ErrorView = { ...view.error, message: wordActions(view.error.message, words) };
    if (view.error.next_step !== undefined) error.next_step = wordActions(view.error.next_step, words);
    worded.error = error;
  }
  return worded;
}

/** The view of a turn, running (`result` undefined) or finished. */
export function turnView(turn: Turn, result: TurnResult | undefined): TurnView {
  if (!result) {
    return {
      status: "running",
      turn_id: turn.id,
      session_id: turn.sessionId,
      reply: "",
      activity: [...turn.activity],
    };
  }
  const view: TurnView = {
    status: result.status,
    turn_id: result.turnId,
    session_id: result.sessionId,
    reply: result.reply,
    activity: result.activity,
  };
  if (result.changes) view.changes = result.changes;
  if (result.timeline) view.timeline = result.timeline;
  if (result.recovered) view.recovered = true;
  const questions = result.questions ?? [];
  if (questions[0]) view.question = questions[0];
  if (questions.length > 1) view.questions = questions;
  if (result.creditsUsed) {
    view.credits_used = result.creditsUsed.credits;
    if (result.creditsUsed.approximate) view.credits_used_approximate = true;
  }
  if (result.error) {
    view.error = { kind: result.error.kind, message: result.error.message };
    if (result.error.nextStep) view.error.next_step = result.error.nextStep;
    if (result.error.code !== undefined) view.error.code = result.error.code;
  }
  return view;
}

/** A turn recorded as running by a process that has ended: its stream is lost, though the work may have landed. */
export function lostTurnView(view: TurnView): TurnView {
  return {
    ...view,
    status: "failed",
    error: {
      kind: "stream_failed",
      message: "The server restarted while this turn was running, so its stream was lost.",
      next_step: `Check ${act("check_state")} to see whether the edit landed before sending the message again (sending again spends credits again).`,
    },
  };
}
