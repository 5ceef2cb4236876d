import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";

/** What a tool handler receives from the SDK that progress reporting needs. */
export interface ProgressExtra {
  _meta?: { progressToken?: string | number | undefined } | undefined;
  sendNotification: (notification: ServerNotification) => Promise<void>;
}

/**
 * Sends `notifications/progress` for one tool call: progress strictly increasing, messages a
 * person can read, and at most one notification per `minIntervalMs` unless forced.
 */
export class ProgressReporter {
  private last = 0;
  private lastSentAt = 0;
  private lastMessage = "";

  constructor(
    private readonly extra: ProgressExtra | undefined,
    private readonly minIntervalMs = 200,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the caller asked for progress. */
  get enabled(): boolean {
    return this.extra?._meta?.progressToken !== undefined;
  }

  /**
   * Reports `progress` (out of `total` when known). Values that do not increase are nudged up so
   * the sequence stays monotonic; `force` bypasses the rate limit (stage changes, final values).
   */
  report(message: string, progress?: number, total?: number, force = false): void {
    const token = this.extra?._meta?.progressToken;
    if (token === undefined || !this.extra) return;
    const now = this.now();
    if (!force && now - this.lastSentAt < this.minIntervalMs) return;
    if (!force && message === this.lastMessage && (progress === undefined || progress <= this.last)) return;
    let value = progress ?? this.last + 1;
    if (value <= this.last) value = this.last + 0.001;
    this.last = value;
    this.lastSentAt = now;
    this.lastMessage = message;
    const params: { progressToken: string | number; progress: number; total?: number; message: string } = {
      progressToken: token,
      progress: Number(value.toFixed(3)),
      message,
    };
    if (total !== undefined && total >= value) params.total = total;
    this.extra.sendNotification({ method: "notifications/progress", params }).catch(() => {});
  }
}
