import { ACCEPTED_FORMATS } from "../client/formats.js";
import type { CliValues, Command, CommandFlag } from "./context.js";
import { UsageError } from "./context.js";
import { creditsCommand } from "./credits.js";
import { exportCommand } from "./export.js";
import { sendCommand } from "./send.js";
import { stateCommand } from "./state.js";
import { uploadCommand } from "./upload.js";

/** What the skills' routing table turns a person's words into. */
export type RouteAction = "export" | "credits" | "state" | "upload" | "send";

/** What a plain-language request routes to: the action and its arguments. */
export interface Route {
  action: RouteAction;
  /** Arguments for the action's subcommand: the paths/URLs to upload, or the message to send. */
  args: string[];
}

// English keywords match whole words, case-insensitively: "download" but not "downloaded" or
// "downloads" (a past or plural form talks about a file, it does not ask for the action).
const EXPORT_EN = [
  /\bexport\b/i,
  /\bdownload\b/i,
  /\bsend me (?:the|my) (?:final |finished |edited )?video\b/i,
];
const EXPORT_ZH = ["导出", "下载"];
const CREDITS_EN = [
  // not film credits: "end credits", "credits roll", ...
  /(?<!\b(?:end|opening|closing|rolling|scrolling|movie|film|final)\s+)\bcredits?\b(?!\s+(?:roll|rolls|scene|sequence|screen|text)\b)/i,
  // not the verb: "balance the audio", "colour balance", ...
  /(?<!\b(?:white|colou?r|audio|sound|volume)\s+)\bbalance\b(?!\s+(?:the|out|audio|sound|volume|music|levels?|colou?rs?)\b)/i,
];
const CREDITS_ZH = ["积分", "余额"];
const STATE_EN = [/\bstatus\b/i, /\bshow (?:me )?(?:the |my )?(?:tracks|timeline)\b/i];
const STATE_ZH = ["状态"];
const UPLOAD_EN = [/\bupload\b/i];
const UPLOAD_ZH = ["上传"];

/**
 * Words that ask for an edit: with them the words go to the agent even when they also name export,
 * credits or status ("add end credits", "trim the intro and export") — the edit must not be skipped.
 */
const EDIT_EN =
  /\b(?:add|remove|delete|cut|trim|replace|change|make|generate|create|insert|put|apply|edit|adjust|mute|crop|rotate|shorten|lengthen|extend|speed|slow|translate|dub|fade|split|merge|mix|roll)\b/i;
const EDIT_ZH = [
  "添加",
  "加上",
  "加入",
  "增加",
  "删除",
  "删掉",
  "去掉",
  "剪辑",
  "剪掉",
  "裁剪",
  "生成",
  "制作",
  "替换",
  "换成",
  "修改",
  "调整",
  "配音",
];

const EXTENSIONS = ACCEPTED_FORMATS.join("|");
const URL_TOKEN = /^https?:\/\/\S+$/i;
const PATH_TOKEN = new RegExp(`^(?:~|\\.{1,2})?/\\S*$|^[A-Za-z]:\\\\\\S*$|\\.(?:${EXTENSIONS})$`, "i");
/** Quoted spans, in ASCII and CJK quotes: a path with spaces must be quoted. */
const QUOTED = /"([^"]+)"|'([^']+)'|“([^”]+)”|‘([^’]+)’|「([^」]+)」/g;
/** Whitespace and CJK punctuation separate tokens. */
const SEPARATORS = /[\s\u3000，。、；：！？（）【】《》]+/;
/** CJK characters glued in front of a path ("上传/tmp/a.mp4"). */
const CJK_PREFIX = /^[\u3400-\u9fff]+(?=~\/|\.{1,2}\/|\/|https?:\/\/)/i;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}>]+$/;

function matches(text: string, english: readonly RegExp[], chinese: readonly string[]): boolean {
  return english.some((re) => re.test(text)) || chinese.some((word) => text.includes(word));
}

function asksForEdit(text: string): boolean {
  return EDIT_EN.test(text) || EDIT_ZH.some((word) => text.includes(word));
}

function cleanToken(raw: string): string {
  const token = raw.replace(CJK_PREFIX, "");
  // "./clip.mp4." → "./clip.mp4", but "~/" or "./" alone stay as they are
  return token.length > 2 ? token.replace(TRAILING_PUNCTUATION, "") : token;
}

function isSource(token: string): boolean {
  return URL_TOKEN.test(token) || PATH_TOKEN.test(token);
}

/** The words as tokens: quoted spans whole, the rest split on spaces and CJK punctuation. */
function tokens(words: string): Array<{ text: string; quoted: boolean }> {
  const out: Array<{ text: string; quoted: boolean }> = [];
  const rest = words.replace(QUOTED, (...groups: unknown[]) => {
    const inner = groups.slice(1, 6).find((g): g is string => typeof g === "string") ?? "";
    out.push({ text: inner.trim(), quoted: true });
    return " ";
  });
  for (const raw of rest.split(SEPARATORS)) {
    const text = cleanToken(raw);
    if (text) out.push({ text, quoted: false });
  }
  return out;
}

/**
 * The skills' routing table applied to a person's words:
 * export / 导出 / download / "send me the video" → export; credits / 积分 / balance / 余额 → credits;
 * status / 状态 / "show tracks" → state; upload / 上传 plus the paths or URLs named → upload (no path:
 * `upload` with no args); words that are nothing but paths or URLs (a file was sent) → upload; anything
 * else → the words as a message.
 *
 * English keywords match whole words case-insensitively; Chinese ones by substring. An ambiguous
 * request takes the lighter read-only action (status before credits before export), and words that also
 * ask for an edit ("add end credits", "cut the intro then export") go to the agent as a message.
 * An upload with paths is an upload even when edit words come along: the files go up, the edit is
 * left for the next message (the agent could not read a local path anyway).
 */
export function routeWords(words: string): Route {
  const text = words.trim();
  const all = tokens(text);
  const sources = all.filter((t) => isSource(t.text)).map((t) => t.text);
  if (matches(text, UPLOAD_EN, UPLOAD_ZH)) return { action: "upload", args: sources };
  if (all.length > 0 && sources.length === all.length) return { action: "upload", args: sources };
  if (!asksForEdit(text)) {
    if (matches(text, STATE_EN, STATE_ZH)) return { action: "state", args: [] };
    if (matches(text, CREDITS_EN, CREDITS_ZH)) return { action: "credits", args: [] };
    if (matches(text, EXPORT_EN, EXPORT_ZH)) return { action: "export", args: [] };
  }
  return { action: "send", args: [text] };
}

/** An argument as a shell word: bare when it is safe, else double-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./~-]+$/.test(word) ? word : `"${word.replace(/(["\\$`])/g, "\\$1")}"`;
}

/** The command line the route runs, as a person would type it. */
function commandLine(route: Route, flags: CliValues): string {
  const parts = ["nemovideo-mcp", route.action, ...route.args.map(shellWord)];
  for (const [name, value] of Object.entries(flags)) {
    if (!(routeCommand.flags as readonly string[]).includes(name)) continue;
    parts.push(value === true ? `--${name}` : `--${name} ${shellWord(String(value))}`);
  }
  return parts.join(" ");
}

const TARGETS: Readonly<Record<RouteAction, Command>> = {
  export: exportCommand,
  credits: creditsCommand,
  state: stateCommand,
  upload: uploadCommand,
  send: sendCommand,
};

/**
 * `route "<words>"`: runs the action the routing table picks. Flags that the picked action does not
 * take are dropped with a note (the person did not choose the command, so they are not an error).
 */
export const routeCommand: Command = {
  name: "route",
  flags: ["new", "language", "wait", "out", "dry-run"],
  prepare(args, values) {
    const dryRun = values["dry-run"] === true;
    const words = args.join(" ").trim();
    if (words === "") {
      throw new UsageError(
        "route needs the user's words.",
        'Example: nemovideo-mcp route "export the video" (run nemovideo-mcp --help for usage).',
      );
    }
    const route = routeWords(words);
    if (route.action === "upload" && route.args.length === 0) {
      throw new UsageError(
        "These words ask for an upload but name no file: a local file path or an http(s) URL is needed.",
        'Include it in the words, e.g. nemovideo-mcp route "upload ~/Videos/clip.mp4".',
      );
    }
    const target = TARGETS[route.action];
    const kept: CliValues = {};
    const dropped: string[] = [];
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined || name === "dry-run") continue;
      if (
        !(routeCommand.flags as readonly string[]).includes(name) ||
        target.flags.includes(name as CommandFlag)
      ) {
        kept[name] = value;
      } else {
        dropped.push(`--${name}`);
      }
    }
    const run = target.prepare(route.args, kept);
    const paid = route.action === "send";
    const command = commandLine(route, kept);
    const plan = { action: route.action, args: route.args, command, spends_credits: paid };
    const what = paid
      ? `${command}: the words go to the agent as a message, which SPENDS CREDITS`
      : `${command} (free)`;
    if (dryRun) {
      return async () => ({ json: { ...plan, dry_run: true }, text: `Would run ${what}.` });
    }
    return async (ctx) => {
      ctx.note(`Routing to ${what}.`);
      if (dropped.length > 0) ctx.note(`${dropped.join(", ")} does not apply to ${route.action}; ignored.`);
      const result = await run(ctx);
      return { ...result, json: { ...result.json, action: route.action, spends_credits: paid } };
    };
  },
};
