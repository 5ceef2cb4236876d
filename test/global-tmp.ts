import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Vitest global setup: the whole run (its workers and every child process they start) makes its temp
 * folders under one fresh directory, removed at the end, so no `nemo-*` state folder outlives the run.
 * Every project runs this setup: the first one makes the directory, the others reuse it (nesting one
 * folder per project would make paths too long for Chromium's socket).
 */
export function setup(): () => void {
  if (process.env.NEMO_TEST_RUN_TMP) return () => {};
  const root = mkdtempSync(join(tmpdir(), "nemo-test-run-"));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  process.env.NEMO_TEST_RUN_TMP = root;
  return () => {
    delete process.env.NEMO_TEST_RUN_TMP;
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
