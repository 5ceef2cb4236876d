import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import madge from "madge";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/paths.js";

const SRC = join(ROOT, "src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

const FILES = sources(SRC);
/** Count type-only and dynamic imports as links too. */
const DETECTIVE = { ts: { skipTypeImports: false, skipAsyncImports: false } };
/** madge's reading of a folder's imports, type-only and dynamic ones included. */
function readImports(dir: string) {
  return madge(dir, {
    fileExtensions: ["ts"],
    tsConfig: join(ROOT, "tsconfig.json"),
    detectiveOptions: DETECTIVE,
  });
}

/** src/ read once for the tests below. */
const SRC_IMPORTS = readImports(SRC);

describe("the shape of src/", () => {
  it("finds a planted cycle, type-only links included (the check can fail)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cycle-"));
    try {
      writeFileSync(join(dir, "a.ts"), 'import { b } from "./b.js";\nexport const a = b;\n');
      writeFileSync(join(dir, "b.ts"), 'import type { C } from "./c.js";\nexport const b: C = 1;\n');
      writeFileSync(join(dir, "c.ts"), 'import { a } from "./a.js";\nexport type C = typeof a;\n');
      writeFileSync(join(dir, "d.ts"), 'import { a } from "./a.js";\nexport const d = a;\n');
      expect((await readImports(dir)).circular()).toEqual([["a.ts", "b.ts", "c.ts"]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("has no import cycle in src/ (madge, counting type-only and dynamic imports)", async () => {
    expect((await SRC_IMPORTS).circular()).toEqual([]);
  });

  it("keeps the client free of MCP tool names: faces word the next actions", () => {
    const tools =
      /\b(get_state|create_session|send_message|upload_media|export_video|get_credits|get_export|get_turn|cancel_turn|cancel_export)\b/;
    const offenders = FILES.filter((f) => f.startsWith(join(SRC, "client")))
      .filter((f) => tools.test(readFileSync(f, "utf8")))
      .map((f) => relative(SRC, f));
    expect(offenders).toEqual([]);
  });

  it("has no import from a face (server, commands, http) below the faces", async () => {
    const graph = (await SRC_IMPORTS).obj();
    const upward = Object.entries(graph)
      .filter(([from]) => /^(client|jobs)\//.test(from))
      .flatMap(([from, targets]) =>
        targets.filter((t) => /^(server|commands|http)\//.test(t)).map((t) => `${from} → ${t}`),
      );
    expect(Object.keys(graph).length).toBeGreaterThan(50);
    expect(upward).toEqual([]);
  });
});
