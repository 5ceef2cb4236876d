#!/usr/bin/env node
// `npm run bundle`: builds, stages the runtime files with production dependencies only, and packs
// them into nemovideo-mcp.mcpb (an MCP Bundle for Claude Desktop). Usage: node scripts/bundle.mjs [out.mcpb]
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve, sep } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const OUT = resolve(process.argv[2] ?? join(ROOT, "nemovideo-mcp.mcpb"));
const MAX_BYTES = 10 * 1024 * 1024;
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const say = (line) => process.stderr.write(`bundle: ${line}\n`);

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const manifest = JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8"));
if (manifest.version !== pkg.version) {
  throw new Error(`manifest.json version ${manifest.version} differs from package.json ${pkg.version}`);
}

say("building");
execFileSync(npm, ["run", "build"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });

const stage = mkdtempSync(join(tmpdir(), "nemo-bundle-"));
try {
  cpSync(join(ROOT, "dist"), join(stage, "dist"), {
    recursive: true,
    filter: (src) => !src.endsWith(".map"),
  });
  cpSync(join(ROOT, "skills"), join(stage, "skills"), { recursive: true });
  for (const file of ["manifest.json", "LICENSE", "README.md"]) cpSync(join(ROOT, file), join(stage, file));
  const { scripts: _scripts, devDependencies: _dev, allowScripts: _allow, ...runtimePkg } = pkg;
  writeFileSync(join(stage, "package.json"), `${JSON.stringify(runtimePkg, null, 2)}\n`);

  // The installed production dependencies (npm's own list), each copied without its nested node_modules
  // (those that are production dependencies are listed themselves).
  say("staging production dependencies");
  const listed = execFileSync(npm, ["ls", "--omit=dev", "--all", "--parseable"], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  let packages = 0;
  for (const dir of listed.split("\n").map((l) => l.trim())) {
    const rel = relative(ROOT, dir);
    if (!rel.startsWith("node_modules")) continue;
    cpSync(dir, join(stage, rel), {
      recursive: true,
      filter: (src) => !relative(dir, src).split(sep).includes("node_modules"),
    });
    packages += 1;
  }
  if (packages === 0) throw new Error("no production dependencies found: run npm ci first");

  if (existsSync(OUT)) rmSync(OUT);
  say(`packing ${OUT}`);
  execFileSync(join(ROOT, "node_modules", ".bin", "mcpb"), ["pack", stage, OUT], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
} finally {
  rmSync(stage, { recursive: true, force: true });
}

const size = statSync(OUT).size;
say(`${OUT}: ${(size / 1024 / 1024).toFixed(1)} MB`);
if (size > MAX_BYTES) {
  throw new Error(
    `the bundle is ${(size / 1024 / 1024).toFixed(1)} MB, over the ${MAX_BYTES / 1024 / 1024} MB limit`,
  );
}
