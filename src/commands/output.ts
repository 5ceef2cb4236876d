import { type Vocabulary, wordActions } from "../client/actions.js";
import { NemoError, withNextStep } from "../client/errors.js";
import { ConfigError } from "../config.js";
import { redact } from "../log.js";
import { SkillError } from "../skills.js";
import { UsageError } from "./context.js";

/** Exit codes of the subcommands. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** The `error` member of every JSON failure, as in the MCP tools' results. */
interface ErrorJSON {
  kind: string;
  message: string;
  next_step?: string;
  code?: number;
}

/** Local input problems found before any request: a missing file, a wrong extension, too big. */
const LOCAL_INPUT_KINDS = new Set(["invalid_input", "unsupported_file", "file_too_large"]);

/** The CLI's words for every next action: the command that does it. */
export const COMMAND_WORDS: Vocabulary = {
  check_state: "`nemovideo-mcp state`",
  new_session: "`nemovideo-mcp session --new`",
  send: "`nemovideo-mcp send`",
  upload: "`nemovideo-mcp upload`",
  export: "`nemovideo-mcp export`",
  resume_export: "`nemovideo-mcp export --resume <render_id>`",
  stop_export: "Ctrl+C",
  resume_turn: "the running `nemovideo-mcp send`",
  stop_turn: "Ctrl+C",
  credits: "`nemovideo-mcp credits`",
  choose_folder: "--out <dir>",
};

/** Words a job or client text for the command line (next actions become commands) and scrubs tokens. */
function cliWording(text: string): string {
  return redact(wordActions(text, COMMAND_WORDS));
}

/** The JSON `error` of any failure. */
export function errorJSON(err: unknown): ErrorJSON {
  if (err instanceof NemoError) {
    const view: ErrorJSON = { kind: err.kind, message: cliWording(err.message) };
    if (err.nextStep) view.next_step = cliWording(err.nextStep);
    if (err.code !== undefined) view.code = err.code;
    return view;
  }
  if (err instanceof UsageError) return { kind: "usage", message: err.message, next_step: err.nextStep };
  if (err instanceof ConfigError) return { kind: "config", message: redact(err.message) };
  if (err instanceof SkillError) return { kind: "skill", message: redact(err.message) };
  const message = err instanceof Error ? err.message : String(err);
  return { kind: "internal", message: redact(`Unexpected error: ${message}`) };
}

/** The one line a person reads on stderr for a failure: cause, then next step. */
export function errorLine(err: unknown): string {
  const { message, next_step } = errorJSON(err);
  return `nemovideo-mcp: ${withNextStep(message, next_step)}`;
}

/**
 * 2 for bad usage (command line, configuration, skill, local input rejected before any request),
 * 130 when Ctrl+C stopped the work, else 1 (backend, network, render failure).
 */
export function exitCodeFor(err: unknown, interrupted: boolean): number {
  if (interrupted) return EXIT.interrupted;
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof SkillError) return EXIT.usage;
  // a backend 4001/4002 carries a code or HTTP status; the local pre-checks carry neither
  if (
    err instanceof NemoError &&
    LOCAL_INPUT_KINDS.has(err.kind) &&
    err.code === undefined &&
    err.status === undefined
  ) {
    return EXIT.usage;
  }
  return EXIT.failed;
}

/** The only writer of stdout in subcommands (outside `serve`, stdout is not JSON-RPC); resolves once flushed. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.write(redact(text), () => resolve());
  });
}
