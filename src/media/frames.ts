import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, join } from "node:path";

/** Largest contact sheet handed to a model, in bytes. */
export const MAX_SHEET_BYTES = 200 * 1024;

/** Frame widths tried in turn until the sheet fits MAX_SHEET_BYTES. */
const WIDTHS = [480, 360, 240] as const;
const PROBE_OUTPUT_LIMIT = 256 * 1024;
const SHEET_OUTPUT_LIMIT = 4 * 1024 * 1024;

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** An ffmpeg executable: `configured` (NEMO_FFMPEG) when it is one, else the first `ffmpeg` on PATH. */
export async function findFfmpeg(
  configured: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (configured !== undefined) return (await executable(configured)) ? configured : undefined;
  const names = process.platform === "win32" ? ["ffmpeg.exe", "ffmpeg"] : ["ffmpeg"];
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = join(dir, name);
      if (await executable(candidate)) return candidate;
    }
  }
  return undefined;
}

interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs ffmpeg with a time limit, an output cap and the caller's signal; never rejects on exit codes. */
function runFfmpeg(
  ffmpeg: string,
  args: string[],
  opts: { signal?: AbortSignal | undefined; timeoutMs: number; maxStdout: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, {
      stdio: ["ignore", "pipe", "pipe"],
      timeout: opts.timeoutMs,
      killSignal: "SIGKILL",
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > opts.maxStdout) child.kill("SIGKILL");
      else out.push(chunk);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (err.length < PROBE_OUTPUT_LIMIT) err += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (outBytes > opts.maxStdout) reject(new Error("ffmpeg wrote more than expected"));
      else resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** Seconds from ffmpeg's "Duration: HH:MM:SS.cc" banner line; undefined when absent. */
export function parseDuration(banner: string): number | undefined {
  const m = /Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(banner);
  if (!m) return undefined;
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/** Options of one contact-sheet run. */
export interface SheetOptions {
  signal?: AbortSignal | undefined;
  /** Limit of each ffmpeg run (default 20 s). */
  timeoutMs?: number;
}

/**
 * A JPEG of four frames (2×2) spread over the video, at most MAX_SHEET_BYTES; undefined when ffmpeg
 * cannot read the input or no size fits.
 */
export async function contactSheet(
  ffmpeg: string,
  input: string,
  options: SheetOptions = {},
): Promise<Buffer | undefined> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const run = (args: string[], maxStdout: number) =>
    runFfmpeg(ffmpeg, ["-hide_banner", "-nostdin", ...args], {
      signal: options.signal,
      timeoutMs,
      maxStdout,
    });
  // Without an output ffmpeg exits 1 after printing the input's banner, which holds the duration.
  const probe = await run(["-i", input], 0);
  const duration = parseDuration(probe.stderr);
  if (duration === undefined) return undefined;
  // Four frames at the middles of four equal parts: skip an eighth, then one frame per quarter.
  const rate = `${4_000_000}/${Math.max(1, Math.round(duration * 1_000_000))}`;
  const start = (duration / 8).toFixed(3);
  for (const width of WIDTHS) {
    const sheet = await run(
      [
        "-loglevel",
        "error",
        "-ss",
        start,
        "-i",
        input,
        "-an",
        "-vf",
        `fps=${rate},scale=${width}:-2,tile=2x2:padding=4:margin=4`,
        "-frames:v",
        "1",
        "-q:v",
        "6",
        "-f",
        "mjpeg",
        "pipe:1",
      ],
      SHEET_OUTPUT_LIMIT,
    );
    if (sheet.code !== 0 || !isJpeg(sheet.stdout)) return undefined;
    if (sheet.stdout.length <= MAX_SHEET_BYTES) return sheet.stdout;
  }
  return undefined;
}

/** True when the bytes start and end like a JPEG (SOI … EOI). */
export function isJpeg(bytes: Buffer): boolean {
  return (
    bytes.length > 4 &&
    bytes[0] === 0xff &&
    bytes[1] === 0xd8 &&
    bytes[bytes.length - 2] === 0xff &&
    bytes[bytes.length - 1] === 0xd9
  );
}
