/**
 * The backend's draft (`state.draft`: `t` tracks, `tt` track type, `sg` segments, `d` duration ms, `m` metadata)
 * as a typed Timeline, its one-line summary, and a plain-words diff of two timelines.
 *
 * The segment shape is inferred (see the API contract), so parsing is tolerant: numeric strings, a few aliases,
 * missing fields and garbage are accepted, and nothing here throws.
 */

export type TrackKind = "video" | "audio" | "text" | "other";

export interface Segment {
  id?: string;
  startMs: number;
  endMs: number;
  /** Text for text tracks, else the clip name or source file name; "" when unknown. */
  label: string;
  /** 0..1; absent means full volume. */
  volume?: number;
}

export interface Track {
  /** 1-based position in the draft. */
  index: number;
  kind: TrackKind;
  /** Raw `tt` value; -1 when the draft gave none. */
  type: number;
  name: string;
  segments: Segment[];
}

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
/** Beyond this many lines for one track, the diff says "…and N more". */
const MAX_LINES_PER_TRACK = 8;
/** Segments listed when a whole track is added. */
const MAX_SEGMENTS_LISTED = 3;

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

/** Milliseconds as seconds rounded to 0.1 without trailing zeros: 10000 → "10", 1500 → "1.5". */
function seconds(ms: number): string {
  const tenths = Math.round(ms / 100);
  return String(tenths / 10 + 0);
}

function range(s: Segment): string {
  return `${seconds(s.startMs)}-${seconds(s.endMs)}s`;
}

function percent(volume: number | undefined): string {
  return `${Math.round((volume ?? 1) * 100)}%`;
}

function summarizeSegment(s: Segment, kind: TrackKind): string {
  const details = [range(s)];
  if (s.volume !== undefined && s.volume < 1) details.push(percent(s.volume));
  const label = kind === "text" && s.label !== "" ? `"${s.label}"` : s.label;
  return `${label === "" ? "" : `${label} `}(${details.join(", ")})`;
}

function summarizeTrack(t: Track): string {
  const body =
    t.segments.length === 0 ? "(empty)" : t.segments.map((s) => summarizeSegment(s, t.kind)).join(", ");
  return `${t.index}. ${t.name}: ${body}`;
}

/**
 * The one-line summary, e.g.
 * `Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)`.
 */
export function summarizeTimeline(t: Timeline): string {
  const n = t.tracks.length;
  const head = `Timeline (${n} ${n === 1 ? "track" : "tracks"}):`;
  return n === 0 ? `${head} empty` : `${head} ${t.tracks.map(summarizeTrack).join(" ")}`;
}

/** The timeline in the snake_case JSON shape faces expose (volume only when set). */
export function timelineToJSON(t: Timeline): TimelineJSON {
  return {
    exportable: t.exportable,
    duration_ms: t.durationMs,
    tracks: t.tracks.map((track) => ({
      index: track.index,
      kind: track.kind,
      name: track.name,
      segments: track.segments.map((s) => ({
        start_ms: s.startMs,
        end_ms: s.endMs,
        label: s.label,
        ...(s.volume !== undefined ? { volume: s.volume } : {}),
      })),
    })),
  };
}

type Matcher<T> = (before: T, beforeIndex: number, after: T, afterIndex: number) => boolean;

/** Pairs items of two lists, pass by pass (earlier passes win); leftovers are removed/added. */
function pairUp<T>(
  before: readonly T[],
  after: readonly T[],
  passes: ReadonlyArray<Matcher<T>>,
): { pairs: Array<[number, number]>; removed: number[]; added: number[] } {
  const beforeTaken = new Set<number>();
  const afterToBefore = new Map<number, number>();
  for (const matches of passes) {
    after.forEach((a, ai) => {
      if (afterToBefore.has(ai)) return;
      const bi = before.findIndex((b, i) => !beforeTaken.has(i) && matches(b, i, a, ai));
      if (bi === -1) return;
      beforeTaken.add(bi);
      afterToBefore.set(ai, bi);
    });
  }
  const pairs: Array<[number, number]> = [];
  const added: number[] = [];
  after.forEach((_, ai) => {
    const bi = afterToBefore.get(ai);
    if (bi === undefined) added.push(ai);
    else pairs.push([bi, ai]);
  });
  const removed = before.map((_, bi) => bi).filter((bi) => !beforeTaken.has(bi));
  return { pairs, removed, added };
}

const TRACK_PASSES: ReadonlyArray<Matcher<Track>> = [
  (b, _bi, a) => b.index === a.index && b.kind === a.kind && b.name === a.name,
  (b, _bi, a) => b.kind === a.kind && b.name === a.name,
  (b, _bi, a) => b.index === a.index && b.kind === a.kind,
];

// Segments with an id match only by id; the others by position, preferring an unchanged label.
const SEGMENT_PASSES: ReadonlyArray<Matcher<Segment>> = [
  (b, _bi, a) => a.id !== undefined && b.id === a.id,
  (b, bi, a, ai) => a.id === undefined && b.id === undefined && bi === ai && b.label === a.label,
  (b, _bi, a) => a.id === undefined && b.id === undefined && b.label === a.label && a.label !== "",
  (b, bi, a, ai) => a.id === undefined && b.id === undefined && bi === ai,
];

function quoted(s: Segment): string {
  return s.label === "" ? "a segment" : `"${s.label}"`;
}

function trackRef(t: Track): string {
  return `track ${t.index} (${t.name})`;
}

function trackNoun(t: Track): string {
  return t.kind === "other" ? "track" : `${t.kind} track`;
}

function describeAddedTrack(t: Track): string {
  if (t.segments.length === 0) return `Added empty ${trackNoun(t)} "${t.name}"`;
  const listed = t.segments.slice(0, MAX_SEGMENTS_LISTED).map((s) => `${quoted(s)} (${range(s)})`);
  const more = t.segments.length - listed.length;
  return `Added ${trackNoun(t)} "${t.name}" with ${listed.join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
}

function segmentChanges(before: Segment, after: Segment, kind: TrackKind): string[] {
  const changes: string[] = [];
  if (before.label !== after.label) changes.push(`${kind === "text" ? "text" : "name"} → "${after.label}"`);
  if (range(before) !== range(after)) changes.push(`${range(before)} → ${range(after)}`);
  if (percent(before.volume) !== percent(after.volume)) {
    changes.push(`volume ${percent(before.volume)} → ${percent(after.volume)}`);
  }
  return changes;
}

function diffTrack(before: Track, after: Track): string[] {
  const lines: string[] = [];
  if (before.name !== after.name)
    lines.push(`Renamed track ${after.index} "${before.name}" → "${after.name}"`);
  const { pairs, removed, added } = pairUp(before.segments, after.segments, SEGMENT_PASSES);
  for (const bi of removed) {
    const s = before.segments[bi]!;
    lines.push(`Removed ${quoted(s)} (${range(s)}) from ${trackRef(after)}`);
  }
  for (const [bi, ai] of pairs) {
    const b = before.segments[bi]!;
    const changes = segmentChanges(b, after.segments[ai]!, after.kind);
    const subject = b.label === "" ? `segment ${bi + 1}` : `"${b.label}"`;
    if (changes.length > 0) lines.push(`Changed ${subject} on ${trackRef(after)}: ${changes.join("; ")}`);
  }
  for (const ai of added) {
    const s = after.segments[ai]!;
    lines.push(`Added ${quoted(s)} (${range(s)}) to ${trackRef(after)}`);
  }
  if (lines.length <= MAX_LINES_PER_TRACK) return lines;
  const kept = lines.slice(0, MAX_LINES_PER_TRACK - 1);
  return [...kept, `…and ${lines.length - kept.length} more changes on ${trackRef(after)}`];
}

/** What changed from `before` to `after`, one plain sentence per change; [] when nothing did. */
export function diffTimelines(before: Timeline, after: Timeline): string[] {
  const lines: string[] = [];
  const { pairs, removed, added } = pairUp(before.tracks, after.tracks, TRACK_PASSES);
  for (const bi of removed) {
    const t = before.tracks[bi]!;
    lines.push(`Removed ${trackNoun(t)} "${t.name}"`);
  }
  const addedSet = new Set(added);
  const pairByAfter = new Map(pairs.map(([bi, ai]) => [ai, bi]));
  after.tracks.forEach((t, ai) => {
    if (addedSet.has(ai)) {
      lines.push(describeAddedTrack(t));
      return;
    }
    const bi = pairByAfter.get(ai);
    if (bi !== undefined) lines.push(...diffTrack(before.tracks[bi]!, t));
  });
  if (seconds(before.durationMs) !== seconds(after.durationMs)) {
    lines.push(`Duration ${seconds(before.durationMs)}s → ${seconds(after.durationMs)}s`);
  }
  return lines;
}
