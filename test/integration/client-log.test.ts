import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreditsSchema } from "../../src/client/schemas.js";
import { fetchCredits } from "../../src/client/state.js";
import { Logger } from "../../src/log.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { makeClient } from "../helpers/client.js";

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ stepMs: 0, heartbeatMs: 0 });
  dir = await mkdtemp(join(tmpdir(), "nemo-client-log-"));
});

afterAll(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

function client(level: "debug" | "info") {
  const lines: string[] = [];
  const logger = new Logger(level, (line) => lines.push(line));
  const nemo = makeClient(sandbox.url, { dir, requestTimeoutMs: 2000, logger }).client;
  return { nemo, lines };
}

describe("NEMO_LOG_LEVEL=debug: one line per backend call", () => {
  it("logs method, path, status and milliseconds of each call, never the token or the query", async () => {
    const { nemo, lines } = client("debug");
    await fetchCredits(nemo);
    await nemo
      .call({ method: "GET", path: "/api/nothing-here?signature=s3cr3t", schema: CreditsSchema })
      .catch(() => undefined);
    const calls = lines.filter((l) => /debug: (GET|POST) /.test(l));
    expect(calls.some((l) => /debug: POST \/api\/auth\/anonymous-token 200 \d+ ms/.test(l))).toBe(true);
    expect(calls.some((l) => /debug: GET \/api\/credits\/balance\/simple 200 \d+ ms/.test(l))).toBe(true);
    expect(calls.some((l) => /debug: GET \/api\/nothing-here 404 \d+ ms/.test(l))).toBe(true);
    const tokens = [...sandbox.state.tokens.keys()];
    expect(tokens.length).toBeGreaterThan(0);
    for (const line of lines) {
      for (const token of tokens) expect(line).not.toContain(token);
      expect(line).not.toContain("s3cr3t");
    }
  });

  it("logs the failure of a call that got no answer", async () => {
    const { nemo, lines } = client("debug");
    sandbox.inject({ endpoint: "credits", kind: { type: "reset" }, times: 2 });
    await expect(fetchCredits(nemo)).rejects.toThrow();
    expect(
      lines.some((l) => /debug: GET \/api\/credits\/balance\/simple failed after \d+ ms \(\w+\)/.test(l)),
    ).toBe(true);
  });

  it("stays quiet at info", async () => {
    const { nemo, lines } = client("info");
    await fetchCredits(nemo);
    expect(lines.filter((l) => /(GET|POST) \//.test(l))).toEqual([]);
  });
});
