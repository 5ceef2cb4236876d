import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DownloadFailedError, InvalidInputError } from "../../src/client/errors.js";
import { checkOutputTarget, exportFileName, TempFile } from "../../src/client/save-file.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "save-file-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function saveBytes(name: string, chunks: Buffer[], outputDir = dir): Promise<string> {
  const file = await TempFile.create(outputDir, name);
  await pipeline(Readable.from(chunks), file.writable());
  return file.save();
}

describe("exportFileName", () => {
  it("adds .mp4, keeps a plain name and names unnamed renders after their id", () => {
    expect(exportFileName("clip", "r")).toBe("clip.mp4");
    expect(exportFileName(" clip.MP4 ", "r")).toBe("clip.MP4");
    expect(exportFileName(undefined, "render_1/../x")).toBe("nemovideo-render_1_.._x.mp4");
  });

  it("refuses folders, '..', control characters and names too long for the temp suffix", () => {
    for (const bad of ["a/b", "a\\b", "..", "x..y", "a\u0000b", "  "]) {
      expect(() => exportFileName(bad, "r")).toThrow(InvalidInputError);
    }
    // 236 bytes with the extension is the most that still fits ".<name>.<12 hex>.part" in 255 bytes
    expect(exportFileName(`${"a".repeat(232)}.mp4`, "r")).toHaveLength(236);
    expect(() => exportFileName(`${"a".repeat(233)}.mp4`, "r")).toThrow(/too long/);
    expect(() => exportFileName(`${"é".repeat(117)}.mp4`, "r")).toThrow(/too long/);
  });
});

describe("TempFile", () => {
  it("writes through a private .part file and places it under its name", async () => {
    const file = await TempFile.create(join(dir, "new", "folder"), "a.mp4");
    expect(file.path).toMatch(/\/\.a\.mp4\.[0-9a-f]{12}\.part$/);
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    const totals: number[] = [];
    await pipeline(
      Readable.from([Buffer.from("hello "), Buffer.from("world")]),
      file.writable((n) => totals.push(n)),
    );
    const saved = await file.save();
    expect(saved).toBe(join(dir, "new", "folder", "a.mp4"));
    expect(await readFile(saved, "utf8")).toBe("hello world");
    expect(totals.at(-1)).toBe(11);
    expect(await readdir(join(dir, "new", "folder"))).toEqual(["a.mp4"]);
  });

  it("never overwrites: later files get numbered names", async () => {
    await writeFile(join(dir, "v.mp4"), "mine");
    const first = await saveBytes("v.mp4", [Buffer.from("1")]);
    const second = await saveBytes("v.mp4", [Buffer.from("2")]);
    expect([first, second]).toEqual([join(dir, "v (1).mp4"), join(dir, "v (2).mp4")]);
    expect(await readFile(join(dir, "v.mp4"), "utf8")).toBe("mine");
  });

  it("writes a large body in order, whatever the chunk sizes", async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(37_000 + i * 1013, i));
    const saved = await saveBytes("big.mp4", chunks);
    expect((await readFile(saved)).equals(Buffer.concat(chunks))).toBe(true);
  });

  it("discard removes the temp file and leaves nothing behind", async () => {
    const file = await TempFile.create(dir, "gone.mp4");
    const writer = file.writable();
    writer.write(Buffer.from("partial"));
    await file.discard();
    expect(await readdir(dir)).toEqual([]);
  });

  it("has one writer", async () => {
    const file = await TempFile.create(dir, "one.mp4");
    file.writable();
    expect(() => file.writable()).toThrow(/one writer/);
    await file.discard();
  });

  it("fails with DownloadFailedError when the folder is a file", async () => {
    await writeFile(join(dir, "file"), "x");
    await expect(TempFile.create(join(dir, "file"), "a.mp4")).rejects.toBeInstanceOf(DownloadFailedError);
  });
});

describe("checkOutputTarget", () => {
  it("accepts a writable folder (creating it) and leaves no probe file", async () => {
    await checkOutputTarget(join(dir, "out"), "x.mp4");
    expect(await readdir(join(dir, "out"))).toEqual([]);
  });

  it("names a file in the way and a bad file name before anything is rendered", async () => {
    await writeFile(join(dir, "file"), "x");
    await expect(checkOutputTarget(join(dir, "file"), undefined)).rejects.toThrow(/is a file, not a folder/);
    await expect(checkOutputTarget(dir, "../x")).rejects.toBeInstanceOf(InvalidInputError);
  });
});
