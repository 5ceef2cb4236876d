/**
 * Questions the backend agent asks before it can go on (which voice, which aspect ratio): an `ask_question`
 * function call in the stream, usually without a response, after which the stream ends and the turn waits for
 * the user's answer, sent as the next message of the same session.
 */
import { z } from "zod";

/** One question of the agent, normalised. */
export interface AgentQuestion {
  id?: string | undefined;
  prompt: string;
  /** The choices offered, as the words to send back; absent for a free-text question. */
  options?: string[] | undefined;
  allow_multiple?: boolean | undefined;
}

/** Names under which the agent's question tool is known. */
const QUESTION_TOOLS = new Set(["ask_question", "ask_questions", "askquestion", "ask_user"]);

/** True when a backend tool call is the agent asking the user something. */
export function isQuestionCall(name: string): boolean {
  return QUESTION_TOOLS.has(name.trim().toLowerCase());
}

const MAX_QUESTIONS = 10;
const MAX_OPTIONS = 50;
const MAX_CHARS = 2_000;

const str = z.string().optional().catch(undefined);
const OptionSchema = z.union([
  z.string(),
  z.number().transform(String),
  z.looseObject({ label: str, value: z.unknown().optional(), text: str, title: str }),
]);
const QuestionSchema = z.looseObject({
  id: z
    .union([z.string(), z.number().transform(String)])
    .optional()
    .catch(undefined),
  prompt: str,
  question: str,
  text: str,
  title: str,
  options: z.array(z.unknown()).optional().catch(undefined),
  choices: z.array(z.unknown()).optional().catch(undefined),
  allow_multiple: z.boolean().optional().catch(undefined),
  allowMultiple: z.boolean().optional().catch(undefined),
  multiple: z.boolean().optional().catch(undefined),
});

function clip(text: string): string {
  const trimmed = text.replace(/\s+/g, " ").trim();
  return trimmed.length > MAX_CHARS ? `${trimmed.slice(0, MAX_CHARS - 1)}…` : trimmed;
}

function optionWords(raw: unknown): string | undefined {
  const parsed = OptionSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const option = parsed.data;
  if (typeof option === "string") return clip(option) || undefined;
  const value =
    typeof option.value === "string" || typeof option.value === "number" ? option.value : undefined;
  const words =
    option.label ?? option.text ?? option.title ?? (value === undefined ? undefined : String(value));
  return words === undefined ? undefined : clip(words) || undefined;
}

function normalise(raw: unknown): AgentQuestion | undefined {
  if (typeof raw === "string") return clip(raw) ? { prompt: clip(raw) } : undefined;
  const parsed = QuestionSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const q = parsed.data;
  const prompt = clip(q.prompt ?? q.question ?? q.text ?? q.title ?? "");
  const options = (q.options ?? q.choices ?? [])
    .slice(0, MAX_OPTIONS)
    .map(optionWords)
    .filter((o): o is string => o !== undefined);
  if (prompt === "" && options.length === 0) return undefined;
  const question: AgentQuestion = { prompt: prompt || "Please choose one of the options." };
  if (q.id !== undefined && q.id !== "") question.id = q.id;
  if (options.length > 0) question.options = options;
  const multiple = q.allow_multiple ?? q.allowMultiple ?? q.multiple;
  if (multiple !== undefined) question.allow_multiple = multiple;
  return question;
}

/**
 * The questions in an `ask_question` call's arguments: `{questions: [{id, prompt, options, allow_multiple}]}`,
 * tolerating a single `question` string (with `options` beside it) and options given as `{label}` objects.
 * Never throws; a call whose arguments hold no question yields one generic question.
 */
export function parseQuestions(args: unknown): AgentQuestion[] {
  let source: unknown = args;
  if (typeof source === "string") {
    try {
      source = JSON.parse(source);
    } catch {
      // a bare string is the question itself
    }
  }
  const list: AgentQuestion[] = [];
  if (source && typeof source === "object" && !Array.isArray(source)) {
    const record = source as Record<string, unknown>;
    if (Array.isArray(record.questions)) {
      for (const raw of record.questions.slice(0, MAX_QUESTIONS)) {
        const q = normalise(raw);
        if (q) list.push(q);
      }
    }
    if (list.length === 0) {
      const q = normalise(record);
      if (q) list.push(q);
    }
  } else if (Array.isArray(source)) {
    for (const raw of source.slice(0, MAX_QUESTIONS)) {
      const q = normalise(raw);
      if (q) list.push(q);
    }
  } else {
    const q = normalise(source);
    if (q) list.push(q);
  }
  return list.length > 0
    ? list
    : [{ prompt: "NemoVideo's agent needs more information before it can go on." }];
}

/** The question as text a person (or a model relaying it) can answer: the prompt, then numbered options. */
export function questionText(questions: readonly AgentQuestion[]): string {
  return questions
    .map((q) => {
      const lines = [q.prompt];
      q.options?.forEach((option, i) => {
        lines.push(`  ${i + 1}. ${option}`);
      });
      if (q.options && q.allow_multiple) lines.push("  (several may be chosen)");
      return lines.join("\n");
    })
    .join("\n\n");
}
