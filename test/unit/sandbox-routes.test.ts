import { describe, expect, it } from "vitest";
import { matchRoute, messageText } from "../../src/sandbox/routes.js";

describe("the sandbox's routes table", () => {
  it("maps every backend endpoint of the contract, with its parameter decoded", () => {
    const cases: Array<[string, string, string, string, boolean]> = [
      ["POST", "/api/auth/anonymous-token", "token", "", false],
      ["POST", "/api/tasks/me/with-session/nemo_agent", "session", "", true],
      ["POST", "/api/auth/claim-token", "claim", "", true],
      ["POST", "/run_sse", "run_sse", "", true],
      ["POST", "/api/render/proxy/lambda", "render_submit", "", true],
      ["POST", "/api/render/proxy/lambda/r%201/cancel", "render_cancel", "r 1", false],
      ["POST", "/api/upload-video/nemo_agent/me/s%2F1", "upload", "s/1", false],
      ["GET", "/api/credits/balance/simple", "credits", "", false],
      ["HEAD", "/api/credits/balance/simple", "credits", "", false],
      ["GET", "/api/state/nemo_agent/me/sess/latest", "state", "sess", false],
      ["GET", "/api/render/proxy/lambda/r1", "render_status", "r1", false],
      ["GET", "/api/render/proxy/r1/download", "download", "r1", false],
      ["HEAD", "/files/renders/r%E2%82%AC.mp4", "download", "r€", false],
      ["GET", "/files/renders/%E0%A4%A.mp4", "download", "%E0%A4%A", false],
    ];
    for (const [method, path, endpoint, param, readsJson] of cases) {
      expect(matchRoute(method, path), `${method} ${path}`).toEqual({ endpoint, param, readsJson });
    }
  });

  it("answers nothing for other methods and paths", () => {
    expect(matchRoute("GET", "/run_sse")).toBeUndefined();
    expect(matchRoute("POST", "/api/credits/balance/simple")).toBeUndefined();
    expect(matchRoute("DELETE", "/api/render/proxy/lambda/r1")).toBeUndefined();
    expect(matchRoute("GET", "/api/state/nemo_agent/me//latest")).toBeUndefined();
    expect(matchRoute("GET", "/api/state/nemo_agent/me/a/b/latest")).toBeUndefined();
  });
});

describe("messageText", () => {
  it("joins the text parts of new_message and ignores the rest", () => {
    const body = {
      new_message: { parts: [{ text: "one" }, { image: "x" }, { text: "" }, "junk", { text: "two" }] },
    };
    expect(messageText(body)).toBe("one\ntwo");
    expect(messageText({})).toBe("");
    expect(messageText(undefined)).toBe("");
  });
});
