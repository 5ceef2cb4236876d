import { afterEach, describe, expect, it, vi } from "vitest";
import { act } from "../../src/client/actions.js";
import { COMMAND_WORDS } from "../../src/commands/output.js";
import { resumable } from "../../src/jobs/export-job.js";
import { describeTurnUpdate } from "../../src/jobs/updates.js";
import { type TurnView, wordView } from "../../src/jobs/views.js";
import { boundedWait } from "../../src/jobs/wait.js";
import { TOOL_WORDS } from "../../src/server/wording.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("boundedWait", () => {
  it("ends when the work ends, when the time is up, or when the signal aborts, whichever is first", async () => {
    vi.useFakeTimers();
    let finish: () => void = () => {};
    const work = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let ended = false;
    void boundedWait(work, 10_000).then(() => {
      ended = true;
    });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(ended).toBe(false);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toBe(true);

    let timedOut = false;
    void boundedWait(new Promise(() => {}), 5_000).then(() => {
      timedOut = true;
    });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(timedOut).toBe(true);

    const controller = new AbortController();
    let aborted = false;
    void boundedWait(new Promise(() => {}), 60_000, controller.signal).then(() => {
      aborted = true;
    });
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(aborted).toBe(true);
  });

  it("never rejects when the work fails", async () => {
    await expect(boundedWait(Promise.reject(new Error("boom")), 1_000)).resolves.toBeUndefined();
  });
});

describe("picking an export up again", () => {
  it.each([
    [{ status: "rendering" as const }, true],
    [{ status: "failed" as const, error: { kind: "timeout", message: "still rendering" } }, true],
    [{ status: "failed" as const, error: { kind: "download_failed", message: "cut off" } }, true],
    [{ status: "failed" as const, error: { kind: "render_failed", message: "failed twice" } }, false],
    [{ status: "cancelled" as const, error: { kind: "cancelled", message: "stopped" } }, false],
    [{ status: "completed" as const }, false],
  ])("%j → polls the render again: %s", (view, expected) => {
    expect(resumable({ render_id: "render_1", ...view })).toBe(expected);
  });
});

describe("each face words the same job view", () => {
  const view: TurnView = {
    status: "failed",
    turn_id: "t1",
    session_id: "s1",
    reply: `Ask me to export (${act("export")}).`,
    activity: [],
    error: { kind: "timeout", message: "Took too long.", next_step: `Check ${act("check_state")} first.` },
  };

  it("as tool names for MCP and as commands for the CLI, leaving the rest alone", () => {
    expect(wordView(view, TOOL_WORDS)).toEqual({
      ...view,
      reply: "Ask me to export (export_video).",
      error: { kind: "timeout", message: "Took too long.", next_step: "Check get_state first." },
    });
    expect(wordView(view, COMMAND_WORDS).error?.next_step).toBe("Check `nemovideo-mcp state` first.");
    expect(wordView(view, COMMAND_WORDS).reply).toBe("Ask me to export (`nemovideo-mcp export`).");
    // the job's own view is not changed
    expect(view.reply).toContain("{export}");
  });

  it("words every next action in both vocabularies", () => {
    for (const words of [TOOL_WORDS, COMMAND_WORDS]) {
      for (const [action, word] of Object.entries(words)) {
        expect(word, action).not.toMatch(/[{}]/);
        expect(word.length, action).toBeGreaterThan(0);
      }
    }
  });
});

describe("describeTurnUpdate", () => {
  it("words the milestones a person cares about and nothing else", () => {
    expect(describeTurnUpdate({ type: "started" })?.text).toBe("NemoVideo is working on your message…");
    expect(describeTurnUpdate({ type: "tool_call", name: "add_bgm" })?.text).toBe(
      "Backend is running add_bgm",
    );
    expect(describeTurnUpdate({ type: "text", text: "hi", author: "a", partial: true })).toMatchObject({
      minor: true,
    });
    expect(describeTurnUpdate({ type: "recovering", attempt: 2, max: 5 })?.text).toBe(
      "Connection dropped; checking the timeline (2/5)…",
    );
    expect(describeTurnUpdate({ type: "heartbeat" })).toBeUndefined();
  });
});
