import { isAbortError } from "../client/errors.js";
import type { Session } from "../client/sessions.js";
import { type Command, type CommandContext, expectNoArgs, stringFlag, UsageError } from "./context.js";

const LANGUAGE = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$/;

/** The claim link of a session, or undefined (with a note) when NemoVideo could not make one. */
async function projectLink(ctx: CommandContext, session: Session): Promise<string | undefined> {
  if (!session.taskId) return undefined;
  try {
    return await ctx.runtime.sessions.claimLink(session, ctx.signal);
  } catch (err) {
    if (isAbortError(err) || ctx.signal.aborted) throw err;
    ctx.runtime.logger.warn(`Could not make the project link: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * `session [--new] [--language xx]`: the current session of the active skill (created on first need),
 * or a new one that becomes current. --language applies only when a session is created.
 */
export const sessionCommand: Command = {
  name: "session",
  flags: ["new", "language"],
  prepare(args, values) {
    expectNoArgs("session", args);
    const language = stringFlag(values, "language");
    if (language !== undefined && !LANGUAGE.test(language)) {
      throw new UsageError(`--language must be a language code such as en, zh or pt-BR (got "${language}").`);
    }
    const fresh = values.new === true;
    return async (ctx) => {
      const { sessions } = ctx.runtime;
      let session = fresh ? undefined : await sessions.current();
      const created = session === undefined;
      if (session === undefined) {
        session = await sessions.create(language ?? "en", ctx.signal);
      } else if (language !== undefined && language !== session.language) {
        ctx.note(
          `--language applies to a new session only; the current session stays in "${session.language}" (add --new to start one in "${language}").`,
        );
      }
      const projectUrl = await projectLink(ctx, session);
      const json: Record<string, unknown> = { session_id: session.sessionId, task_id: session.taskId };
      if (projectUrl) json.project_url = projectUrl;
      json.created = created;
      const lines = [
        `${created ? "New session" : "Current session"}: ${session.sessionId}`,
        `Task: ${session.taskId || "(unknown)"}`,
      ];
      if (projectUrl) lines.push(`Open the project in the browser: ${projectUrl}`);
      return { json, text: lines.join("\n") };
    };
  },
};
