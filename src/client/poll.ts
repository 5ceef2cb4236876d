import { CancelledError } from "./errors.js";

/** Waits `ms`, rejecting with CancelledError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new CancelledError("Cancelled."));
  // The global timer (not node:timers/promises) so tests can drive it with fake timers.
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError("Cancelled."));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Throws CancelledError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError("Cancelled.");
}

export interface PollOptions<T> {
  /** Delay before the first attempt. */
  firstDelayMs?: number;
  /** Delay between attempts. */
  intervalMs: number;
  /** Attempts before giving up. */
  maxAttempts: number;
  signal?: AbortSignal | undefined;
  /** Called once per attempt; return `{ done: true, value }` to stop. */
  attempt: (n: number) => Promise<{ done: true; value: T } | { done: false }>;
}

/** Bounded, cancellable polling: at most `maxAttempts` calls, `intervalMs` apart. Undefined when never done. */
export async function pollUntil<T>(options: PollOptions<T>): Promise<T | undefined> {
  const { intervalMs, maxAttempts, signal, attempt } = options;
  for (let n = 1; n <= maxAttempts; n++) {
    await sleep(n === 1 ? (options.firstDelayMs ?? 0) : intervalMs, signal);
    const result = await attempt(n);
    if (result.done) return result.value;
  }
  return undefined;
}

/**
 * Waits for a promise shared by several callers, giving up (CancelledError) when this caller's
 * signal aborts; the shared work itself goes on for the others.
 */
export function waitShared<T>(shared: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return shared;
  if (signal.aborted) return Promise.reject(new CancelledError("Cancelled."));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError("Cancelled."));
    signal.addEventListener("abort", onAbort, { once: true });
    shared.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
