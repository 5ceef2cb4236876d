import { randomBytes, randomUUID } from "node:crypto";
import { type Draft, emptyDraft, toDraft } from "./draft.js";

/** Credits of one account; `total` is always `available + frozen`. */
export interface CreditBalance {
  available: number;
  frozen: number;
  total: number;
}

/** An anonymous user. One client id maps to one account, so a refreshed token keeps its sessions and credits. */
export interface AccountRecord {
  userId: string;
  clientId: string;
  registered: false;
  credits: CreditBalance;
}

/** A bearer token and the account it opens. */
export interface TokenRecord {
  token: string;
  userId: string;
  clientId: string;
  expiresAt: number;
}

/** A file accepted by the upload endpoint (metadata only: bytes are never kept). */
export interface UploadedFile {
  filename: string;
  file_type: "video" | "image" | "audio" | "document";
  cdn_url: string;
  duration?: number;
  width?: number;
  height?: number;
  fps?: number;
  hash: string;
  size?: number;
}

/** A task with its agent session and timeline. */
export interface SessionRecord {
  taskId: string;
  sessionId: string;
  userId: string;
  taskName: string;
  language: string;
  /** Whatever was last stored; normalised with `toDraft` before the sandbox edits it. */
  draft: unknown;
  videoInfos: unknown[];
  generatedMedia: unknown[];
  uploads: UploadedFile[];
  /** Next segment number, for `seg_<n>` ids. */
  segmentSeq: number;
  /** The agent asked a question (`ask_question`) and the next message is its answer. */
  pendingQuestion?: { id: string; options: string[] };
}

/** Where a sandbox render job stands. */
export type RenderStatus = "pending" | "processing" | "completed" | "failed" | "cancelled";

/** An export job. */
export interface RenderRecord {
  id: string;
  sessionId: string;
  polls: number;
  status: RenderStatus;
  progress: number;
  /** Decided at submission by `failNextRenders`. */
  fails: boolean;
  /** Duration of the rendered video in seconds (from the submitted draft). */
  duration: number;
  error?: string;
  createdAt: number;
}

/** Shapes of the render status response: `{code,data}`, `{success,data}` or fields at the top level. */
export type RenderStatusStyle = "standard" | "success" | "top";

/** A short random string of lowercase hex. */
export function randomId(bytes = 8): string {
  return randomBytes(bytes).toString("hex");
}

/** Everything the sandbox remembers, with knobs tests turn to provoke client recovery paths. */
export class SandboxState {
  readonly accounts = new Map<string, AccountRecord>();
  readonly tokens = new Map<string, TokenRecord>();
  /** Tokens issued per client id, oldest first. */
  readonly tokensByClient = new Map<string, string[]>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly renders = new Map<string, RenderRecord>();
  /** Which response shape `GET /api/render/proxy/lambda/<id>` uses. */
  renderStatusStyle: RenderStatusStyle = "standard";
  /** Completed renders carry no output URL, so clients must use the fallback download endpoint. */
  omitOutputUrl = false;
  /** Requests that reached `POST /api/auth/anonymous-token` (faulted ones included). */
  tokenRequests = 0;
  /** Requests that reached `POST /run_sse` (faulted ones included). */
  runSseRequests = 0;
  private failuresLeft = 0;

  /** Issues a token for a client id; the client's account is created on first use with `credits`. */
  issueToken(
    clientId: string,
    credits: number,
    ttlMs: number,
  ): { token: TokenRecord; account: AccountRecord } {
    let account = [...this.accounts.values()].find((a) => a.clientId === clientId);
    if (!account) {
      account = {
        userId: `anon_${randomId(6)}`,
        clientId,
        registered: false,
        credits: { available: credits, frozen: 0, total: credits },
      };
      this.accounts.set(account.userId, account);
    }
    const token: TokenRecord = {
      token: `nmv_usr_${randomId(16)}`,
      userId: account.userId,
      clientId,
      expiresAt: Date.now() + ttlMs,
    };
    this.tokens.set(token.token, token);
    this.tokensByClient.set(clientId, [...(this.tokensByClient.get(clientId) ?? []), token.token]);
    return { token, account };
  }

  /** The account a token opens, or undefined when the token is unknown or expired. */
  authenticate(token: string): AccountRecord | undefined {
    const record = this.tokens.get(token);
    if (!record || record.expiresAt <= Date.now()) return undefined;
    return this.accounts.get(record.userId);
  }

  /** Makes one token fail with 1001 from now on. */
  expireToken(token: string): void {
    const record = this.tokens.get(token);
    if (!record) throw new Error(`sandbox: unknown token ${token.slice(0, 12)}…`);
    record.expiresAt = Date.now() - 1;
  }

  /** Makes every issued token fail with 1001 from now on. */
  expireAllTokens(): void {
    for (const record of this.tokens.values()) record.expiresAt = Date.now() - 1;
  }

  /** Sets the available credits of one token's account, or of every account. */
  setCredits(target: string, available: number): void {
    const accounts =
      target === "all"
        ? [...this.accounts.values()]
        : [this.accountOf(target)].filter((a) => a !== undefined);
    if (accounts.length === 0 && target !== "all") throw new Error("sandbox: unknown token");
    for (const account of accounts) {
      account.credits.available = available;
      account.credits.total = available + account.credits.frozen;
    }
  }

  /** The account behind a token, expired or not. */
  accountOf(token: string): AccountRecord | undefined {
    const record = this.tokens.get(token);
    return record ? this.accounts.get(record.userId) : undefined;
  }

  /** Reserves credits for work in progress. */
  freeze(account: AccountRecord, amount: number): void {
    account.credits.available -= amount;
    account.credits.frozen += amount;
  }

  /** Turns reserved credits into spent ones. */
  settle(account: AccountRecord, amount: number): void {
    account.credits.frozen = Math.max(0, account.credits.frozen - amount);
    account.credits.total = account.credits.available + account.credits.frozen;
  }

  /** Spends credits at once (never below zero). */
  spend(account: AccountRecord, amount: number): void {
    account.credits.available = Math.max(0, account.credits.available - amount);
    account.credits.total = account.credits.available + account.credits.frozen;
  }

  createSession(userId: string, taskName: string, language: string): SessionRecord {
    const session: SessionRecord = {
      taskId: randomUUID(),
      sessionId: randomUUID(),
      userId,
      taskName,
      language,
      draft: emptyDraft(),
      videoInfos: [],
      generatedMedia: [],
      uploads: [],
      segmentSeq: 1,
    };
    this.sessions.set(session.sessionId, session);
    return session;
  }

  /** The session when it exists and, if `userId` is given, belongs to that user. */
  getSession(sessionId: string, userId?: string): SessionRecord | undefined {
    const session = this.sessions.get(sessionId);
    if (!session || (userId !== undefined && session.userId !== userId)) return undefined;
    return session;
  }

  /** Forgets a session, so its endpoints answer 1002. */
  deleteSession(sessionId: string): boolean {
    return this.sessions.delete(sessionId);
  }

  /** A copy of the session's draft, or undefined for an unknown session. */
  getDraft(sessionId: string): unknown {
    const session = this.sessions.get(sessionId);
    return session ? structuredClone(session.draft) : undefined;
  }

  /** Replaces the session's draft (stored as given, even when oddly shaped). */
  setDraft(sessionId: string, draft: unknown): void {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`sandbox: unknown session ${sessionId}`);
    session.draft = structuredClone(draft);
  }

  /** The session's draft, normalised, for the sandbox to edit and store back with `setDraft`. */
  editableDraft(session: SessionRecord): Draft {
    return toDraft(session.draft);
  }

  /** Makes the next `n` submitted renders end `failed`. */
  failNextRenders(n: number): void {
    this.failuresLeft = n;
  }

  /** Consumes one pending render failure. */
  takeRenderFailure(): boolean {
    if (this.failuresLeft <= 0) return false;
    this.failuresLeft -= 1;
    return true;
  }
}
