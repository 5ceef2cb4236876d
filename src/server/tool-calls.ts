import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { redactDeep } from "../log.js";

/** Most a tool result may carry (the contract's 4 MiB); past it, long strings are cut, saying so. */
export const MAX_RESULT_BYTES = 4 * 1024 * 1024;
/** What each long string keeps when a result is over MAX_RESULT_BYTES. */
const CUT_STRING_CHARS = 64 * 1024;

type RequestHandler = (request: { params?: Record<string, unknown> }, extra: unknown) => Promise<unknown>;

/**
 * The one boundary every tools/call passes. Before the SDK parses the raw `arguments`: anything but an
 * object is refused as invalid params (-32602) in words, and a key the tool does not take is refused
 * naming it and the close right name, so a model's misspelt key (`sessionId`) is never silently dropped.
 * After the tool ran: every string of the result (text and structuredContent) is redacted once, here,
 * and the result is bounded to MAX_RESULT_BYTES.
 */
export function guardToolCalls(server: McpServer, tools: ReadonlyMap<string, RegisteredTool>): void {
  // The SDK keeps its handlers in this map; wrapping the entry keeps every SDK behaviour after the check.
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, RequestHandler> })
    ._requestHandlers;
  const original = handlers?.get("tools/call");
  if (!handlers || !original) return;
  handlers.set("tools/call", async (request, extra) => {
    const params = request.params ?? {};
    const name = typeof params.name === "string" ? params.name : "";
    const args = params.arguments;
    if (args !== undefined && (args === null || typeof args !== "object" || Array.isArray(args))) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `The arguments of ${name || "a tool call"} must be an object of named values (like {"message": "…"}), not ${describe(args)}.`,
      );
    }
    const known = knownKeys(tools.get(name));
    if (args && known) {
      const unknown = Object.keys(args).filter((key) => !known.includes(key));
      if (unknown.length > 0) return refusal(name, unknown, known);
    }
    return boundResult(redactDeep(await original(request, extra)));
  });
}

/** The result as is when it fits in MAX_RESULT_BYTES, else with every long string cut (saying so). */
export function boundResult<T>(result: T): T {
  if (Buffer.byteLength(JSON.stringify(result) ?? "", "utf8") <= MAX_RESULT_BYTES) return result;
  const cut = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value.length <= CUT_STRING_CHARS
        ? value
        : `${value.slice(0, CUT_STRING_CHARS)}\n[Cut here: the result was larger than 4 MiB.]`;
    }
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map(cut);
    // binary payloads (an image's base64 `data`, a resource `blob`) are kept whole: cutting would corrupt them
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === "data" || k === "blob" ? v : cut(v)]),
    );
  };
  return cut(result) as T;
}

/** The argument names a tool takes, or undefined when its schema cannot say. */
function knownKeys(tool: RegisteredTool | undefined): string[] | undefined {
  const schema = tool?.inputSchema as { shape?: Record<string, unknown> } | undefined;
  const shape = schema?.shape;
  return shape && typeof shape === "object" ? Object.keys(shape) : undefined;
}

/** The isError result that names each unknown key and the close right name. */
function refusal(tool: string, unknown: string[], known: string[]) {
  const parts = unknown.map((key) => {
    const close = closest(key, known);
    return close ? `"${key}" (did you mean "${close}"?)` : `"${key}"`;
  });
  const accepted = known.length ? ` It takes: ${known.join(", ")}.` : " It takes no arguments.";
  const text = `Invalid arguments for tool ${tool}: unknown ${unknown.length === 1 ? "argument" : "arguments"} ${parts.join(", ")}; nothing was done.${accepted}`;
  return { content: [{ type: "text", text }], isError: true };
}

/** The known name closest to `key`: same letters ignoring case and separators, else a small edit distance. */
export function closest(key: string, known: string[]): string | undefined {
  const plain = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  const same = known.find((k) => plain(k) === plain(key));
  if (same) return same;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(plain(key), plain(name));
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
