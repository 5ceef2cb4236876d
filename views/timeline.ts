import type { App } from "@modelcontextprotocol/ext-apps";
import { barBox, formatClock, rulerTicks } from "./format.js";
import { el, setStatus, showText, startView } from "./host.js";

/** The structuredContent of get_state that the timeline reads. */
interface StateData {
  session_id: string;
  exportable: boolean;
  duration_ms: number;
  tracks: Array<{
    index: number;
    kind: "video" | "audio" | "text" | "other";
    name: string;
    segments: Array<{ start_ms: number; end_ms: number; label: string }>;
  }>;
  summary: string;
}

let app: App | undefined;
let current: StateData | undefined;

function asState(value: unknown): StateData | undefined {
  const data = value as Partial<StateData> | undefined;
  return data && Array.isArray(data.tracks) && typeof data.duration_ms === "number"
    ? (data as StateData)
    : undefined;
}

function ruler(duration: number): HTMLElement {
  const row = el("div", "lane-row ruler");
  row.append(el("div", "lane-name"));
  const scale = el("div", "lane scale");
  for (const tick of rulerTicks(duration)) {
    // The last mark sits at the right edge: its label extends to the left.
    const mark = el("span", tick > 0 && tick >= duration * 0.9 ? "tick end" : "tick", formatClock(tick));
    mark.style.left = `${duration > 0 ? (tick / duration) * 100 : 0}%`;
    scale.append(mark);
  }
  row.append(scale);
  return row;
}

/** Draws one lane per track with its segments as labelled bars to scale. */
function show(data: StateData): void {
  current = data;
  const root = document.getElementById("root");
  if (!root) return;
  root.replaceChildren();
  const head = el("header", "head");
  head.append(el("h1", "title", "Timeline"));
  head.append(
    el(
      "span",
      "meta",
      `${formatClock(data.duration_ms)} · ${data.tracks.length} track${data.tracks.length === 1 ? "" : "s"}${data.exportable ? " · ready to export" : ""}`,
    ),
  );
  const refresh = el("button", "refresh", "Refresh");
  refresh.type = "button";
  refresh.addEventListener("click", () => void reload());
  head.append(refresh);
  root.append(head);

  const lanes = el("div", "lanes");
  lanes.setAttribute("role", "list");
  if (data.tracks.length > 0) lanes.append(ruler(data.duration_ms));
  for (const track of data.tracks) {
    const row = el("div", `lane-row track ${track.kind}`);
    row.setAttribute("role", "listitem");
    row.dataset.kind = track.kind;
    row.append(el("div", "lane-name", track.name || track.kind));
    const lane = el("div", "lane");
    for (const segment of track.segments) {
      const box = barBox(segment.start_ms, segment.end_ms, data.duration_ms);
      const bar = el("div", "bar", segment.label);
      bar.style.left = `${box.left}%`;
      bar.style.width = `${box.width}%`;
      bar.title = `${segment.label} (${formatClock(segment.start_ms)}–${formatClock(segment.end_ms)})`;
      lane.append(bar);
    }
    row.append(lane);
    lanes.append(row);
  }
  root.append(lanes);
  // The summary line stays as text: what a reader without the drawing needs.
  root.append(el("p", "summary", data.summary || "The timeline is empty."));
  setStatus("");
}

async function reload(): Promise<void> {
  if (!app || !current) return;
  setStatus("Reading the timeline…");
  try {
    const result = await app.callServerTool({
      name: "get_state",
      arguments: { session_id: current.session_id },
    });
    const data = asState(result.structuredContent);
    if (data) show(data);
    else setStatus("Could not read the timeline; try get_state again.", "error");
  } catch {
    setStatus("Could not read the timeline; try get_state again.", "error");
  }
}

setStatus("Waiting for the timeline…");
void startView("NemoVideo timeline", (a) => {
  app = a;
  a.ontoolresult = (result) => {
    const data = asState(result.structuredContent);
    if (data) show(data);
    else showText(result.content, "This result holds no timeline to show.");
  };
}).catch(() => setStatus("Could not connect to the host.", "error"));
