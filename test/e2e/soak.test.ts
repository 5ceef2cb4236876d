/**
 * Soak: hundreds of mixed tool calls (valid and invalid arguments) with random one-shot faults on random
 * endpoints, some calls cancelled mid-way, against one in-memory server; then memory back near its start
 * and no sockets or timers left. A smaller run over a real stdio child checks that stdout stayed pure
 * JSON-RPC and that stderr never shows a token. Seeded: SOAK_SEED=<n> replays a run.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import type { EndpointName, FaultKind, Sandbox } from "../../src/sandbox/index.js";
import {
  activeResources,
  type FaultServer,
  plainWordsProblem,
  prng,
  startFaultServer,
  type ToolName,
  until,
} from "../helpers/fault-harness.js";
import { startChild, stopChild } from "../helpers/mcp-child.js";
import { SAMPLE } from "../helpers/paths.js";
import { resultText, sc } from "../helpers/results.js";

const SEED = Number(process.env.SOAK_SEED ?? 20_250_611);
const CALLS = Number(process.env.SOAK_CALLS ?? 400);
const CHILD_CALLS = 50;
const WORKERS = 4;
/** No single call may take longer than this (the longest legitimate one waits about 3 s). */
const CALL_LIMIT_MS = 10_000;

const ENV = {
  NEMO_REQUEST_TIMEOUT_MS: "400",
  NEMO_STALL_MS: "400",
  NEMO_STREAM_TIMEOUT_MS: "2500",
  NEMO_RECOVERY_POLL_MS: "20",
  NEMO_RETRY_429_MS: "5",
  NEMO_RENDER_POLL_MS: "10",
  NEMO_RENDER_MAX_POLLS: "40",
};

/** Fast turns and renders; enough credits that running out is only ever an injected 2001. */
const SANDBOX = { stepMs: 1, heartbeatMs: 20, renderSteps: 2, credits: 100_000 };

const ENDPOINTS: Array<EndpointName | "*"> = [
  "token",
  "session",
  "claim",
  "run_sse",
  "upload",
  "credits",
  "state",
  "render_submit",
  "render_status",
  "download",
  "*",
];

const FAULT_KINDS: FaultKind[] = [
  { type: "code", code: 1001, status: 401 },
  { type: "code", code: 1002 },
  { type: "code", code: 2001 },
  { type: "code", code: 4001 },
  { type: "code", code: 4002 },
  { type: "http", status: 400 },
  { type: "http", status: 402 },
  { type: "http", status: 429 },
  { type: "http", status: 500 },
  { type: "http", status: 502 },
  { type: "http", status: 503 },
  { type: "reset" },
  { type: "delay", ms: 600 },
  { type: "malformed" },
  { type: "truncated" },
];

const MESSAGES = [
  "add some background music",
  'add a title "Soak Test"',
  "add a natural AI voiceover in English",
  "generate a 5-second video about the sea",
  "hello, what can you do?",
];

/** One planned call: the tool, how to build its arguments, whether it is meant to be invalid, a fault, a cancel. */
interface Plan {
  index: number;
  tool: ToolName;
  /** Built at run time (turn and render ids come from earlier results). */
  args: (ids: Ids) => Record<string, unknown>;
  /** The schema's (or handler's) message for an invalid call. */
  invalid?: RegExp;
  fault?: { endpoint: EndpointName | "*"; kind: FaultKind };
  /** Abort the call this many ms after sending it. */
  cancelAfterMs?: number;
}

interface Ids {
  turns: string[];
  renders: string[];
  pick: (list: string[], fallback: string) => string;
}

/** The calls of a run, decided up front by the seed. */
function planCalls(seed: number, count: number, samplePath: string): Plan[] {
  const r = prng(seed);
  const plans: Plan[] = [];
  for (let index = 0; index < count; index++) {
    const roll = r.next();
    const invalid = r.chance(0.12);
    let plan: Plan;
    const wait = r.int(0, 20) / 10;
    if (roll < 0.12) {
      plan = invalid
        ? {
            index,
            tool: "get_state",
            args: () => ({ session_id: "bad id!" }),
            invalid: /session_id may only contain/,
          }
        : { index, tool: "get_state", args: () => ({}) };
    } else if (roll < 0.22) {
      plan = { index, tool: "get_credits", args: () => ({}) };
    } else if (roll < 0.3) {
      plan = invalid
        ? {
            index,
            tool: "create_session",
            args: () => ({ language: "english!!" }),
            invalid: /language must be a language code/,
          }
        : { index, tool: "create_session", args: () => ({ language: r.pick(["en", "zh", "pt-BR"]) }) };
    } else if (roll < 0.42) {
      const variant = r.int(0, 2);
      plan = invalid
        ? { index, tool: "upload_media", args: () => ({}), invalid: /Nothing to upload/ }
        : variant === 0
          ? { index, tool: "upload_media", args: () => ({ paths: [samplePath] }) }
          : variant === 1
            ? {
                index,
                tool: "upload_media",
                args: () => ({ urls: [`https://media.example/c/${index}.mp4`] }),
              }
            : {
                index,
                tool: "upload_media",
                args: () => ({ urls: [`https://media.example/c/${index}.xyz`] }),
              };
    } else if (roll < 0.62) {
      const message = r.pick(MESSAGES);
      plan = invalid
        ? {
            index,
            tool: "send_message",
            args: () => ({ message, wait_seconds: 5_000 }),
            invalid: /wait_seconds can be at most 900/,
          }
        : { index, tool: "send_message", args: () => ({ message, wait_seconds: wait }) };
    } else if (roll < 0.72) {
      const n = r.int(0, 1_000);
      plan = invalid
        ? { index, tool: "get_turn", args: () => ({ turn_id: "" }), invalid: /turn_id must not be empty/ }
        : {
            index,
            tool: "get_turn",
            args: (ids) => ({ turn_id: ids.pick(ids.turns, `unknown-${n}`), wait_seconds: wait / 2 }),
          };
    } else if (roll < 0.77) {
      plan = {
        index,
        tool: "cancel_turn",
        args: (ids) => ({ turn_id: ids.pick(ids.turns, "unknown-turn") }),
      };
    } else if (roll < 0.9) {
      plan = invalid
        ? {
            index,
            tool: "export_video",
            args: () => ({ file_name: "../escape.mp4" }),
            invalid: /file_name must be a plain file name/,
          }
        : { index, tool: "export_video", args: () => ({ wait_seconds: wait }) };
    } else {
      plan = {
        index,
        tool: "get_export",
        args: (ids) => ({ render_id: ids.pick(ids.renders, "render_0"), wait_seconds: wait / 2 }),
      };
    }
    if (r.chance(0.35)) plan.fault = { endpoint: r.pick(ENDPOINTS), kind: r.pick(FAULT_KINDS) };
    if (r.chance(0.08)) {
      // cancelled mid-way: one of the calls that do real work (a stream, a render, an upload), aborted early
      const slow = r.int(0, 2);
      const message = r.pick(MESSAGES);
      plan =
        slow === 0
          ? { index, tool: "send_message", args: () => ({ message, wait_seconds: 2 }) }
          : slow === 1
            ? { index, tool: "export_video", args: () => ({ wait_seconds: 2 }) }
            : { index, tool: "upload_media", args: () => ({ paths: [samplePath] }) };
      if (r.chance(0.5)) plan.fault = { endpoint: r.pick(ENDPOINTS), kind: r.pick(FAULT_KINDS) };
      plan.cancelAfterMs = r.int(1, 12);
    }
    plans.push(plan);
  }
  return plans;
}

type CallClient = FaultServer["client"];

interface Tally {
  ok: number;
  isError: number;
  invalid: number;
  cancelled: number;
  problems: string[];
  byTool: Record<string, { ok: number; isError: number }>;
}

/** Runs the plans with a few workers; every call is bounded, every result checked. */
async function runPlans(client: CallClient, sandbox: Sandbox, plans: Plan[], seed: number): Promise<Tally> {
  const r = prng(seed ^ 0x5eed);
  const ids: Ids = {
    turns: [],
    renders: [],
    pick: (list, fallback) => (list.length === 0 || r.chance(0.1) ? fallback : r.pick(list)),
  };
  const tally: Tally = { ok: 0, isError: 0, invalid: 0, cancelled: 0, problems: [], byTool: {} };
  let next = 0;
  const worker = async () => {
    for (;;) {
      const plan = plans[next++];
      if (!plan) return;
      if (plan.fault) sandbox.inject({ ...plan.fault, times: 1 });
      const controller = new AbortController();
      const timer =
        plan.cancelAfterMs === undefined
          ? undefined
          : setTimeout(() => controller.abort(), plan.cancelAfterMs);
      const label = `#${plan.index} ${plan.tool}${plan.fault ? ` (${plan.fault.kind.type} on ${plan.fault.endpoint})` : ""}`;
      let result: CallToolResult;
      let limit: NodeJS.Timeout | undefined;
      try {
        result = (await Promise.race([
          client.callTool({ name: plan.tool, arguments: plan.args(ids) }, undefined, {
            signal: controller.signal,
            timeout: CALL_LIMIT_MS,
          }),
          new Promise<never>((_, reject) => {
            limit = setTimeout(
              () => reject(new Error(`${label} hung for ${CALL_LIMIT_MS} ms`)),
              CALL_LIMIT_MS + 500,
            );
          }),
        ])) as CallToolResult;
      } catch (err) {
        if (controller.signal.aborted) {
          tally.cancelled++;
          continue;
        }
        tally.problems.push(`${label}: ${(err as Error).message}`);
        continue;
      } finally {
        clearTimeout(timer);
        clearTimeout(limit);
      }
      const text = resultText(result);
      const counts = tally.byTool[plan.tool] ?? { ok: 0, isError: 0 };
      tally.byTool[plan.tool] = counts;
      if (plan.invalid) {
        tally.invalid++;
        if (!result.isError || !plan.invalid.test(text)) {
          tally.problems.push(`${label}: invalid arguments not refused with the schema's message: ${text}`);
        }
        continue;
      }
      if (result.isError) {
        tally.isError++;
        counts.isError++;
        const problem =
          text.trim() === "Cancelled."
            ? "reported as cancelled, but this call was not cancelled (another call's cancellation reached it)"
            : plainWordsProblem(text);
        if (problem) tally.problems.push(`${label}: ${problem}: ${text}`);
      } else {
        tally.ok++;
        counts.ok++;
      }
      const out = sc(result);
      if (typeof out.turn_id === "string" && !ids.turns.includes(out.turn_id)) ids.turns.push(out.turn_id);
      if (typeof out.render_id === "string" && out.render_id && !ids.renders.includes(out.render_id)) {
        ids.renders.push(out.render_id);
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return tally;
}

/** A garbage collector: the exposed one, or one made available at run time; undefined when neither works. */
function collector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    return typeof gc === "function" ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

async function settledHeap(gc: (() => void) | undefined): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().heapUsed;
}

const WATCHED = ["TCPSocketWrap", "TCPServerWrap", "Timeout", "Immediate", "FSReqCallback"];

function watched(): Record<string, number> {
  const all = activeResources();
  return Object.fromEntries(WATCHED.map((k) => [k, all[k] ?? 0]));
}

/** One soak run on its own in-memory server: the calls, then the invariants that hold after them; closes the server. */
async function soakRun(seed: number, count: number): Promise<Tally> {
  const h = await startFaultServer({ env: ENV, sandboxOptions: SANDBOX });
  try {
    const plans = planCalls(seed, count, await h.samplePath());
    const tally = await runPlans(h.client, h.sandbox, plans, seed);
    const sends = plans.filter((p) => p.tool === "send_message" && !p.invalid).length;
    // the server still answers, and no message was worked on twice
    h.sandbox.clearFaults();
    const credits = (await h.client.callTool({ name: "get_credits", arguments: {} })) as CallToolResult;
    expect(credits.isError, resultText(credits)).toBeFalsy();
    expect(h.turnsPlayed()).toBeLessThanOrEqual(sends);
    const refusedRunSse = h.sandboxLog.filter((l) =>
      /^sandbox: fault (code|http) on run_sse$/.test(l),
    ).length;
    expect(h.sandbox.state.runSseRequests).toBeLessThanOrEqual(sends + refusedRunSse);
    await until(async () => (await h.tempFiles()).length === 0, 3_000, "no temp files").catch(() => {});
    expect(await h.tempFiles()).toEqual([]);
    expect(tally.problems.join("\n")).toBe("");
    expect(tally.ok + tally.isError + tally.invalid + tally.cancelled).toBe(count);
    return tally;
  } finally {
    await h.close();
  }
}

describe("soak", () => {
  it(`${CALLS} mixed calls with random faults and cancellations (seed ${SEED})`, {
    timeout: 60_000,
  }, async () => {
    const gc = collector();
    // a short warm-up first, so one-time initialisation (module caches, compiled schemas) is not counted as growth
    await soakRun(SEED - 1, 40);
    await until(() => (watched().TCPSocketWrap ?? 0) === 0, 2_000, "warm-up sockets closed").catch(() => {});
    const handlesBefore = watched();
    const heapBefore = await settledHeap(gc);
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();

    const tally = await soakRun(SEED, CALLS);
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `soak (seed ${SEED}, ${seconds} s):`,
      JSON.stringify({ ...tally, problems: tally.problems.length }),
    );
    // the run exercised both paths and real cancellations, not only failures
    expect(tally.ok).toBeGreaterThan(CALLS * 0.3);
    expect(tally.isError).toBeGreaterThan(CALLS * 0.05);
    expect(tally.cancelled).toBeGreaterThan(5);
    expect(seconds).toBeLessThan(45);

    // no sockets, servers or timers left behind
    await until(
      () => {
        const now = watched();
        return WATCHED.every((k) => (now[k] ?? 0) <= (handlesBefore[k] ?? 0) + 2);
      },
      5_000,
      "handles released",
    ).catch(() => {});
    const handlesAfter = watched();
    for (const kind of WATCHED) {
      expect(handlesAfter[kind], `${kind} left open: ${JSON.stringify(handlesAfter)}`).toBeLessThanOrEqual(
        (handlesBefore[kind] ?? 0) + 2,
      );
    }

    // memory back near its start
    const heapAfter = await settledHeap(gc);
    const rssAfter = process.memoryUsage().rss;
    const mb = (n: number) => (n / 2 ** 20).toFixed(1);
    console.log(
      `soak memory: heap ${mb(heapBefore)} → ${mb(heapAfter)} MB, rss ${mb(rssBefore)} → ${mb(rssAfter)} MB`,
    );
    // without a collector the heap is only loosely comparable: then RSS growth is the measure
    if (gc) expect(heapAfter - heapBefore).toBeLessThan(16 * 2 ** 20);
    expect(rssAfter - rssBefore).toBeLessThan(100 * 2 ** 20);
  });

  it(`${CHILD_CALLS} calls over a real stdio child: stdout stays JSON-RPC, stderr shows no token`, {
    timeout: 40_000,
  }, async () => {
    const child = await startChild({
      env: { ...ENV, NEMO_LOG_LEVEL: "debug" },
      sandboxOptions: SANDBOX,
    });
    try {
      const plans = planCalls(SEED + 1, CHILD_CALLS, SAMPLE);
      const tally = await runPlans(child.client, child.sandbox, plans, SEED + 1);
      console.log(
        `stdio soak (seed ${SEED + 1}):`,
        JSON.stringify({ ...tally, problems: tally.problems.length }),
      );
      expect(tally.problems.join("\n")).toBe("");
      expect(tally.ok).toBeGreaterThan(CHILD_CALLS * 0.2);

      child.sandbox.clearFaults();
      const credits = (await child.client.callTool({ name: "get_credits", arguments: {} })) as CallToolResult;
      expect(credits.isError, resultText(credits)).toBeFalsy();

      // stdout carried nothing but JSON-RPC: the only transport complaints allowed are responses that crossed
      // a cancellation on the wire (valid JSON-RPC for a request the client had just given up on)
      const crossed = child.transportErrors.filter((e) =>
        /^Received a response for an unknown message ID: \{"jsonrpc":"2\.0"/.test(e.message),
      );
      expect(child.transportErrors.filter((e) => !crossed.includes(e)).map((e) => e.message)).toEqual([]);
      expect(crossed.length).toBeLessThanOrEqual(tally.cancelled);
      const stderr = child.stderr();
      expect(stderr.length).toBeGreaterThan(0);
      const tokens = [...child.sandbox.state.tokens.keys()];
      expect(tokens.length).toBeGreaterThan(0);
      for (const token of tokens) expect(stderr.includes(token), "a token in stderr").toBe(false);
      expect(stderr).not.toMatch(/nmv_usr_[0-9a-f]{8}/);
      expect(stderr).not.toMatch(/Bearer\s+nmv/);
    } finally {
      await stopChild(child);
    }
  });
});
