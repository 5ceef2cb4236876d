import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { v0_3 } from "@anthropic-ai/mcpb";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { TOOL_REGISTRARS } from "../../src/server/tools/index.js";
import { BUNDLED_SKILLS } from "../../src/skills.js";
import { ROOT } from "../helpers/paths.js";

const readJson = async (name: string) => JSON.parse(await readFile(join(ROOT, name), "utf8"));

// The MCP Registry's server.json rules that matter for an npm stdio server (schema 2025-12-11).
const EnvVar = z.strictObject({
  name: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  description: z.string().min(1),
  isRequired: z.boolean(),
  isSecret: z.boolean(),
  format: z.enum(["string", "number", "boolean", "filepath"]),
  default: z.string().optional(),
});
const ServerJson = z.strictObject({
  $schema: z.literal("https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"),
  name: z.string().regex(/^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/),
  title: z.string().min(1).max(100),
  description: z.string().min(1).max(100),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  repository: z.strictObject({ url: z.url(), source: z.literal("github") }),
  websiteUrl: z.url(),
  packages: z
    .array(
      z.strictObject({
        registryType: z.literal("npm"),
        registryBaseUrl: z.literal("https://registry.npmjs.org"),
        identifier: z.string(),
        version: z.string(),
        runtimeHint: z.literal("npx"),
        transport: z.strictObject({ type: z.literal("stdio") }),
        environmentVariables: z.array(EnvVar),
      }),
    )
    .length(1),
});

describe("server.json for the MCP Registry", () => {
  it("is valid and matches package.json (name, version, mcpName)", async () => {
    const server = ServerJson.parse(await readJson("server.json"));
    const pkg = await readJson("package.json");
    expect(pkg.mcpName).toBe(server.name);
    expect(server.version).toBe(pkg.version);
    expect(server.packages[0]?.identifier).toBe(pkg.name);
    expect(server.packages[0]?.version).toBe(pkg.version);
    const token = server.packages[0]?.environmentVariables.find((v) => v.name === "NEMO_TOKEN");
    expect(token?.isSecret).toBe(true);
    expect(token?.isRequired).toBe(false);
  });
});

describe("manifest.json for an MCP Bundle", () => {
  it("validates against the MCPB 0.3 schema", async () => {
    const manifest = await readJson("manifest.json");
    const parsed = v0_3.McpbManifestSchema.safeParse(manifest);
    expect(parsed.success ? "ok" : JSON.stringify(parsed.error.issues)).toBe("ok");
  });

  it("keeps the token sensitive, the output folder a directory, and lists the real tools and prompts", async () => {
    const manifest = await readJson("manifest.json");
    const pkg = await readJson("package.json");
    expect(manifest.version).toBe(pkg.version);
    expect(manifest.user_config.nemo_token.sensitive).toBe(true);
    expect(manifest.user_config.output_dir.type).toBe("directory");
    const placeholder = (name: string) => ["${", "user_config.", name, "}"].join("");
    expect(manifest.server.mcp_config.env.NEMO_TOKEN).toBe(placeholder("nemo_token"));
    expect(manifest.server.mcp_config.env.NEMO_OUTPUT_DIR).toBe(placeholder("output_dir"));
    expect(manifest.server.entry_point).toBe(pkg.bin["nemovideo-mcp"]);
    expect(manifest.tools.map((t: { name: string }) => t.name).sort()).toEqual(
      Object.keys(TOOL_REGISTRARS).sort(),
    );
    expect(manifest.prompts.map((p: { name: string }) => p.name).sort()).toEqual([...BUNDLED_SKILLS].sort());
  });
});
