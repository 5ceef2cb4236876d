import { randomBytes } from "node:crypto";
import type { Config } from "../config.js";
import { ConfigError } from "../config.js";
import type { Logger } from "../log.js";
import { createRuntime } from "../runtime.js";
import { isLoopbackHost } from "./auth.js";
import { startHttpFace } from "./server.js";

/** How long a stopping instance lets requests in flight finish before closing their sockets. */
const STOP_GRACE_MS = 10_000;

/** `nemovideo-mcp --http`: serves Streamable HTTP until SIGTERM/SIGINT, then stops gracefully. */
export async function serveHttp(config: Config, logger: Logger, auth: "bearer" | "none"): Promise<void> {
  if (auth === "none" && !isLoopbackHost(config.httpHost)) {
    throw new ConfigError(
      `--http-auth none is only allowed on a loopback host (127.0.0.1, ::1, localhost), not on "${config.httpHost}": ` +
        "without a bearer every caller would act with this machine's token.",
    );
  }
  const runtime = await createRuntime(config, logger, { hosted: true, requestTokensOnly: auth === "bearer" });
  const secret = config.httpSecret ?? randomBytes(32).toString("hex");
  const face = await startHttpFace({
    host: config.httpHost,
    port: config.httpPort,
    auth,
    secret,
    store: "memory",
    version: runtime.version,
    skills: runtime.skills,
    logger,
    depsFor: () => runtime,
  });
  logger.info(
    `nemovideo-mcp ${runtime.version} serving Streamable HTTP on ${face.url}/mcp (auth ${auth}, store memory, skill ${runtime.skill.name}@${runtime.skill.version}, API ${config.apiUrl}).`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  logger.info("Stopping: no new requests; running jobs are left for another instance to take over.");
  await face.stop(STOP_GRACE_MS);
  runtime.jobs.shutdown();
  await runtime.store.flush();
}
