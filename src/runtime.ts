import { join } from "node:path";
import { NemoClient } from "./client/client.js";
import { Sessions } from "./client/sessions.js";
import { StateStore } from "./client/store.js";
import { removeStaleTempFiles } from "./client/temp-files.js";
import type { Config } from "./config.js";
import type { Logger } from "./log.js";
import type { ServerDeps } from "./server/context.js";
import { FileAccess } from "./server/files.js";
import { Jobs } from "./jobs/jobs.js";
import { StateDirJobStore } from "./jobs/state-dir-store.js";
import { listBundledSkills, resolveSkill, type SkillInfo } from "./skills.js";
import { packageVersion } from "./version.js";

const JOB_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** A temp file untouched this long belongs to no live download or write. */
const STALE_TEMP_MS = 10 * 60 * 1000;

/** Everything a server or a CLI command needs, wired from one configuration. */
export interface Runtime extends ServerDeps {
  store: StateStore;
  skills: SkillInfo[];
}

/** How the runtime serves: hosted (HTTP, many users) or for the one local user. */
interface RuntimeMode {
  /** Streamable HTTP for many users: no MCP roots, local paths and downloads only when configured. */
  hosted?: boolean;
  /** Act only with the bearer of the request being served (never NEMO_TOKEN or an anonymous token). */
  requestTokensOnly?: boolean;
}

/** Builds the client, session store, jobs and file access for a configuration. */
export async function createRuntime(
  config: Config,
  logger: Logger,
  mode: RuntimeMode = {},
): Promise<Runtime> {
  const platform = { platform: config.skillPlatform };
  const skill = await resolveSkill(config.skill, platform);
  const bundled = await listBundledSkills(platform);
  // A skill folder may carry a bundled skill's name (a ClawHub install): it takes that bundled skill's place.
  const skills = bundled.some((s) => s.path === skill.path)
    ? bundled
    : [skill, ...bundled.filter((s) => s.name !== skill.name)];
  const version = packageVersion();
  const store = new StateStore(config.stateDir, (message) => logger.warn(message));
  // Background-job records older than 30 days are of no use to anyone; tidy them in passing.
  void store.pruneJobs(JOB_RETENTION_MS).catch(() => {});
  // A process killed mid-download or mid-write leaves its temp file behind: tidy what is clearly stale.
  void removeStaleTempFiles([config.outputDir, config.stateDir, join(config.stateDir, "jobs")], STALE_TEMP_MS)
    .then((removed) => {
      if (removed.length > 0)
        logger.info(`Removed ${removed.length} stale temp file(s): ${removed.join(", ")}`);
    })
    .catch(() => {});
  const client = new NemoClient({
    config,
    skill: { name: skill.name, version: skill.version, platform: skill.platform },
    store,
    logger,
    userAgent: `nemovideo-mcp/${version}`,
    requestTokensOnly: mode.requestTokensOnly === true,
  });
  const jobStore = new StateDirJobStore(store);
  const sessions = new Sessions(client, jobStore, { pinCurrent: !mode.hosted });
  const jobs = new Jobs({
    client,
    sessions,
    store: jobStore,
    logger,
    turnLimits: {
      streamTimeoutMs: config.streamTimeoutMs,
      stallMs: config.stallMs,
      recoveryPollMs: config.recoveryPollMs,
    },
    renderPollMs: config.renderPollMs,
    renderMaxPolls: config.renderMaxPolls,
  });
  const files = new FileAccess(
    config.allowedDirs,
    config.outputDir,
    logger,
    undefined,
    mode.hosted ? { localPaths: config.allowedDirsSet, downloads: config.outputDirSet } : undefined,
  );
  return {
    config,
    skill,
    skills,
    client,
    sessions,
    jobs,
    files,
    logger,
    version,
    store,
    stillWorkingMs: config.stillWorkingMs,
    ...(mode.hosted ? { hosted: true } : {}),
  };
}
