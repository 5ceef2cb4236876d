import { describe, expect, it } from "vitest";
import { ReplayBuffer } from "../../src/client/turn-replay.js";

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const seen: T[] = [];
  for await (const item of iterable) seen.push(item);
  return seen;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("ReplayBuffer", () => {
  it("replays what it holds to a late iterator, then ends once closed", async () => {
    const buffer = new ReplayBuffer<number>();
    for (const n of [1, 2, 3]) buffer.push(n);
    buffer.close();
    expect(await drain(buffer)).toEqual([1, 2, 3]);
    expect(await drain(buffer)).toEqual([1, 2, 3]);
  });

  it("follows live updates, in order, for every iterator", async () => {
    const buffer = new ReplayBuffer<string>();
    const first = drain(buffer);
    buffer.push("a");
    const second = drain(buffer);
    await Promise.resolve();
    buffer.push("b");
    buffer.close();
    expect(await first).toEqual(["a", "b"]);
    expect(await second).toEqual(["a", "b"]);
  });

  it("drops the older half past the running bound, and replays only what is left", async () => {
    const buffer = new ReplayBuffer<number>({ running: 10, finished: 4 });
    for (const n of range(0, 11)) buffer.push(n);
    expect(buffer.size).toBe(6);
    buffer.close();
    expect(buffer.size).toBe(4);
    expect(await drain(buffer)).toEqual([7, 8, 9, 10]);
  });

  it("keeps the default bounds: 2,000 while running, the last 100 once closed", async () => {
    const buffer = new ReplayBuffer<number>();
    for (const n of range(0, 2_000)) buffer.push(n);
    expect(buffer.size).toBe(2_000);
    buffer.push(2_000);
    expect(buffer.size).toBe(1_001);
    buffer.close();
    expect(await drain(buffer)).toEqual(range(1_901, 2_001));
  });

  it("lets an iterator that fell behind a drop skip to the oldest update still kept", async () => {
    const buffer = new ReplayBuffer<number>({ running: 4, finished: 4 });
    const iterator = buffer[Symbol.asyncIterator]();
    buffer.push(0);
    expect(await iterator.next()).toEqual({ done: false, value: 0 });
    for (const n of range(1, 8)) buffer.push(n);
    // 0..7 pushed with a bound of 4: the oldest half went twice, 4..7 are kept
    expect(await iterator.next()).toEqual({ done: false, value: 4 });
  });

  it("ignores updates after close, and an iterator stopped with return() ends at once", async () => {
    const buffer = new ReplayBuffer<number>();
    const iterator = buffer[Symbol.asyncIterator]();
    buffer.push(1);
    await iterator.return?.();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    buffer.close();
    buffer.push(2);
    expect(await drain(buffer)).toEqual([1]);
  });

  it("wakes a waiting iterator when the buffer closes empty", async () => {
    const buffer = new ReplayBuffer<number>();
    const waiting = buffer[Symbol.asyncIterator]().next();
    buffer.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
  });
});
