import type { NemoClient } from "../client/client.js";
import type { Sessions } from "../client/sessions.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { SkillInfo } from "../skills.js";
import type { FileAccess } from "./files.js";
import type { Jobs } from "../jobs/jobs.js";

/** Everything the MCP face needs; built once by the CLI (or by tests) and passed to createServer. */
export interface ServerDeps {
  config: Config;
  skill: SkillInfo;
  client: NemoClient;
  sessions: Sessions;
  jobs: Jobs;
  files: FileAccess;
  logger: Logger;
  version: string;
  /** Longest quiet time before a "Still working…" progress message (default 2 minutes). */
  stillWorkingMs?: number;
  /** Served over stateless HTTP: the server cannot ask the client anything back (no elicitation). */
  hosted?: boolean;
}
