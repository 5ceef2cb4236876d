import { describe, expect, it } from "vitest";
import { parseDraft, timelineToJSON } from "../../src/client/timeline.js";
import { diffTimelines, summarizeTimeline } from "../../src/client/timeline-diff.js";

interface RawSegment {
  id?: string;
  st: number;
  d: number;
  m: { name?: string; text?: string; src?: string; volume?: number };
}
interface RawDraft {
  d: number;
  t: Array<{ tt: number; m?: { name: string }; sg: RawSegment[] }>;
}

/** The API contract's example timeline, as the backend's raw draft. */
function exampleDraft(): RawDraft {
  return {
    d: 10000,
    t: [
      {
        tt: 0,
        sg: [{ id: "v1", st: 0, d: 10000, m: { name: "city timelapse", src: "https://cdn/x/city.mp4" } }],
      },
      { tt: 1, m: { name: "BGM" }, sg: [{ id: "a1", st: 0, d: 10000, m: { name: "Lo-fi", volume: 0.35 } }] },
      { tt: 7, sg: [{ id: "t1", st: 0, d: 3000, m: { text: "Urban Dreams" } }] },
    ],
  };
}

describe("parseDraft", () => {
  it("parses the contract's example", () => {
    const t = parseDraft(exampleDraft());
    expect(t.durationMs).toBe(10000);
    expect(t.exportable).toBe(true);
    expect(t.tracks.map((x) => [x.index, x.kind, x.type, x.name])).toEqual([
      [1, "video", 0, "Video"],
      [2, "audio", 1, "BGM"],
      [3, "text", 7, "Title"],
    ]);
    expect(t.tracks[1]?.segments).toEqual([
      { id: "a1", startMs: 0, endMs: 10000, label: "Lo-fi", volume: 0.35 },
    ]);
  });

  it("never throws on null or garbage and gives an empty timeline", () => {
    for (const garbage of [null, undefined, 42, "nope", "{", [], { t: "x" }, { t: [null, 3, "a"] }]) {
      expect(parseDraft(garbage)).toEqual({ tracks: [], durationMs: 0, exportable: false });
    }
  });

  it("accepts numeric strings, aliases, JSON text and a wrapping state object", () => {
    const draft = {
      t: [{ tt: "1", sg: [{ start: "1500", end: "4000", m: { src: "/tmp/My%20song.mp3?x=1" } }] }],
    };
    const t = parseDraft(JSON.stringify({ state: { draft } }));
    expect(t.tracks[0]).toMatchObject({ kind: "audio", type: 1, name: "Audio" });
    expect(t.tracks[0]?.segments).toEqual([{ startMs: 1500, endMs: 4000, label: "My song.mp3" }]);
    expect(t.durationMs).toBe(4000);
  });

  it("skips segments without usable numbers and clamps negatives", () => {
    const t = parseDraft({
      t: [{ tt: 0, sg: [{ st: 5 }, { st: "x", d: "y" }, "junk", { st: -200, d: 1000 }, { st: 100, d: -5 }] }],
    });
    expect(t.tracks[0]?.segments.map((s) => [s.startMs, s.endMs])).toEqual([
      [0, 1000],
      [100, 100],
    ]);
  });

  it("names tracks by kind when the draft gives no name and keeps unknown types as other", () => {
    const t = parseDraft({
      t: [
        { tt: 0 },
        { tt: 1, sg: [{ st: 0, d: 1 }] },
        { tt: 1, sg: [{ st: 0, d: 1, m: { volume: 0.5 } }] },
        { tt: 7 },
        { tt: 3 },
        {},
      ],
    });
    expect(t.tracks.map((x) => `${x.kind}:${x.type}:${x.name}`)).toEqual([
      "video:0:Video",
      "audio:1:Audio",
      "audio:1:BGM",
      "text:7:Title",
      "other:3:Track",
      "other:-1:Track",
    ]);
  });

  it("labels text segments by text and others by name, then by source file name", () => {
    const t = parseDraft({
      t: [
        { tt: 7, sg: [{ st: 0, d: 1, m: { text: "Hello\n  world", name: "ignored" } }] },
        {
          tt: 0,
          sg: [
            { st: 0, d: 1, m: { src: "https://cdn.example/a/b/clip.mp4#t=1" } },
            { st: 1, d: 1 },
          ],
        },
      ],
    });
    expect(t.tracks[0]?.segments[0]?.label).toBe("Hello world");
    expect(t.tracks[1]?.segments.map((s) => s.label)).toEqual(["clip.mp4", ""]);
  });

  it("uses the draft duration when positive, else the last segment end", () => {
    expect(parseDraft({ d: 0, t: [{ tt: 0, sg: [{ st: 2000, d: 3000 }] }] }).durationMs).toBe(5000);
    expect(parseDraft({ d: "12000", t: [] }).durationMs).toBe(12000);
  });

  it("is exportable only when some track has a segment", () => {
    expect(parseDraft({ t: [{ tt: 0, sg: [] }] }).exportable).toBe(false);
  });
});

describe("summarizeTimeline", () => {
  it("renders the contract's example exactly", () => {
    expect(summarizeTimeline(parseDraft(exampleDraft()))).toBe(
      'Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)',
    );
  });

  it("handles singular, several segments, empty tracks and fractional seconds", () => {
    const one = parseDraft({
      t: [
        {
          tt: 0,
          sg: [
            { st: 5000, d: 5000, m: { name: "b" } },
            { st: 0, d: 5000, m: { name: "a" } },
          ],
        },
      ],
    });
    expect(summarizeTimeline(one)).toBe("Timeline (1 track): 1. Video: a (0-5s), b (5-10s)");
    const frac = parseDraft({
      t: [{ tt: 1, sg: [{ st: 1500, d: 2549, m: { name: "x", volume: 1 } }] }, { tt: 7 }],
    });
    expect(summarizeTimeline(frac)).toBe("Timeline (2 tracks): 1. Audio: x (1.5-4s) 2. Title: (empty)");
    const unlabeled = parseDraft({ t: [{ tt: 0, sg: [{ st: 0, d: 1234 }] }] });
    expect(summarizeTimeline(unlabeled)).toBe("Timeline (1 track): 1. Video: (0-1.2s)");
  });

  it("renders an empty timeline", () => {
    expect(summarizeTimeline(parseDraft(null))).toBe("Timeline (0 tracks): empty");
  });
});

describe("timelineToJSON", () => {
  it("uses the snake_case shape of get_state", () => {
    const json = timelineToJSON(parseDraft(exampleDraft()));
    expect(json.exportable).toBe(true);
    expect(json.duration_ms).toBe(10000);
    expect(json.tracks[0]).toEqual({
      index: 1,
      kind: "video",
      name: "Video",
      segments: [{ start_ms: 0, end_ms: 10000, label: "city timelapse" }],
    });
    expect(json.tracks[1]?.segments[0]).toEqual({ start_ms: 0, end_ms: 10000, label: "Lo-fi", volume: 0.35 });
  });
});

describe("diffTimelines", () => {
  const base = () => exampleDraft();

  it("returns [] for equal timelines", () => {
    expect(diffTimelines(parseDraft(base()), parseDraft(base()))).toEqual([]);
    expect(diffTimelines(parseDraft(null), parseDraft(null))).toEqual([]);
  });

  it("reports an added track with its segments", () => {
    const after = base();
    after.t.push({
      tt: 1,
      m: { name: "AI Voiceover" },
      sg: [{ id: "vo", st: 0, d: 30000, m: { name: "English voiceover" } }],
    });
    after.d = 30000;
    expect(diffTimelines(parseDraft(base()), parseDraft(after))).toEqual([
      'Added audio track "AI Voiceover" with "English voiceover" (0-30s)',
      "Duration 10s → 30s",
    ]);
  });

  it("reports a removed track without confusing the tracks that shift up", () => {
    const after = base();
    after.t.splice(1, 1);
    expect(diffTimelines(parseDraft(base()), parseDraft(after))).toEqual(['Removed audio track "BGM"']);
    const noTitle = base();
    noTitle.t.pop();
    expect(diffTimelines(parseDraft(base()), parseDraft(noTitle))).toEqual(['Removed text track "Title"']);
  });

  it("reports a volume change", () => {
    const after = base();
    after.t[1]!.sg[0]!.m.volume = 0.5;
    expect(diffTimelines(parseDraft(base()), parseDraft(after))).toEqual([
      'Changed "Lo-fi" on track 2 (BGM): volume 35% → 50%',
    ]);
  });

  it("reports a timing change and the new duration", () => {
    const after = base();
    after.t[0]!.sg[0]!.d = 8000;
    after.d = 12000;
    expect(diffTimelines(parseDraft(base()), parseDraft(after))).toEqual([
      'Changed "city timelapse" on track 1 (Video): 0-10s → 0-8s',
      "Duration 10s → 12s",
    ]);
  });

  it("reports a text change", () => {
    const after = base();
    after.t[2]!.sg[0]!.m.text = "City Nights";
    expect(diffTimelines(parseDraft(base()), parseDraft(after))).toEqual([
      'Changed "Urban Dreams" on track 3 (Title): text → "City Nights"',
    ]);
  });

  it("reports added and removed segments", () => {
    const after = base();
    after.t[0]!.sg.push({ id: "v2", st: 10000, d: 10000, m: { name: "clip 2" } });
    after.d = 20000;
    expect(diffTimelines(parseDraft(base()), parseDraft(after))).toEqual([
      'Added "clip 2" (10-20s) to track 1 (Video)',
      "Duration 10s → 20s",
    ]);
    expect(diffTimelines(parseDraft(after), parseDraft(base()))).toEqual([
      'Removed "clip 2" (10-20s) from track 1 (Video)',
      "Duration 20s → 10s",
    ]);
  });

  it("matches segments by id, not by position", () => {
    const before = parseDraft({ t: [{ tt: 0, sg: [{ id: "a", st: 0, d: 5000, m: { name: "a" } }] }] });
    const after = parseDraft({
      t: [
        {
          tt: 0,
          sg: [
            { id: "n", st: 0, d: 2000, m: { name: "intro" } },
            { id: "a", st: 2000, d: 5000, m: { name: "a" } },
          ],
        },
      ],
    });
    expect(diffTimelines(before, after)).toEqual([
      'Changed "a" on track 1 (Video): 0-5s → 2-7s',
      'Added "intro" (0-2s) to track 1 (Video)',
      "Duration 5s → 7s",
    ]);
  });

  it("matches segments without ids by position", () => {
    const before = parseDraft({ t: [{ tt: 0, sg: [{ st: 0, d: 5000, m: { name: "a" } }] }] });
    const after = parseDraft({ t: [{ tt: 0, sg: [{ st: 0, d: 5000, m: { name: "b" } }] }] });
    expect(diffTimelines(before, after)).toEqual(['Changed "a" on track 1 (Video): name → "b"']);
  });

  it("reports a track whose default name follows a volume change", () => {
    const before = parseDraft({ t: [{ tt: 1, sg: [{ id: "m", st: 0, d: 1000, m: { name: "song" } }] }] });
    const after = parseDraft({
      t: [{ tt: 1, sg: [{ id: "m", st: 0, d: 1000, m: { name: "song", volume: 0.2 } }] }],
    });
    expect(diffTimelines(before, after)).toEqual([
      'Renamed track 1 "Audio" → "BGM"',
      'Changed "song" on track 1 (BGM): volume 100% → 20%',
    ]);
  });

  it("reports from an empty timeline to a first clip", () => {
    const after = parseDraft({ t: [{ tt: 0, sg: [{ st: 0, d: 4000, m: { name: "clip" } }] }] });
    expect(diffTimelines(parseDraft(null), after)).toEqual([
      'Added video track "Video" with "clip" (0-4s)',
      "Duration 0s → 4s",
    ]);
  });

  it("caps the lines for one track", () => {
    const sg = Array.from({ length: 20 }, (_, i) => ({
      id: `s${i}`,
      st: i * 1000,
      d: 1000,
      m: { text: `line ${i}` },
    }));
    const lines = diffTimelines(
      parseDraft({ d: 20000, t: [{ tt: 7 }] }),
      parseDraft({ d: 20000, t: [{ tt: 7, sg }] }),
    );
    expect(lines).toHaveLength(8);
    expect(lines[7]).toBe("…and 13 more changes on track 1 (Title)");
  });
});
