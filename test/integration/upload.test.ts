import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { NemoClient } from "../../src/client/client.js";
import {
  AuthError,
  CancelledError,
  FileTooLargeError,
  InvalidInputError,
  TimeoutError,
  UnsupportedFileError,
} from "../../src/client/errors.js";
import { Sessions } from "../../src/client/sessions.js";
import { MemoryJobStore } from "../../src/jobs/memory-store.js";
import type { UploadProgress } from "../../src/client/multipart.js";
import { uploadFiles, uploadUrls } from "../../src/client/upload.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { makeClient } from "../helpers/client.js";
import { SAMPLE } from "../helpers/paths.js";

let sandbox: Sandbox;
let work: string;
let client: NemoClient;
let sessionId: string;

function uploadRequests(): number {
  return sandbox.requests.filter((r) => r.path.startsWith("/api/upload-video/")).length;
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

beforeAll(async () => {
  sandbox = await startSandbox({ stepMs: 0, renderSteps: 1, maxUploadBytes: 200 * 1024 * 1024 });
  work = await mkdtemp(join(tmpdir(), "nemo-upload-"));
});

afterAll(async () => {
  await sandbox.close();
  await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  client = makeClient(sandbox.url).client;
  sessionId = (await new Sessions(client, new MemoryJobStore()).create()).sessionId;
});

afterEach(() => sandbox.clearFaults());

describe("uploadFiles", () => {
  it("uploads a real file as one multipart part named files", async () => {
    const progress: UploadProgress[] = [];
    const result = await uploadFiles(client, sessionId, [SAMPLE], { onProgress: (p) => progress.push(p) });
    const size = (await stat(SAMPLE)).size;

    expect(result.sessionId).toBe(sessionId);
    expect(result.stateApplied).toBe(true);
    expect(result.files).toHaveLength(1);
    const [file] = result.files;
    expect(file).toMatchObject({ name: "sample.mp4", type: "video" });
    expect(file?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/uploads\//);
    expect(file?.durationMs).toBeGreaterThan(5000);
    expect(file?.durationMs).toBeLessThan(7000);
    expect(file?.width).toBe(640);
    expect(file?.height).toBe(360);

    const uploads = sandbox.state.sessions.get(sessionId)?.uploads ?? [];
    expect(uploads).toHaveLength(1);
    expect(uploads[0]?.size).toBe(size);
    expect(uploads[0]?.hash).toBe(sha256(await readFile(SAMPLE)));

    const request = sandbox.requests.find((r) => r.path === `/api/upload-video/nemo_agent/me/${sessionId}`);
    expect(request?.method).toBe("POST");
    expect(request?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(request?.headers["content-length"]).toBeDefined();
    expect(request?.headers["transfer-encoding"]).toBeUndefined();

    expect(progress.at(-1)).toMatchObject({
      sentBytes: size,
      totalBytes: size,
      file: "sample.mp4",
      fileCount: 1,
    });
  });

  it("sends several files in one request with the right sizes and hashes, progress monotonic", async () => {
    const dir = await mkdtemp(join(work, "multi-"));
    const a = join(dir, "clip one.mp4");
    const b = join(dir, 'voice "take 2".mp3');
    const c = join(dir, "photo.PNG");
    const bytesA = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const bytesB = Buffer.from("ID3 not really an mp3 but bytes are bytes".repeat(5000));
    const bytesC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    await writeFile(a, bytesA);
    await writeFile(b, bytesB);
    await writeFile(c, bytesC);
    const progress: UploadProgress[] = [];
    const before = uploadRequests();

    const result = await uploadFiles(client, sessionId, [a, b, c], { onProgress: (p) => progress.push(p) });

    expect(result.files.map((f) => f.name)).toEqual(["clip one.mp4", "voice %22take 2%22.mp3", "photo.PNG"]);
    expect(result.files.map((f) => f.type)).toEqual(["video", "audio", "image"]);
    expect(uploadRequests() - before).toBe(1);
    const uploads = sandbox.state.sessions.get(sessionId)?.uploads ?? [];
    expect(uploads.map((u) => u.size)).toEqual([bytesA.length, bytesB.length, bytesC.length]);
    expect(uploads.map((u) => u.hash)).toEqual([sha256(bytesA), sha256(bytesB), sha256(bytesC)]);

    const total = bytesA.length + bytesB.length + bytesC.length;
    expect(progress.length).toBeGreaterThan(2);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.sentBytes).toBeGreaterThan(progress[i - 1]!.sentBytes);
    }
    expect(progress.every((p) => p.totalBytes === total && p.fileCount === 3)).toBe(true);
    expect(progress.at(-1)?.sentBytes).toBe(total);
    expect(new Set(progress.map((p) => p.fileIndex))).toEqual(new Set([0, 1, 2]));
  });

  it("retries once with a fresh stream after 1001 mid-way", async () => {
    await uploadFiles(client, sessionId, [SAMPLE]); // warm the token
    const before = uploadRequests();
    sandbox.inject({ endpoint: "upload", kind: { type: "code", code: 1001, status: 401 } });
    const progress: UploadProgress[] = [];

    const result = await uploadFiles(client, sessionId, [SAMPLE], { onProgress: (p) => progress.push(p) });

    expect(result.files).toHaveLength(1);
    expect(uploadRequests() - before).toBe(2);
    expect(sandbox.state.tokenRequests).toBeGreaterThanOrEqual(2);
    const uploads = sandbox.state.sessions.get(sessionId)?.uploads ?? [];
    const size = (await stat(SAMPLE)).size;
    expect(uploads.at(-1)?.size).toBe(size);
    expect(uploads.at(-1)?.hash).toBe(sha256(await readFile(SAMPLE)));
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.sentBytes).toBeGreaterThan(progress[i - 1]!.sentBytes);
    }
    expect(progress.at(-1)?.sentBytes).toBe(size);
  });

  it("reports 1001 with a user token as AuthError after one request", async () => {
    const userClient = makeClient(sandbox.url, { token: "nmv_usr_not_a_real_token" }).client;
    await expect(uploadFiles(userClient, sessionId, [SAMPLE])).rejects.toBeInstanceOf(AuthError);
  });

  it("maps backend 4001 to UnsupportedFileError listing the formats", async () => {
    sandbox.inject({ endpoint: "upload", kind: { type: "code", code: 4001 } });
    const err = await uploadFiles(client, sessionId, [SAMPLE]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedFileError);
    expect((err as UnsupportedFileError).userMessage).toMatch(/4001.*mp4, mov/s);
  });

  it("maps backend 4002 (over the server's limit) to FileTooLargeError", async () => {
    const small = await startSandbox({ stepMs: 0, maxUploadBytes: 100 * 1024 });
    try {
      const c = makeClient(small.url).client;
      const sid = (await new Sessions(c, new MemoryJobStore()).create()).sessionId;
      const err = await uploadFiles(c, sid, [SAMPLE]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FileTooLargeError);
      expect((err as FileTooLargeError).userMessage).toMatch(/4002.*compress.*trim/is);
    } finally {
      await small.close();
    }
  });

  it("reports 4002 sent before a big body was fully sent", async () => {
    const small = await startSandbox({ stepMs: 0, maxUploadBytes: 1024 * 1024 });
    try {
      const c = makeClient(small.url).client;
      const sid = (await new Sessions(c, new MemoryJobStore()).create()).sessionId;
      const big = join(work, "early.mp4");
      await writeFile(big, "");
      await truncate(big, 100 * 1024 * 1024);
      const started = Date.now();
      await expect(uploadFiles(c, sid, [big])).rejects.toBeInstanceOf(FileTooLargeError);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await small.close();
    }
  });

  it("aborts mid-upload, closing the connection, with CancelledError", async () => {
    const big = join(work, "big.mp4");
    await writeFile(big, "");
    await truncate(big, 64 * 1024 * 1024);
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();

    const err = await uploadFiles(client, sessionId, [big], {
      signal: controller.signal,
      onProgress: (p) => {
        calls += 1;
        if (p.sentBytes > 4 * 1024 * 1024) controller.abort();
      },
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CancelledError);
    expect(calls).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sandbox.state.sessions.get(sessionId)?.uploads ?? []).toHaveLength(0);
    // the sandbox is still healthy after the cut
    const after = await uploadFiles(client, sessionId, [SAMPLE]);
    expect(after.files).toHaveLength(1);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const before = uploadRequests();
    await expect(
      uploadFiles(client, sessionId, [SAMPLE], { signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(uploadRequests()).toBe(before);
  });
});

describe("pre-checks: nothing is sent", () => {
  let before: number;
  beforeEach(() => {
    before = uploadRequests();
  });
  afterEach(() => {
    expect(uploadRequests()).toBe(before);
  });

  async function rejectsWith(paths: string[], opts: Parameters<typeof uploadFiles>[3] = {}) {
    return uploadFiles(client, sessionId, paths, opts).catch((e: unknown) => e);
  }

  it("a missing file, even after a valid one", async () => {
    const missing = join(work, "nope.mp4");
    const err = await rejectsWith([SAMPLE, missing]);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toBe(`file not found: ${missing}`);
  });

  it("a directory", async () => {
    const dir = join(work, "folder.mp4");
    await mkdir(dir, { recursive: true });
    const err = await rejectsWith([dir]);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/directory/);
  });

  it.skipIf(process.platform === "win32")("a FIFO", async () => {
    const fifo = join(work, "pipe.mp4");
    execFileSync("mkfifo", [fifo]);
    const err = await rejectsWith([fifo]);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/not a regular file/);
  });

  it.skipIf(process.platform === "win32")("a device", async () => {
    const err = await rejectsWith(["/dev/null"]);
    expect(err).toBeInstanceOf(InvalidInputError);
  });

  it("a wrong extension, listing the formats", async () => {
    const exe = join(work, "tool.exe");
    await writeFile(exe, "MZ");
    const err = await rejectsWith([SAMPLE, exe]);
    expect(err).toBeInstanceOf(UnsupportedFileError);
    expect((err as UnsupportedFileError).userMessage).toMatch(/\.exe.*Accepted formats: mp4, mov/s);
  });

  it("a file over maxBytes", async () => {
    const err = await rejectsWith([SAMPLE], { maxBytes: 1000 });
    expect(err).toBeInstanceOf(FileTooLargeError);
    expect((err as FileTooLargeError).userMessage).toMatch(/compress.*trim/i);
  });

  it("an empty file", async () => {
    const empty = join(work, "empty.mp4");
    await writeFile(empty, "");
    await expect(rejectsWith([empty])).resolves.toBeInstanceOf(InvalidInputError);
  });

  it("a symlink escaping the allowed roots", async () => {
    const root = await mkdtemp(join(work, "root-"));
    const link = join(root, "innocent.mp4");
    await symlink(SAMPLE, link);
    const err = await rejectsWith([link], { allowedRoots: [root] });
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/outside the folders/);
  });

  it("a sibling folder sharing the root's name as prefix", async () => {
    const root = await mkdtemp(join(work, "box-"));
    const sibling = `${root}-evil`;
    await mkdir(sibling);
    await writeFile(join(sibling, "x.mp4"), "x");
    const err = await rejectsWith([join(sibling, "x.mp4")], { allowedRoots: [root] });
    expect((err as Error).message).toMatch(/outside the folders/);
    // and a missing file outside the roots does not reveal whether it exists
    const hidden = await rejectsWith([join(sibling, "missing.mp4")], { allowedRoots: [root] });
    expect((hidden as Error).message).toMatch(/outside the folders/);
  });

  it("a NUL byte", async () => {
    const err = await rejectsWith([`${SAMPLE}\0.txt`]);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/NUL/);
  });

  it("no paths", async () => {
    await expect(rejectsWith([])).resolves.toBeInstanceOf(InvalidInputError);
  });
});

describe("allowed roots", () => {
  it("accepts a file inside a root reached through a symlinked root", async () => {
    const real = await mkdtemp(join(work, "real-"));
    const alias = join(work, `alias-${Date.now()}`);
    await symlink(real, alias);
    const file = join(real, "in.mp4");
    await writeFile(file, Buffer.alloc(1024, 1));
    const result = await uploadFiles(client, sessionId, [join(alias, "in.mp4")], { allowedRoots: [alias] });
    expect(result.files[0]?.name).toBe("in.mp4");
  });
});

describe("uploadUrls", () => {
  it("posts the URLs as JSON", async () => {
    const result = await uploadUrls(client, sessionId, ["https://example.com/media/clip.mp4"]);
    expect(result.files).toHaveLength(1);
    expect(result.files[0]).toMatchObject({ name: "clip.mp4", type: "video" });
    const request = sandbox.requests.findLast((r) => r.path.startsWith("/api/upload-video/"));
    expect(request?.body).toEqual({ urls: ["https://example.com/media/clip.mp4"], source_type: "url" });
  });

  it("rejects non-http(s) URLs before sending", async () => {
    const before = uploadRequests();
    for (const bad of ["file:///etc/passwd", "ftp://example.com/a.mp4", "not a url", "javascript:alert(1)"]) {
      await expect(uploadUrls(client, sessionId, ["https://example.com/a.mp4", bad])).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    }
    await expect(uploadUrls(client, sessionId, [])).rejects.toBeInstanceOf(InvalidInputError);
    expect(uploadRequests()).toBe(before);
  });

  it("maps 4001 for a URL without a usable name", async () => {
    await expect(uploadUrls(client, sessionId, ["https://example.com/"])).rejects.toBeInstanceOf(
      UnsupportedFileError,
    );
  });
});

describe("a backend that takes the upload and never answers", () => {
  it("fails within NEMO_REQUEST_TIMEOUT_MS of the body being sent, saying to check the session", async () => {
    const { createServer } = await import("node:http");
    let received = 0;
    const silent = createServer((req) => {
      req.on("data", (chunk: Buffer) => {
        received += chunk.length;
      });
      // never answers
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as import("node:net").AddressInfo).port;
    const hostile = makeClient(`http://127.0.0.1:${port}`, {
      token: "nmv_usr_user_supplied_token",
      clientId: "0f3e2b8a-1c4d-4e5f-9a0b-1c2d3e4f5a6b",
      requestTimeoutMs: 300,
    }).client;
    try {
      const err = await uploadFiles(hostile, "sess_1", [SAMPLE]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as Error).message).toMatch(/did not answer within 300 ms after the upload was sent/);
      expect((err as Error).message + String((err as { nextStep?: string }).nextStep)).not.toContain(
        "nmv_usr_",
      );
      expect(received).toBeGreaterThan((await stat(SAMPLE)).size);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
