import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOOL_REGISTRARS } from "../../src/server/tools/index.js";
import { ROOT } from "../helpers/paths.js";

const run = promisify(execFile);
const NPM_FLAGS = ["--no-audit", "--no-fund", "--prefer-offline"];
const GIT = ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"];

/** Copies the working tree as a fresh clone would have it: tracked and new files, nothing git ignores. */
async function cleanCheckout(into: string): Promise<void> {
  const { stdout } = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  for (const file of stdout.split("\0").filter(Boolean)) {
    const from = join(ROOT, file);
    if (!(await stat(from).catch(() => undefined))) continue; // deleted in the working tree
    await mkdir(dirname(join(into, file)), { recursive: true });
    await cp(from, join(into, file));
  }
  await run("git", ["init", "-q"], { cwd: into });
  await run("git", [...GIT, "add", "-A"], { cwd: into });
  await run("git", [...GIT, "commit", "-q", "-m", "checkout"], { cwd: into });
}

/** Connects an MCP client over stdio to `command args` and returns the tool names it lists. */
async function listTools(command: string, args: string[], cwd: string): Promise<string[]> {
  const transport = new StdioClientTransport({
    command,
    args,
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: cwd, NEMO_STATE_DIR: join(cwd, "state") },
    stderr: "ignore",
  });
  const client = new Client({ name: "pack-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain("nemovideo://skills/ai-voiceover-for");
    const player = await client.readResource({ uri: "ui://nemovideo/player.html" });
    expect(player.contents[0]?.mimeType).toBe("text/html;profile=mcp-app");
    expect((player.contents[0] as { text: string }).text).toMatch(/^<!doctype html>/i);
    return tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

// From a fresh clone, as CI and a new user see it: `npm ci`, `npm pack`, the tarball, `npm i -g .`, the bundle.
describe("the package from a fresh clone", () => {
  let dir: string;
  let checkout: string;
  let ciLog: string;
  let tarball: string;
  let files: string[];
  const toolCount = Object.keys(TOOL_REGISTRARS).length;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "nemo-pack-"));
    checkout = join(dir, "checkout");
    await cleanCheckout(checkout);
    const ci = await run("npm", ["ci", ...NPM_FLAGS], { cwd: checkout, timeout: 400_000 });
    ciLog = ci.stdout + ci.stderr;
  }, 500_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("npm ci (which builds dist/), then npm install, leave the checkout clean; no install-scripts warning", async () => {
    expect((await stat(join(checkout, "dist", "cli.js"))).isFile()).toBe(true);
    expect((await run("git", ["status", "--porcelain"], { cwd: checkout })).stdout).toBe("");
    expect(ciLog).not.toMatch(/install-scripts|allowScripts/);
    // --ignore-scripts: only the lockfile is in question here (the install-scripts check is npm ci's above)
    await run("npm", ["install", "--ignore-scripts", ...NPM_FLAGS], { cwd: checkout, timeout: 300_000 });
    expect((await run("git", ["status", "--porcelain"], { cwd: checkout })).stdout).toBe("");
  }, 400_000);

  it("npm pack ships the built server and only what is needed", async () => {
    const packDir = join(dir, "pack");
    await mkdir(packDir);
    // --ignore-scripts: npm pack would run `prepare` (the build) again, which npm ci has just run on the
    // fresh checkout (dist/ is git-ignored, so it came from there); a second build only costs time here
    const { stdout } = await run(
      "npm",
      ["pack", "--json", "--ignore-scripts", "--pack-destination", packDir],
      {
        cwd: checkout,
        timeout: 300_000,
      },
    );
    const [info] = JSON.parse(stdout.slice(stdout.indexOf("["))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    tarball = join(packDir, info!.filename);
    files = info!.files.map((f) => f.path);
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
  }, 400_000);

  it("the tarball installs, prints its version and serves tools/list", async () => {
    expect(tarball).toBeDefined();
    const app = join(dir, "app");
    await mkdir(app);
    await writeFile(join(app, "package.json"), JSON.stringify({ name: "pack-test", private: true }));
    await run("npm", ["install", tarball, ...NPM_FLAGS], { cwd: app, timeout: 300_000 });
    const bin = join(app, "node_modules", ".bin", "nemovideo-mcp");
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
    const { stdout } = await run(bin, ["--version"], { cwd: app });
    expect(stdout.trim()).toBe(pkg.version);
    expect(await listTools(bin, [], app)).toHaveLength(toolCount);
  }, 400_000);

  it("`npm i -g .` from the checkout installs a working command", async () => {
    const prefix = join(dir, "global");
    // --ignore-scripts: `prepare` would only rebuild the dist/ that npm ci built (slow on a shared machine)
    await run("npm", ["install", "-g", "--prefix", prefix, ".", "--ignore-scripts", ...NPM_FLAGS], {
      cwd: checkout,
      timeout: 300_000,
    });
    const bin = join(prefix, "bin", "nemovideo-mcp");
    const { stdout } = await run(bin, ["--help"], { cwd: dir });
    expect(stdout).toContain("nemovideo-mcp sandbox");
    expect(await listTools(bin, [], dir)).toHaveLength(toolCount);
  }, 400_000);

  it("npm run bundle writes nemovideo-mcp.mcpb under 10 MB whose server starts and lists its tools", async () => {
    await run("npm", ["run", "bundle"], { cwd: checkout, timeout: 400_000 });
    const bundle = join(checkout, "nemovideo-mcp.mcpb");
    expect((await stat(bundle)).size).toBeLessThan(10 * 1024 * 1024);
    const { stdout } = await run("git", ["status", "--porcelain"], { cwd: checkout });
    expect(stdout).toBe(""); // the bundle is ignored, nothing else changed
    const unpacked = join(dir, "bundle");
    await run(join(checkout, "node_modules", ".bin", "mcpb"), ["unpack", bundle, unpacked], {
      timeout: 120_000,
    });
    // production dependencies only: no test, lint or build tools inside
    for (const dev of ["typescript", "vitest", "@biomejs", "msw", "@anthropic-ai"]) {
      expect(await stat(join(unpacked, "node_modules", dev)).catch(() => undefined)).toBeUndefined();
    }
    const manifest = JSON.parse(await readFile(join(unpacked, "manifest.json"), "utf8")) as {
      server: { entry_point: string };
    };
    expect(
      await listTools(process.execPath, [join(unpacked, manifest.server.entry_point)], dir),
    ).toHaveLength(toolCount);
  }, 600_000);
});
