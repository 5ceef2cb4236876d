// Child process of the SSE benchmark: reads one scripted /run_sse stream and reports events/s and RSS.
//   ours:  NemoClient.open (what Turn uses) + parseTurnStream, every event classified
//   floor: a bare undici request whose reader only counts "\n\n" (the cost of moving the bytes)
//   turn:  startTurn, the whole Turn (state fetches, updates kept for replay, reply assembly)
import { request } from "undici";
import { makeClient, maxRssKb, readToken, workerMain } from "./lib.mjs";

const gc = globalThis.gc ?? (() => {}); // the parent passes --expose-gc
const rssKb = () => process.memoryUsage().rss / 1024;

function runSseBody(sessionId) {
  return {
    app_name: "nemo_agent",
    user_id: "me",
    session_id: sessionId,
    new_message: { parts: [{ text: "benchmark stream" }] },
  };
}

async function ours(client, sessionId) {
  const { parseTurnStream } = await import("../dist/client/sse.js");
  const res = await client.open({
    method: "POST",
    path: "/run_sse",
    json: runSseBody(sessionId),
    headers: { accept: "text/event-stream" },
    timeoutMs: 60_000,
    bodyTimeoutMs: 0,
  });
  const counts = {};
  let events = 0;
  for await (const event of parseTurnStream(res.body)) {
    events += 1;
    counts[event.type] = (counts[event.type] ?? 0) + 1;
  }
  return { events, counts };
}

async function floor(apiUrl, stateDir, sessionId) {
  const token = await readToken(stateDir, apiUrl);
  const res = await request(`${apiUrl}/run_sse`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "text/event-stream",
    },
    body: JSON.stringify(runSseBody(sessionId)),
    bodyTimeout: 0,
  });
  if (res.statusCode !== 200) throw new Error(`/run_sse answered HTTP ${res.statusCode}`);
  let events = 0;
  let endsWithLf = false;
  for await (const chunk of res.body) {
    if (chunk.length === 0) continue;
    if (endsWithLf && chunk[0] === 0x0a) events += 1;
    for (let at = chunk.indexOf("\n\n"); at !== -1; at = chunk.indexOf("\n\n", at + 2)) events += 1;
    endsWithLf = chunk[chunk.length - 1] === 0x0a;
  }
  return { events, counts: { blank_lines: events } };
}

async function turn(client, sessionId, keep) {
  const { startTurn } = await import("../dist/client/turns.js");
  const counts = {};
  let events = 0;
  const t = startTurn(client, {
    sessionId,
    message: "benchmark stream",
    limits: { streamTimeoutMs: 600_000, stallMs: 600_000, recoveryPollMs: 60_000 },
    onUpdate: (update) => {
      counts[update.type] = (counts[update.type] ?? 0) + 1;
      if (update.type === "text") events += 1;
    },
  });
  const result = await t.done;
  if (result.status !== "completed") throw new Error(`turn ended ${result.status}: ${result.error?.message}`);
  keep.push(t); // a finished Turn stays reachable (jobs keep it for get_turn), so count what it holds
  return { events, counts, replyChars: result.reply.length };
}

/** One measured read: time, events and the RSS around it (after a forced GC on both sides). */
async function measure(read) {
  gc();
  const rssBeforeKb = rssKb();
  const heapBeforeKb = process.memoryUsage().heapUsed / 1024;
  const started = performance.now();
  const out = await read();
  const ms = performance.now() - started;
  const rssAfterKb = rssKb();
  gc();
  return {
    ms,
    ...out,
    eventsPerSec: (out.events / ms) * 1000,
    rssBeforeKb,
    rssAfterKb,
    rssAfterGcKb: rssKb(),
    heapRetainedKb: process.memoryUsage().heapUsed / 1024 - heapBeforeKb,
    maxRssKb: maxRssKb(),
  };
}

// Reads the stream twice in one process (the parent scripts two identical turns): the first read is a
// fresh process (V8 and malloc grow their pools), the second shows what one more stream costs once they
// have settled; a parser that kept anything per event would grow just as much the second time.
workerMain(async ({ apiUrl, stateDir, sessionId, mode }) => {
  const client = await makeClient(apiUrl, stateDir);
  await client.auth.get(); // the cached token, read before the clock starts
  // load the modules the measured path uses, so module loading is not counted as RSS growth
  await import("../dist/client/sse.js");
  await import("../dist/client/turns.js");
  const keep = [];
  const read = () =>
    mode === "ours"
      ? ours(client, sessionId)
      : mode === "floor"
        ? floor(apiUrl, stateDir, sessionId)
        : turn(client, sessionId, keep);
  const first = await measure(read);
  const second = await measure(read);
  return { mode, first, second, kept: keep.length };
});
