/** The one way tests build a NemoClient: against a sandbox (or any) URL, with its own state folder. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NemoClient, type SkillIdentity } from "../../src/client/client.js";
import { Sessions, type SessionsOptions } from "../../src/client/sessions.js";
import { StateStore } from "../../src/client/store.js";
import type { Logger } from "../../src/log.js";

/** The skill identity tests send unless they pick another. */
export const TEST_SKILL: SkillIdentity = { name: "ai-voiceover-for", version: "1.0.0", platform: "unknown" };

/** What a test may vary about its client; everything else is a fast test default. */
export interface TestClientOptions {
  /** State folder (token and session caches); a fresh temp folder when omitted. */
  dir?: string;
  /** Default https://nemovideo.test. */
  webUrl?: string;
  token?: string;
  clientId?: string;
  /** Default 10 ms so that rate-limit retries stay fast. */
  retry429Ms?: number;
  /** Default 5000 ms. */
  requestTimeoutMs?: number;
  skill?: SkillIdentity;
  logger?: Logger;
}

/** A client, its state store and the folder that store writes to. */
export interface TestClient {
  client: NemoClient;
  store: StateStore;
  dir: string;
}

/** A NemoClient talking to `apiUrl`, with test defaults (fast retries, a fresh state folder). */
export function makeClient(apiUrl: string, opts: TestClientOptions = {}): TestClient {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "nemo-"));
  const store = new StateStore(dir);
  const client = new NemoClient({
    config: {
      apiUrl,
      webUrl: opts.webUrl ?? "https://nemovideo.test",
      token: opts.token,
      clientId: opts.clientId,
      retry429Ms: opts.retry429Ms ?? 10,
      requestTimeoutMs: opts.requestTimeoutMs ?? 5000,
    },
    skill: opts.skill ?? TEST_SKILL,
    store,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return { client, store, dir };
}

/** Sessions of a test client, kept in that client's own state store. */
export function makeSessions({ client, store }: TestClient, options?: SessionsOptions): Sessions {
  return new Sessions(client, store, options);
}
