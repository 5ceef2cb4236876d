import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { RecordedRequest } from "./types.js";

/** One request in flight. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  record: RecordedRequest;
  /** Set by a `truncated` fault: the real response is cut in half. */
  truncate: boolean;
}

/** The reason phrase the sandbox sends with each HTTP status it uses. */
export const MESSAGES: Record<number, string> = {
  400: "bad request",
  401: "unauthorized",
  402: "free plan export blocked",
  404: "not found",
  1001: "token expired or invalid",
  1002: "session not found",
  2001: "insufficient credits",
  4001: "unsupported file type",
  4002: "file too large",
  5001: "nothing to render",
};

/** The success envelope. */
export function ok(data: unknown): unknown {
  return { code: 0, message: "success", data };
}

/** An error envelope with the usual message for the code. */
export function fail(code: number, message = MESSAGES[code] ?? "error"): { code: number; message: string } {
  return { code, message };
}

/** True while a response can still be written to. */
export function writable(res: ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded;
}

/** Writes a JSON response, honouring HEAD and the `truncated` fault. */
export function sendJson(
  ctx: RequestContext,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendText(ctx, status, JSON.stringify(body), "application/json; charset=utf-8", headers);
}

/** Writes a complete response with Content-Length; a `truncated` fault sends half of it and drops the socket. */
export function sendText(
  ctx: RequestContext,
  status: number,
  text: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  const { res } = ctx;
  if (!writable(res) || res.headersSent) return;
  const bytes = Buffer.from(text, "utf8");
  res.writeHead(status, { "content-type": contentType, "content-length": String(bytes.length), ...headers });
  if (ctx.req.method === "HEAD") {
    res.end();
  } else if (ctx.truncate) {
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    void dropAfterFlush(res.socket);
  } else {
    res.end(bytes);
  }
}

/** A request body read whole, or why it could not be. */
export type BodyResult = { ok: true; raw: string } | { ok: false; reason: "too_large" | "aborted" };

/** Reads a whole (small) request body as UTF-8; stops at `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > limit) return { ok: false, reason: "too_large" };
      chunks.push(buf);
    }
  } catch {
    return { ok: false, reason: "aborted" };
  }
  if (!req.complete) return { ok: false, reason: "aborted" };
  return { ok: true, raw: Buffer.concat(chunks).toString("utf8") };
}

/** A request body parsed as JSON, or a failure to parse it. */
export type JsonResult = { ok: true; value: unknown } | { ok: false };

/** Parses a JSON body; an empty body is `{}`. */
export function parseJson(raw: string): JsonResult {
  if (raw.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Waits until a stream can take more data, or until the response closes. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** A string property of a JSON object, or undefined. */
export function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === "string" ? field : undefined;
}

/** Destroys a socket once everything already written to it has left, so the peer sees a clean cut. */
export async function dropAfterFlush(socket: Socket | null): Promise<void> {
  if (!socket || socket.destroyed) return;
  await new Promise<void>((resolve) => {
    socket.once("close", () => resolve());
    socket.write(Buffer.alloc(0), () => resolve());
  });
  socket.destroy();
}
