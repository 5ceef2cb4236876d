/**
 * A timeline in plain words: its one-line summary, and what changed between two timelines, one sentence a change.
 */
import type { Segment, Timeline, Track, TrackKind } from "./timeline.js";

/** Beyond this many lines for one track, the diff says "…and N more". */
const MAX_LINES_PER_TRACK = 8;
/** Segments listed when a whole track is added. */
const MAX_SEGMENTS_LISTED = 3;

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
