/**
 * The reply of a turn as its text events arrive: final texts, and the partial chunks since the last final one,
 * GUI-translated and cut at 64 KB (saying so) so that a runaway stream cannot grow memory.
 */
import { translateGuiText } from "./gui.js";

/** Most reply text a turn keeps (characters); a longer reply is cut, saying so. */
export const MAX_REPLY_CHARS = 64 * 1024;
const REPLY_CUT_NOTE = "[The reply was cut here: it was longer than 64 KB.]";

/** The reply of one turn, assembled from its text events. */
export class Reply {
  private readonly finals: string[] = [];
  private finalChars = 0;
  private partial = "";
  private cut = false;

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
