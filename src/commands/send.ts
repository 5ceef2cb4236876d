import { SessionNotFoundError } from "../client/errors.js";
import { startTurn, type TurnLimits, type TurnResult, type TurnUpdate } from "../client/turns.js";
import type { Command, CommandContext, CommandResult } from "./context.js";
import { stringFlag, UsageError } from "./context.js";
import { cliWording, type ErrorJSON } from "./output.js";
import { elapsed } from "./progress.js";

const MAX_MESSAGE_CHARS = 20_000;

/** The send_message shape of a finished turn (the reply's tool names reworded as commands). */
function turnJSON(result: TurnResult): Record<string, unknown> {
  const json: Record<string, unknown> = {
    status: result.status,
    turn_id: result.turnId,
    session_id: result.sessionId,
    reply: cliWording(result.reply),
    activity: result.activity,
  };
  if (result.changes) json.changes = result.changes;
  if (result.timeline) json.timeline = result.timeline;
  if (result.recovered) json.recovered = true;
  if (result.error) {
    const error: ErrorJSON = { kind: result.error.kind, message: cliWording(result.error.message) };
    if (result.error.nextStep) error.next_step = cliWording(result.error.nextStep);
    if (result.error.code !== undefined) error.code = result.error.code;
    json.error = error;
  }
  return json;
}

function turnText(result: TurnResult): string {
  const parts: string[] = [];
  if (result.reply) parts.push(cliWording(result.reply));
  else if (result.changes?.length)
    parts.push(`Done. Changes to the timeline:\n- ${result.changes.join("\n- ")}`);
  else parts.push("The backend finished without a reply, and the timeline did not change.");
  if (result.recovered) parts.push("(The connection dropped; the result was confirmed from the timeline.)");
  if (result.timeline) parts.push(result.timeline);
  return parts.join("\n\n");
}

/**
 * Progress of a turn on stderr: backend tools, replies, recovery polls, and "Still working…"
 * whenever nothing was reported for `stillWorkingMs` (2 minutes by default) of heartbeats or silence.
 */
function followTurn(ctx: CommandContext) {
  const { progress } = ctx;
  const quietMs = ctx.config.stillWorkingMs;
  const startedAt = Date.now();
  let stills = 0;
  let tools = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(
      () => {
        if (Date.now() - progress.lastAt >= quietMs) {
          stills += 1;
          progress.update(`still:${stills}`, `Still working… (${elapsed(Date.now() - startedAt)} so far)`);
        }
        arm();
      },
      Math.max(10, progress.lastAt + quietMs - Date.now()),
    );
    timer.unref();
  };
  arm();
  const onUpdate = (u: TurnUpdate) => {
    switch (u.type) {
      case "started":
        progress.update("started", "NemoVideo is working on your message…");
        break;
      case "tool_call":
        tools += 1;
        progress.update(`tool:${tools}`, `Backend is running ${u.name}`);
        break;
      case "text":
        progress.update("reply", "Backend is replying…");
        break;
      case "recovering":
        progress.update(
          `recover:${u.attempt}`,
          `Connection dropped; checking the timeline (${u.attempt}/${u.max})…`,
        );
        break;
      case "stalled":
        progress.update("stalled", "The backend stopped making progress.");
        break;
      default:
        break;
    }
  };
  return { onUpdate, stop: () => clearTimeout(timer) };
}

/**
 * Sends one message and waits for the turn to end (no background mode in the CLI). Ctrl+C cancels
 * it: the stream is closed and the message is never re-sent.
 */
async function runSend(ctx: CommandContext, message: string, waitSeconds: number | undefined) {
  const { client, sessions } = ctx.runtime;
  const { config } = ctx;
  const limits: TurnLimits = {
    streamTimeoutMs:
      waitSeconds === undefined
        ? config.streamTimeoutMs
        : Math.min(config.streamTimeoutMs, Math.ceil(waitSeconds * 1000)),
    stallMs: config.stallMs,
    recoveryPollMs: config.recoveryPollMs,
  };
  const follow = followTurn(ctx);
  try {
    const result = await sessions.run(
      undefined,
      async (session) => {
        ctx.progress.update("sending", "Sending your message to NemoVideo…");
        const turn = startTurn(client, {
          sessionId: session.sessionId,
          message,
          limits,
          signal: ctx.signal,
          onUpdate: follow.onUpdate,
        });
        const done = await turn.done;
        // a vanished session (1002) is replaced by sessions.run, which says so in the error
        if (done.cause instanceof SessionNotFoundError) throw done.cause;
        return done;
      },
      ctx.signal,
    );
    const out: CommandResult = { json: turnJSON(result), text: turnText(result) };
    if (result.status !== "completed") out.error = result.cause ?? new Error(result.error?.message);
    return out;
  } finally {
    follow.stop();
  }
}

/** Reads --wait: seconds, a positive number. */
function waitFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--wait must be a number of seconds greater than 0 (got "${value}").`);
  }
  return seconds;
}

/**
 * `send "<message>" [--wait <seconds>]`: one turn of the backend agent. --wait caps the turn (at most
 * NEMO_STREAM_TIMEOUT_MS); past it the stream is closed and the turn reported as timed out.
 */
export const sendCommand: Command = {
  name: "send",
  flags: ["wait"],
  prepare(args, values) {
    // unquoted words are one message: `send add background music` works like the quoted form
    const message = args.join(" ").trim();
    if (message === "") {
      throw new UsageError(
        "send needs a message.",
        'Example: nemovideo-mcp send "add background music" (run nemovideo-mcp --help for usage).',
      );
    }
    if (message.length > MAX_MESSAGE_CHARS) {
      throw new UsageError(`The message is too long (${MAX_MESSAGE_CHARS} characters at most).`);
    }
    const waitSeconds = waitFlag(stringFlag(values, "wait"));
    return (ctx) => runSend(ctx, message, waitSeconds);
  },
};
