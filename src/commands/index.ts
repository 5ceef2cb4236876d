import type { ConfigOverrides } from "../config.js";

/** CLI subcommands over the same client and state directory (filled in by the skills CLI work). */
export async function runCommand(
  command: string,
  _args: string[],
  _values: Record<string, unknown>,
  _flags: ConfigOverrides,
): Promise<number> {
  process.stderr.write(`nemovideo-mcp: unknown command "${command}". Run nemovideo-mcp --help for usage.\n`);
  return 2;
}
