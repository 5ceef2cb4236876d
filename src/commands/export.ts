import { CancelledError, isAbortError } from "../client/errors.js";
import { downloadRender, exportSession, type RenderProgress } from "../client/render.js";
import type { Session } from "../client/sessions.js";
import {
  type Command,
  type CommandContext,
  type CommandResult,
  expectNoArgs,
  stringFlag,
} from "./context.js";
import { errorJSON } from "./output.js";
import { mb } from "./progress.js";
import { projectLink } from "./session.js";

function showProgress(ctx: CommandContext) {
  return (p: RenderProgress) => {
    if (p.stage === "submitting") {
      ctx.progress.update(`submit:${p.renderId}`, "Submitting the render…");
    } else if (p.stage === "rendering") {
      const percent = Math.round(p.percent ?? 0);
      ctx.progress.update("render", `Rendering ${percent}%`, percent);
    } else {
      const got = p.receivedBytes ?? 0;
      const total = p.totalBytes;
      const percent = total ? Math.floor((100 * got) / total) : undefined;
      ctx.progress.update(
        "download",
        total ? `Downloading ${mb(got)}/${mb(total)} MB (${percent}%)` : `Downloading ${mb(got)} MB`,
        percent,
      );
    }
  };
}

/**
 * Renders the current session's timeline and downloads the MP4 into the output folder (never
 * overwriting a file). Ctrl+C stops the polling or download; the render itself may still finish.
 */
async function runExport(ctx: CommandContext): Promise<CommandResult> {
  const { client, sessions } = ctx.runtime;
  const outputDir = ctx.config.outputDir;
  const onProgress = showProgress(ctx);
  let renderId: string | undefined;
  let session: Session | undefined;
  try {
    const outcome = await sessions.run(
      undefined,
      (s) => {
        session = s;
        return exportSession(client, s.sessionId, {
          intervalMs: ctx.config.renderPollMs,
          maxPolls: ctx.config.renderMaxPolls,
          signal: ctx.signal,
          onProgress,
          onSubmitted: (id) => {
            renderId = id;
          },
        });
      },
      ctx.signal,
    );
    renderId = outcome.renderId;
    const saved = await downloadRender(client, outcome, { outputDir, signal: ctx.signal, onProgress });
    const json: Record<string, unknown> = { status: "completed", render_id: outcome.renderId };
    if (session) json.session_id = session.sessionId;
    if (outcome.url) json.url = outcome.url;
    json.file = saved.file;
    json.bytes = saved.bytes;
    if (outcome.attempts > 1) json.attempts = outcome.attempts;
    const lines = [`Saved ${saved.file} (${mb(saved.bytes)} MB, ${saved.bytes} bytes)`];
    if (outcome.url) lines.push(`URL: ${outcome.url}`);
    const projectUrl = session ? await projectLink(ctx, session) : undefined;
    if (projectUrl) {
      json.project_url = projectUrl;
      lines.push(`Open the project in NemoVideo: ${projectUrl}`);
    }
    return { json, text: lines.join("\n") };
  } catch (err) {
    // before a render was submitted there is no export to describe: a plain error
    if (renderId === undefined) throw err;
    const cancelled = err instanceof CancelledError || isAbortError(err) || ctx.signal.aborted;
    const json: Record<string, unknown> = {
      status: cancelled ? "cancelled" : "failed",
      render_id: renderId,
    };
    if (session) json.session_id = session.sessionId;
    json.error = errorJSON(err);
    return { json, text: "", error: err };
  }
}

/** `export [--out dir]`: render, download, print the file path, size and URL. */
export const exportCommand: Command = {
  name: "export",
  flags: ["out"],
  prepare(args, values) {
    expectNoArgs("export", args);
    // --out reaches the configuration as outputDir (see runCommand); here it is only checked
    stringFlag(values, "out");
    return (ctx) => runExport(ctx);
  },
};
