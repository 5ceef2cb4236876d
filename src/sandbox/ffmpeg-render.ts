import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Draft, draftEnd, TRACK_AUDIO, TRACK_TEXT, TRACK_VIDEO } from "./draft.js";
import { findFfmpeg } from "../media/frames.js";
import { fileOutput, type RenderOutput, sampleVideo } from "./outputs.js";
import type { SandboxOptions } from "./types.js";

/** Frame size of the sandbox's renders (a stand-in: the real backend renders at the plan's resolution). */
const WIDTH = 640;
const HEIGHT = 360;
/** Longest timeline the sandbox draws; a longer one gets the stand-in clip. */
const MAX_SECONDS = 15 * 60;
/** Limit of one ffmpeg run. */
const FFMPEG_TIMEOUT_MS = 120_000;
/** Rendered files kept on disk; older ones are deleted (their renders fall back to the stand-in clip). */
const KEEP_FILES = 20;
/** Drawn in a corner of every frame, so nobody takes the file for the real backend's render. */
const LABEL = "NemoVideo sandbox - stand-in render";

/** A span of the timeline in seconds. */
interface Span {
  start: number;
  end: number;
}

/** What the sandbox draws for a timeline: footage, title texts, and tones standing in for the audio tracks. */
interface RenderPlan {
  /** Seconds: the draft's duration (or the end of its last segment). */
  duration: number;
  /** Spans covered by video segments (the stand-in footage plays there, a plain background elsewhere). */
  footage: Span[];
  texts: Array<Span & { text: string }>;
  /** Voiceover segments: a speech-like tone. */
  voice: Array<Span & { volume: number }>;
  /** Other audio segments (music): a soft chord. */
  music: Array<Span & { volume: number }>;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/** Reads a draft into what the sandbox can draw of it. */
function planRender(draft: Draft): RenderPlan {
  const plan: RenderPlan = {
    duration: seconds(Math.max(draft.d, draftEnd(draft))),
    footage: [],
    texts: [],
    voice: [],
    music: [],
  };
  for (const track of draft.t) {
    for (const seg of track.sg) {
      const span = { start: seconds(seg.st), end: seconds(seg.st + seg.d) };
      if (span.end <= span.start) continue;
      const volume = typeof seg.m.volume === "number" ? Math.min(Math.max(seg.m.volume, 0), 2) : 1;
      if (track.tt === TRACK_VIDEO) plan.footage.push(span);
      else if (track.tt === TRACK_TEXT && typeof seg.m.text === "string" && seg.m.text.trim()) {
        plan.texts.push({ ...span, text: seg.m.text.trim().slice(0, 200) });
      } else if (track.tt === TRACK_AUDIO) {
        const name = `${String(track.m.name ?? "")} ${String(seg.m.name ?? "")}`;
        (/voice|narrat|配音/i.test(name) ? plan.voice : plan.music).push({ ...span, volume });
      }
    }
  }
  return plan;
}

const between = (s: Span) => `between(t,${s.start},${s.end})`;

/** The aevalsrc expression of the plan's tones (silence when it has none). */
function toneExpression(plan: RenderPlan): string {
  const terms = [
    ...plan.voice.map(
      (s) => `${(0.3 * s.volume).toFixed(3)}*sin(2*PI*220*t)*(0.55+0.45*sin(2*PI*4*t))*${between(s)}`,
    ),
    ...plan.music.map(
      (s) =>
        `${(0.15 * s.volume).toFixed(3)}*(sin(2*PI*261.63*t)+sin(2*PI*329.63*t)+sin(2*PI*392*t))/3*${between(s)}`,
    ),
  ];
  return terms.length > 0 ? terms.join("+") : "0";
}

/** Files the ffmpeg command reads besides the footage. */
interface RenderInputs {
  /** The stand-in footage, looped; without it a plain background. */
  footage?: string;
  footageHasAudio: boolean;
  /** One text file per `plan.texts` entry, then the label's (drawtext `textfile=` needs no escaping). */
  textFiles: string[];
  /** False when drawtext cannot be used (no font): texts are left out. */
  drawText: boolean;
  out: string;
}

/** The ffmpeg arguments that draw `plan` into `inputs.out` (H.264 + AAC, fast start). */
function ffmpegArgs(plan: RenderPlan, inputs: RenderInputs): string[] {
  const d = plan.duration;
  const args = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"];
  const background = `color=c=0x1b2735:s=${WIDTH}x${HEIGHT}:r=25:d=${d}`;
  args.push("-f", "lavfi", "-i", background);
  const withFootage = inputs.footage !== undefined && plan.footage.length > 0;
  if (withFootage) args.push("-stream_loop", "-1", "-i", inputs.footage as string);
  args.push("-f", "lavfi", "-i", `aevalsrc='${toneExpression(plan)}':s=44100:d=${d}`);
  const toneInput = withFootage ? 2 : 1;

  const video: string[] = [];
  if (withFootage) {
    video.push(
      `[1:v]scale=${WIDTH}:${HEIGHT}:force_original_aspect_ratio=decrease,pad=${WIDTH}:${HEIGHT}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25[footage]`,
    );
    const enable = plan.footage.map(between).join("+");
    video.push(`[0:v][footage]overlay=shortest=0:eof_action=pass:enable='${enable}'[base]`);
  } else {
    video.push("[0:v]null[base]");
  }
  const draws: string[] = [];
  if (inputs.drawText) {
    plan.texts.forEach((text, i) => {
      draws.push(
        `drawtext=textfile=${inputs.textFiles[i]}:font=Sans:fontsize=40:fontcolor=white:box=1:boxcolor=black@0.55:boxborderw=16:x=(w-text_w)/2:y=(h-text_h)/2:enable='${between(text)}'`,
      );
    });
    const label = inputs.textFiles[plan.texts.length];
    draws.push(`drawtext=textfile=${label}:font=Sans:fontsize=14:fontcolor=white@0.8:x=10:y=h-th-10`);
  }
  video.push(`[base]${draws.length > 0 ? draws.join(",") : "null"},format=yuv420p[v]`);
  const audio =
    withFootage && inputs.footageHasAudio
      ? `[1:a]aresample=44100[fa];[fa][${toneInput}:a]amix=inputs=2:duration=longest:normalize=0[a]`
      : `[${toneInput}:a]anull[a]`;
  args.push("-filter_complex", [...video, audio].join(";"));
  args.push("-map", "[v]", "-map", "[a]", "-t", String(d));
  args.push("-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p");
  args.push("-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", inputs.out);
  return args;
}

/** Runs ffmpeg to the end; rejects with the last lines of its stderr. */
function runFfmpeg(ffmpeg: string, args: string[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, {
      stdio: ["ignore", "ignore", "pipe"],
      signal,
      timeout: FFMPEG_TIMEOUT_MS,
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-2000);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else
        reject(new Error(`ffmpeg exited with ${code}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`));
    });
  });
}

/** True when ffmpeg finds an audio stream in `file` (`ffmpeg -i` prints the streams, then exits 1). */
function hasAudio(ffmpeg: string, file: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(ffmpeg, ["-hide_banner", "-nostdin", "-i", file], {
      stdio: ["ignore", "ignore", "pipe"],
      signal,
      timeout: 10_000,
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += chunk.toString("utf8");
    });
    child.on("error", () => resolve(false));
    child.on("close", () => resolve(/Stream #\d+:\d+.*: Audio:/.test(stderr)));
  });
}

/**
 * Draws each render from its timeline with ffmpeg: the stand-in footage where the timeline has video,
 * title texts in their segments, a tone for the voiceover and a chord for music, the timeline's
 * duration. Files live in a temp folder removed by `close()`.
 */
export class TimelineRenderer {
  private readonly outputs = new Map<string, Promise<RenderOutput | undefined>>();
  private readonly closing = new AbortController();
  private dir: Promise<string> | undefined;
  private footageAudio: Promise<boolean> | undefined;
  private canDrawText = true;

  constructor(
    private readonly ffmpeg: string,
    private readonly footage: string | undefined,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts drawing render `id`; a failure leaves it to the stand-in clip (logged). */
  start(id: string, draft: Draft): void {
    const plan = planRender(draft);
    if (plan.duration <= 0 || plan.duration > MAX_SECONDS) return;
    this.outputs.set(
      id,
      this.draw(id, plan).catch((err: unknown) => {
        if (!this.closing.signal.aborted) {
          this.log(`sandbox: ffmpeg render of ${id} failed, serving the stand-in clip (${String(err)})`);
        }
        return undefined;
      }),
    );
    for (const old of [...this.outputs.keys()].slice(0, -KEEP_FILES)) this.outputs.delete(old);
  }

  /** The drawn file of render `id`: a promise while ffmpeg runs, undefined when there is none. */
  output(id: string): Promise<RenderOutput | undefined> | undefined {
    return this.outputs.get(id);
  }

  /** Stops running ffmpeg processes and removes the files. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled(this.outputs.values());
    const dir = await this.dir?.catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  private async draw(id: string, plan: RenderPlan): Promise<RenderOutput> {
    const signal = this.closing.signal;
    this.dir ??= mkdtemp(join(tmpdir(), "nemo-sandbox-renders-"));
    const dir = await this.dir;
    const safe = id.replace(/[^\w-]/g, "_");
    const textFiles: string[] = [];
    for (const [i, text] of [...plan.texts.map((t) => t.text), LABEL].entries()) {
      const file = join(dir, `${safe}-text${i}.txt`);
      await writeFile(file, text);
      textFiles.push(file);
    }
    let footageHasAudio = false;
    if (this.footage) {
      this.footageAudio ??= hasAudio(this.ffmpeg, this.footage, signal);
      footageHasAudio = await this.footageAudio;
    }
    const out = join(dir, `${safe}.mp4`);
    const inputs = {
      ...(this.footage ? { footage: this.footage } : {}),
      footageHasAudio,
      textFiles,
      drawText: this.canDrawText,
      out,
    };
    try {
      await runFfmpeg(this.ffmpeg, ffmpegArgs(plan, inputs), signal);
    } catch (err) {
      if (!inputs.drawText || signal.aborted) throw err;
      // most likely no usable font for drawtext: draw the rest and say so once
      this.canDrawText = false;
      this.log(`sandbox: ffmpeg cannot draw text (${String(err)}); renders leave the titles out`);
      await runFfmpeg(this.ffmpeg, ffmpegArgs(plan, { ...inputs, drawText: false }), signal);
    }
    const output = fileOutput(out);
    return {
      ...output,
      describe: `${plan.duration} s drawn from the timeline by ffmpeg (${output.size} bytes)`,
    };
  }
}

/** With `timelineRenders` and an ffmpeg, renders are drawn from their timelines; else the stand-in clip. */
export async function timelineRenderer(
  options: SandboxOptions,
  log: (line: string) => void,
): Promise<TimelineRenderer | undefined> {
  if (!options.timelineRenders || options.renderOutputBytes !== undefined) return undefined;
  const ffmpeg = await findFfmpeg(process.env.NEMO_FFMPEG?.trim() || undefined, process.env.PATH ?? "");
  return ffmpeg ? new TimelineRenderer(ffmpeg, sampleVideo(options), log) : undefined;
}
