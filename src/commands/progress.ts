/** Erases the current terminal line. */
const CLEAR_LINE = "\r\x1b[2K";
/** Fastest redraw of the terminal line; stage changes and 100% always draw. */
const REDRAW_MS = 80;

/**
 * Progress on stderr. On a terminal one line is redrawn in place; otherwise (a pipe, a log file, an
 * agent reading the output) a line is printed per stage change and per 10% step, so logs stay short.
 */
export class ProgressLine {
  private stage: string | undefined;
  private bucket = -1;
  private drawn = false;
  private drawnAt = 0;
  /** When something was last reported; "Still working…" counts quiet time from here. */
  lastAt: number;

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly columns: () => number = () => 80,
    private readonly now: () => number = Date.now,
  ) {
    this.lastAt = now();
  }

  /** Reports `message` for `stage` (a key: a new key is a stage change), with an optional percent. */
  update(stage: string, message: string, percent?: number): void {
    const now = this.now();
    const bucket = percent === undefined ? -1 : Math.min(10, Math.max(0, Math.floor(percent / 10)));
    const newStage = stage !== this.stage;
    this.lastAt = now;
    if (this.tty) {
      if (newStage || percent === 100 || now - this.drawnAt >= REDRAW_MS) {
        this.drawnAt = now;
        this.drawn = true;
        this.write(`${CLEAR_LINE}${fitWidth(message, this.columns())}`);
      }
    } else if (newStage || bucket > this.bucket) {
      this.write(`${message}\n`);
    }
    if (newStage) this.stage = stage;
    this.bucket = newStage ? bucket : Math.max(this.bucket, bucket);
  }

  /** A line that stays (a note or a log record): on a terminal it goes above the redrawn line. */
  line(text: string): void {
    this.clear();
    this.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** Removes the redrawn line so that what follows starts on a clean line; the next update draws again. */
  clear(): void {
    if (this.tty && this.drawn) {
      this.write(CLEAR_LINE);
      this.drawn = false;
      this.stage = undefined;
    }
  }
}

/** Cuts a message to the terminal width: a wrapped line cannot be redrawn with \r. */
function fitWidth(message: string, columns: number): string {
  const width = Math.max(20, columns - 1);
  return message.length <= width ? message : `${message.slice(0, width - 1)}…`;
}

/** 125000 → "2 min 5 s", 4000 → "4 s". */
export function elapsed(ms: number): string {
  const total = Math.round(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return minutes > 0 ? `${minutes} min${seconds ? ` ${seconds} s` : ""}` : `${seconds} s`;
}
