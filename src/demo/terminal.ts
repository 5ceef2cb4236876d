/** The output side of a terminal: what the demo needs from `process.stdout`. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Erases the current line and returns to its start. */
const CLEAR_LINE = "\r\x1b[2K";
const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";
const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const BAR_WIDTH = 24;
const INDENT = "  ";
/** Width used to wrap text when the output is not a terminal. */
const PLAIN_WIDTH = 100;

type Style = "bold" | "dim" | "green" | "red" | "cyan" | "yellow";
const STYLES: Record<Style, [string, string]> = {
  bold: ["\x1b[1m", "\x1b[22m"],
  dim: ["\x1b[2m", "\x1b[22m"],
  green: ["\x1b[32m", "\x1b[39m"],
  red: ["\x1b[31m", "\x1b[39m"],
  cyan: ["\x1b[36m", "\x1b[39m"],
  yellow: ["\x1b[33m", "\x1b[39m"],
};

/** Whether an output is a live terminal (redraws in place) and whether it may use colour. */
function detectCapabilities(out: Output, env: NodeJS.ProcessEnv): { live: boolean; colour: boolean } {
  const live = out.isTTY === true && env.TERM !== "dumb";
  // https://no-color.org: any non-empty NO_COLOR turns colour off.
  const colour = live && !env.NO_COLOR;
  return { live, colour };
}

/**
 * The demo's screen. On a terminal, progress bars and the spinner redraw one line in place; on a
 * pipe (CI, tests, a log file) every line is final, progress is printed every 25 %, and no escape
 * code is ever written.
 */
export class Terminal {
  /** A redrawn line is on screen and must be cleared before anything else is printed. */
  private liveLine = false;
  private cursorHidden = false;

  /** Redraw in place (a terminal that understands escape codes). */
  readonly live: boolean;
  private readonly colour: boolean;
  private readonly errColour: boolean;

  constructor(
    private readonly out: Output,
    private readonly err: Output,
    env: NodeJS.ProcessEnv,
  ) {
    ({ live: this.live, colour: this.colour } = detectCapabilities(out, env));
    this.errColour = detectCapabilities(err, env).colour;
  }

  /** Width of the terminal (0 or unknown on a pipe or a pseudo-terminal without a size). */
  private get columns(): number {
    return this.live && this.out.columns ? this.out.columns : PLAIN_WIDTH;
  }

  /** Applies a style when colour is on. */
  paint(style: Style, text: string): string {
    if (!this.colour || text === "") return text;
    const [open, close] = STYLES[style];
    return `${open}${text}${close}`;
  }

  /** Prints a final line (clearing a redrawn line first). */
  line(text = ""): void {
    this.clearLive();
    this.out.write(`${text}\n`);
  }

  /** A stage header such as "1/6 Connecting to the sandbox…". */
  stage(index: number, total: number, text: string): void {
    this.line(`${this.paint("cyan", `${index}/${total}`)} ${this.paint("bold", text)}`);
  }

  /** An indented detail under the current stage. */
  info(text: string): void {
    this.line(`${INDENT}${text}`);
  }

  /** An indented detail marked as done. */
  done(text: string): void {
    this.line(`${INDENT}${this.paint("green", "✓")} ${text}`);
  }

  /** Text wrapped to the terminal width, every line indented by `indent`. */
  paragraph(text: string, indent = INDENT): void {
    const width = Math.max(40, Math.min(this.columns, PLAIN_WIDTH) - indent.length - 1);
    for (const line of wrap(text, width)) this.line(`${indent}${line}`);
  }

  /** An error block on stderr: the message, then detail lines. */
  error(message: string, details: string[] = []): void {
    this.clearLive();
    const mark = this.errColour ? `${STYLES.red[0]}✗${STYLES.red[1]}` : "✗";
    this.err.write(`${mark} ${message}\n`);
    for (const d of details) this.err.write(`${INDENT}${d}\n`);
  }

  /** Starts a progress bar; `phase` keys let one bar show consecutive phases (render, then download). */
  progress(): ProgressBar {
    return new ProgressBar(this);
  }

  /** Starts a spinner that shows the latest stage message and the elapsed time. */
  spinner(): Spinner {
    return new Spinner(this);
  }

  /** Draws `text` on the redrawn line (live terminals only). */
  drawLive(text: string): void {
    if (!this.live) return;
    if (!this.cursorHidden) {
      this.out.write(HIDE_CURSOR);
      this.cursorHidden = true;
    }
    this.out.write(`${CLEAR_LINE}${truncate(text, this.columns - 1)}`);
    this.liveLine = true;
  }

  /** Removes the redrawn line, if any. */
  clearLive(): void {
    if (this.liveLine) {
      this.out.write(CLEAR_LINE);
      this.liveLine = false;
    }
  }

  /** Leaves the terminal as it was found: no redrawn line, cursor visible. */
  restore(): void {
    this.clearLive();
    if (this.cursorHidden) {
      this.out.write(SHOW_CURSOR);
      this.cursorHidden = false;
    }
  }
}

/** One progress bar; on a pipe it prints the first update of each phase and every 25 % after. */
export class ProgressBar {
  private phase: string | undefined;
  private bucket = -1;
  private lastText = "";

  constructor(private readonly term: Terminal) {}

  /** Shows `fraction` (0..1, or undefined when unknown) of `phase` with a message such as "Uploading 1/4 MB". */
  update(phase: string, fraction: number | undefined, text: string): void {
    const f = fraction === undefined ? undefined : Math.min(1, Math.max(0, fraction));
    const percent = f === undefined ? "" : `${String(Math.round(f * 100)).padStart(3)}%`;
    if (phase !== this.phase) {
      this.phase = phase;
      this.bucket = -1;
    }
    this.lastText = text;
    if (this.term.live) {
      const filled = Math.round((f ?? 0) * BAR_WIDTH);
      const bar =
        this.term.paint("cyan", "█".repeat(filled)) + this.term.paint("dim", "░".repeat(BAR_WIDTH - filled));
      this.term.drawLive(`${INDENT}${bar} ${percent}  ${text}`);
      return;
    }
    const bucket = f === undefined ? 0 : Math.floor(f * 4);
    if (bucket > this.bucket) {
      this.bucket = bucket;
      this.term.info(percent ? `${text} (${percent.trim()})` : text);
    }
  }

  /** Ends the bar; on a terminal it leaves `text` (or the last message) as a final line. */
  finish(text?: string): void {
    if (this.term.live) {
      this.term.clearLive();
      if (text ?? this.lastText) this.term.done(text ?? this.lastText);
    } else if (text) {
      this.term.done(text);
    }
  }
}

/** A spinner with the latest stage message; on a pipe each new message is one line. */
class Spinner {
  private message = "Working…";
  private frame = 0;
  private readonly startedAt = Date.now();
  private readonly seen = new Set<string>();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly term: Terminal) {
    if (term.live) {
      this.timer = setInterval(() => this.draw(), 80);
      this.draw();
    }
  }

  /** Shows a new stage message ("Backend is running generate_voiceover"). */
  update(message: string): void {
    this.message = message;
    if (this.term.live) this.draw();
    else if (!this.seen.has(message)) {
      this.seen.add(message);
      this.term.info(message);
    }
  }

  /** Seconds since the spinner started. */
  get elapsedSeconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /** Stops the spinner and prints `text` as a final line. */
  stop(text?: string): void {
    if (this.timer) clearInterval(this.timer);
    this.term.clearLive();
    if (text) this.term.done(text);
  }

  private draw(): void {
    const frame = SPINNER[this.frame++ % SPINNER.length] ?? "-";
    const elapsed = this.term.paint("dim", `${Math.floor(this.elapsedSeconds)}s`);
    this.term.drawLive(`${INDENT}${this.term.paint("cyan", frame)} ${this.message}  ${elapsed}`);
  }
}

/** Cuts `text` to `width` visible characters (escape codes do not count), ending in "…". */
function truncate(text: string, width: number): string {
  let visible = 0;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\x1b") {
      const end = text.indexOf("m", i);
      if (end !== -1) {
        out += text.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= width - 1 && i < text.length - 1) {
      return out.includes("\x1b") ? `${out}…\x1b[0m` : `${out}…`;
    }
    out += text[i];
    visible++;
  }
  return out;
}

/** Wraps text at word boundaries; existing line breaks are kept. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Formats a byte count for people: "244 KB", "1.2 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Formats milliseconds as a clock: "0:06", "1:00", "0:02.5". */
export function formatClock(ms: number): string {
  const tenths = Math.round(ms / 100);
  const minutes = Math.floor(tenths / 600);
  const rest = (tenths - minutes * 600) / 10;
  const seconds = Number.isInteger(rest) ? String(rest).padStart(2, "0") : rest.toFixed(1).padStart(4, "0");
  return `${minutes}:${seconds}`;
}
