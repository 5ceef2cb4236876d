import { describe, expect, it } from "vitest";
import { redact } from "../../src/log.js";
import { boundResult, closest, MAX_RESULT_BYTES } from "../../src/server/tool-calls.js";

describe("the tool-call boundary", () => {
  it("a result over 4 MiB has its long strings cut, saying so; binary data stays whole", () => {
    const image = "A".repeat(100_000);
    const result = {
      content: [
        { type: "text", text: "x".repeat(5 * 1024 * 1024) },
        { type: "image", data: image, mimeType: "image/jpeg" },
      ],
      structuredContent: { reply: "y".repeat(5 * 1024 * 1024), status: "completed" },
    };
    const bounded = boundResult(result);
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThan(MAX_RESULT_BYTES);
    expect(bounded.content[0]?.text).toMatch(/larger than 4 MiB/);
    expect(bounded.content[1]?.data).toBe(image);
    expect(bounded.structuredContent.status).toBe("completed");
    const small = { content: [{ type: "text", text: "ok" }] };
    expect(boundResult(small)).toBe(small);
  });

  it("names the close right key for a misspelt one", () => {
    const keys = ["session_id", "message", "wait_seconds"];
    expect(closest("sessionId", keys)).toBe("session_id");
    expect(closest("waitSeconds", keys)).toBe("wait_seconds");
    expect(closest("mesage", keys)).toBe("message");
    expect(closest("colour", keys)).toBeUndefined();
  });

  it("URLs lose their user:password part wherever they appear", () => {
    expect(redact("get https://bob:hunter2@cdn.example.com/v.mp4?a=b@c now")).toBe(
      "get https://cdn.example.com/v.mp4?a=b@c now",
    );
  });
});
