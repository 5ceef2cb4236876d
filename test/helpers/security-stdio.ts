import { spawn } from "node:child_process";
import { CLI } from "./paths.js";

/** One line the server wrote to stdout, and what it parsed to (undefined when it was not JSON). */
export interface StdoutLine {
  raw: string;
  json: unknown;
}

/** A server process driven by hand over raw JSON-RPC lines (no SDK client in between). */
export interface RawStdioServer {
  /** Writes one line to the server's stdin (a JSON-RPC message, or anything else). */
  send: (line: string | Record<string, unknown>) => void;
  /** Resolves with the response to request `id` (rejects after `timeoutMs`). */
  response: (id: number | string, timeoutMs?: number) => Promise<Record<string, unknown>>;
  /** Every complete stdout line so far. */
  lines: () => StdoutLine[];
  /** stdout bytes after the last newline (should stay empty between messages). */
  partial: () => string;
  stderr: () => string;
  /** Closes stdin and resolves with the exit code once the process has ended (kills it after `timeoutMs`). */
  end: (timeoutMs?: number) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `node dist/cli.js` with exactly `env` (plus PATH) and reads its stdout line by line. */
export function startRawServer(env: Record<string, string>, cwd: string): RawStdioServer {
  const child = spawn(process.execPath, [CLI], {
    env: { PATH: process.env.PATH ?? "", ...env },
    cwd,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: StdoutLine[] = [];
  let buffer = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf("\n");
    while (nl !== -1) {
      const raw = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        json = undefined;
      }
      lines.push({ raw, json });
      nl = buffer.indexOf("\n");
    }
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });
  let closed = false;
  void exited.then(() => {
    closed = true;
  });

  const response = (id: number | string, timeoutMs = 20_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const find = () =>
        lines.find((l) => {
          const msg = l.json as { id?: unknown; method?: unknown } | undefined;
          return msg !== undefined && msg.id === id && msg.method === undefined;
        });
      const check = () => {
        const hit = find();
        if (hit) {
          finish();
          resolve(hit.json as Record<string, unknown>);
        } else if (closed) {
          finish();
          reject(new Error(`the server exited before answering ${id}; stderr:\n${stderr.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no response to ${id} within ${timeoutMs} ms; stderr:\n${stderr.slice(-2000)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    send: (line) => {
      child.stdin.write(`${typeof line === "string" ? line : JSON.stringify(line)}\n`);
    },
    response,
    lines: () => [...lines],
    partial: () => buffer,
    stderr: () => stderr,
    end: async (timeoutMs = 10_000) => {
      child.stdin.end();
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (!closed) child.kill("SIGKILL");
          resolve();
        }, timeoutMs);
      });
      await Promise.race([exited, killed]);
      clearTimeout(timer);
      return exited;
    },
  };
}
