import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { type HttpInstance, httpClient, sandboxToken, startHttpInstance } from "../helpers/http-instances.js";
import { SAMPLE } from "../helpers/paths.js";

describe("MCP Apps views over Streamable HTTP (hosted, no output folder)", () => {
  let sandbox: Sandbox;
  let instance: HttpInstance;
  let client: Client;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "nemo-views-http-"));
    await copyFile(SAMPLE, join(dir, "clip.mp4"));
    sandbox = await startSandbox({ stepMs: 2, renderSteps: 2 });
    instance = await startHttpInstance({ NEMO_API_URL: sandbox.url, NEMO_ALLOWED_DIRS: dir });
    client = await httpClient(instance.url, await sandboxToken(sandbox.url, "viewer"));
  });
  afterAll(async () => {
    await client?.close();
    await instance?.stop();
    await sandbox?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists the view URIs on the tools and serves the player with its CSP", async () => {
    const { tools } = await client.listTools();
    const meta = Object.fromEntries(tools.map((t) => [t.name, t._meta as Record<string, any> | undefined]));
    expect(meta.export_video?.ui?.resourceUri).toBe("ui://nemovideo/player.html");
    expect(meta.get_state?.ui?.resourceUri).toBe("ui://nemovideo/timeline.html");
    const read = await client.readResource({ uri: "ui://nemovideo/player.html" });
    const content = read.contents[0] as { mimeType: string; text: string; _meta?: any };
    expect(content.mimeType).toBe("text/html;profile=mcp-app");
    expect(content._meta?.ui?.csp?.resourceDomains?.[0]).toBe(sandbox.url);
  });

  it("gives the export's link and a contact sheet read from that link", async () => {
    await client.callTool({ name: "upload_media", arguments: { paths: [join(dir, "clip.mp4")] } });
    const result = await client.callTool({ name: "export_video", arguments: {} });
    const sc = result.structuredContent as { status: string; url?: string; file?: string };
    expect(sc.status).toBe("completed");
    expect(sc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/renders\//);
    expect(sc.file).toBeUndefined();
    const image = (result.content as Array<{ type: string; data?: string; mimeType?: string }>).find(
      (c) => c.type === "image",
    );
    expect(image?.mimeType).toBe("image/jpeg");
    const bytes = Buffer.from(image!.data!, "base64");
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(bytes.length).toBeLessThanOrEqual(200 * 1024);
  });
});
