import { describe, expect, it } from "vitest";
import { decodeEnvelope } from "../../src/client/envelope.js";

describe("decodeEnvelope: {code, message, data}", () => {
  it("code 0 returns data", () => {
    expect(decodeEnvelope(200, { code: 0, message: "success", data: { a: 1 } })).toEqual({
      ok: true,
      data: { a: 1 },
    });
  });

  it("code 0 without data returns an empty object", () => {
    expect(decodeEnvelope(200, { code: 0, message: "ok" })).toEqual({ ok: true, data: {} });
    expect(decodeEnvelope(200, { code: 0, data: null })).toEqual({ ok: true, data: {} });
  });

  it("a numeric string code counts like a number", () => {
    expect(decodeEnvelope(200, { code: "0", data: { a: 1 } })).toEqual({ ok: true, data: { a: 1 } });
    expect(decodeEnvelope(200, { code: "1001", message: "expired" })).toEqual({
      ok: false,
      failure: { code: 1001, message: "expired" },
    });
  });

  it("code != 0 with HTTP 200 is a failure carrying code and message", () => {
    expect(decodeEnvelope(200, { code: 2001, message: "insufficient credits", data: {} })).toEqual({
      ok: false,
      failure: { code: 2001, message: "insufficient credits" },
    });
  });

  it("code != 0 with an HTTP error status is a failure too", () => {
    expect(decodeEnvelope(401, { code: 1001, message: "token expired" })).toEqual({
      ok: false,
      failure: { code: 1001, message: "token expired" },
    });
  });

  it("code 0 with an HTTP error status is a failure without a code", () => {
    expect(decodeEnvelope(500, { code: 0, message: "internal" })).toEqual({
      ok: false,
      failure: { message: "internal" },
    });
  });

  it("reads the message from message, msg or error, in that order", () => {
    expect(decodeEnvelope(200, { code: 5, msg: "from msg" })).toEqual({
      ok: false,
      failure: { code: 5, message: "from msg" },
    });
    expect(decodeEnvelope(200, { code: 5, error: "from error" })).toEqual({
      ok: false,
      failure: { code: 5, message: "from error" },
    });
    expect(decodeEnvelope(200, { code: 5, message: "first", msg: "second", error: "third" })).toEqual({
      ok: false,
      failure: { code: 5, message: "first" },
    });
  });

  it("ignores a message that is not a string", () => {
    expect(decodeEnvelope(200, { code: 5, message: { nested: true } })).toEqual({
      ok: false,
      failure: { code: 5, message: undefined },
    });
  });

  it("ignores unknown keys", () => {
    expect(
      decodeEnvelope(200, { code: 0, message: "success", data: { a: 1 }, trace_id: "t-1", extra: [1] }),
    ).toEqual({ ok: true, data: { a: 1 } });
  });
});

describe("decodeEnvelope: {success, data}", () => {
  it("success true returns data", () => {
    expect(decodeEnvelope(200, { success: true, data: { status: "completed" } })).toEqual({
      ok: true,
      data: { status: "completed" },
    });
  });

  it("success true without data returns an empty object", () => {
    expect(decodeEnvelope(200, { success: true })).toEqual({ ok: true, data: {} });
  });

  it("success false is a failure with the message", () => {
    expect(decodeEnvelope(200, { success: false, message: "render exploded" })).toEqual({
      ok: false,
      failure: { message: "render exploded" },
    });
    expect(decodeEnvelope(200, { success: false, error: "boom" })).toEqual({
      ok: false,
      failure: { message: "boom" },
    });
  });

  it("success true with an HTTP error status is a failure", () => {
    expect(decodeEnvelope(503, { success: true, data: {} })).toEqual({ ok: false, failure: {} });
  });
});

describe("decodeEnvelope: fields at the top level", () => {
  it("returns the whole object", () => {
    const body = { status: "processing", progress: 40, taskId: "r1" };
    expect(decodeEnvelope(200, body)).toEqual({ ok: true, data: body });
  });

  it("an HTTP error status with top-level fields is a failure with the message", () => {
    expect(decodeEnvelope(404, { detail: "x", message: "not found" })).toEqual({
      ok: false,
      failure: { message: "not found" },
    });
    expect(decodeEnvelope(500, { error: "internal" })).toEqual({
      ok: false,
      failure: { message: "internal" },
    });
  });

  it("a code that is not a number does not make an envelope", () => {
    const body = { code: "abc", status: "pending" };
    expect(decodeEnvelope(200, body)).toEqual({ ok: true, data: body });
  });
});

describe("decodeEnvelope: bodies that are not objects", () => {
  it("null or a scalar with 2xx decodes to itself (null as an empty object)", () => {
    expect(decodeEnvelope(200, null)).toEqual({ ok: true, data: {} });
    expect(decodeEnvelope(200, 42)).toEqual({ ok: true, data: 42 });
    expect(decodeEnvelope(200, "text")).toEqual({ ok: true, data: "text" });
    expect(decodeEnvelope(200, [1, 2])).toEqual({ ok: true, data: [1, 2] });
  });

  it("null, a scalar or an array with an error status is a failure without details", () => {
    expect(decodeEnvelope(500, null)).toEqual({ ok: false, failure: {} });
    expect(decodeEnvelope(502, "Bad Gateway")).toEqual({ ok: false, failure: {} });
    expect(decodeEnvelope(400, [])).toEqual({ ok: false, failure: {} });
  });
});
