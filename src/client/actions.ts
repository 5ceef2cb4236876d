/**
 * What a person can do next, named by meaning. Client and job texts carry them as markers
 * (`act("check_state")` → "{check_state}"); each face words them for its audience: tool names
 * for MCP, commands for the CLI.
 */
const NEXT_ACTIONS = [
  "check_state",
  "new_session",
  "send",
  "upload",
  "export",
  "resume_export",
  "stop_export",
  "resume_turn",
  "stop_turn",
  "credits",
  "choose_folder",
] as const;

/** A next action, by meaning. */
type NextAction = (typeof NEXT_ACTIONS)[number];

/** How a face names every next action. */
export type Vocabulary = Readonly<Record<NextAction, string>>;

/** The marker of `action` in a neutral text, replaced by the face's word. */
export function act(action: NextAction): `{${NextAction}}` {
  return `{${action}}`;
}

const MARKER = new RegExp(`\\{(${NEXT_ACTIONS.join("|")})\\}`, "g");

/** Replaces every next-action marker in `text` with the face's word for it. */
export function wordActions(text: string, words: Vocabulary): string {
  return text.replace(MARKER, (_m, action: NextAction) => words[action]);
}
