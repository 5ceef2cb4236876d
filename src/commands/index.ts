import type { ConfigReader, LogLevel } from "../config.js";
import { Logger } from "../log.js";
import { createRuntime } from "../runtime.js";
import { type CliValues, COMMAND_FLAGS, type Command, type CommandResult, UsageError } from "./context.js";
import { creditsCommand } from "./credits.js";
import { exportCommand } from "./export.js";
import { EXIT, errorJSON, errorLine, exitCodeFor, writeStdout } from "./output.js";
import { ProgressLine } from "./progress.js";
import { routeCommand } from "./route.js";
import { sendCommand } from "./send.js";
import { sessionCommand } from "./session.js";
import { stateCommand } from "./state.js";
import { uploadCommand } from "./upload.js";

const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [creditsCommand, sessionCommand, uploadCommand, sendCommand, stateCommand, exportCommand, routeCommand].map(
    (c) => [c.name, c],
  ),
);

/** The CLI's log level when neither --log-level nor NEMO_LOG_LEVEL is set: stderr stays quiet but for progress. */
const CLI_LOG_LEVEL: LogLevel = "warning";

/** Rejects subcommand-specific flags that this command does not take. */
function checkFlags(command: Command, values: CliValues): void {
  for (const name of COMMAND_FLAGS) {
    if (values[name] === undefined) continue;
    if (!(command.flags as readonly string[]).includes(name)) {
      throw new UsageError(`--${name} does not apply to ${command.name}.`);
    }
  }
}

/**
 * Runs one CLI subcommand over the same client and state directory as the MCP server; returns the
 * exit code: 0 ok, 1 backend or runtime error, 2 bad usage, 130 interrupted by Ctrl+C.
 * stdout gets the result only (text, or exactly one JSON document with --json); progress, notes and
 * errors go to stderr.
 */
export async function runCommand(
  name: string,
  args: string[],
  values: CliValues,
  readConfig: ConfigReader,
): Promise<number> {
  const json = values.json === true;
  const stderr = (text: string) => process.stderr.write(text);
  const progress = new ProgressLine(
    stderr,
    process.stderr.isTTY === true,
    () => process.stderr.columns || 80,
  );
  const fail = async (err: unknown, code: number, document?: Record<string, unknown>): Promise<number> => {
    progress.line(errorLine(err));
    if (json) await writeStdout(`${JSON.stringify(document ?? { error: errorJSON(err) })}\n`);
    return code;
  };

  const command = COMMANDS.get(name);
  if (!command) {
    return fail(
      new UsageError(
        `unknown command "${name}".`,
        `Commands: ${[...COMMANDS.keys()].join(", ")}, sandbox. Run nemovideo-mcp --help for usage.`,
      ),
      EXIT.usage,
    );
  }

  const controller = new AbortController();
  // The first Ctrl+C cancels cleanly (streams closed, partial files removed); a second one kills at once.
  const onInterrupt = () => {
    progress.line("Cancelling… (press Ctrl+C again to quit at once)");
    controller.abort();
  };
  process.once("SIGINT", onInterrupt);
  try {
    checkFlags(command, values);
    const run = command.prepare(args, values);
    const config = readConfig(typeof values.out === "string" ? { outputDir: values.out } : {}, {
      logLevel: CLI_LOG_LEVEL,
    });
    const logger = new Logger(config.logLevel, (line) => progress.line(line));
    const runtime = await createRuntime(config, logger);
    let result: CommandResult;
    try {
      result = await run({
        runtime,
        config,
        signal: controller.signal,
        progress,
        note: (message) => progress.line(message),
      });
    } finally {
      progress.clear();
    }
    if (result.error !== undefined) {
      return fail(result.error, exitCodeFor(result.error, controller.signal.aborted), result.json);
    }
    await writeStdout(json ? `${JSON.stringify(result.json)}\n` : `${result.text}\n`);
    return EXIT.ok;
  } catch (err) {
    return fail(err, exitCodeFor(err, controller.signal.aborted));
  } finally {
    process.removeListener("SIGINT", onInterrupt);
  }
}
