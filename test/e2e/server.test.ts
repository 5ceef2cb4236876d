import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChildServer, startChild, stopChild } from "../helpers/mcp-child.js";
import { FIXTURES } from "../helpers/paths.js";
import { resultText, sc } from "../helpers/results.js";

const SAMPLE = join(FIXTURES, "sample.mp4");
const VOICEOVER = "add a natural AI voiceover in English for my product walkthrough video";

describe("nemovideo-mcp over stdio (built dist/cli.js)", () => {
  let child: ChildServer;
  const results: unknown[] = [];
  const call = async (
    name: string,
    args: Record<string, unknown> = {},
    options: Parameters<ChildServer["client"]["callTool"]>[2] = {},
  ) => {
    const result = await child.client.callTool({ name, arguments: args }, undefined, options);
    results.push(result);
    return result;
  };

  beforeAll(async () => {
    child = await startChild({ env: { NEMO_SKILL: "ai-voiceover-for" } });
  });
  afterAll(async () => {
    await stopChild(child);
  });

  it("lists the ten tools with every annotation set", async () => {
    const { tools } = await child.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        "cancel_export",
        "cancel_turn",
        "create_session",
        "export_video",
        "get_credits",
        "get_export",
        "get_state",
        "get_turn",
        "send_message",
        "upload_media",
      ].sort(),
    );
    for (const tool of tools) {
      expect(tool.title, tool.name).toBeTruthy();
      expect(tool.outputSchema, tool.name).toBeTruthy();
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
        expect(typeof tool.annotations?.[hint], `${tool.name}.${hint}`).toBe("boolean");
      }
    }
  });

  it("walks the voiceover flow: session, upload, message, silent edit, state, export, download", async () => {
    const before = sc(await call("get_credits"));
    expect(before.available).toBe(100);

    const session = sc(await call("create_session", { language: "en" }));
    expect(session.session_id).toBeTruthy();
    expect(session.project_url).toMatch(/^https:\/\/nemovideo\.test\/workspace\/claim\?ct=clm_/);

    const progress: Array<{ progress: number; message?: string | undefined }> = [];
    const upload = await call("upload_media", { paths: [SAMPLE] }, { onprogress: (p) => progress.push(p) });
    expect(upload.isError).toBeFalsy();
    const files = sc(upload).files;
    expect(files).toHaveLength(1);
    expect(files[0].name).toBe("sample.mp4");
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)?.message).toMatch(/Uploading/);

    const turnProgress: Array<{ progress: number; message?: string | undefined }> = [];
    const sent = await call(
      "send_message",
      { message: VOICEOVER, wait_seconds: 60 },
      { onprogress: (p) => turnProgress.push(p) },
    );
    const turn = sc(sent);
    expect(turn.status).toBe("completed");
    expect(turn.activity).toContain("generate_voiceover");
    expect(turn.reply.length).toBeGreaterThan(10);
    expect(turn.reply).not.toMatch(/Export button/i);
    expect(turn.timeline).toMatch(/^Timeline \(2 tracks\)/);
    expect(turnProgress.some((p) => /generate_voiceover/.test(p.message ?? ""))).toBe(true);
    for (let i = 1; i < turnProgress.length; i++) {
      expect(turnProgress[i]!.progress).toBeGreaterThan(turnProgress[i - 1]!.progress);
    }

    const silent = sc(await call("send_message", { message: "add some lo-fi background music" }));
    expect(silent.status).toBe("completed");
    expect(silent.reply).toBe("");
    expect(silent.changes.join(" ")).toMatch(/Added audio track/);

    const state = sc(await call("get_state"));
    expect(state.exportable).toBe(true);
    expect(state.tracks.map((t: { kind: string }) => t.kind)).toEqual(["video", "audio", "audio"]);
    expect(state.summary).toMatch(/^Timeline \(3 tracks\): 1\. Video: sample\.mp4/);

    const exported = await call("export_video", { wait_seconds: 60 });
    const view = sc(exported);
    expect(view.status).toBe("completed");
    expect(view.render_id).toMatch(/^render_\d+/);
    expect(view.file.startsWith(child.outputDir)).toBe(true);
    const sample = await stat(SAMPLE);
    expect((await stat(view.file)).size).toBe(sample.size);
    expect(view.bytes).toBe(sample.size);
    const link = (exported.content as Array<{ type: string; uri?: string }>).find(
      (c) => c.type === "resource_link",
    );
    expect(link?.uri).toMatch(/^file:\/\/.*\.mp4$/);

    const after = sc(await call("get_credits"));
    expect(after.available).toBeLessThan(before.available);

    const render = child.sandbox.requests.find((r) => r.path === "/api/render/proxy/lambda");
    expect((render?.body as { sessionId?: string } | undefined)?.sessionId).toBe(session.session_id);
    expect(render?.headers["x-skill-source"]).toBe("ai-voiceover-for");
  });

  it("lets a turn and an export outlive wait_seconds and picks them up without re-sending", async () => {
    const runSseBefore = child.sandbox.requests.filter((r) => r.path === "/run_sse").length;
    const started = sc(
      await call("send_message", { message: "generate a 20-second video from my script", wait_seconds: 0 }),
    );
    expect(started.status).toBe("running");
    let turn = started;
    for (let i = 0; i < 50 && turn.status === "running"; i++) {
      turn = sc(await call("get_turn", { turn_id: started.turn_id, wait_seconds: 5 }));
    }
    expect(turn.status).toBe("completed");
    expect(turn.activity).toContain("generate_video");
    expect(child.sandbox.requests.filter((r) => r.path === "/run_sse").length).toBe(runSseBefore + 1);

    const rendering = sc(await call("export_video", { wait_seconds: 0, file_name: "background.mp4" }));
    expect(rendering.status).toBe("rendering");
    let done = rendering;
    for (let i = 0; i < 50 && done.status === "rendering"; i++) {
      done = sc(await call("get_export", { render_id: rendering.render_id, wait_seconds: 5 }));
    }
    expect(done.status).toBe("completed");
    expect(done.file).toBe(join(child.outputDir, "background.mp4"));
    const submits = child.sandbox.requests.filter(
      (r) => r.method === "POST" && r.path === "/api/render/proxy/lambda",
    );
    expect(submits.filter((r) => (r.body as { id?: string }).id === rendering.render_id)).toHaveLength(1);

    // A restarted server still reports the finished export.
    const second = await child.restart();
    try {
      const again = sc(
        await second.client.callTool({ name: "get_export", arguments: { render_id: rendering.render_id } }),
      );
      expect(again.status).toBe("completed");
      expect(again.file).toBe(done.file);
      expect(again.url).toBe(done.url);
    } finally {
      await second.close();
    }
  });

  it("cancels a turn mid-stream and closes the stream", async () => {
    child.sandbox.scriptTurn({
      steps: [
        {
          data: {
            author: "nemo_agent",
            content: { parts: [{ functionCall: { name: "generate_video", args: {} } }] },
          },
        },
        { hang: true },
      ],
    });
    const controller = new AbortController();
    const pending = call(
      "send_message",
      { message: "generate a long video", wait_seconds: 30 },
      { signal: controller.signal },
    );
    await new Promise((r) => setTimeout(r, 400));
    controller.abort();
    await expect(pending).rejects.toThrow();
    // The server keeps serving after the cancellation.
    const credits = await call("get_credits");
    expect(credits.isError).toBeFalsy();
  });

  it("reports expected failures as isError results and keeps serving", async () => {
    const outside = await call("upload_media", { paths: ["/etc/hostname"] });
    expect(outside.isError).toBe(true);
    expect(resultText(outside)).toMatch(/outside|allowed/i);

    const missing = await call("upload_media", { paths: [join(child.dir, "nope.mp4")] });
    expect(missing.isError).toBe(true);
    expect(resultText(missing)).toMatch(/not found|does not exist/i);

    const nothing = await call("upload_media", {});
    expect(nothing.isError).toBe(true);

    const empty = await call("send_message", { message: "   " });
    expect(empty.isError).toBe(true);
    expect(resultText(empty)).toMatch(/message/);

    const unknownTurn = await call("get_turn", { turn_id: "turn_nope" });
    expect(unknownTurn.isError).toBe(true);
    const unknownCancel = await call("cancel_turn", { turn_id: "turn_nope" });
    expect(unknownCancel.isError).toBe(true);
    const unknownExport = await call("get_export", { render_id: "render_nope" });
    expect(unknownExport.isError).toBe(true);

    const fresh = sc(await call("create_session", {}));
    const notExportable = await call("export_video", { session_id: fresh.session_id });
    expect(notExportable.isError).toBe(true);
    expect(resultText(notExportable)).toMatch(/nothing|empty|generate/i);

    const escaping = await call("export_video", { output_dir: "/tmp/../etc" });
    expect(escaping.isError).toBe(true);
    const badName = await call("export_video", { file_name: "../x.mp4" });
    expect(badName.isError).toBe(true);

    child.sandbox.inject({ endpoint: "credits", kind: { type: "http", status: 500 } });
    const down = await call("get_credits");
    expect(down.isError).toBe(true);
    expect(resultText(down)).toMatch(/HTTP 500/);

    child.sandbox.inject({
      endpoint: "run_sse",
      kind: { type: "code", code: 2001, message: "insufficient credits" },
    });
    const broke = await call("send_message", { message: "generate a video" });
    expect(broke.isError).toBe(true);
    expect(resultText(broke)).toMatch(/2001/);
    expect(resultText(broke)).toMatch(/register\?bind=/);

    child.sandbox.state.deleteSession(fresh.session_id);
    const gone = await call("get_state", { session_id: fresh.session_id });
    expect(gone.isError).toBe(true);
    expect(resultText(gone)).toMatch(/1002/);
    expect(resultText(gone)).toMatch(/gone/);

    const ok = await call("get_credits");
    expect(ok.isError).toBeFalsy();
  });

  it("never prints the token and keeps stdout pure JSON-RPC", async () => {
    const cache = JSON.parse(await readFile(join(child.stateDir, "token.json"), "utf8")) as Record<
      string,
      { token: string }
    >;
    const tokens = Object.values(cache).map((t) => t.token);
    expect(tokens.length).toBeGreaterThan(0);
    const everything = JSON.stringify(results) + child.stderr();
    for (const token of tokens) expect(everything).not.toContain(token);
    expect(child.transportErrors).toEqual([]);
    const mode = (await stat(join(child.stateDir, "token.json"))).mode & 0o777;
    expect(mode).toBe(0o600);
  });
});

describe("a restart in the middle of a render", () => {
  it("polls the same render again after the restart and never re-submits it", async () => {
    const first = await startChild({ sandboxOptions: { stepMs: 1, renderSteps: 40 } });
    try {
      await first.client.callTool({ name: "upload_media", arguments: { paths: [SAMPLE] } });
      const rendering = sc(
        await first.client.callTool({ name: "export_video", arguments: { wait_seconds: 0 } }),
      );
      expect(rendering.status).toBe("rendering");
      await first.close(); // the server process ends while the render is still going on

      const second = await first.restart();
      try {
        let view = sc(
          await second.client.callTool({
            name: "get_export",
            arguments: { render_id: rendering.render_id, wait_seconds: 20 },
          }),
        );
        for (let i = 0; i < 10 && view.status === "rendering"; i++) {
          view = sc(
            await second.client.callTool({
              name: "get_export",
              arguments: { render_id: rendering.render_id, wait_seconds: 5 },
            }),
          );
        }
        expect(view.status).toBe("completed");
        expect((await stat(view.file)).size).toBe((await stat(SAMPLE)).size);
        const submits = first.sandbox.requests.filter(
          (r) => r.method === "POST" && r.path === "/api/render/proxy/lambda",
        );
        expect(submits).toHaveLength(1);
      } finally {
        await second.close();
      }
    } finally {
      await stopChild(first);
    }
  });
});
