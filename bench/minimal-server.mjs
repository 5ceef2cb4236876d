// The cold-start reference: the smallest useful MCP server on the same SDK, one tool over stdio.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";

const server = new McpServer({ name: "bench-minimal", version: "1.0.0" });
server.registerTool(
  "ping",
  { title: "Ping", description: "Answers pong.", inputSchema: {}, annotations: { readOnlyHint: true } },
  async () => ({ content: [{ type: "text", text: "pong" }] }),
);
await server.connect(new StdioServerTransport());
