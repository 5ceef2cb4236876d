import { spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contactSheet, findFfmpeg, isJpeg, MAX_SHEET_BYTES, parseDuration } from "../../src/media/frames.js";
import { ROOT } from "../helpers/paths.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "nemo-frames-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stand-in "ffmpeg": a shell script that prints `stderr` and exits with `code`. */
async function fakeFfmpeg(name: string, stderr: string, code: number): Promise<string> {
  const path = join(dir, name, "ffmpeg");
  await mkdir(join(dir, name), { recursive: true });
  await writeFile(path, `#!/bin/sh\necho '${stderr}' >&2\nexit ${code}\n`);
  await chmod(path, 0o755);
  return path;
}

describe("parseDuration", () => {
  it("reads ffmpeg's Duration line", () => {
    expect(parseDuration("  Duration: 00:00:06.04, start: 0.000000, bitrate: 330 kb/s")).toBeCloseTo(6.04);
    expect(parseDuration("Duration: 01:02:03.5,")).toBeCloseTo(3723.5);
  });
  it("gives undefined for no duration, N/A or zero", () => {
    expect(parseDuration("Invalid data found when processing input")).toBeUndefined();
    expect(parseDuration("Duration: N/A, bitrate: N/A")).toBeUndefined();
    expect(parseDuration("Duration: 00:00:00.00,")).toBeUndefined();
  });
});

describe("isJpeg", () => {
  it("checks the start and end markers", () => {
    expect(isJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0xff, 0xd9]))).toBe(true);
    expect(isJpeg(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]))).toBe(false);
    expect(isJpeg(Buffer.alloc(0))).toBe(false);
  });
});

describe("findFfmpeg", () => {
  it("uses NEMO_FFMPEG when it is executable, and nothing else when it is not", async () => {
    const fake = await fakeFfmpeg("configured", "", 0);
    expect(await findFfmpeg(fake, "")).toBe(fake);
    expect(await findFfmpeg(join(dir, "missing"), join(dir, "configured"))).toBeUndefined();
  });
  it("searches PATH, and finds nothing in a PATH without ffmpeg", async () => {
    const fake = await fakeFfmpeg("onpath", "", 0);
    expect(await findFfmpeg(undefined, [join(dir, "empty"), join(dir, "onpath")].join(":"))).toBe(fake);
    expect(await findFfmpeg(undefined, join(dir, "empty"))).toBeUndefined();
    expect(await findFfmpeg(undefined, "")).toBeUndefined();
  });
});

describe("contactSheet", () => {
  it("makes one JPEG of at most 200 KB from the sample video with the real ffmpeg", async () => {
    const ffmpeg = await findFfmpeg(undefined, process.env.PATH ?? "");
    expect(ffmpeg, "ffmpeg must be installed for the tests (.ci/run installs it)").toBeDefined();
    const sheet = await contactSheet(ffmpeg!, join(ROOT, "fixtures", "sample.mp4"));
    expect(sheet).toBeDefined();
    expect(isJpeg(sheet!)).toBe(true);
    expect(sheet!.length).toBeLessThanOrEqual(MAX_SHEET_BYTES);
  });
  it("keeps a portrait video upright and small", async () => {
    const ffmpeg = (await findFfmpeg(undefined, process.env.PATH ?? ""))!;
    const portrait = join(dir, "portrait.mp4");
    const made = spawnSync(ffmpeg, [
      ...[
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=360x640:rate=10:duration=2",
      ],
      ...["-pix_fmt", "yuv420p", portrait],
    ]);
    expect(made.status, String(made.stderr)).toBe(0);
    const sheet = (await contactSheet(ffmpeg, portrait))!;
    expect(isJpeg(sheet)).toBe(true);
    expect(sheet.length).toBeLessThanOrEqual(MAX_SHEET_BYTES);
    const probe = spawnSync(ffmpeg, ["-hide_banner", "-f", "image2pipe", "-i", "pipe:0"], { input: sheet });
    const [, w, h] = /(\d{2,})x(\d{2,})/.exec(String(probe.stderr)) ?? [];
    expect(Number(h)).toBeGreaterThan(Number(w));
  });
  it("gives undefined for a file that is not a video", async () => {
    const ffmpeg = (await findFfmpeg(undefined, process.env.PATH ?? ""))!;
    const junk = join(dir, "junk.mp4");
    await writeFile(junk, Buffer.alloc(4096, 7));
    expect(await contactSheet(ffmpeg, junk)).toBeUndefined();
  });
  it("gives undefined when ffmpeg reports a duration but writes no picture", async () => {
    const fake = await fakeFfmpeg("broken", "  Duration: 00:00:05.00, start: 0", 1);
    expect(await contactSheet(fake, "/any/input.mp4")).toBeUndefined();
  });
  it("stops at once when the caller aborts", async () => {
    const ffmpeg = (await findFfmpeg(undefined, process.env.PATH ?? ""))!;
    const controller = new AbortController();
    controller.abort();
    await expect(
      contactSheet(ffmpeg, join(ROOT, "fixtures", "sample.mp4"), { signal: controller.signal }),
    ).rejects.toThrow(/abort/i);
  });
});
