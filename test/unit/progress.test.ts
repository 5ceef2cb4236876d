import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { ProgressReporter } from "../../src/server/progress.js";

type Params = { progressToken: string | number; progress: number; total?: number; message: string };

/** A reporter with a hand-moved clock, and the progress notifications it sent. */
/** `null`: a call without a progress token. */
function reporter(progressToken: string | number | null = "tok", minIntervalMs = 200) {
  const sent: Params[] = [];
  let clock = 1_000;
  const extra = {
    _meta: progressToken === null ? {} : { progressToken },
    sendNotification: async (n: ServerNotification) => {
      sent.push(n.params as Params);
    },
  };
  const progress = new ProgressReporter(extra, minIntervalMs, () => clock);
  return {
    progress,
    sent,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe("ProgressReporter", () => {
  it("sends nothing when the caller asked for no progress", () => {
    const { progress, sent } = reporter(null);
    expect(progress.enabled).toBe(false);
    progress.report("Rendering 10%", 10, 100, true);
    expect(sent).toEqual([]);
    expect(new ProgressReporter(undefined).enabled).toBe(false);
  });

  it("only goes up: a value that does not increase is nudged just above the last one", () => {
    const { progress, sent, advance } = reporter();
    progress.report("Rendering 40%", 40, 100, true);
    progress.report("Back to 20?", 20, 100, true);
    progress.report("Same again", 40.001, 100, true);
    advance(500);
    progress.report("Next step", undefined, undefined, true);
    expect(sent.map((p) => p.progress)).toEqual([40, 40.001, 40.002, 41.002]);
    for (let i = 1; i < sent.length; i++) {
      expect(sent[i]?.progress).toBeGreaterThan(sent[i - 1]?.progress ?? 0);
    }
  });

  it("sends at most one notification per interval unless forced", () => {
    const { progress, sent, advance } = reporter("tok", 200);
    progress.report("a", 1);
    progress.report("b", 2); // 0 ms later: dropped
    advance(199);
    progress.report("c", 3); // still inside the interval: dropped
    progress.report("stage change", 4, undefined, true); // forced
    advance(200);
    progress.report("d", 5);
    expect(sent.map((p) => p.message)).toEqual(["a", "stage change", "d"]);
  });

  it("drops a repeat of the same message that brings no new progress", () => {
    const { progress, sent, advance } = reporter();
    progress.report("Still working…", 10);
    advance(1_000);
    progress.report("Still working…", 10);
    advance(1_000);
    progress.report("Still working…");
    advance(1_000);
    progress.report("Still working…", 11);
    expect(sent.map((p) => [p.message, p.progress])).toEqual([
      ["Still working…", 10],
      ["Still working…", 11],
    ]);
  });

  it("sends total only when it is not below the progress, and rounds to three decimals", () => {
    const { progress, sent } = reporter(7);
    progress.report("half", 50, 100, true);
    progress.report("past the total", 120, 100, true);
    progress.report("thirds", 120.123456, undefined, true);
    expect(sent).toEqual([
      { progressToken: 7, progress: 50, total: 100, message: "half" },
      { progressToken: 7, progress: 120, message: "past the total" },
      { progressToken: 7, progress: 120.123, message: "thirds" },
    ]);
  });

  it("never throws when the notification cannot be sent", async () => {
    const extra = {
      _meta: { progressToken: "tok" },
      sendNotification: () => Promise.reject(new Error("transport closed")),
    };
    const progress = new ProgressReporter(extra);
    expect(() => progress.report("x", 1, undefined, true)).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
  });
});
