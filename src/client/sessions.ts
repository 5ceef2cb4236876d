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

/**
 * Creates sessions, makes claim links, and keeps one current session per skill in the state
 * directory. A session that vanished (1002) is replaced explicitly, never silently.
 */
export class Sessions {
  private creating: Promise<Session> | undefined;

  private readonly store: SessionStore;

  constructor(
    private readonly client: NemoClient,
    store?: SessionStore,
  ) {
    this.store = store ?? client.store;
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
    this.client.noteUserId(data.user_id);
    const session: Session = {
      sessionId: data.session_id,
      taskId: data.task_id,
      userId: data.user_id,
      language,
    };
    const stored: StoredSession = { ...session, createdAt: Date.now() };
    await this.store.setSession(this.client.apiUrl, this.client.skill.name, stored);
    this.client.logger.info(`Created session ${session.sessionId}.`);
    return session;
  }

  /** The current session of the active skill, if one was persisted. */
  async current(): Promise<Session | undefined> {
    const stored = await this.store.getSession(this.client.apiUrl, this.client.skill.name);
    if (!stored) return undefined;
    this.client.noteUserId(stored.userId);
    return {
      sessionId: stored.sessionId,
      taskId: stored.taskId,
      userId: stored.userId,
      language: stored.language,
    };
  }

  /** The given session id, else the current session, else a new one (created once for concurrent callers). */
  async resolve(sessionId?: string, signal?: AbortSignal): Promise<Session> {
    if (sessionId) {
      const current = await this.current();
      if (current?.sessionId === sessionId) return current;
      return { sessionId, taskId: "", language: "en" };
    }
    const current = await this.current();
    if (current) return current;
    // Shared by concurrent callers, so it does not follow any one caller's signal.
    this.creating ??= this.create("en").finally(() => {
      this.creating = undefined;
    });
    return waitShared(this.creating, signal);
  }

  /** The browser link that opens the session's project in the NemoVideo web app. */
  async claimLink(session: Session, signal?: AbortSignal): Promise<string> {
    const data = await this.client.call({
      method: "POST",
      path: "/api/auth/claim-token",
      json: { task_id: session.taskId, session_id: session.sessionId },
      signal,
      schema: ClaimTokenSchema,
    });
    return `${this.client.webUrl}/workspace/claim?ct=${encodeURIComponent(data.claim_token)}`;
  }

  /**
   * Runs `work` in a session. When the backend says the session is gone (1002), a new session is
   * created and made current, and the error is rewritten to say so; the work is not re-run, since
   * the old timeline it relied on no longer exists.
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
      if (!(err instanceof SessionNotFoundError) || err.newSessionId) throw err;
      const replacement = await this.create(session.language, signal).catch(() => undefined);
      if (replacement) err.replacedBy(session.sessionId, replacement.sessionId);
      throw err;
    }
  }
}
