/**
 * Nothing lost, nothing leaked: shared state directories, typos in ids, damaged or unwritable state
 * files, secrets echoed by a hostile backend, oversized replies and streams, slow downloads. Each case
 * reproduces one finding of issue 10 against the sandbox (or a small hostile loopback server).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { describe, it } from "vitest";
import { startSandbox } from "../../src/sandbox/index.js";
import { type FaultServer, withFaultServer } from "../helpers/fault-harness.js";
import { ROOT } from "../helpers/paths.js";
import { resultText, sc } from "../helpers/results.js";
import { BGM_DRAFT, say } from "../helpers/adk.js";
import { startChild, stopChild } from "../helpers/mcp-child.js";

describe("two real processes on one state directory", () => {
  it("concurrent first calls: one client id, one token request, each process keeps its own session", async ({
    expect,
  }) => {
    const sandbox = await startSandbox({ stepMs: 2, renderSteps: 2 });
    const first = await startChild({ sandbox });
    const others = await Promise.all([
      startChild({ sandbox, dir: first.dir }),
      startChild({ sandbox, dir: first.dir }),
    ]);
    const all = [first, ...others];
    try {
      // every process's first call at once, on a fresh state directory
      const states = await Promise.all(
        all.map((c) => c.client.callTool({ name: "get_state", arguments: {} })),
      );
      for (const r of states) expect(r.isError, JSON.stringify(r)).toBeFalsy();
      expect(sandbox.state.tokenRequests).toBe(1);
      expect(sandbox.state.accounts.size).toBe(1);
      const clientId = (await readFile(join(first.stateDir, "client_id"), "utf8")).trim();
      expect([...sandbox.state.tokensByClient.keys()]).toEqual([clientId]);

      // each process made its own session current; another process's create_session does not move it
      const [a, b] = all as [typeof first, typeof first];
      const mine = sc(states[0]).session_id as string;
      const created = await b.client.callTool({ name: "create_session", arguments: {} });
      const theirs = sc(created).session_id as string;
      expect(theirs).not.toBe(mine);
      const onA = await a.client.callTool({ name: "get_state", arguments: {} });
      expect(sc(onA).session_id).toBe(mine);
      const sent = await a.client.callTool({
        name: "send_message",
        arguments: { message: "add background music", wait_seconds: 30 },
      });
      expect(sc(sent).session_id).toBe(mine);
      expect(sandbox.state.tokenRequests).toBe(1);
    } finally {
      for (const c of others) await stopChild(c, false);
      await stopChild(first, true);
    }
  });
});

describe("sessions", () => {
  it("a mistyped session_id says there is no such session and changes nothing", async ({ expect }) => {
    await withFaultServer(async (h) => {
      const created = await h.call("create_session");
      const current = sc(created).session_id as string;
      const sessions = h.sandbox.state.sessions.size;
      for (const tool of ["get_state", "send_message", "export_video"] as const) {
        const args: Record<string, unknown> = { session_id: "typo" };
        if (tool === "send_message") args.message = "add music";
        const r = await h.call(tool, args);
        expect(r.isError, tool).toBe(true);
        expect(resultText(r), tool).toMatch(/no session with the id "typo"/i);
        expect(resultText(r), tool).toMatch(/create_session/);
        expect(resultText(r), tool).not.toMatch(/gone|new empty session/i);
      }
      expect(h.sandbox.state.sessions.size).toBe(sessions);
      expect(await h.currentSession()).toBe(current);
      const state = await h.call("get_state");
      expect(sc(state).session_id).toBe(current);
      expect(h.sandbox.state.runSseRequests).toBe(0);
    });
  });
});

describe("damaged and unwritable state files", () => {
  it("a state directory that cannot be written: one token for every call, one warning naming it", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      // NEMO_STATE_DIR is a plain file here: nothing below it can be read or written
      const stateDir = join(h.dir, "state");
      await rm(stateDir, { recursive: true, force: true });
      await writeFile(stateDir, "not a folder");
      for (let i = 0; i < 4; i++) {
        const r = await h.call("get_credits");
        expect(r.isError, resultText(r)).toBeFalsy();
      }
      expect(h.sandbox.state.tokenRequests).toBe(1);
      const warnings = h.logs.filter((l) => l.includes("NEMO_STATE_DIR") && l.includes("token.json"));
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThanOrEqual(2);
      expect(h.logs.join("\n")).not.toMatch(/Unexpected error/);
    });
  });

  it("job records of the wrong shape read as unknown ids (isError results), never as protocol errors", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      const jobs = join(h.dir, "state", "jobs");
      await mkdir(jobs, { recursive: true });
      await writeFile(
        join(jobs, "turn_bad.json"),
        JSON.stringify({ kind: "turn", status: 42, reply: ["x"] }),
      );
      await writeFile(join(jobs, "render_bad.json"), JSON.stringify({ kind: "export", render_ids: "nope" }));
      const turn = await h.call("get_turn", { turn_id: "turn_bad" });
      expect(turn.isError, resultText(turn)).toBe(true);
      expect(resultText(turn)).toMatch(/turn_bad/);
      const exported = await h.call("get_export", { render_id: "render_bad" });
      expect(exported.isError, resultText(exported)).toBe(true);
      expect(resultText(exported)).toMatch(/render_bad/);
    });
  });

  it("a state file replaced by a folder is named, and nothing claims a message might have been sent", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      await mkdir(join(h.dir, "state", "sessions.json"), { recursive: true });
      const r = await h.call("send_message", { message: "add background music", wait_seconds: 30 });
      expect(r.isError, resultText(r)).toBeFalsy();
      expect(sc(r).status).toBe("completed");
      expect(h.logs.join("\n")).toContain(join(h.dir, "state", "sessions.json"));
    });
  });
});

describe("clear messages for bad arguments and ids", () => {
  it("a misspelt argument key is refused naming it and the right one; nothing is done", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      const created = await h.call("create_session");
      const current = sc(created).session_id as string;
      const r = await h.call("get_state", { sessionId: "other" });
      expect(r.isError).toBe(true);
      expect(resultText(r)).toMatch(/"sessionId" \(did you mean "session_id"\?\)/);
      const sends = await h.call("send_message", { mesage: "add music" });
      expect(resultText(sends)).toMatch(/"mesage" \(did you mean "message"\?\)/);
      expect(h.sandbox.state.runSseRequests).toBe(0);
      expect(await h.currentSession()).toBe(current);
    });
  });

  it("arguments that are not an object are invalid params (-32602) in words; a wrong type reads once", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      const error = await h.client
        .request(
          {
            method: "tools/call",
            params: { name: "get_state", arguments: [] as unknown as Record<string, unknown> },
          },
          CallToolResultSchema,
        )
        .then(
          () => undefined,
          (err: unknown) => err as { code?: number; message?: string },
        );
      expect(error?.code).toBe(-32602);
      expect(error?.message).toMatch(/must be an object of named values/);
      expect(error?.message).not.toMatch(/"code":|invalid_type|\[\s*\{/);
      const r = await h.call("upload_media", { paths: "clip.mp4" });
      expect(r.isError).toBe(true);
      const text = resultText(r);
      expect(text).toMatch(/paths/);
      expect(text).not.toMatch(/at most 20 files/);
    });
  });

  it("a wrong session id in a timeline resource: protocol codes, and nothing changes", async ({ expect }) => {
    await withFaultServer(async (h) => {
      const created = await h.call("create_session");
      const current = sc(created).session_id as string;
      const sessions = h.sandbox.state.sessions.size;
      for (const uri of ["nemovideo://sessions/typo/timeline", "nemovideo://sessions/typo/state"]) {
        const err = await h.client.readResource({ uri }).then(
          () => undefined,
          (e: unknown) => e as { code?: number; message?: string },
        );
        expect(err?.code, uri).toBe(-32002);
        expect(err?.message, uri).toMatch(/No session with the id "typo"/);
      }
      expect(h.sandbox.state.sessions.size).toBe(sessions);
      expect(await h.currentSession()).toBe(current);
    });
  });

  it("--skill <folder> whose skill has a bundled skill's name starts and uses that folder", async ({
    expect,
  }) => {
    const folder = await mkdtemp(join(tmpdir(), "nemo-skill-"));
    const original = await readFile(join(ROOT, "skills", "ai-voiceover-for", "SKILL.md"), "utf8");
    await writeFile(join(folder, "SKILL.md"), original.replace("version: 1.0.0", "version: 9.9.9"));
    try {
      await withFaultServer({ env: { NEMO_SKILL: folder } }, async (h) => {
        await h.call("get_credits");
        const last = h.sandbox.requests.at(-1);
        expect(last?.headers["x-skill-source"]).toBe("ai-voiceover-for");
        expect(last?.headers["x-skill-version"]).toBe("9.9.9");
        const read = await h.client.readResource({ uri: "nemovideo://skills/ai-voiceover-for" });
        expect((read.contents[0] as { text?: string }).text).toContain("version: 9.9.9");
      });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe("secrets a hostile backend echoes", () => {
  it("a token echoed in SSE text or an error never reaches a result, structuredContent or a job record", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      await h.call("get_credits");
      const token = (await h.cachedToken()) as string;
      expect(token).toMatch(/^nmv_usr_/);
      const bare = token.replace(/^nmv_usr_/, "");
      h.sandbox.scriptTurn({
        steps: [
          say(`Authorized with Bearer ${token}; raw ${token}; see https://bob:hunter2@cdn.example.com/v.mp4`),
        ],
      });
      const r = await h.call("send_message", { message: "add music", wait_seconds: 30 });
      expect(sc(r).status).toBe("completed");
      h.sandbox.scriptTurn({ steps: [{ data: { error: `token ${token} is not allowed` } }] });
      const failed = await h.call("send_message", { message: "add titles", wait_seconds: 30 });
      expect(failed.isError).toBe(true);
      for (const result of [r, failed]) {
        const all = JSON.stringify(result);
        expect(all).not.toContain(bare);
        expect(all).not.toContain("hunter2");
      }
      expect(sc(r).reply).toContain("https://cdn.example.com/v.mp4");
      const jobs = await readdir(join(h.dir, "state", "jobs"));
      expect(jobs.length).toBeGreaterThanOrEqual(2);
      for (const name of jobs) {
        const record = await readFile(join(h.dir, "state", "jobs", name), "utf8");
        expect(record).not.toContain(bare);
        expect(record).not.toContain("hunter2");
      }
    });
  });
});

describe("bounded replies and streams", () => {
  it("a 6 MB reply is cut to 64 KB, saying so, in the result and in the record", async ({ expect }) => {
    await withFaultServer(async (h) => {
      const huge = "lorem ipsum ".repeat(512 * 1024); // 6 MiB
      h.sandbox.scriptTurn({ steps: [say(huge)] });
      const r = await h.call("send_message", { message: "write a long script", wait_seconds: 60 });
      expect(sc(r).status).toBe("completed");
      const reply = sc(r).reply as string;
      expect(reply.length).toBeLessThan(70 * 1024);
      expect(reply).toMatch(/reply was cut/);
      expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(4 * 1024 * 1024);
      const record = await readFile(join(h.dir, "state", "jobs", `${sc(r).turn_id}.json`), "utf8");
      expect(record.length).toBeLessThan(200 * 1024);
      const again = await h.call("get_turn", { turn_id: sc(r).turn_id });
      expect(Buffer.byteLength(JSON.stringify(again))).toBeLessThan(200 * 1024);
    });
  });

  it("an unterminated 20 MB SSE line fails the turn clearly; many large text events keep 64 KB", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      h.sandbox.scriptTurn({ steps: [{ raw: `data: "${"x".repeat(20 * 1024 * 1024)}` }, { hang: true }] });
      const r = await h.call("send_message", { message: "generate a video", wait_seconds: 60 });
      expect(r.isError).toBe(true);
      expect(resultText(r)).toMatch(/larger than 16 MB/);
      const events = Array.from({ length: 12 }, (_, i) => say(`${i}`.repeat(1024 * 1024)));
      h.sandbox.scriptTurn({ steps: events });
      const many = await h.call("send_message", { message: "write scripts", wait_seconds: 60 });
      expect(sc(many).status).toBe("completed");
      expect((sc(many).reply as string).length).toBeLessThan(70 * 1024);
      const record = await readFile(join(h.dir, "state", "jobs", `${sc(many).turn_id}.json`), "utf8");
      expect(record.length).toBeLessThan(200 * 1024);
    });
  });
});

describe("exports that can be picked up again", () => {
  const exportable = async (h: FaultServer) => {
    const created = await h.call("create_session");
    h.sandbox.state.setDraft(sc(created).session_id as string, BGM_DRAFT);
  };

  it("a render still running after NEMO_RENDER_MAX_POLLS is not a failure: get_export polls again, every time", async ({
    expect,
  }) => {
    await withFaultServer(
      { env: { NEMO_RENDER_MAX_POLLS: "2" }, sandboxOptions: { renderSteps: 6 } },
      async (h) => {
        await exportable(h);
        const first = await h.call("export_video", { wait_seconds: 20 });
        // still running on NemoVideo: not a render failure, and get_export is named to pick it up
        expect(sc(first).status, resultText(first)).toBe("rendering");
        expect(sc(first).error).toBeUndefined();
        expect(resultText(first)).toMatch(/get_export/);
        const renderId = sc(first).render_id as string;
        const polls = () => h.requestsTo(new RegExp(`^/api/render/proxy/lambda/${renderId}$`));
        const before = polls();
        let last = first;
        for (let i = 0; i < 4 && sc(last).status !== "completed"; i++) {
          last = await h.call("get_export", { render_id: renderId, wait_seconds: 20 });
        }
        expect(polls()).toBeGreaterThan(before);
        expect(sc(last).status, resultText(last)).toBe("completed");
        expect(await h.exportFiles()).toHaveLength(1);
        expect(h.requestsTo(/^\/api\/render\/proxy\/lambda$/)).toBe(1);
      },
    );
  });

  it("a failed download keeps the finished render: get_export downloads it again", async ({ expect }) => {
    await withFaultServer({ sandboxOptions: { renderOutputBytes: 1024 * 1024 } }, async (h) => {
      await exportable(h);
      h.sandbox.inject({ endpoint: "download", kind: { type: "truncated" } });
      const failed = await h.call("export_video", { wait_seconds: 20 });
      expect(failed.isError).toBe(true);
      expect(resultText(failed)).toMatch(/get_export/);
      const renderId = sc(failed).render_id as string;
      const again = await h.call("get_export", { render_id: renderId, wait_seconds: 20 });
      expect(sc(again).status, resultText(again)).toBe("completed");
      expect(sc(again).bytes).toBe(1024 * 1024);
      expect(await h.exportFiles()).toHaveLength(1);
      expect(h.requestsTo(/^\/api\/render\/proxy\/lambda$/)).toBe(1);
      expect(await h.tempFiles()).toEqual([]);
    });
  });
});

describe("checked before a render is made", () => {
  it("an output folder that is a file, or a file name too long with the temp suffix, is refused before submitting", async ({
    expect,
  }) => {
    await withFaultServer(async (h) => {
      const created = await h.call("create_session");
      h.sandbox.state.setDraft(sc(created).session_id as string, BGM_DRAFT);
      const file = join(h.dir, "not-a-folder");
      await writeFile(file, "x");
      const r = await h.call("export_video", { output_dir: file, wait_seconds: 20 });
      expect(r.isError).toBe(true);
      expect(resultText(r)).toMatch(/is a file, not a folder; nothing was rendered/);
      const long = await h.call("export_video", { file_name: `${"视".repeat(78)}.mp4`, wait_seconds: 20 });
      expect(long.isError).toBe(true);
      expect(resultText(long)).toMatch(/file_name is too long/);
      expect(h.requestsTo(/^\/api\/render\/proxy\/lambda$/)).toBe(0);
      const fits = await h.call("export_video", { file_name: `${"视".repeat(77)}.mp4`, wait_seconds: 20 });
      expect(sc(fits).status, resultText(fits)).toBe("completed");
    });
  });

  it("stale temp files of a killed process are removed at start; fresh ones are left alone", async ({
    expect,
  }) => {
    const out = await mkdtemp(join(tmpdir(), "nemo-out-"));
    const stale = join(out, ".clip.mp4.0123456789ab.part");
    const fresh = join(out, ".other.mp4.ba9876543210.part");
    const mine = join(out, "keep.part");
    for (const f of [stale, fresh, mine]) await writeFile(f, "partial");
    const old = new Date(Date.now() - 60 * 60 * 1000);
    await utimes(stale, old, old);
    await utimes(mine, old, old);
    try {
      await withFaultServer({ env: { NEMO_OUTPUT_DIR: out } }, async () => {
        const gone = async () => !(await readdir(out)).includes(".clip.mp4.0123456789ab.part");
        for (let i = 0; i < 100 && !(await gone()); i++) await new Promise((r) => setTimeout(r, 20));
        expect((await readdir(out)).sort()).toEqual([".other.mp4.ba9876543210.part", "keep.part"]);
      });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
