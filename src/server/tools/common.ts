import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { wordActions } from "../../client/actions.js";
import { NemoError } from "../../client/errors.js";
import { redact } from "../../log.js";
import { TOOL_WORDS } from "../wording.js";

/** The `session_id` argument: trimmed, non-empty. */
export const sessionIdInput = z
  .string()
  .trim()
  .min(1, "session_id must not be empty")
  .max(200, "session_id is too long")
  .regex(/^[\w.:-]+$/, "session_id may only contain letters, digits, _ . : -")
  .refine((id) => !/^\.+$/.test(id), "session_id must not be only dots")
  .optional()
  .describe(
    "NemoVideo session id; defaults to the current session of the active skill (created on first need)",
  );

/** The `render_id` argument: trimmed, non-empty. */
export const renderIdInput = z
  .string()
  .trim()
  .min(1, "render_id must not be empty")
  .max(200)
  .describe("render_id from export_video");

/** The `turn_id` argument: trimmed, non-empty. */
export const turnIdInput = z
  .string()
  .trim()
  .min(1, "turn_id must not be empty")
  .max(200)
  .describe("turn_id from send_message");

/** `wait_seconds` with the documented default and cap. */
export function waitSecondsInput(defaultSeconds: number) {
  return z
    .number()
    .min(0, "wait_seconds must be 0 or more")
    .max(900, "wait_seconds can be at most 900")
    .default(defaultSeconds)
    .describe(
      `How long to wait before returning while work goes on in the background (default ${defaultSeconds}, max 900)`,
    );
}

/** What a cancel tool reports: cancelled now, or already finished before. */
export const cancelStatusOutput = z.enum(["cancelled", "completed", "failed"]);

/** Annotations of the cancel tools: they change state, harmlessly, and may be repeated. */
export function cancelAnnotations(openWorldHint: boolean) {
  return { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint };
}

/** The words of a cancel that found its job already finished. */
export function alreadyFinished(what: string, status: "completed" | "failed"): string {
  return `${what} had already ${status}; nothing to cancel.`;
}

/** A successful result: structured content plus a short text for people. */
export function ok<T extends Record<string, unknown>>(
  structuredContent: T,
  text: string,
  extra: CallToolResult["content"] = [],
): CallToolResult {
  return { content: [{ type: "text", text: redact(text) }, ...extra], structuredContent };
}

/** The plain-words text of any error: cause, then next step; never a token. */
export function errorText(err: unknown): string {
  if (err instanceof NemoError) return redact(wordActions(err.userMessage, TOOL_WORDS));
  const message = err instanceof Error ? err.message : String(err);
  return redact(`Unexpected error: ${message}`);
}

/** An expected failure as an `isError` result (never thrown to the SDK). */
export function fail(err: unknown, structuredContent?: Record<string, unknown>): CallToolResult {
  const result: CallToolResult = { content: [{ type: "text", text: errorText(err) }], isError: true };
  if (structuredContent) result.structuredContent = structuredContent;
  return result;
}

/** Runs a handler and turns any exception into an `isError` result, logging unexpected ones. */
export async function guard(
  logger: { error: (m: string) => void },
  tool: string,
  run: () => Promise<CallToolResult>,
): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof NemoError))
      logger.error(`${tool} failed unexpectedly: ${(err as Error)?.stack ?? err}`);
    return fail(err);
  }
}
