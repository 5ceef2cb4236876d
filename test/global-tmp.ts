import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Vitest global setup: the whole run (its workers and every child process they start) makes its temp
 * folders under one fresh directory, removed at the end, so no `nemo-*` state folder outlives the run.
 */
export function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), "nemo-test-run-"));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
