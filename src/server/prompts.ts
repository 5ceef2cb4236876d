import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { SkillInfo } from "../skills.js";

const QUICK_START: Record<string, { title: string; example: string; mediaHint: string }> = {
  "ai-voiceover-for": {
    title: "Add an AI voiceover to a video",
    example: "add a natural AI voiceover in English for my product walkthrough video",
    mediaHint: "the video to narrate",
  },
  "ai-video-generator-ai": {
    title: "Generate a video from a script or prompt",
    example: "generate a 60-second video from my script with voiceover and visuals",
    mediaHint: "a script (.txt/.docx) or clips to build from",
  },
};

/** One quick-start prompt per bundled skill. */
export function registerPrompts(server: McpServer, skills: SkillInfo[]): void {
  for (const skill of skills) {
    const quick = QUICK_START[skill.name] ?? {
      title: skill.name,
      example: "describe what you want to create",
      mediaHint: "media to use",
    };
    server.registerPrompt(
      skill.name,
      {
        title: quick.title,
        description: skill.description,
        argsSchema: {
          media_path: z.string().optional().describe(`Local path or URL of ${quick.mediaHint} (optional)`),
          instruction: z.string().optional().describe(`What to make, e.g. "${quick.example}"`),
        },
      },
      ({ media_path, instruction }) => {
        const steps = [
          `Use the NemoVideo tools (${skill.name} skill) for this request.`,
          media_path
            ? `1. Upload ${media_path} with upload_media (${/^https?:/.test(media_path) ? "urls" : "paths"}).`
            : "1. If I give you a file, upload it with upload_media first.",
          `2. Send this instruction with send_message: "${instruction?.trim() || quick.example}". If it returns status "running", wait with get_turn; never send it twice (generation spends credits).`,
          "3. Show me the reply, or the listed timeline changes when the agent answers silently; get_state shows the timeline.",
          '4. Export with export_video (free). If it returns "rendering", wait with get_export. Give me the file path and the project link.',
        ];
        return { messages: [{ role: "user", content: { type: "text", text: steps.join("\n") } }] };
      },
    );
  }
}
