import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CallOptions, NemoClient, OpenResponse } from "../../src/client/client.js";
import { BackendError, CancelledError, NetworkError } from "../../src/client/errors.js";
import { startTurn, type TurnLimits, type TurnUpdate } from "../../src/client/turns.js";
import { silentLogger } from "../../src/log.js";

const EMPTY = { t: [], d: 0, m: {} };
const BGM = {
  t: [{ tt: 1, m: { name: "BGM" }, sg: [{ id: "s1", st: 0, d: 5_000, m: { name: "Lo-fi" } }] }],
  d: 5_000,
};

interface FakeOptions {
  /** Draft returned by the n-th state fetch (0 = the "before" fetch), or an error to throw. */
  draft: (n: number) => unknown;
  /** What POST /run_sse does. */
  open: (options: CallOptions) => Promise<OpenResponse>;
  /** Resolves the state fetch only when this returns a promise (to hold it). */
  holdState?: (n: number, signal: AbortSignal | undefined) => Promise<void> | undefined;
}

/** A NemoClient stand-in: state fetches and the stream are scripted, every call is recorded with its time. */
function fakeClient(options: FakeOptions) {
  const stateCalls: number[] = [];
  const opens: CallOptions[] = [];
  const client = {
    logger: silentLogger,
    errorContext: () => ({}),
    async call<T>(o: CallOptions & { schema: { parse(v: unknown): T } }): Promise<T> {
      if (o.path.includes("/credits/")) return o.schema.parse({ available: 100, frozen: 0, total: 100 });
      const n = stateCalls.length;
      stateCalls.push(Date.now());
      await options.holdState?.(n, o.signal);
      const draft = options.draft(n);
      if (draft instanceof Error) throw draft;
      return o.schema.parse({ session_id: "s", state: { draft } });
    },
    async open(o: CallOptions): Promise<OpenResponse> {
      opens.push(o);
      return options.open(o);
    },
  } as unknown as NemoClient;
  return { client, stateCalls, opens };
}

function sse(...chunks: Array<string | Uint8Array>): OpenResponse {
  return { statusCode: 200, headers: {}, body: Readable.from(chunks.map((c) => Buffer.from(c))) };
}

/** A stream that sends one tool call, then breaks like a reset socket. */
function droppingStream(): OpenResponse {
  async function* chunks() {
    yield Buffer.from(
      'data: {"author":"nemo_agent","content":{"parts":[{"functionCall":{"name":"add_bgm"}}]}}\n\n' +
        'data: {"author":"nemo_agent","content":{"parts":[{"text":"Adding music."}]}}\n\n',
    );
    throw Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
  }
  return { statusCode: 200, headers: {}, body: Readable.from(chunks()) };
}

const LIMITS: TurnLimits = { streamTimeoutMs: 60_000, stallMs: 30_000, recoveryPollMs: 1_000 };

function start(client: NemoClient, limits: Partial<TurnLimits> = {}, signal?: AbortSignal) {
  const updates: TurnUpdate[] = [];
  const turn = startTurn(client, {
    sessionId: "s",
    message: "add music",
    limits: { ...LIMITS, ...limits },
    onUpdate: (u) => updates.push(u),
    ...(signal ? { signal } : {}),
  });
  return { turn, updates };
}

describe("recovery polling after a dropped stream", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("polls first after half the interval, then every interval, and gives up after 5 unchanged polls", async () => {
    const { client, stateCalls, opens } = fakeClient({
      draft: () => EMPTY,
      open: async () => droppingStream(),
    });
    const { turn, updates } = start(client);

    await vi.advanceTimersByTimeAsync(0);
    expect(stateCalls).toHaveLength(1); // the "before" state only
    await vi.advanceTimersByTimeAsync(499);
    expect(stateCalls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(stateCalls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(stateCalls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10_000);
    const result = await turn.done;

    const t0 = stateCalls[0] ?? 0;
    expect(stateCalls.map((t) => t - t0)).toEqual([0, 500, 1_500, 2_500, 3_500, 4_500]);
    expect(updates.filter((u) => u.type === "recovering")).toEqual(
      [1, 2, 3, 4, 5].map((attempt) => ({ type: "recovering", attempt, max: 5 })),
    );
    expect(result.status).toBe("failed");
    expect(result.error?.message).toBe(
      "The connection to NemoVideo dropped and the timeline has not changed since.",
    );
    expect(result.reply).toBe("Adding music.");
    expect(opens).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("stops at the first poll that shows a change and reports it", async () => {
    const { client, stateCalls, opens } = fakeClient({
      draft: (n) => (n >= 3 ? BGM : EMPTY),
      open: async () => droppingStream(),
    });
    const { turn } = start(client, { recoveryMaxPolls: 10 });
    await vi.advanceTimersByTimeAsync(20_000);
    const result = await turn.done;

    const t0 = stateCalls[0] ?? 0;
    expect(stateCalls.map((t) => t - t0)).toEqual([0, 500, 1_500, 2_500]);
    expect(result).toMatchObject({ status: "completed", recovered: true, reply: "Adding music." });
    expect(result.changes?.[0]).toMatch(/^Added audio track "BGM"/);
    expect(result.timeline).toMatch(/^Timeline \(1 track\)/);
    expect(opens).toHaveLength(1);
  });

  it("counts a failing poll as unchanged", async () => {
    const { client, stateCalls } = fakeClient({
      draft: (n) => (n === 1 || n === 2 ? new BackendError("boom") : EMPTY),
      open: async () => droppingStream(),
    });
    const { turn } = start(client, { recoveryMaxPolls: 3 });
    await vi.advanceTimersByTimeAsync(20_000);
    const result = await turn.done;

    expect(stateCalls).toHaveLength(1 + 3);
    expect(result.status).toBe("failed");
  });

  it("stops polling at once when cancelled during a recovery sleep", async () => {
    const { client, stateCalls } = fakeClient({ draft: () => EMPTY, open: async () => droppingStream() });
    const { turn } = start(client);
    await vi.advanceTimersByTimeAsync(600);
    expect(stateCalls).toHaveLength(2);
    turn.cancel();
    const result = await turn.done;
    await vi.advanceTimersByTimeAsync(20_000);

    expect(result.status).toBe("cancelled");
    expect(stateCalls).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("startTurn with a scripted client", () => {
  it("decodes a body split inside multi-byte UTF-8 characters", async () => {
    const bytes = Buffer.from(
      'data: {"author":"nemo_agent","content":{"parts":[{"text":"配音已添加 🎙️ ok"}]}}\r\n\r\n',
      "utf8",
    );
    const at = bytes.indexOf(Buffer.from("音")) + 1; // inside a 3-byte character
    const emoji = bytes.indexOf(Buffer.from("🎙")) + 2; // inside a 4-byte character
    const { client } = fakeClient({
      draft: () => EMPTY,
      open: async () => sse(bytes.subarray(0, at), bytes.subarray(at, emoji), bytes.subarray(emoji)),
    });
    const result = await start(client).turn.done;

    expect(result.status).toBe("completed");
    expect(result.reply).toBe("配音已添加 🎙️ ok");
  });

  it("sends the exact body with the stream options", async () => {
    const { client, opens } = fakeClient({ draft: () => EMPTY, open: async () => sse("") });
    await start(client, { streamTimeoutMs: 30_000 }).turn.done;

    expect(opens[0]).toMatchObject({
      method: "POST",
      path: "/run_sse",
      json: {
        app_name: "nemo_agent",
        user_id: "me",
        session_id: "s",
        new_message: { parts: [{ text: "add music" }] },
      },
      headers: { accept: "text/event-stream" },
      timeoutMs: 30_000,
      bodyTimeoutMs: 0,
    });
    expect(opens[0]?.retryTransient).toBeUndefined();
  });

  it("fails at once, without polling, when the connection was refused (nothing was sent)", async () => {
    const refused = new NetworkError("Could not reach NemoVideo.", "Check the network.", {
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    });
    const { client, stateCalls } = fakeClient({
      draft: () => EMPTY,
      open: async () => {
        throw refused;
      },
    });
    const { turn, updates } = start(client);
    const result = await turn.done;

    expect(result.status).toBe("failed");
    expect(result.error?.kind).toBe("network");
    expect(result.cause).toBe(refused);
    expect(stateCalls).toHaveLength(1);
    expect(updates.map((u) => u.type)).toEqual(["finished"]);
  });

  it("cancels during the before-fetch without sending the message", async () => {
    const { client, opens } = fakeClient({
      draft: () => EMPTY,
      holdState: (_n, signal) =>
        new Promise<void>((_resolve, reject) =>
          signal?.addEventListener("abort", () => reject(new CancelledError("Cancelled."))),
        ),
      open: async () => sse(""),
    });
    const controller = new AbortController();
    const { turn } = start(client, {}, controller.signal);
    controller.abort();
    const result = await turn.done;

    expect(result.status).toBe("cancelled");
    expect(result.error?.message).toMatch(/before the message was sent/);
    expect(opens).toHaveLength(0);
  });

  it("keeps going when an update listener throws", async () => {
    const { client } = fakeClient({
      draft: () => EMPTY,
      open: async () => sse('data: {"author":"a","content":{"parts":[{"text":"hi"}]}}\n\n'),
    });
    const turn = startTurn(client, {
      sessionId: "s",
      message: "hello",
      limits: LIMITS,
      onUpdate: () => {
        throw new Error("listener bug");
      },
    });
    expect((await turn.done).reply).toBe("hi");
  });
});
