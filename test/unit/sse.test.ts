import { describe, expect, it } from "vitest";
import { classifyEvent, parseTurnStream, type TurnEvent } from "../../src/client/sse.js";

async function* fromChunks(chunks: Array<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
  for (const chunk of chunks) yield chunk;
}

async function collect(chunks: Array<Uint8Array | string>): Promise<TurnEvent[]> {
  const out: TurnEvent[] = [];
  for await (const event of parseTurnStream(fromChunks(chunks))) out.push(event);
  return out;
}

const bytes = (s: string) => new TextEncoder().encode(s);

function adk(author: string, parts: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: "e1",
    invocationId: "inv-1",
    author,
    timestamp: 1_700_000_000,
    content: { role: author === "user" ? "user" : "model", parts },
    ...extra,
  });
}

describe("classifyEvent", () => {
  it("splits an ADK event with text and a function call into two events", () => {
    const data = adk("nemo_agent", [
      { text: "Adding background music." },
      { functionCall: { id: "fc1", name: "add_bgm", args: { mood: "lo-fi" } } },
    ]);
    expect(classifyEvent(data)).toEqual([
      { type: "text", text: "Adding background music.", author: "nemo_agent", partial: false },
      { type: "tool_call", name: "add_bgm", id: "fc1", args: { mood: "lo-fi" } },
    ]);
  });

  it("reports function responses, also in snake_case and from ADK's user-role response events", () => {
    const data = JSON.stringify({
      author: "nemo_agent",
      content: {
        role: "user",
        parts: [{ function_response: { id: "fc1", name: "add_bgm", response: { ok: true } } }],
      },
    });
    expect(classifyEvent(data)).toEqual([
      { type: "tool_result", name: "add_bgm", id: "fc1", response: { ok: true } },
    ]);
    expect(classifyEvent(adk("a", [{ function_call: { name: "cut" } }]))).toEqual([
      { type: "tool_call", name: "cut" },
    ]);
  });

  it("drops user-authored text and user-role text", () => {
    expect(classifyEvent(adk("user", [{ text: "add music" }]))).toEqual([]);
    expect(
      classifyEvent(JSON.stringify({ author: "x", content: { role: "user", parts: [{ text: "hi" }] } })),
    ).toEqual([]);
  });

  it("drops thought parts and empty text", () => {
    expect(
      classifyEvent(adk("a", [{ text: "thinking…", thought: true }, { text: "" }, { text: "Done." }])),
    ).toEqual([{ type: "text", text: "Done.", author: "a", partial: false }]);
  });

  it("marks partial text and reports turnComplete", () => {
    expect(classifyEvent(adk("a", [{ text: "Hel" }], { partial: true }))).toEqual([
      { type: "text", text: "Hel", author: "a", partial: true },
    ]);
    expect(classifyEvent(JSON.stringify({ author: "a", turnComplete: true }))).toEqual([
      { type: "turn_complete" },
    ]);
  });

  it("recognises heartbeats", () => {
    expect(classifyEvent('{"type":"heartbeat"}')).toEqual([{ type: "heartbeat" }]);
    expect(classifyEvent("")).toEqual([{ type: "heartbeat" }]);
    expect(classifyEvent("  ")).toEqual([{ type: "heartbeat" }]);
  });

  it("reads errors as a string, an object, errorCode/errorMessage and an envelope", () => {
    expect(classifyEvent('{"error":"quota exceeded"}')).toEqual([
      { type: "error", message: "quota exceeded" },
    ]);
    expect(classifyEvent('{"error":{"message":"boom","code":500}}')).toEqual([
      { type: "error", message: "boom", code: 500 },
    ]);
    expect(
      classifyEvent(JSON.stringify({ author: "a", errorCode: "SAFETY", errorMessage: "blocked" })),
    ).toEqual([{ type: "error", message: "blocked", code: "SAFETY" }]);
    expect(classifyEvent('{"errorCode":"MAX_TOKENS"}')).toEqual([
      { type: "error", message: "Backend error MAX_TOKENS", code: "MAX_TOKENS" },
    ]);
    expect(classifyEvent('{"code":2001,"message":"no credits"}')).toEqual([
      { type: "error", message: "no credits", code: 2001 },
    ]);
  });

  it("keeps non-JSON and unrecognised JSON as unknown, without throwing", () => {
    for (const raw of [
      "not json",
      "{",
      "42",
      "null",
      '"text"',
      "[1,2]",
      '{"hello":1}',
      '{"code":0,"data":{}}',
    ]) {
      expect(classifyEvent(raw)).toEqual([{ type: "unknown", raw }]);
    }
  });

  it("tolerates odd field types inside an otherwise valid event", () => {
    const data = JSON.stringify({
      author: 7,
      partial: "yes",
      content: { role: "model", parts: ["junk", null, { text: 5 }, { text: "ok" }, { functionCall: "x" }] },
    });
    expect(classifyEvent(data)).toEqual([{ type: "text", text: "ok", author: "model", partial: false }]);
    expect(classifyEvent(JSON.stringify({ author: "a", actions: { stateDelta: { x: 1 } } }))).toEqual([]);
  });
});

describe("parseTurnStream", () => {
  const final = adk("nemo_agent", [
    { text: "已添加英文配音。" },
    { functionCall: { id: "c1", name: "voiceover" } },
  ]);
  const stream = [
    ": ping",
    "",
    "data:",
    "",
    'data: {"type":"heartbeat"}',
    "",
    `data: ${adk("user", [{ text: "加配音" }])}`,
    "",
    "data: not json",
    "",
    `data: ${adk("nemo_agent", [{ text: "配" }], { partial: true })}`,
    "",
    `data: ${final}`,
    "",
    'data: {"error":"render failed"}',
    "",
    "",
  ].join("\r\n");
  const expected: TurnEvent[] = [
    { type: "heartbeat" },
    { type: "heartbeat" },
    { type: "heartbeat" },
    { type: "unknown", raw: "not json" },
    { type: "text", text: "配", author: "nemo_agent", partial: true },
    { type: "text", text: "已添加英文配音。", author: "nemo_agent", partial: false },
    { type: "tool_call", name: "voiceover", id: "c1" },
    { type: "error", message: "render failed" },
  ];

  it("parses a CRLF stream in one chunk", async () => {
    expect(await collect([bytes(stream)])).toEqual(expected);
  });

  it("gives the same events when the bytes are split at every position", async () => {
    const all = bytes(stream);
    for (let i = 0; i <= all.length; i++) {
      expect(await collect([all.slice(0, i), all.slice(i)])).toEqual(expected);
    }
  });

  it("gives the same events from one-byte chunks (splitting 配音 and data: too)", async () => {
    const all = bytes(stream);
    const chunks = Array.from(all, (_, i) => all.slice(i, i + 1));
    expect(await collect(chunks)).toEqual(expected);
  });

  it("splits inside a multi-byte character and inside data:", async () => {
    const text = `data: ${adk("a", [{ text: "配音" }])}\n\n`;
    const all = bytes(text);
    const cut = all.indexOf(0xe9) + 1; // 配 is e9 85 8d: cut after its first byte
    expect(cut).toBeGreaterThan(0);
    const events = await collect([
      all.slice(0, 3),
      all.slice(3, cut),
      all.slice(cut, cut + 1),
      all.slice(cut + 1),
    ]);
    expect(events).toEqual([{ type: "text", text: "配音", author: "a", partial: false }]);
  });

  it("accepts LF and lone CR line endings and string chunks", async () => {
    const data = adk("a", [{ text: "hi" }]);
    expect(await collect([`data: ${data}\n\n`])).toEqual([
      { type: "text", text: "hi", author: "a", partial: false },
    ]);
    expect(await collect([`data: ${data}\r\r`])).toEqual([
      { type: "text", text: "hi", author: "a", partial: false },
    ]);
  });

  it("joins multi-line data fields with newlines", async () => {
    const events = await collect(['data: {"error":\n', 'data: "two lines"}\n\n', "data: a\ndata: b\n\n"]);
    expect(events).toEqual([
      { type: "error", message: "two lines" },
      { type: "unknown", raw: "a\nb" },
    ]);
  });

  it("treats every SSE comment as a heartbeat and ignores other fields", async () => {
    const events = await collect([
      ": ping\n:keepalive\n\nevent: message\nid: 7\nretry: 1000\n",
      'data: {"type":"heartbeat"}\n\n',
    ]);
    expect(events).toEqual([{ type: "heartbeat" }, { type: "heartbeat" }, { type: "heartbeat" }]);
  });

  it("classifies a bare JSON line that lacks the data: prefix", async () => {
    expect(await collect(['{"code":1001,"message":"token expired"}\n'])).toEqual([
      { type: "error", message: "token expired", code: 1001 },
    ]);
  });

  it("does not dispatch a last event that lacks its terminating blank line (SSE rules)", async () => {
    const data = adk("a", [{ text: "complete" }]);
    const tail = adk("a", [{ text: "cut off" }]);
    expect(await collect([`data: ${data}\n\ndata: ${tail}`])).toEqual([
      { type: "text", text: "complete", author: "a", partial: false },
    ]);
    expect(await collect([`data: ${data}\n\ndata: ${tail}\n`])).toEqual([
      { type: "text", text: "complete", author: "a", partial: false },
    ]);
    expect(await collect([`data: ${tail}\r`])).toEqual([]);
    expect(await collect([`data: ${tail}\r\n\r\n`])).toEqual([
      { type: "text", text: "cut off", author: "a", partial: false },
    ]);
  });

  it("ends cleanly on an empty stream and on a trailing comment without newline", async () => {
    expect(await collect([])).toEqual([]);
    expect(await collect([": ping"])).toEqual([{ type: "heartbeat" }]);
  });

  it("yields events as chunks arrive, before the stream ends", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow(): AsyncGenerator<string> {
      yield 'data: {"type":"heartbeat"}\n\n';
      await gate;
      yield `data: ${adk("a", [{ text: "late" }])}\n\n`;
    }
    const it = parseTurnStream(slow());
    expect((await it.next()).value).toEqual({ type: "heartbeat" });
    release();
    expect((await it.next()).value).toEqual({ type: "text", text: "late", author: "a", partial: false });
    expect((await it.next()).done).toBe(true);
  });
});
