import { randomUUID } from "node:crypto";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { sleep } from "./poll.js";

/** Options of a cross-process lock file. */
interface LockFileOptions {
  /** A lock older than this is taken to belong to a process that died, and is broken. */
  staleMs: number;
  /** Pause between attempts while another process holds the lock. */
  retryMs?: number;
  signal?: AbortSignal | undefined;
}

/**
 * Runs `task` while holding the lock file `path` (created exclusively), so that processes sharing one
 * state directory do the work one at a time. A lock left by a dead process is broken after `staleMs`.
 * When the lock cannot be created at all (a read-only folder), `task` runs without it.
 */
export async function withLockFile<T>(
  path: string,
  options: LockFileOptions,
  task: () => Promise<T>,
): Promise<T> {
  const owner = `${process.pid} ${randomUUID()}`;
  const retryMs = options.retryMs ?? 50;
  // Bounded: at most until a lock held by someone else would count as stale, twice over.
  const deadline = Date.now() + 2 * options.staleMs;
  let held = false;
  for (;;) {
    try {
      await writeFile(path, owner, { flag: "wx", mode: 0o600 });
      held = true;
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") break; // no lock possible here: go on without one
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > options.staleMs) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) break;
      await sleep(retryMs, options.signal);
    }
  }
  try {
    return await task();
  } finally {
    if (held) {
      const current = await readFile(path, "utf8").catch(() => undefined);
      if (current === owner) await rm(path, { force: true }).catch(() => {});
    }
  }
}
