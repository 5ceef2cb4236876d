/**
 * Security tests: what uploads may read, where exports may write, where the token may appear, the state
 * directory's permissions, and stdout carrying nothing but JSON-RPC.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MAX_UPLOAD_BYTES } from "../../src/client/formats.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { startChild, stopChild } from "../helpers/mcp-child.js";
import { type MemoryServer, startMemoryServer } from "../helpers/mcp-memory.js";
import { FIXTURES } from "../helpers/paths.js";
import { startRawServer } from "../helpers/security-stdio.js";
import { within } from "../helpers/within.js";

const SAMPLE = join(FIXTURES, "sample.mp4");
const UPLOAD_PATH = /^\/api\/upload-video\//;
const RENDER_SUBMIT = "/api/render/proxy/lambda";
const CALL_LIMIT_MS = 15_000;

interface ToolResult {
  content?: Array<{ type: string; text?: string; uri?: string }>;
  structuredContent?: Record<string, any>;
  isError?: boolean;
}

function textOf(result: ToolResult): string {
  return (result.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text ?? "")
    .join("\n");
}

async function call(
  mem: MemoryServer,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolResult> {
  return (await within(
    CALL_LIMIT_MS,
    `${name}(${JSON.stringify(args).slice(0, 160)})`,
    mem.client.callTool({ name, arguments: args }),
  )) as ToolResult;
}

const uploadRequests = (sandbox: Sandbox) => sandbox.requests.filter((r) => UPLOAD_PATH.test(r.path)).length;
const renderSubmits = (sandbox: Sandbox) =>
  sandbox.requests.filter((r) => r.method === "POST" && r.path === RENDER_SUBMIT).length;

// Every backend endpoint the client may call; a path outside this list means an argument steered a request.
const SEGMENT = String.raw`(?!\.{1,2}(?:/|$))[^/]+`;
const ENDPOINTS = [
  "/api/auth/anonymous-token",
  "/api/auth/claim-token",
  "/api/tasks/me/with-session/nemo_agent",
  "/run_sse",
  "/api/credits/balance/simple",
  `/api/upload-video/nemo_agent/me/${SEGMENT}`,
  `/api/state/nemo_agent/me/${SEGMENT}/latest`,
  "/api/render/proxy/lambda",
  `/api/render/proxy/lambda/${SEGMENT}`,
  `/api/render/proxy/${SEGMENT}/download`,
  "/files/.+",
].map((e) => new RegExp(`^${e}$`));
const strayRequests = (sandbox: Sandbox, from = 0) =>
  sandbox.requests
    .slice(from)
    .filter((r) => !ENDPOINTS.some((e) => e.test(r.path)))
    .map((r) => `${r.method} ${r.path}`);

// --- uploads -----------------------------------------------------------------------------------------

describe("uploads read only regular media files inside the allowed roots, checked before any byte is sent", () => {
  let mem: MemoryServer;
  let outside: string;

  beforeAll(async () => {
    mem = await startMemoryServer();
    outside = await mkdtemp(join(tmpdir(), "nemo-outside-"));
    await copyFile(SAMPLE, join(outside, "outside.mp4"));
    await copyFile(SAMPLE, join(mem.dir, "inside.mp4"));
    await mkdir(join(mem.dir, "sub", "deeper"), { recursive: true });
    // a session exists before the checks, so any later request to the upload endpoint would be the upload
    await call(mem, "create_session");
  });
  afterAll(async () => {
    await mem?.close();
    await rm(outside, { recursive: true, force: true });
  });

  /** Uploads `paths`; expects an isError result matching `pattern` and no request to the upload endpoint. */
  async function expectRejected(paths: string[], pattern: RegExp): Promise<string> {
    const before = uploadRequests(mem.sandbox);
    const result = await call(mem, "upload_media", { paths });
    const text = textOf(result);
    expect(result.isError, `${JSON.stringify(paths)} was accepted: ${text}`).toBe(true);
    expect(text, JSON.stringify(paths)).toMatch(pattern);
    expect(uploadRequests(mem.sandbox), `${JSON.stringify(paths)} reached the upload endpoint`).toBe(before);
    return text;
  }

  it("refuses files outside the roots, without telling whether they exist", async () => {
    const existing = await expectRejected(["/etc/hostname"], /outside the folders/);
    await expectRejected(["/etc/passwd"], /outside the folders/);
    await expectRejected([join(outside, "outside.mp4")], /outside the folders/);
    const missing = await expectRejected(["/etc/definitely-not-here.mp4"], /outside the folders/);
    // same wording for a file that exists and one that does not
    expect(existing.replace("/etc/hostname", "X")).toBe(missing.replace("/etc/definitely-not-here.mp4", "X"));
  });

  it("refuses a symlink inside the root that points outside it, and a symlinked folder that escapes", async () => {
    await symlink(join(outside, "outside.mp4"), join(mem.dir, "link.mp4"));
    await expectRejected([join(mem.dir, "link.mp4")], /outside the folders/);
    await symlink(outside, join(mem.dir, "escape"));
    await expectRejected([join(mem.dir, "escape", "outside.mp4")], /outside the folders/);
    await symlink("/etc/passwd", join(mem.dir, "passwd.mp4"));
    await expectRejected([join(mem.dir, "passwd.mp4")], /outside the folders/);
    // a chain of links that ends outside
    await symlink(join(mem.dir, "link.mp4"), join(mem.dir, "link2.mp4"));
    await expectRejected([join(mem.dir, "link2.mp4")], /outside the folders/);
  });

  it("refuses paths with a NUL byte", async () => {
    await expectRejected([`${join(mem.dir, "inside.mp4")}\u0000.txt`], /NUL/);
    await expectRejected([`${join(mem.dir, "inside.mp4")}\u0000`], /NUL/);
    await expectRejected([`\u0000${join(mem.dir, "inside.mp4")}`], /NUL/);
  });

  it("refuses device files, also through a link inside the root", async () => {
    await expectRejected(["/dev/null"], /outside the folders/);
    await expectRejected(["/dev/zero"], /outside the folders/);
    await expectRejected(["/dev/urandom"], /outside the folders/);
    await symlink("/dev/zero", join(mem.dir, "zero.mp4"));
    await expectRejected([join(mem.dir, "zero.mp4")], /outside the folders/);
  });

  it("refuses devices as not regular files even when /dev is an allowed root", async () => {
    const own = await mkdtemp(join(tmpdir(), "nemo-devroot-"));
    const devMem = await startMemoryServer({ env: { NEMO_ALLOWED_DIRS: `/dev:${own}` } });
    try {
      await call(devMem, "create_session");
      for (const device of ["/dev/null", "/dev/zero", "/dev/urandom"]) {
        const before = uploadRequests(devMem.sandbox);
        const result = await call(devMem, "upload_media", { paths: [device] });
        expect(result.isError, device).toBe(true);
        expect(textOf(result)).toMatch(/not a regular file/);
        expect(uploadRequests(devMem.sandbox)).toBe(before);
      }
    } finally {
      await devMem.close();
      await rm(own, { recursive: true, force: true });
    }
  });

  it("refuses a FIFO at once (never blocks on opening it)", async () => {
    const fifo = join(mem.dir, "pipe.mp4");
    execFileSync("mkfifo", [fifo]);
    await expectRejected([fifo], /not a regular file/);
    await symlink(fifo, join(mem.dir, "pipe-link.mp4"));
    await expectRejected([join(mem.dir, "pipe-link.mp4")], /not a regular file/);
  });

  it("refuses a directory", async () => {
    await mkdir(join(mem.dir, "folder.mp4"));
    await expectRejected([join(mem.dir, "folder.mp4")], /directory/);
    await expectRejected([join(mem.dir, "sub")], /directory/);
    await expectRejected([mem.dir], /directory/);
  });

  it("refuses wrong extensions and lists the accepted formats", async () => {
    for (const name of ["clip.exe", "clip.sh", "clip", "clip.mp4.exe", ".mp4", "clip.MP4.js", "clip.mp4 "]) {
      await copyFile(SAMPLE, join(mem.dir, name));
      await expectRejected([join(mem.dir, name)], /Accepted formats: .*mp4/);
    }
  });

  it("refuses a file over the 500 MB limit (sparse) before reading it", async () => {
    const big = join(mem.dir, "big.mp4");
    await writeFile(big, "");
    await truncate(big, MAX_UPLOAD_BYTES + 1);
    expect((await stat(big)).size).toBe(MAX_UPLOAD_BYTES + 1);
    await expectRejected([big], /upload limit/);
  });

  it("refuses '..' traversals that resolve outside, relative or absolute", async () => {
    const sibling = basename(outside);
    await expectRejected([`${mem.dir}/sub/../../${sibling}/outside.mp4`], /outside the folders/);
    await expectRejected([`${mem.dir}/sub/deeper/../../../../../../etc/passwd`], /outside the folders/);
    await expectRejected(["../../../../../../etc/passwd"], /outside the folders/);
    await expectRejected([`${mem.dir}/../${sibling}/outside.mp4`], /outside the folders/);
  });

  it("checks every file before sending any: one bad path refuses the whole call", async () => {
    await expectRejected([join(mem.dir, "inside.mp4"), "/etc/passwd"], /outside the folders/);
    await expectRejected([join(mem.dir, "inside.mp4"), join(mem.dir, "clip.exe")], /Accepted formats/);
  });

  it("accepts a legit file inside the root reached through '..' segments that stay inside", async () => {
    const before = uploadRequests(mem.sandbox);
    const result = await call(mem, "upload_media", { paths: [`${mem.dir}/sub/deeper/../../inside.mp4`] });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(result.structuredContent?.files?.[0]?.name).toBe("inside.mp4");
    expect(uploadRequests(mem.sandbox)).toBe(before + 1);
  });

  it("never sent a request off the API's endpoints", () => {
    expect(strayRequests(mem.sandbox)).toEqual([]);
  });
});

// --- exports -----------------------------------------------------------------------------------------

describe("exports stay inside the output folder (or the allowed roots) and never overwrite", () => {
  let mem: MemoryServer;
  let outside: string;
  let exportsDir: string;

  beforeAll(async () => {
    mem = await startMemoryServer();
    exportsDir = join(mem.dir, "exports");
    outside = await mkdtemp(join(tmpdir(), "nemo-outside-"));
    await copyFile(SAMPLE, join(mem.dir, "clip.mp4"));
    const upload = await call(mem, "upload_media", { paths: [join(mem.dir, "clip.mp4")] });
    expect(upload.isError, textOf(upload)).toBeFalsy();
  });
  afterAll(async () => {
    await mem?.close();
    await rm(outside, { recursive: true, force: true });
  });

  /** Exports with `args`; expects isError matching `pattern` and no render submitted. */
  async function expectRefused(args: Record<string, unknown>, pattern: RegExp): Promise<void> {
    const before = renderSubmits(mem.sandbox);
    const result = await call(mem, "export_video", { wait_seconds: 10, ...args });
    const what = JSON.stringify(args);
    expect(result.isError, `${what} was accepted: ${textOf(result)}`).toBe(true);
    expect(textOf(result), what).toMatch(pattern);
    expect(renderSubmits(mem.sandbox), `${what} submitted a render`).toBe(before);
  }

  async function filesOutside(): Promise<string[]> {
    return readdir(outside);
  }

  it("refuses an output_dir outside the output folder and the allowed roots", async () => {
    await expectRefused({ output_dir: outside }, /outside them/);
    await expectRefused({ output_dir: "/etc" }, /outside them/);
    await expectRefused({ output_dir: tmpdir() }, /outside them/);
    await expectRefused({ output_dir: "../.." }, /outside them/);
    await expectRefused({ output_dir: "../../x/y" }, /outside them/);
    await expectRefused({ output_dir: `${exportsDir}/../../` }, /outside them/);
    await expectRefused({ output_dir: `${exportsDir}/a\u0000b` }, /NUL/);
    expect(await filesOutside()).toEqual([]);
  });

  it("refuses an output_dir through a symlink inside the output folder that points outside", async () => {
    await symlink(outside, join(exportsDir, "out"));
    await expectRefused({ output_dir: "out" }, /outside them/);
    await expectRefused({ output_dir: join(exportsDir, "out") }, /outside them/);
    await expectRefused({ output_dir: "out/new/deeper" }, /outside them/);
    await expectRefused({ output_dir: "./sub/../out" }, /outside them/);
    expect(await filesOutside()).toEqual([]);
  });

  it("refuses a file_name with '/', '\\', '..' or NUL before submitting the render", async () => {
    for (const file_name of [
      "a/b.mp4",
      "/etc/x.mp4",
      "..\\x.mp4",
      "a\\b.mp4",
      "..",
      "../x.mp4",
      "x\u0000.mp4",
      "/",
    ]) {
      await expectRefused({ file_name }, /file_name/);
    }
    expect(await filesOutside()).toEqual([]);
  });

  it("decides about a file_name before rendering: a name the download would refuse is refused up front", async () => {
    // The schema lets these through; the downloader refuses "..", control characters. Either way is
    // acceptable, but never "render first, refuse the name afterwards".
    for (const file_name of ["a..b.mp4", "..hidden.mp4", "x\ny.mp4", "bell\u0007.mp4", "tab\tname.mp4"]) {
      const before = renderSubmits(mem.sandbox);
      const result = await call(mem, "export_video", { file_name, wait_seconds: 10 });
      const what = JSON.stringify(file_name);
      if (result.isError) {
        expect(textOf(result), what).toMatch(/file_name/);
        expect(renderSubmits(mem.sandbox), `${what}: refused only after submitting a render`).toBe(before);
      } else {
        expect(result.structuredContent?.status, what).toBe("completed");
        const file = String(result.structuredContent?.file);
        expect(relative(await realpath(exportsDir), await realpath(file)).startsWith(".."), what).toBe(false);
      }
    }
  });

  it("never overwrites: the same file_name twice gives two files and leaves the first untouched", async () => {
    const first = await call(mem, "export_video", { file_name: "twice.mp4", wait_seconds: 20 });
    expect(first.structuredContent?.status, textOf(first)).toBe("completed");
    const firstFile = String(first.structuredContent?.file);
    expect(firstFile).toBe(join(exportsDir, "twice.mp4"));
    const bytes = await readFile(firstFile);
    const { mtimeMs, ino } = await stat(firstFile);
    await new Promise((r) => setTimeout(r, 20));

    const second = await call(mem, "export_video", { file_name: "twice.mp4", wait_seconds: 20 });
    expect(second.structuredContent?.status, textOf(second)).toBe("completed");
    const secondFile = String(second.structuredContent?.file);
    expect(secondFile).not.toBe(firstFile);
    expect(secondFile).toBe(join(exportsDir, "twice (1).mp4"));
    expect((await readFile(firstFile)).equals(bytes)).toBe(true);
    const after = await stat(firstFile);
    expect(after.mtimeMs).toBe(mtimeMs);
    expect(after.ino).toBe(ino);
  });

  it("never overwrites a file of the user's, nor follows a symlink planted at the file name", async () => {
    await writeFile(join(exportsDir, "mine.mp4"), "precious");
    const mine = await call(mem, "export_video", { file_name: "mine.mp4", wait_seconds: 20 });
    expect(mine.structuredContent?.status, textOf(mine)).toBe("completed");
    expect(mine.structuredContent?.file).toBe(join(exportsDir, "mine (1).mp4"));
    expect(await readFile(join(exportsDir, "mine.mp4"), "utf8")).toBe("precious");

    const target = join(outside, "trap-target.mp4");
    await symlink(target, join(exportsDir, "trap.mp4"));
    const trap = await call(mem, "export_video", { file_name: "trap.mp4", wait_seconds: 20 });
    expect(trap.structuredContent?.status, textOf(trap)).toBe("completed");
    expect(trap.structuredContent?.file).toBe(join(exportsDir, "trap (1).mp4"));
    expect(existsSync(target)).toBe(false);
    expect((await lstat(join(exportsDir, "trap.mp4"))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(exportsDir, "trap.mp4"))).toBe(target);
    expect(await filesOutside()).toEqual([]);
  });

  it("writes a relative output_dir inside the output folder, leaving no temp files behind", async () => {
    const result = await call(mem, "export_video", { output_dir: "nested/deeper", wait_seconds: 20 });
    expect(result.structuredContent?.status, textOf(result)).toBe("completed");
    const file = String(result.structuredContent?.file);
    expect(file.startsWith(join(exportsDir, "nested", "deeper"))).toBe(true);
    const leftovers = (await readdir(exportsDir, { recursive: true })).filter((n) =>
      /\.part$|\.tmp$/.test(n),
    );
    expect(leftovers).toEqual([]);
  });

  it("session ids cannot steer requests to other endpoints ('.', '..' are not path segments)", async () => {
    const from = mem.sandbox.requests.length;
    for (const session_id of [".", ".."]) {
      for (const [name, args] of [
        ["get_state", {}],
        ["upload_media", { urls: ["https://example.com/a.mp4"] }],
        ["send_message", { message: "hello", wait_seconds: 1 }],
        ["export_video", { wait_seconds: 1 }],
      ] as const) {
        const result = await call(mem, name, { session_id, ...args });
        expect(result.isError, `${name} with session_id ${session_id}`).toBe(true);
      }
    }
    expect(strayRequests(mem.sandbox, from)).toEqual([]);
  });
});

// --- the token -----------------------------------------------------------------------------------------

/** Every token the sandbox issued plus those cached in the state directory's token.json. */
async function knownTokens(sandbox: Sandbox, stateDir: string): Promise<string[]> {
  const tokens = new Set(sandbox.state.tokens.keys());
  const cache = await readFile(join(stateDir, "token.json"), "utf8").catch(() => "{}");
  for (const entry of Object.values(JSON.parse(cache) as Record<string, { token?: string }>)) {
    if (entry.token) tokens.add(entry.token);
  }
  return [...tokens];
}

/** The token travels only in Authorization headers: never in a path, a body or another header. */
function expectTokensOnlyInAuthHeaders(sandbox: Sandbox, tokens: string[]): void {
  let authorised = 0;
  for (const r of sandbox.requests) {
    for (const token of tokens) {
      expect(r.path, `${r.method} ${r.path}`).not.toContain(token);
      expect(JSON.stringify(r.body ?? null), `${r.method} ${r.path} body`).not.toContain(token);
      for (const [name, value] of Object.entries(r.headers)) {
        if (name === "authorization") {
          if (value.includes(token)) {
            expect(value).toBe(`Bearer ${token}`);
            authorised++;
          }
        } else {
          expect(value, `${r.method} ${r.path} header ${name}`).not.toContain(token);
        }
      }
    }
  }
  expect(authorised).toBeGreaterThan(0);
}

/** A flow through every tool plus failures whose backend messages echo the token. */
async function tokenFlow(
  callTool: (name: string, args?: Record<string, unknown>) => Promise<ToolResult>,
  sandbox: Sandbox,
  stateDir: string,
  mediaPath: string,
): Promise<ToolResult[]> {
  const results: ToolResult[] = [];
  const run = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await callTool(name, args);
    results.push(result);
    return result;
  };
  await run("get_credits");
  const [token] = await knownTokens(sandbox, stateDir);
  expect(token).toMatch(/^nmv_usr_/);
  const session = await run("create_session");
  expect(String(session.structuredContent?.project_url)).toMatch(/claim\?ct=/);
  await run("upload_media", { paths: [mediaPath] });
  const turn = await run("send_message", { message: "add a natural AI voiceover", wait_seconds: 30 });
  expect(turn.structuredContent?.status).toBe("completed");
  await run("get_turn", { turn_id: turn.structuredContent?.turn_id, wait_seconds: 0 });
  await run("get_state");
  const exported = await run("export_video", { wait_seconds: 30 });
  expect(exported.structuredContent?.status).toBe("completed");
  await run("get_export", { render_id: exported.structuredContent?.render_id, wait_seconds: 0 });

  // Backend failures that echo the token back in their messages and bodies.
  const echo = `bad token ${token} (Bearer ${token})`;
  sandbox.inject({ endpoint: "credits", kind: { type: "code", code: 3000, message: echo } });
  const coded = await run("get_credits");
  expect(coded.isError).toBe(true);
  expect(textOf(coded)).toMatch(/3000/);
  sandbox.inject({ endpoint: "credits", kind: { type: "http", status: 500, body: echo } });
  expect((await run("get_credits")).isError).toBe(true);
  sandbox.inject({ endpoint: "state", kind: { type: "code", code: 5000, message: echo } });
  expect((await run("get_state")).isError).toBe(true);
  sandbox.inject({ endpoint: "run_sse", kind: { type: "code", code: 2001, message: echo } });
  expect((await run("send_message", { message: "generate a video", wait_seconds: 10 })).isError).toBe(true);
  sandbox.inject({ endpoint: "upload", kind: { type: "http", status: 400, body: echo } });
  expect((await run("upload_media", { urls: ["https://example.com/a.mp4"] })).isError).toBe(true);
  sandbox.inject({ endpoint: "render_submit", kind: { type: "code", code: 4000, message: echo }, times: 2 });
  expect((await run("export_video", { wait_seconds: 10 })).isError).toBe(true);
  sandbox.inject({ endpoint: "session", kind: { type: "code", code: 4000, message: echo } });
  expect((await run("create_session")).isError).toBe(true);
  // an expired token: a new one is fetched, so there are two to keep secret now
  sandbox.state.expireAllTokens();
  expect((await run("get_credits")).isError).toBeFalsy();
  return results;
}

describe("the token never leaves the Authorization header", () => {
  let mem: MemoryServer | undefined;
  afterEach(async () => {
    await mem?.close();
    mem = undefined;
  });

  it("in memory: not in results, structured content, URLs, error texts, logs, MCP logging or request paths", async () => {
    mem = await startMemoryServer();
    const server = mem;
    const notifications: string[] = [];
    server.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      notifications.push(JSON.stringify(n.params));
    });
    await server.client.setLoggingLevel("debug");
    await copyFile(SAMPLE, join(server.dir, "clip.mp4"));
    const results = await tokenFlow(
      (name, args = {}) => call(server, name, args),
      server.sandbox,
      join(server.dir, "state"),
      join(server.dir, "clip.mp4"),
    );
    await new Promise((r) => setTimeout(r, 50));
    const tokens = await knownTokens(server.sandbox, join(server.dir, "state"));
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const everything = [JSON.stringify(results), notifications.join("\n"), server.logs.join("")].join("\n");
    expect(notifications.length).toBeGreaterThan(0);
    for (const token of tokens) expect(everything).not.toContain(token);
    const urls = results.flatMap((r) =>
      [
        r.structuredContent?.project_url,
        r.structuredContent?.url,
        ...(r.content ?? []).map((c) => c.uri),
      ].filter((u): u is string => typeof u === "string"),
    );
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) for (const token of tokens) expect(url).not.toContain(token);
    expectTokensOnlyInAuthHeaders(server.sandbox, tokens);
  });

  it("over stdio at debug level: not on stderr, in results or in MCP logging", async () => {
    const child = await startChild({ env: { NEMO_LOG_LEVEL: "debug" } });
    try {
      const notifications: string[] = [];
      child.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        notifications.push(JSON.stringify(n.params));
      });
      await child.client.setLoggingLevel("debug");
      const results = await tokenFlow(
        async (name, args = {}) =>
          (await within(CALL_LIMIT_MS, name, child.client.callTool({ name, arguments: args }))) as ToolResult,
        child.sandbox,
        child.stateDir,
        SAMPLE,
      );
      await new Promise((r) => setTimeout(r, 100));
      const tokens = await knownTokens(child.sandbox, child.stateDir);
      expect(tokens.length).toBeGreaterThanOrEqual(2);
      expect(child.stderr()).toMatch(/debug/);
      const everything = [JSON.stringify(results), notifications.join("\n"), child.stderr()].join("\n");
      for (const token of tokens) expect(everything).not.toContain(token);
      expectTokensOnlyInAuthHeaders(child.sandbox, tokens);
      expect(child.transportErrors).toEqual([]);
    } finally {
      await stopChild(child);
    }
  });

  it("a user NEMO_TOKEN the backend rejects (1001) never shows, in either shape", async () => {
    for (const userToken of ["nmv_usr_secret_abcdef123456", "plain-user-secret-7f3a9c"]) {
      const child = await startChild({ env: { NEMO_TOKEN: userToken, NEMO_LOG_LEVEL: "debug" } });
      try {
        const results: ToolResult[] = [];
        for (const [name, args] of [
          ["get_credits", {}],
          ["create_session", {}],
          ["get_state", {}],
          ["send_message", { message: "hello", wait_seconds: 5 }],
        ] as const) {
          results.push((await child.client.callTool({ name, arguments: args })) as ToolResult);
        }
        const credits = results[0] as ToolResult;
        expect(credits.isError).toBe(true);
        expect(textOf(credits)).toMatch(/1001/);
        expect(textOf(credits)).toMatch(/NEMO_TOKEN/);
        const everything = JSON.stringify(results) + child.stderr();
        expect(everything).not.toContain(userToken);
        expect(child.sandbox.state.tokenRequests, "no anonymous token replaces the user's").toBe(0);
        expectTokensOnlyInAuthHeaders(child.sandbox, [userToken]);
      } finally {
        await stopChild(child);
      }
    }
  });

  it("a valid user NEMO_TOKEN that does not look like a token is kept out of logs too", async () => {
    const sandbox = await startSandbox({ stepMs: 2, renderSteps: 2 });
    const userToken = "plain-user-secret-7f3a9c";
    const { account } = sandbox.state.issueToken("user-client", 100, 3_600_000);
    sandbox.state.tokens.set(userToken, {
      token: userToken,
      userId: account.userId,
      clientId: "user-client",
      expiresAt: Date.now() + 3_600_000,
    });
    const child = await startChild({ sandbox, env: { NEMO_TOKEN: userToken, NEMO_LOG_LEVEL: "debug" } });
    try {
      const results: ToolResult[] = [];
      for (const [name, args] of [
        ["get_credits", {}],
        ["create_session", {}],
        ["upload_media", { paths: [SAMPLE] }],
        ["send_message", { message: "add some lo-fi music", wait_seconds: 30 }],
        ["export_video", { wait_seconds: 30 }],
      ] as const) {
        const result = (await child.client.callTool({ name, arguments: args })) as ToolResult;
        expect(result.isError, `${name}: ${textOf(result)}`).toBeFalsy();
        results.push(result);
      }
      sandbox.inject({
        endpoint: "credits",
        kind: { type: "code", code: 3000, message: `echo ${userToken}` },
      });
      results.push((await child.client.callTool({ name: "get_credits", arguments: {} })) as ToolResult);
      expect(JSON.stringify(results) + child.stderr()).not.toContain(userToken);
      expectTokensOnlyInAuthHeaders(sandbox, [userToken]);
    } finally {
      await stopChild(child);
    }
  });
});

// --- the state directory and stdout ----------------------------------------------------------------------

/** Every entry under `dir` with its permission bits, relative paths first-level first. */
async function modes(dir: string): Promise<Array<{ path: string; dir: boolean; mode: number }>> {
  const out: Array<{ path: string; dir: boolean; mode: number }> = [];
  for (const name of await readdir(dir, { recursive: true })) {
    const info = await lstat(join(dir, name));
    out.push({ path: String(name), dir: info.isDirectory(), mode: info.mode & 0o777 });
  }
  return out;
}

describe("the state directory and stdout", () => {
  it("keeps state files 0600 inside 0700 directories, and stdout pure JSON-RPC over a full flow", async () => {
    const child = await startChild({ env: { NEMO_LOG_LEVEL: "debug" } });
    try {
      const ask = async (name: string, args: Record<string, unknown> = {}) =>
        (await within(CALL_LIMIT_MS, name, child.client.callTool({ name, arguments: args }))) as ToolResult;
      await ask("create_session");
      await ask("upload_media", { paths: [SAMPLE] });
      await ask("upload_media", { paths: ["/etc/passwd"] });
      const started = await ask("send_message", { message: "generate a 10-second video", wait_seconds: 0 });
      await ask("get_turn", { turn_id: started.structuredContent?.turn_id, wait_seconds: 30 });
      await ask("get_state");
      const exported = await ask("export_video", { wait_seconds: 0 });
      await ask("get_export", { render_id: exported.structuredContent?.render_id, wait_seconds: 30 });
      await ask("get_credits");
      await ask("get_turn", { turn_id: "nope" });
      await ask("export_video", { output_dir: "/etc" });
      child.sandbox.inject({ endpoint: "credits", kind: { type: "http", status: 500 } });
      await ask("get_credits");

      expect(child.transportErrors).toEqual([]);
      const stateMode = (await stat(child.stateDir)).mode & 0o777;
      expect(stateMode, "state dir").toBe(0o700);
      const entries = await modes(child.stateDir);
      const names = entries.map((e) => e.path);
      for (const expected of ["client_id", "token.json", "sessions.json", "jobs"])
        expect(names).toContain(expected);
      expect(entries.filter((e) => e.path.startsWith("jobs/")).length).toBeGreaterThan(0);
      for (const entry of entries) {
        expect(entry.mode.toString(8), `${entry.path} (${entry.dir ? "dir" : "file"})`).toBe(
          entry.dir ? "700" : "600",
        );
      }
      expect(entries.filter((e) => e.path.endsWith(".tmp"))).toEqual([]);
    } finally {
      await stopChild(child);
    }
  });

  it("writes nothing but JSON-RPC lines to stdout, even at debug level and with garbage on stdin", async () => {
    const sandbox = await startSandbox({ stepMs: 2, renderSteps: 2 });
    const dir = await mkdtemp(join(tmpdir(), "nemo-stdout-"));
    const server = startRawServer(
      {
        HOME: dir,
        NEMO_API_URL: sandbox.url,
        NEMO_WEB_URL: "https://nemovideo.test",
        NEMO_STATE_DIR: join(dir, "state"),
        NEMO_OUTPUT_DIR: join(dir, "exports"),
        NEMO_ALLOWED_DIRS: [FIXTURES, dir].join(":"),
        NEMO_RENDER_POLL_MS: "20",
        NEMO_LOG_LEVEL: "debug",
      },
      dir,
    );
    try {
      let id = 0;
      const request = (method: string, params: Record<string, unknown> = {}) => {
        id += 1;
        server.send({ jsonrpc: "2.0", id, method, params });
        return id;
      };
      const callTool = (name: string, args: Record<string, unknown>) =>
        request("tools/call", { name, arguments: args });

      const init = request("initialize", {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "raw-stdio", version: "1.0.0" },
      });
      expect((await server.response(init)).result).toBeTruthy();
      server.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      const ids = [
        request("tools/list"),
        request("logging/setLevel", { level: "debug" }),
        callTool("get_credits", {}),
        callTool("create_session", {}),
      ];
      for (const each of ids) await server.response(each);
      server.send("this is not JSON");
      server.send('{"jsonrpc":"2.0","id":');
      server.send("");
      const later = [
        callTool("upload_media", { paths: [SAMPLE] }),
        callTool("upload_media", { paths: ["/etc/passwd", "/dev/zero"] }),
        callTool("send_message", { message: "add a natural AI voiceover", wait_seconds: 30 }),
        callTool("get_state", {}),
        callTool("export_video", { wait_seconds: 30 }),
        callTool("no_such_tool", {}),
        callTool("send_message", { wait_seconds: -1 }),
        request("ping"),
        request("no/such/method"),
      ];
      for (const each of later) await server.response(each, 40_000);

      const lines = server.lines();
      expect(lines.length).toBeGreaterThanOrEqual(ids.length + later.length + 1);
      for (const line of lines) {
        expect(line.json, `stdout line is not JSON: ${line.raw.slice(0, 200)}`).toBeTypeOf("object");
        expect(line.json, line.raw.slice(0, 200)).not.toBeNull();
        expect((line.json as { jsonrpc?: unknown }).jsonrpc, line.raw.slice(0, 200)).toBe("2.0");
      }
      expect(server.partial()).toBe("");
      expect(server.stderr()).toMatch(/debug/);

      const ended = await server.end();
      expect(server.partial()).toBe("");
      for (const line of server.lines()) expect((line.json as { jsonrpc?: unknown })?.jsonrpc).toBe("2.0");
      expect(ended.code).toBe(0);
    } finally {
      await server.end(2000);
      await sandbox.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
