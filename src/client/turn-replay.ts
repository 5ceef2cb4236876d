/**
 * The updates of one turn kept for its iterators, so that a late one replays what it missed: bounded while the
 * turn runs (a long stream of heartbeats and partial text keeps only its recent part) and trimmed when it ends.
 */

/** How many updates a replay buffer keeps. */
interface ReplayLimits {
  /** While running: past this many, the older half is dropped. */
  running: number;
  /** Once closed: only this many of the last updates stay. */
  finished: number;
}

const DEFAULT_LIMITS: ReplayLimits = { running: 2_000, finished: 100 };

/** A bounded, append-only list of updates that iterators replay and then follow live until it is closed. */
export class ReplayBuffer<T> implements AsyncIterable<T> {
  /** items[i] is update number `dropped + i`. */
  private readonly items: T[] = [];
  private dropped = 0;
  private closed = false;
  private wake: Array<() => void> = [];

  constructor(private readonly limits: ReplayLimits = DEFAULT_LIMITS) {}

  /** How many updates are kept now. */
  get size(): number {
    return this.items.length;
  }

  /** Adds an update and wakes the waiting iterators; ignored once closed. */
  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    if (this.items.length > this.limits.running) this.dropOldest(Math.floor(this.limits.running / 2));
    this.notify();
  }

  /** No more updates: keeps only the last ones for late iterators, and ends every iteration after them. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.items.length > this.limits.finished) this.dropOldest(this.items.length - this.limits.finished);
    this.notify();
  }

  /** Replays the updates still kept, then follows live ones; ends once the buffer is closed and read. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    let index = 0;
    let stopped = false;
    return {
      next: async (): Promise<IteratorResult<T>> => {
        for (;;) {
          if (stopped) return { done: true, value: undefined };
          index = Math.max(index, this.dropped);
          if (index - this.dropped < this.items.length) {
            const item = this.items[index - this.dropped] as T;
            index += 1;
            return { done: false, value: item };
          }
          if (this.closed) return { done: true, value: undefined };
          await new Promise<void>((resolve) => this.wake.push(resolve));
        }
      },
      return: async (): Promise<IteratorResult<T>> => {
        stopped = true;
        return { done: true, value: undefined };
      },
    };
  }

  private dropOldest(count: number): void {
    this.items.splice(0, count);
    this.dropped += count;
  }

  private notify(): void {
    if (this.wake.length === 0) return;
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }
}
