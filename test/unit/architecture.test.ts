import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SRC = join(ROOT, "src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

const FILES = sources(SRC);
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"|import\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g;

/** Every relative import of each module in src/ (static, re-exports, type-only and dynamic alike). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of FILES) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(IMPORT)].map((m) =>
      resolve(dirname(file), (m[1] ?? m[2] ?? "").replace(/\.js$/, ".ts")),
    );
    graph.set(file, targets);
  }
  return graph;
}

/** The import cycles of a graph, each as the list of its modules (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        on.delete(w);
        component.push(relative(SRC, w));
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

describe("the shape of src/", () => {
  it("finds a planted cycle (the check can fail)", () => {
    const planted = new Map([
      ["/a.ts", ["/b.ts"]],
      ["/b.ts", ["/c.ts"]],
      ["/c.ts", ["/a.ts"]],
      ["/d.ts", ["/a.ts"]],
    ]);
    expect(cycles(planted)).toHaveLength(1);
  });

  it("has no import cycle, counting type-only and dynamic imports", () => {
    expect(cycles(importGraph())).toEqual([]);
  });

  it("keeps the client free of MCP tool names: faces word the next actions", () => {
    const tools =
      /\b(get_state|create_session|send_message|upload_media|export_video|get_credits|get_export|get_turn|cancel_turn|cancel_export)\b/;
    const offenders = FILES.filter((f) => f.startsWith(join(SRC, "client")))
      .filter((f) => tools.test(readFileSync(f, "utf8")))
      .map((f) => relative(SRC, f));
    expect(offenders).toEqual([]);
  });

  it("has no import from a face (server, commands, http) below the faces", () => {
    const below = FILES.filter((f) => /[/\\]src[/\\](client|jobs)[/\\]/.test(f));
    const graph = importGraph();
    const upward = below.flatMap((f) =>
      (graph.get(f) ?? [])
        .filter((t) => /[/\\]src[/\\](server|commands|http)[/\\]/.test(t))
        .map((t) => `${relative(SRC, f)} → ${relative(SRC, t)}`),
    );
    expect(upward).toEqual([]);
  });
});
