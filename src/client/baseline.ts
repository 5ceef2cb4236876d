/**
 * What a turn knew before its message was sent: the timeline and the credit balance. A turn compares against it
 * afterwards (what changed, what it cost), and a turn record keeps it so that a turn whose process ended can be
 * recovered later by polling the state, never by sending the message again.
 */
import type { Credits } from "./schemas.js";
import type { Timeline, TimelineJSON, TrackKind } from "./timeline.js";

/** The state before a turn, in a form that can be saved in a job record. */
export interface TurnBaseline {
  timeline: TimelineJSON;
  /** The balance before the turn, when it could be read. */
  credits?: { available: number; frozen: number; total: number };
}

/** What a turn cost, from the balance before and after it. */
export interface CreditsUsed {
  credits: number;
  /** Other work reserved or settled credits meanwhile, so the figure may include it. */
  approximate: boolean;
}

const TYPE_BY_KIND: Readonly<Record<TrackKind, number>> = { video: 0, audio: 1, text: 7, other: -1 };

/** Rebuilds a Timeline from its JSON shape (the inverse of `timelineToJSON`, raw track types aside). */
export function timelineFromJSON(json: TimelineJSON): Timeline {
  return {
    exportable: json.exportable,
    durationMs: json.duration_ms,
    tracks: json.tracks.map((track) => ({
      index: track.index,
      kind: track.kind,
      type: TYPE_BY_KIND[track.kind] ?? -1,
      name: track.name,
      segments: track.segments.map((s) => ({
        startMs: s.start_ms,
        endMs: s.end_ms,
        label: s.label,
        ...(s.volume !== undefined ? { volume: s.volume } : {}),
      })),
    })),
  };
}

/** The balance fields a baseline keeps. */
export function balance(credits: Credits): NonNullable<TurnBaseline["credits"]> {
  return { available: credits.available, frozen: credits.frozen, total: credits.total };
}

/**
 * Credits a turn used: what left `available` (spent, or still reserved as `frozen` for this turn). When frozen
 * credits were released meanwhile (other work settled) only the drop of `total` is certain; either way the
 * figure is marked approximate when other work held frozen credits before or after the turn.
 */
export function creditsUsed(
  before: NonNullable<TurnBaseline["credits"]>,
  after: NonNullable<TurnBaseline["credits"]>,
): CreditsUsed {
  const released = after.frozen < before.frozen;
  const used = released ? before.total - after.total : before.available - after.available;
  return {
    credits: Math.max(0, Math.round(used * 100) / 100),
    approximate: before.frozen > 0 || after.frozen > 0 || released,
  };
}
