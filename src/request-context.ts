import { AsyncLocalStorage } from "node:async_hooks";

/** Who a hosted request acts for: the caller's bearer token and the keyed hash that names their data. */
export interface RequestUser {
  /** The caller's NemoVideo token; held in memory only, never logged or stored. */
  token: string;
  /** Keyed hash of the token: the owner of sessions, turns and exports (safe to store and log). */
  owner: string;
}

const storage = new AsyncLocalStorage<RequestUser>();

/** Runs `work` (and everything it starts, background jobs included) on behalf of `user`. */
export function runAsUser<T>(user: RequestUser, work: () => T): T {
  return storage.run(user, work);
}

/** The user of the hosted request being served, or undefined outside one (stdio, CLI). */
export function currentUser(): RequestUser | undefined {
  return storage.getStore();
}
