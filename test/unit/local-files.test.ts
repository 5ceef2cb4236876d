import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileTooLargeError, InvalidInputError, UnsupportedFileError } from "../../src/client/errors.js";
import { checkLocalFile, inspectLocalFile, openChecked } from "../../src/client/local-files.js";

let dir: string;
let root: string;
let outside: string;

beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), "nemo-local-files-")));
  root = join(dir, "root");
  outside = join(dir, "outside");
  await mkdir(root);
  await mkdir(outside);
  await writeFile(join(root, "Clip.MP4"), Buffer.alloc(2048, 1));
  await writeFile(join(root, "empty.mp4"), "");
  await writeFile(join(root, "notes.pdf"), "pdf");
  await writeFile(join(root, "noext"), "x");
  await writeFile(join(outside, "secret.mp4"), "s");
  await symlink(join(outside, "secret.mp4"), join(root, "escape.mp4"));
  await symlink(join(root, "Clip.MP4"), join(root, "alias.mp4"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(path: string, opts = {}): Promise<Error> {
  const err = await checkLocalFile(path, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error(`${path} was accepted`);
  return err;
}

describe("checkLocalFile", () => {
  it("returns the real path, name, size and lower-case extension", async () => {
    expect(await checkLocalFile(join(root, "alias.mp4"), { allowedRoots: [root] })).toEqual({
      path: join(root, "Clip.MP4"),
      name: "Clip.MP4",
      size: 2048,
      extension: "mp4",
    });
  });

  it("names the cause and the next step for each bad file", async () => {
    const cases: Array<[string, new (...a: never[]) => Error, RegExp]> = [
      ["", InvalidInputError, /empty file path/],
      [`${join(root, "Clip.MP4")}\0`, InvalidInputError, /NUL byte/],
      [join(root, "missing.mp4"), InvalidInputError, /file not found/],
      [root, InvalidInputError, /is a directory/],
      [join(root, "empty.mp4"), InvalidInputError, /empty \(0 bytes\)/],
      [join(root, "notes.pdf"), UnsupportedFileError, /\(\.pdf\)/],
      [join(root, "noext"), UnsupportedFileError, /no file extension/],
      ["/dev/null", InvalidInputError, /not a regular file/],
    ];
    for (const [path, type, message] of cases) {
      const err = await refusal(path);
      expect(err, path).toBeInstanceOf(type);
      expect(err.message, path).toMatch(message);
    }
  });

  it("refuses a file over the limit in MB", async () => {
    const err = await refusal(join(root, "Clip.MP4"), { maxBytes: 1024 });
    expect(err).toBeInstanceOf(FileTooLargeError);
    expect(err.message).toBe("Clip.MP4 is 0.0 MB, over the 0.0 MB upload limit.");
  });

  it("refuses what lies outside the roots, through symlinks too, without telling whether it exists", async () => {
    const opts = { allowedRoots: [root] };
    expect((await refusal(join(root, "escape.mp4"), opts)).message).toMatch(/outside the folders/);
    expect((await refusal(join(outside, "secret.mp4"), opts)).message).toMatch(/outside the folders/);
    expect((await refusal(join(outside, "nothing.mp4"), opts)).message).toMatch(/outside the folders/);
    expect(await checkLocalFile(join(outside, "secret.mp4"))).toMatchObject({ name: "secret.mp4" });
  });
});

describe("openChecked", () => {
  it("opens the checked file and refuses one that changed since the check", async () => {
    const path = join(dir, "changing.mp4");
    await writeFile(path, "first");
    const checked = await inspectLocalFile(path, {});
    const handle = await openChecked(checked);
    expect((await handle.readFile()).toString()).toBe("first");
    await handle.close();
    await writeFile(path, "second version");
    await expect(openChecked(checked)).rejects.toThrow(/changed while it was being uploaded/);
    await rm(path);
    await expect(openChecked(checked)).rejects.toThrow(/Cannot open/);
  });
});
