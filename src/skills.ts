import { existsSync, readFileSync, realpathSync } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { DEFAULTS } from "./config.js";

/** The skills shipped in this package's `skills/` folder. */
export const BUNDLED_SKILLS = ["ai-voiceover-for", "ai-video-generator-ai"] as const;

/** Where the active skill is installed (`X-Skill-Platform`); `SKILL_SOURCE` may set any value. */
export type Platform = "clawhub" | "cursor" | "unknown" | string;

/** A parsed SKILL.md: what the backend's attribution headers and the MCP resources are made from. */
export interface SkillInfo {
  name: string;
  version: string;
  description: string;
  /** Value of `X-Skill-Platform`. */
  platform: Platform;
  /** Absolute path of the SKILL.md. */
  path: string;
  /** The folder holding the SKILL.md. */
  dir: string;
  /** True when the SKILL.md is one of this package's own skills. */
  bundled: boolean;
  frontmatter: Record<string, unknown>;
  /** The markdown after the frontmatter. */
  body: string;
}

/** A skill could not be found or its SKILL.md is malformed; the message names the file and the fault. */
export class SkillError extends Error {
  override name = "SkillError";
}

const PACKAGE_NAME = "nemovideo-mcp";
const SKILL_FILE = "SKILL.md";
const CLAWHUB_DIRS = [".clawhub", ".clawdhub"];
const CURSOR_DIRS = [".cursor"];

// Semantic Versioning 2.0.0: x.y.z, optional pre-release and build metadata.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
// Name and version travel as HTTP header values, so they must be printable ASCII.
const HEADER_SAFE = /^[\x20-\x7e]+$/;

const requiredString = (field: string, example: string) =>
  z.string({
    error: (issue) =>
      issue.input === undefined ? `${field} is required` : `${field} must be a string such as ${example}`,
  });

const FrontmatterSchema = z.looseObject({
  name: requiredString("name", "my-skill")
    .trim()
    .min(1, { error: "name must not be empty", abort: true })
    .regex(HEADER_SAFE, "name must be printable ASCII (it is sent as the X-Skill-Source header)"),
  version: requiredString("version", '"1.0.0"')
    .trim()
    .min(1, { error: "version must not be empty", abort: true })
    .regex(SEMVER, "version must be semver x.y.z with an optional pre-release, e.g. 1.0.0 or 1.1.0-beta.1"),
  description: z.string({ error: "description must be a string" }).optional(),
});

let cachedBundledDir: string | undefined;

/** The package's `skills/` folder, found by walking up from this module (src/, dist/ or an npm install). */
export function bundledSkillsDir(): string {
  if (cachedBundledDir) return cachedBundledDir;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (isPackageRoot(dir)) {
      cachedBundledDir = join(dir, "skills");
      return cachedBundledDir;
    }
    if (dirname(dir) === dir) {
      throw new SkillError(`Cannot find the ${PACKAGE_NAME} skills/ folder in any parent of ${start}`);
    }
  }
}

function isPackageRoot(dir: string): boolean {
  if (!existsSync(join(dir, "skills"))) return false;
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    return typeof pkg === "object" && pkg !== null && (pkg as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** How a skill is loaded: `platform` is the configured `SKILL_SOURCE` (Config.skillPlatform), if any. */
interface SkillOptions {
  platform?: string | undefined;
}

/**
 * Loads a skill: a bundled name, a folder holding a SKILL.md, or a SKILL.md itself (`~` expanded).
 * Without a spec the default skill (`ai-video-generator-ai`) is used.
 */
export async function resolveSkill(spec: string | undefined, opts: SkillOptions = {}): Promise<SkillInfo> {
  const file = await locateSkillFile(spec?.trim() || DEFAULTS.skill);
  const { frontmatter, body } = parseSkillFile(await readSkillFile(file), file);
  const parsed = FrontmatterSchema.safeParse(frontmatter);
  if (!parsed.success) {
    const faults = parsed.error.issues.map((issue) => issue.message).join("; ");
    throw new SkillError(`${file}: invalid frontmatter: ${faults}`);
  }
  return {
    name: parsed.data.name,
    version: parsed.data.version,
    description: parsed.data.description?.trim() ?? "",
    platform: detectPlatform(file, opts.platform),
    path: file,
    dir: dirname(file),
    bundled: await isBundledFile(file),
    frontmatter,
    body,
  };
}

/**
 * The install platform of a SKILL.md: `configured` (`SKILL_SOURCE`) if set; `clawhub` under a `.clawhub`/`.clawdhub`
 * folder or beside `.clawhub/origin.json`; `cursor` under a `.cursor` folder; else `unknown`.
 */
export function detectPlatform(skillMdPath: string, configured?: string): Platform {
  const override = configured?.trim();
  if (override) return override;
  // Both the path as installed and its real path count: a symlinked install keeps its origin either way.
  const paths = installPaths(skillMdPath);
  const clawhub = paths.some(
    (p) => hasSegment(p, CLAWHUB_DIRS) || existsSync(join(dirname(p), ".clawhub", "origin.json")),
  );
  if (clawhub) return "clawhub";
  if (paths.some((p) => hasSegment(p, CURSOR_DIRS))) return "cursor";
  return "unknown";
}

/** The three attribution headers the backend expects on every request. */
export function skillHeaders(skill: SkillInfo): {
  "X-Skill-Source": string;
  "X-Skill-Version": string;
  "X-Skill-Platform": string;
} {
  return {
    "X-Skill-Source": skill.name,
    "X-Skill-Version": skill.version,
    "X-Skill-Platform": skill.platform,
  };
}

/** Every bundled skill, parsed, in the order of `BUNDLED_SKILLS`. */
export function listBundledSkills(opts: SkillOptions = {}): Promise<SkillInfo[]> {
  return Promise.all(BUNDLED_SKILLS.map((name) => resolveSkill(name, opts)));
}

function isBundledName(spec: string): spec is (typeof BUNDLED_SKILLS)[number] {
  return (BUNDLED_SKILLS as readonly string[]).includes(spec);
}

/** A bare name has no path syntax at all: no separator, no `~`, no leading dot. */
function isBareName(spec: string): boolean {
  return !/[\\/]/.test(spec) && !spec.startsWith("~") && !spec.startsWith(".") && !isAbsolute(spec);
}

function expandHome(p: string): string {
  if (p === "~") return homedir();
  if (p.startsWith("~/") || p.startsWith("~\\")) return join(homedir(), p.slice(2));
  return p;
}

async function locateSkillFile(spec: string): Promise<string> {
  if (isBundledName(spec)) return join(bundledSkillsDir(), spec, SKILL_FILE);
  const target = resolve(expandHome(spec));
  const info = await stat(target).catch(() => undefined);
  if (!info) {
    if (isBareName(spec)) {
      throw new SkillError(
        `Unknown skill "${spec}": not a bundled skill (${BUNDLED_SKILLS.join(", ")}) and no file or folder ${target}`,
      );
    }
    throw new SkillError(`Skill not found: ${target} does not exist`);
  }
  if (info.isDirectory()) {
    const file = join(target, SKILL_FILE);
    const inner = await stat(file).catch(() => undefined);
    if (!inner?.isFile()) throw new SkillError(`No ${SKILL_FILE} in the skill folder ${target}`);
    return file;
  }
  if (!info.isFile()) throw new SkillError(`Skill path ${target} is neither a file nor a folder`);
  return target;
}

async function readSkillFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === "ENOENT" ? "file not found" : `cannot read the file (${code ?? String(err)})`;
    throw new SkillError(`${file}: ${what}`, { cause: err });
  }
}

function parseSkillFile(text: string, file: string): { frontmatter: Record<string, unknown>; body: string } {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const isDelimiter = (line: string | undefined) => line?.trimEnd() === "---";
  const close = lines.findIndex((line, i) => i > 0 && isDelimiter(line));
  if (!isDelimiter(lines[0]) || close < 0) {
    throw new SkillError(
      `${file}: no YAML frontmatter (the file must start with a "---" line and the frontmatter must end with another "---" line)`,
    );
  }
  let data: unknown;
  try {
    data = parseYaml(lines.slice(1, close).join("\n"), { logLevel: "error" });
  } catch (err) {
    throw new SkillError(`${file}: frontmatter is not valid YAML: ${describeYamlError(err)}`, { cause: err });
  }
  if (data === null || data === undefined) throw new SkillError(`${file}: frontmatter is empty`);
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new SkillError(`${file}: frontmatter must be a YAML mapping of keys to values`);
  }
  const body = lines
    .slice(close + 1)
    .join("\n")
    .replace(/^(?:[ \t]*\n)+/, "");
  return { frontmatter: data as Record<string, unknown>, body };
}

/** First line of the parser's message, with the line number counted in the whole file. */
function describeYamlError(err: unknown): string {
  if (!(err instanceof YAMLParseError)) return err instanceof Error ? err.message : String(err);
  const reason = (err.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
  const pos = err.linePos?.[0];
  // The frontmatter starts on the file's second line, after the opening "---".
  return pos ? `${reason} (line ${pos.line + 1}, column ${pos.col})` : reason;
}

function installPaths(skillMdPath: string): string[] {
  const given = resolve(expandHome(skillMdPath));
  try {
    const real = realpathSync(given);
    return real === given ? [given] : [given, real];
  } catch {
    return [given];
  }
}

function hasSegment(p: string, names: readonly string[]): boolean {
  return p
    .split(/[\\/]/)
    .slice(0, -1)
    .some((segment) => names.includes(segment.toLowerCase()));
}

async function isBundledFile(file: string): Promise<boolean> {
  const real = await realpath(file).catch(() => file);
  let root: string;
  try {
    root = await realpath(bundledSkillsDir());
  } catch {
    return false;
  }
  return BUNDLED_SKILLS.some((name) => real === join(root, name, SKILL_FILE));
}
