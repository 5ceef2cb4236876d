import type { NemoClient } from "./client.js";
import { SessionNotFoundError } from "./errors.js";
import { ClaimTokenSchema, SessionSchema } from "./schemas.js";
import { waitShared } from "./poll.js";
import type { StoredSession } from "./store.js";

/** A NemoVideo editing session. */
export interface Session {
  sessionId: string;
  taskId: string;
  userId?: string | undefined;
  language: string;
}

/** Where the current session of each (API base URL, skill) is kept. */
export interface SessionStore {
  /** The current session of `skill` against `apiUrl`. */
  getSession(apiUrl: string, skill: string): Promise<StoredSession | undefined>;
  /** Makes `session` current (undefined forgets it). */
  setSession(apiUrl: string, skill: string, session: StoredSession | undefined): Promise<void>;
}

/** How a Sessions instance keeps the current session. */
export interface SessionsOptions {
  /**
   * One local user (stdio, CLI): the current session belongs to this process once resolved. It is read
   * from the store at first need and written there for the next start, but another process changing the
   * store never switches it. Off (hosted), the store is read every time and is the one truth.
   */
  pinCurrent?: boolean;
}

/** Claim links kept per process (oldest dropped first). */
const MAX_LINKS = 100;
const DAY_SECONDS = 24 * 60 * 60;

/**
 * Creates sessions, makes claim links, and keeps one current session per skill. A vanished current
 * session (1002) is replaced explicitly, never silently; an unknown explicit id changes nothing.
 */
export class Sessions {
  private creating: Promise<Session> | undefined;
  private mine: Session | undefined;
  private loaded: Promise<Session | undefined> | undefined;
  /** Claim links by session id, reused for half their life. */
  private readonly links = new Map<string, { link: string; expiresAt: number }>();

  private readonly store: SessionStore;

  private readonly pin: boolean;

  constructor(
    private readonly client: NemoClient,
    store: SessionStore,
    options: SessionsOptions = {},
  ) {
    this.store = store;
    this.pin = options.pinCurrent === true;
  }

  /** Creates a new session and makes it the current one for the active skill. */
  async create(language = "en", signal?: AbortSignal): Promise<Session> {
    const data = await this.client.call({
      method: "POST",
      path: "/api/tasks/me/with-session/nemo_agent",
      json: { task_name: "project", language },
      signal,
      schema: SessionSchema,
    });
    const session: Session = {
      sessionId: data.session_id,
      taskId: data.task_id,
      userId: data.user_id,
      language,
    };
    if (this.pin) this.mine = session;
    const stored: StoredSession = { ...session, createdAt: Date.now() };
    await this.store.setSession(this.client.apiUrl, this.client.skill.name, stored);
    this.client.logger.info(`Created session ${session.sessionId}.`);
    return session;
  }

  /** The current session of the active skill (pinned: this process's own, else the one the last run left). */
  async current(): Promise<Session | undefined> {
    if (!this.pin) return this.load();
    if (this.mine) return this.mine;
    this.loaded ??= this.load().finally(() => {
      this.loaded = undefined;
    });
    const stored = await this.loaded;
    this.mine ??= stored;
    return this.mine;
  }

  /** True when `sessionId` is the current session. */
  async isCurrent(sessionId: string): Promise<boolean> {
    return (await this.current().catch(() => undefined))?.sessionId === sessionId;
  }

  private async load(): Promise<Session | undefined> {
    const stored = await this.store.getSession(this.client.apiUrl, this.client.skill.name);
    if (!stored) return undefined;
    return {
      sessionId: stored.sessionId,
      taskId: stored.taskId,
      userId: stored.userId,
      language: stored.language,
    };
  }

  /**
   * The given session id, else the current session, else a new one in `language` (created once for concurrent
   * callers).
   */
  async resolve(sessionId?: string, signal?: AbortSignal, language = "en"): Promise<Session> {
    if (sessionId) {
      const current = await this.current();
      if (current?.sessionId === sessionId) return current;
      return { sessionId, taskId: "", language: "en" };
    }
    const current = await this.current();
    if (current) return current;
    // Shared by concurrent callers, so it does not follow any one caller's signal.
    this.creating ??= this.create(language).finally(() => {
      this.creating = undefined;
    });
    return waitShared(this.creating, signal);
  }

  /**
   * The browser link that opens the session's project in the NemoVideo web app; the same link until it
   * is close to expiring, so a person does not get a new one on every call.
   */
  async claimLink(session: Session, signal?: AbortSignal): Promise<string> {
    const known = this.links.get(session.sessionId);
    if (known && known.expiresAt > Date.now()) return known.link;
    const data = await this.client.call({
      method: "POST",
      path: "/api/auth/claim-token",
      json: { task_id: session.taskId, session_id: session.sessionId },
      signal,
      schema: ClaimTokenSchema,
    });
    const link = `${this.client.webUrl}/workspace/claim?ct=${encodeURIComponent(data.claim_token)}`;
    const lifeMs = (data.expires_in ?? DAY_SECONDS) * 1000;
    this.links.delete(session.sessionId);
    this.links.set(session.sessionId, { link, expiresAt: Date.now() + lifeMs / 2 });
    if (this.links.size > MAX_LINKS) this.links.delete(this.links.keys().next().value as string);
    return link;
  }

  /**
   * Runs `work` in a session. When the backend says the current session is gone (1002), a new session is
   * created and made current, and the error is rewritten to say so; the work is not re-run, since
   * the old timeline it relied on no longer exists. An explicit id that is not the current session and
   * does not exist is reported as unknown, and nothing changes.
   */
  async run<T>(
    sessionId: string | undefined,
    work: (session: Session) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const session = await this.resolve(sessionId, signal);
    try {
      return await work(session);
    } catch (err) {
      if (err instanceof SessionNotFoundError) await this.vanished(err, session, signal);
      throw err;
    }
  }

  /** Words a 1002 for `session`: replaces the current session, or names an unknown explicit id. */
  async vanished(
    err: SessionNotFoundError,
    session: Pick<Session, "sessionId" | "language">,
    signal?: AbortSignal,
  ): Promise<void> {
    if (err.newSessionId || err.unknownId) return;
    if (!(await this.isCurrent(session.sessionId))) {
      err.unknown(session.sessionId);
      return;
    }
    const replacement = await this.create(session.language, signal).catch(() => undefined);
    if (replacement) err.replacedBy(session.sessionId, replacement.sessionId);
  }
}
