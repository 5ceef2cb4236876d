import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/** Our own temp files: downloads (`.<name>.<12 hex>.part`) and state writes (`<name>.<pid>.<8 hex>.tmp`). */
const OWN_TEMP = [/^\..+\.[0-9a-f]{12}\.part$/, /\.\d+\.[0-9a-f]{8}\.tmp$/];

/**
 * Removes this program's temp files left in `dirs` by a process that was killed (kill -9 mid-download
 * leaves a hidden `.part`), when untouched for `maxAgeMs`: a live download writes its file continuously.
 * Returns the paths removed.
 */
export async function removeStaleTempFiles(
  dirs: string[],
  maxAgeMs: number,
  now = Date.now(),
): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!OWN_TEMP.some((pattern) => pattern.test(name))) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile() || now - info.mtimeMs < maxAgeMs) continue;
      await rm(path, { force: true }).catch(() => {});
      removed.push(path);
    }
  }
  return removed;
}
