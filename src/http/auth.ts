import { createHmac } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/** The bearer token of a request, or undefined when the header is missing or not a bearer. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S{1,4096})\s*$/i.exec(req.headers.authorization ?? "");
  return match?.[1];
}

/**
 * The keyed hash that names a user's data (sessions, turns, exports) without revealing the token:
 * HMAC-SHA256 with the server secret, hex, 32 characters.
 */
export function ownerOf(token: string, secret: string): string {
  return createHmac("sha256", secret).update(token).digest("hex").slice(0, 32);
}

/** True for loopback host names and addresses (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || bare === "0:0:0:0:0:0:0:1" || bare.startsWith("::ffff:127.");
  return false;
}
