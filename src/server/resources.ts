import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { SkillInfo } from "../skills.js";
import type { ServerDeps } from "./context.js";
import { stateView } from "./tools/get-state.js";

function sessionIdOf(value: string | string[] | undefined): string {
  const id = Array.isArray(value) ? value[0] : value;
  const parsed = z
    .string()
    .regex(/^[\w.:-]{1,200}$/)
    .safeParse(id);
  if (!parsed.success) throw new Error("Invalid session id in the resource URI.");
  return parsed.data;
}

/** Timeline resources per session, and each bundled SKILL.md. */
export function registerResources(server: McpServer, deps: ServerDeps, skills: SkillInfo[]): void {
  const listCurrent = async () => {
    const current = await deps.sessions.current().catch(() => undefined);
    return current ? [current.sessionId] : [];
  };

  server.registerResource(
    "session-state",
    new ResourceTemplate("nemovideo://sessions/{session_id}/state", {
      list: async () => ({
        resources: (await listCurrent()).map((id) => ({
          uri: `nemovideo://sessions/${id}/state`,
          name: `Timeline of session ${id} (JSON)`,
          mimeType: "application/json",
        })),
      }),
    }),
    {
      title: "Session timeline (JSON)",
      description: "The session's timeline as JSON: tracks, segments, duration, exportable.",
      mimeType: "application/json",
    },
    async (uri, variables) => {
      const view = await stateView(deps, sessionIdOf(variables.session_id));
      return {
        contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(view, null, 2) }],
      };
    },
  );

  server.registerResource(
    "session-timeline",
    new ResourceTemplate("nemovideo://sessions/{session_id}/timeline", {
      list: async () => ({
        resources: (await listCurrent()).map((id) => ({
          uri: `nemovideo://sessions/${id}/timeline`,
          name: `Timeline of session ${id} (text)`,
          mimeType: "text/plain",
        })),
      }),
    }),
    {
      title: "Session timeline (text)",
      description: "The session's timeline as one summary line.",
      mimeType: "text/plain",
    },
    async (uri, variables) => {
      const view = await stateView(deps, sessionIdOf(variables.session_id));
      return { contents: [{ uri: uri.href, mimeType: "text/plain", text: view.summary }] };
    },
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
