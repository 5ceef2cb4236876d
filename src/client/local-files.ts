/** Local-file safety before an upload: existence, type, format, size, allowed roots, and opening the checked file. */
import { constants as fsConstants } from "node:fs";
import { access, type FileHandle, open, realpath, stat } from "node:fs/promises";
import { basename, extname, resolve } from "node:path";
import { FileTooLargeError, InvalidInputError, UnsupportedFileError } from "./errors.js";
import { ACCEPTED_FORMATS, isAcceptedExtension, MAX_UPLOAD_BYTES } from "./formats.js";
import { isInside, mb } from "./paths.js";

/** A local file that passed every pre-upload check. */
export interface LocalFileCheck {
  /** Real path (symlinks resolved). */
  path: string;
  name: string;
  size: number;
  /** Lower-case extension without the dot. */
  extension: string;
}

/** A checked file plus its identity, so the bytes sent later come from the very file that was checked. */
export interface CheckedFile extends LocalFileCheck {
  dev: number;
  ino: number;
}

/** Where a local file may come from and how large it may be. */
export interface CheckOptions {
  /** Directories the file must be inside (after resolving symlinks); no restriction when absent. */
  allowedRoots?: string[] | undefined;
  /** Largest accepted size; default 500 MB. */
  maxBytes?: number | undefined;
}

async function realRoots(roots: string[]): Promise<string[]> {
  const resolved = await Promise.all(roots.map((root) => realpath(resolve(root)).catch(() => undefined)));
  return resolved.filter((root): root is string => root !== undefined);
}

function outsideRootsError(path: string, roots: string[]): InvalidInputError {
  return new InvalidInputError(
    `${path} is outside the folders this server may read.`,
    roots.length > 0
      ? `Move or copy the file into one of: ${roots.join(", ")} (or add its folder to NEMO_ALLOWED_DIRS).`
      : "Add its folder to NEMO_ALLOWED_DIRS (or to the client's MCP roots).",
  );
}

/**
 * Checks one local file before anything is sent: no NUL byte, real path inside the allowed roots,
 * exists, regular file, readable, accepted extension, non-empty and within the size limit.
 */
export async function checkLocalFile(path: string, opts: CheckOptions = {}): Promise<LocalFileCheck> {
  const { path: real, name, size, extension } = await inspectLocalFile(path, opts);
  return { path: real, name, size, extension };
}

/** Like `checkLocalFile`, keeping the file's identity for `openChecked`. */
export async function inspectLocalFile(path: string, opts: CheckOptions): Promise<CheckedFile> {
  if (typeof path !== "string" || path.trim() === "") {
    throw new InvalidInputError("An empty file path was given.", "Pass the path of a local media file.");
  }
  if (path.includes("\0")) {
    throw new InvalidInputError("The file path contains a NUL byte.", "Pass a plain file path.");
  }
  const roots = opts.allowedRoots ? await realRoots(opts.allowedRoots) : undefined;
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Do not reveal whether files outside the roots exist.
    if (roots && !roots.some((root) => isInside(root, resolve(path)))) throw outsideRootsError(path, roots);
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new InvalidInputError(`file not found: ${path}`, "Check the path (absolute paths are safest).", {
        cause: err,
      });
    }
    throw new InvalidInputError(
      `Cannot open ${path} (${code ?? "error"}).`,
      "Check the path and its permissions.",
      {
        cause: err,
      },
    );
  }
  if (roots && !roots.some((root) => isInside(root, real))) throw outsideRootsError(path, roots);

  const info = await stat(real);
  if (info.isDirectory()) {
    throw new InvalidInputError(
      `${path} is a directory, not a file.`,
      "Pass the path of a media file inside it.",
    );
  }
  if (!info.isFile()) {
    throw new InvalidInputError(
      `${path} is not a regular file (it is a device, pipe or socket).`,
      "Pass the path of a media file saved on disk.",
    );
  }
  const name = basename(real);
  const extension = extname(name).slice(1).toLowerCase();
  if (!isAcceptedExtension(extension)) {
    throw new UnsupportedFileError(
      `${name} is not a format NemoVideo accepts${extension ? ` (.${extension})` : " (no file extension)"}.`,
      `Accepted formats: ${ACCEPTED_FORMATS.join(", ")}. Convert the file to one of these first.`,
    );
  }
  const maxBytes = opts.maxBytes ?? MAX_UPLOAD_BYTES;
  if (info.size > maxBytes) {
    throw new FileTooLargeError(
      `${name} is ${mb(info.size)} MB, over the ${mb(maxBytes)} MB upload limit.`,
      "Compress the video or trim it, then upload again.",
    );
  }
  if (info.size === 0) {
    throw new InvalidInputError(`${name} is empty (0 bytes).`, "Check that the file was saved completely.");
  }
  try {
    await access(real, fsConstants.R_OK);
  } catch (err) {
    throw new InvalidInputError(
      `${path} cannot be read (permission denied).`,
      "Check the file's permissions.",
      {
        cause: err,
      },
    );
  }
  return { path: real, name, size: info.size, extension, dev: info.dev, ino: info.ino };
}

/** The error for a file that is no longer the one that was checked. */
export function changedFileError(file: Pick<LocalFileCheck, "name">): InvalidInputError {
  return new InvalidInputError(`${file.name} changed while it was being uploaded.`, "Try the upload again.");
}

/** Opens a checked file without following a swapped-in symlink or blocking on a swapped-in FIFO. */
export async function openChecked(file: CheckedFile): Promise<FileHandle> {
  const flags = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);
  const handle = await open(file.path, flags).catch((err: unknown) => {
    throw new InvalidInputError(
      `Cannot open ${file.path}.`,
      "Check that the file still exists and is readable.",
      {
        cause: err,
      },
    );
  });
  const info = await handle.stat().catch(() => undefined);
  if (!info?.isFile() || info.dev !== file.dev || info.ino !== file.ino || info.size !== file.size) {
    await handle.close().catch(() => {});
    throw changedFileError(file);
  }
  return handle;
}
