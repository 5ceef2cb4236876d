import { randomUUID } from "node:crypto";
import {
  chmod,
  copyFile,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { withLockFile } from "./lock.js";
import { type CachedToken, type StoredSession, sessionsFile, tokensFile } from "./store-records.js";

export type { CachedToken, StoredSession } from "./store-records.js";

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How long a token lock may be held before another process breaks it (a token request with its 429 wait). */
const TOKEN_LOCK_STALE_MS = 120_000;

/**
 * The state directory (mode 0700; files 0600): the client id shared with NemoVideo's own skill,
 * cached tokens and current sessions per API base URL, and background jobs.
 */
export class StateStore {
  private ready: Promise<void> | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  private clientIdOnce: Promise<string> | undefined;
  private readonly warned = new Set<string>();

  /** `warn` hears once about every state file that cannot be read or written. */
  constructor(
    readonly dir: string,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /** Warns once per key, so a read-only folder does not flood the log. */
  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(message);
  }

  /** Warns that a state file could not be written; what it held is kept in memory for this run. */
  private writeFailed(name: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    this.warnOnce(
      `write:${name}`,
      `Cannot write ${join(this.dir, name)} (${code}): it is kept in memory until the server stops. ` +
        `Make the folder ${this.dir} writable, or set NEMO_STATE_DIR to a writable folder.`,
    );
  }

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
    parse: (raw: Record<string, unknown>, dropped: string[]) => T,
    change: (all: T) => void,
  ): Promise<void> {
    return this.serialised(async () => {
      const all = await this.readRecords(name, parse);
      change(all);
      try {
        await this.writeNow(name, `${JSON.stringify(all, null, 2)}\n`);
      } catch (err) {
        this.writeFailed(name, err);
      }
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
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      throw new Error(
        `Cannot read the state file ${join(this.dir, name)} (${code ?? (err as Error).message}). ` +
          "Remove or repair it, or set NEMO_STATE_DIR to another folder.",
        { cause: err },
      );
    }
  }

  /**
   * Reads a JSON map of records, keeping every readable entry: unreadable entries and files are
   * dropped with a warning naming them (a damaged file is copied aside as `<name>.bad`).
   */
  private async readRecords<T>(
    name: string,
    parse: (raw: Record<string, unknown>, dropped: string[]) => T,
  ): Promise<T> {
    let text: string | undefined;
    try {
      text = await this.readFile(name);
    } catch (err) {
      this.warnOnce(`read:${name}`, `${(err as Error).message} Going on without it.`);
      return parse({}, []);
    }
    if (text === undefined) return parse({}, []);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      raw = undefined;
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      const path = join(this.dir, name);
      await copyFile(path, `${path}.bad`).catch(() => {});
      this.warnOnce(
        `bad:${name}:${text.length}`,
        `The state file ${path} is damaged (not a JSON object) and was ignored; a copy is kept as ${name}.bad.`,
      );
      return parse({}, []);
    }
    const dropped: string[] = [];
    const records = parse(raw as Record<string, unknown>, dropped);
    if (dropped.length > 0) {
      this.warnOnce(
        `drop:${name}:${dropped.join(",")}`,
        `Ignored unreadable entries of ${join(this.dir, name)}: ${dropped.join(", ")}; the other entries are kept.`,
      );
    }
    return records;
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
    const existing = await this.readClientId();
    if (existing) return existing;
    // Exclusive create (a complete temp file hard-linked into place), then re-read: when several processes
    // start on a fresh folder, they all end up with the one id that was linked first.
    const id = randomUUID();
    const target = join(this.dir, "client_id");
    const tmp = `${target}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    try {
      await this.ensureDir();
      await writeFile(tmp, `${id}\n`, { mode: 0o600 });
      await link(tmp, target);
      return id;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") {
        const winner = await this.readClientId();
        if (winner) return winner;
        return this.writeClientId(); // the file holds no valid id: replace it
      }
      this.writeFailed("client_id", err);
      return id;
    } finally {
      await rm(tmp, { force: true }).catch(() => {});
    }
  }

  private async readClientId(): Promise<string | undefined> {
    const existing = (await this.readFile("client_id").catch(() => undefined))?.trim();
    return existing && UUID_PATTERN.test(existing) ? existing : undefined;
  }

  /** Replaces the client id (after the backend refused it) and returns the new one. */
  resetClientId(): Promise<string> {
    this.clientIdOnce = this.writeClientId();
    return this.clientIdOnce;
  }

  private async writeClientId(): Promise<string> {
    const id = randomUUID();
    await this.writeFile("client_id", `${id}\n`).catch((err: unknown) => this.writeFailed("client_id", err));
    return id;
  }

  /** The cached anonymous token for an API base URL. */
  async getToken(apiUrl: string): Promise<CachedToken | undefined> {
    const all = await this.readRecords("token.json", tokensFile);
    return all[apiUrl];
  }

  /**
   * Runs `task` (read the cache, else request a token) as the only process of this state directory
   * doing so, so that processes starting together make one token request, not one each.
   */
  withTokenLock<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return (async () => {
      await this.ensureDir().catch(() => {});
      return withLockFile(join(this.dir, "token.lock"), { staleMs: TOKEN_LOCK_STALE_MS, signal }, task);
    })();
  }

  /** Stores (or, with undefined, forgets) the token of an API base URL; a failed write is warned about. */
  async setToken(apiUrl: string, token: CachedToken | undefined): Promise<void> {
    await this.update("token.json", tokensFile, (all) => {
      if (token) all[apiUrl] = token;
      else delete all[apiUrl];
    });
  }

  /** The current session of a skill against an API base URL. */
  async getSession(apiUrl: string, skill: string): Promise<StoredSession | undefined> {
    const all = await this.readRecords("sessions.json", sessionsFile);
    return all[apiUrl]?.[skill];
  }

  /** Stores the current session of a skill, for the next start; a failed write is warned about. */
  async setSession(apiUrl: string, skill: string, session: StoredSession | undefined): Promise<void> {
    await this.update("sessions.json", sessionsFile, (all) => {
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
