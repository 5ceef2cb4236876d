/**
 * The bytes of a `/run_sse` response as typed TurnEvents.
 *
 * The backend looks like Google ADK's `/run_sse` (inferred): each SSE `data:` field holds one JSON event,
 * camelCase, with `content.parts` of text, `functionCall` or `functionResponse`. Between events it sends
 * heartbeats (`{"type":"heartbeat"}`, empty `data:` fields, `: ping` comments); there is no end event, the
 * stream closing ends the turn. Everything here is tolerant: bad input becomes an `unknown` event, never a throw.
 */
import { createParser, type ParseError } from "eventsource-parser";
import { z } from "zod";
import { type AgentQuestion, isQuestionCall, parseQuestions } from "./questions.js";

/** Largest SSE line or event accepted (characters); a longer one ends the stream. */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/** A line or event of the stream was larger than the limit: the stream is not read further. */
export class StreamTooLargeError extends Error {
  override name = "StreamTooLargeError";
  constructor(readonly limitChars: number) {
    super(`an event of the stream was larger than ${Math.round(limitChars / 1024 / 1024)} MB`);
  }
}

/** One thing that happened during a turn, in stream order. */
export type TurnEvent =
  /**
   * Text for the user from a non-user author, raw (GUI translation is the caller's job). In streaming mode ADK
   * sends `partial: true` chunks and then the same text again, whole, in one final non-partial event: prefer
   * the final text and use the partial chunks only for progress or when the final one never arrives.
   */
  | { type: "text"; text: string; author: string; partial: boolean }
  /** The backend agent called one of its tools (activity, not text for the user). */
  | { type: "tool_call"; name: string; id?: string; args?: unknown }
  /** The agent asks the user something (`ask_question`): the turn then waits for the answer. */
  | { type: "question"; questions: AgentQuestion[]; id?: string }
  /** A backend tool returned (activity, not text for the user). */
  | { type: "tool_result"; name: string; id?: string; response?: unknown }
  /** The backend is alive: `{"type":"heartbeat"}`, an empty `data:` field or an SSE comment. */
  | { type: "heartbeat" }
  /** `{"error": …}`, `errorCode`/`errorMessage`, or an envelope with a non-zero `code`. */
  | { type: "error"; message: string; code?: string | number }
  /** An event flagged `turnComplete: true`; optional, the stream closing is the real end. */
  | { type: "turn_complete" }
  /** Non-JSON data or JSON we do not recognise, kept for logs. */
  | { type: "unknown"; raw: string };

// Every field catches to undefined so that one odd field never hides the rest of an event.
const text = z.string().optional().catch(undefined);
const flag = z.boolean().optional().catch(undefined);
const code = z.union([z.string(), z.number()]).optional().catch(undefined);

const FunctionCallSchema = z.looseObject({ id: text, name: text, args: z.unknown().optional() });
const FunctionResponseSchema = z.looseObject({ id: text, name: text, response: z.unknown().optional() });

const PartSchema = z.looseObject({
  text,
  thought: flag,
  functionCall: FunctionCallSchema.optional().catch(undefined),
  function_call: FunctionCallSchema.optional().catch(undefined),
  functionResponse: FunctionResponseSchema.optional().catch(undefined),
  function_response: FunctionResponseSchema.optional().catch(undefined),
});

const ContentSchema = z.looseObject({
  role: text,
  parts: z.array(z.unknown()).optional().catch(undefined),
});

const ErrorSchema = z
  .union([z.string(), z.looseObject({ message: text, code })])
  .optional()
  .catch(undefined);

const AdkEventSchema = z.looseObject({
  type: text,
  author: text,
  content: ContentSchema.optional().catch(undefined),
  partial: flag,
  turnComplete: flag,
  turn_complete: flag,
  errorCode: code,
  error_code: code,
  errorMessage: text,
  error_message: text,
  error: ErrorSchema,
  code,
  message: text,
});

type AdkEvent = z.infer<typeof AdkEventSchema>;

/** Keys that mark a JSON object as an ADK event even when it yields no TurnEvent (e.g. a state delta). */
const ADK_KEYS = ["content", "author", "invocationId", "invocation_id", "actions", "partial", "turnComplete"];
const HEARTBEAT_TYPES = new Set(["heartbeat", "ping", "keepalive", "keep-alive"]);

function partEvents(event: AdkEvent): TurnEvent[] {
  const out: TurnEvent[] = [];
  const role = event.content?.role;
  const fromUser = event.author === "user" || role === "user";
  const author = event.author ?? role ?? "unknown";
  for (const raw of event.content?.parts ?? []) {
    const parsed = PartSchema.safeParse(raw);
    if (!parsed.success) continue;
    const part = parsed.data;
    if (part.thought === true) continue;
    if (part.text !== undefined && part.text !== "" && !fromUser) {
      out.push({ type: "text", text: part.text, author, partial: event.partial === true });
    }
    const call = part.functionCall ?? part.function_call;
    if (call && isQuestionCall(call.name ?? "")) {
      const e: TurnEvent = { type: "question", questions: parseQuestions(call.args) };
      if (call.id !== undefined) e.id = call.id;
      out.push(e);
    } else if (call) {
      const e: TurnEvent = { type: "tool_call", name: call.name ?? "unknown" };
      if (call.id !== undefined) e.id = call.id;
      if (call.args !== undefined) e.args = call.args;
      out.push(e);
    }
    const result = part.functionResponse ?? part.function_response;
    if (result) {
      const e: TurnEvent = { type: "tool_result", name: result.name ?? "unknown" };
      if (result.id !== undefined) e.id = result.id;
      if (result.response !== undefined) e.response = result.response;
      out.push(e);
    }
  }
  return out;
}

function errorEvent(event: AdkEvent, isAdk: boolean): TurnEvent | undefined {
  const err = event.error;
  const errCode = event.errorCode ?? event.error_code;
  const errMessage = event.errorMessage ?? event.error_message;
  let message: string | undefined;
  let errorCode: string | number | undefined;
  if (typeof err === "string") {
    message = err;
    errorCode = errCode;
  } else if (err !== undefined) {
    message = err.message ?? errMessage ?? "Backend error";
    errorCode = err.code ?? errCode;
  } else if (errCode !== undefined || errMessage !== undefined) {
    message = errMessage ?? `Backend error ${errCode}`;
    errorCode = errCode;
  } else if (!isAdk && event.code !== undefined && event.code !== 0 && event.code !== "0") {
    // An API envelope ({"code":2001,"message":…}) sent inside the stream.
    message = event.message ?? `Backend error ${event.code}`;
    errorCode = event.code;
  }
  if (message === undefined) return undefined;
  return errorCode === undefined ? { type: "error", message } : { type: "error", message, code: errorCode };
}

/** Keys that send an event down the full (zod) path: errors, heartbeats, turn ends, envelopes. */
const SPECIAL_KEYS = [
  "type",
  "error",
  "errorCode",
  "error_code",
  "errorMessage",
  "error_message",
  "code",
  "turnComplete",
  "turn_complete",
];

/**
 * The common case of a long stream, read without zod: an ADK event whose parts are all plain text (streamed
 * reply chunks). Keeps the per-event work to the text events themselves; anything else returns undefined.
 */
function plainTextEvent(json: unknown): TurnEvent[] | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const event = json as Record<string, unknown>;
  for (const key of SPECIAL_KEYS) if (event[key] !== undefined) return undefined;
  const content = event.content as Record<string, unknown> | undefined;
  if (typeof content !== "object" || content === null || !Array.isArray(content.parts)) return undefined;
  const author = typeof event.author === "string" ? event.author : undefined;
  const role = typeof content.role === "string" ? content.role : undefined;
  if (
    (event.author !== undefined && author === undefined) ||
    (content.role !== undefined && role === undefined)
  )
    return undefined;
  if (event.partial !== undefined && typeof event.partial !== "boolean") return undefined;
  const out: TurnEvent[] = [];
  const fromUser = author === "user" || role === "user";
  for (const part of content.parts as unknown[]) {
    if (typeof part !== "object" || part === null) return undefined;
    const record = part as Record<string, unknown>;
    for (const key in record) if (key !== "text") return undefined;
    const text = record.text;
    if (typeof text !== "string") return undefined;
    if (text !== "" && !fromUser) {
      out.push({ type: "text", text, author: author ?? role ?? "unknown", partial: event.partial === true });
    }
  }
  return out;
}

/** Classifies one SSE data payload into 0..n TurnEvents (an ADK event may carry several parts). */
export function classifyEvent(data: string): TurnEvent[] {
  if (data.trim() === "") return [{ type: "heartbeat" }];
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return [{ type: "unknown", raw: data }];
  }
  const plain = plainTextEvent(json);
  if (plain) return plain;
  const parsed = AdkEventSchema.safeParse(json);
  if (!parsed.success) return [{ type: "unknown", raw: data }];
  const event = parsed.data;
  if (event.type !== undefined && HEARTBEAT_TYPES.has(event.type.toLowerCase()))
    return [{ type: "heartbeat" }];

  const isAdk = ADK_KEYS.some((key) => Object.hasOwn(event, key));
  const out = partEvents(event);
  const error = errorEvent(event, isAdk);
  if (error) out.push(error);
  if (event.turnComplete === true || event.turn_complete === true) out.push({ type: "turn_complete" });
  if (out.length === 0 && !isAdk) return [{ type: "unknown", raw: data }];
  return out;
}

/** A line the SSE parser could not place: a bare JSON line is classified anyway, anything else kept for logs. */
function strayLine(error: ParseError): TurnEvent[] {
  if (error.type !== "unknown-field" || error.line === undefined) return [];
  return error.line.trimStart().startsWith("{")
    ? classifyEvent(error.line)
    : [{ type: "unknown", raw: error.line }];
}

/**
 * Parses a `/run_sse` response body into TurnEvents as the chunks arrive.
 *
 * Bytes go through one streaming UTF-8 decoder, so a chunk may end anywhere, even inside a character. As in
 * the SSE spec (and eventsource-parser), an event is dispatched by its terminating blank line: a last event
 * cut off before that blank line is not delivered.
 */
export async function* parseTurnStream(
  chunks: AsyncIterable<Uint8Array | string>,
  maxEventChars = MAX_EVENT_CHARS,
): AsyncGenerator<TurnEvent> {
  const pending: TurnEvent[] = [];
  // Characters fed since the last complete event or comment: bounds what one line or event can hold.
  let open = 0;
  const parser = createParser({
    onEvent: (message) => {
      open = 0;
      pending.push(...classifyEvent(message.data));
    },
    onComment: () => {
      open = 0;
      pending.push({ type: "heartbeat" });
    },
    onError: (error) => pending.push(...strayLine(error)),
  });
  const decoder = new TextDecoder("utf-8");
  let endsWithCR = false;
  const feed = (text: string): void => {
    if (text === "") return;
    open += text.length;
    if (open > maxEventChars) throw new StreamTooLargeError(maxEventChars);
    // A lone CR at the end of the last chunk ended a line; tell the parser before it joins the next chunk.
    if (endsWithCR && !text.startsWith("\n")) parser.feed("\n");
    endsWithCR = text.endsWith("\r");
    parser.feed(text);
  };
  for await (const chunk of chunks) {
    // A string chunk first flushes any bytes the decoder still holds, to keep the order.
    feed(typeof chunk === "string" ? decoder.decode() + chunk : decoder.decode(chunk, { stream: true }));
    yield* pending.splice(0);
  }
  feed(decoder.decode());
  // The parser holds a final CR back in case an LF follows; at the end of the stream it is a line end.
  if (endsWithCR) parser.feed("\n");
  parser.reset({ consume: true });
  yield* pending.splice(0);
}
