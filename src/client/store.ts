import { randomUUID } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

/** A cached anonymous token, as kept in the state directory. */
export interface CachedToken {
  token: string;
  userId?: string | undefined;
  /** Epoch ms after which the token is not used. */
  expiresAt: number;
  clientId: string;
}

/** The session a skill works in when no session_id is given. */
export interface StoredSession {
  sessionId: string;
  taskId: string;
  userId?: string | undefined;
  language: string;
  createdAt: number;
}

const CachedTokenSchema = z.object({
  token: z.string().min(1),
  userId: z.string().optional(),
  expiresAt: z.number(),
  clientId: z.string(),
});
const StoredSessionSchema = z.object({
  sessionId: z.string().min(1),
  taskId: z.string(),
  userId: z.string().optional(),
  language: z.string().default("en"),
  createdAt: z.number().default(0),
});
const TokensFileSchema = z.record(z.string(), CachedTokenSchema);
const SessionsFileSchema = z.record(z.string(), z.record(z.string(), StoredSessionSchema));

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The state directory (mode 0700; files 0600): the client id shared with NemoVideo's own skill,
 * cached tokens and current sessions per API base URL, and background jobs.
 */
export class StateStore {
  private ready: Promise<void> | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  private clientIdOnce: Promise<string> | undefined;

  constructor(readonly dir: string) {}

  private ensureDir(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await chmod(this.dir, 0o700).catch(() => {});
    })();
    return this.ready;
  }

  /** Writes a file atomically (temp + rename) with mode 0600; writes are serialised. */
  writeFile(name: string, content: string): Promise<void> {
    return this.serialised(() => this.writeNow(name, content));
  }

  /** Runs `task` after every earlier write (and update) has finished. */
  private serialised<T>(task: () => Promise<T>): Promise<T> {
    const next = this.writes.then(task, task);
    this.writes = next.catch(() => {});
    return next;
  }

  /** Read-modify-write of a JSON file as one serialised step, so concurrent updates never lose each other. */
  private update<T>(
    name: string,
    schema: z.ZodType<T>,
    fallback: T,
    change: (all: T) => void,
  ): Promise<void> {
    return this.serialised(async () => {
      const all = await this.readJson(name, schema, fallback);
      change(all);
      await this.writeNow(name, `${JSON.stringify(all, null, 2)}\n`);
    });
  }

  private async writeNow(name: string, content: string): Promise<void> {
    await this.ensureDir();
    const target = join(this.dir, name);
    await mkdir(join(target, ".."), { recursive: true, mode: 0o700 });
    const tmp = `${target}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    try {
      await writeFile(tmp, content, { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Resolves once every write queued so far has finished (before the process exits). */
  async flush(): Promise<void> {
    await this.writes;
  }

  /** Reads a file of the state directory, or undefined when it does not exist. */
  async readFile(name: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.dir, name), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  private async readJson<T>(name: string, schema: z.ZodType<T>, fallback: T): Promise<T> {
    const text = await this.readFile(name);
    if (text === undefined) return fallback;
    try {
      const parsed = schema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : fallback;
    } catch {
      return fallback;
    }
  }

  /** The persisted client id (plain UUID in `client_id`), created once for concurrent first callers. */
  clientId(): Promise<string> {
    this.clientIdOnce ??= this.loadClientId();
    this.clientIdOnce.catch(() => {
      this.clientIdOnce = undefined;
    });
    return this.clientIdOnce;
  }

  private async loadClientId(): Promise<string> {
    const existing = (await this.readFile("client_id"))?.trim();
    if (existing && UUID_PATTERN.test(existing)) return existing;
    return this.writeClientId();
  }

  /** Replaces the client id (after the backend refused it) and returns the new one. */
  resetClientId(): Promise<string> {
    this.clientIdOnce = this.writeClientId();
    return this.clientIdOnce;
  }

  private async writeClientId(): Promise<string> {
    const id = randomUUID();
    await this.writeFile("client_id", `${id}\n`);
    return id;
  }

  /** The cached anonymous token for an API base URL. */
  async getToken(apiUrl: string): Promise<CachedToken | undefined> {
    const all = await this.readJson("token.json", TokensFileSchema, {});
    return all[apiUrl];
  }

  async setToken(apiUrl: string, token: CachedToken | undefined): Promise<void> {
    await this.update("token.json", TokensFileSchema, {}, (all) => {
      if (token) all[apiUrl] = token;
      else delete all[apiUrl];
    });
  }

  /** The current session of a skill against an API base URL. */
  async getSession(apiUrl: string, skill: string): Promise<StoredSession | undefined> {
    const all = await this.readJson("sessions.json", SessionsFileSchema, {});
    return all[apiUrl]?.[skill];
  }

  async setSession(apiUrl: string, skill: string, session: StoredSession | undefined): Promise<void> {
    await this.update("sessions.json", SessionsFileSchema, {}, (all) => {
      const forApi = all[apiUrl] ?? {};
      if (session) forApi[skill] = session;
      else delete forApi[skill];
      all[apiUrl] = forApi;
    });
  }

  /** Saves a background job record under `jobs/<id>.json`. */
  async saveJob(id: string, record: unknown): Promise<void> {
    await this.writeFile(join("jobs", `${safeName(id)}.json`), `${JSON.stringify(record, null, 2)}\n`);
  }

  async loadJob(id: string): Promise<unknown> {
    const text = await this.readFile(join("jobs", `${safeName(id)}.json`));
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  /** Deletes job records not touched for `maxAgeMs` (finished work need not be kept forever). */
  async pruneJobs(maxAgeMs: number, now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, "jobs"));
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const path = join(this.dir, "jobs", name);
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > maxAgeMs) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Every saved job record. */
  async listJobs(): Promise<unknown[]> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, "jobs"));
    } catch {
      return [];
    }
    const out: unknown[] = [];
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const job = await this.loadJob(name.slice(0, -5));
      if (job !== undefined) out.push(job);
    }
    return out;
  }
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, "_");
}
