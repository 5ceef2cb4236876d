import type { SessionStore } from "../client/sessions.js";
import type { ExportRecord, TurnRecord } from "./records.js";

/**
 * Where the job layer keeps what must outlive one call or one process: job records, the current
 * session per (API, skill), and the guard that lets one turn at a time run per session. Every
 * method is async so that a shared store (Redis) can implement it; tools and commands never see it.
 */
export interface JobStore extends SessionStore {
  /** Saves (replaces) a turn record under its turn id. */
  saveTurn(record: TurnRecord): Promise<void>;
  /** The turn record saved under `turnId`, or undefined (unknown, unreadable, or another kind). */
  loadTurn(turnId: string): Promise<TurnRecord | undefined>;
  /** Saves (replaces) an export record under every one of its `render_ids`. */
  saveExport(record: ExportRecord): Promise<void>;
  /** The export record saved under `renderId`, or undefined. */
  loadExport(renderId: string): Promise<ExportRecord | undefined>;
  /**
   * Claims the session for a turn: undefined when `turnId` now holds it, else the id of the turn
   * that still holds it (which must finish or be cancelled before another message is sent).
   */
  claimTurn(sessionId: string, turnId: string): Promise<string | undefined>;
  /** Releases the session's claim if `turnId` holds it. */
  releaseTurn(sessionId: string, turnId: string): Promise<void>;
  /** Resolves once every write queued so far has finished (before the process exits). */
  flush(): Promise<void>;
}
