import { describe, expect, it } from "vitest";
import { MAX_REPLY_CHARS, Reply } from "../../src/client/reply.js";

const CUT_NOTE = "[The reply was cut here: it was longer than 64 KB.]";

describe("Reply", () => {
  it("is empty before any text, and for blank texts", () => {
    const reply = new Reply();
    expect(reply.text()).toBe("");
    reply.add("  \n ", false);
    reply.add(" ", true);
    expect(reply.text()).toBe("");
  });

  it("joins partial chunks, and lets the final text replace them", () => {
    const reply = new Reply();
    reply.add("Adding ", true);
    reply.add("music", true);
    expect(reply.text()).toBe("Adding music");
    reply.add("Adding music.", false);
    expect(reply.text()).toBe("Adding music.");
  });

  it("keeps every final text, in order, a blank line apart, with the pending partial text last", () => {
    const reply = new Reply();
    reply.add(" First. ", false);
    reply.add("Second.", false);
    reply.add("Third", true);
    expect(reply.text()).toBe("First.\n\nSecond.\n\nThird");
  });

  it("words the web app's buttons for a chat (GUI translation)", () => {
    const reply = new Reply();
    reply.add("Once done, click Export.", false);
    expect(reply.text()).toBe("Once done, ask me to export ({export}).");
  });

  it("cuts a long reply at 64 KB and says so", () => {
    const reply = new Reply();
    reply.add("a".repeat(MAX_REPLY_CHARS - 10), false);
    reply.add("b".repeat(100), false);
    reply.add("c".repeat(100), true);
    const text = reply.text();
    expect(text.endsWith(`\n\n${CUT_NOTE}`)).toBe(true);
    const body = text.slice(0, -(CUT_NOTE.length + 2));
    expect(body.length).toBe(MAX_REPLY_CHARS);
    expect(body).toBe(`${"a".repeat(MAX_REPLY_CHARS - 10)}\n\n${"b".repeat(8)}`);
  });

  it("bounds endless partial chunks too", () => {
    const reply = new Reply();
    for (let i = 0; i < 100; i++) reply.add("x".repeat(1_000), true);
    const text = reply.text();
    expect(text).toBe(`${"x".repeat(MAX_REPLY_CHARS)}\n\n${CUT_NOTE}`);
  });

  it("does not say it was cut when the reply fits exactly", () => {
    const reply = new Reply();
    reply.add("y".repeat(MAX_REPLY_CHARS), false);
    expect(reply.text()).toBe("y".repeat(MAX_REPLY_CHARS));
  });

  it("takes events: tool calls into the activity (repeats folded), questions until their call has a result", () => {
    const reply = new Reply();
    const question = { prompt: "Which voice?", options: ["Warm", "Bright"] };
    reply.take({ type: "tool_call", name: "add_bgm" });
    reply.take({ type: "tool_call", name: "add_bgm" });
    reply.take({ type: "tool_call", name: "add_voiceover" });
    reply.take({ type: "tool_call", name: "add_bgm" });
    reply.take({ type: "text", text: "Picking", author: "nemo_agent", partial: true });
    reply.take({ type: "heartbeat" });
    expect(reply.activity).toEqual(["add_bgm", "add_voiceover", "add_bgm"]);
    expect(reply.text()).toBe("Picking");
    reply.take({ type: "question", questions: [question], id: "q1" });
    expect(reply.asked).toEqual({ questions: [question], id: "q1" });
    reply.take({ type: "tool_result", name: "ask_question", id: "other" });
    expect(reply.asked?.id).toBe("q1");
    reply.take({ type: "tool_result", name: "ask_question", id: "q1" });
    expect(reply.asked).toBeUndefined();
    reply.take({ type: "question", questions: [question] });
    reply.take({ type: "tool_result", name: "ask_question" });
    expect(reply.asked).toEqual({ questions: [question] });
  });
});
