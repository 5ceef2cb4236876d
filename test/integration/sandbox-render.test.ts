import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { findFfmpeg } from "../../src/media/frames.js";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../src/sandbox/index.js";
import { SAMPLE } from "../helpers/paths.js";

// CI installs ffmpeg (.ci/run); these tests are about what the sandbox draws with it.
const SKILL_HEADERS = { "x-skill-source": "test", "x-skill-version": "1.0.0", "x-skill-platform": "unknown" };

let sb: Sandbox | undefined;
let dir: string;

beforeAll(async () => {
  expect(
    await findFfmpeg(undefined, process.env.PATH ?? ""),
    "ffmpeg must be installed (.ci/run installs it)",
  ).toBeDefined();
  dir = await mkdtemp(join(tmpdir(), "nemo-render-"));
  return () => rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function json(method: "GET" | "POST", path: string, token?: string, body?: unknown): Promise<any> {
  const res = await request(`${sb!.url}${path}`, {
    method,
    headers: {
      ...SKILL_HEADERS,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return res.body.json();
}

/** Renders `draft` on a sandbox started with `options` and returns the downloaded file. */
async function render(draft: unknown, options: SandboxOptions = {}): Promise<string> {
  sb = await startSandbox({ stepMs: 0, heartbeatMs: 0, renderSteps: 1, timelineRenders: true, ...options });
  const anon = await anonymous();
  const session = await json("POST", "/api/tasks/me/with-session/nemo_agent", anon, {
    task_name: "project",
    language: "en",
  });
  const id = `render_${Math.random().toString(36).slice(2)}`;
  await json("POST", "/api/render/proxy/lambda", anon, { id, sessionId: session.data.session_id, draft });
  let status: any;
  for (let i = 0; i < 600; i += 1) {
    status = await json("GET", `/api/render/proxy/lambda/${id}`, anon);
    if (status.data.status === "completed" || status.data.status === "failed") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(status.data.status).toBe("completed");
  const res = await request(status.data.output.url);
  const bytes = Buffer.from(await res.body.arrayBuffer());
  expect(bytes.length).toBe(status.data.output.size);
  const file = join(dir, `${id}.mp4`);
  await writeFile(file, bytes);
  return file;
}

async function anonymous(): Promise<string> {
  const res = await request(`${sb!.url}/api/auth/anonymous-token`, {
    method: "POST",
    headers: { "x-client-id": "render-test" },
  });
  return ((await res.body.json()) as { data: { token: string } }).data.token;
}

function probe(file: string): { duration: number; streams: string[] } {
  const out = execFileSync(
    "ffprobe",
    ["-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of", "json", file],
    { encoding: "utf8" },
  );
  const parsed = JSON.parse(out) as { format: { duration: string }; streams: Array<{ codec_name: string }> };
  return { duration: Number(parsed.format.duration), streams: parsed.streams.map((s) => s.codec_name) };
}

/** One frame at `at` seconds as 64x36 grey pixels. */
function frame(file: string, at: number): Buffer {
  return execFileSync("ffmpeg", [
    "-hide_banner",
    "-loglevel",
    "error",
    "-nostdin",
    "-ss",
    String(at),
    "-i",
    file,
    "-frames:v",
    "1",
    "-vf",
    "scale=64:36",
    "-pix_fmt",
    "gray",
    "-f",
    "rawvideo",
    "-",
  ]);
}

const difference = (a: Buffer, b: Buffer) =>
  a.reduce((sum, v, i) => sum + Math.abs(v - (b[i] ?? 0)), 0) / a.length;

const seg = (id: string, st: number, d: number, m: Record<string, unknown>) => ({ id, st, d, m });

describe("sandbox renders drawn from the timeline (ffmpeg)", () => {
  it("lasts as long as the timeline, with H.264 video and AAC audio, and is not the input clip", async () => {
    const file = await render({
      d: 9000,
      m: {},
      t: [
        { tt: 0, m: { name: "Video" }, sg: [seg("s1", 0, 9000, { name: "sample.mp4" })] },
        { tt: 1, m: { name: "AI Voiceover" }, sg: [seg("s2", 0, 9000, { name: "English voiceover" })] },
        { tt: 7, m: { name: "Title" }, sg: [seg("s3", 0, 3000, { text: "Meet Lumen" })] },
      ],
    });
    expect(sb!.renders).toBe("timeline");
    const { duration, streams } = probe(file);
    expect(Math.abs(duration - 9)).toBeLessThan(0.2);
    expect(streams).toEqual(expect.arrayContaining(["h264", "aac"]));
    expect((await readFile(file)).equals(await readFile(SAMPLE))).toBe(false);
  });

  it("draws the title only during its segment", async () => {
    const file = await render({
      d: 4000,
      m: {},
      t: [{ tt: 7, m: { name: "Title" }, sg: [seg("s1", 0, 2000, { text: "Hello sandbox" })] }],
    });
    const during = frame(file, 1);
    const after = frame(file, 3);
    const later = frame(file, 3.5);
    expect(difference(during, after)).toBeGreaterThan(2);
    expect(difference(after, later)).toBeLessThan(0.5);
  });

  it("sounds the voiceover during its segment and is silent outside it", async () => {
    const file = await render({
      d: 4000,
      m: {},
      t: [{ tt: 1, m: { name: "AI Voiceover" }, sg: [seg("s1", 0, 2000, { name: "English voiceover" })] }],
    });
    expect(volume(file, 0.2, 1.5)).toBeGreaterThan(-30);
    expect(volume(file, 2.5, 1.2)).toBeLessThan(-80);
  });

  it("serves the stand-in clip, saying so, when no ffmpeg is found", async () => {
    const saved = process.env.NEMO_FFMPEG;
    process.env.NEMO_FFMPEG = join(dir, "no-such-ffmpeg");
    try {
      const file = await render({
        d: 9000,
        m: {},
        t: [{ tt: 7, m: { name: "Title" }, sg: [seg("s1", 0, 3000, { text: "x" })] }],
      });
      expect(sb!.renders).toBe("stand-in");
      expect((await readFile(file)).equals(await readFile(SAMPLE))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.NEMO_FFMPEG;
      else process.env.NEMO_FFMPEG = saved;
    }
  });
});

/** Mean volume in dB of `length` seconds from `start`, from ffmpeg's volumedetect (-91 for silence). */
function volume(file: string, start: number, length: number): number {
  const args = ["-hide_banner", "-nostdin", "-ss", String(start), "-t", String(length), "-i", file];
  const { stderr } = spawnSync("ffmpeg", [...args, "-vn", "-af", "volumedetect", "-f", "null", "-"], {
    encoding: "utf8",
  });
  const match = /mean_volume: (-?[\d.]+|-inf) dB/.exec(stderr);
  expect(match, stderr).not.toBeNull();
  return match![1] === "-inf" ? Number.NEGATIVE_INFINITY : Number(match![1]);
}
