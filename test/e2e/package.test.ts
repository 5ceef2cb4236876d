import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

describe("the npm package", () => {
  let dir: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "nemo-pack-"));
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT });
    const [info] = JSON.parse(stdout.slice(stdout.indexOf("["))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    tarball = join(dir, info!.filename);
    files = info!.files.map((f) => f.path);
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "pack-test", private: true }));
    await run(
      "npm",
      ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts"],
      {
        cwd: dir,
        timeout: 150_000,
      },
    );
  }, 180_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("ships only what is needed", () => {
    const outside = files.filter(
      (f) =>
        !/^dist\/.+\.js$/.test(f) &&
        !/^dist\/views\/(player|timeline)\.html$/.test(f) &&
        !/^skills\/[^/]+\/SKILL\.md$/.test(f) &&
        !["package.json", "README.md", "LICENSE", "fixtures/sample.mp4", "fixtures/script.txt"].includes(f),
    );
    expect(outside).toEqual([]);
    expect(files).toContain("dist/cli.js");
    expect(files).toContain("dist/views/player.html");
    expect(files).toContain("dist/views/timeline.html");
    expect(files).toContain("skills/ai-voiceover-for/SKILL.md");
    expect(files).toContain("skills/ai-video-generator-ai/SKILL.md");
  });

  it("runs `nemovideo-mcp --version` from the installed package", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
    const { stdout } = await run(join(dir, "node_modules", ".bin", "nemovideo-mcp"), ["--version"], {
      cwd: dir,
    });
    expect(stdout.trim()).toBe(pkg.version);
  });

  it("answers tools/list over stdio from the installed package", async () => {
    const transport = new StdioClientTransport({
      command: join(dir, "node_modules", ".bin", "nemovideo-mcp"),
      args: [],
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, NEMO_STATE_DIR: join(dir, "state") },
      stderr: "ignore",
    });
    const client = new Client({ name: "pack-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools).toHaveLength(9);
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri)).toContain("nemovideo://skills/ai-voiceover-for");
      const player = await client.readResource({ uri: "ui://nemovideo/player.html" });
      expect(player.contents[0]?.mimeType).toBe("text/html;profile=mcp-app");
      expect((player.contents[0] as { text: string }).text).toMatch(/^<!doctype html>/i);
    } finally {
      await client.close();
    }
  });
});
