import { z } from "zod";

/** A cached anonymous token, as kept in the state directory. */
export interface CachedToken {
  token: string;
  userId?: string | undefined;
  /** Epoch ms after which the token is not used. */
  expiresAt: number;
  clientId: string;
}

/** The session a skill works in when no session_id is given. */
export interface StoredSession {
  sessionId: string;
  taskId: string;
  userId?: string | undefined;
  language: string;
  createdAt: number;
}

const CachedTokenSchema = z.object({
  token: z.string().min(1),
  userId: z.string().optional(),
  expiresAt: z.number(),
  clientId: z.string(),
});
/** A current session as persisted. */
export const StoredSessionSchema = z.object({
  sessionId: z.string().min(1),
  taskId: z.string(),
  userId: z.string().optional(),
  language: z.string().default("en"),
  createdAt: z.number().default(0),
});
/** token.json: one cached token per API base URL. */
type TokensFile = Record<string, CachedToken>;
/** sessions.json: the current session per API base URL and skill. */
type SessionsFile = Record<string, Record<string, StoredSession>>;
/** Reads token.json, keeping the valid entries. */
export const tokensFile = (raw: Record<string, unknown>, dropped: string[]): TokensFile =>
  keepValid(raw, CachedTokenSchema, dropped);
/** Reads sessions.json, keeping the valid entries. */
export const sessionsFile = (raw: Record<string, unknown>, dropped: string[]): SessionsFile => {
  const out: SessionsFile = {};
  for (const [api, skills] of Object.entries(raw)) {
    if (skills === null || typeof skills !== "object" || Array.isArray(skills)) {
      dropped.push(api);
      continue;
    }
    out[api] = keepValid(skills as Record<string, unknown>, StoredSessionSchema, dropped, `${api} `);
  }
  return out;
};

/** The entries of `raw` that match `schema`; the keys of the others go to `dropped`. */
function keepValid<T>(
  raw: Record<string, unknown>,
  schema: z.ZodType<T>,
  dropped: string[],
  prefix = "",
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of Object.entries(raw)) {
    const parsed = schema.safeParse(value);
    if (parsed.success) out[key] = parsed.data;
    else dropped.push(`${prefix}${key}`);
  }
  return out;
}
