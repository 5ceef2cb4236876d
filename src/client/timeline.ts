/**
 * The backend's draft (`state.draft`: `t` tracks, `tt` track type, `sg` segments, `d` duration ms, `m` metadata)
 * as a typed Timeline, and the Timeline to and from the JSON shape faces expose and turn records keep. Its words
 * (summary line, diff) are in `timeline-diff.ts`.
 *
 * The segment shape is inferred (see the API contract), so parsing is tolerant: numeric strings, a few aliases,
 * missing fields and garbage are accepted, and nothing here throws.
 */

/** What a track holds, from its `tt` type (0 video, 1 audio, 7 text). */
export type TrackKind = "video" | "audio" | "text" | "other";

/** One clip, sound or text on a track, in milliseconds of the timeline. */
export interface Segment {
  id?: string;
  startMs: number;
  endMs: number;
  /** Text for text tracks, else the clip name or source file name; "" when unknown. */
  label: string;
  /** 0..1; absent means full volume. */
  volume?: number;
}

/** One track of the draft, its segments in start order. */
export interface Track {
  /** 1-based position in the draft. */
  index: number;
  kind: TrackKind;
  /** Raw `tt` value; -1 when the draft gave none. */
  type: number;
  name: string;
  segments: Segment[];
}

/** The draft as this program reads it: tracks, duration, and whether it can be rendered. */
export interface Timeline {
  tracks: Track[];
  durationMs: number;
  /** True when some track has at least one segment: the backend refuses to render an empty draft. */
  exportable: boolean;
}

/** The JSON shape of a timeline as faces expose it (snake_case, as in the public contract). */
export interface TimelineJSON {
  exportable: boolean;
  duration_ms: number;
  tracks: Array<{
    index: number;
    kind: TrackKind;
    name: string;
    segments: Array<{ start_ms: number; end_ms: number; label: string; volume?: number }>;
  }>;
}

type Rec = Record<string, unknown>;

const KIND_BY_TYPE: Readonly<Record<number, TrackKind>> = { 0: "video", 1: "audio", 7: "text" };
const TYPE_BY_KIND: Readonly<Record<string, number>> = { video: 0, audio: 1, text: 7 };

function asRecord(value: unknown): Rec | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Rec) : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function firstDefined(...values: unknown[]): unknown {
  return values.find((v) => v !== undefined && v !== null);
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function toText(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value !== "string") return undefined;
  const text = value.replace(/\s+/g, " ").trim();
  return text === "" ? undefined : text;
}

/** `https://cdn/x/My%20clip.mp4?sig=1` → `My clip.mp4`. */
function fileName(src: string | undefined): string | undefined {
  if (src === undefined) return undefined;
  const path = src.split(/[?#]/, 1)[0] ?? "";
  const last = path.split(/[/\\]/).pop() ?? "";
  try {
    return toText(decodeURIComponent(last));
  } catch {
    return toText(last);
  }
}

function trackType(raw: unknown): { kind: TrackKind; type: number } {
  const n = toNumber(raw);
  if (n !== undefined) return { kind: KIND_BY_TYPE[n] ?? "other", type: n };
  const word = typeof raw === "string" ? raw.trim().toLowerCase() : "";
  const known = TYPE_BY_KIND[word];
  if (known !== undefined) return { kind: word as TrackKind, type: known };
  return { kind: "other", type: -1 };
}

function parseSegment(raw: unknown, kind: TrackKind): Segment | undefined {
  const rec = asRecord(raw);
  if (!rec) return undefined;
  const meta = asRecord(rec.m) ?? asRecord(rec.meta) ?? {};
  const start = toNumber(firstDefined(rec.st, rec.start, rec.start_ms));
  const duration = toNumber(firstDefined(rec.d, rec.duration, rec.duration_ms));
  const end = toNumber(firstDefined(rec.end, rec.et, rec.end_ms));
  if (duration === undefined && end === undefined) return undefined;
  const startMs = clampMs(start ?? 0);
  const endMs = clampMs(
    duration !== undefined ? startMs + Math.max(0, duration) : Math.max(startMs, end ?? startMs),
  );

  const name = toText(firstDefined(meta.name, rec.name));
  const text = toText(firstDefined(meta.text, rec.text));
  const src = fileName(toText(firstDefined(meta.src, rec.src, meta.url)));
  const label = (kind === "text" ? (text ?? name ?? src) : (name ?? src)) ?? "";

  const segment: Segment = { startMs, endMs, label };
  const id = toText(rec.id);
  if (id !== undefined) segment.id = id;
  const volume = toNumber(firstDefined(meta.volume, rec.volume));
  if (volume !== undefined) segment.volume = Math.min(1, Math.max(0, volume));
  return segment;
}

function defaultTrackName(kind: TrackKind, segments: Segment[]): string {
  switch (kind) {
    case "video":
      return "Video";
    case "audio":
      return segments.some((s) => s.volume !== undefined && s.volume < 1) ? "BGM" : "Audio";
    case "text":
      return "Title";
    default:
      return "Track";
  }
}

function parseTrack(raw: unknown, index: number): Track {
  const rec = asRecord(raw) ?? {};
  const meta = asRecord(rec.m) ?? asRecord(rec.meta) ?? {};
  const { kind, type } = trackType(firstDefined(rec.tt, rec.type, rec.kind));
  const segments = asArray(firstDefined(rec.sg, rec.segments))
    .map((s) => parseSegment(s, kind))
    .filter((s): s is Segment => s !== undefined)
    .sort((a, b) => a.startMs - b.startMs);
  const name = toText(firstDefined(meta.name, rec.name)) ?? defaultTrackName(kind, segments);
  return { index, kind, type, name, segments };
}

/** Finds the draft object in a draft, its JSON text, or a state object that wraps it. */
function findDraft(value: unknown, depth = 0): Rec | undefined {
  let candidate = value;
  if (typeof candidate === "string") {
    try {
      candidate = JSON.parse(candidate);
    } catch {
      return undefined;
    }
  }
  const rec = asRecord(candidate);
  if (!rec) return undefined;
  if (Array.isArray(rec.t) || Array.isArray(rec.tracks)) return rec;
  if (depth >= 3) return rec;
  return findDraft(firstDefined(rec.draft, rec.state, rec.data), depth + 1) ?? rec;
}

/** Times are kept finite and non-negative whatever the draft says. */
function clampMs(ms: number): number {
  return Math.min(Math.max(0, ms), Number.MAX_SAFE_INTEGER);
}

/** Parses the backend draft into a Timeline; never throws (null or garbage gives an empty timeline). */
export function parseDraft(draft: unknown): Timeline {
  const root = findDraft(draft) ?? {};
  const tracks = asArray(firstDefined(root.t, root.tracks))
    .filter((t) => asRecord(t) !== undefined)
    .map((t, i) => parseTrack(t, i + 1));
  const declared = toNumber(firstDefined(root.d, root.duration));
  let lastEnd = 0;
  for (const track of tracks)
    for (const segment of track.segments) lastEnd = Math.max(lastEnd, segment.endMs);
  return {
    tracks,
    durationMs: declared !== undefined && declared > 0 ? clampMs(declared) : lastEnd,
    exportable: tracks.some((t) => t.segments.length > 0),
  };
}

/** The timeline in the snake_case JSON shape faces expose (volume only when set). */
export function timelineToJSON(t: Timeline): TimelineJSON {
  const tracks = t.tracks.map(({ index, kind, name, segments }) => ({
    index,
    kind,
    name,
    segments: segments.map(segmentToJSON),
  }));
  return { exportable: t.exportable, duration_ms: t.durationMs, tracks };
}

/** Rebuilds a Timeline from its JSON shape (the inverse of `timelineToJSON`; the raw type follows the kind). */
export function timelineFromJSON(json: TimelineJSON): Timeline {
  const tracks = json.tracks.map(({ index, kind, name, segments }) => ({
    index,
    kind,
    name,
    type: TYPE_BY_KIND[kind] ?? -1,
    segments: segments.map(segmentFromJSON),
  }));
  return { exportable: json.exportable, durationMs: json.duration_ms, tracks };
}

type SegmentJSON = TimelineJSON["tracks"][number]["segments"][number];

function segmentToJSON({ startMs, endMs, label, volume }: Segment): SegmentJSON {
  return { start_ms: startMs, end_ms: endMs, label, ...(volume !== undefined ? { volume } : {}) };
}

function segmentFromJSON({ start_ms, end_ms, label, volume }: SegmentJSON): Segment {
  return { startMs: start_ms, endMs: end_ms, label, ...(volume !== undefined ? { volume } : {}) };
}
