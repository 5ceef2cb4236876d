/** Readers for MCP tool results, shared by every test that calls a tool. */

/** The text of a tool result (all text items, joined by newlines). */
export function resultText(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content
    .filter((c) => c.type === "text")
    .map((c) => c.text ?? "")
    .join("\n");
}

/** The structured content of a tool result, typed loosely for assertions. */
export function sc(result: unknown): Record<string, any> {
  return (result as { structuredContent?: Record<string, any> }).structuredContent ?? {};
}
