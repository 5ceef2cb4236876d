import { readFile } from "node:fs/promises";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  EXTENSION_ID,
  type McpUiAppToolConfig,
  RESOURCE_MIME_TYPE,
  registerAppResource,
} from "@modelcontextprotocol/ext-apps/server";
import type { Config } from "../../config.js";

/** The MCP Apps extension id, declared in the server's capabilities. */
export const UI_EXTENSION_ID = EXTENSION_ID;
/** The player view of export_video and get_export. */
export const PLAYER_URI = "ui://nemovideo/player.html";
/** The timeline view of get_state. */
export const TIMELINE_URI = "ui://nemovideo/timeline.html";

/** `_meta` of a tool whose result a host may show in the view at `uri`; set always, whatever the client. */
export function viewToolMeta(uri: typeof PLAYER_URI | typeof TIMELINE_URI): McpUiAppToolConfig["_meta"] {
  return { ui: { resourceUri: uri }, "openai/outputTemplate": uri };
}

/** The origins a view may load media from and connect to: the API origin and NEMO_MEDIA_ORIGINS. */
export function viewCsp(config: Pick<Config, "apiUrl" | "mediaOrigins">): {
  connectDomains: string[];
  resourceDomains: string[];
} {
  const domains = [...new Set([new URL(config.apiUrl).origin, ...config.mediaOrigins])];
  return { connectDomains: domains, resourceDomains: [...domains] };
}

/** True when `url` is on one of `domains` (origins, `https://*.example.com` covering subdomains). */
export function onDomains(url: string, domains: readonly string[]): boolean {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  return domains.some((domain) => {
    const wild = /^(https?):\/\/\*\.(.+)$/.exec(domain);
    if (!wild) return target.origin === domain;
    return `${target.protocol}` === `${wild[1]}:` && target.host.endsWith(`.${wild[2]}`);
  });
}

const VIEWS = [
  {
    uri: PLAYER_URI,
    file: "player.html",
    name: "NemoVideo player",
    description: "Plays an exported MP4 with its title, length and size; follows a render while it runs.",
  },
  {
    uri: TIMELINE_URI,
    file: "timeline.html",
    name: "NemoVideo timeline",
    description: "Draws the session's tracks and segments to scale.",
  },
] as const;

// dist/server/views/ → dist/views/ after the build; src/server/views/ → dist/views/ under vitest.
const LOCATIONS = ["../../views/", "../../../dist/views/"];

async function readView(file: string): Promise<string> {
  for (const dir of LOCATIONS) {
    const html = await readFile(new URL(dir + file, import.meta.url), "utf8").catch(() => undefined);
    if (html !== undefined) return html;
  }
  throw new Error(`The view ${file} is missing from this installation; run "npm run build" to build it.`);
}

/** Registers the player and timeline HTML documents as MCP Apps resources. */
export function registerViews(server: McpServer, config: Config): void {
  const csp = viewCsp(config);
  const ui = { csp, prefersBorder: true };
  // ChatGPT reads its own keys for the same policy.
  const openai = {
    "openai/widgetCSP": { connect_domains: csp.connectDomains, resource_domains: csp.resourceDomains },
  };
  for (const view of VIEWS) {
    let html: Promise<string> | undefined;
    registerAppResource(
      server,
      view.name,
      view.uri,
      { description: view.description, mimeType: RESOURCE_MIME_TYPE, _meta: { ui, ...openai } },
      async () => {
        html ??= readView(view.file);
        const text = await html.catch((error: unknown) => {
          html = undefined;
          throw error;
        });
        return {
          contents: [{ uri: view.uri, mimeType: RESOURCE_MIME_TYPE, text, _meta: { ui, ...openai } }],
        };
      },
    );
  }
}
