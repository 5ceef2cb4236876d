import type { LogLevel } from "./config.js";
import { currentUser } from "./request-context.js";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, notice: 2, warning: 3, error: 4 };

/** Where log records go besides stderr (the MCP server adds `notifications/message`). */
type LogSink = (level: LogLevel, message: string, data?: Record<string, unknown>) => void;

const secrets = new Set<string>();
/** The `user:password@` part of a URL: credentials are never shown, wherever a URL appears. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;
const TOKEN_PATTERN = /\b(nmv_[A-Za-z0-9_-]+|Bearer\s+[A-Za-z0-9._~+/=-]+)/g;

/** Registers a secret that must never be printed; every logged string is scrubbed of it. */
export function addSecret(secret: string | undefined): void {
  if (secret && secret.length >= 6) secrets.add(secret);
}

/** Replaces every known secret and anything shaped like a NemoVideo token or bearer header. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("[redacted]");
  // Hosted mode: the bearer of the request being served, whatever its shape.
  const user = currentUser();
  if (user) out = out.split(user.token).join("[redacted]");
  return out.replace(TOKEN_PATTERN, "[redacted]").replace(URL_USERINFO, "$1");
}

/** Redacts every string inside a value (objects and arrays are copied; past 32 levels deep, dropped). */
export function redactDeep<T>(value: T, depth = 0): T {
  return redactValue(value, depth) as T;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return redact(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 32) return "[omitted: nested too deeply]";
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, depth + 1)]));
}

/** Leveled logger that writes to stderr only (stdout belongs to JSON-RPC) and to optional extra sinks. */
export class Logger {
  private readonly sinks = new Set<LogSink>();

  constructor(
    public level: LogLevel = "info",
    private readonly stderr: (line: string) => void = (line) => process.stderr.write(line),
  ) {}

  /** Adds a sink such as MCP logging; returns a function that removes it. */
  addSink(sink: LogSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  enabled(level: LogLevel): boolean {
    return ORDER[level] >= ORDER[this.level];
  }

  log(level: LogLevel, message: string, data?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const clean = redact(message);
    const cleanData = data ? (redactDeep(data) as Record<string, unknown>) : undefined;
    const suffix = cleanData ? ` ${JSON.stringify(cleanData)}` : "";
    this.stderr(`[nemovideo-mcp] ${level}: ${clean}${suffix}\n`);
    for (const sink of this.sinks) {
      try {
        sink(level, clean, cleanData);
      } catch {
        // a broken sink must never break the caller
      }
    }
  }

  debug(message: string, data?: Record<string, unknown>): void {
    this.log("debug", message, data);
  }
  info(message: string, data?: Record<string, unknown>): void {
    this.log("info", message, data);
  }
  warn(message: string, data?: Record<string, unknown>): void {
    this.log("warning", message, data);
  }
  error(message: string, data?: Record<string, unknown>): void {
    this.log("error", message, data);
  }
}

/** A logger that drops everything; for tests and library use. */
export const silentLogger = new Logger("error", () => {});
