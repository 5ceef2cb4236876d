/** URL helpers of the client: ids as path segments, the API's origin, and what a log line may show of a URL. */
import { InvalidInputError } from "./errors.js";

/** One id as a URL path segment; "." and ".." would climb to other endpoints, so they are refused. */
export function pathSegment(id: string): string {
  if (id === "" || /^\.+$/.test(id)) {
    throw new InvalidInputError(`"${id}" is not a valid id.`, "Use the id a previous call returned.");
  }
  return encodeURIComponent(id);
}

/** True when `url` has the same origin as `base` (where the token and attribution headers may go). */
export function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/** A request's target for the debug log: the path on the API, host and path elsewhere; never the query. */
export function callTarget(url: string, ownOrigin: boolean): string {
  if (ownOrigin) return pathOf(url);
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return "(another host)";
  }
}

/** The path of a URL or API path, without origin and query (safe to show in messages and logs). */
export function pathOf(path: string): string {
  return path.replace(/^https?:\/\/[^/]+/, "").split("?")[0] ?? path;
}
