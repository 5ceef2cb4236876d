import { defineConfig } from "vitest/config";

// Four projects: `npm run test:unit` runs the pure unit tests alone in seconds; `npm test` builds, then runs all.
export default defineConfig({
  test: {
    globalSetup: ["test/global-tmp.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    poolOptions: { forks: { maxForks: 2 } },
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "integration", include: ["test/integration/**/*.test.ts"] } },
      { extends: true, test: { name: "e2e", include: ["test/e2e/**/*.test.ts"] } },
      // The MCP Apps views in headless Chromium (/usr/bin/chromium) through the ext-apps host bridge.
      { extends: true, test: { name: "browser", include: ["test/browser/**/*.test.ts"] } },
    ],
  },
});
