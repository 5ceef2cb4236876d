import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { COMMAND_WORDS } from "../../src/commands/output.js";
import { wordView } from "../../src/jobs/views.js";
import { TOOL_WORDS } from "../../src/server/wording.js";
import { runCli } from "../helpers/cli-run.js";
import { sc } from "../helpers/results.js";
import { type MemoryServer, startMemoryServer } from "../helpers/mcp-memory.js";

const VOICEOVER = "add a natural AI voiceover in English for my product walkthrough video";

/** The CLI over the memory server's sandbox and state directory: both faces share sessions and job records. */
function cliEnv(mem: MemoryServer): Record<string, string> {
  return {
    HOME: mem.dir,
    NEMO_API_URL: mem.sandbox.url,
    NEMO_WEB_URL: "https://nemovideo.test",
    NEMO_STATE_DIR: join(mem.dir, "state"),
    NEMO_OUTPUT_DIR: join(mem.dir, "exports"),
    NEMO_RENDER_POLL_MS: "10",
    NEMO_RECOVERY_POLL_MS: "40",
  };
}

function cliOf(mem: MemoryServer, extraEnv: Record<string, string> = {}) {
  const env = { ...cliEnv(mem), ...extraEnv };
  return async (args: string[]) => {
    const run = await runCli([...args, "--json"], env, mem.dir);
    return { ...run, doc: JSON.parse(run.stdout) as Record<string, any> };
  };
}

// `npm test` builds dist/ first: the CLI side runs the built dist/cli.js.
describe("the CLI and the MCP tools print the same JSON for the same job", { timeout: 60_000 }, () => {
  let mem: MemoryServer | undefined;
  afterEach(async () => {
    await mem?.close();
    mem = undefined;
  });

  it("send --json prints the job's view as send_message's structuredContent does, each worded for its face", async () => {
    mem = await startMemoryServer();
    const cli = cliOf(mem);
    const tool = sc(
      await mem.client.callTool({
        name: "send_message",
        arguments: { message: VOICEOVER, wait_seconds: 30 },
      }),
    );
    const sent = await cli(["send", VOICEOVER]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(tool.status).toBe("completed");
    // same session (shared state directory), a turn of its own
    expect(sent.doc.session_id).toBe(tool.session_id);
    expect(sent.doc.turn_id).not.toBe(tool.turn_id);
    // each face prints the recorded job view, its next actions worded for its audience
    const store = mem.runtime.jobs.store;
    const view = async (id: string) => {
      const record = await store.loadTurn(id);
      expect(record?.status).toBe("completed");
      const { kind: _k, message_chars: _m, started_at: _s, ...v } = record ?? { kind: "turn" };
      return v;
    };
    expect(tool).toEqual(wordView(await view(tool.turn_id), TOOL_WORDS));
    expect(sent.doc).toEqual(wordView(await view(sent.doc.turn_id), COMMAND_WORDS));
    // the same work gives the same fields and values, up to the words
    const { turn_id: _a, timeline: _t1, changes: _c1, reply: r1, ...fromCli } = sent.doc;
    const { turn_id: _b, timeline: _t2, changes: _c2, reply: r2, ...fromTool } = tool;
    expect(fromCli).toEqual(fromTool);
    expect(Object.keys(sent.doc).sort()).toEqual(Object.keys(tool).sort());
    expect(r1).toContain("`nemovideo-mcp export`");
    expect(r2).toContain("export_video");
  });

  it("export --resume prints get_export's structuredContent for a render the MCP face made", async () => {
    mem = await startMemoryServer();
    const cli = cliOf(mem);
    await mem.client.callTool({ name: "send_message", arguments: { message: VOICEOVER, wait_seconds: 30 } });
    const exported = sc(await mem.client.callTool({ name: "export_video", arguments: { wait_seconds: 30 } }));
    expect(exported.status).toBe("completed");
    const picked = sc(
      await mem.client.callTool({ name: "get_export", arguments: { render_id: exported.render_id } }),
    );
    const resumed = await cli(["export", "--resume", exported.render_id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.doc).toEqual(picked);
    expect(resumed.doc).toEqual(exported);
  });

  it("an export whose polls ran out tells the CLI user the command that picks it up, which then finishes it", async () => {
    mem = await startMemoryServer({ sandboxOptions: { renderSteps: 4 } });
    await mem.client.callTool({ name: "send_message", arguments: { message: VOICEOVER, wait_seconds: 30 } });
    const short = await cliOf(mem, { NEMO_RENDER_MAX_POLLS: "1" })(["export"]);
    // polls running out is not a failure: exit 0, still rendering, with the id that picks it up
    expect(short.code, short.stderr).toBe(0);
    expect(short.doc).toMatchObject({ status: "rendering" });
    expect(short.doc.error).toBeUndefined();
    const human = await runCli(
      ["export", "--resume", short.doc.render_id],
      { ...cliEnv(mem), NEMO_RENDER_MAX_POLLS: "1" },
      mem.dir,
    );
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`nemovideo-mcp export --resume ${short.doc.render_id}`);
    expect(human.stdout).not.toMatch(/get_export|export_video/);
    const resumed = await cliOf(mem)(["export", "--resume", short.doc.render_id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.doc).toMatchObject({ status: "completed", render_id: short.doc.render_id });
  });
});
