import type { Redis } from "ioredis";
import type { StoredSession } from "../client/store.js";
import { StoredSessionSchema } from "../client/store-records.js";
import { type ExportRecord, ExportRecordSchema, type TurnRecord, TurnRecordSchema } from "./records.js";
import type { JobStore } from "./store.js";

/** Job records and current sessions are kept 30 days after their last change. */
const RECORD_TTL_S = 30 * 24 * 60 * 60;
/** A running-turn guard outlives any turn (stream limit + recovery); a takeover releases it sooner. */
const GUARD_TTL_S = 24 * 60 * 60;

/** Claims a session's guard: free, already ours, or held by a turn whose record says it has finished. */
const CLAIM_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return false
end
local record = redis.call('GET', ARGV[3] .. holder)
if record then
  local ok, parsed = pcall(cjson.decode, record)
  if ok and type(parsed) == 'table' and parsed['status'] ~= 'running' then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
    return false
  end
end
return holder
`;

/** Releases a session's guard only when `turnId` holds it. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * The job store shared by every instance: records (`<prefix>turn:<id>`, `<prefix>export:<id>`),
 * current sessions and running-turn guards in Redis. Keys hold ids and owner hashes, never a token.
 */
export class RedisJobStore implements JobStore {
  constructor(
    private readonly redis: Redis,
    readonly prefix = "nemo:",
  ) {}

  private async loadJson(key: string): Promise<unknown> {
    const text = await this.redis.get(key);
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  async saveTurn(record: TurnRecord): Promise<void> {
    await this.redis.set(`${this.prefix}turn:${record.turn_id}`, JSON.stringify(record), "EX", RECORD_TTL_S);
  }

  async loadTurn(turnId: string): Promise<TurnRecord | undefined> {
    const parsed = TurnRecordSchema.safeParse(await this.loadJson(`${this.prefix}turn:${turnId}`));
    return parsed.success ? parsed.data : undefined;
  }

  async saveExport(record: ExportRecord): Promise<void> {
    const text = JSON.stringify(record);
    const batch = this.redis.multi();
    for (const id of record.render_ids) batch.set(`${this.prefix}export:${id}`, text, "EX", RECORD_TTL_S);
    await batch.exec();
  }

  async loadExport(renderId: string): Promise<ExportRecord | undefined> {
    const parsed = ExportRecordSchema.safeParse(await this.loadJson(`${this.prefix}export:${renderId}`));
    return parsed.success ? parsed.data : undefined;
  }

  async claimTurn(sessionId: string, turnId: string): Promise<string | undefined> {
    const holder = await this.redis.eval(
      CLAIM_SCRIPT,
      1,
      `${this.prefix}guard:${sessionId}`,
      turnId,
      String(GUARD_TTL_S),
      `${this.prefix}turn:`,
    );
    return typeof holder === "string" ? holder : undefined;
  }

  async releaseTurn(sessionId: string, turnId: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, `${this.prefix}guard:${sessionId}`, turnId);
  }

  async getSession(apiUrl: string, skill: string): Promise<StoredSession | undefined> {
    const parsed = StoredSessionSchema.safeParse(await this.loadJson(this.sessionKey(apiUrl, skill)));
    return parsed.success ? parsed.data : undefined;
  }

  async setSession(apiUrl: string, skill: string, session: StoredSession | undefined): Promise<void> {
    const key = this.sessionKey(apiUrl, skill);
    if (session) await this.redis.set(key, JSON.stringify(session), "EX", RECORD_TTL_S);
    else await this.redis.del(key);
  }

  private sessionKey(apiUrl: string, skill: string): string {
    return `${this.prefix}session:${skill}@${apiUrl}`;
  }

  async flush(): Promise<void> {}
}
