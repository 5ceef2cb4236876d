import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProgressLine } from "../../src/commands/progress.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { type CliRun, runCli, startCli } from "../helpers/cli-run.js";
import { FIXTURES } from "../helpers/paths.js";

const SAMPLE = join(FIXTURES, "sample.mp4");
const VOICEOVER = "add a natural AI voiceover in English for my product walkthrough video";

// `npm test` builds dist/ before vitest runs; these tests run the built CLI as a person or an agent would.
describe("nemovideo-mcp CLI subcommands (built dist/cli.js against the sandbox)", { timeout: 60_000 }, () => {
  let sandbox: Sandbox;
  const sandboxLog: string[] = [];
  let root: string;
  const runs: CliRun[] = [];

  /** A fresh state directory (and HOME) so that each scenario starts without a current session. */
  async function workspace(name: string) {
    const dir = join(root, name);
    await mkdir(join(dir, "exports"), { recursive: true });
    const env: Record<string, string> = {
      HOME: dir,
      NEMO_API_URL: sandbox.url,
      NEMO_WEB_URL: "https://nemovideo.test",
      NEMO_STATE_DIR: join(dir, "state"),
      NEMO_OUTPUT_DIR: join(dir, "exports"),
      NEMO_RENDER_POLL_MS: "20",
      NEMO_RECOVERY_POLL_MS: "50",
      NEMO_RETRY_429_MS: "20",
    };
    const cli = async (args: string[], extraEnv: Record<string, string> = {}) => {
      const run = await runCli(args, { ...env, ...extraEnv }, dir);
      runs.push(run);
      return run;
    };
    /** Runs with --json and checks that stdout is exactly one JSON document. */
    const json = async (args: string[], extraEnv: Record<string, string> = {}) => {
      const run = await cli([...args, "--json"], extraEnv);
      const lines = run.stdout.split("\n").filter((l) => l.trim() !== "");
      expect(lines, `stdout of ${args.join(" ")}: ${run.stdout}\nstderr: ${run.stderr}`).toHaveLength(1);
      return { ...run, doc: JSON.parse(run.stdout) as Record<string, any> };
    };
    return { dir, env, cli, json, exports: join(dir, "exports") };
  }

  beforeAll(async () => {
    sandbox = await startSandbox({ stepMs: 2, renderSteps: 2, log: (line) => sandboxLog.push(line) });
    root = await mkdtemp(join(tmpdir(), "nemo-cli-"));
  });

  afterAll(async () => {
    await sandbox?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("credits: the balance as text and as JSON", async () => {
    const w = await workspace("credits");
    const text = await w.cli(["credits"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe("Credits: 100 available, 0 frozen by work in progress, 100 total.\n");
    expect(text.stderr).toBe("");
    const { code, doc } = await w.json(["credits"]);
    expect(code).toBe(0);
    expect(doc).toEqual({ available: 100, frozen: 0, total: 100 });
  });

  it("session: created on first need, reused across invocations, replaced with --new", async () => {
    const w = await workspace("session");
    const first = await w.json(["session"]);
    expect(first.code).toBe(0);
    expect(first.doc.session_id).toBeTruthy();
    expect(first.doc.task_id).toBeTruthy();
    expect(first.doc.project_url).toMatch(/^https:\/\/nemovideo\.test\/workspace\/claim\?ct=clm_/);
    expect(first.doc.created).toBe(true);

    const again = await w.cli(["session"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Current session: ${first.doc.session_id}`);
    expect(again.stdout).toContain(`Task: ${first.doc.task_id}`);
    expect(again.stdout).toMatch(
      /Open the project in the browser: https:\/\/nemovideo\.test\/workspace\/claim/,
    );

    const fresh = await w.json(["session", "--new", "--language", "zh"]);
    expect(fresh.code).toBe(0);
    expect(fresh.doc.session_id).not.toBe(first.doc.session_id);
    expect(fresh.doc.created).toBe(true);
    expect(sandbox.state.getSession(fresh.doc.session_id)?.language).toBe("zh");

    const after = await w.json(["session"]);
    expect(after.doc.session_id).toBe(fresh.doc.session_id);
    expect(after.doc.created).toBe(false);
  });

  it("walks the voiceover flow: upload, send, state, export", async () => {
    const w = await workspace("voiceover");
    const upload = await w.cli(["upload", SAMPLE]);
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stdout).toMatch(/^Uploaded 1 file to session [\w-]+:\n- sample\.mp4 \(video, /);
    // not a terminal: one progress line per stage or 10% step, never a \r redraw
    expect(upload.stderr).toMatch(/Uploading sample\.mp4: .*\(100%\)/);
    expect(upload.stderr).not.toContain("\r");

    const sent = await w.cli(["send", VOICEOVER]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stderr).toContain("Backend is running generate_voiceover");
    expect(sent.stdout).toMatch(/voiceover/i);
    expect(sent.stdout).toMatch(/Timeline \(2 tracks\): 1\. Video: sample\.mp4 .* 2\. /);
    expect(sent.stdout).not.toMatch(/Export button|\bget_state\b|\bexport_video\b/);

    const state = await w.cli(["state"]);
    expect(state.code).toBe(0);
    expect(state.stdout).toMatch(/^Timeline \(2 tracks\): /);
    expect(state.stdout.trim().split("\n")).toHaveLength(1);

    const exported = await w.cli(["export"]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toMatch(/Rendering 100%/);
    const file = /^Saved (.+\.mp4) \(/m.exec(exported.stdout)?.[1];
    expect(file).toBeTruthy();
    expect(file!.startsWith(w.exports)).toBe(true);
    expect((await stat(file!)).size).toBe((await stat(SAMPLE)).size);
    expect(exported.stdout).toMatch(/^URL: http/m);
  });

  it("send prints the agent's question and options; send --answer answers it in the same session", async () => {
    const w = await workspace("question");
    const asked = await w.cli(["send", "add a voiceover and let me choose the voice"]);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toContain("Which voice should the voiceover use?");
    expect(asked.stdout).toMatch(/1\. Warm female \(English\)\n\s+2\. Calm male \(English\)/);
    expect(asked.stdout).toContain('send --answer "');
    const answered = await w.json(["send", "--answer", "Calm male (English)"]);
    expect(answered.code, answered.stderr).toBe(0);
    expect(answered.doc).toMatchObject({
      status: "completed",
      activity: ["generate_voiceover"],
      credits_used: 5,
    });
    // a message and its answer in one command: the option's number stands for its words
    const both = await w.json(["send", "add a voiceover, ask me which voice", "--answer", "3"]);
    expect(both.code, both.stderr).toBe(0);
    expect(both.doc.status).toBe("completed");
    const sent = sandbox.requests
      .filter((r) => r.path === "/run_sse")
      .map((r) => (r.body as { new_message: { parts: Array<{ text: string }> } }).new_message.parts[0]?.text);
    expect(sent.slice(-2)).toEqual(["add a voiceover, ask me which voice", "Energetic narrator (English)"]);
  });

  it("every subcommand's --json uses the MCP field names", async () => {
    const w = await workspace("json");
    const upload = await w.json(["upload", SAMPLE]);
    expect(upload.code).toBe(0);
    expect(upload.doc.session_id).toBeTruthy();
    expect(upload.doc.files).toHaveLength(1);
    expect(upload.doc.files[0]).toMatchObject({ name: "sample.mp4", type: "video" });

    const sent = await w.json(["send", VOICEOVER, "--wait", "60"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.doc).toMatchObject({ status: "completed", session_id: upload.doc.session_id });
    expect(sent.doc.turn_id).toBeTruthy();
    expect(sent.doc.activity).toContain("generate_voiceover");
    expect(typeof sent.doc.reply).toBe("string");
    expect(sent.doc.timeline).toMatch(/^Timeline \(2 tracks\)/);

    const state = await w.json(["state"]);
    expect(state.code).toBe(0);
    expect(Object.keys(state.doc).sort()).toEqual(
      ["duration_ms", "exportable", "session_id", "summary", "tracks"].sort(),
    );
    expect(state.doc.session_id).toBe(upload.doc.session_id);
    expect(state.doc.exportable).toBe(true);
    expect(state.doc.tracks[0]).toMatchObject({ index: 1, kind: "video", name: "Video" });
    expect(state.doc.tracks[0].segments[0]).toMatchObject({ start_ms: 0, label: "sample.mp4" });
    expect(state.doc.summary).toMatch(/^Timeline \(2 tracks\)/);

    const out = join(w.dir, "custom-out");
    const exported = await w.json(["export", "--out", out]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.doc.status).toBe("completed");
    expect(exported.doc.render_id).toMatch(/^render_/);
    expect(exported.doc.url).toMatch(/^http/);
    expect(exported.doc.file.startsWith(out)).toBe(true);
    expect(exported.doc.bytes).toBe((await stat(SAMPLE)).size);
    expect((await stat(exported.doc.file)).size).toBe(exported.doc.bytes);
  });

  it("a silent edit prints the list of timeline changes", async () => {
    const w = await workspace("silent");
    const session = await w.json(["session"]);
    sandbox.scriptTurn({
      steps: [
        { data: { author: "nemo", content: { parts: [{ functionCall: { name: "add_title", args: {} } }] } } },
        {
          setDraft: {
            t: [{ tt: 7, sg: [{ id: "s1", st: 0, d: 3000, m: { text: "Hello CLI" } }] }],
            d: 3000,
          },
        },
      ],
    });
    const sent = await w.cli(["send", "put a title on it"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^Done\. Changes to the timeline:\n- Added text track/);
    expect(sent.stdout).toContain("Hello CLI");
    const json = await w.json(["state"]);
    expect(json.doc.session_id).toBe(session.doc.session_id);
  });

  it("route: export, credits, state, upload (English and Chinese) and the fallback to send", async () => {
    const w = await workspace("route");
    const upload = await w.json(["route", `上传 ${SAMPLE}`]);
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.doc.action).toBe("upload");
    expect(upload.doc.files[0].name).toBe("sample.mp4");
    expect(upload.stderr).toContain(`Routing to nemovideo-mcp upload ${SAMPLE} (free).`);

    const uploadEn = await w.cli(["route", `please upload "${SAMPLE}"`]);
    expect(uploadEn.code, uploadEn.stderr).toBe(0);
    expect(uploadEn.stdout).toMatch(/^Uploaded 1 file/);

    const credits = await w.json(["route", "我还有多少积分？"]);
    expect(credits.code).toBe(0);
    expect(credits.doc).toMatchObject({ action: "credits", available: 100, total: 100 });
    const balance = await w.cli(["route", "what's my Balance?"]);
    expect(balance.stdout).toMatch(/^Credits: /);

    const send = await w.json(["route", VOICEOVER]);
    expect(send.code, send.stderr).toBe(0);
    expect(send.doc).toMatchObject({ action: "send", status: "completed" });
    expect(send.doc.activity).toContain("generate_voiceover");

    const state = await w.json(["route", "查看状态"]);
    expect(state.code).toBe(0);
    expect(state.doc.action).toBe("state");
    expect(state.doc.summary).toMatch(/^Timeline \(2 tracks\)/);
    const tracks = await w.cli(["route", "Show tracks"]);
    expect(tracks.stdout).toMatch(/^Timeline \(2 tracks\)/);

    const exported = await w.json(["route", "导出视频", "--out", join(w.dir, "routed")]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.doc).toMatchObject({ action: "export", status: "completed" });
    expect(exported.doc.file.startsWith(join(w.dir, "routed"))).toBe(true);
    const download = await w.cli(["route", "send me the video"]);
    expect(download.code, download.stderr).toBe(0);
    expect(download.stdout).toMatch(/^Saved .+\.mp4/);

    const question = await w.json(["route", "what can you do?"]);
    expect(question.code).toBe(0);
    expect(question.doc.action).toBe("send");
    expect(question.doc.reply.length).toBeGreaterThan(0);

    // the flag of another action is dropped with a note, not an error
    const dropped = await w.cli(["route", "credits", "--out", "x"]);
    expect(dropped.code).toBe(0);
    expect(dropped.stderr).toContain("--out does not apply to credits; ignored.");
  });

  it("exits 2 for bad usage, before any request", async () => {
    const w = await workspace("usage");
    const before = sandbox.requests.length;
    const wrongExtension = join(w.dir, "notes.pdf");
    await writeFile(wrongExtension, "not a video");
    const cases: Array<{ args: string[]; stderr: RegExp; env?: Record<string, string> }> = [
      { args: ["frobnicate"], stderr: /unknown command "frobnicate"/ },
      { args: ["upload"], stderr: /upload needs at least one local file path or http\(s\) URL/ },
      { args: ["upload", join(w.dir, "missing.mp4")], stderr: /file not found/ },
      { args: ["upload", wrongExtension], stderr: /not a format NemoVideo accepts \(\.pdf\)/ },
      { args: ["upload", "ftp://example.com/a.mp4"], stderr: /Only local files and http\(s\) URLs/ },
      { args: ["send"], stderr: /send needs a message/ },
      { args: ["send", "   "], stderr: /send needs a message/ },
      { args: ["send", "hi", "--wait", "soon"], stderr: /--wait must be a number of seconds/ },
      { args: ["credits", "--new"], stderr: /--new does not apply to credits/ },
      { args: ["state", "extra"], stderr: /state takes no arguments/ },
      { args: ["session", "--language", "english!"], stderr: /--language must be a language code/ },
      { args: ["route"], stderr: /route needs the user's words/ },
      {
        args: ["route", "upload my video please"],
        stderr: /name no file: a local file path or an http\(s\) URL/,
      },
      { args: ["credits", "--skill", "no-such-skill"], stderr: /no-such-skill/ },
      { args: ["credits"], stderr: /NEMO_RENDER_POLL_MS must be/, env: { NEMO_RENDER_POLL_MS: "fast" } },
      {
        args: ["upload", SAMPLE],
        stderr: /outside the folders/,
        env: { NEMO_ALLOWED_DIRS: join(w.dir, "only-here") },
      },
    ];
    for (const c of cases) {
      const run = await w.cli(c.args, c.env);
      expect(run.code, `${c.args.join(" ")}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(c.stderr);
      expect(run.stdout).toBe("");
    }
    const json = await w.json(["upload", join(w.dir, "missing.mp4")]);
    expect(json.code).toBe(2);
    expect(json.doc.error).toMatchObject({ kind: "invalid_input" });
    expect(json.doc.error.message).toMatch(/file not found/);
    const usage = await w.json(["frobnicate"]);
    expect(usage.code).toBe(2);
    expect(usage.doc.error.kind).toBe("usage");
    // nothing above reached the backend (no token, no session)
    expect(sandbox.requests.length).toBe(before);
  });

  it("exits 1 with the message on stderr for a backend error, and {error} with --json", async () => {
    const w = await workspace("backend-error");
    sandbox.inject({ endpoint: "credits", kind: { type: "http", status: 500 }, times: 2 });
    const run = await w.cli(["credits"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/nemovideo-mcp: NemoVideo is having trouble \(HTTP 500\)/);
    // times: 2 covers a retry; the client does not retry a plain 500, so drop what is left
    sandbox.clearFaults();

    sandbox.inject({ endpoint: "credits", kind: { type: "http", status: 500 }, times: 2 });
    const json = await w.json(["credits"]);
    expect(json.code).toBe(1);
    expect(json.doc).toEqual({
      error: {
        kind: "server",
        message: expect.stringMatching(/HTTP 500/),
        next_step: expect.any(String),
      },
    });
    expect(json.stderr).toMatch(/HTTP 500/);
    sandbox.clearFaults();
  });

  it("says so when the current session vanished (1002) and moves on to a new one", async () => {
    const w = await workspace("vanished");
    const first = await w.json(["session"]);
    sandbox.state.deleteSession(first.doc.session_id);
    const state = await w.json(["state"]);
    expect(state.code).toBe(1);
    expect(state.doc.error.kind).toBe("session_not_found");
    expect(state.doc.error.message).toMatch(/no longer exists/);
    expect(state.doc.error.next_step).toMatch(/new empty session/);
    const next = await w.json(["session"]);
    expect(next.doc.session_id).not.toBe(first.doc.session_id);
    expect(next.doc.created).toBe(false);
  });

  it("Ctrl+C during a long send closes the stream and exits 130", async () => {
    const w = await workspace("sigint");
    await w.json(["session"]);
    sandbox.scriptTurn({ steps: [{ heartbeat: true }, { hang: true }] });
    const proc = startCli(
      ["send", "make a long video", "--json"],
      { ...w.env, NEMO_STILL_WORKING_MS: "200" },
      w.dir,
    );
    await proc.waitForStderr(/NemoVideo is working on your message/);
    await proc.waitForStderr(/Still working…/);
    const sentAt = Date.now();
    proc.child.kill("SIGINT");
    const run = await proc.done;
    runs.push(run);
    expect(run.code, run.stderr).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(3000);
    expect(run.stderr).toMatch(/cancelled/i);
    const doc = JSON.parse(run.stdout) as Record<string, any>;
    expect(doc.status).toBe("cancelled");
    expect(doc.error.kind).toBe("cancelled");
    // the sandbox saw the client close the hung stream
    await expect
      .poll(() => sandboxLog.some((line) => /^POST \/run_sse 200 cut/.test(line)), { timeout: 2000 })
      .toBe(true);
  });

  it("send --wait bounds the wait: past it the command ends with the turn still running and its id", async () => {
    const w = await workspace("wait");
    await w.json(["session"]);
    sandbox.scriptTurn({ steps: [{ heartbeat: true }, { hang: true }] });
    const run = await w.json(["send", "make a long video", "--wait", "0.5"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.doc.status).toBe("running");
    expect(run.doc.turn_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.ms).toBeLessThan(5000);
    const other = await workspace("wait-text");
    sandbox.scriptTurn({ steps: [{ heartbeat: true }, { hang: true }] });
    const text = await other.cli(["send", "make a long video", "--wait", "0.5"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Still running: turn [0-9a-f-]{36}\. .*`nemovideo-mcp state`/);
  });

  it("Ctrl+C during an export stops polling, leaves no file and exits 130", async () => {
    const w = await workspace("export-sigint");
    await w.cli(["upload", SAMPLE]);
    const proc = startCli(["export"], { ...w.env, NEMO_RENDER_POLL_MS: "5000" }, w.dir);
    await proc.waitForStderr(/Submitting the render/);
    proc.child.kill("SIGINT");
    const run = await proc.done;
    runs.push(run);
    expect(run.code, run.stderr).toBe(130);
    expect(run.ms).toBeLessThan(5000);
    expect(run.stdout).toBe("");
    expect(await readdir(w.exports)).toEqual([]);
  });

  it("never prints a token, even with debug logging", async () => {
    const w = await workspace("tokens");
    const debug = { NEMO_LOG_LEVEL: "debug" };
    const logged = [
      await w.cli(["credits"], debug),
      await w.cli(["upload", SAMPLE], debug),
      await w.cli(["send", "add background music"], debug),
    ];
    for (const run of logged) expect(run.code, run.stderr).toBe(0);
    const logs = logged.map((r) => r.stderr).join("");
    expect(logs).toMatch(/\] debug: /);
    expect(logs).toMatch(/\] info: /);
    for (const run of runs) {
      expect(run.stdout).not.toMatch(/nmv_/);
      expect(run.stderr).not.toMatch(/nmv_|Bearer/);
    }
  });
});

describe("CLI progress on stderr", () => {
  it("prints a line per stage change and per 10% step when stderr is not a terminal", () => {
    const out: string[] = [];
    const progress = new ProgressLine((t) => out.push(t), false);
    for (let p = 0; p <= 100; p += 2) progress.update("upload", `Uploading ${p}%`, p);
    progress.update("tool:1", "Backend is running add_bgm");
    progress.update("tool:1", "Backend is running add_bgm");
    progress.update("reply", "Backend is replying…");
    expect(out).toEqual([
      ...[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((p) => `Uploading ${p}%\n`),
      "Backend is running add_bgm\n",
      "Backend is replying…\n",
    ]);
  });

  it("redraws one line with \\r on a terminal, keeps notes above it and clears it at the end", () => {
    const out: string[] = [];
    let now = 0;
    const progress = new ProgressLine(
      (t) => out.push(t),
      true,
      () => 30,
      () => now,
    );
    progress.update("render", "Rendering 10%", 10);
    now += 10;
    progress.update("render", "Rendering 20%", 20); // too soon after the last redraw
    now += 100;
    progress.update("render", "Rendering 30%", 30);
    progress.line("a warning");
    progress.update("download", "Downloading a very long file name that does not fit.mp4", 0);
    progress.clear();
    expect(out).toEqual([
      "\r\x1b[2KRendering 10%",
      "\r\x1b[2KRendering 30%",
      "\r\x1b[2K",
      "a warning\n",
      "\r\x1b[2KDownloading a very long file…",
      "\r\x1b[2K",
    ]);
  });
});
