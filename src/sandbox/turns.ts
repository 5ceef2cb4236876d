import { randomUUID } from "node:crypto";
import {
  type Draft,
  type DraftSegment,
  putSingleSegmentTrack,
  TRACK_AUDIO,
  TRACK_TEXT,
  TRACK_VIDEO,
} from "./draft.js";
import type { PlayStep } from "./sse.js";
import { randomId, type SandboxState, type SessionRecord } from "./state.js";

/** What a default turn needs to know about its surroundings. */
interface TurnContext {
  session: SessionRecord;
  state: SandboxState;
  /** Pause between events. */
  stepMs: number;
  /** Sandbox base URL, for media links. */
  baseUrl: string;
}

/** A keyword-chosen turn: its tool, its price (frozen while it runs) and its steps. */
interface DefaultTurn {
  tool: string | undefined;
  cost: number;
  /** Long turns also get interval heartbeats. */
  long: boolean;
  steps: PlayStep[];
}

const DEFAULT_DURATION_MS = 30_000;

/** Builds ADK-style events of one invocation. */
class TurnBuilder {
  readonly steps: PlayStep[] = [];
  private readonly invocationId = `e-${randomUUID()}`;

  constructor(private readonly stepMs: number) {}

  pause(): void {
    if (this.stepMs > 0) this.steps.push({ wait: this.stepMs });
  }

  private event(parts: () => unknown[]): void {
    const invocationId = this.invocationId;
    this.steps.push({
      event: () => ({
        id: randomUUID(),
        invocationId,
        author: "nemo_agent",
        timestamp: Date.now() / 1000,
        content: { role: "model", parts: parts() },
        partial: false,
      }),
    });
  }

  call(name: string, args: Record<string, unknown>): string {
    const id = `adk-${randomUUID()}`;
    this.event(() => [{ functionCall: { id, name, args } }]);
    return id;
  }

  respond(id: string, name: string, response: () => Record<string, unknown>): void {
    this.event(() => [{ functionResponse: { id, name, response: response() } }]);
  }

  text(text: string): void {
    this.event(() => [{ text }]);
  }

  raw(raw: string): void {
    this.steps.push({ raw });
  }

  heartbeat(): void {
    this.steps.push({ heartbeat: true });
  }

  run(work: () => void): void {
    this.steps.push({ run: work });
  }
}

function has(text: string, words: string[]): boolean {
  return words.some((w) => text.includes(w));
}

/** The text between the first pair of quotes, if any. */
function quoted(message: string): string | undefined {
  const match = /["“「'‘]([^"”」'’]{1,80})["”」'’]/.exec(message);
  return match?.[1]?.trim() || undefined;
}

/** Duration asked for in the message ("30-second", "45s", "2 minutes"), else 60 s; in ms. */
function requestedDurationMs(message: string): number {
  const minutes = /(\d+(?:\.\d+)?)\s*-?\s*(?:minutes?|mins?|分钟)/i.exec(message);
  const seconds = /(\d+(?:\.\d+)?)\s*-?\s*(?:seconds?|secs?|s\b|秒)/i.exec(message);
  const value = seconds?.[1] ? Number(seconds[1]) : minutes?.[1] ? Number(minutes[1]) * 60 : 60;
  return Math.round(Math.min(600, Math.max(1, value)) * 1000);
}

/** Picks the default turn for a message by keywords, like the real agent's most common intents. */
export function chooseDefaultTurn(message: string, ctx: TurnContext): DefaultTurn {
  const text = message.toLowerCase();
  const pending = ctx.session.pendingQuestion;
  if (pending) {
    delete ctx.session.pendingQuestion;
    // the answer: one of the options, or free words unless the message asks for something else
    const voice = pending.options.find((o) => text.includes(o.toLowerCase()));
    if (voice) return voiceoverTurn(ctx, voice);
    if (!has(text, ["generate", "script", "music", "bgm", "title", "caption", "subtitle", "voiceover"]))
      return voiceoverTurn(ctx, message.trim().slice(0, 80));
  }
  // Generation first: "generate a video from my script with voiceover" asks for a whole video.
  if (has(text, ["generate", "script", "video from", "生成"])) return generateTurn(message, ctx);
  if (has(text, ["voiceover", "voice over", "配音"])) {
    // "…and let me choose the voice": the agent asks which one before it spends anything
    if (has(text, ["which voice", "choose", "pick", "ask me", "let me", "选择", "哪个"]))
      return questionTurn(ctx);
    return voiceoverTurn(ctx);
  }
  if (has(text, ["music", "bgm", "背景音乐"])) return bgmTurn(ctx);
  if (has(text, ["title", "caption", "subtitle", "字幕"])) return textTurn(message, text, ctx);
  return chatTurn(ctx);
}

/** Edits the session's draft in place of whatever it holds now (it may have changed since the turn began). */
function editDraft(ctx: TurnContext, edit: (draft: Draft) => void): void {
  const draft = ctx.state.editableDraft(ctx.session);
  edit(draft);
  ctx.session.draft = draft;
}

function segmentId(session: SessionRecord): string {
  const id = `seg_${session.segmentSeq}`;
  session.segmentSeq += 1;
  return id;
}

/** Length of the current timeline, or 30 s when it is empty. */
function coverMs(draft: Draft): number {
  return draft.d > 0 ? draft.d : DEFAULT_DURATION_MS;
}

/** Puts one audio segment covering the whole timeline (30 s when empty) on track `name`; returns its length. */
function coverWithAudio(ctx: TurnContext, name: string, media: DraftSegment["m"]): number {
  let duration = 0;
  editDraft(ctx, (draft) => {
    duration = coverMs(draft);
    putSingleSegmentTrack(draft, TRACK_AUDIO, name, {
      id: segmentId(ctx.session),
      st: 0,
      d: duration,
      m: media,
    });
  });
  return duration;
}

/** The voices the question scenario offers. */
export const VOICE_OPTIONS = ["Warm female (English)", "Calm male (English)", "Energetic narrator (English)"];

/** The agent needs a choice first: one `ask_question` call, no response, and the stream ends. */
function questionTurn(ctx: TurnContext): DefaultTurn {
  const b = new TurnBuilder(ctx.stepMs);
  ctx.session.pendingQuestion = { id: "voice", options: VOICE_OPTIONS };
  b.pause();
  b.call("ask_question", {
    questions: [
      {
        id: "voice",
        prompt: "Which voice should the voiceover use?",
        options: VOICE_OPTIONS,
        allow_multiple: false,
      },
    ],
  });
  return { tool: "ask_question", cost: 0, long: false, steps: b.steps };
}

function voiceoverTurn(ctx: TurnContext, voice = "natural"): DefaultTurn {
  const b = new TurnBuilder(ctx.stepMs);
  let duration = 0;
  const id = b.call("generate_voiceover", { language: "en", voice, style: "warm" });
  b.pause();
  b.raw(": ping\n\n");
  b.pause();
  b.heartbeat();
  b.pause();
  b.run(() => {
    duration = coverWithAudio(ctx, "AI Voiceover", {
      name: voice === "natural" ? "English voiceover" : `${voice} voiceover`,
      volume: 1,
      src: `${ctx.baseUrl}/files/generated/vo_${randomId(4)}.mp3`,
    });
  });
  b.respond(id, "generate_voiceover", () => ({
    status: "success",
    track: "AI Voiceover",
    duration_ms: duration,
  }));
  b.pause();
  b.text(
    "I've added a natural English AI voiceover to your video. You can preview it in the timeline, " +
      "and click the Export button when you're ready to download.",
  );
  return { tool: "generate_voiceover", cost: 5, long: true, steps: b.steps };
}

function generateTurn(message: string, ctx: TurnContext): DefaultTurn {
  const b = new TurnBuilder(ctx.stepMs);
  const durationMs = requestedDurationMs(message);
  const seconds = durationMs / 1000;
  const title = quoted(message) ?? "Your Story";
  const mediaId = `gen_${randomId(6)}`;
  const src = `${ctx.baseUrl}/files/generated/${mediaId}.mp4`;
  const id = b.call("generate_video", {
    prompt: message.slice(0, 500),
    duration: seconds,
    aspect_ratio: "16:9",
  });
  // the slow part: scenes render while only heartbeats flow (in every form clients must ignore)
  const beats = [
    () => b.heartbeat(),
    () => b.raw(": ping\n\n"),
    () => b.heartbeat(),
    () => b.raw("data:\n\n"),
    () => b.heartbeat(),
  ];
  for (let i = 0; i < 10; i += 1) {
    b.pause();
    beats[i % beats.length]?.();
  }
  b.run(() => {
    editDraft(ctx, (draft) => {
      draft.t = [];
      putSingleSegmentTrack(draft, TRACK_VIDEO, "Video", {
        id: segmentId(ctx.session),
        st: 0,
        d: durationMs,
        m: { name: "AI generated video", src },
      });
      putSingleSegmentTrack(draft, TRACK_AUDIO, "BGM", {
        id: segmentId(ctx.session),
        st: 0,
        d: durationMs,
        m: { name: "Lo-fi", volume: 0.35, src: `${ctx.baseUrl}/files/library/lofi.mp3` },
      });
      putSingleSegmentTrack(draft, TRACK_TEXT, "Title", {
        id: segmentId(ctx.session),
        st: 0,
        d: Math.min(3000, durationMs),
        m: { text: title },
      });
      draft.d = durationMs;
    });
    ctx.session.generatedMedia.push({
      id: mediaId,
      type: "video",
      url: src,
      duration: seconds,
      prompt: message.slice(0, 500),
      created_at: new Date().toISOString(),
    });
  });
  b.respond(id, "generate_video", () => ({ status: "success", video_id: mediaId, duration: seconds }));
  b.pause();
  b.text(
    `Your ${seconds}-second video is ready! I generated the footage from your script, ` +
      `added Lo-fi background music at 35% volume and a title card "${title}".`,
  );
  b.pause();
  b.text("Open the timeline panel to preview it, then click the Export button to download your MP4.");
  return { tool: "generate_video", cost: 20, long: true, steps: b.steps };
}

function bgmTurn(ctx: TurnContext): DefaultTurn {
  const b = new TurnBuilder(ctx.stepMs);
  let duration = 0;
  const id = b.call("add_bgm", { style: "Lo-fi", volume: 0.35 });
  b.pause();
  b.run(() => {
    duration = coverWithAudio(ctx, "BGM", {
      name: "Lo-fi",
      volume: 0.35,
      src: `${ctx.baseUrl}/files/library/lofi.mp3`,
    });
  });
  b.respond(id, "add_bgm", () => ({ status: "success", track: "BGM", duration_ms: duration }));
  return { tool: "add_bgm", cost: 2, long: false, steps: b.steps };
}

function textTurn(message: string, lower: string, ctx: TurnContext): DefaultTurn {
  const b = new TurnBuilder(ctx.stepMs);
  // "subtitle" contains "title": only the word itself asks for a title card
  const isTitle = /\btitles?\b/.test(lower);
  const text = quoted(message) ?? (isTitle ? "My Video" : "Subtitles");
  const trackName = isTitle ? "Title" : "Subtitles";
  const id = b.call("add_text", { text, kind: isTitle ? "title" : "subtitle" });
  b.pause();
  b.run(() =>
    editDraft(ctx, (draft) => {
      putSingleSegmentTrack(draft, TRACK_TEXT, trackName, {
        id: segmentId(ctx.session),
        st: 0,
        d: isTitle ? 3000 : coverMs(draft),
        m: { text },
      });
    }),
  );
  b.respond(id, "add_text", () => ({ status: "success", track: trackName }));
  return { tool: "add_text", cost: 1, long: false, steps: b.steps };
}

function chatTurn(ctx: TurnContext): DefaultTurn {
  const b = new TurnBuilder(ctx.stepMs);
  b.pause();
  b.text(
    "Tell me what you'd like to create or change. For example: generate a video from a script, " +
      "add an AI voiceover, add background music, or put a title on your video.",
  );
  return { tool: undefined, cost: 0, long: false, steps: b.steps };
}
