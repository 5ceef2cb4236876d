import type { StoredSession, StateStore } from "../client/store.js";
import { type ExportRecord, ExportRecordSchema, type TurnRecord, TurnRecordSchema } from "./records.js";
import type { JobStore } from "./store.js";

/**
 * The job store of one machine: records as files in the state directory (`jobs/<id>.json`, 0600),
 * current sessions in `sessions.json`, and the running-turn guard in memory and on disk (`jobs/guard-<session>.json`),
 * so that a turn an ended process left running keeps its session until it has been recovered.
 */
export class StateDirJobStore implements JobStore {
  private readonly running = new Map<string, string>();

  constructor(private readonly state: StateStore) {}

  async saveTurn(record: TurnRecord): Promise<void> {
    await this.state.saveJob(record.turn_id, record);
  }

  async loadTurn(turnId: string): Promise<TurnRecord | undefined> {
    const parsed = TurnRecordSchema.safeParse(await this.state.loadJob(turnId));
    return parsed.success ? parsed.data : undefined;
  }

  async saveExport(record: ExportRecord): Promise<void> {
    for (const id of record.render_ids) await this.state.saveJob(id, record);
  }

  async loadExport(renderId: string): Promise<ExportRecord | undefined> {
    const parsed = ExportRecordSchema.safeParse(await this.state.loadJob(renderId));
    return parsed.success ? parsed.data : undefined;
  }

  async claimTurn(sessionId: string, turnId: string): Promise<string | undefined> {
    const holder = this.running.get(sessionId);
    if (holder !== undefined && holder !== turnId) return holder;
    // A guard saved by an earlier process holds while its turn's record still says running.
    const saved = holder === undefined ? await this.savedGuard(sessionId) : undefined;
    if (saved !== undefined && saved !== turnId && (await this.loadTurn(saved))?.status === "running") {
      return saved;
    }
    this.running.set(sessionId, turnId);
    if (saved !== turnId) await this.state.saveJob(guardName(sessionId), { kind: "guard", turn_id: turnId });
    return undefined;
  }

  async releaseTurn(sessionId: string, turnId: string): Promise<void> {
    if (this.running.get(sessionId) === turnId) this.running.delete(sessionId);
    if ((await this.savedGuard(sessionId)) === turnId) {
      await this.state.saveJob(guardName(sessionId), { kind: "guard" });
    }
  }

  private async savedGuard(sessionId: string): Promise<string | undefined> {
    const record = (await this.state.loadJob(guardName(sessionId))) as { turn_id?: unknown } | undefined;
    return typeof record?.turn_id === "string" ? record.turn_id : undefined;
  }

  getSession(apiUrl: string, skill: string): Promise<StoredSession | undefined> {
    return this.state.getSession(apiUrl, skill);
  }

  setSession(apiUrl: string, skill: string, session: StoredSession | undefined): Promise<void> {
    return this.state.setSession(apiUrl, skill, session);
  }

  flush(): Promise<void> {
    return this.state.flush();
  }
}

function guardName(sessionId: string): string {
  return `guard-${sessionId}`;
}
