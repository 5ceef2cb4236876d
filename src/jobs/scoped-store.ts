import type { StoredSession } from "../client/store.js";
import type { ExportRecord, TurnRecord } from "./records.js";
import type { JobStore } from "./store.js";

/**
 * One user's view of a shared job store: every id and session key is prefixed with the owner (a
 * keyed hash of the user's token), so another user's turn, export or session reads as unknown.
 * Records keep their own ids; only where they are kept changes.
 */
export class ScopedJobStore implements JobStore {
  constructor(
    private readonly inner: JobStore,
    readonly owner: string,
  ) {}

  /** The store key of one of this owner's ids. */
  key(id: string): string {
    return `${this.owner}.${id}`;
  }

  private unkey(id: string): string {
    return id.startsWith(`${this.owner}.`) ? id.slice(this.owner.length + 1) : id;
  }

  saveTurn(record: TurnRecord): Promise<void> {
    return this.inner.saveTurn({ ...record, turn_id: this.key(record.turn_id) });
  }

  async loadTurn(turnId: string): Promise<TurnRecord | undefined> {
    const record = await this.inner.loadTurn(this.key(turnId));
    return record ? { ...record, turn_id: this.unkey(record.turn_id) } : undefined;
  }

  saveExport(record: ExportRecord): Promise<void> {
    return this.inner.saveExport({
      ...record,
      render_id: this.key(record.render_id),
      render_ids: record.render_ids.map((id) => this.key(id)),
    });
  }

  async loadExport(renderId: string): Promise<ExportRecord | undefined> {
    const record = await this.inner.loadExport(this.key(renderId));
    if (!record) return undefined;
    return {
      ...record,
      render_id: this.unkey(record.render_id),
      render_ids: record.render_ids.map((id) => this.unkey(id)),
    };
  }

  async claimTurn(sessionId: string, turnId: string): Promise<string | undefined> {
    const holder = await this.inner.claimTurn(this.key(sessionId), this.key(turnId));
    return holder === undefined ? undefined : this.unkey(holder);
  }

  releaseTurn(sessionId: string, turnId: string): Promise<void> {
    return this.inner.releaseTurn(this.key(sessionId), this.key(turnId));
  }

  getSession(apiUrl: string, skill: string): Promise<StoredSession | undefined> {
    return this.inner.getSession(apiUrl, this.key(skill));
  }

  setSession(apiUrl: string, skill: string, session: StoredSession | undefined): Promise<void> {
    return this.inner.setSession(apiUrl, this.key(skill), session);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }
}
