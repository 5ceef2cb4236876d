import { z } from "zod";
import type { ServerDeps } from "../context.js";

/** A language code for a new session (en, zh, pt-BR…). */
export const languageInput = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$/, "language must be a language code such as en, zh or pt-BR")
  .optional();

const SCRIPTS: ReadonlyArray<[RegExp, string]> = [
  [/[\u3040-\u30ff]/, "ja"],
  [/[\uac00-\ud7af]/, "ko"],
  [/[\u4e00-\u9fff]/, "zh"],
];

/** The skill's default language: its SKILL.md frontmatter `language`, else English. */
function skillLanguage(deps: ServerDeps): string {
  const value = deps.skill.frontmatter.language;
  return typeof value === "string" && languageInput.safeParse(value).success ? value.trim() : "en";
}

/**
 * The language a new session is created in: the one asked for, else the script the person writes in
 * (Chinese, Japanese, Korean), else the skill's default.
 */
export function sessionLanguage(deps: ServerDeps, asked: string | undefined, message?: string): string {
  if (asked) return asked;
  for (const [pattern, code] of SCRIPTS) if (message && pattern.test(message)) return code;
  return skillLanguage(deps);
}
