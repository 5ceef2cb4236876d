/** "1:05" or "1:02:05" for a length in milliseconds; "0:00" for anything not a positive number. */
export function formatClock(ms: number): string {
  const total = Number.isFinite(ms) && ms > 0 ? Math.round(ms / 1000) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** "820 KB", "8.2 MB" or "1.1 GB" for a byte count. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}

/** One bar of the timeline: where it starts and how wide it is, in percent of the whole. */
export interface BarBox {
  left: number;
  width: number;
}

/** Places a segment on a lane of `durationMs`, clamped to the lane and at least `minWidth` percent wide. */
export function barBox(startMs: number, endMs: number, durationMs: number, minWidth = 0.5): BarBox {
  const span = durationMs > 0 ? durationMs : Math.max(endMs, 1);
  const clamp = (v: number) => Math.min(100, Math.max(0, v));
  const left = clamp((startMs / span) * 100);
  const right = clamp((endMs / span) * 100);
  return { left, width: Math.max(minWidth, right - left) };
}

/** Evenly spaced ruler marks (in ms) for a timeline: 1, 2, 5, 10, 15, 30 s … apart, at most `maxTicks`. */
export function rulerTicks(durationMs: number, maxTicks = 8): number[] {
  if (!(durationMs > 0)) return [0];
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1000);
  const step = steps.find((s) => durationMs / s <= maxTicks) ?? Math.ceil(durationMs / maxTicks);
  const ticks: number[] = [];
  for (let t = 0; t <= durationMs; t += step) ticks.push(t);
  return ticks;
}
