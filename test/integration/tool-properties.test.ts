/**
 * Property-based tests of the ten tools through MCP: random, mistyped and adversarial arguments always
 * come back within a bounded time as a normal result or an `isError` result with a plain message (the
 * SDK's "Input validation error: …" naming the field for schema failures), and the server keeps serving.
 */
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MemoryServer, startMemoryServer } from "../helpers/mcp-memory.js";
import { within } from "../helpers/within.js";
import { SAMPLE } from "../helpers/paths.js";

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20_240_611;
const CALL_LIMIT_MS = 15_000;

interface ToolResult {
  content?: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

let mem: MemoryServer;
/** Ids of real turns and renders, so the generators also hit known ids. */
const known = {
  turnIds: [] as string[],
  renderIds: [] as string[],
  sessionIds: [] as string[],
  mediaPaths: [] as string[],
  dirs: [] as string[],
};
/** Every result seen, for the suite-wide checks at the end. */
const seen: ToolResult[] = [];

beforeAll(async () => {
  mem = await startMemoryServer({ env: { NEMO_STALL_MS: "3000", NEMO_STREAM_TIMEOUT_MS: "8000" } });
  await copyFile(SAMPLE, join(mem.dir, "clip.mp4"));
  known.mediaPaths.push(join(mem.dir, "clip.mp4"), join(mem.dir, "exports", "..", "clip.mp4"));
  known.dirs.push(mem.dir, join(mem.dir, "exports", "x"));
  const upload = await mem.client.callTool({
    name: "upload_media",
    arguments: { paths: [join(mem.dir, "clip.mp4")] },
  });
  known.sessionIds.push(String((upload.structuredContent as { session_id: string }).session_id));
  const turn = await mem.client.callTool({
    name: "send_message",
    arguments: { message: "hello", wait_seconds: 10 },
  });
  known.turnIds.push(String((turn.structuredContent as { turn_id: string }).turn_id));
  const exported = await mem.client.callTool({ name: "export_video", arguments: { wait_seconds: 10 } });
  known.renderIds.push(String((exported.structuredContent as { render_id: string }).render_id));
});

afterAll(async () => {
  await mem?.close();
});

function textOf(result: ToolResult): string {
  return (result.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text ?? "")
    .join("\n");
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Calls `tool` with `args` and checks the contract: a result within CALL_LIMIT_MS; an isError result carries a
 * non-empty message (naming a field for schema failures) and never an internal error; arguments that are
 * not an object may be refused at the JSON-RPC level with a message; the server answers a ping afterwards.
 */
async function callAndCheck(tool: string, fields: string[], args: unknown): Promise<ToolResult | undefined> {
  const what = `${tool}(${JSON.stringify(args)?.slice(0, 200)})`;
  let result: ToolResult | undefined;
  try {
    result = (await within(
      CALL_LIMIT_MS,
      what,
      mem.client.callTool({ name: tool, arguments: args as Record<string, unknown> }, undefined, {
        timeout: CALL_LIMIT_MS + 5000,
      }),
    )) as ToolResult;
  } catch (err) {
    // Only the protocol layer may refuse, and only arguments that are not an object at all.
    expect(err, `${what} threw ${String(err)}`).toBeInstanceOf(McpError);
    expect(isRecord(args), `${what} threw for an object: ${String(err)}`).toBe(false);
    expect((err as Error).message).toMatch(/arguments|expected record|invalid/i);
  }
  if (result) {
    seen.push(result);
    const text = textOf(result);
    expect(text.trim().length, `${what} returned no text`).toBeGreaterThan(0);
    expect(text, what).not.toMatch(/Unexpected error|Output validation error|\[object Object\]/);
    if (result.isError) {
      if (/Input validation error/.test(text)) {
        expect(text, `${what}: the schema message names a field`).toMatch(
          new RegExp(`Invalid arguments for tool ${tool}: [\\s\\S]*\\b(${fields.join("|")})\\b`),
        );
      }
    } else {
      expect(isRecord(result.structuredContent), `${what} has structuredContent`).toBe(true);
    }
  }
  await within(5000, `ping after ${what}`, mem.client.ping());
  return result;
}

// --- value generators ---------------------------------------------------------------------------------

const longString = fc.integer({ min: 201, max: 25_000 }).map((n) => "x".repeat(n));
const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "../../etc/passwd",
    "..",
    ".",
    "/",
    "sess_nope",
    "turn_nope",
    "render_nope",
    "\\",
    "C:\\Windows\\system32",
    "%2e%2e%2f",
    "😀".repeat(50),
    "\u202e",
    "\r\n",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the adversarial input
    "${HOME}",
    "$(rm -rf /)",
    "<script>",
    "null",
    "__proto__",
  ),
  longString,
);
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);
/** wait_seconds: a few valid tiny waits, and every kind of invalid number. */
const waitSeconds = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 0.001, 0.02, 0.2, 1e-300, -0) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      -1,
      -0.0001,
      900.0001,
      901,
      1e308,
      -1e308,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.MAX_VALUE,
      "5",
      "NaN",
      "Infinity",
      "",
    ),
  },
  { weight: 1, arbitrary: wrongType },
);

/** A field that is mostly valid (so calls also get past validation), sometimes adversarial or mistyped. */
const field = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 1, arbitrary: nastyString },
    { weight: 1, arbitrary: wrongType },
  );
/** One of the values in `list`, read when generated (the real ids and paths exist only after beforeAll). */
const oneOf = (list: string[]) => fc.nat().map((i) => list[i % list.length] as string);
// ids the schema's character set allows but that are not plain path segments
const sessionId = fc.oneof(
  { weight: 4, arbitrary: field(oneOf(known.sessionIds)) },
  { weight: 1, arbitrary: fc.constantFrom(".", "..", "...", "x:y", "-", "_") },
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Arguments that look like the tool's own (right keys), each field valid, mistyped or adversarial. */
function shaped(fields: Record<string, fc.Arbitrary<unknown>>) {
  const record = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, optional(v)]));
  return fc
    .record(record)
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
}

/** Anything at all as the arguments: objects with random keys, the tool's keys with random values, non-objects. */
function anything(fields: string[]) {
  return fc.oneof(
    fc.anything({ maxDepth: 2 }),
    fc.jsonValue({ maxDepth: 2 }),
    fc.dictionary(
      fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 8 })),
      fc.anything({ maxDepth: 1 }),
      { maxKeys: 5 },
    ),
  );
}

interface ToolSpec {
  name: string;
  fields: Record<string, fc.Arbitrary<unknown>>;
  /** Arguments always tried first (fast-check examples). */
  examples?: Array<Record<string, unknown>>;
}

const TOOLS: ToolSpec[] = [
  {
    name: "create_session",
    fields: { language: field(fc.constantFrom("en", "zh", "pt-BR", "zz_ZZZZ", "EN")) },
  },
  {
    name: "upload_media",
    examples: [{ session_id: "..", urls: ["https://example.com/a.mp4"] }],
    fields: {
      session_id: sessionId,
      paths: fc.oneof(
        { weight: 2, arbitrary: oneOf(known.mediaPaths).map((p) => [p]) },
        { weight: 2, arbitrary: fc.array(fc.oneof(oneOf(known.mediaPaths), nastyString), { maxLength: 3 }) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            ["/dev/zero"],
            ["/etc/passwd"],
            ["/proc/self/environ"],
            Array(21).fill("a.mp4"),
          ),
        },
        { weight: 1, arbitrary: wrongType },
      ),
      urls: fc.oneof(
        fc.array(
          fc.oneof(
            { weight: 3, arbitrary: fc.webUrl({ validSchemes: ["http", "https"] }) },
            nastyString,
            fc.constantFrom(
              "file:///etc/passwd",
              "javascript:alert(1)",
              "ftp://x/y.mp4",
              "http://[::1]:1/x.mp4",
            ),
          ),
          { maxLength: 3 },
        ),
        wrongType,
      ),
    },
  },
  {
    name: "send_message",
    examples: [{ session_id: "..", message: "hello", wait_seconds: 0 }],
    fields: {
      session_id: sessionId,
      message: field(fc.constantFrom("hello", 'add a title "Hi"', "add some music", "x".repeat(20_000))),
      wait_seconds: waitSeconds,
    },
  },
  {
    name: "get_turn",
    fields: { turn_id: field(oneOf(known.turnIds)), wait_seconds: waitSeconds },
  },
  { name: "cancel_turn", fields: { turn_id: field(oneOf(known.turnIds)) } },
  {
    name: "get_state",
    fields: { session_id: sessionId },
    examples: [{ session_id: "." }, { session_id: ".." }],
  },
  { name: "get_credits", fields: { session_id: sessionId, extra: wrongType } },
  {
    name: "export_video",
    examples: [{ session_id: ".", wait_seconds: 0 }],
    fields: {
      session_id: sessionId,
      output_dir: field(fc.oneof(fc.constantFrom("sub", "a/b", "./c", "d/../e"), oneOf(known.dirs))),
      file_name: field(fc.constantFrom("video.mp4", "v", "clip (1).mp4", "été.mp4", "CON", ".hidden.mp4")),
      quality: field(fc.constantFrom("high", "medium", "low")),
      wait_seconds: waitSeconds,
    },
  },
  {
    name: "get_export",
    fields: { render_id: field(oneOf(known.renderIds)), wait_seconds: waitSeconds },
  },
  { name: "cancel_export", fields: { render_id: field(oneOf(known.renderIds)) } },
];

describe("every tool answers any arguments with a result or a plain validation message", () => {
  for (const tool of TOOLS) {
    const fields = Object.keys(tool.fields);
    it(`${tool.name}: shaped arguments with mistyped, huge, unicode and NUL values`, async () => {
      await fc.assert(
        fc.asyncProperty(shaped(tool.fields), async (args) => {
          await callAndCheck(tool.name, fields, args);
        }),
        { numRuns: 40, seed: SEED, examples: (tool.examples ?? []).map((e) => [e]) },
      );
    });

    it(`${tool.name}: anything at all as the arguments`, async () => {
      await fc.assert(
        fc.asyncProperty(anything(fields), async (args) => {
          await callAndCheck(tool.name, fields, args);
        }),
        { numRuns: 25, seed: SEED },
      );
    });
  }

  it("names the offending field for each single mistyped field", async () => {
    const valid: Record<string, Record<string, unknown>> = {
      create_session: { language: "en" },
      upload_media: { urls: ["https://example.com/a.mp4"] },
      send_message: { message: "hi", wait_seconds: 0 },
      get_turn: { turn_id: "turn_nope", wait_seconds: 0 },
      cancel_turn: { turn_id: "turn_nope" },
      get_state: {},
      export_video: { wait_seconds: 0 },
      get_export: { render_id: "render_nope", wait_seconds: 0 },
      cancel_export: { render_id: "render_nope" },
    };
    const badValues: Record<string, unknown[]> = {
      language: [5, "english!", "", null],
      session_id: [5, "", "has space", "a/b", "x".repeat(201), "\u0000"],
      paths: ["a.mp4", [5], [""], Array(21).fill("a.mp4"), ["x".repeat(4097)]],
      urls: ["https://x", ["ftp://x/y"], ["not a url"], [5]],
      message: [5, "", "   ", "x".repeat(20_001), null],
      wait_seconds: [-1, 901, Number.NaN, Number.POSITIVE_INFINITY, "5", null, 1e308],
      turn_id: [5, "", "   ", "x".repeat(201)],
      render_id: [5, "", "x".repeat(201)],
      output_dir: [5, "x".repeat(4097)],
      file_name: ["", "a/b", "a\\b", "..", ".", "x\u0000", "x".repeat(201), 7],
      quality: ["ultra", 5, null],
    };
    for (const spec of TOOLS) {
      const base = valid[spec.name];
      if (!base) continue;
      for (const field of Object.keys(spec.fields)) {
        for (const bad of badValues[field] ?? []) {
          const args = { ...base, [field]: bad };
          const result = await callAndCheck(spec.name, [field], args);
          const what = `${spec.name}.${field} = ${JSON.stringify(bad)?.slice(0, 60)}`;
          expect(result?.isError, what).toBe(true);
          expect(textOf(result as ToolResult), what).toMatch(new RegExp(`\\b${field}\\b`));
        }
      }
    }
  });

  it("kept serving throughout: no internal errors logged, and a normal call still works", async () => {
    expect(mem.logs.filter((line) => /failed unexpectedly/.test(line))).toEqual([]);
    expect(seen.length).toBeGreaterThan(300);
    expect(seen.some((r) => !r.isError)).toBe(true);
    const credits = await mem.client.callTool({ name: "get_credits", arguments: {} });
    expect(credits.isError).toBeFalsy();
    const tools = await mem.client.listTools();
    expect(tools.tools).toHaveLength(10);
  });

  it("never let an argument steer a request off the API's endpoints (no dot segments, no other paths)", () => {
    const segment = String.raw`(?!\.{1,2}(?:/|$))[^/]+`;
    const endpoints = [
      "/api/auth/anonymous-token",
      "/api/auth/claim-token",
      "/api/tasks/me/with-session/nemo_agent",
      "/run_sse",
      "/api/credits/balance/simple",
      `/api/upload-video/nemo_agent/me/${segment}`,
      `/api/state/nemo_agent/me/${segment}/latest`,
      "/api/render/proxy/lambda",
      `/api/render/proxy/lambda/${segment}`,
      `/api/render/proxy/${segment}/download`,
      "/files/.+",
    ].map((e) => new RegExp(`^${e}$`));
    const stray = mem.sandbox.requests
      .filter((r) => !endpoints.some((e) => e.test(r.path)))
      .map((r) => `${r.method} ${r.path}`);
    expect(stray).toEqual([]);
  });
});
