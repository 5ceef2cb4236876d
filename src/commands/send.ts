import type { TurnUpdate } from "../client/turns.js";
import { describeTurnUpdate } from "../jobs/updates.js";
import { type TurnView, wordView } from "../jobs/views.js";
import type { Command, CommandContext, CommandResult } from "./context.js";
import { stringFlag, UsageError } from "./context.js";
import { COMMAND_WORDS } from "./output.js";
import { elapsed } from "./progress.js";

const MAX_MESSAGE_CHARS = 20_000;

/** What `send --wait` says when the turn outlived the wait: the work goes on at NemoVideo. */
function stillRunning(view: TurnView): string {
  return (
    `Still running: turn ${view.turn_id}. NemoVideo goes on working on it; check the result with ` +
    `${COMMAND_WORDS.check_state} in a minute, and do not send the message again (that would run and charge it twice).`
  );
}

function turnText(view: TurnView): string {
  const parts: string[] = [];
  if (view.reply) parts.push(view.reply);
  else if (view.changes?.length) parts.push(`Done. Changes to the timeline:\n- ${view.changes.join("\n- ")}`);
  else parts.push("The backend finished without a reply, and the timeline did not change.");
  if (view.recovered) parts.push("(The connection dropped; the result was confirmed from the timeline.)");
  if (view.timeline) parts.push(view.timeline);
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
  let count = 0;
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
    const line = describeTurnUpdate(u);
    if (!line) return;
    // every tool call and recovery poll is a stage of its own; reply chunks are one stage
    const stage = line.minor ? line.kind : `${line.kind}:${++count}`;
    progress.update(stage, line.text);
  };
  return { onUpdate, stop: () => clearTimeout(timer) };
}

/**
 * Sends one message as a turn job and waits for it to end (no background mode in the CLI). Ctrl+C
 * cancels it: the stream is closed and the message is never re-sent.
 */
async function runSend(ctx: CommandContext, message: string, waitSeconds: number | undefined) {
  const { jobs, sessions } = ctx.runtime;
  const follow = followTurn(ctx);
  try {
    const session = await sessions.resolve(undefined, ctx.signal);
    ctx.progress.update("sending", "Sending your message to NemoVideo…");
    const turn = await jobs.turns.start({
      sessionId: session.sessionId,
      message,
      onUpdate: follow.onUpdate,
    });
    const onAbort = () => turn.cancel();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    if (ctx.signal.aborted) onAbort();
    let view: TurnView;
    try {
      view =
        waitSeconds === undefined || ctx.signal.aborted
          ? await jobs.turns.final(turn.id)
          : await jobs.turns.wait(turn.id, Math.ceil(waitSeconds * 1000), ctx.signal);
      if (view.status === "running" && ctx.signal.aborted) view = await jobs.turns.final(turn.id);
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
    }
    view = wordView(view, COMMAND_WORDS);
    if (view.status === "running") return { json: view, text: stillRunning(view) };
    const out: CommandResult = { json: view, text: turnText(view) };
    if (view.status === "failed" || view.status === "cancelled") {
      out.error = (await turn.done).cause ?? new Error(view.error?.message);
    }
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
 * `send "<message>" [--wait <seconds>]`: one turn of the backend agent. Past --wait the command ends
 * (exit 0) with the turn still running at NemoVideo: status "running" and its turn id.
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
