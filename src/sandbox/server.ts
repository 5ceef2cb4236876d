import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { listen } from "../listen.js";
import { timelineRenderer } from "./ffmpeg-render.js";
import { applyFault, FaultQueue } from "./faults.js";
import {
  type BodyResult,
  fail,
  type JsonResult,
  ok,
  parseJson,
  type RequestContext,
  readBody,
  sendJson,
  stringField,
} from "./http.js";
import { resolveOutput } from "./outputs.js";
import { cancelRender, downloadRender, type RenderDeps, renderStatus, submitRender } from "./render.js";
import { headerRecord, matchRoute, messageText, type Route } from "./routes.js";
import { cutAfterFirstEvent, openStream, type PlayStep, playTurn } from "./sse.js";
import { type AccountRecord, randomId, SandboxState, type SessionRecord } from "./state.js";
import { chooseDefaultTurn } from "./turns.js";
import type { EndpointName, RecordedRequest, Sandbox, SandboxOptions, TurnScript } from "./types.js";
import { handleUpload } from "./upload.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_JSON_BYTES = 16 * 1024 * 1024;

interface Settings {
  host: string;
  port: number;
  credits: number;
  stepMs: number;
  heartbeatMs: number;
  renderSteps: number;
  maxUploadBytes: number;
  tokenTtlMs: number;
  log: (line: string) => void;
}

/** Starts the fake NemoVideo backend on a real socket. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const settings: Settings = {
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    credits: options.credits ?? 100,
    stepMs: options.stepMs ?? 120,
    heartbeatMs: options.heartbeatMs ?? 1000,
    renderSteps: options.renderSteps ?? 3,
    maxUploadBytes: options.maxUploadBytes ?? 500 * 1024 * 1024,
    tokenTtlMs: options.tokenTtlMs ?? 7 * DAY_MS,
    log: options.log ?? (() => {}),
  };
  const output = resolveOutput(options, settings.log);
  const timeline = await timelineRenderer(options, settings.log);
  const state = new SandboxState();
  const faults = new FaultQueue();
  const scripts: TurnScript[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  let baseUrl = "";

  const renderDeps = (): RenderDeps => ({
    state,
    baseUrl,
    renderSteps: settings.renderSteps,
    output,
    timeline,
  });

  /** The caller's account, or a 401 answer (1001) and undefined. */
  const authenticate = (ctx: RequestContext): AccountRecord | undefined => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.req.headers.authorization ?? "");
    const account = match?.[1] ? state.authenticate(match[1]) : undefined;
    if (!account) sendJson(ctx, 401, fail(1001));
    return account;
  };

  /** The caller's account and its session `sessionId`, or an error answer (1001, 1002) and undefined. */
  const ownSession = (
    ctx: RequestContext,
    sessionId: string,
  ): { account: AccountRecord; session: SessionRecord } | undefined => {
    const account = authenticate(ctx);
    if (!account) return undefined;
    const session = state.getSession(sessionId, account.userId);
    if (!session) {
      sendJson(ctx, 200, fail(1002));
      return undefined;
    }
    return { account, session };
  };

  const handlers: Record<
    EndpointName,
    (ctx: RequestContext, route: Route, body: unknown) => Promise<void> | void
  > = {
    token: (ctx) => {
      const clientId = String(ctx.req.headers["x-client-id"] ?? "").trim();
      if (!clientId) {
        sendJson(ctx, 400, fail(400, "missing X-Client-Id"));
        return;
      }
      const { token, account } = state.issueToken(clientId, settings.credits, settings.tokenTtlMs);
      sendJson(
        ctx,
        200,
        ok({
          token: token.token,
          user_id: account.userId,
          expires_at: new Date(token.expiresAt).toISOString(),
          credits: account.credits.available,
        }),
      );
    },
    session: (ctx, _route, body) => {
      const account = authenticate(ctx);
      if (!account) return;
      const session = state.createSession(
        account.userId,
        stringField(body, "task_name") ?? "project",
        stringField(body, "language") ?? "en",
      );
      sendJson(
        ctx,
        200,
        ok({ task_id: session.taskId, session_id: session.sessionId, user_id: account.userId }),
      );
    },
    claim: (ctx, _route, body) => {
      if (!ownSession(ctx, stringField(body, "session_id") ?? "")) return;
      sendJson(ctx, 200, ok({ claim_token: `clm_${randomId(16)}`, expires_in: 604800 }));
    },
    credits: (ctx) => {
      const account = authenticate(ctx);
      if (!account) return;
      sendJson(ctx, 200, ok({ ...account.credits }));
    },
    state: (ctx, route) => {
      const session = ownSession(ctx, route.param)?.session;
      if (!session) return;
      sendJson(
        ctx,
        200,
        ok({
          session_id: session.sessionId,
          task_id: session.taskId,
          task_name: session.taskName,
          user_id: session.userId,
          state: {
            draft: session.draft,
            video_infos: session.videoInfos,
            canvas_config: { width: 1920, height: 1080 },
            generated_media: session.generatedMedia,
          },
        }),
      );
    },
    run_sse: async (ctx, _route, body) => {
      const owned = ownSession(ctx, stringField(body, "session_id") ?? "");
      if (!owned) return;
      const { account, session } = owned;
      const script = scripts.shift();
      let steps: PlayStep[];
      let cost = 0;
      let heartbeatMs = 0;
      if (script) {
        steps = script.steps;
      } else {
        const message = messageText(body);
        const turn = chooseDefaultTurn(message, { session, state, stepMs: settings.stepMs, baseUrl });
        if (turn.cost > account.credits.available) {
          sendJson(ctx, 200, fail(2001));
          return;
        }
        settings.log(
          `sandbox: turn ${turn.tool ?? "chat"} (${turn.cost} credits) for session ${session.sessionId}`,
        );
        steps = turn.steps;
        cost = turn.cost;
        if (turn.long) heartbeatMs = settings.heartbeatMs;
      }
      state.freeze(account, cost);
      openStream(ctx.res);
      if (ctx.truncate) steps = cutAfterFirstEvent(steps);
      const finished = await playTurn(ctx.res, steps, {
        signal: closing.signal,
        heartbeatMs,
        spend: (credits) => state.spend(account, credits),
        setDraft: (draft) => {
          session.draft = structuredClone(draft);
        },
      });
      if (finished) state.settle(account, cost);
    },
    upload: async (ctx, route) => {
      const session = ownSession(ctx, route.param)?.session;
      if (!session) return;
      await handleUpload(ctx, { state, session, baseUrl, maxUploadBytes: settings.maxUploadBytes });
    },
    render_submit: (ctx, _route, body) => {
      const account = authenticate(ctx);
      if (!account) return;
      submitRender(ctx, renderDeps(), account.userId, body);
    },
    render_status: async (ctx, route) => {
      if (!authenticate(ctx)) return;
      await renderStatus(ctx, renderDeps(), route.param);
    },
    render_cancel: (ctx, route) => {
      if (!authenticate(ctx)) return;
      cancelRender(ctx, renderDeps(), route.param);
    },
    download: async (ctx, route) => {
      // the CDN URL is public; the API fallback needs the token
      if (ctx.record.path.startsWith("/api/") && !authenticate(ctx)) return;
      await downloadRender(ctx, renderDeps(), route.param);
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://sandbox.invalid");
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      headers: headerRecord(req),
      at: Date.now(),
    };
    requests.push(record);
    const ctx: RequestContext = { req, res, url, record, truncate: false };
    const route = matchRoute(record.method, path);
    if (!route) {
      sendJson(ctx, 404, fail(404, "not found"));
      return;
    }
    if (route.endpoint === "token") state.tokenRequests += 1;
    if (route.endpoint === "run_sse") state.runSseRequests += 1;
    let parsed: JsonResult | undefined;
    if (route.readsJson) {
      const raw: BodyResult = await readBody(req, MAX_JSON_BYTES);
      if (!raw.ok) {
        if (raw.reason === "too_large") sendJson(ctx, 413, fail(413, "body too large"));
        return;
      }
      parsed = parseJson(raw.raw);
      if (parsed.ok) record.body = parsed.value;
    }
    const fault = faults.take(route.endpoint);
    if (fault) {
      settings.log(`sandbox: fault ${fault.type} on ${route.endpoint}`);
      if (await applyFault(ctx, fault, closing.signal)) return;
    }
    if (parsed && !parsed.ok) {
      sendJson(ctx, 400, fail(400, "invalid JSON body"));
      return;
    }
    const body = parsed?.ok && typeof parsed.value === "object" && parsed.value !== null ? parsed.value : {};
    await handlers[route.endpoint](ctx, route, body);
  };

  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    const started = Date.now();
    req.on("error", () => {});
    res.on("error", () => {});
    res.on("close", () => {
      const how = res.writableFinished
        ? `${res.statusCode}`
        : `${res.headersSent ? res.statusCode : "-"} cut`;
      settings.log(`${req.method} ${req.url?.split("?")[0]} ${how} ${Date.now() - started}ms`);
    });
    handle(req, res).catch((error: unknown) => {
      settings.log(`sandbox: handler error: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent && !res.destroyed) {
        res
          .writeHead(500, { "content-type": "application/json" })
          .end('{"code":500,"message":"internal error"}');
      } else {
        res.destroy();
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });

  const address = await listen(server, settings.port, settings.host);
  // a wildcard listener is reached through loopback
  const reachable =
    address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
  const host = reachable.includes(":") ? `[${reachable}]` : reachable;
  baseUrl = `http://${host}:${address.port}`;
  const renders: Sandbox["renders"] = timeline ? "timeline" : "stand-in";

  let closed: Promise<void> | undefined;
  return {
    url: baseUrl,
    port: address.port,
    renders,
    requests,
    state,
    inject: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    scriptTurn: (script) => {
      scripts.push(script);
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        const stopped = new Promise<void>((done) => server.close(() => done()));
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        void Promise.all([stopped, timeline?.close()]).then(() => resolve());
      });
      return closed;
    },
  };
}
