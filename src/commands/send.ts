import { createInterface } from "node:readline/promises";
import { type AgentQuestion, questionText } from "../client/questions.js";
import type { TurnUpdate } from "../client/turns.js";
import { describeTurnUpdate } from "../jobs/updates.js";
import { type TurnView, wordView } from "../jobs/views.js";
import type { Command, CommandContext, CommandResult } from "./context.js";
import { stringFlag, UsageError } from "./context.js";
import { COMMAND_WORDS } from "./output.js";
import { elapsed } from "./progress.js";

const MAX_MESSAGE_CHARS = 20_000;
/** Questions answered in one command at most. */
const MAX_ANSWERS = 5;
/** How long the terminal prompt waits for the person. */
const PROMPT_MS = 10 * 60_000;

function questionsOf(view: TurnView): AgentQuestion[] {
  return view.questions ?? (view.question ? [view.question] : []);
}

/** What `send --wait` says when the turn outlived the wait: the work goes on at NemoVideo. */
function stillRunning(view: TurnView): string {
  return (
    `Still running: turn ${view.turn_id}. NemoVideo goes on working on it; check the result with ` +
    `${COMMAND_WORDS.check_state} in a minute, and do not send the message again (that would run and charge it twice).`
  );
}

function turnText(view: TurnView): string {
  const parts: string[] = [];
  if (view.status === "awaiting_input") {
    if (view.reply) parts.push(view.reply);
    parts.push(`NemoVideo's agent is waiting for an answer:\n${questionText(questionsOf(view))}`);
    parts.push('Answer with: nemovideo-mcp send --answer "<the option\'s words>"');
    return parts.join("\n\n");
  }
  if (view.reply) parts.push(view.reply);
  else if (view.changes?.length) parts.push(`Done. Changes to the timeline:\n- ${view.changes.join("\n- ")}`);
  else parts.push("The backend finished without a reply, and the timeline did not change.");
  if (view.recovered) parts.push("(The connection dropped; the result was confirmed from the timeline.)");
  if (view.credits_used !== undefined) {
    parts.push(
      `This turn cost ${view.credits_used_approximate ? "about " : ""}${view.credits_used} credits.`,
    );
  }
  if (view.timeline) parts.push(view.timeline);
  return parts.join("\n\n");
}

/** An option's number ("2") stands for its words; anything else is sent as written. */
function answerWords(answer: string, questions: readonly AgentQuestion[]): string {
  const options = questions.length === 1 ? (questions[0]?.options ?? []) : [];
  const n = /^\d+$/.test(answer.trim()) ? Number(answer.trim()) : 0;
  return n >= 1 && n <= options.length ? (options[n - 1] ?? answer) : answer;
}

/** Asks the person on the terminal (stderr, stdin); undefined when they give no answer. */
async function promptAnswer(ctx: CommandContext, view: TurnView): Promise<string | undefined> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    ctx.note(`NemoVideo's agent asks:\n${questionText(questionsOf(view))}`);
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(PROMPT_MS)]);
    const answer = (await rl.question("Your answer (empty to stop): ", { signal })).trim();
    return answer === "" ? undefined : answer;
  } catch {
    return undefined;
  } finally {
    rl.close();
  }
}

/** True when the person is at a terminal that can be asked. */
function interactive(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
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
async function runSend(
  ctx: CommandContext,
  message: string,
  waitSeconds: number | undefined,
  answer: string | undefined,
) {
  const { jobs, sessions } = ctx.runtime;
  const follow = followTurn(ctx);
  try {
    const session = await sessions.resolve(undefined, ctx.signal);
    const sendOne = async (text: string) => {
      ctx.progress.update("sending", "Sending your message to NemoVideo…");
      const turn = await jobs.turns.start({
        sessionId: session.sessionId,
        message: text,
        onUpdate: follow.onUpdate,
      });
      const onAbort = () => turn.cancel();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      if (ctx.signal.aborted) onAbort();
      try {
        let view =
          waitSeconds === undefined || ctx.signal.aborted
            ? await jobs.turns.final(turn.id)
            : await jobs.turns.wait(turn.id, Math.ceil(waitSeconds * 1000), ctx.signal);
        if (view.status === "running" && ctx.signal.aborted) view = await jobs.turns.final(turn.id);
        return { turn, view };
      } finally {
        ctx.signal.removeEventListener("abort", onAbort);
      }
    };
    let { turn, view } = await sendOne(message);
    let pending = answer;
    // the agent's questions: --answer once, then the person at the terminal
    for (let round = 0; view.status === "awaiting_input" && round < MAX_ANSWERS; round++) {
      const given = pending ?? (interactive() ? await promptAnswer(ctx, view) : undefined);
      pending = undefined;
      if (given === undefined) break;
      ({ turn, view } = await sendOne(answerWords(given, questionsOf(view))));
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
 * `send "<message>" [--wait <seconds>] [--answer <text>]`: one turn of the backend agent. Past --wait the
 * command ends (exit 0) with the turn still running at NemoVideo: status "running" and its turn id. When the
 * agent asks a question, --answer (or the person at a terminal) answers it in the same session; otherwise the
 * question and its options are printed and `send --answer` answers later.
 */
export const sendCommand: Command = {
  name: "send",
  flags: ["wait", "answer"],
  prepare(args, values) {
    // unquoted words are one message: `send add background music` works like the quoted form
    const words = args.join(" ").trim();
    const answer = stringFlag(values, "answer");
    // `send --answer <text>` alone answers the question the last turn of the session asked
    const message = words === "" && answer !== undefined ? answer : words;
    const then = words === "" ? undefined : answer;
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
    return (ctx) => runSend(ctx, message, waitSeconds, then);
  },
};
