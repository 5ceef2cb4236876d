import type { StoredSession } from "../client/store.js";
import type { ExportRecord, TurnRecord } from "./records.js";
import type { JobStore } from "./store.js";

/** Records kept at most; the oldest are dropped first (finished work is of little use after a while). */
const MAX_RECORDS = 50_000;

/**
 * The job store of one hosted instance without Redis: records, current sessions and the
 * running-turn guard in this process's memory (bounded), gone when the process ends.
 */
export class MemoryJobStore implements JobStore {
  private readonly records = new Map<string, TurnRecord | ExportRecord>();
  private readonly sessions = new Map<string, StoredSession>();
  private readonly running = new Map<string, string>();

  private put(id: string, record: TurnRecord | ExportRecord): void {
    this.records.delete(id);
    this.records.set(id, structuredClone(record));
    if (this.records.size > MAX_RECORDS) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
  }

  async saveTurn(record: TurnRecord): Promise<void> {
    this.put(`turn:${record.turn_id}`, record);
  }

  async loadTurn(turnId: string): Promise<TurnRecord | undefined> {
    const record = this.records.get(`turn:${turnId}`);
    return record?.kind === "turn" ? structuredClone(record) : undefined;
  }

  async saveExport(record: ExportRecord): Promise<void> {
    for (const id of record.render_ids) this.put(`export:${id}`, record);
  }

  async loadExport(renderId: string): Promise<ExportRecord | undefined> {
    const record = this.records.get(`export:${renderId}`);
    return record?.kind === "export" ? structuredClone(record) : undefined;
  }

  async claimTurn(sessionId: string, turnId: string): Promise<string | undefined> {
    const holder = this.running.get(sessionId);
    if (holder !== undefined && holder !== turnId) return holder;
    this.running.set(sessionId, turnId);
    return undefined;
  }

  async releaseTurn(sessionId: string, turnId: string): Promise<void> {
    if (this.running.get(sessionId) === turnId) this.running.delete(sessionId);
  }

  async getSession(apiUrl: string, skill: string): Promise<StoredSession | undefined> {
    const session = this.sessions.get(`${apiUrl} ${skill}`);
    return session ? { ...session } : undefined;
  }

  async setSession(apiUrl: string, skill: string, session: StoredSession | undefined): Promise<void> {
    if (session) this.sessions.set(`${apiUrl} ${skill}`, { ...session });
    else this.sessions.delete(`${apiUrl} ${skill}`);
  }

  async flush(): Promise<void> {}
}
