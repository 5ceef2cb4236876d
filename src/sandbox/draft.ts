/** Segment of the backend's draft: start `st` and duration `d` in ms. */
export interface DraftSegment {
  id: string;
  st: number;
  d: number;
  m: { name?: string; text?: string; src?: string; volume?: number; [key: string]: unknown };
  [key: string]: unknown;
}

/** Track of the draft: `tt` 0 video, 1 audio, 7 text. */
interface DraftTrack {
  tt: number;
  m: { name?: string; [key: string]: unknown };
  sg: DraftSegment[];
  [key: string]: unknown;
}

/** The backend's timeline document (`t` tracks, `d` duration in ms, `m` metadata). */
export interface Draft {
  t: DraftTrack[];
  d: number;
  m: Record<string, unknown>;
  [key: string]: unknown;
}

/** Track type of a video track in a draft. */
export const TRACK_VIDEO = 0;
/** Track type of an audio track in a draft. */
export const TRACK_AUDIO = 1;
/** Track type of a text (caption) track in a draft. */
export const TRACK_TEXT = 7;

/** The draft of a new session. */
export function emptyDraft(): Draft {
  return { t: [], d: 0, m: {} };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A well-formed copy of any value stored as a draft (tests may store odd shapes with `setDraft`). */
export function toDraft(value: unknown): Draft {
  const source = isRecord(value) ? structuredClone(value) : {};
  const tracks = Array.isArray(source.t) ? source.t.filter(isRecord) : [];
  const t = tracks.map((track): DraftTrack => {
    const sg = Array.isArray(track.sg) ? track.sg.filter(isRecord) : [];
    return {
      ...track,
      tt: typeof track.tt === "number" ? track.tt : TRACK_VIDEO,
      m: isRecord(track.m) ? track.m : {},
      sg: sg.map((seg, i) => ({
        ...seg,
        id: typeof seg.id === "string" ? seg.id : `seg_x${i}`,
        st: typeof seg.st === "number" ? seg.st : 0,
        d: typeof seg.d === "number" ? seg.d : 0,
        m: isRecord(seg.m) ? seg.m : {},
      })),
    };
  });
  const draft: Draft = { ...source, t, d: 0, m: isRecord(source.m) ? source.m : {} };
  draft.d = typeof source.d === "number" ? source.d : draftEnd(draft);
  return draft;
}

/** True when some track has at least one segment (the backend's "exportable" rule). */
export function hasSegments(value: unknown): boolean {
  if (!isRecord(value) || !Array.isArray(value.t)) return false;
  return value.t.some((track) => isRecord(track) && Array.isArray(track.sg) && track.sg.length > 0);
}

/** End of the last segment, in ms. */
export function draftEnd(draft: Draft): number {
  let end = 0;
  for (const track of draft.t) for (const seg of track.sg) end = Math.max(end, seg.st + seg.d);
  return end;
}

/** End of the last segment of one track, in ms. */
export function trackEnd(track: DraftTrack): number {
  let end = 0;
  for (const seg of track.sg) end = Math.max(end, seg.st + seg.d);
  return end;
}

/** The first track of a type with a given name, created at the end when missing. */
export function ensureTrack(draft: Draft, tt: number, name: string): DraftTrack {
  const found = draft.t.find((track) => track.tt === tt && track.m.name === name);
  if (found) return found;
  const track: DraftTrack = { tt, m: { name }, sg: [] };
  draft.t.push(track);
  return track;
}

/** Replaces (or adds) the named track with a single segment. */
export function putSingleSegmentTrack(draft: Draft, tt: number, name: string, segment: DraftSegment): void {
  const track = ensureTrack(draft, tt, name);
  track.sg = [segment];
  draft.d = Math.max(draft.d, draftEnd(draft));
}
