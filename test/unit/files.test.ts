import { mkdir, mkdtemp, realpath, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/client/errors.js";
import { Logger } from "../../src/log.js";
import { FileAccess, type RootsSource } from "../../src/server/files.js";

const quiet = new Logger("error", () => {});

let base: string;
let out: string;
let allowed: string;
let outside: string;

beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), "nemo-files-")));
  out = join(base, "exports");
  allowed = join(base, "workspace");
  outside = join(base, "elsewhere");
  await Promise.all([mkdir(out), mkdir(allowed), mkdir(outside)]);
});

const files = (roots?: RootsSource, hosted?: ConstructorParameters<typeof FileAccess>[4]) =>
  new FileAccess([allowed, join(base, "missing")], out, quiet, roots, hosted);

describe("allowed roots", () => {
  it("are the fallback folders that exist, resolved with realpath", async () => {
    const link = join(base, "link-to-workspace");
    await symlink(allowed, link);
    const access = new FileAccess([link, join(base, "missing")], out, quiet);
    expect(await access.allowedRoots()).toEqual([allowed]);
  });

  it("are the client's file:// roots when it offers some, else the fallback", async () => {
    let uris: string[] | undefined = [pathToFileURL(outside).href, "https://example.com/not-a-folder"];
    let calls = 0;
    const access = files(async () => {
      calls++;
      return uris;
    });
    expect(await access.allowedRoots()).toEqual([outside]);
    // cached until invalidated (roots/list_changed)
    uris = [];
    expect(await access.allowedRoots()).toEqual([outside]);
    expect(calls).toBe(1);
    access.invalidate();
    expect(await access.allowedRoots()).toEqual([allowed]);
    expect(calls).toBe(2);
  });

  it("fall back when listing the client's roots fails", async () => {
    const access = files(() => Promise.reject(new Error("client went away")));
    expect(await access.allowedRoots()).toEqual([allowed]);
  });

  it("follow a new roots source, and the fallback once it is removed", async () => {
    const access = files();
    expect(await access.allowedRoots()).toEqual([allowed]);
    access.useRoots(async () => [pathToFileURL(outside).href]);
    expect(await access.allowedRoots()).toEqual([outside]);
    access.useRoots(undefined);
    expect(await access.allowedRoots()).toEqual([allowed]);
  });

  it("hosted: never the client's roots, and no local paths at all unless configured", async () => {
    const hosted = files(undefined, { localPaths: false, downloads: true });
    hosted.useRoots(async () => [pathToFileURL(outside).href]);
    const err = await hosted.allowedRoots().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toMatch(/does not read local files/);
    const configured = files(undefined, { localPaths: true, downloads: true });
    configured.useRoots(async () => [pathToFileURL(outside).href]);
    expect(await configured.allowedRoots()).toEqual([allowed]);
  });
});

describe("exportDir", () => {
  it("is the output folder when nothing (or only spaces) is asked for", async () => {
    expect(await files().exportDir(undefined)).toBe(out);
    expect(await files().exportDir("  ")).toBe(out);
  });

  it("takes a folder inside the output folder or an allowed root, even one not made yet", async () => {
    expect(await files().exportDir("finals")).toBe(join(out, "finals"));
    expect(await files().exportDir(join(allowed, "renders", "today"))).toBe(
      join(allowed, "renders", "today"),
    );
  });

  it("refuses a folder outside them, by .. or through a symlink, and a NUL byte", async () => {
    const access = files();
    await symlink(outside, join(allowed, "escape"));
    for (const requested of [outside, "../elsewhere", join(allowed, "escape", "x"), "a\0b"]) {
      const err = await access.exportDir(requested).catch((e: unknown) => e);
      expect(err, requested).toBeInstanceOf(InvalidInputError);
    }
    const err = (await access.exportDir(outside).catch((e: unknown) => e)) as InvalidInputError;
    expect(err.message).toContain(out);
    expect(err.nextStep).toMatch(/Leave output_dir out/);
  });

  it("hosted without an output folder: no download (''), and output_dir is refused", async () => {
    const access = files(undefined, { localPaths: false, downloads: false });
    expect(await access.exportDir(undefined)).toBe("");
    const err = await access.exportDir("finals").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toMatch(/does not save exports/);
  });
});
