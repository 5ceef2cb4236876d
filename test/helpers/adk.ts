import type { TurnStep } from "../../src/sandbox/index.js";

/** One scripted ADK event from the agent, with `parts` and any extra event fields. */
export function adk(parts: unknown[], extra: Record<string, unknown> = {}): TurnStep {
  return { data: { author: "nemo_agent", content: { role: "model", parts }, ...extra } };
}

/** The agent calling one of its tools. */
export const toolCall = (name: string): TurnStep =>
  adk([{ functionCall: { id: `fc-${name}`, name, args: {} } }]);

/** The agent's text, optionally as a partial chunk. */
export const say = (text: string, partial = false): TurnStep =>
  adk([{ text }], partial ? { partial: true } : {});

/** A draft with one BGM track ("Lo-fi" at 35%), for turns that change the timeline. */
export const BGM_DRAFT = {
  t: [
    {
      tt: 1,
      m: { name: "BGM" },
      sg: [{ id: "seg_9", st: 0, d: 10_000, m: { name: "Lo-fi", volume: 0.35 } }],
    },
  ],
  d: 10_000,
  m: {},
};
