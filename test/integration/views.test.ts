import { spawnSync } from "node:child_process";
import { copyFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_SHEET_BYTES } from "../../src/media/frames.js";
import { PLAYER_URI, TIMELINE_URI } from "../../src/server/views/apps.js";
import { type MemoryServer, startMemoryServer } from "../helpers/mcp-memory.js";
import { SAMPLE } from "../helpers/paths.js";

const HTML_APP = "text/html;profile=mcp-app";

let mem: MemoryServer | undefined;
afterEach(async () => {
  await mem?.close();
  mem = undefined;
});

type Content = Array<{ type: string; data?: string; mimeType?: string; text?: string }>;

async function exportSample(m: MemoryServer) {
  await copyFile(SAMPLE, join(m.dir, "clip.mp4"));
  await m.client.callTool({ name: "upload_media", arguments: { paths: [join(m.dir, "clip.mp4")] } });
  return m.client.callTool({ name: "export_video", arguments: {} });
}

/** Decodes a JPEG with ffmpeg and returns its width and height. */
function decodeJpeg(bytes: Buffer): { width: number; height: number } {
  const probe = spawnSync("ffmpeg", ["-hide_banner", "-f", "image2pipe", "-i", "pipe:0", "-f", "null", "-"], {
    input: bytes,
    encoding: "buffer",
  });
  expect(probe.status, probe.stderr.toString()).toBe(0);
  const m = /Video: mjpeg.*?, (\d+)x(\d+)/.exec(probe.stderr.toString());
  expect(m).not.toBeNull();
  return { width: Number(m![1]), height: Number(m![2]) };
}

describe("MCP Apps views", () => {
  it("declares the ui extension and puts the view URIs on the three tools", async () => {
    mem = await startMemoryServer();
    const caps = mem.client.getServerCapabilities() as { extensions?: Record<string, unknown> };
    expect(caps.extensions?.["io.modelcontextprotocol/ui"]).toBeDefined();
    const { tools } = await mem.client.listTools();
    const meta = Object.fromEntries(tools.map((t) => [t.name, t._meta as Record<string, any> | undefined]));
    for (const name of ["export_video", "get_export"]) {
      expect(meta[name]?.ui?.resourceUri).toBe(PLAYER_URI);
      expect(meta[name]?.["openai/outputTemplate"]).toBe(PLAYER_URI);
    }
    expect(meta.get_state?.ui?.resourceUri).toBe(TIMELINE_URI);
    expect(meta.send_message?.ui).toBeUndefined();
  });

  it("serves each view as one self-contained HTML document with the CSP of the API and media origins", async () => {
    mem = await startMemoryServer({
      env: { NEMO_MEDIA_ORIGINS: "https://media.example.com, https://*.cdn.test" },
    });
    const { resources } = await mem.client.listResources();
    for (const uri of [PLAYER_URI, TIMELINE_URI]) {
      expect(resources.find((r) => r.uri === uri)?.mimeType).toBe(HTML_APP);
      const read = await mem.client.readResource({ uri });
      expect(read.contents).toHaveLength(1);
      const content = read.contents[0] as { uri: string; mimeType: string; text: string; _meta?: any };
      expect(content.uri).toBe(uri);
      expect(content.mimeType).toBe(HTML_APP);
      expect(content.text).toMatch(/^<!doctype html>/i);
      expect(content.text).toMatch(/<script type="module">[\s\S]+<\/script>/);
      // nothing is fetched at run time: no external scripts, styles or imports
      expect(content.text).not.toMatch(/<script[^>]+src=|<link[^>]+href=|import\s*\(\s*["']https?:/i);
      const expected = [mem.sandbox.url, "https://media.example.com", "https://*.cdn.test"];
      expect(content._meta?.ui?.csp?.resourceDomains).toEqual(expected);
      expect(content._meta?.ui?.csp?.connectDomains).toEqual(expected);
    }
  });

  it("lists NemoVideo's own domains by default", async () => {
    mem = await startMemoryServer();
    const read = await mem.client.readResource({ uri: PLAYER_URI });
    const csp = (read.contents[0] as { _meta?: any })._meta?.ui?.csp;
    expect(csp.resourceDomains[0]).toBe(mem.sandbox.url);
    expect(csp.resourceDomains).toContain("https://*.nemovideo.com");
    expect(csp.connectDomains).toContain("https://*.nemovideo.ai");
  });

  it("adds a decodable JPEG contact sheet of at most 200 KB to a completed export", async () => {
    mem = await startMemoryServer();
    const result = await exportSample(mem);
    expect((result.structuredContent as { status?: string }).status).toBe("completed");
    const images = (result.content as Content).filter((c) => c.type === "image");
    expect(images).toHaveLength(1);
    expect(images[0]?.mimeType).toBe("image/jpeg");
    const bytes = Buffer.from(images[0]!.data!, "base64");
    expect(bytes.length).toBeLessThanOrEqual(MAX_SHEET_BYTES);
    const { width, height } = decodeJpeg(bytes);
    expect(width).toBeGreaterThan(height); // 2×2 frames of a landscape sample
    // the text fallback is complete without the picture
    expect((result.content as Content)[0]?.text).toMatch(/^Export finished: .+\.mp4/);
    // get_export of the same render carries the same sheet
    const again = await mem.client.callTool({
      name: "get_export",
      arguments: { render_id: (result.structuredContent as { render_id: string }).render_id },
    });
    expect((again.content as Content).find((c) => c.type === "image")?.data).toBe(images[0]!.data);
  });

  it("leaves the picture out, without an error, when there is no ffmpeg", async () => {
    mem = await startMemoryServer({
      env: { NEMO_FFMPEG: join(resolve(import.meta.dirname), "no-ffmpeg-here") },
    });
    const result = await exportSample(mem);
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as { status?: string }).status).toBe("completed");
    expect((result.content as Content).some((c) => c.type === "image")).toBe(false);
  });

  it("adds no picture while the export is still rendering", async () => {
    mem = await startMemoryServer({ sandboxOptions: { stepMs: 1, renderSteps: 200 } });
    await copyFile(SAMPLE, join(mem.dir, "clip.mp4"));
    await mem.client.callTool({ name: "upload_media", arguments: { paths: [join(mem.dir, "clip.mp4")] } });
    const result = await mem.client.callTool({ name: "export_video", arguments: { wait_seconds: 0 } });
    expect((result.structuredContent as { status?: string }).status).toBe("rendering");
    expect((result.content as Content).some((c) => c.type === "image")).toBe(false);
  });
});
