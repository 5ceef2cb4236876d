import { z } from "zod";
import type { TurnBaseline } from "../client/baseline.js";
import { exportOutput, type TurnView, timelineShape, turnOutput } from "./views.js";

const balanceShape = z.object({ available: z.number(), frozen: z.number(), total: z.number() });

/** The state before a running turn (a TurnBaseline): what recovering it after a restart compares against. */
export const BaselineSchema = z.object({
  timeline: z.object(timelineShape),
  credits: balanceShape.optional(),
});

/** A turn as persisted: its view plus what a restart needs to know. */
export const TurnRecordSchema = z.object({
  ...turnOutput,
  kind: z.literal("turn"),
  message_chars: z.number().optional(),
  started_at: z.number().optional(),
  /** Kept while the turn runs, so that another process can recover it from the state. */
  baseline: BaselineSchema.optional(),
});

/** An export as persisted (under every render id it submitted): its view plus where to save the file. */
export const ExportRecordSchema = z.object({
  ...exportOutput,
  session_id: z.string(),
  kind: z.literal("export"),
  render_ids: z.array(z.string()).min(1),
  output_dir: z.string(),
  file_name: z.string().optional(),
});

/** A persisted turn. */
export type TurnRecord = z.infer<typeof TurnRecordSchema>;
/** A persisted export. */
export type ExportRecord = z.infer<typeof ExportRecordSchema>;

/** The record of a turn: its view, what it was sent with, and (while it runs) the baseline recovery needs. */
export function turnRecord(
  turn: { message: string; startedAt: number },
  view: TurnView,
  baseline: TurnBaseline | undefined,
): TurnRecord {
  return {
    kind: "turn",
    message_chars: turn.message.length,
    started_at: turn.startedAt,
    ...(baseline ? { baseline } : {}),
    ...view,
  };
}

/** The view a turn record holds: the record without what only a restart needs. */
export function recordedView(record: TurnRecord): TurnView {
  const { kind: _kind, message_chars: _chars, started_at: _started, baseline: _baseline, ...view } = record;
  return view;
}
