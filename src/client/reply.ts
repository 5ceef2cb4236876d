/**
 * What the agent answered in a turn, from the events of its stream: the reply text (final texts, and the partial
 * chunks since the last final one, GUI-translated and cut at 64 KB, saying so, so that a runaway stream cannot
 * grow memory), the backend tools it ran, and the questions it asks and has not had answered.
 */
import { translateGuiText } from "./gui.js";
import type { AgentQuestion } from "./questions.js";
import type { TurnEvent } from "./sse.js";

/** Most reply text a turn keeps (characters); a longer reply is cut, saying so. */
export const MAX_REPLY_CHARS = 64 * 1024;
const REPLY_CUT_NOTE = "[The reply was cut here: it was longer than 64 KB.]";

/** The reply of one turn, assembled from the events of its stream. */
export class Reply {
  /** Backend tools run, in order, consecutive duplicates folded. */
  readonly activity: string[] = [];
  /** The agent's pending questions: set by a question, cleared when its tool call gets a result after all. */
  asked: { questions: AgentQuestion[]; id?: string } | undefined;
  private readonly finals: string[] = [];
  private finalChars = 0;
  private partial = "";
  private cut = false;

  /** Takes one event of the stream into the text, the activity or the pending questions (others are ignored). */
  take(event: TurnEvent): void {
    switch (event.type) {
      case "text":
        this.add(event.text, event.partial);
        return;
      case "tool_call":
        if (this.activity.at(-1) !== event.name) this.activity.push(event.name);
        return;
      case "question":
        this.asked = { questions: event.questions, ...(event.id !== undefined ? { id: event.id } : {}) };
        return;
      case "tool_result":
        // the question was answered on the backend's side after all
        if (this.asked?.id !== undefined && event.id === this.asked.id) this.asked = undefined;
        return;
    }
  }

  /** Takes one text event: a partial chunk adds to the pending text; a final text replaces it. */
  add(text: string, partial: boolean): void {
    if (partial) {
      this.partial = this.keep(this.partial + text);
      return;
    }
    // ADK repeats the whole text in a final non-partial event: it replaces the partial chunks
    const final = this.keep(text);
    if (final !== "") this.finals.push(final);
    this.finalChars += final.length;
    this.partial = "";
  }

  /** The reply as it stands, GUI-translated, at most MAX_REPLY_CHARS (and saying so when cut). */
  text(): string {
    const parts = [...this.finals, this.partial].map((s) => s.trim()).filter((s) => s !== "");
    if (parts.length === 0) return "";
    const text = translateGuiText(parts.join("\n\n")).slice(0, MAX_REPLY_CHARS);
    return this.cut ? `${text}\n\n${REPLY_CUT_NOTE}` : text;
  }

  /** `text` cut to what still fits after the final texts so far (noting that it was cut). */
  private keep(text: string): string {
    const room = Math.max(0, MAX_REPLY_CHARS - this.finalChars);
    if (text.length <= room) return text;
    this.cut = true;
    return text.slice(0, room);
  }
}
