import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { NemoError, SessionNotFoundError } from "../client/errors.js";
import { redact } from "../log.js";
import type { SkillInfo } from "../skills.js";
import type { ServerDeps } from "./context.js";
import { sessionStateView } from "./tools/get-state.js";

/** JSON-RPC code of an unknown resource (MCP spec). */
const RESOURCE_NOT_FOUND = -32002;

function sessionIdOf(value: string | string[] | undefined): string {
  const id = Array.isArray(value) ? value[0] : value;
  const parsed = z
    .string()
    .regex(/^[\w.:-]{1,200}$/)
    .safeParse(id);
  if (!parsed.success) {
    throw new McpError(
      ErrorCode.InvalidParams,
      "Invalid session id in the resource URI: use letters, digits, _ . : - (at most 200).",
    );
  }
  return parsed.data;
}

/**
 * A session's timeline for a resource read. Reading never creates or replaces a session, and failures
 * carry protocol error codes (never a backend code such as 1002).
 */
async function readSessionView(deps: ServerDeps, raw: string | string[] | undefined) {
  const sessionId = sessionIdOf(raw);
  try {
    return await sessionStateView(deps, sessionId);
  } catch (err) {
    if (err instanceof SessionNotFoundError) {
      throw new McpError(
        RESOURCE_NOT_FOUND,
        `No session with the id "${sessionId}" is known to NemoVideo; nothing was changed. List the resources or use create_session.`,
      );
    }
    const message = err instanceof NemoError ? err.userMessage : (err as Error).message;
    throw new McpError(ErrorCode.InternalError, redact(`Could not read the timeline: ${message}`));
  }
}

/** Timeline resources per session, and each bundled SKILL.md. */
export function registerResources(server: McpServer, deps: ServerDeps, skills: SkillInfo[]): void {
  const listCurrent = async () => {
    const current = await deps.sessions.current().catch(() => undefined);
    return current ? [current.sessionId] : [];
  };

  /** One view of the session's timeline as a resource template, listed for the current session. */
  const timelineResource = (
    name: string,
    path: "state" | "timeline",
    form: { label: string; mimeType: string; description: string },
    text: (view: Awaited<ReturnType<typeof readSessionView>>) => string,
  ) =>
    server.registerResource(
      name,
      new ResourceTemplate(`nemovideo://sessions/{session_id}/${path}`, {
        list: async () => ({
          resources: (await listCurrent()).map((id) => ({
            uri: `nemovideo://sessions/${id}/${path}`,
            name: `Timeline of session ${id} (${form.label})`,
            mimeType: form.mimeType,
          })),
        }),
      }),
      { title: `Session timeline (${form.label})`, description: form.description, mimeType: form.mimeType },
      async (uri, variables) => {
        const view = await readSessionView(deps, variables.session_id);
        return { contents: [{ uri: uri.href, mimeType: form.mimeType, text: text(view) }] };
      },
    );

  timelineResource(
    "session-state",
    "state",
    {
      label: "JSON",
      mimeType: "application/json",
      description: "The session's timeline as JSON: tracks, segments, duration, exportable.",
    },
    (view) => JSON.stringify(view, null, 2),
  );
  timelineResource(
    "session-timeline",
    "timeline",
    { label: "text", mimeType: "text/plain", description: "The session's timeline as one summary line." },
    (view) => view.summary,
  );

  for (const skill of skills) {
    server.registerResource(
      `skill-${skill.name}`,
      `nemovideo://skills/${skill.name}`,
      {
        title: `Skill: ${skill.name}`,
        description: skill.description,
        mimeType: "text/markdown",
      },
      async (uri) => {
        const { readFile } = await import("node:fs/promises");
        return {
          contents: [{ uri: uri.href, mimeType: "text/markdown", text: await readFile(skill.path, "utf8") }],
        };
      },
    );
  }
}
