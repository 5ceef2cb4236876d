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

interface PollOptions<T> {
  /** Delay before the first attempt. */
  firstDelayMs?: number;
  /** Delay between attempts. */
  intervalMs: number;
  /** Delay before attempt `n` (n ≥ 2) instead of the fixed `intervalMs` (a backoff schedule). */
  delayMs?: ((attempt: number) => number) | undefined;
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
    await sleep(n === 1 ? (options.firstDelayMs ?? 0) : (options.delayMs?.(n) ?? intervalMs), signal);
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

/**
 * Waits before each poll of a backoff: `firstMs`, then ×`factor` each time, capped at `capMs`, for as long as
 * the total stays within `budgetMs` (always at least one poll). A first wait above the cap is the cap.
 */
export function backoffDelays(firstMs: number, factor: number, capMs: number, budgetMs: number): number[] {
  const cap = Math.max(1, capMs);
  const delays: number[] = [];
  let next = Math.min(Math.max(1, firstMs), cap);
  let total = 0;
  while (delays.length === 0 || total + next <= budgetMs) {
    delays.push(next);
    total += next;
    next = Math.min(Math.round(next * factor), cap);
    if (delays.length >= 10_000) break;
  }
  return delays;
}
