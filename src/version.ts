import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** How many folders upward from this module the package's own package.json may be (src/, dist/, dist/x/). */
const MAX_LEVELS = 6;

interface Package {
  root: string;
  version: string | undefined;
}

function findPackage(): Package | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < MAX_LEVELS; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "nemovideo-mcp") return { root: dir, version: pkg.version };
    } catch {
      // keep looking upward
    }
    dir = dirname(dir);
  }
  return undefined;
}

/** The package's own version, read from its package.json. */
export function packageVersion(): string {
  return findPackage()?.version || "0.0.0";
}

/** The package's root folder (where its package.json, fixtures/ and dist/ are), or undefined when not found. */
export function packageRoot(): string | undefined {
  return findPackage()?.root;
}
