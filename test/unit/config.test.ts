import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULTS, loadConfig, readEnv } from "../../src/config.js";

/** The ConfigError loadConfig throws for this environment. */
function configError(env: NodeJS.ProcessEnv, flags = {}): ConfigError {
  try {
    loadConfig(env, flags);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const NUMERIC = [
  ["NEMO_RENDER_POLL_MS", "renderPollMs"],
  ["NEMO_RENDER_MAX_POLLS", "renderMaxPolls"],
  ["NEMO_RECOVERY_POLL_MS", "recoveryPollMs"],
  ["NEMO_STALL_MS", "stallMs"],
  ["NEMO_STREAM_TIMEOUT_MS", "streamTimeoutMs"],
  ["NEMO_RETRY_429_MS", "retry429Ms"],
  ["NEMO_REQUEST_TIMEOUT_MS", "requestTimeoutMs"],
  ["NEMO_STILL_WORKING_MS", "stillWorkingMs"],
] as const;

describe("readEnv", () => {
  it("trims, and treats empty or blank as unset", () => {
    expect(readEnv("X", { X: "  value \n" })).toBe("value");
    expect(readEnv("X", { X: "" })).toBeUndefined();
    expect(readEnv("X", { X: "   " })).toBeUndefined();
    expect(readEnv("X", {})).toBeUndefined();
  });
});

describe("loadConfig defaults", () => {
  it("uses the documented defaults with an empty environment", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
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
      logLevel: "info",
    });
    expect(config.token).toBeUndefined();
    expect(config.clientId).toBeUndefined();
    expect(config.skillPlatform).toBeUndefined();
    expect(config.stateDir).toBe(join(homedir(), ".config", "nemovideo"));
    expect(config.outputDir).toBe(resolve("nemovideo-exports"));
    expect(config.allowedDirs).toEqual([process.cwd(), homedir()]);
    expect(DEFAULTS.apiUrl).toBe(config.apiUrl);
  });
});

describe("loadConfig from the environment", () => {
  it("reads every variable, trimmed", () => {
    const config = loadConfig({
      NEMO_API_URL: " http://127.0.0.1:8080/ ",
      NEMO_WEB_URL: "https://web.example//",
      NEMO_TOKEN: "  nmv_usr_secret  ",
      NEMO_CLIENT_ID: " my-client ",
      SKILL_SOURCE: " cursor ",
      NEMO_SKILL: " ai-voiceover-for ",
      NEMO_STATE_DIR: " /tmp/nemo-state ",
      NEMO_OUTPUT_DIR: "/tmp/out",
      NEMO_RENDER_POLL_MS: " 50 ",
      NEMO_RETRY_429_MS: "0",
      NEMO_LOG_LEVEL: " DEBUG ",
    });
    expect(config).toMatchObject({
      apiUrl: "http://127.0.0.1:8080",
      webUrl: "https://web.example",
      token: "nmv_usr_secret",
      clientId: "my-client",
      skillPlatform: "cursor",
      skill: "ai-voiceover-for",
      stateDir: "/tmp/nemo-state",
      outputDir: "/tmp/out",
      renderPollMs: 50,
      retry429Ms: 0,
      logLevel: "debug",
    });
  });

  it("treats empty and blank values as unset", () => {
    const config = loadConfig({
      NEMO_API_URL: "",
      NEMO_TOKEN: "   ",
      NEMO_CLIENT_ID: "",
      NEMO_RENDER_POLL_MS: "",
      NEMO_LOG_LEVEL: " ",
      NEMO_ALLOWED_DIRS: "",
    });
    expect(config.apiUrl).toBe(DEFAULTS.apiUrl);
    expect(config.token).toBeUndefined();
    expect(config.clientId).toBeUndefined();
    expect(config.renderPollMs).toBe(DEFAULTS.renderPollMs);
    expect(config.logLevel).toBe("info");
    expect(config.allowedDirs).toEqual([process.cwd(), homedir()]);
  });

  it("expands ~ in directories", () => {
    const config = loadConfig({ NEMO_STATE_DIR: "~/nemo-state", NEMO_OUTPUT_DIR: "~" });
    expect(config.stateDir).toBe(join(homedir(), "nemo-state"));
    expect(config.outputDir).toBe(homedir());
  });

  it("splits NEMO_ALLOWED_DIRS on the path delimiter, trimming, dropping blanks, resolving", () => {
    const value = ["/data/a", " /data/b ", "", "  ", "~/clips", "relative/dir"].join(delimiter);
    expect(loadConfig({ NEMO_ALLOWED_DIRS: value }).allowedDirs).toEqual([
      "/data/a",
      "/data/b",
      join(homedir(), "clips"),
      resolve("relative/dir"),
    ]);
  });
});

describe("loadConfig validation", () => {
  it.each(NUMERIC)("%s: a valid number is used", (name, key) => {
    expect(loadConfig({ [name]: "1234" })[key]).toBe(1234);
  });

  it.each(NUMERIC)("%s: a non-number is a ConfigError naming the variable", (name) => {
    expect(configError({ [name]: "soon" }).message).toContain(name);
  });

  it.each(NUMERIC)("%s: a fraction is a ConfigError naming the variable", (name) => {
    expect(configError({ [name]: "1.5" }).message).toContain(name);
  });

  it.each(NUMERIC)("%s: a negative value is a ConfigError naming the variable", (name) => {
    expect(configError({ [name]: "-5" }).message).toContain(name);
  });

  it.each(NUMERIC.filter(([name]) => name !== "NEMO_RETRY_429_MS"))(
    "%s: zero is a ConfigError (must be greater than 0)",
    (name) => {
      expect(configError({ [name]: "0" }).message).toMatch(new RegExp(`${name} must be greater than 0`));
    },
  );

  it("an invalid URL is a ConfigError naming the variable", () => {
    expect(configError({ NEMO_API_URL: "not a url" }).message).toContain("NEMO_API_URL");
    expect(configError({ NEMO_WEB_URL: "nemovideo.com" }).message).toContain("NEMO_WEB_URL");
  });

  it("a URL that is not http(s) is a ConfigError, as its message promises", () => {
    expect(configError({ NEMO_API_URL: "ftp://api.example" }).message).toContain("NEMO_API_URL");
    expect(configError({ NEMO_WEB_URL: "javascript:alert(1)" }).message).toContain("NEMO_WEB_URL");
  });

  it("an unknown log level is a ConfigError listing the levels", () => {
    const err = configError({ NEMO_LOG_LEVEL: "verbose" });
    expect(err.message).toContain("NEMO_LOG_LEVEL");
    expect(err.message).toContain("debug, info, notice, warning, error");
  });

  it("the common spellings of log levels are accepted, in any case", () => {
    const cases: Array<[string, string]> = [
      ["warn", "warning"],
      ["WARN", "warning"],
      ["Warning", "warning"],
      ["err", "error"],
      ["ERROR", "error"],
      ["trace", "debug"],
      ["fatal", "error"],
      ["Critical", "error"],
      ["Info", "info"],
    ];
    for (const [given, level] of cases) {
      expect(loadConfig({ NEMO_LOG_LEVEL: given }).logLevel, given).toBe(level);
      expect(loadConfig({}, { logLevel: given }).logLevel, given).toBe(level);
    }
  });

  it("reports every problem at once", () => {
    const err = configError({ NEMO_STALL_MS: "x", NEMO_LOG_LEVEL: "loud" });
    expect(err.message).toContain("NEMO_STALL_MS");
    expect(err.message).toContain("NEMO_LOG_LEVEL");
    expect(err.name).toBe("ConfigError");
  });
});

describe("flags win over the environment", () => {
  it("for skill, state dir, output dir, API URL and log level", () => {
    const config = loadConfig(
      {
        NEMO_SKILL: "ai-video-generator-ai",
        NEMO_STATE_DIR: "/env/state",
        NEMO_OUTPUT_DIR: "/env/out",
        NEMO_API_URL: "https://env.example",
        NEMO_LOG_LEVEL: "error",
      },
      {
        skill: "ai-voiceover-for",
        stateDir: "/flag/state",
        outputDir: "/flag/out",
        apiUrl: "http://127.0.0.1:4000/",
        logLevel: "Debug",
      },
    );
    expect(config).toMatchObject({
      skill: "ai-voiceover-for",
      stateDir: "/flag/state",
      outputDir: "/flag/out",
      apiUrl: "http://127.0.0.1:4000",
      logLevel: "debug",
    });
  });

  it("an unset flag falls back to the environment", () => {
    const config = loadConfig({ NEMO_SKILL: "ai-voiceover-for" }, { skill: undefined });
    expect(config.skill).toBe("ai-voiceover-for");
  });

  it("an invalid flag value is a ConfigError too", () => {
    expect(configError({}, { logLevel: "chatty" }).message).toContain("NEMO_LOG_LEVEL");
  });
});

describe("a face's own defaults", () => {
  it("apply only when neither the flag nor the variable sets a log level", () => {
    const quiet = { logLevel: "warning" } as const;
    expect(loadConfig({}, {}, quiet).logLevel).toBe("warning");
    expect(loadConfig({ NEMO_LOG_LEVEL: "debug" }, {}, quiet).logLevel).toBe("debug");
    expect(loadConfig({ NEMO_LOG_LEVEL: "debug" }, { logLevel: "error" }, quiet).logLevel).toBe("error");
    expect(loadConfig({}).logLevel).toBe("info");
  });
});

describe("PATH", () => {
  it("is read with the rest, so ffmpeg is looked for without reading the environment again", () => {
    expect(loadConfig({ PATH: "/opt/ffmpeg/bin:/usr/bin" }).searchPath).toBe("/opt/ffmpeg/bin:/usr/bin");
    expect(loadConfig({}).searchPath).toBe("");
  });
});
