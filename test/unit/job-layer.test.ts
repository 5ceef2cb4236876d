/**
 * The job layer on its own (no MCP, no CLI): exports and turns restart from their records in either
 * job store, export listeners come and go, and an export's reported percent only goes up.
 * The backend is the sandbox on a real 127.0.0.1 port.
 */
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ExportProgress } from "../../src/client/export.js";
import { Sessions } from "../../src/client/sessions.js";
import { StateStore } from "../../src/client/store.js";
import { Jobs } from "../../src/jobs/jobs.js";
import { MemoryJobStore } from "../../src/jobs/memory-store.js";
import { StateDirJobStore } from "../../src/jobs/state-dir-store.js";
import type { JobStore } from "../../src/jobs/store.js";
import { Logger } from "../../src/log.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { makeClient, type TestClient } from "../helpers/client.js";

const DRAFT = {
  t: [{ tt: 0, m: { name: "Video" }, sg: [{ id: "seg_1", st: 0, d: 6000, m: { name: "clip.mp4" } }] }],
  d: 6000,
  m: {},
};

const STORES: Array<[string, (dir: string) => JobStore]> = [
  ["memory", () => new MemoryJobStore()],
  ["state-dir", (dir) => new StateDirJobStore(new StateStore(dir))],
];

let sandbox: Sandbox;
let test: TestClient;
let out: string;
const running: Jobs[] = [];

beforeEach(async () => {
  sandbox = await startSandbox({ stepMs: 50, renderSteps: 4 });
  test = makeClient(sandbox.url);
  out = await mkdtemp(join(tmpdir(), "nemo-jobs-out-"));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((jobs) => jobs.shutdown()));
  await sandbox.close();
});

/** One "process" of the job layer over `store`. */
function jobsOver(store: JobStore): Jobs {
  const jobs = new Jobs({
    client: test.client,
    sessions: new Sessions(test.client, store),
    store,
    logger: new Logger("error", () => {}),
    turnLimits: { streamTimeoutMs: 10_000, stallMs: 5_000, recoveryPollMs: 20 },
    renderPollMs: 10,
    renderMaxPolls: 200,
  });
  running.push(jobs);
  return jobs;
}

async function exportableSession(store: JobStore): Promise<string> {
  const sessionId = (await new Sessions(test.client, store).create()).sessionId;
  sandbox.state.setDraft(sessionId, DRAFT);
  return sessionId;
}

const submits = () =>
  sandbox.requests.filter((r) => r.method === "POST" && r.path === "/api/render/proxy/lambda").length;

describe.each(STORES)("with the %s job store", (_name, makeStore) => {
  it("an export left rendering by an ended process is picked up from its record, never submitted again", async () => {
    const store = makeStore(test.dir);
    const sessionId = await exportableSession(store);
    const first = jobsOver(store);
    const job = await first.exports.start({ sessionId, outputDir: out });
    const renderId = job.view().render_id;
    expect(renderId).toBeTruthy();
    await first.shutdown(); // the process ends: the render goes on at NemoVideo

    const second = jobsOver(store);
    const view = await second.exports.wait(renderId as string, 10_000);
    expect(view).toMatchObject({ status: "completed", render_id: renderId, session_id: sessionId });
    expect(view.file && existsSync(view.file)).toBe(true);
    expect(submits()).toBe(1);
    // finished: a third process reads the record and polls nothing
    const polls = sandbox.requests.length;
    expect(await jobsOver(store).exports.wait(renderId as string, 1_000)).toMatchObject({
      status: "completed",
    });
    expect(sandbox.requests.length).toBe(polls);
  });

  it("a turn whose stream was lost with its process is recovered from its record, never re-sent", async () => {
    const store = makeStore(test.dir);
    const sessionId = (await new Sessions(test.client, store).create()).sessionId;
    const first = jobsOver(store);
    const turn = await first.turns.start({ sessionId, message: "add background music" });
    // the record holds the baseline before the message is sent
    await expect.poll(async () => (await store.loadTurn(turn.id))?.baseline).toBeDefined();
    await first.shutdown();

    const second = jobsOver(store);
    const view = await second.turns.wait(turn.id, 10_000);
    expect(view.turn_id).toBe(turn.id);
    // recovered from the timeline against the recorded baseline
    expect(view).toMatchObject({ status: "completed", recovered: true, session_id: sessionId });
    expect(view.changes?.length).toBeGreaterThan(0);
    expect(sandbox.requests.filter((r) => r.path === "/run_sse").length).toBe(1);
  });
});

describe("export listeners and progress", () => {
  it("a listener hears the export until it unsubscribes; the job's percent never goes down", async () => {
    const store = new MemoryJobStore();
    const sessionId = await exportableSession(store);
    const jobs = jobsOver(store);
    const heard: ExportProgress[] = [];
    const percents: number[] = [];
    const job = await jobs.exports.start({ sessionId, outputDir: out });
    const unsubscribe = job.subscribe((p) => {
      heard.push(p);
      const { percent } = job.view();
      if (percent !== undefined) percents.push(percent);
    });
    let late = 0;
    const lateListener = () => {
      late++;
    };
    job.subscribe(lateListener);
    job.unsubscribe(lateListener);
    await job.done;
    unsubscribe();
    expect(heard.length).toBeGreaterThan(0);
    expect(late).toBe(0);
    for (let i = 1; i < percents.length; i++)
      expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1] ?? 0);
    expect(job.view().status).toBe("completed");
  });
});
