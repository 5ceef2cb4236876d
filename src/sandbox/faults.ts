import { STATUS_CODES } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { fail, type RequestContext, sendJson, sendText } from "./http.js";
import type { EndpointName, Fault, FaultKind } from "./types.js";

interface QueuedFault {
  endpoint: EndpointName | "*";
  left: number;
  kind: FaultKind;
}

/** Injected faults, matched in order and consumed one request at a time. */
export class FaultQueue {
  private queue: QueuedFault[] = [];

  add(fault: Fault): void {
    const times = fault.times ?? 1;
    if (times > 0) this.queue.push({ endpoint: fault.endpoint, left: times, kind: fault.kind });
  }

  clear(): void {
    this.queue = [];
  }

  /** Consumes the first fault that matches the endpoint. */
  take(endpoint: EndpointName): FaultKind | undefined {
    const index = this.queue.findIndex((f) => f.endpoint === endpoint || f.endpoint === "*");
    const fault = this.queue[index];
    if (!fault) return undefined;
    fault.left -= 1;
    if (fault.left <= 0) this.queue.splice(index, 1);
    return fault.kind;
  }
}

const MALFORMED_BODY = "<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>";

/**
 * Applies a fault. Returns true when the request is finished; false when the handler must still run
 * (`delay` after its pause, `truncated` which cuts the handler's real response).
 */
export async function applyFault(
  ctx: RequestContext,
  kind: FaultKind,
  signal: AbortSignal,
): Promise<boolean> {
  switch (kind.type) {
    case "code":
      sendJson(ctx, kind.status ?? 200, fail(kind.code, kind.message));
      return true;
    case "http": {
      const body = kind.body ?? STATUS_CODES[kind.status] ?? "error";
      const type = looksLikeJson(body) ? "application/json; charset=utf-8" : "text/plain; charset=utf-8";
      for (const [name, value] of Object.entries(kind.headers ?? {})) ctx.res.setHeader(name, value);
      sendText(ctx, kind.status, body, type);
      return true;
    }
    case "reset":
      ctx.req.socket.destroy();
      return true;
    case "delay":
      try {
        await sleep(kind.ms, undefined, { signal });
      } catch {
        ctx.req.socket.destroy();
        return true;
      }
      // a client that gave up during the pause never reached the "backend"
      return ctx.res.destroyed || ctx.req.socket.destroyed;
    case "malformed":
      sendText(ctx, 200, MALFORMED_BODY, "application/json; charset=utf-8");
      return true;
    case "truncated":
      ctx.truncate = true;
      return false;
  }
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
