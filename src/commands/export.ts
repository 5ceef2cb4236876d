import { NemoError } from "../client/errors.js";
import { mb, sizeOf } from "../client/paths.js";
import type { ExportProgress } from "../client/export.js";
import { ExportJob } from "../jobs/export-job.js";
import { wordView } from "../jobs/views.js";
import {
  type Command,
  type CommandContext,
  type CommandResult,
  expectNoArgs,
  stringFlag,
} from "./context.js";
import { COMMAND_WORDS } from "./output.js";

function showProgress(ctx: CommandContext) {
  return (p: ExportProgress) => {
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
        total ? `Downloading ${sizeOf(got, total)} (${percent}%)` : `Downloading ${mb(got)} MB`,
        percent,
      );
    }
  };
}

/** The export command's result: the export view as JSON (as export_video returns it) and lines for people. */
function exportOutcome(job: ExportJob): CommandResult {
  const view = wordView(job.view(), COMMAND_WORDS);
  if (view.status === "rendering") {
    // polls ran out while NemoVideo still renders: not a failure (exit 0), the render id picks it up
    const text = `Still rendering (${Math.round(view.percent ?? 0)}%): render ${view.render_id}. Pick it up with \`nemovideo-mcp export --resume ${view.render_id}\` (raise NEMO_RENDER_MAX_POLLS for long videos).`;
    return { json: view, text };
  }
  if (view.status !== "completed") return { json: view, text: "", error: job.failure };
  const lines = [`Saved ${view.file} (${mb(view.bytes ?? 0)} MB, ${view.bytes} bytes)`];
  if (view.url) lines.push(`URL: ${view.url}`);
  if (view.project_url) lines.push(`Open the project in NemoVideo: ${view.project_url}`);
  return { json: view, text: lines.join("\n") };
}

/** Follows an export job to its end; Ctrl+C stops the polling or download (the render may still finish). */
async function follow(
  ctx: CommandContext,
  job: ExportJob,
  progress = showProgress(ctx),
): Promise<CommandResult> {
  const unsubscribe = job.subscribe(progress);
  const detach = job.cancelOn(ctx.signal);
  try {
    await job.done;
  } finally {
    detach();
    unsubscribe();
  }
  return exportOutcome(job);
}

/**
 * Renders the current session's timeline as an export job and downloads the MP4 into the output
 * folder (never overwriting a file).
 */
async function runExport(ctx: CommandContext): Promise<CommandResult> {
  const { jobs, sessions } = ctx.runtime;
  const outputDir = ctx.config.outputDir;
  const progress = showProgress(ctx);
  const job = await sessions.run(
    undefined,
    (session) =>
      jobs.exports.start(
        { sessionId: session.sessionId, outputDir },
        { listener: progress, signal: ctx.signal },
      ),
    ctx.signal,
  );
  return follow(ctx, job, progress);
}

/** `export --resume <render_id>`: picks up an export recorded by an earlier run; never submits again. */
async function resumeExport(ctx: CommandContext, renderId: string): Promise<CommandResult> {
  const job = await ctx.runtime.jobs.exports.resume(renderId);
  if (!(job instanceof ExportJob)) {
    const view = wordView(job, COMMAND_WORDS);
    if (view.status === "completed") {
      return { json: view, text: `Already saved: ${view.file ?? view.url ?? view.render_id}` };
    }
    return {
      json: view,
      text: "",
      error: new NemoError(view.error?.message ?? `The export ${renderId} ${view.status}.`),
    };
  }
  return follow(ctx, job);
}

/** `export [--out dir] [--resume render_id]`: render (or resume), download, print the file path, size and URL. */
export const exportCommand: Command = {
  name: "export",
  flags: ["out", "resume"],
  prepare(args, values) {
    expectNoArgs("export", args);
    // --out reaches the configuration as outputDir (see runCommand); here it is only checked
    stringFlag(values, "out");
    const renderId = stringFlag(values, "resume");
    return (ctx) => (renderId === undefined ? runExport(ctx) : resumeExport(ctx, renderId));
  },
};
