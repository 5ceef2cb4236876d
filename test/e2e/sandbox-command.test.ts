import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCli } from "../helpers/cli-run.js";
import { CLI } from "../helpers/paths.js";

describe("nemovideo-mcp sandbox (built dist/cli.js)", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "nemo-sandbox-cmd-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function banner(env: Record<string, string>): Promise<{ text: string; url: string }> {
    const cli = startCli(["sandbox"], { HOME: dir, ...env }, dir);
    try {
      await cli.waitForStderr(/Press Ctrl\+C to stop/, 20_000);
      const text = cli.stderr();
      const url = /NemoVideo sandbox on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      expect(url, text).toBeDefined();
      const reply = await request(`${url}/api/credits/balance/simple`);
      expect(reply.statusCode).toBe(401); // a real server answers, asking for a token
      await reply.body.dump();
      return { text, url: url! };
    } finally {
      cli.child.kill("SIGINT");
      const end = await cli.done;
      expect(end.code).toBe(0);
    }
  }

  it("says it is a sandbox, how its renders are made, and prints the env line and the Inspector command", async () => {
    const { text, url } = await banner({});
    expect(text).toContain("A local fake of the NemoVideo backend");
    expect(text).toContain("Renders: drawn from each timeline by ffmpeg");
    expect(text).toContain(`  NEMO_API_URL=${url} NEMO_RENDER_POLL_MS=500\n`);
    // the absolute path of the running CLI, right for a checkout and an installed package alike
    const inspector =
      Number(process.versions.node.split(".")[0]) >= 22
        ? "@modelcontextprotocol/inspector"
        : "@modelcontextprotocol/inspector@0.15.0"; // 0.16 and later need Node 22
    expect(text).toContain(`npx -y ${inspector} node ${CLI}\n`);
    expect(text.match(/http:\/\/127\.0\.0\.1:\d+/g)?.filter((u) => u === url).length).toBe(3);
    expect(text).not.toMatch(/listening/i);
  });

  it("says every render is the same stand-in clip when there is no ffmpeg", async () => {
    const { text } = await banner({ NEMO_FFMPEG: join(dirname(CLI), "no-such-ffmpeg") });
    expect(text).toContain("Renders: every export is the same stand-in clip");
  });
});
