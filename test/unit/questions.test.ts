import { describe, expect, it } from "vitest";
import { creditsUsed } from "../../src/client/baseline.js";
import { isQuestionCall, parseQuestions, questionText } from "../../src/client/questions.js";
import { classifyEvent } from "../../src/client/sse.js";
import { parseDraft, timelineFromJSON, timelineToJSON } from "../../src/client/timeline.js";

const adk = (parts: unknown[]) => JSON.stringify({ author: "nemo_agent", content: { role: "model", parts } });

describe("the agent's questions", () => {
  it("reads the documented shape: questions with id, prompt, options and allow_multiple", () => {
    const args = {
      questions: [
        { id: "voice", prompt: "Which voice?", options: ["Warm", "Calm"], allow_multiple: false },
        { id: "ratio", prompt: "Which aspect ratio?", options: ["16:9", "9:16"], allow_multiple: true },
      ],
    };
    expect(parseQuestions(args)).toEqual([
      { id: "voice", prompt: "Which voice?", options: ["Warm", "Calm"], allow_multiple: false },
      { id: "ratio", prompt: "Which aspect ratio?", options: ["16:9", "9:16"], allow_multiple: true },
    ]);
  });

  it("tolerates a single question string, options as {label} objects, and JSON-encoded args", () => {
    expect(
      parseQuestions({ question: "Which voice?", options: [{ label: "Warm" }, { value: "calm" }] }),
    ).toEqual([{ prompt: "Which voice?", options: ["Warm", "calm"] }]);
    expect(parseQuestions("Which music style?")).toEqual([{ prompt: "Which music style?" }]);
    expect(parseQuestions(JSON.stringify({ questions: [{ prompt: "Length?", choices: [15, 30] }] }))).toEqual(
      [{ prompt: "Length?", options: ["15", "30"] }],
    );
    expect(parseQuestions({ questions: ["Free text?"] })).toEqual([{ prompt: "Free text?" }]);
  });

  it("never throws on garbage and always yields a question to relay", () => {
    for (const bad of [undefined, null, 42, [], {}, { questions: [null, 3, {}] }, { options: "x" }]) {
      const questions = parseQuestions(bad);
      expect(questions).toHaveLength(1);
      expect(questions[0]?.prompt).toMatch(/more information/);
    }
  });

  it("bounds sizes: long prompts are cut, at most 50 options", () => {
    const [q] = parseQuestions({
      prompt: "x".repeat(5000),
      options: Array.from({ length: 80 }, (_, i) => `o${i}`),
    });
    expect(q?.prompt.length).toBe(2000);
    expect(q?.options).toHaveLength(50);
  });

  it("recognises the question tool by name", () => {
    expect(isQuestionCall("ask_question")).toBe(true);
    expect(isQuestionCall("Ask_Question")).toBe(true);
    expect(isQuestionCall("generate_voiceover")).toBe(false);
  });

  it("classifies an ask_question call as a question event, not a tool call", () => {
    const data = adk([
      {
        functionCall: {
          id: "q1",
          name: "ask_question",
          args: { questions: [{ id: "voice", prompt: "Which voice?", options: ["Warm"] }] },
        },
      },
    ]);
    expect(classifyEvent(data)).toEqual([
      { type: "question", id: "q1", questions: [{ id: "voice", prompt: "Which voice?", options: ["Warm"] }] },
    ]);
  });

  it("words the question with numbered options", () => {
    expect(questionText([{ prompt: "Which voice?", options: ["Warm", "Calm"], allow_multiple: true }])).toBe(
      "Which voice?\n  1. Warm\n  2. Calm\n  (several may be chosen)",
    );
  });
});

describe("what a turn cost", () => {
  it("is what left the available balance, exact when nothing else was frozen", () => {
    expect(
      creditsUsed({ available: 100, frozen: 0, total: 100 }, { available: 95, frozen: 0, total: 95 }),
    ).toEqual({ credits: 5, approximate: false });
  });

  it("counts credits still reserved for the turn, and says 'about' when others were frozen", () => {
    expect(
      creditsUsed({ available: 100, frozen: 0, total: 100 }, { available: 80, frozen: 20, total: 100 }),
    ).toEqual({ credits: 20, approximate: true });
    expect(
      creditsUsed({ available: 80, frozen: 20, total: 100 }, { available: 75, frozen: 0, total: 75 }),
    ).toEqual({ credits: 25, approximate: true });
  });

  it("never reports a negative cost (credits added meanwhile)", () => {
    expect(
      creditsUsed({ available: 10, frozen: 0, total: 10 }, { available: 110, frozen: 0, total: 110 }),
    ).toEqual({ credits: 0, approximate: false });
  });
});

describe("a saved baseline timeline", () => {
  it("round-trips through its JSON shape", () => {
    const timeline = parseDraft({
      t: [
        { tt: 0, m: { name: "Video" }, sg: [{ id: "a", st: 0, d: 10_000, m: { name: "clip" } }] },
        {
          tt: 1,
          m: { name: "BGM" },
          sg: [{ id: "b", st: 0, d: 10_000, m: { name: "Lo-fi", volume: 0.35 } }],
        },
      ],
      d: 10_000,
    });
    const back = timelineFromJSON(JSON.parse(JSON.stringify(timelineToJSON(timeline))));
    expect(timelineToJSON(back)).toEqual(timelineToJSON(timeline));
    expect(back.tracks.map((t) => t.type)).toEqual([0, 1]);
  });
});
