import type { SandboxState } from "./state.js";

/** Settings of a sandbox; every field has a default suited to the demo. */
export interface SandboxOptions {
  /** Interface to listen on; default "127.0.0.1". */
  host?: string;
  /** Port; default 0 (a free port). */
  port?: number;
  /** Credits of each new anonymous account; default 100. */
  credits?: number;
  /** Pause between SSE events of the default scripted turns; default 120 (tests pass 0..5). */
  stepMs?: number;
  /** Interval of heartbeats during long default turns; default 1000. */
  heartbeatMs?: number;
  /** Status polls until a render completes; default 3. */
  renderSteps?: number;
  /** Largest accepted upload per file; default 500 MiB (code 4002 beyond). */
  maxUploadBytes?: number;
  /** When set, rendered files are this many synthetic bytes (streamed) instead of the sample MP4. */
  renderOutputBytes?: number;
  /** MP4 served as render output; default: fixtures/sample.mp4 found upward from this module. */
  sampleVideo?: string;
  /**
   * Draw each render from its timeline with ffmpeg (`NEMO_FFMPEG` or PATH): the sample as footage, title
   * texts, tones for voiceover and music, the timeline's duration. Without ffmpeg, or off (the default,
   * fast for tests), every render is the sample clip.
   */
  timelineRenders?: boolean;
  /** Lifetime of anonymous tokens; default 7 days. */
  tokenTtlMs?: number;
  /** Receives one line per request and notable events; nothing is printed otherwise. */
  log?: (line: string) => void;
}

/** One request as the sandbox received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed body, for JSON bodies only. */
  body?: unknown;
  /** `Date.now()` on arrival. */
  at: number;
}

/** Names of the routes faults can target. */
export type EndpointName =
  | "token"
  | "session"
  | "claim"
  | "run_sse"
  | "upload"
  | "credits"
  | "state"
  | "render_submit"
  | "render_status"
  | "render_cancel"
  | "download";

/** What an injected fault does to the request it matches. */
export type FaultKind =
  /** JSON envelope `{"code":N,"message":...}` with HTTP `status` (default 200). */
  | { type: "code"; code: number; status?: number; message?: string }
  /** Plain HTTP error; the body defaults to the reason phrase as text/plain; `headers` are added (Retry-After). */
  | { type: "http"; status: number; body?: string; headers?: Record<string, string> }
  /** Destroy the socket without a response. */
  | { type: "reset" }
  /** Wait, then handle normally. */
  | { type: "delay"; ms: number }
  /** HTTP 200 whose body is not JSON. */
  | { type: "malformed" }
  /** HTTP 200, full Content-Length announced, half the real body sent, then the socket destroyed. */
  | { type: "truncated" };

/** A fault queued with `Sandbox.inject`. */
export interface Fault {
  endpoint: EndpointName | "*";
  /** How many matching requests it affects; default 1. */
  times?: number;
  kind: FaultKind;
}

/** One step of a scripted `/run_sse` turn. */
export type TurnStep =
  /** One `data: <JSON.stringify(value)>\n\n` event. */
  | { data: unknown }
  /** Written verbatim (CRLF, split chunks, comments, empty data lines, non-JSON). */
  | { raw: string }
  /** `data: {"type":"heartbeat"}\n\n`. */
  | { heartbeat: true }
  /** `: <comment>\n\n`. */
  | { comment: string }
  /** Pause this many ms. */
  | { wait: number }
  /** Replace the session's draft while the turn runs. */
  | { setDraft: unknown }
  /** Spend credits from the caller's account. */
  | { spend: number }
  /** Destroy the socket abruptly; later steps still run, silently. */
  | { cut: true }
  /** Stop writing but keep the connection open until the client goes away; later steps still run, silently. */
  | { hang: true };

/** A turn played by the next `/run_sse` call instead of the keyword-chosen default. */
export interface TurnScript {
  steps: TurnStep[];
}

/** A running fake NemoVideo backend. */
export interface Sandbox {
  /** Base URL, e.g. "http://127.0.0.1:PORT". */
  readonly url: string;
  readonly port: number;
  /** "timeline": renders drawn from their timelines by ffmpeg; "stand-in": every render is the same clip. */
  readonly renders: "timeline" | "stand-in";
  /** Every request in arrival order. */
  readonly requests: RecordedRequest[];
  /** Queues a fault; faults match in order and are consumed `times` times. */
  inject(fault: Fault): void;
  /** Drops every queued fault. */
  clearFaults(): void;
  /** The next `/run_sse` call that reaches a session plays this script (scripts queue up). */
  scriptTurn(script: TurnScript): void;
  /** Accounts, tokens, sessions and renders, with knobs for tests. */
  readonly state: SandboxState;
  /** Closes the server and every open socket, hung streams included, and stops running turns. */
  close(): Promise<void>;
}
