/**
 * Shared pieces of the fault-injection and soak suites: a memory server that counts what the tests need
 * (tool calls, turns the sandbox actually played), readers for the state directory (token cache, current
 * session), a temp-file finder, the "plain words" check of error texts, and a small seeded PRNG.
 */
import { copyFile, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { SAMPLE } from "./paths.js";
import { type MemoryOptions, type MemoryServer, startMemoryServer } from "./mcp-memory.js";

export const TOOL_NAMES = [
  "create_session",
  "upload_media",
  "send_message",
  "get_turn",
  "cancel_turn",
  "get_state",
  "get_credits",
  "export_video",
  "get_export",
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export type CallOptions = Parameters<MemoryServer["client"]["callTool"]>[2];

/** A memory server plus the bookkeeping the fault tests assert on. */
export interface FaultServer extends MemoryServer {
  /** Lines the sandbox logged (requests, faults, the turns it played). */
  sandboxLog: string[];
  /** Tool calls made through `call`, per tool. */
  calls: Record<string, number>;
  /** Calls a tool (counted) and returns its result. */
  call(name: ToolName, args?: Record<string, unknown>, options?: CallOptions): Promise<CallToolResult>;
  /** The cached anonymous token in token.json, if any. */
  cachedToken(): Promise<string | undefined>;
  /** The current session of the active skill in sessions.json, if any. */
  currentSession(): Promise<string | undefined>;
  /** `*.part` / `*.tmp` files anywhere under the server's folder (state and exports). */
  tempFiles(): Promise<string[]>;
  /** Files in the export folder (names). */
  exportFiles(): Promise<string[]>;
  /** Default (keyword-chosen) turns the sandbox played: messages the backend agent worked on. */
  turnsPlayed(): number;
  /** Requests that reached the sandbox on a path, optionally after the index `from`. */
  requestsTo(path: RegExp, from?: number): number;
  /** A copy of fixtures/sample.mp4 inside the allowed folder. */
  samplePath(): Promise<string>;
}

export interface FaultServerOptions extends MemoryOptions {}

/** Runs `test` against a fresh fault server and always closes it. */
export async function withFaultServer(
  ...args: [FaultServerOptions, (h: FaultServer) => Promise<void>] | [(h: FaultServer) => Promise<void>]
): Promise<void> {
  const [options, test] = args.length === 2 ? args : [{}, args[0]];
  const h = await startFaultServer(options);
  try {
    await test(h);
  } finally {
    await h.close();
  }
}

/** startMemoryServer with a sandbox log and the counters above. */
export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const sandboxLog: string[] = [];
  const mem = await startMemoryServer({
    ...options,
    sandboxOptions: {
      ...options.sandboxOptions,
      log: (line) => {
        sandboxLog.push(line);
        options.sandboxOptions?.log?.(line);
      },
    },
  });
  const calls: Record<string, number> = {};
  const stateDir = join(mem.dir, "state");
  const apiUrl = mem.sandbox.url;
  const readJson = async (name: string): Promise<any> => {
    try {
      return JSON.parse(await readFile(join(stateDir, name), "utf8"));
    } catch {
      return undefined;
    }
  };
  let sample: string | undefined;
  return {
    ...mem,
    sandboxLog,
    calls,
    call: async (name, args = {}, options) => {
      calls[name] = (calls[name] ?? 0) + 1;
      return (await mem.client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult;
    },
    cachedToken: async () => (await readJson("token.json"))?.[apiUrl]?.token,
    currentSession: async () =>
      (await readJson("sessions.json"))?.[apiUrl]?.[mem.runtime.skill.name]?.sessionId,
    tempFiles: () => findTempFiles(mem.dir),
    exportFiles: async () => (await readdir(join(mem.dir, "exports")).catch(() => [])).sort(),
    turnsPlayed: () => sandboxLog.filter((l) => l.startsWith("sandbox: turn ")).length,
    requestsTo: (path, from = 0) => mem.sandbox.requests.slice(from).filter((r) => path.test(r.path)).length,
    samplePath: async () => {
      if (!sample) {
        sample = join(mem.dir, "clip.mp4");
        await copyFile(SAMPLE, sample);
      }
      return sample;
    },
  };
}

/** Every `*.part` / `*.tmp` file below `dir`, as paths relative to it. */
export async function findTempFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && /\.(part|tmp)$/.test(e.name))
    .map((e) => join(e.parentPath ?? dir, e.name).slice(dir.length + 1));
}

/**
 * Why a result text is not "plain words a person can act on", or undefined when it is: no stack trace,
 * no "undefined"/"NaN"/"[object Object]", no JavaScript error names, no token, not the catch-all wording.
 */
export function plainWordsProblem(text: string): string | undefined {
  if (text.trim().length < 12) return "the text is empty or too short";
  if (/^\s*at\s+\S+.*:\d+:\d+\)?\s*$/m.test(text)) return "it contains a stack trace";
  if (/\bundefined\b/.test(text)) return 'it says "undefined"';
  if (/\bNaN\b/.test(text)) return 'it says "NaN"';
  if (/\[object \w+\]/.test(text)) return "it contains [object …]";
  if (/\b(TypeError|ReferenceError|SyntaxError|RangeError)\b|Cannot read propert/.test(text))
    return "it leaks a JavaScript error";
  if (/Unexpected error:/.test(text)) return "it is the catch-all 'Unexpected error' wording";
  if (/nmv_usr_[A-Za-z0-9]/.test(text)) return "it contains a token";
  if (text.length > 2_000) return "it is far too long";
  return undefined;
}

/** Resolves once `check` returns true; throws after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 2_000, what = "condition") {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Makes `token` a valid token of a fresh account in the sandbox (to stand for a user's own NEMO_TOKEN). */
export function registerUserToken(sandbox: Sandbox, token: string, credits = 100): string {
  const { token: issued, account } = sandbox.state.issueToken(`user-${token.slice(-8)}`, credits, 86_400_000);
  sandbox.state.tokens.delete(issued.token);
  sandbox.state.tokens.set(token, { ...issued, token });
  return account.userId;
}

/** mulberry32: a tiny seeded PRNG, so a failing soak run can be replayed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
  };
}

/** Counts of the active libuv resources by type (`process.getActiveResourcesInfo()`). */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}
