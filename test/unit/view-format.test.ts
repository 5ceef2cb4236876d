import { describe, expect, it } from "vitest";
import { barBox, formatBytes, formatClock, rulerTicks } from "../../views/format.js";

describe("formatClock", () => {
  it("writes m:ss and h:mm:ss", () => {
    expect(formatClock(0)).toBe("0:00");
    expect(formatClock(6_040)).toBe("0:06");
    expect(formatClock(65_000)).toBe("1:05");
    expect(formatClock(3_725_000)).toBe("1:02:05");
  });
  it("shows 0:00 for NaN, infinity and negatives", () => {
    expect(formatClock(Number.NaN)).toBe("0:00");
    expect(formatClock(Number.POSITIVE_INFINITY)).toBe("0:00");
    expect(formatClock(-5)).toBe("0:00");
  });
});

describe("formatBytes", () => {
  it("uses KB, MB and GB", () => {
    expect(formatBytes(250_099)).toBe("244 KB");
    expect(formatBytes(8.2 * 1024 * 1024)).toBe("8.2 MB");
    expect(formatBytes(1.5 * 1024 ** 3)).toBe("1.5 GB");
    expect(formatBytes(10)).toBe("1 KB");
    expect(formatBytes(-1)).toBe("");
  });
});

describe("barBox", () => {
  it("places a segment to scale", () => {
    expect(barBox(8_000, 20_000, 20_000)).toEqual({ left: 40, width: 60 });
    expect(barBox(2_000, 12_000, 20_000)).toEqual({ left: 10, width: 50 });
  });
  it("clamps to the lane and keeps a visible minimum width", () => {
    expect(barBox(-1_000, 30_000, 20_000)).toEqual({ left: 0, width: 100 });
    expect(barBox(5_000, 5_000, 20_000)).toEqual({ left: 25, width: 0.5 });
  });
  it("scales to the segment end when the duration is unknown", () => {
    expect(barBox(0, 4_000, 0)).toEqual({ left: 0, width: 100 });
  });
});

describe("rulerTicks", () => {
  it("picks a step that keeps at most eight marks", () => {
    expect(rulerTicks(20_000)).toEqual([0, 5_000, 10_000, 15_000, 20_000]);
    expect(rulerTicks(6_000)).toEqual([0, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000]);
    expect(rulerTicks(3_600_000).length).toBeLessThanOrEqual(9);
    expect(rulerTicks(0)).toEqual([0]);
  });
});
