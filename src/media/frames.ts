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

/** An ffmpeg executable: `configured` (NEMO_FFMPEG) when it is one, else the first `ffmpeg` on `searchPath` (PATH). */
export async function findFfmpeg(
  configured: string | undefined,
  searchPath: string,
): Promise<string | undefined> {
  if (configured !== undefined) return (await executable(configured)) ? configured : undefined;
  const names = process.platform === "win32" ? ["ffmpeg.exe", "ffmpeg"] : ["ffmpeg"];
  for (const dir of searchPath.split(delimiter).filter(Boolean)) {
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
interface SheetOptions {
  signal?: AbortSignal | undefined;
  /** Limit of the whole run, all ffmpeg calls together (default 30 s). */
  timeoutMs?: number;
}

/** ffmpeg arguments for a 2×2 sheet of the frames at `times` (seconds), each at most `width` pixels a side. */
function sheetArgs(input: string, times: number[], width: number, inputOptions: string[] = []): string[] {
  // A seek before each input jumps to the nearest keyframe: no need to decode the whole video.
  const inputs = times.flatMap((t) => [...inputOptions, "-ss", t.toFixed(3), "-i", input]);
  const scaled = times.map(
    (_, i) =>
      `[${i}:v]trim=end_frame=1,scale=${width}:${width}:force_original_aspect_ratio=decrease,setsar=1[f${i}]`,
  );
  const joined = `${times.map((_, i) => `[f${i}]`).join("")}concat=n=${times.length}:v=1:a=0,tile=2x2:padding=4:margin=4`;
  return [
    "-loglevel",
    "error",
    ...inputs,
    "-filter_complex",
    [...scaled, joined].join(";"),
    "-frames:v",
    "1",
    "-q:v",
    "6",
    "-f",
    "mjpeg",
    "pipe:1",
  ];
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
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  // A link is read over http(s) only; a path only as a file (no concat:, pipes or playlists elsewhere).
  const remote = /^https?:\/\//i.test(input);
  const protocols = ["-protocol_whitelist", remote ? "http,https,tcp,tls" : "file"];
  const run = (args: string[], maxStdout: number) =>
    runFfmpeg(ffmpeg, ["-hide_banner", "-nostdin", ...args], {
      signal: options.signal,
      timeoutMs: Math.max(1, deadline - Date.now()),
      maxStdout,
    });
  // Without an output ffmpeg exits 1 after printing the input's banner, which holds the duration.
  const probe = await run([...protocols, "-i", input], 0);
  const duration = parseDuration(probe.stderr);
  if (duration === undefined) return undefined;
  // The middles of four equal parts.
  const times = [1, 3, 5, 7].map((k) => (duration * k) / 8);
  for (const width of WIDTHS) {
    const sheet = await run(sheetArgs(input, times, width, protocols), SHEET_OUTPUT_LIMIT);
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
