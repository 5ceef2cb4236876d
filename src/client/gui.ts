/**
 * GUI-talk translation. The backend agent writes as if the user sat in NemoVideo's web editor ("click Export",
 * "drag the clip", "打开素材面板"); here the user only has words and our tools. Each rule below rewrites one
 * kind of phrase into what the user can do instead, keeping the rest of the sentence. Text without GUI talk
 * comes back byte-identical.
 */

/** What the user can do instead of a GUI gesture, as a verb phrase ("ask me to …") for English text. */
const EN = {
  export: "ask me to export ({export})",
  state: "ask for the current state ({check_state})",
  timeline: "ask for the timeline summary ({check_state})",
  credits: "ask for your credits ({credits})",
  upload: "send me the file paths or URLs ({upload})",
  inWords: "tell me the edit in words",
  move: "tell me to move",
} as const;

const ZH = {
  export: "让我导出（{export}）",
  state: "让我显示当前状态（{check_state}）",
  timeline: "让我给出时间线摘要（{check_state}）",
  credits: "让我查询积分（{credits}）",
  upload: "把文件路径或链接发给我（{upload}）",
  inWords: "用文字告诉我要做的修改",
  inWordsThen: "通过文字告诉我来",
} as const;
const zhMoveTo = (what: string | undefined): string => `告诉我把${what ?? ""}移到`;

const GERUNDS: Readonly<Record<string, string>> = {
  ask: "asking",
  tell: "telling",
  send: "sending",
  reply: "replying",
};

/** "ask me to …" → "asking me to …", for "by clicking X" and the like. */
function gerund(phrase: string): string {
  const [first = "", ...rest] = phrase.split(" ");
  return [GERUNDS[first] ?? first, ...rest].join(" ");
}

/** The phrase in the verb form of the GUI verb it replaces ("click" → base, "clicking" → gerund). */
function inFormOf(verb: string | undefined, phrase: string): string {
  return verb !== undefined && /ing$/i.test(verb) ? gerund(phrase) : phrase;
}

// Where a control sits on screen ("in the top right corner", "on the left", "in the toolbar", "below").
const WHERE = String.raw`(?:\s+(?:in|at|on|from)\s+the\s+(?:(?:top|bottom|upper|lower)(?:[\s-]+(?:right|left))?|right|left)(?:[\s-]+hand)?(?:\s+(?:corner|side|panel|sidebar|toolbar|menu))?(?:\s+of\s+the\s+(?:screen|page|editor|window|timeline|panel))?|\s+(?:in|on)\s+the\s+(?:toolbar|sidebar|menu\s+bar|top\s+bar|header|side\s+panel)|\s+(?:below|above))?`;
const CLICK = String.raw`\b((?:[Dd]ouble[\s-]?)?(?:[Cc]lick|[Pp]ress)(?:ing)?|(?:[Dd]ouble[\s-]?)?[Tt]ap(?:ping)?)(?:\s+on)?\s+(?:the\s+)?`;
const ZH_WHERE =
  "(?:页面)?(?:右上角|左上角|右下角|左下角|上方|下方|顶部|底部|右侧|左侧|左边|右边|下面|上面)?(?:的)?";
const ZH_CLICK = "(?:点击|单击|点按|轻点|点一下|按一下)(?:一下)?";

/** Words that follow "click" but name a real link, a key, or nothing in particular: leave those alone. */
const NOT_A_BUTTON =
  /^(here|this|that|it|them|link|the link|url|below|above|there|anywhere|enter|return|space|spacebar|esc|escape|shift|ctrl|cmd|command|alt|option)$/i;
const ACKNOWLEDGE = /^(ok|okay|yes|next|done|continue|proceed|confirm|submit|go|got it|finish)$/i;
const NO_OBJECT = /^(start|begin|retry|undo|redo|generate|create|render|regenerate)$/i;
const VERBS =
  /^(apply|save|generate|create|render|regenerate|retry|undo|redo|delete|remove|replace|add|insert|change|make|use|try|enable|disable|turn|translate|enhance|trim|split|merge|crop|mute|unmute|cancel|reset|restore|publish|share|start|begin|auto-?\w*|adjust|update|edit|remix|dub|duplicate|copy)$/i;

/** The English phrase for clicking a button with this label. */
function clickAction(label: string): string {
  const lower = label.toLowerCase().replace(/\s+/g, " ").trim();
  const first = lower.split(" ")[0] ?? "";
  if (/^(export|download)\b/.test(lower)) return EN.export;
  if (/^(upload|import|add media|add files?)\b/.test(lower)) return EN.upload;
  if (/^(preview|play|timeline)\b/.test(lower)) return EN.timeline;
  if (/^(credits?|billing|account|top up|top-up|recharge|buy credits|upgrade)\b/.test(lower))
    return EN.credits;
  if (ACKNOWLEDGE.test(lower)) return `reply "${lower}"`;
  if (lower.includes(" ")) return VERBS.test(first) ? `ask me to ${lower}` : `ask me to use ${label}`;
  if (NO_OBJECT.test(lower)) return `ask me to ${lower}`;
  return VERBS.test(lower) ? `ask me to ${lower} it` : `ask me to use ${label}`;
}

/** The Chinese phrase for clicking a button with this label. */
function zhClickAction(label: string): string {
  if (/^(导出|下载)/.test(label)) return ZH.export;
  if (/^上传/.test(label)) return ZH.upload;
  if (/^(预览|播放|时间线)/.test(label)) return ZH.timeline;
  if (/(充值|积分|账户|账号|帐户)/.test(label)) return ZH.credits;
  return `告诉我“${label}”`;
}

/** Returns the replacement (the match itself to keep it); `after` is a few characters of what follows. */
type Rewrite = (match: string, groups: ReadonlyArray<string | undefined>, after: string) => string;
interface Rule {
  pattern: RegExp;
  rewrite: Rewrite;
}

const rule = (source: string, rewrite: Rewrite, flags = "g"): Rule => ({
  pattern: new RegExp(source, flags),
  rewrite,
});
const fixed =
  (phrase: string): Rewrite =>
  (_m, [verb]) =>
    inFormOf(verb, phrase);

const RULES: readonly Rule[] = [
  // --- account and billing → credits
  rule(
    String.raw`\b(check|checking|visit|visiting|go\s+to|going\s+to|head\s+(?:over\s+)?to|open|opening|see|review|log\s+in\s+to)\s+(?:your|the)\s+(?:NemoVideo\s+)?(?:account|billing|credits?\s+balance|subscription)(?:\s+(?:billing|subscription))?(?:\s+(?:page|settings|section|dashboard|center|centre|panel|tab|details|balance))?(?:\s+page)?`,
    fixed(EN.credits),
    "gi",
  ),
  rule(
    String.raw`\b(?:on|in|from|via|at)\s+(?:the|your)\s+(?:account|billing)\s+(?:page|settings|section|dashboard|center|centre)`,
    () => `by ${gerund(EN.credits)}`,
    "gi",
  ),
  // --- Export button → export
  rule(
    `${CLICK}(?:["'“‘\\[]\\s*)?(?:export|download)(?:\\s+(?:video|now|mp4))?(?:\\s*["'”’\\]])?(?:\\s+(?:button|icon|option))?${WHERE}`,
    fixed(EN.export),
    "gi",
  ),
  rule(
    `\\b(use|using)\\s+the\\s+["'“]?(?:export|download)["'”]?\\s+(?:button|icon|option|feature)${WHERE}`,
    fixed(EN.export),
    "gi",
  ),
  rule(
    `\\b(?:the\\s+)?["'“]?Export["'”]?\\s+(?:button|icon)${WHERE}`,
    () => "export (just ask me: {export})",
    "gi",
  ),
  // --- preview in the timeline → state summary
  rule(
    String.raw`\b(preview|previewing|view|viewing|check|checking|see|review|reviewing|watch|watching|play)(?:\s+(?:it|them|this|that|(?:the|your)\s+(?:final\s+|new\s+)?(?:result|video|change|edit|clip|effect|cut|output)s?))?\s+(?:in|on)\s+the\s+(?:timeline|preview)(?:\s+(?:panel|view|editor|window|player))?`,
    fixed(EN.timeline),
    "gi",
  ),
  rule(
    String.raw`\b(?:in|on)\s+the\s+(?:timeline|preview)\s+(?:panel|window|player|view)`,
    () => "in the timeline summary (just ask me: {check_state})",
    "gi",
  ),
  // --- upload by drag and drop → upload
  rule(
    String.raw`\b(drag(?:ging)?(?:[\s-]*(?:and|&|n)[\s-]*drop(?:ping)?)?|drop(?:ping)?)\s+(?:your\s+|the\s+|some\s+|a\s+)?(?:files?|media|videos?|clips?|images?|photos?|footage|assets?)(?:\s+here|\s+into\s+the\s+(?:upload\s+)?(?:area|box|window|page|zone|chat)|\s+to\s+upload(?:\s+(?:it|them))?)(?:\s+to\s+upload(?:\s+(?:it|them))?)?`,
    fixed(EN.upload),
    "gi",
  ),
  // --- drag and drop → say the edit in words
  rule(
    String.raw`\b(?:by|with|via|using|through)\s+(?:simple\s+|easy\s+)?drag(?:ging)?(?:[\s-]*(?:and|&|n)[\s-]*drop(?:ping)?)?`,
    () => `by ${gerund(EN.inWords)}`,
    "gi",
  ),
  rule(
    String.raw`\b(drag|dragging)\s+the\s+(volume|speed|opacity|brightness|zoom|fade|timing)\s+slider`,
    (_m, [verb, what]) => `${inFormOf(verb, "tell me to set")} the ${what?.toLowerCase()}`,
    "gi",
  ),
  rule(
    String.raw`\b(drag|dragging)(?:\s*(?:and|&)\s*drop(?:ping)?)?\s+(?=(?:the|a|an|your|this|that|it|them|these|those|each|every|all)\b)`,
    (_m, [verb]) => `${inFormOf(verb, EN.move)} `,
    "gi",
  ),
  rule(String.raw`\bdrag(?:[\s-]*(?:and|&|n)[\s-]*drop)\b`, () => EN.inWords, "gi"),
  // --- open a panel → state
  rule(
    `\\b(open|opening|go\\s+to|going\\s+to|navigate\\s+to|switch\\s+to)\\s+(?:up\\s+)?(?:the\\s+|your\\s+)?(?:(?!new\\b|browser\\b|link\\b)["'“‘]?[\\w-]+["'”’]?\\s+){0,3}?(?:panel|tab|menu|sidebar|side\\s+panel|library|editor|inspector|drawer|dialog|settings|timeline)\\b(?:\\s+(?:panel|tab|view|window|sidebar|editor))?${WHERE}`,
    fixed(EN.state),
    "gi",
  ),
  // --- "click the title to edit it": the edit itself is what the user should say
  rule(
    `${CLICK}(?:a\\s+|any\\s+)?[a-z][\\w-]*(?:\\s+[a-z][\\w-]*)?\\s+to\\s+(?:edit|change|adjust|modify|trim|rename|replace|select)(?:\\s+(?:it|them))?(?=[.,!;:)\\n]|$)`,
    fixed(EN.inWords),
  ),
  // --- click a button → the same action through the tools
  rule(
    `${CLICK}(?:"([^"\\n]{1,40})"|“([^”\\n]{1,40})”|'([^'\\n]{1,40})'|\\[([^\\]\\n]{1,40})\\]|\\*\\*([^*\\n]{1,40})\\*\\*|([A-Z][\\w-]*(?:\\s+[A-Z][\\w-]*){0,3})|([a-z][\\w-]*(?:\\s+[a-z][\\w-]*){0,2})(?=\\s+button))(?:\\s+(?:button|icon|option|tab))?${WHERE}`,
    (match, [verb, ...labels]) => {
      const label = labels.find((l) => l !== undefined);
      if (label === undefined || NOT_A_BUTTON.test(label.trim())) return match;
      return inFormOf(verb, clickAction(label));
    },
  ),

  // --- Chinese: 账户/充值 → 积分
  rule(
    "(?:请)?(?:前往|去|到|进入|打开|登录|查看)(?:你的|您的)?(?:个人)?(?:账户|账号|帐户|帐号)(?:页面|中心|设置|余额|页)?(?:(?:中|里)?(?:进行)?(?:充值|查看(?:余额|积分)?))?",
    () => `可以${ZH.credits}`,
  ),
  rule("(?:请先?)?(?:前往|去)充值(?:页面)?|(?:请先?)充值|充值页面", () => `可以${ZH.credits}`),
  // --- 点击导出 / 导出按钮 → export
  rule(
    `${ZH_CLICK}${ZH_WHERE}[「“"【\\[]?(?:导出|下载)(?:视频)?[」”"】\\]]?(?:按钮|图标|键)?`,
    () => ZH.export,
  ),
  rule('(?:使用)?[「“"【]?导出[」”"】]?(?:按钮|功能)', () => ZH.export),
  // --- 在时间线预览 → 时间线摘要
  rule(
    "(?:在|于)?时间线(?:上|中|里)?(?:预览|查看)(?:效果|一下)?|(?:预览|查看)(?:一下)?时间线|(?:在|于)?预览(?:窗口|区域|面板)(?:中|里)?(?:预览|查看)?(?:效果|一下)?",
    () => ZH.timeline,
  ),
  // --- 拖拽 → 用文字说出修改
  rule(
    "(?:直接)?(?:将|把)([^，。,；;！!？?\\n]{1,20}?)(?:拖拽|拖动|拖放|拖曳|拖)(?:到|至|进|入)",
    (_m, [what]) => zhMoveTo(what),
  ),
  rule("(?:拖拽|拖动|拖放|拖曳)([^，。,；;！!？?\\n]{1,20}?)(?:到|至)", (_m, [what]) => zhMoveTo(what)),
  rule(
    "(?:通过|用|使用)?(?:拖拽|拖放|拖曳|拖动)(?:的方式|操作|功能)?(?:来)?(?=[调改移换排放剪替删加])",
    () => ZH.inWordsThen,
  ),
  rule("(?:通过|用|使用)?(?:拖拽|拖放|拖曳|拖动)(?:的方式|操作|功能)?", () => ZH.inWords),
  // --- 打开面板 → 当前状态
  rule(
    '(?:打开|进入|切换到)(?!浏览器|链接)(?:左侧|右侧|顶部|底部|上方|下方)?的?[「“"【]?[\\u4e00-\\u9fffA-Za-z]{0,8}?[」”"】]?(?:面板|窗口|标签页|选项卡|菜单|侧边栏|素材库|编辑器|时间线|设置)',
    // a comma keeps "打开素材面板查看文件" readable once the gesture became a request
    (_m, _g, after) => (/^[\u4e00-\u9fff]/.test(after) ? `${ZH.state}，` : ZH.state),
  ),
  // --- 点击[按钮] → 告诉我
  rule(
    `${ZH_CLICK}${ZH_WHERE}(?:[「“"【\\[]([^」”"】\\]\\n]{1,15})[」”"】\\]](?:按钮|图标|选项)?|([\\u4e00-\\u9fffA-Za-z0-9]{1,8}?)(?:按钮|图标|选项)|(重新生成|应用|确认|确定|生成|保存|提交|继续|开始|撤销|替换|删除|下一步|完成|预览|播放|上传|充值))`,
    (_m, labels) => zhClickAction(labels.find((l) => l !== undefined) ?? ""),
  ),
];

/** True when a phrase starting at the end of `before` begins a sentence (or a list item). */
function startsSentence(before: string): boolean {
  const trimmed = before.replace(/[\s*_"'“‘([>#]+$/u, "");
  return trimmed === "" || /[.!?。！？:\n]$/.test(trimmed) || /(^|\n)\s*([-*•]|\d+[.)])$/.test(trimmed);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function applyRule(text: string, rule: Rule): string {
  return text.replace(rule.pattern, (...args: unknown[]) => {
    const match = args[0] as string;
    // replace() passes: match, groups…, offset, whole string[, named groups]
    const hasNamed = typeof args[args.length - 1] === "object";
    const offset = args[args.length - (hasNamed ? 3 : 2)] as number;
    const groups = args.slice(1, args.length - (hasNamed ? 3 : 2)) as Array<string | undefined>;
    const out = rule.rewrite(match, groups, text.slice(offset + match.length, offset + match.length + 8));
    if (out === match || out === "") return out;
    // a short look-back is enough to see a sentence start, and keeps long texts linear
    const before = text.slice(Math.max(0, offset - 80), offset);
    const wasCapital = /^[A-Z]/.test(match);
    const afterColon = /:\s*$/.test(before);
    return startsSentence(before) && (wasCapital || !afterColon) ? capitalize(out) : out;
  });
}

/**
 * Rewrites the backend's GUI talk ("click Apply", "open the Assets panel", "点击导出按钮", "拖拽到时间线")
 * into what the user can do here (ask for it, state, export, credits), English and Chinese; the actions
 * stay markers ({export}...) for the face to word (see actions.ts).
 */
export function translateGuiText(text: string): string {
  // Line by line, so that no rewrite reaches across a line break into the next line.
  return text
    .split(/(\r?\n)/)
    .map((part, i) => (i % 2 === 1 ? part : RULES.reduce((line, r) => applyRule(line, r), part)))
    .join("");
}
