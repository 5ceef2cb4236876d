// The test host: mounts a view in a sandboxed iframe with the ext-apps host bridge, under the CSP the
// server declared, and forwards the view's tool calls to the test (window.hostCallTool, exposed by Playwright).
import type { CallToolRequest, CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

interface Csp {
  resourceDomains?: string[];
  connectDomains?: string[];
}

declare global {
  interface Window {
    hostCallTool(params: CallToolRequest["params"]): Promise<CallToolResult>;
    mountView(html: string, csp: Csp, result: CallToolResult, theme: "light" | "dark"): Promise<void>;
  }
}

/** The policy a host derives from `_meta.ui.csp`: inline code only, media and requests from the listed origins. */
function policy(csp: Csp): string {
  const res = (csp.resourceDomains ?? []).join(" ");
  const connect = (csp.connectDomains ?? []).join(" ");
  return [
    "default-src 'none'",
    "script-src 'unsafe-inline'",
    "style-src 'unsafe-inline'",
    `img-src data: blob: ${res}`,
    `media-src blob: ${res}`,
    `font-src ${res}`,
    `connect-src ${connect}`,
  ].join("; ");
}

window.mountView = async (html, csp, result, theme) => {
  document.documentElement.dataset.theme = theme;
  const frame = document.createElement("iframe");
  frame.sandbox.add("allow-scripts");
  frame.title = "view";
  document.body.replaceChildren(frame);
  const bridge = new AppBridge(
    null,
    { name: "nemovideo-test-host", version: "1.0.0" },
    { serverTools: {}, openLinks: {} },
    { hostContext: { theme, displayMode: "inline", platform: "web" } },
  );
  bridge.oncalltool = (params) => window.hostCallTool(params);
  bridge.onsizechange = ({ height }) => {
    if (height !== undefined) frame.style.height = `${height}px`;
  };
  const initialized = new Promise<void>((resolve) => {
    bridge.oninitialized = () => resolve();
  });
  // Listen before the document loads: the view says ui/initialize as soon as its script runs.
  const target = frame.contentWindow!;
  await bridge.connect(new PostMessageTransport(target, target));
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy(csp)}">`;
  frame.srcdoc = html.replace("<head>", `<head>${meta}`);
  await initialized;
  await bridge.sendToolResult(result);
};
