import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CachedToken, StateStore, type StoredSession } from "../../src/client/store.js";

const UUID_LINE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$/;
const API = "https://api.example";
const OTHER_API = "http://127.0.0.1:9";

let root: string;
let dir: string;
let store: StateStore;

const mode = async (path: string) => (await stat(path)).mode & 0o777;

function token(overrides: Partial<CachedToken> = {}): CachedToken {
  return {
    token: "nmv_usr_abc",
    userId: "anon_1",
    expiresAt: 1_900_000_000_000,
    clientId: "cid",
    ...overrides,
  };
}

function session(id: string, overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    sessionId: id,
    taskId: `task-${id}`,
    userId: "anon_1",
    language: "en",
    createdAt: 1,
    ...overrides,
  };
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "nemo-store-"));
  dir = join(root, "state");
  store = new StateStore(dir);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("state directory and file modes", () => {
  it("creates the directory with mode 0700 and files with mode 0600", async () => {
    await store.writeFile("anything.json", "{}");
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(join(dir, "anything.json"))).toBe(0o600);
  });

  it("tightens an existing directory that was too open", async () => {
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    await store.clientId();
    expect(await mode(dir)).toBe(0o700);
  });

  it("makes token.json, sessions.json, client_id and job files 0600 and jobs/ 0700", async () => {
    await store.setToken(API, token());
    await store.setSession(API, "skill", session("s1"));
    await store.clientId();
    await store.saveJob("job-1", { id: "job-1" });
    for (const name of ["token.json", "sessions.json", "client_id", join("jobs", "job-1.json")]) {
      expect(await mode(join(dir, name)), name).toBe(0o600);
    }
    expect(await mode(join(dir, "jobs"))).toBe(0o700);
  });

  it("rewriting a file that was made world-readable brings it back to 0600", async () => {
    await store.setToken(API, token());
    await chmod(join(dir, "token.json"), 0o644);
    await store.setToken(API, token({ token: "nmv_usr_def" }));
    expect(await mode(join(dir, "token.json"))).toBe(0o600);
  });

  it("leaves no temporary files behind", async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.writeFile("x.json", String(i))));
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("readFile gives undefined for a missing file", async () => {
    expect(await store.readFile("nope")).toBeUndefined();
  });
});

describe("client id", () => {
  it("is a plain UUID plus a newline in client_id, created once and then reused", async () => {
    const id = await store.clientId();
    const text = await readFile(join(dir, "client_id"), "utf8");
    expect(text).toMatch(UUID_LINE);
    expect(text).toBe(`${id}\n`);
    expect(await store.clientId()).toBe(id);
    expect(await new StateStore(dir).clientId()).toBe(id);
  });

  it("reuses an id written by NemoVideo's own skill, with or without the newline", async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "client_id"), "0F3E2B8A-1C4D-4E5F-9A0B-1C2D3E4F5A6B");
    expect(await new StateStore(dir).clientId()).toBe("0F3E2B8A-1C4D-4E5F-9A0B-1C2D3E4F5A6B");
    await writeFile(join(dir, "client_id"), "  6f1c2b3a-1c4d-4e5f-9a0b-1c2d3e4f5a6b \n");
    expect(await new StateStore(dir).clientId()).toBe("6f1c2b3a-1c4d-4e5f-9a0b-1c2d3e4f5a6b");
  });

  it("replaces a file that does not hold a UUID", async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "client_id"), "not a uuid\n");
    const id = await store.clientId();
    expect(`${id}\n`).toMatch(UUID_LINE);
    expect(await readFile(join(dir, "client_id"), "utf8")).toBe(`${id}\n`);
  });

  it("resetClientId writes and returns a different id", async () => {
    const first = await store.clientId();
    const second = await store.resetClientId();
    expect(second).not.toBe(first);
    expect(await readFile(join(dir, "client_id"), "utf8")).toBe(`${second}\n`);
    expect(await store.clientId()).toBe(second);
  });

  it("concurrent first uses agree on one id", async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => store.clientId()));
    const onDisk = (await readFile(join(dir, "client_id"), "utf8")).trim();
    expect(new Set(ids)).toEqual(new Set([onDisk]));
  });
});

describe("tokens", () => {
  it("keeps one token per API base URL", async () => {
    await store.setToken(API, token());
    await store.setToken(OTHER_API, token({ token: "nmv_usr_other", clientId: "cid2" }));
    expect(await store.getToken(API)).toEqual(token());
    expect((await store.getToken(OTHER_API))?.token).toBe("nmv_usr_other");
    const file = JSON.parse(await readFile(join(dir, "token.json"), "utf8"));
    expect(Object.keys(file).sort()).toEqual([OTHER_API, API].sort());
  });

  it("setToken(undefined) removes only that API's token", async () => {
    await store.setToken(API, token());
    await store.setToken(OTHER_API, token({ token: "nmv_usr_other" }));
    await store.setToken(API, undefined);
    expect(await store.getToken(API)).toBeUndefined();
    expect((await store.getToken(OTHER_API))?.token).toBe("nmv_usr_other");
  });

  it("a corrupt or ill-shaped token.json reads as no token", async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "token.json"), "{not json");
    expect(await store.getToken(API)).toBeUndefined();
    await writeFile(join(dir, "token.json"), JSON.stringify({ [API]: { token: "" } }));
    expect(await store.getToken(API)).toBeUndefined();
    await store.setToken(API, token());
    expect(await store.getToken(API)).toEqual(token());
  });
});

describe("sessions", () => {
  it("keeps the current session per API base URL and per skill", async () => {
    await store.setSession(API, "ai-voiceover-for", session("s-voice", { language: "fr" }));
    await store.setSession(API, "ai-video-generator-ai", session("s-gen"));
    await store.setSession(OTHER_API, "ai-voiceover-for", session("s-other"));
    expect((await store.getSession(API, "ai-voiceover-for"))?.sessionId).toBe("s-voice");
    expect((await store.getSession(API, "ai-voiceover-for"))?.language).toBe("fr");
    expect((await store.getSession(API, "ai-video-generator-ai"))?.sessionId).toBe("s-gen");
    expect((await store.getSession(OTHER_API, "ai-voiceover-for"))?.sessionId).toBe("s-other");
    expect(await store.getSession(OTHER_API, "ai-video-generator-ai")).toBeUndefined();
    const file = JSON.parse(await readFile(join(dir, "sessions.json"), "utf8"));
    expect(file[API]["ai-voiceover-for"].sessionId).toBe("s-voice");
  });

  it("fills defaults for an older record without language or createdAt", async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "sessions.json"),
      JSON.stringify({ [API]: { k: { sessionId: "s", taskId: "t" } } }),
    );
    expect(await store.getSession(API, "k")).toEqual({
      sessionId: "s",
      taskId: "t",
      language: "en",
      createdAt: 0,
    });
  });

  it("setSession(undefined) forgets that skill's session", async () => {
    await store.setSession(API, "a", session("s-a"));
    await store.setSession(API, "b", session("s-b"));
    await store.setSession(API, "a", undefined);
    expect(await store.getSession(API, "a")).toBeUndefined();
    expect((await store.getSession(API, "b"))?.sessionId).toBe("s-b");
  });

  it("concurrent updates for different skills all survive", async () => {
    const skills = Array.from({ length: 8 }, (_, i) => `skill-${i}`);
    await Promise.all(skills.map((s) => store.setSession(API, s, session(`sid-${s}`))));
    for (const s of skills) expect((await store.getSession(API, s))?.sessionId, s).toBe(`sid-${s}`);
  });
});

describe("jobs", () => {
  it("saves, loads and lists job records under jobs/", async () => {
    await store.saveJob("turn_1", { id: "turn_1", kind: "turn" });
    await store.saveJob("render_2", { id: "render_2", kind: "render" });
    expect(await store.loadJob("turn_1")).toEqual({ id: "turn_1", kind: "turn" });
    expect(await store.loadJob("missing")).toBeUndefined();
    const ids = ((await store.listJobs()) as { id: string }[]).map((j) => j.id).sort();
    expect(ids).toEqual(["render_2", "turn_1"]);
  });

  it("lists nothing before any job exists, and skips unreadable records", async () => {
    expect(await store.listJobs()).toEqual([]);
    await store.saveJob("ok", { id: "ok" });
    await writeFile(join(dir, "jobs", "broken.json"), "{");
    expect(await store.listJobs()).toEqual([{ id: "ok" }]);
  });

  it("a job id cannot escape the jobs folder", async () => {
    await store.saveJob("../../escape", { id: "x" });
    expect(await readdir(root)).toEqual(["state"]);
    expect(await readdir(join(dir, "jobs"))).toEqual([".._.._escape.json"]);
    expect(await store.loadJob("../../escape")).toEqual({ id: "x" });
  });
});

describe("job retention", () => {
  it("prunes job records older than the retention and keeps recent ones", async () => {
    await store.saveJob("old", { kind: "turn" });
    await store.saveJob("new", { kind: "turn" });
    const { utimes } = await import("node:fs/promises");
    const longAgo = new Date(Date.now() - 40 * 24 * 60 * 60 * 1000);
    await utimes(join(store.dir, "jobs", "old.json"), longAgo, longAgo);
    expect(await store.pruneJobs(30 * 24 * 60 * 60 * 1000)).toBe(1);
    expect(await store.loadJob("old")).toBeUndefined();
    expect(await store.loadJob("new")).toEqual({ kind: "turn" });
  });
});

describe("damaged state files keep what is readable", () => {
  it("one bad entry in token.json keeps the good tokens of other API URLs, and names what was dropped", async () => {
    const warnings: string[] = [];
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "token.json"), JSON.stringify({ [API]: token(), [OTHER_API]: { token: 42 } }));
    const damaged = new StateStore(dir, (m) => warnings.push(m));
    expect((await damaged.getToken(API))?.token).toBe("nmv_usr_abc");
    expect(warnings.join("\n")).toContain(OTHER_API);
    expect(warnings.join("\n")).toContain(join(dir, "token.json"));
  });

  it("a truncated sessions.json is reported with its path and copied aside, not silently emptied", async () => {
    const warnings: string[] = [];
    await mkdir(dir, { recursive: true });
    const text = `{"${API}": {"ai-video-generator-ai": {"sessionId": "s1", "taskId": "t`;
    await writeFile(join(dir, "sessions.json"), text);
    const damaged = new StateStore(dir, (m) => warnings.push(m));
    expect(await damaged.getSession(API, "ai-video-generator-ai")).toBeUndefined();
    expect(warnings.join("\n")).toMatch(/sessions\.json is damaged/);
    expect(await readFile(join(dir, "sessions.json.bad"), "utf8")).toBe(text);
  });

  it("concurrent first calls of separate stores on a fresh folder agree on one client id", async () => {
    const stores = Array.from({ length: 8 }, () => new StateStore(dir));
    const ids = await Promise.all(stores.map((s) => s.clientId()));
    expect(new Set(ids).size).toBe(1);
    expect(await readFile(join(dir, "client_id"), "utf8")).toBe(`${ids[0]}\n`);
  });
});
