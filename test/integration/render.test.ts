import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { NemoClient, SkillIdentity } from "../../src/client/client.js";
import { exportFileName } from "../../src/client/save-file.js";
import {
  CancelledError,
  DownloadFailedError,
  InvalidInputError,
  NotExportableError,
  PlanRequiredError,
  RenderFailedError,
  TimeoutError,
} from "../../src/client/errors.js";
import { downloadRender } from "../../src/client/download.js";
import { type ExportProgress, exportSession, exportVideo, resumeExport } from "../../src/client/export.js";
import { newRenderId, pollRender, submitRender } from "../../src/client/render.js";
import { Sessions } from "../../src/client/sessions.js";
import { MemoryJobStore } from "../../src/jobs/memory-store.js";
import { type RenderStatusStyle, type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { makeClient } from "../helpers/client.js";
import { SAMPLE } from "../helpers/paths.js";

const _SKILL: SkillIdentity = { name: "ai-voiceover-for", version: "1.0.0", platform: "unknown" };
const DRAFT = {
  t: [{ tt: 0, m: { name: "Video" }, sg: [{ id: "seg_1", st: 0, d: 6000, m: { name: "clip.mp4" } }] }],
  d: 6000,
  m: {},
};
const FAST = { intervalMs: 5, maxPolls: 10 };

let sandbox: Sandbox;
let work: string;
let client: NemoClient;
let sessionId: string;

async function exportableSession(c: NemoClient, sb: Sandbox): Promise<string> {
  const sid = (await new Sessions(c, new MemoryJobStore()).create()).sessionId;
  sb.state.setDraft(sid, DRAFT);
  return sid;
}

function submits(sb: Sandbox = sandbox) {
  return sb.requests.filter((r) => r.method === "POST" && r.path === "/api/render/proxy/lambda");
}

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

beforeAll(async () => {
  sandbox = await startSandbox({ stepMs: 0, renderSteps: 3 });
  work = await mkdtemp(join(tmpdir(), "nemo-render-"));
});

afterAll(async () => {
  await sandbox.close();
  await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  sandbox.state.renderStatusStyle = "standard";
  sandbox.state.omitOutputUrl = false;
  sandbox.state.failNextRenders(0);
  client = makeClient(sandbox.url).client;
  sessionId = await exportableSession(client, sandbox);
});

afterEach(() => sandbox.clearFaults());

describe("exportSession", () => {
  it.each<RenderStatusStyle>(["standard", "success", "top"])(
    "renders and downloads with %s status responses",
    async (style) => {
      sandbox.state.renderStatusStyle = style;
      const before = submits().length;
      const progress: ExportProgress[] = [];
      const submitted: string[] = [];

      const outcome = await exportSession(client, sessionId, {
        ...FAST,
        onProgress: (p) => progress.push(p),
        onSubmitted: (id) => submitted.push(id),
      });

      const sampleSize = (await stat(SAMPLE)).size;
      expect(outcome.status).toBe("completed");
      expect(outcome.attempts).toBe(1);
      expect(outcome.renderId).toMatch(/^render_\d+/);
      expect(submitted).toEqual([outcome.renderId]);
      expect(outcome.url).toBe(`${sandbox.url}/files/renders/${outcome.renderId}.mp4`);
      if (style !== "success") {
        expect(outcome.sizeBytes).toBe(sampleSize);
        expect(outcome.durationSec).toBe(6);
      }

      const sent = submits().slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.body).toEqual({
        id: outcome.renderId,
        sessionId,
        draft: DRAFT,
        output: { format: "mp4", quality: "high" },
      });

      expect(progress[0]).toEqual({ stage: "submitting", renderId: outcome.renderId, percent: 0 });
      const percents = progress.filter((p) => p.stage === "rendering").map((p) => p.percent ?? -1);
      expect(percents).toEqual([0, 50, 100]);

      const dir = await mkdtemp(join(work, "out-"));
      const downloads: ExportProgress[] = [];
      const result = await downloadRender(client, outcome, {
        outputDir: dir,
        onProgress: (p) => downloads.push(p),
      });
      expect(result.file).toBe(join(dir, `nemovideo-${outcome.renderId}.mp4`));
      expect(result.bytes).toBe(sampleSize);
      expect((await readFile(result.file)).equals(await readFile(SAMPLE))).toBe(true);
      expect(await listing(dir)).toEqual([`nemovideo-${outcome.renderId}.mp4`]);
      expect(downloads.at(-1)).toMatchObject({
        stage: "downloading",
        receivedBytes: sampleSize,
        totalBytes: sampleSize,
      });
    },
  );

  it("passes the quality through", async () => {
    const before = submits().length;
    await exportSession(client, sessionId, { ...FAST, quality: "medium" });
    expect((submits()[before]?.body as { output?: unknown } | undefined)?.output).toEqual({
      format: "mp4",
      quality: "medium",
    });
  });

  it("refuses an empty timeline without sending a render request", async () => {
    const empty = (await new Sessions(client, new MemoryJobStore()).create()).sessionId;
    const before = submits().length;
    const err = await exportSession(client, empty, FAST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotExportableError);
    expect((err as NotExportableError).userMessage).toBe(
      "There is nothing on the timeline to export yet. Generate or upload something first with {send} / {upload}.",
    );
    expect(submits().length).toBe(before);
  });

  it("resubmits once with a new id after a failed render", async () => {
    sandbox.state.failNextRenders(1);
    const before = submits().length;
    const submitted: string[] = [];
    const percents: number[] = [];
    const outcome = await exportSession(client, sessionId, {
      ...FAST,
      onSubmitted: (id) => submitted.push(id),
      onProgress: (p) => percents.push(p.percent ?? -1),
    });
    expect(outcome.status).toBe("completed");
    expect(outcome.attempts).toBe(2);
    const ids = submits()
      .slice(before)
      .map((r) => (r.body as { id: string }).id);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    expect(submitted).toEqual(ids);
    expect(outcome.renderId).toBe(ids[1]);
    for (let i = 1; i < percents.length; i++) expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1]!);
  });

  it("throws RenderFailedError with the backend's reason after two failures", async () => {
    sandbox.state.failNextRenders(2);
    const before = submits().length;
    const err = await exportSession(client, sessionId, FAST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderFailedError);
    expect((err as Error).message).toMatch(/lambda worker timed out/);
    expect(submits().length - before).toBe(2);
  });

  it("maps HTTP 402 (missing skill headers) to PlanRequiredError: plan, not credits", async () => {
    const anonymous = makeClient(sandbox.url, { skill: { name: "", version: "", platform: "" } }).client;
    const sid = await exportableSession(anonymous, sandbox);
    const before = submits().length;
    const err = await exportSession(anonymous, sid, FAST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanRequiredError);
    const text = (err as PlanRequiredError).userMessage;
    expect(text).toMatch(/plan/i);
    expect(text).toMatch(/not a lack of credits/);
    expect(submits().length - before).toBe(1);
  });

  it("times out with the render id and the NEMO_RENDER_MAX_POLLS hint", async () => {
    const submitted: string[] = [];
    const before = submits().length;
    const err = await exportSession(client, sessionId, {
      intervalMs: 5,
      maxPolls: 2,
      onSubmitted: (id) => submitted.push(id),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    const text = (err as TimeoutError).userMessage;
    expect(text).toContain(submitted[0]);
    expect(text).toMatch(/still running on NemoVideo/);
    expect(text).toMatch(/NEMO_RENDER_MAX_POLLS/);
    expect(submits().length - before).toBe(1);
    // the render goes on: polling it again finds it done
    const later = await pollRender(client, submitted[0]!, FAST);
    expect(later.status).toBe("completed");
  });

  it("cancels while polling", async () => {
    const controller = new AbortController();
    const err = await exportSession(client, sessionId, {
      intervalMs: 50,
      maxPolls: 100,
      signal: controller.signal,
      onSubmitted: () => setTimeout(() => controller.abort(), 10),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
  });
});

describe("exportVideo and resumeExport", () => {
  it("renders then downloads, reporting the render done before the first downloaded byte", async () => {
    const dir = await mkdtemp(join(work, "flow-"));
    const seen: string[] = [];
    const result = await exportVideo(
      client,
      sessionId,
      { outputDir: dir, fileName: "flow" },
      {
        ...FAST,
        onProgress: (p) => {
          if (seen.at(-1) !== p.stage) seen.push(p.stage);
        },
        onRendered: () => seen.push("rendered"),
      },
    );
    expect(seen).toEqual(["submitting", "rendering", "rendered", "downloading"]);
    expect(result.download?.file).toBe(join(dir, "flow.mp4"));
    expect(result.download?.bytes).toBe((await stat(SAMPLE)).size);
  });

  it("checks the output folder before submitting anything", async () => {
    const blocker = join(work, "not-a-folder");
    await writeFile(blocker, "x");
    const before = submits().length;
    const err = await exportVideo(client, sessionId, { outputDir: blocker }, FAST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(submits().length).toBe(before);
  });

  it("resumes a render by id without submitting, and without an output folder only renders", async () => {
    const id = await submitRender(client, sessionId, DRAFT);
    const before = submits().length;
    const result = await resumeExport(client, [id], { outputDir: "" }, FAST);
    expect(result.outcome).toMatchObject({ renderId: id, status: "completed", attempts: 1 });
    expect(result.download).toBeUndefined();
    const dir = await mkdtemp(join(work, "resume-"));
    const again = await resumeExport(client, [id], { outputDir: dir }, FAST);
    expect(again.download?.file).toBe(join(dir, `nemovideo-${id}.mp4`));
    expect(submits().length).toBe(before);
  });

  it("a resumed render that polls out is still rendering: TimeoutError naming the render", async () => {
    sandbox.state.renderStatusStyle = "standard";
    const id = await submitRender(client, sessionId, DRAFT);
    const err = await resumeExport(client, [id], { outputDir: "" }, { intervalMs: 1, maxPolls: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toContain(`The render ${id} is still running on NemoVideo.`);
  });
});

describe("submitRender and pollRender", () => {
  it("never resubmits on a network error", async () => {
    sandbox.inject({ endpoint: "render_submit", kind: { type: "reset" } });
    const before = submits().length;
    await expect(submitRender(client, sessionId, DRAFT)).rejects.toThrow();
    expect(submits().length - before).toBe(1);
  });

  it("polls through transient status errors", async () => {
    const id = await submitRender(client, sessionId, DRAFT);
    sandbox.inject({ endpoint: "render_status", times: 2, kind: { type: "http", status: 503 } });
    const result = await pollRender(client, id, FAST);
    expect(result.status).toBe("completed");
  });

  it("makes unique ids even within one millisecond", () => {
    const ids = Array.from({ length: 50 }, () => newRenderId());
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^render_\d{13}(_[0-9a-f]+)?$/);
  });
});

describe("downloadRender", () => {
  async function completed(): Promise<{ renderId: string; url?: string; sizeBytes?: number }> {
    return exportSession(client, sessionId, FAST);
  }

  function downloadRequests(renderId: string) {
    return sandbox.requests.filter(
      (r) => r.path.includes(renderId) && r.method === "GET" && !r.path.includes("lambda"),
    );
  }

  it("uses the fallback endpoint, with the token, when there is no output URL", async () => {
    sandbox.state.omitOutputUrl = true;
    const outcome = await completed();
    expect(outcome.url).toBeUndefined();
    const dir = await mkdtemp(join(work, "fallback-"));
    const result = await downloadRender(client, outcome, { outputDir: dir, fileName: "final cut" });
    expect(result.file).toBe(join(dir, "final cut.mp4"));
    expect((await readFile(result.file)).equals(await readFile(SAMPLE))).toBe(true);
    const [request] = downloadRequests(outcome.renderId);
    expect(request?.path).toBe(`/api/render/proxy/${outcome.renderId}/download`);
    expect(request?.headers.authorization).toMatch(/^Bearer nmv_usr_/);
  });

  it("falls back once when the output URL answers 404", async () => {
    const outcome = await completed();
    sandbox.inject({ endpoint: "download", kind: { type: "http", status: 404 } });
    const dir = await mkdtemp(join(work, "404-"));
    const result = await downloadRender(client, outcome, { outputDir: dir });
    expect(result.bytes).toBe((await stat(SAMPLE)).size);
    expect(downloadRequests(outcome.renderId).map((r) => r.path)).toEqual([
      `/files/renders/${outcome.renderId}.mp4`,
      `/api/render/proxy/${outcome.renderId}/download`,
    ]);
  });

  it("never sends the token to another origin, redirects included", async () => {
    const outcome = await completed();
    const redirector: Server = createServer((req, res) => {
      res
        .writeHead(302, {
          location: `http://localhost:${sandbox.port}/files/renders/${outcome.renderId}.mp4?sig=1`,
        })
        .end();
      redirector.emit("seen", req.headers);
    });
    await new Promise<void>((r) => redirector.listen(0, "127.0.0.1", r));
    const seen: Record<string, unknown>[] = [];
    redirector.on("seen", (h: Record<string, unknown>) => seen.push(h));
    try {
      const port = (redirector.address() as AddressInfo).port;
      // "localhost" is another origin than the API's 127.0.0.1
      const cdn = {
        ...outcome,
        url: `http://localhost:${sandbox.port}/files/renders/${outcome.renderId}.mp4`,
      };
      const dir = await mkdtemp(join(work, "origin-"));
      await downloadRender(client, cdn, { outputDir: dir });
      await downloadRender(
        client,
        { ...outcome, url: `http://127.0.0.1:${port}/cdn/x.mp4` },
        { outputDir: dir },
      );
      const cdnRequests = downloadRequests(outcome.renderId);
      expect(cdnRequests).toHaveLength(2);
      for (const r of cdnRequests) expect(r.headers.authorization).toBeUndefined();
      expect(seen).toHaveLength(1);
      expect(seen[0]?.authorization).toBeUndefined();
      expect(await listing(dir)).toEqual([
        `nemovideo-${outcome.renderId} (1).mp4`,
        `nemovideo-${outcome.renderId}.mp4`,
      ]);
    } finally {
      await new Promise((r) => redirector.close(r));
    }
  });

  it("never overwrites: a second download gets a numbered name", async () => {
    const outcome = await completed();
    const dir = await mkdtemp(join(work, "twice-"));
    await writeFile(join(dir, "mine.mp4"), "precious");
    const first = await downloadRender(client, outcome, { outputDir: dir, fileName: "mine.mp4" });
    const second = await downloadRender(client, outcome, { outputDir: dir, fileName: "mine" });
    expect(first.file).toBe(join(dir, "mine (1).mp4"));
    expect(second.file).toBe(join(dir, "mine (2).mp4"));
    expect(await readFile(join(dir, "mine.mp4"), "utf8")).toBe("precious");
    expect(await listing(dir)).toEqual(["mine (1).mp4", "mine (2).mp4", "mine.mp4"]);
  });

  it("creates the output folder", async () => {
    const outcome = await completed();
    const dir = join(work, "deep", "er", "folder");
    const result = await downloadRender(client, outcome, { outputDir: dir });
    expect(result.file.startsWith(dir)).toBe(true);
  });

  it("fails on a truncated body and leaves no temp file", async () => {
    const outcome = await completed();
    sandbox.inject({ endpoint: "download", kind: { type: "truncated" } });
    const dir = await mkdtemp(join(work, "cut-"));
    const err = await downloadRender(client, outcome, { outputDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadFailedError);
    expect((err as DownloadFailedError).userMessage).toContain(outcome.renderId);
    expect(await listing(dir)).toEqual([]);
  });

  it("fails when the size differs from what the render announced", async () => {
    const outcome = await completed();
    const dir = await mkdtemp(join(work, "size-"));
    const err = await downloadRender(
      client,
      { ...outcome, sizeBytes: (outcome.sizeBytes ?? 0) + 1 },
      {
        outputDir: dir,
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadFailedError);
    expect(await listing(dir)).toEqual([]);
  });

  it("fails on an error answer without falling back", async () => {
    const outcome = await completed();
    sandbox.inject({ endpoint: "download", kind: { type: "http", status: 500 } });
    const dir = await mkdtemp(join(work, "500-"));
    const err = await downloadRender(client, outcome, { outputDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadFailedError);
    expect((err as Error).message).toMatch(/HTTP 500/);
    expect(downloadRequests(outcome.renderId)).toHaveLength(1);
    expect(await listing(dir)).toEqual([]);
  });

  it("rejects file names that are not plain names before downloading", async () => {
    const dir = await mkdtemp(join(work, "names-"));
    for (const bad of [
      "../escape.mp4",
      "a/b.mp4",
      "a\\b.mp4",
      "nul\0.mp4",
      "",
      "  ",
      "..",
      "x..mp4",
      "tab\t.mp4",
    ]) {
      await expect(
        downloadRender(client, { renderId: "render_1" }, { outputDir: dir, fileName: bad }),
      ).rejects.toBeInstanceOf(InvalidInputError);
    }
    expect(await listing(dir)).toEqual([]);
    expect(exportFileName("clip", "r")).toBe("clip.mp4");
    expect(exportFileName("clip.MP4", "r")).toBe("clip.MP4");
    expect(exportFileName("clip.mov", "r")).toBe("clip.mov.mp4");
    expect(exportFileName(undefined, "render_1/../x")).toBe("nemovideo-render_1_.._x.mp4");
  });
});

describe("large downloads", () => {
  let big: Sandbox;
  let bigClient: NemoClient;
  let bigSession: string;

  beforeAll(async () => {
    big = await startSandbox({ stepMs: 0, renderSteps: 1, renderOutputBytes: 50 * 1024 * 1024 });
    bigClient = makeClient(big.url).client;
    bigSession = await exportableSession(bigClient, big);
  });
  afterAll(() => big.close());

  it("aborts mid-download: CancelledError, socket closed, no .part file", async () => {
    const outcome = await exportSession(bigClient, bigSession, FAST);
    expect(outcome.sizeBytes).toBe(50 * 1024 * 1024);
    const dir = await mkdtemp(join(work, "abort-"));
    const controller = new AbortController();
    let last = 0;
    const err = await downloadRender(bigClient, outcome, {
      outputDir: dir,
      signal: controller.signal,
      onProgress: (p) => {
        last = p.receivedBytes ?? 0;
        if (last > 2 * 1024 * 1024) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(last).toBeLessThan(50 * 1024 * 1024);
    expect(await listing(dir)).toEqual([]);
  });

  it("streams 50 MB to disk", async () => {
    const outcome = await exportSession(bigClient, bigSession, FAST);
    const dir = await mkdtemp(join(work, "big-"));
    const updates: number[] = [];
    const result = await downloadRender(bigClient, outcome, {
      outputDir: dir,
      onProgress: (p) => updates.push(p.receivedBytes ?? 0),
    });
    expect(result.bytes).toBe(50 * 1024 * 1024);
    expect((await stat(result.file)).size).toBe(50 * 1024 * 1024);
    for (let i = 1; i < updates.length; i++) expect(updates[i]).toBeGreaterThan(updates[i - 1]!);
    expect(updates.at(-1)).toBe(50 * 1024 * 1024);
  });
});

describe("downloads from addresses the backend hands out (SSRF)", () => {
  it("a public API's render URL pointing at loopback is refused before any byte is fetched", async () => {
    let hits = 0;
    const target: Server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { "content-type": "video/mp4", "content-length": "4" });
      res.end("abcd");
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    const port = (target.address() as AddressInfo).port;
    const publicApi = makeClient("https://api.nemovideo.invalid").client;
    const dir = await mkdtemp(join(tmpdir(), "nemo-ssrf-"));
    try {
      for (const url of [
        `http://127.0.0.1:${port}/v.mp4`,
        `http://localhost:${port}/v.mp4`,
        `http://[::ffff:127.0.0.1]:${port}/v.mp4`,
      ]) {
        const err = await downloadRender(publicApi, { renderId: "r1", url }, { outputDir: dir }).catch(
          (e: unknown) => e,
        );
        expect(err, url).toBeInstanceOf(DownloadFailedError);
        expect((err as Error).message, url).toMatch(/local or private network/);
      }
      expect(hits).toBe(0);
      expect(await readdir(dir)).toEqual([]);
      // a local API (the sandbox, a developer's own backend) may hand out local URLs
      const local = makeClient(sandbox.url).client;
      const saved = await downloadRender(
        local,
        { renderId: "r2", url: `http://127.0.0.1:${port}/v.mp4` },
        { outputDir: dir },
      );
      expect(saved.bytes).toBe(4);
      expect(hits).toBe(1);
    } finally {
      await new Promise<void>((r) => target.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a trickling download", () => {
  it("fails as stalled when a window brings less than the minimum rate, leaving no temp file", async () => {
    let timer: NodeJS.Timeout | undefined;
    const trickle: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "video/mp4", "content-length": String(1024 * 1024) });
      res.write(Buffer.alloc(4096));
      timer = setInterval(() => res.write(Buffer.alloc(1)), 50);
      res.on("close", () => clearInterval(timer));
    });
    await new Promise<void>((r) => trickle.listen(0, "127.0.0.1", r));
    const port = (trickle.address() as AddressInfo).port;
    const local = makeClient(sandbox.url).client;
    const dir = await mkdtemp(join(tmpdir(), "nemo-trickle-"));
    try {
      const err = await downloadRender(
        local,
        { renderId: "r_slow", url: `http://127.0.0.1:${port}/v.mp4` },
        { outputDir: dir, minRate: { bytes: 1024, windowMs: 300 } },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DownloadFailedError);
      expect((err as Error).message).toMatch(/stalled: less than 1 KiB arrived in 300 ms/);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      clearInterval(timer);
      trickle.closeAllConnections();
      await new Promise<void>((r) => trickle.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
