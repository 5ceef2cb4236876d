import type { App } from "@modelcontextprotocol/ext-apps";
import { formatBytes, formatClock } from "./format.js";
import { el, setStatus, showText, startView } from "./host.js";

/** The structuredContent of export_video / get_export that the player reads. */
interface ExportData {
  status: "completed" | "rendering" | "failed" | "cancelled";
  render_id: string;
  percent?: number;
  url?: string;
  file?: string;
  bytes?: number;
  project_url?: string;
  error?: { message?: string; next_step?: string };
}

/** Seconds each get_export call waits while a render runs: short, so the bar moves. */
const FOLLOW_WAIT_SECONDS = 2;
/** At most this many get_export calls follow one render (about half an hour). */
const MAX_FOLLOW_CALLS = 900;
/** Failed get_export calls in a row after which the view stops following. */
const MAX_FOLLOW_FAILURES = 5;
/** Fresh links asked for before giving up on playback. */
const MAX_LINK_RETRIES = 2;

let app: App | undefined;
let current: ExportData | undefined;
let following: string | undefined;
let linkRetries = 0;
let stopped = false;

function asExport(value: unknown): ExportData | undefined {
  const data = value as Partial<ExportData> | undefined;
  return data && typeof data.render_id === "string" && typeof data.status === "string"
    ? (data as ExportData)
    : undefined;
}

function titleOf(data: ExportData): string {
  const name = data.file?.split(/[\\/]/).pop();
  return name || `nemovideo-${data.render_id}.mp4`;
}

async function getExport(renderId: string, waitSeconds: number): Promise<ExportData | undefined> {
  if (!app) return undefined;
  const result = await app.callServerTool({
    name: "get_export",
    arguments: { render_id: renderId, wait_seconds: waitSeconds },
  });
  return asExport(result.structuredContent);
}

/** Calls get_export through the host until the render finishes, updating the bar after each call. */
async function follow(renderId: string): Promise<void> {
  if (following === renderId) return;
  following = renderId;
  let failures = 0;
  try {
    for (let i = 0; i < MAX_FOLLOW_CALLS && !stopped && current?.render_id === renderId; i += 1) {
      const started = Date.now();
      const next = await getExport(renderId, FOLLOW_WAIT_SECONDS).catch(() => undefined);
      failures = next ? 0 : failures + 1;
      if (failures >= MAX_FOLLOW_FAILURES) {
        setStatus(`Lost track of the render; call get_export with render_id "${renderId}".`, "error");
        return;
      }
      if (next && current?.render_id === renderId) show(next);
      if (current?.status !== "rendering") return;
      // A call that came back at once (an error, a host without waits) must not spin.
      const elapsed = Date.now() - started;
      if (elapsed < 1000) await new Promise((r) => setTimeout(r, 1000 - elapsed));
    }
  } finally {
    if (following === renderId) following = undefined;
  }
}

/** The link did not play: ask get_export for a fresh one, a bounded number of times. */
async function refreshLink(video: HTMLVideoElement, data: ExportData): Promise<void> {
  if (linkRetries >= MAX_LINK_RETRIES) {
    setStatus("The video cannot be played here. Use the download link, or call get_export again.", "error");
    return;
  }
  linkRetries += 1;
  setStatus("The link did not play; asking get_export for a fresh one…");
  const fresh = await getExport(data.render_id, 0).catch(() => undefined);
  if (!fresh?.url) {
    setStatus("No fresh link yet. Call get_export again later.", "error");
    return;
  }
  current = { ...data, ...fresh };
  video.src = fresh.url;
  video.load();
  const link = document.querySelector<HTMLAnchorElement>("a.download");
  if (link) link.href = fresh.url;
}

function openLink(anchor: HTMLAnchorElement): void {
  anchor.addEventListener("click", (event) => {
    if (!app?.getHostCapabilities()?.openLinks) return;
    event.preventDefault();
    void app.openLink({ url: anchor.href });
  });
}

function renderProgress(root: HTMLElement, data: ExportData): void {
  const percent = Math.max(0, Math.min(100, Math.round(data.percent ?? 0)));
  root.append(el("h1", "title", "Rendering your video…"));
  const bar = el("div", "progress");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  bar.setAttribute("aria-valuenow", String(percent));
  const fill = el("div", "progress-fill");
  fill.style.width = `${percent}%`;
  bar.append(fill);
  root.append(bar, el("p", "meta", `Rendering ${percent}% · render ${data.render_id}`));
  setStatus("Export is free; this view follows the render through get_export.");
}

function renderVideo(root: HTMLElement, data: ExportData): void {
  const url = data.url ?? "";
  root.append(el("h1", "title", titleOf(data)));
  const video = el("video", "player-video");
  video.controls = true;
  video.preload = "metadata";
  video.playsInline = true;
  video.setAttribute("aria-label", titleOf(data));
  const meta = el("p", "meta");
  const size = data.bytes !== undefined ? formatBytes(data.bytes) : "";
  meta.textContent = size;
  video.addEventListener("loadedmetadata", () => {
    linkRetries = 0;
    const parts = [formatClock(video.duration * 1000)];
    if (video.videoWidth > 0) parts.push(`${video.videoWidth}×${video.videoHeight}`);
    if (size) parts.push(size);
    meta.textContent = parts.join(" · ");
    root.dataset.ready = "true";
    setStatus("");
  });
  video.addEventListener("error", () => {
    if (current) void refreshLink(video, current);
  });
  const actions = el("p", "actions");
  const download = el("a", "download button", "Download MP4");
  download.href = url;
  download.download = titleOf(data);
  download.target = "_blank";
  download.rel = "noopener";
  openLink(download);
  actions.append(download);
  if (data.project_url) {
    const project = el("a", "project", "Open in NemoVideo");
    project.href = data.project_url;
    project.target = "_blank";
    project.rel = "noopener";
    openLink(project);
    actions.append(project);
  }
  root.append(video, meta, actions);
  if (url) video.src = url;
  else setStatus("The export finished without a link; call get_export for one.", "error");
}

function renderFailure(root: HTMLElement, data: ExportData): void {
  root.append(el("h1", "title", data.status === "cancelled" ? "Export cancelled" : "Export failed"));
  const text = [data.error?.message, data.error?.next_step].filter(Boolean).join(" ");
  root.append(el("p", "meta", text || `Render ${data.render_id} did not finish.`));
  setStatus("", "error");
}

/** Draws the player for one export result. */
function show(data: ExportData): void {
  const root = document.getElementById("root");
  if (!root) return;
  const same = current?.render_id === data.render_id;
  const wasCompleted = same && current?.status === "completed" && root.dataset.status === "completed";
  current = data;
  // A completed export already on screen keeps its video element (and its playback position).
  if (wasCompleted && data.status === "completed") return;
  root.replaceChildren();
  root.dataset.status = data.status;
  delete root.dataset.ready;
  if (!same) linkRetries = 0;
  if (data.status === "rendering") {
    renderProgress(root, data);
    void follow(data.render_id);
  } else if (data.status === "completed") renderVideo(root, data);
  else renderFailure(root, data);
}

setStatus("Waiting for the export…");
void startView("NemoVideo player", (a) => {
  app = a;
  a.ontoolresult = (result) => {
    const data = asExport(result.structuredContent);
    if (data) show(data);
    else showText(result.content, "This result holds no export to show.");
  };
  a.ontoolcancelled = () =>
    setStatus("The export call was cancelled; get_export picks the render up.", "error");
  a.onteardown = () => {
    stopped = true;
    return {};
  };
}).catch(() => setStatus("Could not connect to the host.", "error"));
