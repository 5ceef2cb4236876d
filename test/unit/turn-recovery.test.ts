import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { priceTurn, readBaseline, type TurnBaseline } from "../../src/client/baseline.js";
import type { CallOptions, NemoClient } from "../../src/client/client.js";
import { CancelledError, ServerError } from "../../src/client/errors.js";
import { parseDraft } from "../../src/client/timeline.js";
import { pollForChange } from "../../src/client/turn-recovery.js";
import { silentLogger } from "../../src/log.js";

const EMPTY = { t: [], d: 0 };
const BGM = { t: [{ tt: 1, m: { name: "BGM" }, sg: [{ st: 0, d: 5_000, m: { name: "Lo-fi" } }] }], d: 5_000 };

interface Script {
  /** The n-th state fetch (0-based): a draft, or an error to throw. */
  draft: (n: number) => unknown;
  /** The n-th balance fetch: a balance, or an error to throw. */
  credits?: (n: number) => unknown;
}

/** A NemoClient stand-in whose state and balance answers are scripted; every state fetch's time is recorded. */
function scriptedClient(script: Script) {
  const stateAt: number[] = [];
  let creditCalls = 0;
  const client = {
    logger: silentLogger,
    async call<T>(o: CallOptions & { schema: { parse(v: unknown): T } }): Promise<T> {
      if (o.path.includes("/credits/")) {
        const answer = script.credits?.(creditCalls++) ?? new ServerError("no balance");
        if (answer instanceof Error) throw answer;
        return o.schema.parse(answer);
      }
      const draft = script.draft(stateAt.length);
      stateAt.push(Date.now());
      if (draft instanceof Error) throw draft;
      return o.schema.parse({ session_id: "s", state: { draft } });
    },
  } as unknown as NemoClient;
  return { client, stateAt };
}

function recovery(overrides: { signal?: AbortSignal; maxPolls?: number } = {}) {
  const attempts: Array<[number, number]> = [];
  return {
    attempts,
    options: {
      sessionId: "s",
      before: parseDraft(EMPTY),
      intervalMs: 2_000,
      maxPolls: overrides.maxPolls,
      signal: overrides.signal ?? new AbortController().signal,
      turnId: "t1",
      onAttempt: (attempt: number, max: number) => attempts.push([attempt, max]),
    },
  };
}

describe("pollForChange", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("polls after half an interval, then every interval, until the timeline changes", async () => {
    const { client, stateAt } = scriptedClient({ draft: (n) => (n < 2 ? EMPTY : BGM) });
    const { attempts, options } = recovery();
    const start = Date.now();
    const found = pollForChange(client, options);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(stateAt.map((t) => t - start)).toEqual([1_000, 3_000, 5_000]);
    const state = await found;
    expect(state?.timeline.tracks[0]?.name).toBe("BGM");
    expect(attempts).toEqual([
      [1, 5],
      [2, 5],
      [3, 5],
    ]);
  });

  it("gives up after the polls run out, counting failed polls as unchanged", async () => {
    const { client, stateAt } = scriptedClient({
      draft: (n) => (n % 2 === 0 ? new ServerError("busy") : EMPTY),
    });
    const { attempts, options } = recovery({ maxPolls: 3 });
    const found = pollForChange(client, options);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await found).toBeUndefined();
    expect(stateAt).toHaveLength(3);
    expect(attempts.map(([a]) => a)).toEqual([1, 2, 3]);
  });

  it("stops at once when the turn's signal aborts", async () => {
    const { client, stateAt } = scriptedClient({ draft: () => EMPTY });
    const controller = new AbortController();
    const { options } = recovery({ signal: controller.signal });
    const found = pollForChange(client, options);
    const settled = expect(found).rejects.toBeInstanceOf(CancelledError);
    await vi.advanceTimersByTimeAsync(1_500);
    controller.abort();
    await settled;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stateAt).toHaveLength(1);
  });
});

describe("the baseline of a turn", () => {
  const signal = new AbortController().signal;

  it("keeps the timeline and, when it can be read, the balance", async () => {
    const { client } = scriptedClient({
      draft: () => BGM,
      credits: () => ({ available: 90, frozen: 10, total: 100, extra: 1 }),
    });
    const { state, baseline } = await readBaseline(client, "s", signal);
    expect(state.timeline.tracks).toHaveLength(1);
    expect(baseline.credits).toEqual({ available: 90, frozen: 10, total: 100 });
    expect(baseline.timeline.tracks[0]?.segments[0]).toEqual({ start_ms: 0, end_ms: 5_000, label: "Lo-fi" });
  });

  it("goes without the balance, but not without the state", async () => {
    const { client } = scriptedClient({ draft: () => EMPTY });
    expect((await readBaseline(client, "s", signal)).baseline).toEqual({
      timeline: { exportable: false, duration_ms: 0, tracks: [] },
    });
    const broken = scriptedClient({ draft: () => new ServerError("down") });
    await expect(readBaseline(broken.client, "s", signal)).rejects.toBeInstanceOf(ServerError);
  });

  it("prices a turn from the balances before and after it; unknown when either is missing", async () => {
    const before: TurnBaseline = {
      timeline: { exportable: false, duration_ms: 0, tracks: [] },
      credits: { available: 100, frozen: 0, total: 100 },
    };
    const after = scriptedClient({
      draft: () => EMPTY,
      credits: () => ({ available: 88, frozen: 0, total: 88 }),
    });
    expect(await priceTurn(after.client, before, signal, "t1")).toEqual({ credits: 12, approximate: false });
    const unreadable = scriptedClient({ draft: () => EMPTY });
    expect(await priceTurn(unreadable.client, before, signal, "t1")).toBeUndefined();
    const { credits: _c, ...noBalance } = before;
    expect(await priceTurn(after.client, noBalance, signal, "t1")).toBeUndefined();
  });
});
