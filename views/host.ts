import {
  App,
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
  type McpUiHostContext,
} from "@modelcontextprotocol/ext-apps";

/** Applies the host's theme, colours and fonts; light or dark follows the host, else the system. */
export function applyHostContext(ctx: McpUiHostContext | undefined): void {
  if (!ctx) return;
  if (ctx.theme) applyDocumentTheme(ctx.theme);
  if (ctx.styles?.variables) applyHostStyleVariables(ctx.styles.variables);
  if (ctx.styles?.css?.fonts) applyHostFonts(ctx.styles.css.fonts);
}

/** Creates the view's App, lets `setup` attach its handlers, then connects to the host. */
export async function startView(name: string, setup: (app: App) => void): Promise<App> {
  const app = new App({ name, version: "1.0.0" }, {}, { autoResize: true });
  app.onhostcontextchanged = (ctx) => applyHostContext({ ...app.getHostContext(), ...ctx });
  setup(app);
  await app.connect();
  applyHostContext(app.getHostContext());
  return app;
}

/** Shorthand for document.createElement with a class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Shows a message in the view's status line (also read by screen readers). */
export function setStatus(text: string, kind: "info" | "error" = "info"): void {
  const status = document.getElementById("status");
  if (!status) return;
  status.textContent = text;
  status.dataset.kind = kind;
}

/** Shows the text blocks of a result without structured content (an error), or `fallback`. */
export function showText(
  content: Array<{ type: string; text?: string }> | undefined,
  fallback: string,
): void {
  const text = (content ?? [])
    .filter((c) => c.type === "text" && c.text)
    .map((c) => c.text)
    .join("\n");
  const root = document.getElementById("root");
  root?.replaceChildren(el("p", "message", text || fallback));
  setStatus("", "error");
}
