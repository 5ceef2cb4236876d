import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import madge from "madge";
import ts from "typescript";
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

/** Largest module in src/, in lines (issue 9: "no module over ~350 lines"). */
const MAX_MODULE_LINES = 350;

/** One exported declaration of a module: its name, its line and whether a TSDoc comment stands before it. */
interface Exported {
  name: string;
  line: number;
  documented: boolean;
}

/** The exported declarations of a module's text (re-exports are documented where they are declared). */
function exportsOf(fileName: string, text: string): Exported[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: Exported[] = [];
  for (const statement of file.statements) {
    const modifiers = ts.canHaveModifiers(statement) ? (ts.getModifiers(statement) ?? []) : [];
    if (!modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    const documented = text.slice(statement.getFullStart(), statement.getStart()).includes("/**");
    const line = file.getLineAndCharacterOfPosition(statement.getStart()).line + 1;
    const names = ts.isVariableStatement(statement)
      ? statement.declarationList.declarations.map((d) =>
          ts.isIdentifier(d.name) ? d.name.text : "(pattern)",
        )
      : "name" in statement && statement.name && ts.isIdentifier(statement.name as ts.Node)
        ? [(statement.name as ts.Identifier).text]
        : ["default"];
    for (const name of names) found.push({ name, line, documented });
  }
  return found;
}

/** The identifiers each file of the project uses (src, test, bench, scripts), to tell which exports someone imports. */
function wordsByFile(): Map<string, Set<string>> {
  const dirs = ["src", "test", "bench", "scripts"].map((d) => join(ROOT, d));
  const files = dirs.flatMap((d) =>
    readdirSync(d, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && /\.(ts|mjs|js)$/.test(e.name))
      .map((e) => join(e.parentPath, e.name)),
  );
  return new Map(files.map((f) => [f, new Set(readFileSync(f, "utf8").match(/[A-Za-z_$][\w$]*/g) ?? [])]));
}

/** Exports whose name no other file mentions: nothing imports them. */
function unusedExports(words: Map<string, Set<string>>): string[] {
  return FILES.flatMap((file) =>
    exportsOf(file, readFileSync(file, "utf8"))
      .filter((e) => ![...words].some(([other, set]) => other !== file && set.has(e.name)))
      .map((e) => `${relative(SRC, file)}:${e.line} ${e.name}`),
  );
}

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

  it("reads exports and their TSDoc (the checks below can fail)", () => {
    const text = [
      "/** Documented. */",
      "export function a() {}",
      "// a line comment is not TSDoc",
      "export const b = 1, c = 2;",
      "export interface D {}",
      "const e = 3;",
      "export { e };",
    ].join("\n");
    expect(exportsOf("x.ts", text)).toEqual([
      { name: "a", line: 2, documented: true },
      { name: "b", line: 4, documented: false },
      { name: "c", line: 4, documented: false },
      { name: "D", line: 5, documented: false },
    ]);
  });

  it(`has no module over ${MAX_MODULE_LINES} lines`, () => {
    const long = FILES.map((f) => ({ f, lines: readFileSync(f, "utf8").split("\n").length - 1 }))
      .filter(({ lines }) => lines > MAX_MODULE_LINES)
      .map(({ f, lines }) => `${relative(SRC, f)}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it("gives every exported symbol a one-line TSDoc", () => {
    const bare = FILES.flatMap((file) =>
      exportsOf(file, readFileSync(file, "utf8"))
        .filter((e) => !e.documented)
        .map((e) => `${relative(SRC, file)}:${e.line} ${e.name}`),
    );
    expect(bare).toEqual([]);
  });

  it("exports nothing that no other module, test or bench uses", () => {
    expect(unusedExports(wordsByFile())).toEqual([]);
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
