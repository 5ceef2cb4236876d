import { describe, expect, it } from "vitest";
import { backoffDelays } from "../../src/client/poll.js";
import { renderPollDelays } from "../../src/client/render.js";

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("render poll backoff", () => {
  it("polls first after 2 s, then ×1.5, capped at the poll interval, within interval × max polls", () => {
    const delays = renderPollDelays(30_000, 10);
    expect(delays.slice(0, 8)).toEqual([2000, 3000, 4500, 6750, 10125, 15188, 22782, 30000]);
    expect(Math.max(...delays)).toBe(30_000);
    expect(sum(delays)).toBeLessThanOrEqual(300_000);
    expect(sum(delays)).toBeGreaterThan(300_000 - 30_000);
    // a 1-second render is seen after 2 s instead of 30 s
    expect(delays[0]).toBe(2000);
  });

  it("keeps the fixed interval when it is below the first backoff step (tests, benchmarks)", () => {
    expect(renderPollDelays(50, 4)).toEqual([50, 50, 50, 50]);
  });

  it("always polls at least once and stays bounded", () => {
    expect(backoffDelays(2000, 1.5, 30_000, 0)).toEqual([2000]);
    expect(backoffDelays(1, 1, 1, 1e9).length).toBeLessThanOrEqual(10_000);
  });

  it("honours an explicit first delay (0 when resuming a render recorded earlier)", () => {
    const delays = renderPollDelays(30_000, 2, 0);
    expect(delays[0]).toBe(1);
    expect(sum(delays)).toBeLessThanOrEqual(60_000);
  });
});
