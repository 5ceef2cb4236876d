/**
 * `nemovideo-mcp <command> --help`: one screen per subcommand. The global flags (--json, --skill,
 * --state-dir, --api-url, --log-level) apply to every command and are listed by `nemovideo-mcp --help`.
 */

const COMMON = `Global options: --json, --skill <name|path>, --state-dir <dir>, --api-url <url>, --log-level <level>
(see nemovideo-mcp --help). Exit codes: 0 ok, 1 backend or runtime error, 2 bad usage, 130 Ctrl+C.`;

const HELP: Readonly<Record<string, string>> = {
  credits: `Usage: nemovideo-mcp credits

The credit balance: available, frozen (reserved by work in progress) and total. Free.`,

  session: `Usage: nemovideo-mcp session [--new] [--language xx]

The current editing session and its project link; with --new, a new session made current. Free.

  --new             start a new, empty session
  --language <xx>   language of the new session (default en)`,

  upload: `Usage: nemovideo-mcp upload <path|url>...

Uploads local files (streamed, checked first: format and size) and/or http(s) URLs into the current
session. Free. Paths with spaces must be quoted.

Example: nemovideo-mcp upload ./demo.mp4 https://example.com/clip.mp4`,

  send: `Usage: nemovideo-mcp send "<message>" [--wait <seconds>]

Sends one instruction to NemoVideo's agent and waits for its reply. SPENDS CREDITS. The message is
never sent twice; Ctrl+C closes the stream (the backend may still finish the work).

  --wait <seconds>  return after this long with the turn id if it still runs: exit 0, status running
                    (--json); the work goes on at NemoVideo (default: wait up to NEMO_STREAM_TIMEOUT_MS)

Example: nemovideo-mcp send "add a natural AI voiceover in English"`,

  state: `Usage: nemovideo-mcp state

The current session's timeline: tracks, segments, duration and whether it can be exported. Free.`,

  export: `Usage: nemovideo-mcp export [--out <dir>] [--resume <render_id>]

Renders the current session's timeline and downloads the MP4 (an existing file is never overwritten).
Free. Polls every NEMO_RENDER_POLL_MS (30 s against the real backend) up to NEMO_RENDER_MAX_POLLS times.

  --out <dir>              folder for the MP4 (default NEMO_OUTPUT_DIR or ./nemovideo-exports)
  --resume <render_id>     pick up a render an earlier run left rendering (never submits it again)`,

  route: `Usage: nemovideo-mcp route "<the user's words>" [--dry-run]

Applies the skills' routing table to a person's words and runs the command it picks:
export / 导出 / download → export; credits / 积分 / balance → credits; status / 状态 → state;
upload / 上传 + paths or URLs → upload; anything else → send, which SPENDS CREDITS.

  --dry-run         print the command it would run (and whether it spends credits), run nothing
  --new, --language, --wait, --out   passed on to the command picked when it takes them

Example: nemovideo-mcp route "导出" --dry-run`,

  sandbox: `Usage: nemovideo-mcp sandbox [--port N] [--host H]

Runs the local fake NemoVideo backend (no account, no network, pretend credits) until Ctrl+C, and prints
the environment line that points nemovideo-mcp at it. With ffmpeg on PATH (or NEMO_FFMPEG) its renders are
stand-ins drawn from the timeline; without, every render is the same sample clip.

  --port <n>        port to listen on (default: a free one)
  --host <host>     interface (default 127.0.0.1)`,
};

/** The help text of one subcommand, or undefined for a name that is not one. */
export function commandHelp(name: string): string | undefined {
  const text = HELP[name];
  return text === undefined ? undefined : `${text}\n\n${COMMON}\n`;
}

/** Names of the subcommands that have help. */
export const HELP_TOPICS: readonly string[] = Object.keys(HELP);
