/**
 * Property-based tests (fast-check) of the pure parsers and text transforms: random and adversarial input
 * never crashes or hangs them, and the outputs keep their invariants.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { translateGuiText } from "../../src/client/gui.js";
import { classifyEvent, parseTurnStream, type TurnEvent } from "../../src/client/sse.js";
import { parseDraft, type Timeline, timelineToJSON } from "../../src/client/timeline.js";
import { diffTimelines, summarizeTimeline } from "../../src/client/timeline-diff.js";
import { addSecret, Logger, redact } from "../../src/log.js";
import { stateOutput } from "../../src/server/tools/get-state.js";
import { within } from "../helpers/within.js";

// A fixed seed keeps failures reproducible in CI; FC_SEED overrides it to explore further.
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20_240_611;
const runs = (numRuns: number) => ({ numRuns, seed: SEED });

// --- SSE ---------------------------------------------------------------------------------------------

async function* fromChunks(chunks: ReadonlyArray<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
  for (const chunk of chunks) yield chunk;
}

async function parseAll(chunks: ReadonlyArray<Uint8Array | string>): Promise<TurnEvent[]> {
  const out: TurnEvent[] = [];
  for await (const event of parseTurnStream(fromChunks(chunks))) out.push(event);
  return out;
}

const encode = (s: string) => new TextEncoder().encode(s);

/** Splits bytes at the given points (taken modulo the length; repeated points give empty chunks). */
function cutBytes(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = points.map((p) => p % (bytes.length + 1)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  out.push(bytes.slice(prev));
  return out;
}

function cutString(text: string, points: number[]): string[] {
  const at = points.map((p) => p % (text.length + 1)).sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(text.slice(prev, p));
    prev = p;
  }
  out.push(text.slice(prev));
  return out;
}

const cutPoints = fc.array(fc.nat(), { maxLength: 12 });
const anyText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ unit: "grapheme", maxLength: 100 }),
);

const EVENT_TYPES = new Set([
  "text",
  "tool_call",
  "tool_result",
  "heartbeat",
  "error",
  "turn_complete",
  "unknown",
]);

/** Every TurnEvent has a known type and the fields its type promises. */
function expectWellFormed(events: TurnEvent[]): void {
  for (const e of events) {
    expect(EVENT_TYPES.has(e.type), JSON.stringify(e)).toBe(true);
    switch (e.type) {
      case "text":
        expect(typeof e.text).toBe("string");
        expect(e.text).not.toBe("");
        expect(typeof e.author).toBe("string");
        expect(typeof e.partial).toBe("boolean");
        break;
      case "tool_call":
      case "tool_result":
        expect(typeof e.name).toBe("string");
        break;
      case "error":
        expect(typeof e.message).toBe("string");
        break;
      case "unknown":
        expect(typeof e.raw).toBe("string");
        break;
      default:
        break;
    }
  }
}

// SSE-looking text: field names, comments, every kind of line end, partial lines, JSON and non-ASCII.
const ssePiece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("\n", "\r\n", "\r", "\n\n", "\r\r", "\r\n\r\n") },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      "data:",
      "data: ",
      "data",
      ":",
      ": ping",
      "event:",
      "event: message",
      "id: 7",
      "id:\u0000",
      "retry: 5",
      "retry: x",
      "da",
      "ta:",
      '{"type":"heartbeat"}',
      '{"author":"nemo_agent","content":{"parts":[{"text":"Hi"}]}}',
      '{"author":"a","content":{"parts":[{"functionCall":{"name":"cut"}}]}}',
      '{"error":"boom"}',
      '{"code":2001,"message":"no credits"}',
      "{",
      "}",
      "é",
      "😀",
      "中文",
      "\u2028",
    ),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
);
const sseText = fc.array(ssePiece, { maxLength: 40 }).map((parts) => parts.join(""));

// Valid ADK-style events (JSON-encoded), heartbeats, comments and error envelopes.
const shortText = fc.string({ unit: "binary", maxLength: 40 });
const adkPart = fc.oneof(
  fc.record({ text: shortText }),
  fc.record({ text: shortText, thought: fc.boolean() }),
  fc.record({
    functionCall: fc.record(
      {
        id: fc.string({ maxLength: 8 }),
        name: fc.string({ maxLength: 20 }),
        args: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({
    functionResponse: fc.record(
      {
        id: fc.string({ maxLength: 8 }),
        name: fc.string({ maxLength: 20 }),
        response: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    ),
  }),
  fc.jsonValue({ maxDepth: 2 }),
);
const adkEvent = fc.record(
  {
    id: fc.uuid(),
    invocationId: fc.string({ maxLength: 10 }),
    author: fc.constantFrom("nemo_agent", "user", "model", "video_tool", ""),
    timestamp: fc.double({ noNaN: true, noDefaultInfinity: true }),
    content: fc.record(
      { role: fc.constantFrom("model", "user"), parts: fc.array(adkPart, { maxLength: 4 }) },
      { requiredKeys: ["parts"] },
    ),
    partial: fc.boolean(),
    turnComplete: fc.boolean(),
    errorCode: fc.oneof(fc.integer(), fc.string({ maxLength: 6 })),
    errorMessage: shortText,
    actions: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: ["author"] },
);
const streamItem = fc.oneof(
  { weight: 6, arbitrary: adkEvent.map((e) => ({ kind: "data" as const, data: JSON.stringify(e) })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        { type: "heartbeat" },
        { error: "internal error" },
        { error: { message: "bad", code: 500 } },
        { code: 2001, message: "insufficient credits" },
        { type: "ping" },
      )
      .map((e) => ({ kind: "data" as const, data: JSON.stringify(e) })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "data" as const, data: "" }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("ping", "", "keep-alive").map((c) => ({ kind: "comment" as const, c })),
  },
);
const eol = fc.constantFrom("\n", "\r\n", "\r");
const sseStream = fc
  .array(
    fc.record({
      item: streamItem,
      eol,
      space: fc.boolean(),
      eventLine: fc.boolean(),
      idLine: fc.boolean(),
    }),
    { maxLength: 8 },
  )
  .map((items) => {
    let text = "";
    const expected: TurnEvent[] = [];
    for (const { item, eol: end, space, eventLine, idLine } of items) {
      if (item.kind === "comment") {
        text += `:${space ? " " : ""}${item.c}${end}${end}`;
        expected.push({ type: "heartbeat" });
        continue;
      }
      if (eventLine) text += `event: message${end}`;
      if (idLine) text += `id: ${expected.length}${end}`;
      text += `data:${space ? " " : ""}${item.data}${end}${end}`;
      expected.push(...classifyEvent(item.data));
    }
    return { text, expected };
  });

describe("parseTurnStream (SSE) properties", () => {
  it("never throws and always ends, on any bytes cut anywhere", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), cutPoints, async (bytes, points) => {
        const events = await within(2000, "parseTurnStream", parseAll(cutBytes(bytes, points)));
        expectWellFormed(events);
      }),
      runs(300),
    );
  });

  it("never throws on any string, whole or cut into string chunks", async () => {
    await fc.assert(
      fc.asyncProperty(anyText, cutPoints, async (text, points) => {
        expectWellFormed(await within(2000, "parseTurnStream", parseAll([text])));
        expectWellFormed(await within(2000, "parseTurnStream", parseAll(cutString(text, points))));
      }),
      runs(300),
    );
  });

  it("yields exactly the encoded events, whatever the chunking (bytes and strings)", async () => {
    await fc.assert(
      fc.asyncProperty(
        sseStream,
        cutPoints,
        cutPoints,
        async ({ text, expected }, bytePoints, charPoints) => {
          const bytes = encode(text);
          expect(await parseAll([bytes])).toEqual(expected);
          expect(await parseAll(cutBytes(bytes, bytePoints))).toEqual(expected);
          expect(await parseAll(cutString(text, charPoints))).toEqual(expected);
          // one byte at a time: every multi-byte character and every CRLF is split
          expect(await parseAll(cutBytes(bytes, [...bytes.keys()]))).toEqual(expected);
        },
      ),
      runs(200),
    );
  });

  it("gives the same events for any SSE-looking text whatever the chunking (the stream defines them, not the packets)", async () => {
    await fc.assert(
      fc.asyncProperty(sseText, cutPoints, async (text, points) => {
        const bytes = encode(text);
        const whole = await parseAll([bytes]);
        expectWellFormed(whole);
        expect(await parseAll(cutBytes(bytes, points))).toEqual(whole);
        expect(await parseAll(cutString(text, points))).toEqual(whole);
      }),
      {
        ...runs(400),
        // a chunk ending in CR, then a last line without a line end: ": ping" is a comment either way
        examples: [["data: x\r: ping", [8]]],
      },
    );
  });

  it("handles adversarial streams: a 1 MB data line, 10k comments, deep JSON, lone surrogates", async () => {
    const huge = `data: {"author":"a","content":{"parts":[{"text":"${"x".repeat(1_000_000)}"}]}}\n\n`;
    const events = await within(5000, "1 MB line", parseAll(cutBytes(encode(huge), [1, 65_536, 500_000])));
    expect(events).toHaveLength(1);
    expect(events[0]?.type).toBe("text");

    const pings = await within(5000, "10k comments", parseAll([": ping\n".repeat(10_000)]));
    expect(pings).toHaveLength(10_000);

    const deep = `data: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n\ndata: {"author":"a","content":${"{".repeat(5000)}}}\n\n`;
    expectWellFormed(await within(5000, "deep JSON", parseAll([deep])));

    const surrogates = await parseAll(["data: \ud800\n\n", encode("data: \udfff x\n\n")]);
    expectWellFormed(surrogates);
  });
});

describe("classifyEvent properties", () => {
  it("never throws and returns well-formed events for any string", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (data) => {
          const events = classifyEvent(data);
          expect(Array.isArray(events)).toBe(true);
          expectWellFormed(events);
        },
      ),
      runs(500),
    );
  });

  it("never throws on ADK-shaped events whose fields have the wrong types", () => {
    const wild = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string());
    const event = fc.record(
      {
        type: wild,
        author: wild,
        content: fc.oneof(wild, fc.record({ role: wild, parts: fc.oneof(wild, fc.array(wild)) })),
        partial: wild,
        turnComplete: wild,
        errorCode: wild,
        error: wild,
        code: wild,
        message: wild,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(event, (e) => {
        expectWellFormed(classifyEvent(JSON.stringify(e)));
      }),
      runs(500),
    );
  });

  it("reports each non-empty, non-thought text part of a non-user event as text, and nothing else as text", () => {
    fc.assert(
      fc.property(adkEvent, (e) => {
        const events = classifyEvent(JSON.stringify(e));
        const fromUser = e.author === "user" || e.content?.role === "user";
        const expectedTexts = fromUser
          ? []
          : (e.content?.parts ?? []).flatMap((p) => {
              const part = p as { text?: unknown; thought?: unknown };
              if (typeof p !== "object" || p === null || Array.isArray(p)) return [];
              if (part.thought === true || typeof part.text !== "string" || part.text === "") return [];
              return [part.text];
            });
        const texts = events.filter((x) => x.type === "text").map((x) => (x as { text: string }).text);
        expect(texts).toEqual(expectedTexts);
      }),
      runs(500),
    );
  });
});

// --- timeline ----------------------------------------------------------------------------------------

const weirdNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    1e308,
    -1e308,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER,
    2 ** 53 + 1,
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ),
  fc.constantFrom(
    "NaN",
    "Infinity",
    "-Infinity",
    "1e309",
    "-1e309",
    "1e308",
    "0x10",
    " 12 ",
    "",
    " ",
    "12abc",
    "-5",
    "1_000",
  ),
  fc.double().map(String),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);
const weirdText = fc.oneof(fc.string({ unit: "binary", maxLength: 30 }), weirdNumber);
const segmentMeta = fc.record(
  { name: weirdText, text: weirdText, src: weirdText, url: weirdText, volume: weirdNumber },
  { requiredKeys: [] },
);
const segment = fc.record(
  {
    id: weirdText,
    st: weirdNumber,
    start: weirdNumber,
    start_ms: weirdNumber,
    d: weirdNumber,
    duration: weirdNumber,
    duration_ms: weirdNumber,
    end: weirdNumber,
    et: weirdNumber,
    end_ms: weirdNumber,
    name: weirdText,
    text: weirdText,
    src: weirdText,
    volume: weirdNumber,
    m: fc.oneof(segmentMeta, fc.anything({ maxDepth: 1 })),
    meta: segmentMeta,
  },
  { requiredKeys: [] },
);
const segments = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(fc.oneof({ weight: 4, arbitrary: segment }, fc.anything({ maxDepth: 1 })), {
      maxLength: 6,
    }),
  },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
);
const track = fc.record(
  {
    tt: fc.oneof(weirdNumber, fc.constantFrom(0, 1, 7, 3, "0", "video", "Audio", " text ", "VIDEO")),
    type: weirdNumber,
    kind: weirdText,
    name: weirdText,
    m: fc.oneof(fc.record({ name: weirdText }, { requiredKeys: [] }), fc.anything({ maxDepth: 1 })),
    sg: segments,
    segments,
  },
  { requiredKeys: [] },
);
const draftObject = fc.record(
  {
    t: fc.oneof(
      {
        weight: 4,
        arbitrary: fc.array(fc.oneof({ weight: 4, arbitrary: track }, fc.anything({ maxDepth: 1 })), {
          maxLength: 5,
        }),
      },
      { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
    ),
    tracks: fc.array(track, { maxLength: 2 }),
    d: weirdNumber,
    duration: weirdNumber,
    m: fc.anything({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);
/** Drafts as the state endpoint may deliver them: bare, wrapped, or as JSON text. */
const draft = fc.oneof(
  draftObject,
  draftObject.map((d) => ({ draft: d })),
  draftObject.map((d) => ({ state: { draft: d } })),
  draftObject.map((d) => ({ data: { state: { draft: d } } })),
  draftObject.map((d) => JSON.stringify(d)),
  draftObject.map((d) => ({ draft: JSON.stringify(d) })),
);

/** The invariants every Timeline must keep, whatever the draft was. */
function expectSaneTimeline(t: Timeline): void {
  // Problems are collected and asserted once: a draft may hold hundreds of thousands of segments.
  const problems: string[] = [];
  const check = (ok: boolean, what: () => string) => {
    if (!ok && problems.length < 5) problems.push(what());
  };
  check(Array.isArray(t.tracks), () => "tracks is not an array");
  check(Number.isFinite(t.durationMs) && t.durationMs >= 0, () => `durationMs ${t.durationMs}`);
  check(t.exportable === t.tracks.some((tr) => tr.segments.length > 0), () => `exportable ${t.exportable}`);
  t.tracks.forEach((tr, i) => {
    check(tr.index === i + 1, () => `track ${i} has index ${tr.index}`);
    check(["video", "audio", "text", "other"].includes(tr.kind), () => `track ${tr.index} kind ${tr.kind}`);
    check(typeof tr.name === "string", () => `track ${tr.index} name ${String(tr.name)}`);
    check(Number.isFinite(tr.type), () => `track ${tr.index} type ${tr.type}`);
    let previousStart = 0;
    for (const s of tr.segments) {
      const where = () =>
        `track ${tr.index} segment ${JSON.stringify(s)} (start ${s.startMs}, end ${s.endMs})`;
      check(Number.isFinite(s.startMs) && Number.isFinite(s.endMs), () => `${where()}: not finite`);
      check(s.startMs >= 0 && s.startMs <= s.endMs, () => `${where()}: not 0 ≤ start ≤ end`);
      check(s.startMs >= previousStart, () => `${where()}: segments not sorted`);
      previousStart = s.startMs;
      check(typeof s.label === "string", () => `${where()}: label`);
      check(s.volume === undefined || (s.volume >= 0 && s.volume <= 1), () => `${where()}: volume`);
    }
  });
  expect(problems).toEqual([]);
}

// get_state's published output schema (zod 4 numbers refuse NaN and ±Infinity).
const TimelineJSONSchema = z.object({
  exportable: stateOutput.exportable,
  duration_ms: stateOutput.duration_ms,
  tracks: stateOutput.tracks,
});

/** summarize, toJSON and diff must accept any parsed timeline; toJSON must fit get_state's output schema. */
function expectUsable(t: Timeline): void {
  const summary = summarizeTimeline(t);
  expect(summary).toMatch(/^Timeline \(\d+ tracks?\):/);
  const json = timelineToJSON(t);
  const parsed = TimelineJSONSchema.safeParse(json);
  expect(parsed.success, parsed.success ? "" : JSON.stringify(parsed.error.issues.slice(0, 3))).toBe(true);
  expect(diffTimelines(t, t)).toEqual([]);
  expect(diffTimelines(t, structuredClone(t))).toEqual([]);
}

describe("parseDraft / summarizeTimeline / diffTimelines / timelineToJSON properties", () => {
  it("never throws on fc.anything() and fc.jsonValue(), and returns a sane timeline", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything({
            withBigInt: true,
            withBoxedValues: true,
            withDate: true,
            withMap: true,
            withSet: true,
            withNullPrototype: true,
            withObjectString: true,
            withSparseArray: true,
            withTypedArray: true,
          }),
          fc.jsonValue(),
          fc.json(),
        ),
        (value) => {
          const t = parseDraft(value);
          expectSaneTimeline(t);
          expectUsable(t);
        },
      ),
      runs(400),
    );
  });

  it("keeps every segment finite, non-negative and ordered (start ≤ end) on adversarial drafts", () => {
    fc.assert(
      fc.property(draft, (d) => {
        const t = parseDraft(d);
        expectSaneTimeline(t);
        expectUsable(t);
      }),
      runs(500),
    );
  });

  it("stays finite on huge starts and durations (1e308 + 1e308 must not become Infinity)", () => {
    const t = parseDraft({
      t: [
        {
          tt: 0,
          sg: [
            { st: 1e308, d: 1e308 },
            { st: "1e308", d: Number.MAX_VALUE },
          ],
        },
        { tt: 1, sg: [{ st: Number.MAX_VALUE, end: Number.MAX_VALUE }] },
      ],
    });
    expectSaneTimeline(t);
    expectUsable(t);
  });

  it("diffs any two parsed drafts without throwing, one plain sentence per line", () => {
    fc.assert(
      fc.property(draft, draft, (a, b) => {
        const before = parseDraft(a);
        const after = parseDraft(b);
        const lines = diffTimelines(before, after);
        expect(Array.isArray(lines)).toBe(true);
        for (const line of lines) expect(typeof line).toBe("string");
        expect(diffTimelines(after, after)).toEqual([]);
      }),
      runs(300),
    );
  });

  it("survives deep nesting and very large drafts", () => {
    let nested: unknown = { t: [{ tt: 0, sg: [{ st: 0, d: 1000 }] }] };
    for (let i = 0; i < 10_000; i++) nested = { draft: nested };
    expectSaneTimeline(parseDraft(nested));
    expectSaneTimeline(parseDraft(`${"[".repeat(200_000)}${"]".repeat(200_000)}`));
    expectSaneTimeline(parseDraft({ t: [{ sg: [{ d: 1, m: { name: "x".repeat(1_000_000) } }] }] }));

    // A draft with a few hundred thousand segments must not overflow the stack.
    const many = {
      t: [{ tt: 0, sg: Array.from({ length: 200_000 }, (_, i) => ({ st: i * 10, d: 10 })) }],
    };
    let t: Timeline | undefined;
    expect(() => {
      t = parseDraft(many);
    }).not.toThrow();
    if (t) {
      expectSaneTimeline(t);
      expect(t.durationMs).toBe(2_000_000);
      expect(summarizeTimeline(t)).toMatch(/^Timeline \(1 track\)/);
      expect(timelineToJSON(t).tracks[0]?.segments).toHaveLength(200_000);
    }
  });
});

// --- GUI translation ---------------------------------------------------------------------------------

const GUI_PHRASES = [
  "Click the Export button in the top right corner",
  "click Apply",
  'Click "Generate"',
  "press the [Save] button",
  "open the Assets panel",
  "drag and drop your files here",
  "preview it in the timeline",
  "check your account page",
  "点击导出按钮",
  "打开素材面板",
  "拖拽到时间线",
  "前往充值页面",
  "tap Download",
  "drag the clip to 0:05",
  "use the Export button",
  "click here",
  "double-click the title to edit it",
  "Your video is ready",
  "I added background music",
  "视频已生成",
  "Done",
  "click OK",
  "Click Apply",
  "Click Save",
  "Then open the Assets panel",
  "Press Enter",
  "Above is your timeline",
  "Below are the steps",
  "in the top right corner you will see it",
  "Tip: click OK to continue",
  "By clicking Save, you keep the changes",
  "Preview it",
  "1. Click Export",
  "- click the Apply button",
];
/** One line of backend talk: a few GUI (or plain) phrases joined the way sentences are. */
const guiLine = fc
  .array(fc.tuple(fc.constantFrom(...GUI_PHRASES), fc.constantFrom(". ", ", then ", "; ", " and ")), {
    minLength: 1,
    maxLength: 3,
  })
  .chain((parts) =>
    fc
      .constantFrom(".", "!", "", "。", " 🎬")
      .map((end) => parts.map(([p, sep], i) => p + (i < parts.length - 1 ? sep : "")).join("") + end),
  );
const GUI_WORDS = [
  "click",
  "Click",
  "press",
  "tap",
  "the",
  "Export",
  "export",
  "button",
  "Apply",
  "open",
  "panel",
  "Assets",
  "drag",
  "and",
  "drop",
  "files",
  "here",
  "timeline",
  "preview",
  "in",
  "on",
  "check",
  "your",
  "account",
  "page",
  "点击",
  "导出",
  "按钮",
  "拖拽",
  "到",
  "时间线",
  "打开",
  "面板",
  "充值",
  "Download",
  '"',
  "[",
  "]",
  ".",
  ",",
  "\n",
  "to",
  "edit",
  "it",
  "by",
  "dragging",
  "settings",
  "top",
  "right",
  "corner",
  "**",
  "“",
  "”",
  "请",
  "前往",
  "账户",
];
const guiSoup = fc.array(fc.constantFrom(...GUI_WORDS), { maxLength: 40 }).map((w) => w.join(" "));

// Anything that could start a GUI rule, in English or Chinese; text without these is left alone.
const GUI_TRIGGER =
  /click|press|tap|drag|drop|open|go\s*to|going|navigate|switch|head|visit|check|see|review|log\s*in|account|billing|export|download|preview|view|watch|play|timeline|use|using|button|panel|by|with|via|through|in|on|at|from|点|单击|轻点|按|拖|打开|进入|切换|导出|下载|预览|时间线|查看|充值|账|帐|前往|去|到|登录|请/i;
const FILLER = [
  "Your",
  "video",
  "is",
  "ready",
  "I",
  "added",
  "music",
  "the",
  "a",
  "voiceover",
  "12",
  "seconds",
  "视频",
  "已",
  "生成",
  "完成",
  "😀",
  "—",
  "…",
  "\n",
  "\t",
  "!",
  "?",
  ":",
  "（",
  "）",
  "©",
];

describe("translateGuiText properties", () => {
  it("never throws and stays fast on any text, however long or odd", () => {
    fc.assert(
      fc.property(fc.oneof(anyText, guiSoup, guiLine), (text) => {
        const started = performance.now();
        const out = translateGuiText(text);
        expect(typeof out).toBe("string");
        expect(performance.now() - started).toBeLessThan(1000);
      }),
      runs(400),
    );
    for (const unit of [
      "Click ",
      "click the ",
      "drag and drop ",
      "点击",
      "拖拽",
      "open the ",
      "in the top right ",
    ]) {
      const started = performance.now();
      translateGuiText(unit.repeat(Math.ceil(100_000 / unit.length)));
      expect(performance.now() - started, JSON.stringify(unit)).toBeLessThan(3000);
    }
  });

  it("never leaves 'click the Export button' behind", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          guiSoup,
          guiLine,
          fc.array(guiLine, { maxLength: 4 }).map((l) => l.join("\n")),
        ),
        (text) => {
          expect(translateGuiText(text)).not.toMatch(/click\s+(on\s+)?(the\s+)?["'“]?export["'”]?\s+button/i);
        },
      ),
      runs(500),
    );
  });

  it("leaves text without GUI words byte-identical", () => {
    const plain = fc.oneof(
      fc.array(fc.constantFrom(...FILLER), { maxLength: 30 }).map((w) => w.join(" ")),
      anyText.filter((s) => !GUI_TRIGGER.test(s)),
    );
    fc.assert(
      fc.property(plain, (text) => {
        expect(translateGuiText(text)).toBe(text);
      }),
      runs(500),
    );
  });

  it("is idempotent on one line of backend talk", () => {
    fc.assert(
      fc.property(guiLine, (line) => {
        const once = translateGuiText(line);
        expect(translateGuiText(once)).toBe(once);
      }),
      runs(500),
    );
  });

  it("translates line by line: a rewrite never swallows a line break or the next line", () => {
    // e.g. "Click Apply\nClick Save" must become two requests on two lines, not "Ask me to apply click save".
    fc.assert(
      fc.property(fc.array(guiLine, { minLength: 2, maxLength: 4 }), (lines) => {
        expect(translateGuiText(lines.join("\n"))).toBe(lines.map((l) => translateGuiText(l)).join("\n"));
      }),
      {
        ...runs(500),
        examples: [[["Click Apply", "Click Save"]], [["Click Export", "Above is your timeline."]]],
      },
    );
  });
});

// --- redaction ---------------------------------------------------------------------------------------

// "[redacted]" itself would contain such a secret, so secrets never consist of its letters alone.
const tokenLike = fc
  .tuple(fc.constantFrom("nmv_usr_", "nmv_", "sk-", "", "usr_"), fc.stringMatching(/^[A-Za-z0-9_-]{6,40}$/))
  .map(([prefix, body]) => prefix + body)
  .filter((s) => !"[redacted]".includes(s));
const oddSecret = fc
  .string({ unit: "binary", minLength: 6, maxLength: 30 })
  .filter((s) => ![..."[redacted]"].some((c) => s.includes(c)));
const surrounding = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: "binary", maxLength: 60 }));

describe("redact properties", () => {
  it("removes every registered secret from any surrounding text", () => {
    fc.assert(
      fc.property(
        fc.oneof(tokenLike, oddSecret),
        fc.array(surrounding, { minLength: 1, maxLength: 4 }),
        (secret, pieces) => {
          addSecret(secret);
          const text = pieces.join(secret);
          const out = redact(`${secret}${text}${secret}`);
          expect(out).not.toContain(secret);
          expect(out).toContain("[redacted]");
        },
      ),
      runs(400),
    );
  });

  it("redacts anything shaped like a NemoVideo token or a bearer header, registered or not", () => {
    const token = fc.stringMatching(/^nmv_[A-Za-z0-9_-]{1,40}$/);
    const bearer = fc.stringMatching(/^[A-Za-z0-9._~+/=-]{1,40}$/).map((v) => `Bearer ${v}`);
    // a word character right before the token would hide it from \b; the contract is about tokens as words
    const before = surrounding.filter((s) => s === "" || !/\w$/.test(s));
    fc.assert(
      fc.property(fc.oneof(token, bearer), before, surrounding, (secret, head, tail) => {
        const out = redact(`${head}${secret}${/^[\w.~+/=-]/.test(tail) ? ` ${tail}` : tail}`);
        expect(out).not.toContain(secret);
      }),
      runs(400),
    );
  });

  it("keeps registered token-like secrets out of every logged line and sink record", () => {
    fc.assert(
      fc.property(tokenLike, surrounding, fc.jsonValue({ maxDepth: 2 }), (secret, text, extra) => {
        addSecret(secret);
        const lines: string[] = [];
        const records: string[] = [];
        const logger = new Logger("debug", (line) => lines.push(line));
        logger.addSink((level, message, data) => records.push(JSON.stringify({ level, message, data })));
        logger.debug(`${text}${secret}${text}`, {
          token: secret,
          nested: { url: `https://x.test/?t=${secret}`, extra },
        });
        logger.error(secret);
        for (const out of [...lines, ...records]) expect(out).not.toContain(secret);
      }),
      runs(300),
    );
  });

  it("never throws, whatever the text", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(typeof redact(text)).toBe("string");
      }),
      runs(300),
    );
  });
});
