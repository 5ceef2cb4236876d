import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, SAMPLE } from "../helpers/paths.js";

const DEMO = join(ROOT, "dist", "demo.js");
const HAS_FFPROBE = spawnSync("ffprobe", ["-version"], { stdio: "ignore" }).error === undefined;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built demo with stdout on a pipe (not a TTY), as CI would. */
function runDemo(args: string[], cwd: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NO_COLOR; // plain output must come from "not a TTY", not from NO_COLOR
  return new Promise((done) => {
    execFile(process.execPath, [DEMO, ...args], { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** The video codec of the first video stream: ffprobe when installed, else the MP4 boxes. */
async function videoCodec(file: string): Promise<string> {
  if (HAS_FFPROBE) {
    const probe = spawnSync(
      "ffprobe",
      ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0", file],
      { encoding: "utf8" },
    );
    return probe.stdout.trim();
  }
  const bytes = await readFile(file);
  return bytes.includes("ftyp") && bytes.includes("avc1") ? "h264" : "unknown";
}

/** The file's duration in seconds (ffprobe). */
function duration(file: string): number {
  const probe = spawnSync(
    "ffprobe",
    ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file],
    { encoding: "utf8" },
  );
  return Number(probe.stdout.trim());
}

/** The timeline's length as the demo prints it: the latest segment end of its track lines ("0:00–1:00"). */
function timelineSeconds(out: string): number {
  const ends = [...out.matchAll(/\d+:\d\d–(\d+):(\d\d)/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  expect(ends.length, out).toBeGreaterThan(0);
  return Math.max(...ends);
}

/** Checks what every successful run prints and the MP4 it leaves in `outDir`. */
async function expectSuccessfulRun(run: Run, outDir: string): Promise<void> {
  expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
  const out = run.stdout;

  expect(out).toContain("1/6 Connecting to the sandbox");
  expect(out).toContain("2/6 Creating a project");
  expect(out).toContain("3/6 Uploading");
  expect(out).toContain("4/6 Asking the agent");
  expect(out).toContain("5/6 Exporting the MP4");
  expect(out).toContain("6/6 Checking credits");

  const lines = out.split("\n");
  const agent = lines.findIndex((l) => l.trim() === "Agent:");
  expect(agent).toBeGreaterThan(-1);
  expect(lines[agent + 1]?.trim().length ?? 0).toBeGreaterThan(10);
  expect(out).toContain("Timeline (");

  const before = /Credits before: (\d+)/.exec(out);
  const after = /Credits after: (\d+) \(spent (\d+)\)/.exec(out);
  expect(before, out).not.toBeNull();
  expect(after, out).not.toBeNull();
  expect(Number(after![1])).toBeLessThan(Number(before![1]));
  expect(Number(after![2])).toBe(Number(before![1]) - Number(after![1]));

  const file = out.split(/\s+/).find((word) => word.startsWith(`${outDir}${sep}`) && word.endsWith(".mp4"));
  expect(file, out).toBeDefined();
  expect(out).toContain("Done in");
  expect(await videoCodec(file!)).toBe("h264");
  // with ffmpeg (CI installs it) the sandbox draws the render from the timeline, and says it is a stand-in
  expect(out).toContain("stand-ins drawn from the timeline");
  expect(out).toContain("a sandbox stand-in drawn from the timeline");
  expect((await readFile(file!)).equals(await readFile(SAMPLE))).toBe(false);
  expect(Math.abs(duration(file!) - timelineSeconds(out))).toBeLessThan(0.2);

  // not a TTY: plain lines only
  expect(out.includes("\u001b")).toBe(false);
  expect(out.includes("\r")).toBe(false);
  expect(run.stderr).not.toContain("✗");
}

describe("npm run demo (built dist/demo.js, --fast)", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "nemo-demo-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("walks the AI voiceover flow from upload to a playable H.264 MP4", { timeout: 60_000 }, async () => {
    const outDir = join(dir, "voiceover");
    const run = await runDemo(["--fast", "--out", outDir], dir);
    await expectSuccessfulRun(run, outDir);
    expect(run.stdout).toContain("Uploading sample.mp4");
    expect(run.stdout).toContain("Backend is running generate_voiceover");
  });

  it("walks the script-to-video flow with --generator", { timeout: 60_000 }, async () => {
    const outDir = join(dir, "generator");
    const run = await runDemo(["--fast", "--generator", "--out", outDir], dir);
    await expectSuccessfulRun(run, outDir);
    expect(run.stdout).toContain("Uploading script.txt");
    expect(run.stdout).toContain('Script: "Meet Lumen');
    expect(run.stdout).toContain("Backend is running generate_video");
    expect(run.stdout).toMatch(/Timeline \(3 tracks\)/);
  });

  it("rejects unknown flags with usage and exit code 2", async () => {
    const run = await runDemo(["--nope"], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Usage:");
  });
});
