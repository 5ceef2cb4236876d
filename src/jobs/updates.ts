import type { TurnUpdate } from "../client/turns.js";

/** A turn update in words, for MCP progress, MCP task status and the CLI's progress line alike. */
interface UpdateLine {
  /** The update's type; a face may key its progress stages on it. */
  kind: TurnUpdate["type"];
  text: string;
  /** Frequent and minor (reply chunks): a face may rate-limit it. */
  minor: boolean;
}

/** What a turn update tells a person, or undefined when it tells nothing by itself (heartbeats, events). */
export function describeTurnUpdate(u: TurnUpdate): UpdateLine | undefined {
  const line = (text: string, minor = false): UpdateLine => ({ kind: u.type, text, minor });
  switch (u.type) {
    case "started":
      return line("NemoVideo is working on your message…");
    case "tool_call":
      return line(`Backend is running ${u.name}`);
    case "text":
      return line("Backend is replying…", true);
    case "recovering":
      return line(`Connection dropped; checking the timeline (${u.attempt}/${u.max})…`);
    case "stalled":
      return line("The backend stopped making progress.");
    default:
      return undefined;
  }
}
