import { redact } from "../log.js";
import { act } from "./actions.js";
import { ACCEPTED_FORMATS } from "./formats.js";

/** Machine-readable kind of every failure the client reports. */
export type NemoErrorKind =
  | "auth"
  | "session_not_found"
  | "no_credits"
  | "unsupported_file"
  | "file_too_large"
  | "missing_client_id"
  | "plan_required"
  | "rate_limited"
  | "server"
  | "backend"
  | "network"
  | "timeout"
  | "malformed_response"
  | "cancelled"
  | "invalid_input"
  | "not_exportable"
  | "render_failed"
  | "download_failed"
  | "stream_failed";

const CODE_LABEL: Record<number, string> = {
  1001: "invalid or expired token",
  1010: "invalid or expired token",
  1011: "invalid or expired token",
  1002: "session not found",
  2001: "no credits",
  4001: "unsupported file",
  4002: "file too large",
};

interface NemoErrorInit {
  /** Backend body code (1001, 2001, ...) when the backend sent one. */
  code?: number | undefined;
  /** HTTP status when the failure came with one. */
  status?: number | undefined;
  /** What the person can do next, in plain words. */
  nextStep?: string | undefined;
  cause?: unknown;
}

/** Base of every error the NemoVideo client raises: a plain-words message plus the next step. */
export class NemoError extends Error {
  override name = "NemoError";
  readonly kind: NemoErrorKind = "backend";
  readonly code: number | undefined;
  readonly status: number | undefined;
  nextStep: string | undefined;

  constructor(message: string, init: NemoErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.nextStep = init.nextStep;
  }

  /** The text a person (or a model) should read: cause, then next step. */
  get userMessage(): string {
    return withNextStep(this.message, this.nextStep);
  }

  /**
   * Maps an HTTP status and a decoded body (code + message) to the matching error.
   * `context` supplies what the mapping needs to word the next step.
   */
  static fromResponse(
    status: number,
    body: { code?: number | undefined; message?: string | undefined } | undefined,
    context: ErrorContext = {},
  ): NemoError {
    const code = body?.code;
    const detail = cleanDetail(body?.message);
    // 1010 and 1011 are token errors too (NemoVideo's own CLI treats them so)
    if (code === 1001 || code === 1010 || code === 1011 || (status === 401 && code === undefined)) {
      return new AuthError(
        `NemoVideo error ${code ?? 1001} (${CODE_LABEL[1001]})${detail}.`,
        context.userToken
          ? "Your NEMO_TOKEN was rejected: set a valid token (tokens last 7 days) or unset NEMO_TOKEN to use a free anonymous one."
          : "A new anonymous token is needed; try again.",
        { code: code ?? 1001, status },
      );
    }
    if (code === 1002) return new SessionNotFoundError(detail, { status });
    if (code === 2001) return new NoCreditsError(context, detail, status);
    if (code === 4001) {
      return new UnsupportedFileError(
        `NemoVideo error 4001 (${CODE_LABEL[4001]})${detail}.`,
        `Accepted formats: ${ACCEPTED_FORMATS.join(", ")}.`,
        { code: 4001, status },
      );
    }
    if (code === 4002) {
      return new FileTooLargeError(
        `NemoVideo error 4002 (${CODE_LABEL[4002]})${detail}.`,
        "The limit is 500 MB: compress the video or trim it, then upload again.",
        { code: 4002, status },
      );
    }
    if (status === 402) {
      return new PlanRequiredError(
        `NemoVideo refused the export (HTTP 402): the free plan cannot export this. This is a plan (subscription) issue, not a lack of credits.`,
        `Register or upgrade your plan to unlock export: ${context.webUrl ?? "https://nemovideo.com"}.`,
        { status, code },
      );
    }
    if (status === 429) {
      return new RateLimitError(
        `NemoVideo rate limit (HTTP 429)${detail}: too many requests.`,
        "Wait a minute and try again.",
        { status, code },
      );
    }
    if (status === 400 && (code === undefined || code === 400) && /client/i.test(body?.message ?? "")) {
      return new MissingClientIdError(
        `NemoVideo rejected the request (HTTP 400): missing or invalid X-Client-Id${detail}.`,
        "A new client id is generated automatically; try again.",
        { status, code },
      );
    }
    if (status >= 500) {
      return new ServerError(
        `NemoVideo is having trouble (HTTP ${status})${detail}.`,
        "This is on NemoVideo's side; wait a moment and try again.",
        { status, code },
      );
    }
    if (code !== undefined && code !== 0) {
      const label = CODE_LABEL[code];
      return new BackendError(
        `NemoVideo error ${code}${label ? ` (${label})` : ""}${detail}.`,
        `Try again; if it keeps failing, start a new session with ${act("new_session")}.`,
        { status, code },
      );
    }
    return new BackendError(`NemoVideo answered HTTP ${status}${detail}.`, "Try again in a moment.", {
      status,
    });
  }
}

/** What error wording depends on: who the user is and where the web app lives. */
export interface ErrorContext {
  /** True when the token came from NEMO_TOKEN (a registered user), false for an anonymous token. */
  userToken?: boolean | undefined;
  /** The user id known from the token, session or state responses. */
  userId?: string | undefined;
  webUrl?: string | undefined;
}

function cleanDetail(message: string | undefined): string {
  if (!message) return "";
  const trimmed = redact(message).replace(/\s+/g, " ").trim().slice(0, 200);
  if (!trimmed || /^(success|ok|error)$/i.test(trimmed)) return "";
  return `: ${trimmed}`;
}

type Init = Omit<NemoErrorInit, "nextStep">;

function classFor(kind: NemoErrorKind, name: string) {
  return class extends NemoError {
    override name = name;
    override readonly kind: NemoErrorKind = kind;
    constructor(message: string, nextStep?: string, init: Init = {}) {
      super(message, { ...init, nextStep });
    }
  };
}

/** 1001: the token is invalid or expired. */
export class AuthError extends classFor("auth", "AuthError") {}
/** HTTP 400 on the token call: X-Client-Id missing or refused. */
export class MissingClientIdError extends classFor("missing_client_id", "MissingClientIdError") {}
/** 4001: the backend does not accept this file type. */
export class UnsupportedFileError extends classFor("unsupported_file", "UnsupportedFileError") {}
/** 4002: over the 500 MB limit. */
export class FileTooLargeError extends classFor("file_too_large", "FileTooLargeError") {}
/** HTTP 402: a plan issue that blocks export; not credits. */
export class PlanRequiredError extends classFor("plan_required", "PlanRequiredError") {}
/** HTTP 429 after the single retry. */
export class RateLimitError extends classFor("rate_limited", "RateLimitError") {
  /** How long the backend asked to wait (Retry-After), when it said. */
  retryAfterMs: number | undefined;
}
/** HTTP 5xx. */
export class ServerError extends classFor("server", "ServerError") {}
/** Any other backend code. */
export class BackendError extends classFor("backend", "BackendError") {}
/** The connection failed or was cut. */
export class NetworkError extends classFor("network", "NetworkError") {}
/** A request, stream or poll ran past its time limit. */
export class TimeoutError extends classFor("timeout", "TimeoutError") {}
/** The backend answered with something that is not the expected JSON. */
export class MalformedResponseError extends classFor("malformed_response", "MalformedResponseError") {}
/** The caller aborted the work. */
export class CancelledError extends classFor("cancelled", "CancelledError") {}
/** Bad input caught before anything was sent. */
export class InvalidInputError extends classFor("invalid_input", "InvalidInputError") {}
/** The draft has nothing to render. */
export class NotExportableError extends classFor("not_exportable", "NotExportableError") {}
/** The render failed (after the one retry). */
export class RenderFailedError extends classFor("render_failed", "RenderFailedError") {}
/** The download of a finished render failed. */
export class DownloadFailedError extends classFor("download_failed", "DownloadFailedError") {}
/** A /run_sse turn failed, stalled or was cut and could not be recovered. */
export class StreamFailedError extends classFor("stream_failed", "StreamFailedError") {}

/** 1002: the session does not exist (expired or deleted). */
export class SessionNotFoundError extends NemoError {
  override name = "SessionNotFoundError";
  override readonly kind: NemoErrorKind = "session_not_found";
  /** Set when a replacement session was created for the user. */
  newSessionId: string | undefined;
  oldSessionId: string | undefined;
  /** Set when an explicitly given id that is not the current session does not exist. */
  unknownId: string | undefined;

  constructor(detail = "", init: Init = {}) {
    super(`NemoVideo error 1002 (${CODE_LABEL[1002]})${detail}.`, {
      ...init,
      code: 1002,
      nextStep: `Start a new session with ${act("new_session")}; the old timeline is gone.`,
    });
  }

  /** Records the replacement session and rewrites the message so the loss is never silent. */
  replacedBy(oldSessionId: string | undefined, newSessionId: string): this {
    this.oldSessionId = oldSessionId;
    this.newSessionId = newSessionId;
    this.message = `NemoVideo error 1002 (${CODE_LABEL[1002]}): the session ${oldSessionId ?? ""} no longer exists on NemoVideo, so its timeline is gone.`;
    this.nextStep = `A new empty session ${newSessionId} was started and is now current: upload your media again and repeat the request.`;
    return this;
  }

  /** Rewrites the message for a given id that does not exist: nothing was replaced or changed. */
  unknown(sessionId: string): this {
    this.unknownId = sessionId;
    this.message = `There is no session with the id "${sessionId}" on NemoVideo; nothing was changed.`;
    this.nextStep = `Check the session_id (or leave it out to use the current session), or start a new one with ${act("new_session")}.`;
    return this;
  }
}

/** 2001: out of credits; anonymous users get a registration link. */
export class NoCreditsError extends NemoError {
  override name = "NoCreditsError";
  override readonly kind: NemoErrorKind = "no_credits";
  readonly registrationUrl: string | undefined;

  constructor(context: ErrorContext, detail = "", status?: number) {
    const web = context.webUrl ?? "https://nemovideo.com";
    const url =
      !context.userToken && context.userId
        ? `${web}/register?bind=${encodeURIComponent(context.userId)}`
        : !context.userToken
          ? `${web}/register`
          : undefined;
    super(`NemoVideo error 2001 (${CODE_LABEL[2001]})${detail}.`, {
      code: 2001,
      status,
      nextStep: url
        ? `Register for free to get more credits and keep this work: ${url}`
        : "Top up credits in your NemoVideo account, then try again.",
    });
    this.registrationUrl = url;
  }
}

/** True for errors raised because an AbortSignal fired. */
export function isAbortError(err: unknown): boolean {
  return (
    err instanceof CancelledError ||
    (err instanceof Error && (err.name === "AbortError" || (err as { code?: string }).code === "ABORT_ERR"))
  );
}

/** "cause. Next step": a full stop after the cause when it has no closing punctuation of its own. */
export function withNextStep(message: string, nextStep: string | undefined): string {
  if (!nextStep) return message;
  const closed = /[.!?。！？]$/.test(message.trimEnd());
  return `${message.trimEnd()}${closed ? "" : "."} ${nextStep}`;
}
