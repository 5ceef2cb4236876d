import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ElicitRequestFormParams } from "@modelcontextprotocol/sdk/types.js";
import type { AgentQuestion } from "../../client/questions.js";
import type { TurnUpdate } from "../../client/turns.js";
import type { TurnView } from "../../jobs/views.js";
import type { ServerDeps } from "../context.js";

/** Questions answered in one call at most: an agent that keeps asking gets its question relayed instead. */
const MAX_ROUNDS = 5;
/** Below this much time left in the call, the question is relayed rather than asked. */
const MIN_ASK_MS = 1_000;

type FormSchema = ElicitRequestFormParams["requestedSchema"];

/** One form field per question: an enum of its options, else free text. */
function formFor(questions: readonly AgentQuestion[]): FormSchema {
  const properties: FormSchema["properties"] = {};
  questions.forEach((q, i) => {
    const key = `answer${i + 1}`;
    const title = q.prompt.slice(0, 200);
    if (q.options?.length && !q.allow_multiple) {
      properties[key] = { type: "string", title, enum: q.options };
    } else {
      const hint = q.options?.length ? `Options: ${q.options.join("; ")} (several may be chosen)` : undefined;
      properties[key] = { type: "string", title, ...(hint ? { description: hint } : {}) };
    }
  });
  return { type: "object", properties, required: Object.keys(properties) };
}

/** The accepted form as the next message: the chosen option's words (one line per question when several). */
function answerText(
  questions: readonly AgentQuestion[],
  content: Record<string, unknown>,
): string | undefined {
  const answers = questions.map((q, i) => {
    const value = content[`answer${i + 1}`];
    const text = Array.isArray(value) ? value.map(String).join(", ") : typeof value === "string" ? value : "";
    return { q, text: text.trim() };
  });
  if (answers.some((a) => a.text === "")) return undefined;
  const [only] = answers;
  if (answers.length === 1 && only) return only.text;
  return answers.map((a) => `${a.q.prompt} ${a.text}`).join("\n");
}

/** True when the connected client declared the elicitation capability (form mode) and can be asked. */
function canElicit(server: McpServer, deps: ServerDeps): boolean {
  if (deps.hosted) return false;
  const elicitation = server.server.getClientCapabilities()?.elicitation;
  return elicitation?.form !== undefined;
}

interface ElicitContext {
  server: McpServer;
  deps: ServerDeps;
  signal: AbortSignal;
  /** When the calling tool's wait ends (its wait_seconds from the start of the call). */
  deadline: number;
  onUpdate?: ((u: TurnUpdate) => void) | undefined;
}

/**
 * While the turn waits for an answer and the client can ask the person itself: asks (elicitation/create, form
 * mode), sends the accepted answer as the session's next message and waits again, all within the same call's
 * deadline. Returns the last view: completed/running/failed, or still awaiting_input after a decline, a cancel,
 * no capability, or no time left.
 */
export async function answerQuestions(view: TurnView, ctx: ElicitContext): Promise<TurnView> {
  const { server, deps, signal } = ctx;
  let current = view;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (current.status !== "awaiting_input" || !canElicit(server, deps) || signal.aborted) return current;
    const left = ctx.deadline - Date.now();
    if (left < MIN_ASK_MS) return current;
    const questions = current.questions ?? (current.question ? [current.question] : []);
    if (questions.length === 0) return current;
    let answer: string | undefined;
    try {
      const result = await server.server.elicitInput(
        {
          mode: "form",
          message:
            questions.length === 1
              ? `NemoVideo's agent asks: ${questions[0]?.prompt}`
              : "NemoVideo's agent needs a few answers before it goes on.",
          requestedSchema: formFor(questions),
        },
        { signal, timeout: left },
      );
      if (result.action !== "accept" || !result.content) return current;
      answer = answerText(questions, result.content);
    } catch (err) {
      deps.logger.info(
        `Asking the person failed (${(err as Error).message}); relaying the question instead.`,
      );
      return current;
    }
    if (answer === undefined) return current;
    deps.logger.debug(
      `The person answered the agent's question; sending it to session ${current.session_id}.`,
    );
    const turn = await deps.jobs.turns.start({
      sessionId: current.session_id,
      message: answer,
      onUpdate: ctx.onUpdate,
    });
    // Cancelling the call now stops the answer's turn, as for send_message.
    const onAbort = () => turn.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      current = await deps.jobs.turns.wait(turn.id, Math.max(0, ctx.deadline - Date.now()), signal);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
  return current;
}
