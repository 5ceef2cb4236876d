import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { z } from "zod";

/** Reads an environment variable, trimmed; empty counts as unset. */
export function readEnv(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

const positiveInt = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .positive(`${name} must be greater than 0`);

const LOG_LEVELS = ["debug", "info", "notice", "warning", "error"] as const;
/** A log level, from the most to the least verbose. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Common spellings of the levels (any case), mapped to the level they mean. */
const LOG_LEVEL_SPELLINGS: Record<string, LogLevel> = {
  trace: "debug",
  warn: "warning",
  err: "error",
  fatal: "error",
  critical: "error",
  crit: "error",
};

/** A log level as people write it (`WARN`, `err`, `trace`…), as one of LOG_LEVELS when it is known. */
function normalizeLogLevel(value: string): string {
  const lower = value.trim().toLowerCase();
  return LOG_LEVEL_SPELLINGS[lower] ?? lower;
}

const ConfigSchema = z.object({
  apiUrl: z
    .url({ protocol: /^https?$/, error: "NEMO_API_URL must be an http(s) URL" })
    .transform((u) => u.replace(/\/+$/, "")),
  webUrl: z
    .url({ protocol: /^https?$/, error: "NEMO_WEB_URL must be an http(s) URL" })
    .transform((u) => u.replace(/\/+$/, "")),
  token: z.string().optional(),
  clientId: z.string().optional(),
  skillPlatform: z.string().optional(),
  skill: z.string(),
  stateDir: z.string(),
  outputDir: z.string(),
  allowedDirs: z.array(z.string()),
  renderPollMs: positiveInt("NEMO_RENDER_POLL_MS"),
  renderMaxPolls: positiveInt("NEMO_RENDER_MAX_POLLS"),
  recoveryPollMs: positiveInt("NEMO_RECOVERY_POLL_MS"),
  stallMs: positiveInt("NEMO_STALL_MS"),
  streamTimeoutMs: positiveInt("NEMO_STREAM_TIMEOUT_MS"),
  retry429Ms: z.coerce
    .number({ error: "NEMO_RETRY_429_MS must be a number" })
    .int("NEMO_RETRY_429_MS must be a whole number")
    .nonnegative("NEMO_RETRY_429_MS must be 0 or more"),
  requestTimeoutMs: positiveInt("NEMO_REQUEST_TIMEOUT_MS"),
  stillWorkingMs: positiveInt("NEMO_STILL_WORKING_MS"),
  httpPort: z.coerce
    .number({ error: "NEMO_HTTP_PORT must be a number" })
    .int("NEMO_HTTP_PORT must be a whole number")
    .min(0, "NEMO_HTTP_PORT must be 0-65535")
    .max(65535, "NEMO_HTTP_PORT must be 0-65535"),
  httpHost: z.string().min(1),
  redisUrl: z
    .url({ protocol: /^rediss?$/, error: "NEMO_REDIS_URL must be a redis:// or rediss:// URL" })
    .optional(),
  takeoverMs: positiveInt("NEMO_TAKEOVER_MS"),
  httpSecret: z.string().optional(),
  /** True when NEMO_ALLOWED_DIRS was set (hosted mode refuses local paths otherwise). */
  allowedDirsSet: z.boolean(),
  /** True when NEMO_OUTPUT_DIR (or --out) was set (hosted mode downloads exports only then). */
  outputDirSet: z.boolean(),
  ffmpeg: z.string().optional(),
  /** PATH: the folders searched for ffmpeg when NEMO_FFMPEG is not set. */
  searchPath: z.string(),
  mediaOrigins: z.array(
    z
      .url({ protocol: /^https?$/, error: "NEMO_MEDIA_ORIGINS must be a comma list of http(s) origins" })
      .transform((u) => new URL(u).origin),
  ),
  logLevel: z.enum(LOG_LEVELS, { error: `NEMO_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}` }),
});

/** Every setting of the program, after defaults and validation. */
export type Config = z.infer<typeof ConfigSchema>;

/** Flags from the command line; each wins over the environment variable of the same meaning. */
export interface ConfigOverrides {
  skill?: string | undefined;
  stateDir?: string | undefined;
  outputDir?: string | undefined;
  apiUrl?: string | undefined;
  logLevel?: string | undefined;
  httpPort?: string | undefined;
  httpHost?: string | undefined;
}

/** The values used when neither a flag nor an environment variable sets one. */
export const DEFAULTS = {
  apiUrl: "https://mega-api-prod.nemovideo.ai",
  webUrl: "https://nemovideo.com",
  skill: "ai-video-generator-ai",
  renderPollMs: 30_000,
  renderMaxPolls: 10,
  recoveryPollMs: 60_000,
  stallMs: 600_000,
  streamTimeoutMs: 900_000,
  retry429Ms: 30_000,
  requestTimeoutMs: 60_000,
  stillWorkingMs: 120_000,
  httpPort: 3000,
  httpHost: "127.0.0.1",
  takeoverMs: 30_000,
  logLevel: "info",
  /** Where NemoVideo serves uploads and renders; the MCP Apps views may load media from these. */
  mediaOrigins: ["https://nemovideo.com", "https://*.nemovideo.com", "https://*.nemovideo.ai"],
} as const;

/** Defaults a face picks for itself, used when neither the flag nor the variable is set. */
interface ConfigDefaults {
  logLevel?: LogLevel;
}

/**
 * The configuration as the entry point read it (once, from its environment and flags); a face may add
 * its own flags and defaults, and gets a new Config without anything reading the environment again.
 */
export type ConfigReader = (overrides?: ConfigOverrides, defaults?: ConfigDefaults) => Config;

/** Thrown when the environment or flags hold a value that cannot be used. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Builds the configuration from the environment and CLI flags, with the documented defaults. */
export function loadConfig(
  env: NodeJS.ProcessEnv,
  flags: ConfigOverrides = {},
  defaults: ConfigDefaults = {},
): Config {
  const e = (name: string) => readEnv(name, env);
  const home = homedir();
  const expand = (p: string) => (p === "~" ? home : p.startsWith("~/") ? join(home, p.slice(2)) : p);
  const allowed = e("NEMO_ALLOWED_DIRS");
  const raw = {
    apiUrl: flags.apiUrl ?? e("NEMO_API_URL") ?? DEFAULTS.apiUrl,
    webUrl: e("NEMO_WEB_URL") ?? DEFAULTS.webUrl,
    token: e("NEMO_TOKEN"),
    clientId: e("NEMO_CLIENT_ID"),
    skillPlatform: e("SKILL_SOURCE"),
    skill: flags.skill ?? e("NEMO_SKILL") ?? DEFAULTS.skill,
    stateDir: resolve(expand(flags.stateDir ?? e("NEMO_STATE_DIR") ?? join(home, ".config", "nemovideo"))),
    outputDir: resolve(expand(flags.outputDir ?? e("NEMO_OUTPUT_DIR") ?? "nemovideo-exports")),
    allowedDirs: allowed
      ? allowed
          .split(delimiter)
          .map((p) => p.trim())
          .filter(Boolean)
          .map((p) => resolve(expand(p)))
      : [process.cwd(), home],
    renderPollMs: e("NEMO_RENDER_POLL_MS") ?? DEFAULTS.renderPollMs,
    renderMaxPolls: e("NEMO_RENDER_MAX_POLLS") ?? DEFAULTS.renderMaxPolls,
    recoveryPollMs: e("NEMO_RECOVERY_POLL_MS") ?? DEFAULTS.recoveryPollMs,
    stallMs: e("NEMO_STALL_MS") ?? DEFAULTS.stallMs,
    streamTimeoutMs: e("NEMO_STREAM_TIMEOUT_MS") ?? DEFAULTS.streamTimeoutMs,
    retry429Ms: e("NEMO_RETRY_429_MS") ?? DEFAULTS.retry429Ms,
    requestTimeoutMs: e("NEMO_REQUEST_TIMEOUT_MS") ?? DEFAULTS.requestTimeoutMs,
    stillWorkingMs: e("NEMO_STILL_WORKING_MS") ?? DEFAULTS.stillWorkingMs,
    httpPort: flags.httpPort ?? e("NEMO_HTTP_PORT") ?? DEFAULTS.httpPort,
    httpHost: flags.httpHost ?? e("NEMO_HTTP_HOST") ?? DEFAULTS.httpHost,
    redisUrl: e("NEMO_REDIS_URL"),
    takeoverMs: e("NEMO_TAKEOVER_MS") ?? DEFAULTS.takeoverMs,
    httpSecret: e("NEMO_HTTP_SECRET"),
    allowedDirsSet: allowed !== undefined,
    outputDirSet: (flags.outputDir ?? e("NEMO_OUTPUT_DIR")) !== undefined,
    ffmpeg: e("NEMO_FFMPEG"),
    searchPath: env.PATH ?? "",
    mediaOrigins: e("NEMO_MEDIA_ORIGINS")
      ?.split(",")
      .map((o) => o.trim())
      .filter(Boolean) ?? [...DEFAULTS.mediaOrigins],
    logLevel: normalizeLogLevel(
      flags.logLevel ?? e("NEMO_LOG_LEVEL") ?? defaults.logLevel ?? DEFAULTS.logLevel,
    ),
  };
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  return parsed.data;
}
