import { isInside } from "../client/paths.js";
import { realpath } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidInputError } from "../client/errors.js";
import type { Logger } from "../log.js";

/** Lists the client's MCP roots (file:// URIs), or undefined when the client offers none. */
export type RootsSource = () => Promise<string[] | undefined>;

/** Hosted mode: the server's disk is not the user's; local paths and downloads only where configured. */
interface HostedFiles {
  /** NEMO_ALLOWED_DIRS was set: `paths` may read inside it. */
  localPaths: boolean;
  /** NEMO_OUTPUT_DIR was set: exports are downloaded there; otherwise only their URL is returned. */
  downloads: boolean;
}

/**
 * Where uploads may read from and exports may write to: the client's MCP roots when it offers
 * them (refreshed when they change), else NEMO_ALLOWED_DIRS, else the working and home folders.
 */
export class FileAccess {
  private roots: Promise<string[]> | undefined;

  constructor(
    private readonly fallbackDirs: string[],
    readonly outputDir: string,
    private readonly logger: Logger,
    private rootsSource?: RootsSource,
    readonly hosted?: HostedFiles,
  ) {}

  /** Sets where MCP roots come from (once the client has connected) and forgets cached roots. */
  useRoots(source: RootsSource | undefined): void {
    // A hosted client's roots name folders on its own machine, not on this server.
    if (this.hosted) return;
    this.rootsSource = source;
    this.roots = undefined;
  }

  /** Forgets cached roots (on notifications/roots/list_changed). */
  invalidate(): void {
    this.roots = undefined;
  }

  /** The allowed upload roots, resolved with realpath. */
  allowedRoots(): Promise<string[]> {
    if (this.hosted && !this.hosted.localPaths) {
      return Promise.reject(
        new InvalidInputError(
          "This hosted server does not read local files: `paths` name files on the server, not on your machine.",
          "Upload by URL with `urls` instead (a public or signed link to the file).",
        ),
      );
    }
    this.roots ??= this.loadRoots().catch((err) => {
      this.roots = undefined;
      throw err;
    });
    return this.roots;
  }

  private async loadRoots(): Promise<string[]> {
    let dirs = this.fallbackDirs;
    if (this.rootsSource) {
      try {
        const uris = await this.rootsSource();
        if (uris && uris.length > 0) {
          dirs = uris.filter((u) => u.startsWith("file:")).map((u) => fileURLToPath(u));
        }
      } catch (err) {
        this.logger.debug(`Could not list the client's roots: ${(err as Error).message}`);
      }
    }
    const out: string[] = [];
    for (const dir of dirs) {
      try {
        out.push(await realpath(dir));
      } catch {
        // a root that does not exist cannot hold files
      }
    }
    return out;
  }

  /**
   * Resolves the folder an export goes to: the configured output folder, or `requested` when it
   * lies inside the output folder or an allowed root. Relative paths are taken from the output folder.
   * Hosted without NEMO_OUTPUT_DIR: "" (the export is not downloaded; its URL is returned).
   */
  async exportDir(requested: string | undefined): Promise<string> {
    if (this.hosted && !this.hosted.downloads) {
      if (requested !== undefined && requested.trim() !== "") {
        throw new InvalidInputError(
          "This hosted server does not save exports to its disk, so output_dir cannot be used.",
          "Leave output_dir out: the export returns the video's url to download it yourself.",
        );
      }
      return "";
    }
    if (requested === undefined || requested.trim() === "") return this.outputDir;
    if (requested.includes("\0")) throw new InvalidInputError("The output folder contains a NUL byte.");
    const target = resolve(this.outputDir, requested);
    const real = await realpathOfExistingPrefix(target);
    const allowed = [await realpathOfExistingPrefix(this.outputDir), ...(await this.allowedRoots())];
    if (!allowed.some((root) => isInside(root, real))) {
      throw new InvalidInputError(
        `Exports can only be saved inside ${this.outputDir} or the allowed folders; "${requested}" is outside them.`,
        "Leave output_dir out to use the default folder, or pick a folder inside your workspace.",
      );
    }
    return target;
  }
}

/** realpath of the longest existing prefix of `path`, with the rest appended (for folders not made yet). */
async function realpathOfExistingPrefix(path: string): Promise<string> {
  let head = resolve(path);
  const tail: string[] = [];
  for (;;) {
    try {
      return resolve(await realpath(head), ...tail.reverse());
    } catch {
      const parent = resolve(head, "..");
      if (parent === head) return resolve(path);
      tail.push(head.slice(parent.length).replace(/^[\\/]/, ""));
      head = parent;
    }
  }
}
