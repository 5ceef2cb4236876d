import { describe, expect, it } from "vitest";
import type { LogLevel } from "../../src/config.js";
import { addSecret, Logger, redact, silentLogger } from "../../src/log.js";

function capture(level: LogLevel = "debug") {
  const lines: string[] = [];
  const logger = new Logger(level, (line) => lines.push(line));
  return { logger, lines };
}

describe("Logger levels", () => {
  it("drops records below its level and keeps the rest", () => {
    const { logger, lines } = capture("notice");
    logger.debug("d");
    logger.info("i");
    logger.log("notice", "n");
    logger.warn("w");
    logger.error("e");
    expect(lines).toEqual([
      "[nemovideo-mcp] notice: n\n",
      "[nemovideo-mcp] warning: w\n",
      "[nemovideo-mcp] error: e\n",
    ]);
  });

  it("enabled() follows the level, which can change at runtime", () => {
    const { logger, lines } = capture("info");
    expect(logger.enabled("debug")).toBe(false);
    expect(logger.enabled("info")).toBe(true);
    logger.level = "debug";
    expect(logger.enabled("debug")).toBe(true);
    logger.debug("now visible");
    expect(lines).toEqual(["[nemovideo-mcp] debug: now visible\n"]);
  });

  it("appends data as JSON on the same line", () => {
    const { logger, lines } = capture();
    logger.info("upload", { files: 2, name: "a.mp4" });
    expect(lines).toEqual(['[nemovideo-mcp] info: upload {"files":2,"name":"a.mp4"}\n']);
  });

  it("the silent logger writes nothing and does not throw", () => {
    expect(() => silentLogger.error("ignored")).not.toThrow();
  });
});

describe("redact", () => {
  it("removes registered secrets wherever they appear", () => {
    addSecret("sk-very-secret-value");
    expect(redact("a sk-very-secret-value b sk-very-secret-value")).toBe("a [redacted] b [redacted]");
  });

  it("ignores secrets too short to be tokens, and undefined", () => {
    addSecret("abc");
    addSecret(undefined);
    addSecret("");
    expect(redact("abc cab")).toBe("abc cab");
  });

  it("removes anything shaped like a NemoVideo token or a bearer header", () => {
    expect(redact("token nmv_usr_0123abcd_XY-z used")).toBe("token [redacted] used");
    expect(redact("Authorization: Bearer eyJhbGci.OiJIUzI1.NiJ9+/= end")).toBe(
      "Authorization: [redacted] end",
    );
    expect(redact('{"token":"nmv_usr_abc"}')).toBe('{"token":"[redacted]"}');
  });

  it("leaves ordinary text alone", () => {
    expect(redact("Created session 5a0e-11 (nmv is a prefix)")).toBe(
      "Created session 5a0e-11 (nmv is a prefix)",
    );
  });
});

describe("Logger redaction and sinks", () => {
  it("redacts messages and data before stderr and every sink", () => {
    addSecret("user-secret-123456");
    const { logger, lines } = capture();
    const seen: [LogLevel, string, Record<string, unknown> | undefined][] = [];
    logger.addSink((level, message, data) => seen.push([level, message, data]));
    logger.warn("got nmv_usr_leak1 and user-secret-123456", {
      header: "Bearer nmv_usr_leak2",
      nested: { token: "user-secret-123456" },
    });
    const all = [...lines, ...seen.map((s) => JSON.stringify(s))].join("\n");
    expect(all).not.toContain("nmv_usr_leak");
    expect(all).not.toContain("user-secret-123456");
    expect(seen).toEqual([
      ["warning", "got [redacted] and [redacted]", { header: "[redacted]", nested: { token: "[redacted]" } }],
    ]);
  });

  it("a sink only receives records at or above the level", () => {
    const { logger } = capture("warning");
    const seen: string[] = [];
    logger.addSink((_level, message) => seen.push(message));
    logger.info("quiet");
    logger.error("loud");
    expect(seen).toEqual(["loud"]);
  });

  it("a throwing sink breaks neither the caller, stderr nor the other sinks", () => {
    const { logger, lines } = capture();
    const seen: string[] = [];
    logger.addSink(() => {
      throw new Error("sink down");
    });
    logger.addSink((_level, message) => seen.push(message));
    expect(() => logger.info("still logged")).not.toThrow();
    expect(lines).toEqual(["[nemovideo-mcp] info: still logged\n"]);
    expect(seen).toEqual(["still logged"]);
  });

  it("addSink returns a function that removes the sink", () => {
    const { logger } = capture();
    const seen: string[] = [];
    const remove = logger.addSink((_level, message) => seen.push(message));
    logger.info("one");
    remove();
    logger.info("two");
    expect(seen).toEqual(["one"]);
  });
});
