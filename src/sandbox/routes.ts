/** The sandbox's routes table and request helpers: the endpoint a method and path name, headers, message text. */
import type { IncomingMessage } from "node:http";
import { stringField } from "./http.js";
import type { EndpointName } from "./types.js";

/** A matched route: which endpoint, its path parameter, and whether its JSON body is read up front. */
export interface Route {
  endpoint: EndpointName;
  param: string;
  readsJson: boolean;
}

/** Fixed paths by method: endpoint and whether its JSON body is read up front. */
const FIXED: Record<string, Array<[path: string, endpoint: EndpointName, readsJson: boolean]>> = {
  POST: [
    ["/api/auth/anonymous-token", "token", false],
    ["/api/tasks/me/with-session/nemo_agent", "session", true],
    ["/api/auth/claim-token", "claim", true],
    ["/run_sse", "run_sse", true],
    ["/api/render/proxy/lambda", "render_submit", true],
  ],
  GET: [["/api/credits/balance/simple", "credits", false]],
};

/** Paths with one parameter (the first capture) by method. */
const PATTERNS: Record<string, Array<[pattern: RegExp, endpoint: EndpointName]>> = {
  POST: [
    [/^\/api\/render\/proxy\/lambda\/([^/]+)\/cancel$/, "render_cancel"],
    [/^\/api\/upload-video\/nemo_agent\/me\/([^/]+)$/, "upload"],
  ],
  GET: [
    [/^\/api\/state\/nemo_agent\/me\/([^/]+)\/latest$/, "state"],
    [/^\/api\/render\/proxy\/lambda\/([^/]+)$/, "render_status"],
    [/^\/api\/render\/proxy\/([^/]+)\/download$/, "download"],
    [/^\/files\/renders\/([^/]+)\.mp4$/, "download"],
  ],
};

/** Maps method and path to an endpoint; undefined for everything the backend does not have. */
export function matchRoute(method: string, path: string): Route | undefined {
  const verb = method === "HEAD" ? "GET" : method;
  const fixed = FIXED[verb]?.find(([p]) => p === path);
  if (fixed) return { endpoint: fixed[1], param: "", readsJson: fixed[2] };
  for (const [pattern, endpoint] of PATTERNS[verb] ?? []) {
    const param = pattern.exec(path)?.[1];
    if (param) return { endpoint, param: decode(param), readsJson: false };
  }
  return undefined;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The request's headers with lower-case names, repeated ones joined. */
export function headerRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/** The text of a `/run_sse` body's `new_message.parts`. */
export function messageText(body: unknown): string {
  const message = (body as { new_message?: { parts?: unknown } } | undefined)?.new_message;
  const parts = Array.isArray(message?.parts) ? message.parts : [];
  return parts
    .map((p: unknown) => stringField(p, "text") ?? "")
    .filter(Boolean)
    .join("\n");
}
