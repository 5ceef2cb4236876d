/** What the demo prints about results: uploaded files, export progress, the timeline and the closing summary. */
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import type { Sandbox } from "../sandbox/index.js";
import type { StateResult, UploadResult } from "./mcp.js";
import { formatBytes, formatClock, type ProgressBar, type Terminal } from "./terminal.js";

/** "Uploaded sample.mp4 (video, 0:06, 640x360)" */
export function describeFile(f: UploadResult["files"][number]): string {
  const parts: string[] = [f.type];
  if (f.duration_ms !== undefined) parts.push(formatClock(f.duration_ms));
  if (f.width !== undefined && f.height !== undefined) parts.push(`${f.width}x${f.height}`);
  return `Uploaded ${f.name} (${parts.join(", ")})`;
}

/** Export progress arrives as render percent on 0–100, then download on 100–200. */
export function showExportProgress(bar: ProgressBar, p: Progress): void {
  const message = p.message ?? "";
  if (message.startsWith("Downloading")) {
    bar.update("download", (p.progress - 100) / 100, message);
  } else {
    bar.update("render", p.progress / 100, message.replace(/\s*\d+%$/, "") || "Rendering");
  }
}

/** The summary line, then one line per track with its segments. */
export function printTimeline(term: Terminal, state: StateResult): void {
  term.paragraph(state.summary);
  const width = Math.max(0, ...state.tracks.map((t) => t.name.length));
  for (const track of state.tracks) {
    const segments = track.segments
      .map((s) => {
        const volume = s.volume !== undefined && s.volume !== 1 ? `, ${Math.round(s.volume * 100)}%` : "";
        return `${s.label || "(unnamed)"} ${formatClock(s.start_ms)}–${formatClock(s.end_ms)}${volume}`;
      })
      .join("; ");
    term.info(`  ${track.index}. ${track.kind.padEnd(5)}  ${track.name.padEnd(width)}  ${segments}`);
  }
}

/** What the demo made and spent, for its closing summary. */
export interface Summary {
  file: string;
  size: number;
  /** The file starts like an H.264 MP4 (ftyp box, avc1 sample entry). */
  h264: boolean;
  /** How the sandbox made the file. */
  renders: Sandbox["renders"];
  before: number;
  after: number;
  activity: string[];
  projectUrl: string | undefined;
  seconds: number;
}

/** The closing summary: the video, how the sandbox made it, the credits spent, the project link. */
export function printSummary(term: Terminal, s: Summary): void {
  const spentOn = s.activity.length ? ` on ${s.activity.join(", ")}` : "";
  term.line(term.paint("green", term.paint("bold", `Done in ${s.seconds.toFixed(1)} s.`)));
  const rows: Array<[string, string]> = [
    ["Video", `${s.file} (${formatBytes(s.size)}${s.h264 ? ", H.264 MP4" : ""})`],
    [
      "",
      s.renders === "timeline"
        ? "a sandbox stand-in drawn from the timeline, not NemoVideo's render"
        : "the sandbox's stand-in clip: it does not show the edit",
    ],
    [
      "Credits",
      `${s.before} → ${s.after} (spent ${s.before - s.after}${spentOn}; the export itself is free)`,
    ],
  ];
  if (s.projectUrl) rows.push(["Project", `${s.projectUrl} (sandbox link)`]);
  for (const [label, value] of rows) term.info(`${term.paint("bold", label.padEnd(8))} ${value}`);
}
