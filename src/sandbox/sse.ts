import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { drained, dropAfterFlush, writable } from "./http.js";
import type { TurnStep } from "./types.js";

/** A step of a turn as the player runs it: the public steps plus the sandbox's own. */
export type PlayStep =
  | TurnStep
  /** An event whose value is built when it is written (so timestamps are current). */
  | { event: () => unknown }
  /** Work on the backend side, such as applying a draft change. */
  | { run: () => void };

const HEARTBEAT = 'data: {"type":"heartbeat"}\n\n';

/** Writes SSE text to a response; once the client is gone, cut or hung, writes are dropped silently. */
class SseWriter {
  private silent = false;

  constructor(private readonly res: ServerResponse) {}

  get open(): boolean {
    return !this.silent && writable(this.res);
  }

  async write(text: string): Promise<void> {
    if (!this.open) return;
    if (!this.res.write(text)) await drained(this.res);
  }

  /** Writes when the socket has room, never waiting (for interval heartbeats). */
  writeIfIdle(text: string): void {
    if (this.open && !this.res.writableNeedDrain) this.res.write(text);
  }

  async cut(): Promise<void> {
    this.silent = true;
    await dropAfterFlush(this.res.socket);
  }

  hang(): void {
    this.silent = true;
  }

  /** Ends the response unless the turn hung (a hung stream stays open until the client leaves). */
  end(hung: boolean): void {
    if (!hung && writable(this.res)) this.res.end();
  }
}

interface PlayOptions {
  /** Aborted when the sandbox closes: the turn stops where it is. */
  signal: AbortSignal;
  /** When > 0, a heartbeat is written this often while the turn runs (long default turns). */
  heartbeatMs?: number;
  /** Runs each `spend` step. */
  spend: (credits: number) => void;
  /** Runs each `setDraft` step. */
  setDraft: (draft: unknown) => void;
}

/** SSE response headers; sent before the first step so clients see the stream open at once. */
export function openStream(res: ServerResponse): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.socket?.setNoDelay(true);
  res.flushHeaders();
}

/** One `data:` event. */
function dataEvent(value: unknown): string {
  return `data: ${JSON.stringify(value) ?? "null"}\n\n`;
}

/**
 * Plays a turn to the end, whether or not the client is still listening: the real backend finishes the work
 * of a dropped stream, and clients' recovery polling relies on it. Returns false if the sandbox closed first.
 */
export async function playTurn(
  res: ServerResponse,
  steps: PlayStep[],
  options: PlayOptions,
): Promise<boolean> {
  const writer = new SseWriter(res);
  let hung = false;
  let beat = 0;
  const interval =
    options.heartbeatMs && options.heartbeatMs > 0
      ? setInterval(() => {
          beat += 1;
          writer.writeIfIdle(beat % 2 === 0 ? ": ping\n\n" : HEARTBEAT);
        }, options.heartbeatMs)
      : undefined;
  try {
    for (const step of steps) {
      if (options.signal.aborted) return false;
      if ("data" in step) await writer.write(dataEvent(step.data));
      else if ("event" in step) await writer.write(dataEvent(step.event()));
      else if ("raw" in step) await writer.write(step.raw);
      else if ("heartbeat" in step) await writer.write(HEARTBEAT);
      else if ("comment" in step) await writer.write(`: ${step.comment}\n\n`);
      else if ("wait" in step) {
        if (step.wait > 0) await sleep(step.wait, undefined, { signal: options.signal });
      } else if ("setDraft" in step) options.setDraft(step.setDraft);
      else if ("spend" in step) options.spend(step.spend);
      else if ("run" in step) step.run();
      else if ("cut" in step) await writer.cut();
      else if ("hang" in step) {
        hung = true;
        writer.hang();
      }
    }
    writer.end(hung);
    return true;
  } catch (error) {
    // an aborted wait means the sandbox is closing and destroys the sockets itself
    if (options.signal.aborted) return false;
    throw error;
  } finally {
    if (interval) clearInterval(interval);
  }
}

/** A `truncated` fault on `/run_sse`: the stream drops after its first event while the turn goes on. */
export function cutAfterFirstEvent(steps: PlayStep[]): PlayStep[] {
  const first = steps.findIndex(
    (s) => "data" in s || "event" in s || "raw" in s || "heartbeat" in s || "comment" in s,
  );
  const at = first < 0 ? 0 : first + 1;
  return [...steps.slice(0, at), { cut: true }, ...steps.slice(at)];
}
