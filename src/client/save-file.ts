/** Saving a downloaded file: name checks, the output folder, a private temp file, and no-overwrite placement. */
import { randomBytes } from "node:crypto";
import { writev } from "node:fs";
import { chmod, type FileHandle, link, mkdir, open, rename, rm } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { Writable } from "node:stream";
import { act } from "./actions.js";
import { DownloadFailedError, InvalidInputError } from "./errors.js";

/** 255 bytes (the usual file-name limit) minus the temp suffix `.<name>.<12 hex>.part`. */
const MAX_NAME_BYTES = 255 - 19;
const MAX_NUMBERED_NAMES = 1000;
/** Bytes a temp file's writer buffers before it holds the sender back: one file write per MiB, not per chunk. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

/** The file name a download is saved under; throws InvalidInputError for anything but a plain name. */
export function exportFileName(fileName: string | undefined, renderId: string): string {
  if (fileName === undefined) return `nemovideo-${renderId.replace(/[^A-Za-z0-9._-]/g, "_")}.mp4`;
  const name = fileName.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is being rejected
  const invalid = !name || /[/\\]/.test(name) || name.includes("..") || /[\u0000-\u001f\u007f]/.test(name);
  if (invalid) {
    throw new InvalidInputError(
      `Invalid file_name ${JSON.stringify(fileName.slice(0, 100))}: it must be a plain file name.`,
      `Use a name such as "my-video.mp4", without folders, ".." or control characters; choose the folder with ${act("choose_folder")}.`,
    );
  }
  const withExtension = extname(name).toLowerCase() === ".mp4" ? name : `${name}.mp4`;
  if (Buffer.byteLength(withExtension) > MAX_NAME_BYTES) {
    throw new InvalidInputError("The file_name is too long.", `Use at most ${MAX_NAME_BYTES} bytes.`);
  }
  return withExtension;
}

/**
 * Checks, before a render is submitted, that its download can be saved: a plain file name that fits
 * (with the temp suffix), and an output folder that is (or can be made) a writable directory.
 */
export async function checkOutputTarget(outputDir: string, fileName: string | undefined): Promise<void> {
  exportFileName(fileName, "render_0000000000000");
  const dir = resolve(outputDir);
  const next = `Pass a writable folder as ${act("choose_folder")} (or set NEMO_OUTPUT_DIR) before exporting.`;
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = errorCode(err);
    const what =
      code === "EEXIST" || code === "ENOTDIR" ? "is a file, not a folder" : `cannot be created (${code})`;
    throw new InvalidInputError(`The output folder ${dir} ${what}; nothing was rendered.`, next, {
      cause: err,
    });
  }
  const probe = join(dir, `.nemovideo-check-${randomBytes(6).toString("hex")}.part`);
  try {
    await (await open(probe, "wx", 0o600)).close();
  } catch (err) {
    throw new InvalidInputError(
      `Cannot write to the output folder ${dir} (${errorCode(err)}); nothing was rendered.`,
      next,
      { cause: err },
    );
  } finally {
    await rm(probe, { force: true }).catch(() => {});
  }
}

/**
 * A file being saved as `<dir>/<name>`: written to a private temp file beside it (`.<name>.<12 hex>.part`,
 * 0600), then placed under the name, or `name (1)`, `name (2)`... : an existing file is never replaced.
 */
export class TempFile {
  private writer: Writable | undefined;
  private settled = false;

  private constructor(
    /** The folder the file is saved in (absolute). */
    readonly dir: string,
    /** The plain file name it is saved under (see exportFileName). */
    readonly name: string,
    /** The temp file's path. */
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the output folder and the temp file; DownloadFailedError when either cannot be made. */
  static async create(outputDir: string, name: string): Promise<TempFile> {
    const dir = resolve(outputDir);
    const next = `Pass a writable folder as ${act("choose_folder")} (or set NEMO_OUTPUT_DIR).`;
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new DownloadFailedError(`Cannot create the output folder ${dir} (${errorCode(err)}).`, next, {
        cause: err,
      });
    }
    const path = join(dir, `.${name}.${randomBytes(6).toString("hex")}.part`);
    try {
      return new TempFile(dir, name, path, await open(path, "wx", 0o600));
    } catch (err) {
      throw new DownloadFailedError(`Cannot write to ${dir} (${errorCode(err)}).`, next, { cause: err });
    }
  }

  /**
   * The one writer of the file: buffers up to 1 MiB while a write is under way and writes what gathered
   * in one call, so a fast sender is not held up by one small file write per chunk. `onWritten` gets the
   * running total after each write.
   */
  writable(onWritten?: (bytes: number) => void): Writable {
    if (this.writer) throw new Error("A temp file has one writer.");
    const fd = this.handle.fd;
    let written = 0;
    // fs.writev with a callback: the promise API's per-call overhead costs a third of the speed (npm run bench)
    const writeAll = (buffers: Buffer[], callback: (error?: Error | null) => void): void => {
      writev(fd, buffers, (error, bytes) => {
        if (error) return callback(error);
        written += bytes;
        const rest = skipBytes(buffers, bytes);
        if (rest.length > 0) return writeAll(rest, callback);
        onWritten?.(written);
        callback();
      });
    };
    this.writer = new Writable({
      highWaterMark: WRITE_BUFFER_BYTES,
      write(chunk: Buffer, _encoding, callback) {
        writeAll([chunk], callback);
      },
      writev(chunks, callback) {
        writeAll(
          chunks.map((c) => c.chunk as Buffer),
          callback,
        );
      },
    });
    return this.writer;
  }

  /** Places the finished file under its name without overwriting anything; returns the path it got. */
  async save(): Promise<string> {
    await this.handle.close();
    await chmod(this.path, 0o644).catch(() => {});
    const placed = await placeWithoutOverwrite(this.path, this.dir, this.name);
    this.settled = true;
    return placed;
  }

  /** Removes the temp file (a failed or cancelled download); does nothing once the file was saved. */
  async discard(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    if (this.writer && !this.writer.destroyed) this.writer.destroy();
    await this.handle.close().catch(() => {});
    await rm(this.path, { force: true }).catch(() => {});
  }
}

/** `buffers` without their first `count` bytes. */
function skipBytes(buffers: Buffer[], count: number): Buffer[] {
  let left = count;
  let i = 0;
  while (i < buffers.length && left >= (buffers[i]?.length ?? 0)) left -= buffers[i++]?.length ?? 0;
  const rest = buffers.slice(i);
  if (left > 0 && rest[0]) rest[0] = rest[0].subarray(left);
  return rest;
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? "error";
}

/** Links the finished temp file to `name`, or `name (1)`, `name (2)`, ... : an existing file is never replaced. */
async function placeWithoutOverwrite(temp: string, dir: string, name: string): Promise<string> {
  const ext = extname(name);
  const stem = ext ? name.slice(0, -ext.length) : name;
  for (let n = 0; n < MAX_NUMBERED_NAMES; n++) {
    const candidate = join(dir, n === 0 ? name : `${stem} (${n})${ext}`);
    try {
      await link(temp, candidate);
      await rm(temp, { force: true }).catch(() => {});
      return candidate;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
    }
    // no hard links on this file system: reserve the name exclusively, then move the temp file onto it
    try {
      await (await open(candidate, "wx")).close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    await rename(temp, candidate);
    return candidate;
  }
  throw new DownloadFailedError(
    `Too many files named like ${name} in ${dir}.`,
    `Pass another folder as ${act("choose_folder")}, or another file name.`,
  );
}
