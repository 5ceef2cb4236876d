import { type Draft, draftEnd, hasSegments, toDraft } from "./draft.js";
import {
  drained,
  dropAfterFlush,
  fail,
  ok,
  type RequestContext,
  sendJson,
  stringField,
  writable,
} from "./http.js";
import type { RenderOutput } from "./outputs.js";
import type { RenderRecord, SandboxState } from "./state.js";

/** Draws renders from their timelines (`TimelineRenderer` with ffmpeg); without it every render is `output`. */
interface TimelineRenders {
  start(id: string, draft: Draft): void;
  /** A promise while the file is being drawn; resolves undefined when it could not be. */
  output(id: string): Promise<RenderOutput | undefined> | undefined;
}

/** What the render endpoints need: the sandbox state, its own URL and its render settings. */
export interface RenderDeps {
  state: SandboxState;
  baseUrl: string;
  renderSteps: number;
  /** The stand-in every render serves unless `timeline` drew one. */
  output: RenderOutput;
  timeline?: TimelineRenders | undefined;
}

/** What render `id` serves: its drawn file when ready, the stand-in when there is none; "drawing" meanwhile. */
async function outputOf(deps: RenderDeps, id: string, wait: boolean): Promise<RenderOutput | "drawing"> {
  const drawn = deps.timeline?.output(id);
  if (!drawn) return deps.output;
  const settled = wait ? await drawn : await Promise.race([drawn, Promise.resolve("drawing" as const)]);
  return settled ?? deps.output;
}

const SKILL_HEADERS = ["x-skill-source", "x-skill-version", "x-skill-platform"];

/** `POST /api/render/proxy/lambda`. */
export function submitRender(ctx: RequestContext, deps: RenderDeps, userId: string, body: unknown): void {
  const missing = SKILL_HEADERS.some((h) => !String(ctx.req.headers[h] ?? "").trim());
  if (missing) {
    sendJson(ctx, 402, fail(402, "free plan export blocked"));
    return;
  }
  const session = deps.state.getSession(stringField(body, "sessionId") ?? "", userId);
  if (!session) {
    sendJson(ctx, 200, fail(1002));
    return;
  }
  const given = (body as { draft?: unknown }).draft;
  const draft = given === undefined ? session.draft : given;
  if (!hasSegments(draft)) {
    sendJson(ctx, 200, fail(5001));
    return;
  }
  const normal = toDraft(draft);
  const id = stringField(body, "id") || `render_${Date.now()}`;
  const render: RenderRecord = {
    id,
    sessionId: session.sessionId,
    polls: 0,
    status: "pending",
    progress: 0,
    fails: deps.state.takeRenderFailure(),
    duration: Math.max(normal.d, draftEnd(normal)) / 1000,
    createdAt: Date.now(),
  };
  deps.state.renders.set(id, render);
  if (!render.fails) deps.timeline?.start(id, normal);
  sendJson(ctx, 200, ok({ id, status: "pending" }));
}

/**
 * Moves a render one poll further: pending at 0, processing, then completed (or failed) at poll `steps`,
 * or later while its file is still being drawn.
 */
function advance(render: RenderRecord, steps: number, drawing: boolean): void {
  if (render.status === "completed" || render.status === "failed" || render.status === "cancelled") return;
  render.polls += 1;
  if (render.polls >= steps && drawing && !render.fails) {
    render.status = "processing";
    render.progress = Math.max(render.progress, 95);
    return;
  }
  if (render.polls >= steps) {
    if (render.fails) {
      render.status = "failed";
      render.error = "render failed: lambda worker timed out";
    } else {
      render.status = "completed";
      render.progress = 100;
    }
    return;
  }
  render.status = render.polls <= 1 ? "pending" : "processing";
  render.progress = steps <= 1 ? 0 : Math.round((100 * (render.polls - 1)) / (steps - 1));
}

/** `GET /api/render/proxy/lambda/<id>`, in the shape `state.renderStatusStyle` asks for. */
export async function renderStatus(ctx: RequestContext, deps: RenderDeps, id: string): Promise<void> {
  const render = deps.state.renders.get(id);
  if (!render) {
    sendJson(ctx, 404, fail(404, "render not found"));
    return;
  }
  const output = await outputOf(deps, id, false);
  advance(render, deps.renderSteps, output === "drawing");
  const url = `${deps.baseUrl}/files/renders/${encodeURIComponent(render.id)}.mp4`;
  const withUrl = !deps.state.omitOutputUrl;
  const completed = render.status === "completed";
  const size = output === "drawing" ? deps.output.size : output.size;
  const done = completed ? { ...(withUrl ? { url } : {}), duration: render.duration, size } : undefined;
  const error = render.error === undefined ? {} : { error: render.error };
  const base = { status: render.status, progress: render.progress };
  switch (deps.state.renderStatusStyle) {
    case "success":
      sendJson(ctx, 200, {
        success: true,
        data: { ...base, ...(completed && withUrl ? { outputUrl: url } : {}), ...error },
      });
      return;
    case "top":
      sendJson(ctx, 200, { taskId: render.id, ...base, ...(done ? { output: done } : {}), ...error });
      return;
    default:
      sendJson(ctx, 200, ok({ id: render.id, ...base, ...(done ? { output: done } : {}), ...error }));
  }
}

/** `POST /api/render/proxy/lambda/<id>/cancel`: stops a render still running; a finished one keeps its status. */
export function cancelRender(ctx: RequestContext, deps: RenderDeps, id: string): void {
  const render = deps.state.renders.get(id);
  if (!render) {
    sendJson(ctx, 404, fail(404, "render not found"));
    return;
  }
  if (render.status === "pending" || render.status === "processing") {
    render.status = "cancelled";
    render.error = "render cancelled";
  }
  sendJson(ctx, 200, ok({ id: render.id, status: render.status }));
}

/** Streams a completed render with Content-Length; HEAD gets the headers only. */
export async function downloadRender(ctx: RequestContext, deps: RenderDeps, id: string): Promise<void> {
  const render = deps.state.renders.get(id);
  if (render?.status !== "completed") {
    sendJson(ctx, 404, fail(404, render ? "render not ready" : "render not found"));
    return;
  }
  const { res } = ctx;
  const output = await outputOf(deps, id, true);
  if (output === "drawing") return; // not reached: waited for above
  const size = output.size;
  res.writeHead(200, {
    "content-type": "video/mp4",
    "content-length": String(size),
    "content-disposition": `attachment; filename="${id.replace(/[^\w.-]/g, "_")}.mp4"`,
    "cache-control": "no-store",
  });
  if (ctx.req.method === "HEAD") {
    res.end();
    return;
  }
  // a `truncated` fault sends half the bytes, then drops the connection
  const limit = ctx.truncate ? Math.floor(size / 2) : size;
  let sent = 0;
  const source = output.chunks();
  try {
    for await (const chunk of source) {
      if (!writable(res)) break;
      const part = sent + chunk.length > limit ? chunk.subarray(0, limit - sent) : chunk;
      sent += part.length;
      if (part.length > 0 && !res.write(part)) await drained(res);
      if (sent >= limit) break;
    }
  } catch {
    res.destroy();
    return;
  }
  if (ctx.truncate) await dropAfterFlush(res.socket);
  else if (writable(res)) res.end();
}
