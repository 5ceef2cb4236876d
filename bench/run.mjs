// The benchmark suite (`npm run bench`): each benchmark runs our code and a reference side by side in
// the same run, several times, and reports medians and ratios. See bench/README.md.
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { request } from "undici";
import {
  BENCH,
  CLI,
  CURL,
  HAS_TIME,
  killChildren,
  MiB,
  makeClient,
  median,
  percentile,
  ROOT,
  readToken,
  round,
  runTimed,
  runWorker,
  serverEnv,
  spawnTracked,
  writeRandomFile,
} from "./lib.mjs";
import { hostingSettings, httpScale, httpToolCall, httpTurns } from "./hosting.mjs";

const NAMES = [
  "cold-start",
  "tool-call",
  "upload",
  "sse",
  "download",
  "concurrency",
  "http-tool-call",
  "http-turns",
  "http-scale",
];

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string", multiple: true },
    runs: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log(`Usage: node bench/run.mjs [--quick] [--only <name>]... [--runs N]
  names: ${NAMES.join(", ")}
  --quick   2 runs and smaller sizes (a smoke test; numbers are not the reference ones)
Writes bench/results.json; temp files go to $BENCH_TMPDIR or the OS temp folder and are removed.`);
  process.exit(0);
}
const only = (flags.only ?? []).flatMap((n) => n.split(","));
for (const name of only) {
  if (!NAMES.includes(name)) {
    console.error(`unknown benchmark "${name}"; expected one of ${NAMES.join(", ")}`);
    process.exit(2);
  }
}

const quick = flags.quick;
if (flags.runs !== undefined && !/^[1-9]\d*$/.test(flags.runs)) {
  console.error(`--runs must be a positive whole number, not "${flags.runs}"`);
  process.exit(2);
}
const RUNS = flags.runs ? Number(flags.runs) : quick ? 2 : 5;
const SETTINGS = {
  runs: RUNS,
  toolCalls: quick ? 50 : 200,
  toolWarmup: quick ? 10 : 20,
  // the backend and the client both refuse files over 500 MiB; stay just under
  uploadBytes: quick ? 64 * MiB : 500 * MiB - 1024,
  sseEvents: quick ? 20_000 : 100_000,
  sseEventsPerWrite: 100,
  downloadBytes: quick ? 64 * MiB : 500 * MiB,
  parallelCalls: 50,
};

let tmpRoot;
/** Set by Ctrl-C: nothing more is reported, results.json is left as it was. */
let interrupted = false;

// ---------- shared pieces ----------

async function sandboxModule() {
  return import("../dist/sandbox/index.js");
}

/** A NemoClient with a cached token and one session in `stateDir`, as the workers will find them. */
async function prepareAccount(apiUrl, stateDir, { session = true } = {}) {
  const client = await makeClient(apiUrl, stateDir);
  await client.auth.get();
  let sessionId;
  if (session) {
    const [{ Sessions }, { StateStore }] = await Promise.all([
      import("../dist/client/sessions.js"),
      import("../dist/client/store.js"),
    ]);
    sessionId = (await new Sessions(client, new StateStore(stateDir)).create("en")).sessionId;
  }
  return { client, sessionId, token: await readToken(stateDir, apiUrl) };
}

/** An SDK client connected over stdio to a fresh `dist/cli.js` child. */
async function connectServer(env, cwd) {
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI],
    env,
    cwd,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const client = new Client({ name: "nemovideo-bench", version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    close: () => client.close().catch(() => {}),
  };
}

function toolText(result) {
  return (result.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join(" ");
}

async function getCreditsRaw(url, token) {
  const res = await request(url, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
  });
  const body = await res.body.json();
  if (res.statusCode !== 200 || body.code !== 0) throw new Error(`credits answered ${res.statusCode}`);
  return body;
}

/** Two closures run back to back, in alternating order from run to run (neither always goes first). */
async function pair(run, a, b) {
  if (run % 2 === 0) return [await a(), await b()];
  const second = await b();
  return [await a(), second];
}

const ms = (v) => `${round(v, v < 10 ? 2 : v < 100 ? 1 : 0)} ms`;
const sec = (v) => `${round(v / 1000, 2)} s`;
const mb = (kb) => (kb === undefined || !Number.isFinite(kb) ? "n/a" : `${round(kb / 1024, 1)} MB`);
const x = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : "n/a");

// ---------- 1. cold start ----------

const INIT_LINE = `${JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "nemovideo-bench", version: "1.0.0" },
  },
})}\n`;

/** Spawn to the initialize response on stdout, measured here; the child is then closed and awaited. */
function timeInitialize(args, env, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawnTracked(process.execPath, args, { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let elapsed;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no initialize response within 15 s; stderr: ${err.slice(-1000)}`));
    }, 15_000);
    child.stderr.on("data", (c) => {
      err = (err + c).slice(-4000);
    });
    child.stdout.on("data", (chunk) => {
      if (elapsed !== undefined) return;
      out += chunk;
      for (let nl = out.indexOf("\n"); nl !== -1; nl = out.indexOf("\n")) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (msg.id !== 1) continue;
        elapsed = performance.now() - started;
        clearTimeout(timer);
        if (!msg.result?.serverInfo) {
          reject(new Error(`initialize failed: ${line.slice(0, 300)}`));
          child.kill("SIGKILL");
          return;
        }
        // closing stdin ends both servers; the next sample starts only once this one is gone
        const killer = setTimeout(() => child.kill("SIGKILL"), 3000);
        child.once("exit", () => {
          clearTimeout(killer);
          resolve(elapsed);
        });
        child.stdin.end();
        return;
      }
    });
    child.once("error", reject);
    child.stdin.on("error", () => {});
    child.stdin.write(INIT_LINE);
  });
}

async function coldStart() {
  const dir = await mkdtemp(join(tmpRoot, "cold-"));
  const env = serverEnv("http://127.0.0.1:9", dir);
  const ours = () => timeInitialize([CLI], env, dir);
  const ref = () => timeInitialize([join(BENCH, "minimal-server.mjs")], env, dir);
  await ours(); // warm the file cache of both, unmeasured
  await ref();
  const samples = [];
  for (let run = 0; run < SETTINGS.runs * 2; run++) {
    const [o, r] = await pair(run, ours, ref);
    samples.push({ oursMs: o, refMs: r, ratio: o / r });
  }
  const o = median(samples.map((s) => s.oursMs));
  const r = median(samples.map((s) => s.refMs));
  const ratio = median(samples.map((s) => s.ratio));
  return {
    samples,
    rows: [
      {
        name: "cold start: spawn → initialize result",
        ours: ms(o),
        ref: `${ms(r)} (minimal SDK server)`,
        ratio: x(ratio),
        target: "≤ 1.5x and < 300 ms",
        pass: ratio <= 1.5 && o < 300,
      },
    ],
    summary: { oursMedianMs: o, refMedianMs: r, ratioMedian: ratio, samplesPerSide: samples.length },
  };
}

// ---------- 2. tool-call overhead ----------

async function toolCall() {
  const { startSandbox } = await sandboxModule();
  const sandbox = await startSandbox({ stepMs: 0 });
  const dir = await mkdtemp(join(tmpRoot, "tool-"));
  const env = serverEnv(sandbox.url, dir);
  const creditsUrl = `${sandbox.url}/api/credits/balance/simple`;
  const samples = [];
  try {
    for (let run = 0; run < SETTINGS.runs; run++) {
      const server = await connectServer(env, dir);
      try {
        const ours = async () => {
          const started = performance.now();
          const result = await server.client.callTool({ name: "get_credits", arguments: {} });
          const elapsed = performance.now() - started;
          if (result.isError) throw new Error(`get_credits failed: ${toolText(result)}`);
          return elapsed;
        };
        await ours(); // acquires (first run) or loads the token
        const token = await readToken(join(dir, "state"), sandbox.url);
        const ref = async () => {
          const started = performance.now();
          await getCreditsRaw(creditsUrl, token);
          return performance.now() - started;
        };
        for (let i = 0; i < SETTINGS.toolWarmup; i++) await pair(i, ours, ref);
        const o = [];
        const r = [];
        for (let i = 0; i < SETTINGS.toolCalls; i++) {
          const [a, b] = await pair(i, ours, ref);
          o.push(a);
          r.push(b);
        }
        samples.push({
          oursP50: percentile(o, 50),
          oursP95: percentile(o, 95),
          refP50: percentile(r, 50),
          refP95: percentile(r, 95),
          addedP50: percentile(o, 50) - percentile(r, 50),
          addedP95: percentile(o, 95) - percentile(r, 95),
        });
      } finally {
        await server.close();
      }
    }
  } finally {
    await sandbox.close();
  }
  const m = (k) => median(samples.map((s) => s[k]));
  const summary = {
    oursP50: m("oursP50"),
    oursP95: m("oursP95"),
    refP50: m("refP50"),
    refP95: m("refP95"),
    addedP50: m("addedP50"),
    addedP95: m("addedP95"),
    callsPerRun: SETTINGS.toolCalls,
  };
  return {
    samples,
    summary,
    rows: [
      {
        name: "get_credits p50 via MCP stdio",
        ours: ms(summary.oursP50),
        ref: `${ms(summary.refP50)} (undici GET)`,
        ratio: x(summary.oursP50 / summary.refP50),
        target: "< 2 ms added at p50",
        pass: summary.addedP50 < 2,
        detail: `+${ms(summary.addedP50)} at p50`,
      },
      {
        name: "get_credits p95 via MCP stdio",
        ours: ms(summary.oursP95),
        ref: `${ms(summary.refP95)} (undici GET)`,
        ratio: x(summary.oursP95 / summary.refP95),
        target: "(info)",
        pass: null,
        detail: `+${ms(summary.addedP95)} at p95`,
      },
    ],
  };
}

// ---------- 3. upload ----------

async function upload() {
  const { startSandbox } = await sandboxModule();
  const dir = await mkdtemp(join(tmpRoot, "upload-"));
  const file = join(dir, "bench-upload.mp4");
  const size = SETTINGS.uploadBytes;
  await writeRandomFile(file, size);
  const sandbox = await startSandbox({ stepMs: 0, maxUploadBytes: Math.max(size, 500 * MiB) });
  const samples = [];
  try {
    const stateDir = join(dir, "state");
    const { sessionId, token } = await prepareAccount(sandbox.url, stateDir);
    const uploads = () => sandbox.state.getSession(sessionId)?.uploads ?? [];
    const checkLast = (who) => {
      const last = uploads().at(-1);
      if (last?.size !== size)
        throw new Error(`${who}: the sandbox registered ${last?.size} bytes, not ${size}`);
    };
    const ours = async () => {
      const before = uploads().length;
      const r = await runWorker("upload-worker.mjs", { apiUrl: sandbox.url, stateDir, sessionId, file });
      if (uploads().length !== before + 1) throw new Error("our upload was not registered");
      checkLast("ours");
      return r;
    };
    const curl = async () => {
      const before = uploads().length;
      const r = await runTimed(
        CURL,
        [
          "-sS",
          "-o",
          "/dev/null",
          "-F",
          `files=@${file}`,
          "-H",
          `Authorization: Bearer ${token}`,
          `${sandbox.url}/api/upload-video/nemo_agent/me/${sessionId}`,
        ],
        { measureRss: true, rssFile: join(dir, "curl-rss.txt") },
      );
      if (uploads().length !== before + 1) throw new Error("the curl upload was not registered");
      checkLast("curl");
      return r;
    };
    for (let run = 0; run < SETTINGS.runs; run++) {
      const [o, c] = await pair(run, ours, curl);
      samples.push(transferSample(o, c));
    }
  } finally {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  }
  return transferResult("upload", size, samples, 1.5);
}

/** One run of a transfer benchmark: our worker's figures beside curl's. */
function transferSample(o, c) {
  return {
    oursMs: o.ms,
    oursProcessMs: o.processWallMs,
    oursMaxRssKb: o.maxRssKb,
    oursRssBeforeKb: o.rssBeforeKb,
    curlMs: c.wallMs,
    curlMaxRssKb: c.maxRssKb,
    ratio: o.ms / c.wallMs,
  };
}

/** Rows of the upload and download benchmarks: wall-time ratio against curl, and our peak RSS. */
function transferResult(kind, size, samples, maxRatio) {
  const summary = {
    bytes: size,
    oursMedianMs: median(samples.map((s) => s.oursMs)),
    curlMedianMs: median(samples.map((s) => s.curlMs)),
    ratioMedian: median(samples.map((s) => s.ratio)),
    oursMaxRssKbMedian: median(samples.map((s) => s.oursMaxRssKb)),
    oursMaxRssKbMax: Math.max(...samples.map((s) => s.oursMaxRssKb)),
    curlMaxRssKbMedian: median(samples.map((s) => s.curlMaxRssKb ?? Number.NaN)),
  };
  const label = `${round(size / MiB, 0)} MiB`;
  const mibps = (bytes, msv) => `${round(bytes / MiB / (msv / 1000), 0)} MiB/s`;
  return {
    samples,
    summary,
    rows: [
      {
        name: `${kind} ${label}: wall time`,
        ours: sec(summary.oursMedianMs),
        ref: `${sec(summary.curlMedianMs)} (curl)`,
        ratio: x(summary.ratioMedian),
        target: `≤ ${maxRatio}x`,
        pass: summary.ratioMedian <= maxRatio,
        detail: `${mibps(size, summary.oursMedianMs)} vs ${mibps(size, summary.curlMedianMs)}`,
      },
      {
        name: `${kind} ${label}: peak RSS`,
        ours: mb(summary.oursMaxRssKbMedian),
        ref: HAS_TIME ? `${mb(summary.curlMaxRssKbMedian)} (curl)` : "n/a (no /usr/bin/time)",
        ratio: HAS_TIME ? x(summary.oursMaxRssKbMedian / summary.curlMaxRssKbMedian) : "n/a",
        target: "< 150 MB",
        pass: summary.oursMaxRssKbMax < 150 * 1024,
        detail: `worst run ${mb(summary.oursMaxRssKbMax)}`,
      },
    ],
  };
}

// ---------- 4. SSE ----------

/** The scripted stream: `count` ADK text events with partial:true, written `perWrite` events at a time. */
function sseSteps(count, perWrite) {
  const invocationId = `e-${randomUUID()}`;
  const steps = [];
  let batch = "";
  for (let i = 0; i < count; i++) {
    const event = {
      id: randomUUID(),
      invocationId,
      author: "nemo_agent",
      timestamp: 1_763_700_000 + i / 1000,
      content: { role: "model", parts: [{ text: `chunk ${i} of the streamed reply ` }] },
      partial: true,
    };
    batch += `data: ${JSON.stringify(event)}\n\n`;
    if ((i + 1) % perWrite === 0 || i === count - 1) {
      steps.push({ raw: batch });
      batch = "";
    }
  }
  return steps;
}

async function sse() {
  const { startSandbox } = await sandboxModule();
  const sandbox = await startSandbox({ stepMs: 0 });
  const dir = await mkdtemp(join(tmpRoot, "sse-"));
  const count = SETTINGS.sseEvents;
  const steps = sseSteps(count, SETTINGS.sseEventsPerWrite);
  const streamBytes = steps.reduce((n, s) => n + Buffer.byteLength(s.raw), 0);
  const samples = [];
  try {
    const stateDir = join(dir, "state");
    const { sessionId } = await prepareAccount(sandbox.url, stateDir);
    const read = async (mode) => {
      // two identical turns: the worker reads the stream twice in one process
      sandbox.scriptTurn({ steps });
      sandbox.scriptTurn({ steps });
      const r = await runWorker(
        "sse-worker.mjs",
        { apiUrl: sandbox.url, stateDir, sessionId, mode },
        { nodeArgs: ["--expose-gc"] },
      );
      for (const pass of [r.first, r.second]) {
        if (pass.events !== count) throw new Error(`${mode}: read ${pass.events} events, expected ${count}`);
      }
      return r;
    };
    const growth = (pass) => pass.rssAfterGcKb - pass.rssBeforeKb;
    for (let run = 0; run < SETTINGS.runs; run++) {
      const [o, f] = await pair(
        run,
        () => read("ours"),
        () => read("floor"),
      );
      const t = await read("turn");
      samples.push({
        oursEventsPerSec: o.first.eventsPerSec,
        oursEventsPerSecSecond: o.second.eventsPerSec,
        floorEventsPerSec: f.first.eventsPerSec,
        turnEventsPerSec: t.first.eventsPerSec,
        ratio: o.first.ms / f.first.ms,
        oursGrowthKb: growth(o.second),
        oursFirstGrowthKb: growth(o.first),
        oursHeapRetainedKb: o.second.heapRetainedKb,
        oursPeakRssKb: o.second.maxRssKb,
        floorGrowthKb: growth(f.second),
        floorFirstGrowthKb: growth(f.first),
        turnGrowthKb: growth(t.second),
        turnFirstGrowthKb: growth(t.first),
        turnHeapRetainedKb: t.second.heapRetainedKb,
        ours: o,
        floor: f,
        turn: t,
      });
    }
  } finally {
    await sandbox.close();
  }
  const m = (k) => median(samples.map((s) => s[k]));
  const summary = {
    events: count,
    streamBytes,
    oursEventsPerSec: m("oursEventsPerSec"),
    oursEventsPerSecSecond: m("oursEventsPerSecSecond"),
    floorEventsPerSec: m("floorEventsPerSec"),
    turnEventsPerSec: m("turnEventsPerSec"),
    ratioMedian: m("ratio"),
    oursGrowthKb: m("oursGrowthKb"),
    oursFirstGrowthKb: m("oursFirstGrowthKb"),
    oursHeapRetainedKb: m("oursHeapRetainedKb"),
    oursPeakRssKb: m("oursPeakRssKb"),
    floorGrowthKb: m("floorGrowthKb"),
    floorFirstGrowthKb: m("floorFirstGrowthKb"),
    turnGrowthKb: m("turnGrowthKb"),
    turnFirstGrowthKb: m("turnFirstGrowthKb"),
    turnHeapRetainedKb: m("turnHeapRetainedKb"),
  };
  const eps = (v) => `${Math.round(v).toLocaleString("en-US")}/s`;
  const label = `${round(count / 1000, 0)}k events`;
  return {
    samples,
    summary,
    rows: [
      {
        name: `SSE ${label}: parseTurnStream throughput`,
        ours: eps(summary.oursEventsPerSec),
        ref: `${eps(summary.floorEventsPerSec)} (count "\\n\\n")`,
        ratio: x(summary.ratioMedian),
        target: "> 50,000/s",
        pass: summary.oursEventsPerSec > 50_000,
        detail: `${round(streamBytes / MiB, 1)} MiB stream, first read of a fresh process; second read ${eps(summary.oursEventsPerSecSecond)}`,
      },
      {
        name: `SSE ${label}: RSS growth over a stream`,
        ours: mb(summary.oursGrowthKb),
        ref: `${mb(summary.floorGrowthKb)} (floor)`,
        ratio: "",
        target: "< 20 MB",
        pass: summary.oursGrowthKb < 20 * 1024,
        detail:
          `second read, after GC; heap retained ${mb(summary.oursHeapRetainedKb)}, peak RSS ${mb(summary.oursPeakRssKb)}; ` +
          `first read of a fresh process ${mb(summary.oursFirstGrowthKb)} (floor ${mb(summary.floorFirstGrowthKb)})`,
      },
      {
        name: `SSE ${label}: whole Turn (startTurn)`,
        ours: eps(summary.turnEventsPerSec),
        ref: `${eps(summary.floorEventsPerSec)} (floor)`,
        ratio: x(summary.floorEventsPerSec / summary.turnEventsPerSec),
        target: "(info)",
        pass: null,
        detail:
          `RSS growth over a second turn ${mb(summary.turnGrowthKb)}, heap retained per finished turn ` +
          `${mb(summary.turnHeapRetainedKb)} (first turn ${mb(summary.turnFirstGrowthKb)})`,
      },
    ],
  };
}

// ---------- 5. download ----------

async function download() {
  const { startSandbox } = await sandboxModule();
  const size = SETTINGS.downloadBytes;
  const sandbox = await startSandbox({ stepMs: 0, renderOutputBytes: size });
  const dir = await mkdtemp(join(tmpRoot, "download-"));
  const outputDir = join(dir, "out");
  await mkdir(outputDir, { recursive: true });
  const samples = [];
  try {
    const stateDir = join(dir, "state");
    await prepareAccount(sandbox.url, stateDir, { session: false });
    // a completed render, straight in the sandbox's state (the render flow itself is not what is measured)
    const renderId = `render_bench_${Date.now()}`;
    sandbox.state.renders.set(renderId, {
      id: renderId,
      sessionId: "bench",
      polls: 0,
      status: "completed",
      progress: 100,
      fails: false,
      duration: 30,
      createdAt: Date.now(),
    });
    const url = `${sandbox.url}/files/renders/${renderId}.mp4`;
    const ours = async (run) => {
      const fileName = `ours-${run}.mp4`;
      const r = await runWorker("download-worker.mjs", {
        apiUrl: sandbox.url,
        stateDir,
        renderId,
        url,
        sizeBytes: size,
        outputDir,
        fileName,
      });
      await rm(r.file, { force: true });
      return r;
    };
    const curl = async (run) => {
      const target = join(outputDir, `curl-${run}.mp4`);
      const r = await runTimed(CURL, ["-sS", "-o", target, url], {
        measureRss: true,
        rssFile: join(dir, "curl-rss.txt"),
      });
      const got = (await stat(target)).size;
      await rm(target, { force: true });
      if (got !== size) throw new Error(`curl downloaded ${got} of ${size} bytes`);
      return r;
    };
    for (let run = 0; run < SETTINGS.runs; run++) {
      const [o, c] = await pair(
        run,
        () => ours(run),
        () => curl(run),
      );
      samples.push(transferSample(o, c));
    }
  } finally {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  }
  return transferResult("download", size, samples, 1.25);
}

// ---------- 6. concurrency ----------

async function concurrency() {
  const { startSandbox } = await sandboxModule();
  const n = SETTINGS.parallelCalls;
  const samples = [];
  for (let run = 0; run < SETTINGS.runs; run++) {
    const sandbox = await startSandbox({ stepMs: 0 });
    const dir = await mkdtemp(join(tmpRoot, "conc-"));
    try {
      const server = await connectServer(serverEnv(sandbox.url, dir), dir);
      let results;
      let wallMs;
      try {
        const started = performance.now();
        results = await Promise.all(
          Array.from({ length: n }, () =>
            server.client.callTool({ name: "get_credits", arguments: {} }).catch((err) => ({
              isError: true,
              content: [{ type: "text", text: String(err) }],
            })),
          ),
        );
        wallMs = performance.now() - started;
      } finally {
        await server.close();
      }
      const tokenRequests =
        sandbox.state.tokenRequests ??
        sandbox.requests.filter((r) => r.path === "/api/auth/anonymous-token").length;
      const errors = results.filter((r) => r.isError);
      // the same 50 requests straight to the sandbox with the token the server acquired
      const token = await readToken(join(dir, "state"), sandbox.url);
      const url = `${sandbox.url}/api/credits/balance/simple`;
      const started = performance.now();
      await Promise.all(Array.from({ length: n }, () => getCreditsRaw(url, token)));
      const refMs = performance.now() - started;
      samples.push({
        wallMs,
        refMs,
        ratio: wallMs / refMs,
        errors: errors.length,
        firstError: errors[0] ? toolText(errors[0]).slice(0, 300) : undefined,
        tokenRequests,
        pass: errors.length === 0 && tokenRequests === 1,
      });
    } finally {
      await sandbox.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  const summary = {
    calls: n,
    wallMedianMs: median(samples.map((s) => s.wallMs)),
    refMedianMs: median(samples.map((s) => s.refMs)),
    ratioMedian: median(samples.map((s) => s.ratio)),
    allPassed: samples.every((s) => s.pass),
  };
  return {
    samples,
    summary,
    rows: [
      {
        name: `${n} parallel get_credits on a fresh state dir`,
        ours: ms(summary.wallMedianMs),
        ref: `${ms(summary.refMedianMs)} (${n} undici GETs)`,
        ratio: x(summary.ratioMedian),
        target: "all ok, 1 token request",
        pass: summary.allPassed,
        detail: `errors per run [${samples.map((s) => s.errors).join(",")}], token requests [${samples
          .map((s) => s.tokenRequests)
          .join(",")}]`,
      },
    ],
  };
}

// ---------- report ----------

function printTable(rows) {
  const head = ["benchmark", "ours (median)", "reference (median)", "ratio", "target", "result"];
  const lines = rows.map((r) => [
    r.name,
    r.ours,
    r.ref,
    r.ratio,
    r.target,
    r.pass === null ? "info" : r.pass ? "pass" : "MISS",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const fmt = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ");
  console.log(fmt(head));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const l of lines) console.log(fmt(l));
  const details = rows.filter((r) => r.detail);
  if (details.length) {
    console.log("");
    for (const r of details) console.log(`  ${r.name}: ${r.detail}`);
  }
}

async function machine() {
  const curl = await runTimed(CURL, ["--version"]).catch(() => undefined);
  const commit = await runTimed("git", ["rev-parse", "HEAD"], { cwd: ROOT }).catch(() => undefined);
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model,
    totalMemMiB: Math.round(totalmem() / MiB),
    node: process.version,
    platform: `${platform()} ${release()}`,
    curl: curl?.stdout.split("\n")[0],
    gnuTime: HAS_TIME,
    commit: commit?.stdout.trim(),
    // other work on the machine skews absolute numbers (ratios much less): worth knowing when comparing
    loadAverageAtStart: loadavg().map((v) => round(v, 2)),
  };
}

const BENCHMARKS = {
  "cold-start": coldStart,
  "tool-call": toolCall,
  upload,
  sse,
  download,
  concurrency,
  "http-tool-call": () => httpToolCall({ settings: hostingSettings(quick, RUNS), sandboxModule }),
  "http-turns": () => httpTurns({ settings: hostingSettings(quick, RUNS), sandboxModule }),
  "http-scale": () => httpScale({ settings: hostingSettings(quick, RUNS), sandboxModule }),
};

async function main() {
  tmpRoot = await mkdtemp(join(process.env.BENCH_TMPDIR || tmpdir(), "nemo-bench-"));
  const selected = only.length ? NAMES.filter((n) => only.includes(n)) : NAMES;
  const results = {
    date: new Date().toISOString(),
    machine: await machine(),
    settings: { ...SETTINGS, quick, only: selected },
    benchmarks: {},
  };
  const rows = [];
  let failed = false;
  console.log(
    `nemovideo-mcp benchmarks: ${selected.join(", ")} (${RUNS} runs each${quick ? ", quick sizes" : ""}; ` +
      `${results.machine.cpus} CPUs, Node ${process.version})`,
  );
  for (const name of selected) {
    if (interrupted) break;
    const started = performance.now();
    process.stdout.write(`  ${name} ... `);
    try {
      const out = await BENCHMARKS[name]();
      const seconds = round((performance.now() - started) / 1000, 1);
      console.log(`done in ${seconds} s`);
      results.benchmarks[name] = { seconds, summary: out.summary, rows: out.rows, samples: out.samples };
      rows.push(...out.rows);
    } catch (err) {
      if (interrupted) break;
      failed = true;
      console.log("FAILED");
      console.error(err?.stack ?? err);
      results.benchmarks[name] = { error: String(err?.stack ?? err) };
      rows.push({
        name,
        ours: "error",
        ref: "",
        ratio: "",
        target: "",
        pass: false,
        detail: String(err?.message),
      });
    }
  }
  if (interrupted) return 130;
  console.log("");
  printTable(rows);
  results.machine.loadAverageAtEnd = loadavg().map((v) => round(v, 2));
  const out = join(BENCH, "results.json");
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nratio = ours / reference (time or memory; for events/s, reference rate / our rate).`);
  console.log(`Samples and machine info: ${out}`);
  return failed ? 1 : 0;
}

async function cleanup() {
  killChildren();
  if (tmpRoot) await rm(tmpRoot, { recursive: true, force: true }).catch(() => {});
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the benchmark children and removing ${tmpRoot ?? "temp files"}`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(
    (code) => code,
    (err) => {
      console.error(err?.stack ?? err);
      return 1;
    },
  )
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  });
