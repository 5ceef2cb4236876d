import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallToolRequest, CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { build } from "esbuild";
import { type BrowserContext, chromium, type Frame, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PLAYER_URI, TIMELINE_URI } from "../../src/server/views/apps.js";
import { type MemoryOptions, type MemoryServer, startMemoryServer } from "../helpers/mcp-memory.js";
import { ROOT, SAMPLE } from "../helpers/paths.js";
import { sc } from "../helpers/results.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** With UPDATE_SCREENSHOTS=1 the views are also saved into docs/ for the README. */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === "1";

type Theme = "light" | "dark";

let profile: string;
let browser: BrowserContext;
let host: Server;
let hostUrl: string;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, "host-page.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "warning",
  });
  const page = `<!doctype html><html><head><meta charset="utf-8"><style>
    html, body { margin: 0; padding: 0; }
    html[data-theme="dark"] body { background: #0b0c10; }
    iframe { display: block; width: 100%; height: 200px; border: 0; }
  </style></head><body><script type="module">${bundle.outputFiles[0]!.text}</script></body></html>`;
  host = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(page);
  });
  await new Promise<void>((ok) => host.listen(0, "127.0.0.1", ok));
  hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}/`;
  // A fresh profile (--user-data-dir) for every run, on a short path: Chromium puts a unix socket in its
  // temp folder, and socket paths are limited to ~100 bytes (the test run's TMPDIR can be deeply nested).
  profile = await mkdtemp(join(process.platform === "win32" ? tmpdir() : "/tmp", "nemo-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    env: { ...process.env, TMPDIR: profile },
    headless: true,
    args: FLAGS,
    viewport: { width: 720, height: 640 },
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((ok) => (host ? host.close(() => ok()) : ok()));
  if (profile) await rm(profile, { recursive: true, force: true });
});

let mem: MemoryServer | undefined;
let page: Page | undefined;
afterEach(async () => {
  await page?.close();
  page = undefined;
  await mem?.close();
  mem = undefined;
});

interface Mounted {
  page: Page;
  view: Frame;
  /** Every tools/call the view made through the host (name and arguments). */
  calls: Array<Pick<CallToolRequest["params"], "name" | "arguments">>;
}

async function start(options: MemoryOptions = {}): Promise<MemoryServer> {
  mem = await startMemoryServer(options);
  await copyFile(SAMPLE, join(mem.dir, "clip.mp4"));
  await mem.client.callTool({ name: "upload_media", arguments: { paths: [join(mem.dir, "clip.mp4")] } });
  return mem;
}

/** Opens the test host, mounts the view of `uri` with the server's CSP and feeds it `result`. */
async function mount(m: MemoryServer, uri: string, result: CallToolResult, theme: Theme): Promise<Mounted> {
  const calls: Mounted["calls"] = [];
  page = await browser.newPage();
  await page.exposeFunction("hostCallTool", async (params: CallToolRequest["params"]) => {
    calls.push({ name: params.name, arguments: params.arguments });
    return m.client.callTool(params);
  });
  await page.goto(hostUrl);
  const read = await m.client.readResource({ uri });
  const content = read.contents[0] as { text: string; _meta?: { ui?: { csp?: unknown } } };
  await page.evaluate(({ html, csp, res, th }) => window.mountView(html, csp as never, res, th), {
    html: content.text,
    csp: content._meta?.ui?.csp ?? {},
    res: result,
    th: theme,
  });
  const view = page.frames().find((f) => f !== page!.mainFrame());
  if (!view) throw new Error("the view's frame is missing");
  return { page, view, calls };
}

async function exportNow(m: MemoryServer, waitSeconds = 45): Promise<CallToolResult> {
  return (await m.client.callTool({
    name: "export_video",
    arguments: { wait_seconds: waitSeconds },
  })) as CallToolResult;
}

/** Relative luminance (0 dark … 1 light) of the view's background. */
async function backgroundLuminance(view: Frame): Promise<number> {
  const rgb = await view.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? ["0", "0", "0"]).map(Number) as [number, number, number];
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

async function shoot(mounted: Mounted, name: string): Promise<void> {
  const shot = await mounted.page
    .locator("iframe")
    .screenshot(SCREENSHOTS ? { path: join(ROOT, "docs", `${name}.png`) } : {});
  expect(shot.length).toBeGreaterThan(2000);
}

const waitForMetadata = (view: Frame) =>
  view.waitForFunction(() => (document.querySelector("video")?.readyState ?? 0) >= 1, undefined, {
    timeout: 20_000,
  });

describe("the player view in Chromium", { timeout: 60_000 }, () => {
  for (const theme of ["light", "dark"] as const) {
    it(`plays the exported MP4 from the sandbox with title, length and size (${theme})`, async () => {
      const m = await start();
      const result = await exportNow(m);
      expect(sc(result).status).toBe("completed");
      const mounted = await mount(m, PLAYER_URI, result, theme);
      await waitForMetadata(mounted.view);
      const video = await mounted.view.evaluate(() => {
        const v = document.querySelector("video")!;
        return { src: v.currentSrc, duration: v.duration, width: v.videoWidth };
      });
      expect(video.src).toBe(sc(result).url);
      expect(video.duration).toBeGreaterThan(1);
      expect(video.width).toBeGreaterThan(0);
      const title = await mounted.view.textContent(".title");
      expect(title).toMatch(/\.mp4$/);
      const meta = await mounted.view.textContent(".meta");
      expect(meta).toMatch(/^\d+:\d{2} · \d+×\d+ · \d+ KB$/);
      expect(await mounted.view.getAttribute("a.download", "href")).toBe(sc(result).url);
      const lum = await backgroundLuminance(mounted.view);
      if (theme === "dark") expect(lum).toBeLessThan(0.3);
      else expect(lum).toBeGreaterThan(0.7);
      // Play (muted) to the middle so the picture is not the first frame; the sandbox serves no ranges to seek in.
      await mounted.view.evaluate(
        () =>
          new Promise<void>((done, fail) => {
            const v = document.querySelector("video")!;
            v.muted = true;
            v.addEventListener("timeupdate", () => {
              if (v.currentTime < v.duration / 2) return;
              v.pause();
              done();
            });
            v.play().catch(fail);
          }),
      );
      await shoot(mounted, `player-${theme}`);
    });
  }

  it("follows a running render through get_export and then plays it", async () => {
    const m = await start({
      sandboxOptions: { stepMs: 1, renderSteps: 30 },
      env: { NEMO_RENDER_POLL_MS: "150" },
    });
    const result = await exportNow(m, 0);
    expect(sc(result).status).toBe("rendering");
    const mounted = await mount(m, PLAYER_URI, result, "light");
    expect(await mounted.view.textContent(".meta")).toMatch(/^Rendering 0% · render /);
    // The bar moves while the render runs…
    await mounted.view.waitForFunction(() => {
      const now = Number(document.querySelector(".progress")?.getAttribute("aria-valuenow"));
      return now > 0 && now < 100;
    });
    // …and the finished render plays.
    await waitForMetadata(mounted.view);
    const polls = mounted.calls.filter((c) => c.name === "get_export");
    expect(polls.length).toBeGreaterThanOrEqual(2);
    for (const call of polls) expect(call.arguments?.render_id).toBe(sc(result).render_id);
  });

  it("asks get_export for a fresh link when the video fails to load", async () => {
    const m = await start();
    const result = await exportNow(m);
    const good = sc(result).url as string;
    const dead: CallToolResult = {
      ...result,
      structuredContent: { ...sc(result), url: `${m.sandbox.url}/files/renders/expired.mp4` },
    };
    const mounted = await mount(m, PLAYER_URI, dead, "light");
    await waitForMetadata(mounted.view);
    expect(mounted.calls).toEqual([
      { name: "get_export", arguments: { render_id: sc(result).render_id, wait_seconds: 0 } },
    ]);
    expect(await mounted.view.evaluate(() => document.querySelector("video")!.currentSrc)).toBe(good);
    expect(await mounted.view.getAttribute("a.download", "href")).toBe(good);
  });
});

describe("results without an export or a timeline", { timeout: 60_000 }, () => {
  it("the player shows the text of an error result", async () => {
    const m = await start();
    const unknown = (await m.client.callTool({
      name: "get_export",
      arguments: { render_id: "made-up" },
    })) as CallToolResult;
    expect(unknown.isError).toBe(true);
    const mounted = await mount(m, PLAYER_URI, unknown, "light");
    await mounted.view.waitForSelector("p.message");
    expect(await mounted.view.textContent("p.message")).toMatch(/No export with render id "made-up"/);
    expect(await mounted.view.$("video")).toBeNull();
    expect(mounted.calls).toEqual([]);
  });
});

describe("the timeline view in Chromium", { timeout: 60_000 }, () => {
  const draft = {
    d: 20_000,
    m: {},
    t: [
      {
        tt: 0,
        m: { name: "Video" },
        sg: [
          { id: "v1", st: 0, d: 8_000, m: { name: "beach.mp4" } },
          { id: "v2", st: 8_000, d: 12_000, m: { name: "sunset.mp4" } },
        ],
      },
      { tt: 1, m: { name: "Music" }, sg: [{ id: "a1", st: 0, d: 20_000, m: { name: "calm-piano.mp3" } }] },
      {
        tt: 1,
        m: { name: "Voiceover" },
        sg: [{ id: "a2", st: 2_000, d: 10_000, m: { name: "narration.mp3" } }],
      },
      {
        tt: 7,
        m: { name: "Captions" },
        sg: [
          { id: "t1", st: 500, d: 4_000, m: { text: "A day at the sea" } },
          { id: "t2", st: 12_000, d: 5_000, m: { text: "Golden hour" } },
        ],
      },
    ],
  };

  for (const theme of ["light", "dark"] as const) {
    it(`draws one lane per track with bars to scale and the summary (${theme})`, async () => {
      const m = await start();
      const sessionId = ((await m.runtime.sessions.current()) as { sessionId: string }).sessionId;
      m.sandbox.state.setDraft(sessionId, draft);
      const result = (await m.client.callTool({ name: "get_state", arguments: {} })) as CallToolResult;
      const state = sc(result);
      expect(state.tracks).toHaveLength(4);
      const mounted = await mount(m, TIMELINE_URI, result, theme);
      await mounted.view.waitForSelector(".lane-row.track");
      const lanes = await mounted.view.$$eval(".lane-row.track", (rows) =>
        rows.map((row) => ({
          kind: (row as HTMLElement).dataset.kind,
          name: row.querySelector(".lane-name")?.textContent,
          bars: [...row.querySelectorAll<HTMLElement>(".bar")].map((bar) => {
            const lane = bar.parentElement!.getBoundingClientRect();
            const box = bar.getBoundingClientRect();
            return {
              label: bar.textContent,
              left: (box.left - lane.left) / lane.width,
              width: box.width / lane.width,
            };
          }),
        })),
      );
      expect(lanes.map((l) => [l.kind, l.bars.length])).toEqual(
        state.tracks.map((t: any) => [t.kind, t.segments.length]),
      );
      const sunset = lanes[0]!.bars[1]!;
      expect(sunset.label).toBe("sunset.mp4");
      expect(sunset.left).toBeCloseTo(0.4, 2);
      expect(sunset.width).toBeCloseTo(0.6, 2);
      const voice = lanes[2]!.bars[0]!;
      expect(voice.left).toBeCloseTo(0.1, 2);
      expect(voice.width).toBeCloseTo(0.5, 2);
      expect(await mounted.view.textContent(".summary")).toBe(state.summary);
      const lum = await backgroundLuminance(mounted.view);
      if (theme === "dark") expect(lum).toBeLessThan(0.3);
      else expect(lum).toBeGreaterThan(0.7);
      await shoot(mounted, `timeline-${theme}`);
    });
  }

  it("reloads the timeline through get_state when asked", async () => {
    const m = await start();
    const result = (await m.client.callTool({ name: "get_state", arguments: {} })) as CallToolResult;
    expect(sc(result).tracks).toHaveLength(1);
    const mounted = await mount(m, TIMELINE_URI, result, "light");
    await mounted.view.waitForSelector(".lane-row.track");
    const sessionId = sc(result).session_id as string;
    m.sandbox.state.setDraft(sessionId, draft);
    await mounted.view.click("button.refresh");
    await mounted.view.waitForFunction(() => document.querySelectorAll(".lane-row.track").length === 4);
    expect(mounted.calls).toEqual([{ name: "get_state", arguments: { session_id: sessionId } }]);
  });
});
