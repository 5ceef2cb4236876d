import type { Config } from "../config.js";
import type { Runtime } from "../runtime.js";
import type { ProgressLine } from "./progress.js";

/** Flag values as parsed by `cli.ts` (node:util parseArgs). */
export type CliValues = Record<string, unknown>;

/** Options that only some subcommands take (the global ones, such as --json or --skill, apply everywhere). */
export type CommandFlag = "new" | "language" | "wait" | "out" | "resume" | "dry-run" | "answer";

/** Every subcommand-specific option `cli.ts` knows; `port` and `host` belong to `sandbox` only. */
export const COMMAND_FLAGS: readonly string[] = [
  "new",
  "language",
  "wait",
  "out",
  "resume",
  "dry-run",
  "answer",
  "port",
  "host",
];

/** Wrong command line: unknown command, missing argument, invalid flag value. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
  readonly kind = "usage";

  constructor(
    message: string,
    readonly nextStep = "Run nemovideo-mcp --help for usage.",
  ) {
    super(message);
  }
}

/** What a running subcommand gets: the runtime, Ctrl+C as a signal, and stderr for progress and notes. */
export interface CommandContext {
  runtime: Runtime;
  config: Config;
  /** Aborted by Ctrl+C (SIGINT). */
  signal: AbortSignal;
  /** The progress line on stderr. */
  progress: ProgressLine;
  /** One line on stderr for the person (never stdout). */
  note: (message: string) => void;
}

/** What a subcommand printed: the JSON document for --json and the text for people. */
export interface CommandResult {
  /** Printed with --json; uses the MCP tools' structuredContent field names. */
  json: Record<string, unknown>;
  /** Printed without --json. */
  text: string;
  /** Set when the work ran but failed (a failed turn or export): decides the exit code; `json` carries it too. */
  error?: unknown;
}

/** The checked work of one command line. */
type CommandRun = (ctx: CommandContext) => Promise<CommandResult>;

/** A subcommand: `prepare` checks arguments and flags without any I/O, then the returned run does the work. */
export interface Command {
  readonly name: string;
  /** Subcommand-specific flags it accepts. */
  readonly flags: readonly CommandFlag[];
  /** Throws UsageError for bad arguments. */
  prepare(args: string[], values: CliValues): CommandRun;
}

/** A subcommand that takes no arguments and no flags of its own: `run` is its whole work. */
export function plainCommand(name: string, run: CommandRun): Command {
  return {
    name,
    flags: [],
    prepare(args) {
      expectNoArgs(name, args);
      return run;
    },
  };
}

/** Throws UsageError when a command that takes no positional arguments got some. */
export function expectNoArgs(command: string, args: string[]): void {
  if (args.length > 0) {
    throw new UsageError(
      `${command} takes no arguments (got ${args.map((a) => JSON.stringify(a)).join(" ")}).`,
    );
  }
}

/** A string flag's value, or undefined; an empty value is a usage error. */
export function stringFlag(values: CliValues, name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "") throw new UsageError(`--${name} needs a value.`);
  return value.trim();
}
