import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HELP_TOPICS } from "../../src/commands/help.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { runCli } from "../helpers/cli-run.js";
import { ROOT } from "../helpers/paths.js";

/** Every environment variable the code reads: `e("NAME")` in config.ts and `process.env.NAME` elsewhere. */
async function environmentVariables(): Promise<string[]> {
  const config = await readFile(join(ROOT, "src", "config.ts"), "utf8");
  const names = new Set([...config.matchAll(/\be\("([A-Z][A-Z0-9_]+)"\)/g)].map((m) => m[1]!));
  const sandbox = await readFile(join(ROOT, "src", "sandbox", "server.ts"), "utf8");
  for (const m of sandbox.matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
  return [...names].sort();
}

describe("CLI help and route --dry-run (built dist/cli.js)", { timeout: 60_000 }, () => {
  let sandbox: Sandbox;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = await startSandbox({ stepMs: 0, heartbeatMs: 0 });
    dir = await mkdtemp(join(tmpdir(), "nemo-cli-help-"));
    env = { HOME: dir, NEMO_API_URL: sandbox.url, NEMO_STATE_DIR: join(dir, "state") };
  });
  afterAll(async () => {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("--help lists every environment variable the code reads, and so does the README", async () => {
    const names = await environmentVariables();
    expect(names).toEqual(
      expect.arrayContaining(["NEMO_CLIENT_ID", "SKILL_SOURCE", "NEMO_STILL_WORKING_MS"]),
    );
    const help = await runCli(["--help"], env, dir);
    expect(help.code).toBe(0);
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    for (const name of names) {
      expect(help.stdout, name).toMatch(new RegExp(`\\b${name}\\b`));
      expect(readme, name).toMatch(new RegExp(`\\b${name}\\b`));
    }
  });

  it("<command> --help prints that command's own usage, for every command", async () => {
    expect(HELP_TOPICS).toEqual(
      expect.arrayContaining(["credits", "session", "upload", "send", "state", "export", "route", "sandbox"]),
    );
    for (const topic of HELP_TOPICS) {
      const run = await runCli([topic, "--help"], env, dir);
      expect(run.code).toBe(0);
      expect(run.stdout.startsWith(`Usage: nemovideo-mcp ${topic}`), run.stdout).toBe(true);
    }
    const send = await runCli(["send", "--help"], env, dir);
    expect(send.stdout).toContain("--wait <seconds>");
    expect(send.stdout).toContain("SPENDS CREDITS");
    expect(sandbox.requests).toEqual([]);
  });

  it("route --dry-run names the command and whether it spends credits, and runs nothing", async () => {
    const paid = await runCli(["route", "add upbeat music", "--dry-run"], env, dir);
    expect(paid.code).toBe(0);
    expect(paid.stdout).toBe(
      'Would run nemovideo-mcp send "add upbeat music": the words go to the agent as a message, which SPENDS CREDITS.\n',
    );
    const free = await runCli(["route", "导出", "--out", "./videos", "--dry-run", "--json"], env, dir);
    expect(free.code).toBe(0);
    expect(JSON.parse(free.stdout)).toEqual({
      action: "export",
      args: [],
      command: "nemovideo-mcp export --out ./videos",
      spends_credits: false,
      dry_run: true,
    });
    expect(sandbox.requests.filter((r) => !r.path.startsWith("/api/auth"))).toEqual([]); // nothing ran
  });

  it("route without --dry-run says what it runs and that the fallback spends credits", async () => {
    const run = await runCli(["route", "make the intro shorter", "--json"], env, dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      'Routing to nemovideo-mcp send "make the intro shorter": the words go to the agent as a message, which SPENDS CREDITS.',
    );
    expect(JSON.parse(run.stdout)).toMatchObject({ action: "send", spends_credits: true });
  });

  it("errors name the CLI's flags, not the MCP tools' arguments", async () => {
    const own = { ...env, NEMO_STATE_DIR: join(dir, "state-out"), NEMO_RENDER_POLL_MS: "20" };
    expect((await runCli(["upload", join(ROOT, "fixtures", "sample.mp4")], own, dir)).code).toBe(0);
    expect((await runCli(["send", "add a title 'Hi'"], own, dir)).code).toBe(0);
    const run = await runCli(["export", "--out", "/dev/null/videos"], own, dir);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("/dev/null/videos");
    expect(run.stderr).toContain("Pass a writable folder as --out <dir> (or set NEMO_OUTPUT_DIR)");
    expect(run.stderr).not.toMatch(/output_dir|\{choose_folder\}/);
  });

  it("--dry-run is refused by commands other than route", async () => {
    const run = await runCli(["credits", "--dry-run"], env, dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--dry-run does not apply to credits");
  });
});
