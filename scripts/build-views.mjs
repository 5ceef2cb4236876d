// Builds the MCP Apps views (views/*.ts) into self-contained HTML documents in dist/views/:
// one bundled, minified script and the stylesheet inlined, nothing loaded from elsewhere at run time.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const VIEWS = [
  { entry: "player.ts", out: "player.html", title: "NemoVideo player" },
  { entry: "timeline.ts", out: "timeline.html", title: "NemoVideo timeline" },
];

// zod (inside the MCP SDK) re-exports every locale; the views speak English, so only "en" is bundled.
const englishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(join("node_modules", "zod"))
        ? {
            path: "zod-locales",
            namespace: "zod-english-only",
            pluginData: dirname(join(args.resolveDir, args.path)),
          }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-english-only" }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: args.pluginData,
    }));
  },
};

const css = await readFile(join(root, "views", "style.css"), "utf8");
await mkdir(join(root, "dist", "views"), { recursive: true });
for (const view of VIEWS) {
  const result = await build({
    entryPoints: [join(root, "views", view.entry)],
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    write: false,
    legalComments: "none",
    plugins: [englishOnly],
    logLevel: "warning",
  });
  // A "</script" inside the bundle would end the inline script early.
  const js = result.outputFiles[0].text.replace(/<\/script/gi, "<\\/script");
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${view.title}</title>
<style>${css}</style>
</head>
<body>
<main id="root"></main>
<p id="status" role="status" aria-live="polite"></p>
<script type="module">${js}</script>
</body>
</html>
`;
  await writeFile(join(root, "dist", "views", view.out), html);
}
