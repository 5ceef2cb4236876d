import { describe, expect, it } from "vitest";
import {
  AuthError,
  BackendError,
  CancelledError,
  FileTooLargeError,
  isAbortError,
  MissingClientIdError,
  NemoError,
  NetworkError,
  NoCreditsError,
  PlanRequiredError,
  RateLimitError,
  ServerError,
  SessionNotFoundError,
  TimeoutError,
  UnsupportedFileError,
} from "../../src/client/errors.js";
import { ACCEPTED_FORMATS, MAX_UPLOAD_BYTES } from "../../src/client/formats.js";

const WEB = "https://nemovideo.test";
const anonymous = { userToken: false, userId: "anon_42", webUrl: WEB };
const registered = { userToken: true, userId: "user_7", webUrl: WEB };

describe("NemoError.fromResponse: body codes", () => {
  it("1001 with an anonymous token: AuthError asking for a new anonymous token", () => {
    const err = NemoError.fromResponse(200, { code: 1001, message: "token expired" }, anonymous);
    expect(err).toBeInstanceOf(AuthError);
    expect(err).toBeInstanceOf(NemoError);
    expect(err).toMatchObject({ kind: "auth", code: 1001, status: 200, name: "AuthError" });
    expect(err.message).toContain("1001");
    expect(err.message).toContain("token expired");
    expect(err.nextStep).toMatch(/anonymous token/);
    expect(err.userMessage).not.toMatch(/NEMO_TOKEN was rejected/);
  });

  it("1001 with a user NEMO_TOKEN: says NEMO_TOKEN was rejected and how to fix it", () => {
    const err = NemoError.fromResponse(401, { code: 1001 }, registered);
    expect(err).toBeInstanceOf(AuthError);
    expect(err.status).toBe(401);
    expect(err.userMessage).toMatch(/NEMO_TOKEN was rejected/);
    expect(err.userMessage).toMatch(/7 days/);
  });

  it("HTTP 401 without a body code is an AuthError too", () => {
    const err = NemoError.fromResponse(401, {}, anonymous);
    expect(err).toBeInstanceOf(AuthError);
    expect(err.code).toBe(1001);
  });

  it("1002: SessionNotFoundError whose next step says the old timeline is gone", () => {
    const err = NemoError.fromResponse(200, { code: 1002, message: "session not found" }, anonymous);
    expect(err).toBeInstanceOf(SessionNotFoundError);
    expect(err).toMatchObject({ kind: "session_not_found", code: 1002 });
    expect(err.userMessage).toContain("{new_session}");
    expect(err.userMessage).toMatch(/timeline is gone/);
  });

  it("2001 for an anonymous user: registration link bound to the user id", () => {
    const err = NemoError.fromResponse(200, { code: 2001 }, anonymous);
    expect(err).toBeInstanceOf(NoCreditsError);
    expect(err).toMatchObject({ kind: "no_credits", code: 2001 });
    expect((err as NoCreditsError).registrationUrl).toBe(`${WEB}/register?bind=anon_42`);
    expect(err.userMessage).toContain(`${WEB}/register?bind=anon_42`);
  });

  it("2001 for an anonymous user with an odd id: the id is URL-encoded", () => {
    const err = NemoError.fromResponse(200, { code: 2001 }, { ...anonymous, userId: "a b&c" });
    expect((err as NoCreditsError).registrationUrl).toBe(`${WEB}/register?bind=a%20b%26c`);
  });

  it("2001 for an anonymous user without a known id: plain registration link", () => {
    const err = NemoError.fromResponse(200, { code: 2001 }, { userToken: false, webUrl: WEB });
    expect((err as NoCreditsError).registrationUrl).toBe(`${WEB}/register`);
  });

  it("2001 for a registered user: top up wording and no link", () => {
    const err = NemoError.fromResponse(200, { code: 2001 }, registered);
    expect((err as NoCreditsError).registrationUrl).toBeUndefined();
    expect(err.userMessage).toMatch(/top up/i);
    expect(err.userMessage).not.toMatch(/register/i);
    expect(err.userMessage).not.toMatch(/https?:/);
  });

  it("4001: UnsupportedFileError listing every accepted format", () => {
    const err = NemoError.fromResponse(200, { code: 4001, message: "unsupported file type" });
    expect(err).toBeInstanceOf(UnsupportedFileError);
    expect(err).toMatchObject({ kind: "unsupported_file", code: 4001 });
    for (const format of ACCEPTED_FORMATS) expect(err.userMessage).toContain(format);
  });

  it("4002: FileTooLargeError naming 500 MB and suggesting compressing or trimming", () => {
    const err = NemoError.fromResponse(200, { code: 4002 });
    expect(err).toBeInstanceOf(FileTooLargeError);
    expect(err).toMatchObject({ kind: "file_too_large", code: 4002 });
    expect(err.userMessage).toContain("500 MB");
    expect(err.userMessage).toMatch(/compress/);
    expect(err.userMessage).toMatch(/trim/);
    expect(MAX_UPLOAD_BYTES).toBe(500 * 1024 * 1024);
  });

  it("any other non-zero code: BackendError carrying the code and its message", () => {
    const err = NemoError.fromResponse(200, { code: 7777, message: "the flux capacitor broke" });
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ kind: "backend", code: 7777, status: 200 });
    expect(err.message).toContain("7777");
    expect(err.message).toContain("the flux capacitor broke");
    expect(err.nextStep).toBeTruthy();
  });
});

describe("NemoError.fromResponse: HTTP statuses", () => {
  it("402: PlanRequiredError about the plan, explicitly not credits", () => {
    const err = NemoError.fromResponse(402, {}, anonymous);
    expect(err).toBeInstanceOf(PlanRequiredError);
    expect(err).toMatchObject({ kind: "plan_required", status: 402 });
    expect(err.userMessage).toMatch(/plan/);
    expect(err.userMessage).toMatch(/subscription/);
    expect(err.userMessage).toMatch(/not .*credits/);
    expect(err.userMessage).toMatch(/upgrade your plan/);
    expect(err.userMessage).toContain(WEB);
  });

  it("429: RateLimitError with neutral wording (the token call words its own)", () => {
    const err = NemoError.fromResponse(429, { message: "Too Many Requests" });
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ kind: "rate_limited", status: 429 });
    expect(err.userMessage).toMatch(/rate limit/i);
    expect(err.userMessage).not.toMatch(/NEMO_TOKEN|anonymous/);
    expect(err.userMessage).toMatch(/[Ww]ait/);
  });

  it("400 about the client id: MissingClientIdError", () => {
    const err = NemoError.fromResponse(400, { code: 400, message: "missing X-Client-Id" });
    expect(err).toBeInstanceOf(MissingClientIdError);
    expect(err).toMatchObject({ kind: "missing_client_id", status: 400 });
    expect(err.userMessage).toMatch(/X-Client-Id/);
  });

  it.each([500, 502, 503, 504])("%i: ServerError saying it is on NemoVideo's side", (status) => {
    const err = NemoError.fromResponse(status, {});
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ kind: "server", status });
    expect(err.message).toContain(String(status));
    expect(err.userMessage).toMatch(/NemoVideo's side/);
  });

  it("any other HTTP failure without a code: BackendError with the status", () => {
    const err = NemoError.fromResponse(418, { message: "I'm a teapot" });
    expect(err).toBeInstanceOf(BackendError);
    expect(err.status).toBe(418);
    expect(err.message).toContain("418");
    expect(err.message).toContain("I'm a teapot");
  });

  it("a body code wins over the status (2001 sent with HTTP 402)", () => {
    expect(NemoError.fromResponse(402, { code: 2001 }, anonymous)).toBeInstanceOf(NoCreditsError);
  });

  it("works without a body or a context", () => {
    const err = NemoError.fromResponse(503, undefined);
    expect(err).toBeInstanceOf(ServerError);
    expect(NemoError.fromResponse(402, undefined).userMessage).toContain("https://nemovideo.com");
  });
});

describe("error details", () => {
  it("drops meaningless messages such as 'success' or 'error'", () => {
    for (const message of ["success", "OK", "error", "   "]) {
      const err = NemoError.fromResponse(200, { code: 7000, message });
      expect(err.message).toBe("NemoVideo error 7000.");
    }
  });

  it("collapses whitespace and caps the backend's message at 200 characters", () => {
    const err = NemoError.fromResponse(200, { code: 7000, message: `a\n\n b\t${"x".repeat(500)}` });
    expect(err.message).toContain("a b x");
    expect(err.message.length).toBeLessThan(260);
  });

  it("userMessage is the message followed by the next step", () => {
    const err = new NetworkError("Could not reach it.", "Check your network.");
    expect(err.userMessage).toBe("Could not reach it. Check your network.");
    expect(new NetworkError("Only this.").userMessage).toBe("Only this.");
  });

  it("keeps the cause", () => {
    const cause = new Error("ECONNRESET");
    const err = new NetworkError("cut", "retry", { cause });
    expect(err.cause).toBe(cause);
    expect(new TimeoutError("slow").cause).toBeUndefined();
  });

  it("every class has its own name and kind", () => {
    const cases: [NemoError, string, string][] = [
      [new NetworkError("x"), "NetworkError", "network"],
      [new TimeoutError("x"), "TimeoutError", "timeout"],
      [new CancelledError("x"), "CancelledError", "cancelled"],
      [new ServerError("x"), "ServerError", "server"],
      [new RateLimitError("x"), "RateLimitError", "rate_limited"],
      [new PlanRequiredError("x"), "PlanRequiredError", "plan_required"],
      [new SessionNotFoundError(), "SessionNotFoundError", "session_not_found"],
      [new NoCreditsError({}), "NoCreditsError", "no_credits"],
    ];
    for (const [err, name, kind] of cases) {
      expect(err.name).toBe(name);
      expect(err.kind).toBe(kind);
      expect(err).toBeInstanceOf(Error);
      expect(String(err)).toMatch(new RegExp(`^${name}: `));
    }
  });
});

describe("SessionNotFoundError.replacedBy", () => {
  it("names the old and the new session and says the timeline is gone", () => {
    const err = new SessionNotFoundError().replacedBy("old-sid", "new-sid");
    expect(err.oldSessionId).toBe("old-sid");
    expect(err.newSessionId).toBe("new-sid");
    expect(err.message).toContain("old-sid");
    expect(err.message).toMatch(/timeline is gone/);
    expect(err.nextStep).toContain("new-sid");
    expect(err.nextStep).toMatch(/now current/);
    expect(err.userMessage).toMatch(/upload your media again/);
  });
});

describe("isAbortError", () => {
  it("recognises CancelledError, AbortError and ABORT_ERR", () => {
    expect(isAbortError(new CancelledError("x"))).toBe(true);
    const controller = new AbortController();
    controller.abort();
    expect(isAbortError(controller.signal.reason)).toBe(true);
    expect(isAbortError(Object.assign(new Error("x"), { code: "ABORT_ERR" }))).toBe(true);
    expect(isAbortError(new NetworkError("x"))).toBe(false);
    expect(isAbortError("AbortError")).toBe(false);
  });
});
