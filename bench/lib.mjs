// Shared helpers of the benchmark suite: paths, statistics, child processes, the benchmark client.
import { spawn } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = dirname(BENCH);
export const DIST = join(ROOT, "dist");
export const CLI = join(DIST, "cli.js");
export const CURL = "/usr/bin/curl";
export const TIME = "/usr/bin/time";
/** GNU time reports peak RSS; without it curl's memory is simply not reported. */
export const HAS_TIME = existsSync(TIME);

export const MiB = 1024 * 1024;

// ---------- statistics ----------

export function median(values) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values, p) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(s.length, rank) - 1];
}

export const round = (v, digits = 2) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

// ---------- child processes ----------

/** Every child this bench started and that has not exited yet, so cleanup can end exactly those. */
const children = new Set();

/** Spawns a child and remembers it until it exits. */
export function spawnTracked(command, args, options = {}) {
  const child = spawn(command, args, options);
  children.add(child);
  child.once("exit", () => children.delete(child));
  child.once("error", () => children.delete(child));
  return child;
}

/** Kills the children this bench started (by their own handle, one by one). */
export function killChildren() {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
}

/** Keeps the last `max` characters of a stream, for error messages. */
function tail(stream, max = 4000) {
  let text = "";
  stream?.on("data", (chunk) => {
    text = (text + chunk.toString("utf8")).slice(-max);
  });
  return () => text;
}

/**
 * Runs a command to completion; wall time is measured here (spawn to exit). With `measureRss`
 * and GNU time available, the command runs under `/usr/bin/time -f %M` and its peak RSS is reported.
 */
export function runTimed(command, args, { env, cwd, measureRss = false, rssFile } = {}) {
  const wrapped = measureRss && HAS_TIME && rssFile;
  const cmd = wrapped ? TIME : command;
  const argv = wrapped ? ["-f", "%M", "-o", rssFile, command, ...args] : args;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawnTracked(cmd, argv, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    const out = tail(child.stdout, 1_000_000);
    const err = tail(child.stderr);
    child.once("error", reject);
    child.once("exit", async (code, signal) => {
      const wallMs = performance.now() - started;
      let maxRssKb;
      if (wrapped) {
        const text = await readFile(rssFile, "utf8").catch(() => "");
        const kb = Number(text.trim().split("\n").pop());
        if (Number.isFinite(kb) && kb > 0) maxRssKb = kb;
      }
      if (code !== 0) {
        const said = `${out().trim().slice(-1500)}\n${err().trim().slice(-1500)}`.trim();
        reject(new Error(`${command} exited with ${code ?? signal}: ${said}`));
        return;
      }
      resolve({ wallMs, maxRssKb, stdout: out(), stderr: err() });
    });
  });
}

/** Runs `node bench/<worker>` with one JSON argument and returns its JSON report plus the parent's wall time. */
export async function runWorker(worker, input, { nodeArgs = [], env } = {}) {
  const { wallMs, stdout } = await runTimed(
    process.execPath,
    [...nodeArgs, join(BENCH, worker), JSON.stringify(input)],
    { env: env ?? process.env, cwd: ROOT },
  );
  const line = stdout.trim().split("\n").pop() ?? "";
  let report;
  try {
    report = JSON.parse(line);
  } catch {
    throw new Error(`${worker} printed no JSON report: ${stdout.slice(-500)}`);
  }
  if (report.error) throw new Error(`${worker}: ${report.error}`);
  return { ...report, processWallMs: wallMs };
}

/** The environment of a `dist/cli.js` child: everything under `dir`, nothing from the user's home. */
export function serverEnv(apiUrl, dir, extra = {}) {
  return {
    PATH: process.env.PATH ?? "",
    HOME: dir,
    NEMO_API_URL: apiUrl,
    NEMO_WEB_URL: "https://nemovideo.test",
    NEMO_STATE_DIR: join(dir, "state"),
    NEMO_OUTPUT_DIR: join(dir, "exports"),
    NEMO_ALLOWED_DIRS: dir,
    ...extra,
  };
}

// ---------- the client under test ----------

/** A NemoClient of the built code for scripts and workers, with its state in `stateDir`. */
export async function makeClient(apiUrl, stateDir) {
  const [{ NemoClient }, { StateStore }] = await Promise.all([
    import("../dist/client/client.js"),
    import("../dist/client/store.js"),
  ]);
  return new NemoClient({
    config: {
      apiUrl,
      webUrl: "https://nemovideo.test",
      token: undefined,
      clientId: undefined,
      retry429Ms: 10,
      requestTimeoutMs: 600_000,
    },
    skill: { name: "ai-voiceover-for", version: "1.0.0", platform: "unknown" },
    store: new StateStore(stateDir),
  });
}

/** The cached anonymous token for `apiUrl` in a state directory (`token.json`). */
export async function readToken(stateDir, apiUrl) {
  const all = JSON.parse(await readFile(join(stateDir, "token.json"), "utf8"));
  const token = all[apiUrl]?.token;
  if (!token) throw new Error(`no token for ${apiUrl} in ${stateDir}/token.json`);
  return token;
}

/** Writes `size` pseudo-random bytes (real blocks, not sparse). */
export async function writeRandomFile(path, size) {
  const handle = await open(path, "w");
  try {
    const block = Buffer.allocUnsafe(4 * MiB);
    let left = size;
    while (left > 0) {
      const n = Math.min(block.length, left);
      randomFillSync(block, 0, n);
      await handle.write(block, 0, n);
      left -= n;
    }
  } finally {
    await handle.close();
  }
}

/** One JSON line on stdout: how workers report to the parent. */
export function report(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Runs a worker's main function and reports either its result or its error as JSON. */
export function workerMain(main) {
  const input = JSON.parse(process.argv[2] ?? "{}");
  main(input).then(
    (value) => {
      report(value);
      process.exit(0);
    },
    (err) => {
      report({ error: err?.stack ?? String(err) });
      process.exit(1);
    },
  );
}

/** Peak RSS of this process so far, in KB. */
export const maxRssKb = () => process.resourceUsage().maxRSS;
