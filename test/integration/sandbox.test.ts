import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../src/sandbox/index.js";

const SAMPLE = fileURLToPath(new URL("../../fixtures/sample.mp4", import.meta.url));
const SKILL_HEADERS = {
  "x-skill-source": "ai-voiceover-for",
  "x-skill-version": "1.0.0",
  "x-skill-platform": "unknown",
};

let sb: Sandbox | undefined;

afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function start(options: SandboxOptions = {}): Promise<Sandbox> {
  sb = await startSandbox({ stepMs: 0, heartbeatMs: 0, ...options });
  return sb;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

async function call(
  method: "GET" | "POST" | "HEAD",
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  }
  const res = await request(`${sb!.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.body.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

async function anonToken(clientId = "client-1"): Promise<string> {
  const r = await call("POST", "/api/auth/anonymous-token", { headers: { "x-client-id": clientId } });
  expect(r.json.code).toBe(0);
  return r.json.data.token as string;
}

async function newSession(token: string): Promise<string> {
  const r = await call("POST", "/api/tasks/me/with-session/nemo_agent", {
    token,
    body: { task_name: "project", language: "en" },
  });
  expect(r.json.code).toBe(0);
  return r.json.data.session_id as string;
}

async function credits(token: string): Promise<{ available: number; frozen: number; total: number }> {
  return (await call("GET", "/api/credits/balance/simple", { token })).json.data;
}

function sseBody(sessionId: string, text: string) {
  return {
    app_name: "nemo_agent",
    user_id: "me",
    session_id: sessionId,
    new_message: { parts: [{ text }] },
  };
}

/** Reads a streamed body to the end or to the error that ended it. */
async function readAll(body: AsyncIterable<Buffer>): Promise<{ text: string; error?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) chunks.push(chunk);
    return { text: Buffer.concat(chunks).toString("utf8") };
  } catch (error) {
    return { text: Buffer.concat(chunks).toString("utf8"), error };
  }
}

async function runSse(token: string, sessionId: string, text: string) {
  const res = await request(`${sb!.url}/run_sse`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "text/event-stream",
    },
    body: JSON.stringify(sseBody(sessionId, text)),
  });
  const read = await readAll(res.body);
  return { status: res.statusCode, contentType: String(res.headers["content-type"]), ...read };
}

/** The JSON values of `data:` events (skipping empty and non-JSON data). */
function events(text: string): any[] {
  const out: any[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).trimStart())
      .join("\n");
    if (!data) continue;
    try {
      out.push(JSON.parse(data));
    } catch {
      // not JSON
    }
  }
  return out;
}

const parts = (evs: any[]) => evs.flatMap((e) => (e.content?.parts ?? []) as any[]);
const texts = (evs: any[]) => parts(evs).filter((p) => typeof p.text === "string");
const calls = (evs: any[]) => parts(evs).filter((p) => p.functionCall);

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function multipart(files: { name: string; path?: string; content?: string }[], boundary: string): Readable {
  async function* generate() {
    for (const f of files) {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${f.name}"\r\n` +
          "Content-Type: application/octet-stream\r\n\r\n",
      );
      if (f.path) for await (const chunk of createReadStream(f.path)) yield chunk as Buffer;
      else yield Buffer.from(f.content ?? "");
      yield Buffer.from("\r\n");
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  return Readable.from(generate());
}

async function upload(
  token: string,
  sessionId: string,
  files: { name: string; path?: string; content?: string }[],
) {
  const boundary = "----sandboxtest7MA4YWxkTrZu0gW";
  const res = await request(`${sb!.url}/api/upload-video/nemo_agent/me/${sessionId}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": `multipart/form-data; boundary=${boundary}`,
    },
    body: multipart(files, boundary),
  });
  return { status: res.statusCode, json: (await res.body.json()) as any };
}

/** A session whose draft has one uploaded (URL) video segment, ready to export. */
async function exportableSession(token: string): Promise<string> {
  const sid = await newSession(token);
  const r = await call("POST", `/api/upload-video/nemo_agent/me/${sid}`, {
    token,
    body: { urls: ["https://cdn.example.com/clips/intro.mp4"], source_type: "url" },
  });
  expect(r.json.code).toBe(0);
  return sid;
}

async function submitRender(token: string, sid: string, id = `render_${Date.now()}`) {
  const r = await call("POST", "/api/render/proxy/lambda", {
    token,
    headers: SKILL_HEADERS,
    body: { id, sessionId: sid, draft: sb!.state.getDraft(sid), output: { format: "mp4", quality: "high" } },
  });
  return { id, reply: r };
}

describe("sandbox: tokens and auth", () => {
  it("issues anonymous tokens only with X-Client-Id", async () => {
    await start();
    const missing = await call("POST", "/api/auth/anonymous-token");
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ code: 400, message: "missing X-Client-Id" });

    const r = await call("POST", "/api/auth/anonymous-token", { headers: { "x-client-id": "abc" } });
    expect(r.status).toBe(200);
    expect(r.json.code).toBe(0);
    expect(r.json.data.token).toMatch(/^nmv_usr_/);
    expect(r.json.data.user_id).toMatch(/^anon_/);
    expect(r.json.data.credits).toBe(100);
    const ttl = Date.parse(r.json.data.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(6.9 * 24 * 3600_000);
    expect(sb!.state.tokenRequests).toBe(2);
  });

  it("answers 401 with code 1001 for missing, unknown and expired tokens", async () => {
    await start({ tokenTtlMs: 60 });
    for (const token of [undefined, "nmv_usr_bogus"]) {
      const r = await call("GET", "/api/credits/balance/simple", token ? { token } : {});
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ code: 1001, message: "token expired or invalid" });
    }
    const token = await anonToken();
    expect((await call("GET", "/api/credits/balance/simple", { token })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 80));
    expect((await call("GET", "/api/credits/balance/simple", { token })).json.code).toBe(1001);
  });

  it("expireToken/expireAllTokens; a new token for the same client keeps the account and sessions", async () => {
    await start({ credits: 50 });
    const first = await anonToken("same-client");
    const sid = await newSession(first);
    sb!.state.expireToken(first);
    expect((await call("GET", `/api/state/nemo_agent/me/${sid}/latest`, { token: first })).status).toBe(401);
    const second = await anonToken("same-client");
    const state = await call("GET", `/api/state/nemo_agent/me/${sid}/latest`, { token: second });
    expect(state.json.code).toBe(0);
    sb!.state.expireAllTokens();
    expect((await call("GET", "/api/credits/balance/simple", { token: second })).status).toBe(401);
    const other = await anonToken("other-client");
    expect((await call("GET", `/api/state/nemo_agent/me/${sid}/latest`, { token: other })).json.code).toBe(
      1002,
    );
  });

  it("records every request with lower-cased headers and JSON bodies", async () => {
    await start();
    const token = await anonToken();
    await newSession(token);
    const [tokenReq, sessionReq] = sb!.requests;
    expect(tokenReq).toMatchObject({ method: "POST", path: "/api/auth/anonymous-token" });
    expect(tokenReq?.headers["x-client-id"]).toBe("client-1");
    expect(sessionReq?.headers.authorization).toBe(`Bearer ${token}`);
    expect(sessionReq?.body).toEqual({ task_name: "project", language: "en" });
    expect(typeof sessionReq?.at).toBe("number");
  });

  it("answers 404 JSON for unknown routes and 400 for a bad JSON body", async () => {
    await start();
    const token = await anonToken();
    const unknown = await call("GET", "/api/nope", { token });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe(404);
    expect((await call("GET", "/files/uploads/x/y.mp4")).status).toBe(404);
    const bad = await call("POST", "/api/tasks/me/with-session/nemo_agent", { token, body: "{nope" });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe(400);
  });
});

describe("sandbox: sessions, state, credits", () => {
  it("creates a session with an empty draft and answers 1002 for unknown sessions", async () => {
    await start();
    const token = await anonToken();
    const created = await call("POST", "/api/tasks/me/with-session/nemo_agent", {
      token,
      body: { task_name: "project", language: "en" },
    });
    const { task_id, session_id, user_id } = created.json.data;
    expect(task_id).toBeTruthy();
    expect(user_id).toMatch(/^anon_/);
    const state = await call("GET", `/api/state/nemo_agent/me/${session_id}/latest`, { token });
    expect(state.json.data).toMatchObject({
      session_id,
      task_id,
      task_name: "project",
      user_id,
      state: {
        draft: { t: [], d: 0, m: {} },
        video_infos: [],
        canvas_config: { width: 1920, height: 1080 },
        generated_media: [],
      },
    });

    const claim = await call("POST", "/api/auth/claim-token", { token, body: { task_id, session_id } });
    expect(claim.json.data.claim_token).toMatch(/^clm_/);
    expect(claim.json.data.expires_in).toBe(604800);

    expect(sb!.state.deleteSession(session_id)).toBe(true);
    const gone = await call("GET", `/api/state/nemo_agent/me/${session_id}/latest`, { token });
    expect(gone.status).toBe(200);
    expect(gone.json).toEqual({ code: 1002, message: "session not found" });
    expect(
      (await call("POST", "/api/auth/claim-token", { token, body: { task_id, session_id } })).json.code,
    ).toBe(1002);
    expect((await runSse(token, session_id, "hello")).text).toContain('"code":1002');
    expect((await upload(token, session_id, [{ name: "a.txt", content: "x" }])).json.code).toBe(1002);
  });

  it("reports credits and lets tests set them", async () => {
    await start({ credits: 42 });
    const token = await anonToken();
    expect(await credits(token)).toEqual({ available: 42, frozen: 0, total: 42 });
    sb!.state.setCredits(token, 7);
    expect(await credits(token)).toEqual({ available: 7, frozen: 0, total: 7 });
    sb!.state.setCredits("all", 0);
    expect((await credits(token)).available).toBe(0);
  });
});

describe("sandbox: default turns", () => {
  it("voiceover: tool call, response, GUI-talk text, 5 credits, AI Voiceover track", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const r = await runSse(token, sid, "Add an English voiceover please");
    expect(r.status).toBe(200);
    expect(r.contentType).toContain("text/event-stream");
    const evs = events(r.text);
    const first = evs[0];
    expect(first).toMatchObject({ author: "nemo_agent", partial: false, content: { role: "model" } });
    expect(first.id).toBeTruthy();
    expect(first.invocationId).toBeTruthy();
    expect(typeof first.timestamp).toBe("number");
    expect(first.content.parts[0].functionCall.name).toBe("generate_voiceover");
    expect(parts(evs).some((p) => p.functionResponse?.name === "generate_voiceover")).toBe(true);
    expect(
      texts(evs)
        .map((p) => p.text)
        .join(" "),
    ).toContain("Export button");
    expect(r.text).toContain(": ping");
    expect(r.text).not.toContain('"turnComplete"');
    expect(await credits(token)).toEqual({ available: 95, frozen: 0, total: 95 });
    const draft = sb!.state.getDraft(sid) as any;
    const vo = draft.t.find((t: any) => t.m.name === "AI Voiceover");
    expect(vo.tt).toBe(1);
    expect(vo.sg[0]).toMatchObject({ st: 0, d: 30000, m: { name: "English voiceover", volume: 1 } });
    expect(draft.d).toBe(30000);
    expect(sb!.state.runSseRequests).toBe(1);
  });

  it("question: a voiceover that leaves the voice open asks with ask_question; the answer runs it", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const asked = events((await runSse(token, sid, "Add a voiceover and let me choose the voice")).text);
    const question = calls(asked)[0].functionCall;
    expect(question.name).toBe("ask_question");
    expect(question.args.questions[0]).toMatchObject({ id: "voice", allow_multiple: false });
    expect(question.args.questions[0].options).toContain("Calm male (English)");
    expect(parts(asked).some((p) => p.functionResponse)).toBe(false);
    expect(texts(asked)).toEqual([]);
    expect(await credits(token)).toEqual({ available: 100, frozen: 0, total: 100 });
    expect((sb!.state.getDraft(sid) as any).t).toEqual([]);
    const answered = events((await runSse(token, sid, "Calm male (English)")).text);
    expect(calls(answered)[0].functionCall).toMatchObject({
      name: "generate_voiceover",
      args: { voice: "Calm male (English)" },
    });
    const vo = (sb!.state.getDraft(sid) as any).t.find((t: any) => t.m.name === "AI Voiceover");
    expect(vo.sg[0].m.name).toBe("Calm male (English) voiceover");
    expect(await credits(token)).toEqual({ available: 95, frozen: 0, total: 95 });
  });

  it("generate: slow turn with heartbeats, 20 credits, three tracks and generated media", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const r = await runSse(
      token,
      sid,
      'Generate a 30-second video from this script, titled "Meet Lumen": ...',
    );
    const evs = events(r.text);
    expect(calls(evs)[0].functionCall.name).toBe("generate_video");
    expect(evs.filter((e) => e.type === "heartbeat").length).toBeGreaterThanOrEqual(3);
    expect(r.text).toContain(": ping");
    expect(r.text).toContain("data:\n\n");
    expect(texts(evs).length).toBeGreaterThanOrEqual(1);
    const draft = sb!.state.getDraft(sid) as any;
    expect(draft.d).toBe(30000);
    expect(draft.t.map((t: any) => [t.tt, t.m.name])).toEqual([
      [0, "Video"],
      [1, "BGM"],
      [7, "Title"],
    ]);
    expect(draft.t[1].sg[0].m).toMatchObject({ name: "Lo-fi", volume: 0.35 });
    expect(draft.t[2].sg[0]).toMatchObject({ d: 3000, m: { text: "Meet Lumen" } });
    const state = await call("GET", `/api/state/nemo_agent/me/${sid}/latest`, { token });
    expect(state.json.data.state.generated_media).toHaveLength(1);
    expect((await credits(token)).available).toBe(80);
  });

  it("generate without a duration makes 60 s", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    await runSse(token, sid, "生成一个视频");
    expect((sb!.state.getDraft(sid) as any).d).toBe(60000);
  });

  it("music and titles are silent edits (no text), 2 and 1 credits", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const music = events((await runSse(token, sid, "add some lo-fi music")).text);
    expect(calls(music)[0].functionCall.name).toBe("add_bgm");
    expect(parts(music).some((p) => p.functionResponse)).toBe(true);
    expect(texts(music)).toHaveLength(0);
    const title = events((await runSse(token, sid, 'put a title "Urban Dreams" on it')).text);
    expect(calls(title)[0].functionCall.name).toBe("add_text");
    expect(texts(title)).toHaveLength(0);
    const draft = sb!.state.getDraft(sid) as any;
    expect(draft.t.find((t: any) => t.m.name === "BGM").sg[0].m.volume).toBe(0.35);
    expect(draft.t.find((t: any) => t.tt === 7).sg[0].m.text).toBe("Urban Dreams");
    expect(await credits(token)).toEqual({ available: 97, frozen: 0, total: 97 });
  });

  it("subtitles get a text track over the whole video", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    await runSse(token, sid, "add music");
    const evs = events((await runSse(token, sid, "add subtitles")).text);
    expect(calls(evs)[0].functionCall.name).toBe("add_text");
    const draft = sb!.state.getDraft(sid) as any;
    const subs = draft.t.find((t: any) => t.tt === 7);
    expect(subs.m.name).toBe("Subtitles");
    expect(subs.sg[0].d).toBe(30000);
  });

  it("anything else gets a short text reply, no tool, no cost", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const evs = events((await runSse(token, sid, "hello there")).text);
    expect(calls(evs)).toHaveLength(0);
    expect(texts(evs)[0].text).toMatch(/^Tell me what you'd like to create or change/);
    expect((await credits(token)).available).toBe(100);
  });

  it("answers 2001 as JSON instead of a stream when credits are short", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    sb!.state.setCredits(token, 3);
    const r = await runSse(token, sid, "add a voiceover");
    expect(r.contentType).toContain("application/json");
    expect(JSON.parse(r.text)).toEqual({ code: 2001, message: "insufficient credits" });
    expect((await credits(token)).available).toBe(3);
  });

  it("freezes the cost while the turn runs", async () => {
    await start({ stepMs: 40 });
    const token = await anonToken();
    const sid = await newSession(token);
    const turn = runSse(token, sid, "add a voiceover");
    await new Promise((r) => setTimeout(r, 60));
    expect(await credits(token)).toEqual({ available: 95, frozen: 5, total: 100 });
    await turn;
    expect(await credits(token)).toEqual({ available: 95, frozen: 0, total: 95 });
  });

  it("finishes the work when the client disconnects mid-turn", async () => {
    await start({ stepMs: 15, heartbeatMs: 20 });
    const token = await anonToken();
    const sid = await newSession(token);
    const controller = new AbortController();
    const res = await request(`${sb!.url}/run_sse`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(sseBody(sid, "Generate a 10-second video")),
      signal: controller.signal,
    });
    for await (const chunk of res.body) {
      if (String(chunk).includes("functionCall")) break;
    }
    controller.abort();
    expect((sb!.state.getDraft(sid) as any).d).toBe(0);
    await until(() => (sb!.state.getDraft(sid) as any).d === 10000);
    await until(() => sb!.state.accounts.values().next().value?.credits.frozen === 0);
    expect(await credits(token)).toEqual({ available: 80, frozen: 0, total: 80 });
  });
});

describe("sandbox: scripted turns", () => {
  it("plays every step kind verbatim and applies state changes", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const draft = {
      t: [{ tt: 0, m: { name: "Video" }, sg: [{ id: "s", st: 0, d: 1000, m: {} }] }],
      d: 1000,
      m: {},
    };
    sb!.scriptTurn({
      steps: [
        { data: { hello: 1 } },
        { raw: 'data: {"crlf":true}\r\n\r\n' },
        { raw: 'data: {"split' },
        { wait: 5 },
        { raw: '":true}\n\n' },
        { comment: "ping" },
        { heartbeat: true },
        { raw: "data:\n\n" },
        { raw: "data: not json\n\n" },
        { setDraft: draft },
        { spend: 7 },
      ],
    });
    const r = await runSse(token, sid, "anything");
    expect(r.text).toBe(
      'data: {"hello":1}\n\ndata: {"crlf":true}\r\n\r\ndata: {"split":true}\n\n: ping\n\n' +
        'data: {"type":"heartbeat"}\n\ndata:\n\ndata: not json\n\n',
    );
    expect(sb!.state.getDraft(sid)).toEqual(draft);
    expect(await credits(token)).toEqual({ available: 93, frozen: 0, total: 93 });
    // the script is used once; the next turn is a default one
    expect(events((await runSse(token, sid, "hello")).text)[0].author).toBe("nemo_agent");
  });

  it("cut drops the stream, and later steps still run", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    sb!.scriptTurn({
      steps: [{ data: { n: 1 } }, { cut: true }, { wait: 10 }, { setDraft: { t: [], d: 5, m: {} } }],
    });
    const r = await runSse(token, sid, "x");
    expect(r.error).toBeDefined();
    expect(r.text).toContain('data: {"n":1}');
    await until(() => (sb!.state.getDraft(sid) as any).d === 5);
  });

  it("hang keeps the connection open until the client leaves; close() ends hung streams", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    sb!.scriptTurn({ steps: [{ data: { n: 1 } }, { hang: true }, { setDraft: { t: [], d: 9, m: {} } }] });
    const res = await request(`${sb!.url}/run_sse`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(sseBody(sid, "x")),
    });
    const reading = readAll(res.body);
    await until(() => (sb!.state.getDraft(sid) as any).d === 9);
    const raced = await Promise.race([
      reading.then(() => "ended"),
      new Promise((r) => setTimeout(r, 50, "open")),
    ]);
    expect(raced).toBe("open");
    await sb!.close();
    const read = await reading;
    expect(read.text).toContain('data: {"n":1}');
    expect(read.error).toBeDefined();
  });

  it("streams 20k events quickly", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    sb!.scriptTurn({ steps: Array.from({ length: 20_000 }, (_, i) => ({ data: { i } })) });
    const r = await runSse(token, sid, "x");
    expect(events(r.text)).toHaveLength(20_000);
  });
});

describe("sandbox: faults", () => {
  it("code: JSON envelope with the given status, consumed once", async () => {
    await start();
    const token = await anonToken();
    sb!.inject({ endpoint: "credits", kind: { type: "code", code: 1001, status: 401 } });
    const faulted = await call("GET", "/api/credits/balance/simple", { token });
    expect(faulted.status).toBe(401);
    expect(faulted.json).toEqual({ code: 1001, message: "token expired or invalid" });
    expect((await call("GET", "/api/credits/balance/simple", { token })).json.code).toBe(0);
  });

  it("http: plain errors, `times` and the * endpoint; clearFaults", async () => {
    await start();
    sb!.inject({ endpoint: "token", times: 2, kind: { type: "http", status: 429 } });
    const headers = { "x-client-id": "c" };
    const a = await call("POST", "/api/auth/anonymous-token", { headers });
    expect(a.status).toBe(429);
    expect(a.text).toBe("Too Many Requests");
    expect((await call("POST", "/api/auth/anonymous-token", { headers })).status).toBe(429);
    expect((await call("POST", "/api/auth/anonymous-token", { headers })).status).toBe(200);
    expect(sb!.state.tokenRequests).toBe(3);

    sb!.inject({ endpoint: "*", kind: { type: "http", status: 503, body: '{"detail":"down"}' } });
    const any = await call("POST", "/api/auth/anonymous-token", { headers });
    expect(any.status).toBe(503);
    expect(any.json).toEqual({ detail: "down" });

    sb!.inject({ endpoint: "token", times: 5, kind: { type: "http", status: 500 } });
    sb!.clearFaults();
    expect((await call("POST", "/api/auth/anonymous-token", { headers })).status).toBe(200);
  });

  it("reset destroys the socket without a response", async () => {
    await start();
    const token = await anonToken();
    sb!.inject({ endpoint: "credits", kind: { type: "reset" } });
    await expect(call("GET", "/api/credits/balance/simple", { token })).rejects.toThrow();
    expect((await call("GET", "/api/credits/balance/simple", { token })).status).toBe(200);
  });

  it("delay waits, then handles normally", async () => {
    await start();
    const token = await anonToken();
    sb!.inject({ endpoint: "credits", kind: { type: "delay", ms: 80 } });
    const t0 = Date.now();
    const r = await call("GET", "/api/credits/balance/simple", { token });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(75);
    expect(r.json.code).toBe(0);
  });

  it("malformed sends 200 with a body that is not JSON", async () => {
    await start();
    const token = await anonToken();
    sb!.inject({ endpoint: "state", kind: { type: "malformed" } });
    const r = await call("GET", "/api/state/nemo_agent/me/whatever/latest", { token });
    expect(r.status).toBe(200);
    expect(r.json).toBeUndefined();
  });

  it("truncated announces the full length, sends half, and drops the connection (work is done)", async () => {
    await start();
    const token = await anonToken();
    sb!.inject({ endpoint: "session", kind: { type: "truncated" } });
    const res = await request(`${sb!.url}/api/tasks/me/with-session/nemo_agent`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.statusCode).toBe(200);
    const length = Number(res.headers["content-length"]);
    const read = await readAll(res.body);
    expect(read.error).toBeDefined();
    expect(Buffer.byteLength(read.text)).toBe(Math.floor(length / 2));
    expect(sb!.state.sessions.size).toBe(1);
  });

  it("truncated on run_sse drops the stream after the first event; the turn still completes", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    sb!.inject({ endpoint: "run_sse", kind: { type: "truncated" } });
    const r = await runSse(token, sid, "add a voiceover");
    expect(r.error).toBeDefined();
    const evs = events(r.text);
    expect(evs).toHaveLength(1);
    expect(calls(evs)[0].functionCall.name).toBe("generate_voiceover");
    await until(() => (sb!.state.getDraft(sid) as any).d === 30000);
    await until(() => sb!.state.accounts.values().next().value?.credits.total === 95);
  });

  it("a run_sse fault leaves a queued script for the next call", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    sb!.scriptTurn({ steps: [{ data: { scripted: true } }] });
    sb!.inject({ endpoint: "run_sse", kind: { type: "code", code: 2001 } });
    expect(JSON.parse((await runSse(token, sid, "x")).text).code).toBe(2001);
    expect((await runSse(token, sid, "x")).text).toBe('data: {"scripted":true}\n\n');
    expect(sb!.state.runSseRequests).toBe(2);
    expect(sb!.requests.filter((r) => r.path === "/run_sse")[0]?.body).toEqual(sseBody(sid, "x"));
  });
});

describe("sandbox: uploads", () => {
  it("streams a multipart upload, probes the MP4 and puts it on the timeline", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const r = await upload(token, sid, [{ name: "sample.mp4", path: SAMPLE }]);
    expect(r.json.code).toBe(0);
    expect(r.json.data.session_state_applied).toBe(true);
    const file = r.json.data.files[0];
    expect(file).toMatchObject({
      filename: "sample.mp4",
      file_type: "video",
      width: 640,
      height: 360,
      fps: 25,
    });
    expect(file.duration).toBeCloseTo(6, 1);
    expect(file.hash).toBe(createHash("sha256").update(readFileSync(SAMPLE)).digest("hex"));
    expect(file.cdn_url).toMatch(new RegExp(`^${sb!.url}/files/uploads/[^/]+/sample\\.mp4$`));
    const state = await call("GET", `/api/state/nemo_agent/me/${sid}/latest`, { token });
    const draft = state.json.data.state.draft;
    expect(draft.t[0]).toMatchObject({ tt: 0, m: { name: "Video" } });
    expect(draft.t[0].sg[0]).toMatchObject({
      id: "seg_1",
      st: 0,
      d: 6000,
      m: { name: "sample.mp4", src: file.cdn_url },
    });
    expect(draft.d).toBe(6000);
    expect(state.json.data.state.video_infos).toHaveLength(1);
  });

  it("accepts several files; audio goes to an audio track", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const r = await upload(token, sid, [
      { name: "a.mp4", path: SAMPLE },
      { name: "song.mp3", content: "ID3fake" },
      { name: "script.txt", content: "hello" },
    ]);
    expect(r.json.data.files.map((f: any) => f.file_type)).toEqual(["video", "audio", "document"]);
    const draft = sb!.state.getDraft(sid) as any;
    expect(draft.t.map((t: any) => t.tt)).toEqual([0, 1]);
    expect(draft.t[1].sg[0].m.volume).toBe(1);
  });

  it("rejects unsupported types with 4001 and big files with 4002, and keeps serving", async () => {
    await start({ maxUploadBytes: 10_000 });
    const token = await anonToken();
    const sid = await newSession(token);
    const bad = await upload(token, sid, [{ name: "tool.exe", content: "MZ" }]);
    expect(bad.json).toEqual({ code: 4001, message: "unsupported file type" });
    const big = await upload(token, sid, [{ name: "sample.mp4", path: SAMPLE }]);
    expect(big.json.code).toBe(4002);
    expect((sb!.state.getDraft(sid) as any).t).toEqual([]);
    expect((await credits(token)).available).toBe(100);
  });

  it("survives malformed multipart bodies and clients that abort mid-upload", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const noBoundary = await request(`${sb!.url}/api/upload-video/nemo_agent/me/${sid}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "multipart/form-data" },
      body: "x",
    });
    expect(noBoundary.statusCode).toBe(400);
    await noBoundary.body.dump();

    const controller = new AbortController();
    async function* slow() {
      yield Buffer.from(
        `--b\r\nContent-Disposition: form-data; name="files"; filename="a.mp4"\r\n\r\n${"x".repeat(1000)}`,
      );
      await new Promise((r) => setTimeout(r, 50));
      controller.abort();
      yield Buffer.from("never");
    }
    await expect(
      request(`${sb!.url}/api/upload-video/nemo_agent/me/${sid}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "multipart/form-data; boundary=b" },
        body: Readable.from(slow()),
        signal: controller.signal,
      }),
    ).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 30));
    expect((sb!.state.getDraft(sid) as any).t).toEqual([]);
    expect((await credits(token)).available).toBe(100);
  });

  it("accepts URL uploads without fetching them", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const r = await call("POST", `/api/upload-video/nemo_agent/me/${sid}`, {
      token,
      body: { urls: ["https://example.com/media/clip%20one.mp4?x=1"], source_type: "url" },
    });
    expect(r.json.data.files[0]).toMatchObject({
      filename: "clip one.mp4",
      file_type: "video",
      duration: 30,
    });
    const bad = await call("POST", `/api/upload-video/nemo_agent/me/${sid}`, {
      token,
      body: { urls: ["https://example.com/file.exe"], source_type: "url" },
    });
    expect(bad.json.code).toBe(4001);
  });
});

describe("sandbox: renders", () => {
  it("runs the standard lifecycle and serves the sample MP4", async () => {
    await start();
    const token = await anonToken();
    const sid = await exportableSession(token);
    const { id, reply } = await submitRender(token, sid);
    expect(reply.json).toMatchObject({ code: 0, data: { id, status: "pending" } });
    const polls = [];
    for (let i = 0; i < 3; i += 1)
      polls.push((await call("GET", `/api/render/proxy/lambda/${id}`, { token })).json);
    expect(polls.map((p) => [p.data.status, p.data.progress])).toEqual([
      ["pending", 0],
      ["processing", 50],
      ["completed", 100],
    ]);
    const size = statSync(SAMPLE).size;
    expect(polls[2].data.output).toEqual({ url: `${sb!.url}/files/renders/${id}.mp4`, duration: 30, size });
    const head = await request(polls[2].data.output.url, { method: "HEAD" });
    await head.body.dump();
    expect(Number(head.headers["content-length"])).toBe(size);
    const res = await request(polls[2].data.output.url);
    expect(res.headers["content-type"]).toBe("video/mp4");
    expect(Number(res.headers["content-length"])).toBe(size);
    expect(Buffer.from(await res.body.arrayBuffer()).equals(readFileSync(SAMPLE))).toBe(true);
  });

  it("cancels a running render: later polls say cancelled, no download; a finished render stays finished", async () => {
    await start({ renderSteps: 3 });
    const token = await anonToken();
    const sid = await exportableSession(token);
    const { id } = await submitRender(token, sid);
    await call("GET", `/api/render/proxy/lambda/${id}`, { token });
    const cancelled = await call("POST", `/api/render/proxy/lambda/${id}/cancel`, { token });
    expect(cancelled.json).toEqual({ code: 0, message: "success", data: { id, status: "cancelled" } });
    for (let i = 0; i < 3; i += 1) {
      const poll = (await call("GET", `/api/render/proxy/lambda/${id}`, { token })).json;
      expect(poll.data.status).toBe("cancelled");
      expect(poll.data.output).toBeUndefined();
    }
    expect((await call("GET", `/files/renders/${id}.mp4`)).status).toBe(404);
    const done = await submitRender(token, sid, `${id}_b`);
    for (let i = 0; i < 3; i += 1) await call("GET", `/api/render/proxy/lambda/${done.id}`, { token });
    const late = await call("POST", `/api/render/proxy/lambda/${done.id}/cancel`, { token });
    expect(late.json.data).toEqual({ id: done.id, status: "completed" });
    expect((await call("POST", "/api/render/proxy/lambda/nope/cancel", { token })).status).toBe(404);
    expect((await call("POST", `/api/render/proxy/lambda/${id}/cancel`)).status).toBe(401);
  });

  it("supports the success and top status shapes", async () => {
    await start({ renderSteps: 1 });
    const token = await anonToken();
    const sid = await exportableSession(token);
    sb!.state.renderStatusStyle = "success";
    const a = await submitRender(token, sid, "render_a");
    const success = (await call("GET", `/api/render/proxy/lambda/${a.id}`, { token })).json;
    expect(success).toEqual({
      success: true,
      data: { status: "completed", progress: 100, outputUrl: `${sb!.url}/files/renders/render_a.mp4` },
    });
    sb!.state.renderStatusStyle = "top";
    const b = await submitRender(token, sid, "render_b");
    const top = (await call("GET", `/api/render/proxy/lambda/${b.id}`, { token })).json;
    expect(top).toMatchObject({ taskId: "render_b", status: "completed", progress: 100 });
    expect(top.output.url).toBe(`${sb!.url}/files/renders/render_b.mp4`);
  });

  it("failNextRenders makes the next renders fail", async () => {
    await start({ renderSteps: 2 });
    const token = await anonToken();
    const sid = await exportableSession(token);
    sb!.state.failNextRenders(1);
    const failing = await submitRender(token, sid, "r1");
    await call("GET", `/api/render/proxy/lambda/${failing.id}`, { token });
    const end = (await call("GET", `/api/render/proxy/lambda/${failing.id}`, { token })).json;
    expect(end.data.status).toBe("failed");
    expect(end.data.error).toBeTruthy();
    expect(end.data.output).toBeUndefined();
    expect((await call("GET", `/files/renders/${failing.id}.mp4`)).status).toBe(404);
    const next = await submitRender(token, sid, "r2");
    await call("GET", `/api/render/proxy/lambda/${next.id}`, { token });
    expect((await call("GET", `/api/render/proxy/lambda/${next.id}`, { token })).json.data.status).toBe(
      "completed",
    );
  });

  it("refuses export without skill headers (402), empty drafts (5001), unknown sessions and renders", async () => {
    await start();
    const token = await anonToken();
    const sid = await newSession(token);
    const body = { id: "r", sessionId: sid, draft: { t: [], d: 0, m: {} }, output: { format: "mp4" } };
    const blocked = await call("POST", "/api/render/proxy/lambda", {
      token,
      body,
      headers: { ...SKILL_HEADERS, "x-skill-version": "" },
    });
    expect(blocked.status).toBe(402);
    expect(blocked.json).toEqual({ code: 402, message: "free plan export blocked" });
    const empty = await call("POST", "/api/render/proxy/lambda", { token, body, headers: SKILL_HEADERS });
    expect(empty.json).toEqual({ code: 5001, message: "nothing to render" });
    const noSession = await call("POST", "/api/render/proxy/lambda", {
      token,
      body: { ...body, sessionId: "nope" },
      headers: SKILL_HEADERS,
    });
    expect(noSession.json.code).toBe(1002);
    const unknown = await call("GET", "/api/render/proxy/lambda/missing", { token });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ code: 404, message: "render not found" });
  });

  it("omitOutputUrl forces the authenticated fallback download", async () => {
    await start({ renderSteps: 1 });
    const token = await anonToken();
    const sid = await exportableSession(token);
    sb!.state.omitOutputUrl = true;
    const { id } = await submitRender(token, sid);
    const status = (await call("GET", `/api/render/proxy/lambda/${id}`, { token })).json;
    expect(status.data.status).toBe("completed");
    expect(status.data.output.url).toBeUndefined();
    expect((await call("GET", `/api/render/proxy/${id}/download`)).status).toBe(401);
    const res = await request(`${sb!.url}/api/render/proxy/${id}/download`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    expect((await res.body.arrayBuffer()).byteLength).toBe(statSync(SAMPLE).size);
  });

  it("streams renderOutputBytes synthetic bytes with Content-Length; truncated downloads stop halfway", async () => {
    const size = 5 * 1024 * 1024 + 123;
    await start({ renderSteps: 1, renderOutputBytes: size });
    const token = await anonToken();
    const sid = await exportableSession(token);
    const { id } = await submitRender(token, sid);
    const status = (await call("GET", `/api/render/proxy/lambda/${id}`, { token })).json;
    expect(status.data.output.size).toBe(size);
    const res = await request(status.data.output.url);
    expect(Number(res.headers["content-length"])).toBe(size);
    let received = 0;
    let head: Buffer | undefined;
    for await (const chunk of res.body) {
      head ??= chunk as Buffer;
      received += (chunk as Buffer).length;
    }
    expect(received).toBe(size);
    expect(head?.toString("latin1", 4, 8)).toBe("ftyp");

    sb!.inject({ endpoint: "download", kind: { type: "truncated" } });
    const cut = await request(status.data.output.url);
    expect(Number(cut.headers["content-length"])).toBe(size);
    let got = 0;
    await expect(
      (async () => {
        for await (const chunk of cut.body) got += (chunk as Buffer).length;
      })(),
    ).rejects.toThrow();
    expect(got).toBe(Math.floor(size / 2));
  });
});
