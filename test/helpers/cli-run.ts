import { type ChildProcess, spawn } from "node:child_process";
import { CLI } from "./paths.js";

/** How one run of the built CLI ended. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A CLI process still running, with its output so far. */
export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stderr contains `pattern` (rejects after `timeoutMs` or when the process ends first). */
  waitForStderr: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
  done: Promise<CliRun>;
}

/** Starts `node dist/cli.js ...args` with exactly `env` (nothing inherited but PATH). */
export function startCli(args: string[], env: Record<string, string>, cwd: string): CliProcess {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
    for (const wake of waiters) wake();
  });
  const done = new Promise<CliRun>((resolveRun, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      for (const wake of waiters) wake();
      resolveRun({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  const waitForStderr = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<void>((resolveWait, reject) => {
      const check = () => {
        if (pattern.test(stderr)) {
          finish();
          resolveWait();
        } else if (exited || child.exitCode !== null) {
          finish();
          reject(new Error(`the CLI exited before stderr matched ${pattern}; stderr:\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`stderr did not match ${pattern} within ${timeoutMs} ms; stderr:\n${stderr}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, waitForStderr, done };
}

/** Runs the built CLI to the end. */
export function runCli(args: string[], env: Record<string, string>, cwd: string): Promise<CliRun> {
  return startCli(args, env, cwd).done;
}
