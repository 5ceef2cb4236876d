import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLED_SKILLS,
  bundledSkillsDir,
  detectPlatform,
  listBundledSkills,
  resolveSkill,
  SkillError,
  type SkillInfo,
  skillHeaders,
} from "../../src/skills.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const fixtures = join(repoRoot, "test/fixtures/skills");

/** Resolves a skill and returns the SkillError it throws. */
async function skillError(spec: string): Promise<SkillError> {
  const err = await resolveSkill(spec).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SkillError);
  return err as SkillError;
}

describe("bundled skills", () => {
  it("finds the package's skills folder", () => {
    expect(bundledSkillsDir()).toBe(join(repoRoot, "skills"));
  });

  it.each(BUNDLED_SKILLS)("%s parses with valid ClawHub frontmatter", async (name) => {
    const skill = await resolveSkill(name);
    expect(skill.name).toBe(name);
    expect(skill.bundled).toBe(true);
    expect(skill.path).toBe(join(repoRoot, "skills", name, "SKILL.md"));
    expect(skill.dir).toBe(join(repoRoot, "skills", name));
    expect(skill.version).toMatch(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/);
    expect(skill.description.length).toBeGreaterThan(20);
    expect(skill.description.length).toBeLessThan(300);
    expect(skill.frontmatter.homepage).toBe("https://github.com/nemovideo/nemovideo-mcp");

    const openclaw = (skill.frontmatter.metadata as { openclaw?: Record<string, unknown> }).openclaw;
    expect(openclaw).toMatchObject({
      emoji: name === "ai-voiceover-for" ? "🎙️" : "🎬",
      primaryEnv: "NEMO_TOKEN",
      requires: { env: [], bins: ["node"] },
      install: [
        {
          id: "node",
          kind: "node",
          package: "nemovideo-mcp",
          bins: ["nemovideo-mcp"],
          label: "Install nemovideo-mcp (npm)",
        },
      ],
    });

    expect(skill.body).toMatch(/^# /);
    expect(skill.body).toContain(`--skill ${name}`);
    for (const tool of ["create_session", "upload_media", "send_message", "get_turn", "export_video"]) {
      expect(skill.body).toContain(tool);
    }
  });

  it("carries each skill's own example requests", async () => {
    const [voiceover, generator] = await listBundledSkills();
    expect(voiceover?.body).toContain(
      "add a natural AI voiceover in English for my product walkthrough video",
    );
    expect(generator?.body).toContain("generate a 60-second video from my script with voiceover and visuals");
    expect(generator?.body).toContain("turn this 200-word product description script into a 1080p MP4");
  });

  it("lists every bundled skill in order", async () => {
    const skills = await listBundledSkills();
    expect(skills.map((s) => s.name)).toEqual([...BUNDLED_SKILLS]);
  });

  it("defaults to ai-video-generator-ai when no skill is named", async () => {
    expect((await resolveSkill(undefined)).name).toBe("ai-video-generator-ai");
    expect((await resolveSkill("  ")).name).toBe("ai-video-generator-ai");
  });

  it("builds the attribution headers for both skills", async () => {
    const [voiceover, generator] = (await listBundledSkills()) as [SkillInfo, SkillInfo];
    expect(skillHeaders(voiceover)).toEqual({
      "X-Skill-Source": "ai-voiceover-for",
      "X-Skill-Version": voiceover.version,
      "X-Skill-Platform": "unknown",
    });
    expect(skillHeaders(generator)).toEqual({
      "X-Skill-Source": "ai-video-generator-ai",
      "X-Skill-Version": generator.version,
      "X-Skill-Platform": "unknown",
    });
    const sourced = await resolveSkill("ai-voiceover-for", { platform: "github" });
    expect(skillHeaders(sourced)["X-Skill-Platform"]).toBe("github");
  });
});

describe("resolving a skill by path", () => {
  const demo = join(fixtures, "plain/demo-skill");

  it("accepts the skill folder", async () => {
    const skill = await resolveSkill(demo);
    expect(skill).toMatchObject({
      name: "demo-skill",
      version: "2.3.4",
      description: "A skill used by the unit tests.",
      path: join(demo, "SKILL.md"),
      dir: demo,
      bundled: false,
      platform: "unknown",
    });
    expect(skill.body).toBe("# Demo skill\n\nBody text.\n");
  });

  it("accepts the SKILL.md itself", async () => {
    const skill = await resolveSkill(join(demo, "SKILL.md"));
    expect(skill.path).toBe(join(demo, "SKILL.md"));
    expect(skill.dir).toBe(demo);
  });

  it("accepts a relative path", async () => {
    const skill = await resolveSkill(relative(process.cwd(), demo) || ".");
    expect(skill.path).toBe(join(demo, "SKILL.md"));
  });

  it("marks a bundled skill reached by path as bundled", async () => {
    const skill = await resolveSkill(join(repoRoot, "skills/ai-voiceover-for"));
    expect(skill.bundled).toBe(true);
  });

  it("accepts a pre-release version and a missing description", async () => {
    const skill = await resolveSkill(join(fixtures, "prerelease"));
    expect(skill.version).toBe("1.1.0-beta.2");
    expect(skill.description).toBe("");
  });

  describe.skipIf(process.platform === "win32")("with ~", () => {
    const savedHome = process.env.HOME;
    afterEach(() => {
      process.env.HOME = savedHome;
    });

    it("expands ~ to the home folder", async () => {
      process.env.HOME = fixtures;
      const skill = await resolveSkill("~/plain/demo-skill");
      expect(skill.path).toBe(join(demo, "SKILL.md"));
    });
  });
});

describe("detectPlatform", () => {
  const md = (folder: string) => join(fixtures, folder, "SKILL.md");

  it("reports clawhub under a .clawhub folder", () => {
    expect(detectPlatform(md("clawhub-home/.clawhub/skills/demo-skill"))).toBe("clawhub");
  });

  it("reports clawhub under a .clawdhub folder", () => {
    expect(detectPlatform(md("clawdhub-home/.clawdhub/skills/demo-skill"))).toBe("clawhub");
  });

  it("reports clawhub when the skill folder holds .clawhub/origin.json", () => {
    expect(detectPlatform(md("clawhub-workdir/skills/demo-skill"))).toBe("clawhub");
  });

  it("reports cursor under a .cursor folder", () => {
    expect(detectPlatform(md("cursor-project/.cursor/skills/demo-skill"))).toBe("cursor");
  });

  it("reports unknown anywhere else", () => {
    expect(detectPlatform(md("plain/demo-skill"))).toBe("unknown");
  });

  it("lets the configured SKILL_SOURCE win, trimmed", () => {
    expect(detectPlatform(md("clawhub-home/.clawhub/skills/demo-skill"), " cursor ")).toBe("cursor");
    expect(detectPlatform(md("plain/demo-skill"), "my-agent")).toBe("my-agent");
  });

  it("ignores an empty SKILL_SOURCE", () => {
    expect(detectPlatform(md("cursor-project/.cursor/skills/demo-skill"), "  ")).toBe("cursor");
  });

  it("never reads process.env: only the configured value overrides the install folder", () => {
    const saved = process.env.SKILL_SOURCE;
    process.env.SKILL_SOURCE = "from-process";
    try {
      expect(detectPlatform(md("plain/demo-skill"))).toBe("unknown");
      expect(detectPlatform(md("plain/demo-skill"), "configured")).toBe("configured");
    } finally {
      if (saved === undefined) delete process.env.SKILL_SOURCE;
      else process.env.SKILL_SOURCE = saved;
    }
  });

  it("sets the platform of a resolved skill", async () => {
    const at = (folder: string) => resolveSkill(join(fixtures, folder));
    expect((await at("clawhub-home/.clawhub/skills/demo-skill")).platform).toBe("clawhub");
    expect((await at("clawhub-workdir/skills/demo-skill")).platform).toBe("clawhub");
    expect((await at("cursor-project/.cursor/skills/demo-skill")).platform).toBe("cursor");
    const overridden = await resolveSkill(join(fixtures, "cursor-project/.cursor/skills/demo-skill"), {
      platform: "clawhub",
    });
    expect(overridden.platform).toBe("clawhub");
  });

  describe.skipIf(process.platform === "win32")("through symlinks", () => {
    let tmp: string;
    beforeAll(async () => {
      tmp = await mkdtemp(join(tmpdir(), "nemovideo-skills-"));
      await mkdir(join(tmp, ".clawhub/skills"), { recursive: true });
      await symlink(join(fixtures, "plain/demo-skill"), join(tmp, ".clawhub/skills/linked"));
      await mkdir(join(tmp, "elsewhere"), { recursive: true });
      await symlink(
        join(fixtures, "cursor-project/.cursor/skills/demo-skill"),
        join(tmp, "elsewhere/linked"),
      );
    });
    afterAll(async () => {
      await rm(tmp, { recursive: true, force: true });
    });

    it("uses the real path of the SKILL.md", () => {
      expect(detectPlatform(join(tmp, "elsewhere/linked/SKILL.md"))).toBe("cursor");
    });

    it("also uses the path the skill was installed at", () => {
      expect(detectPlatform(join(tmp, ".clawhub/skills/linked/SKILL.md"))).toBe("clawhub");
    });
  });
});

describe("errors", () => {
  // Malformed files are written here rather than checked in, so no formatter can "fix" them.
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "nemovideo-skills-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  /** Writes `<tmp>/<folder>/SKILL.md` and returns the folder. */
  async function skillFolder(folder: string, text: string): Promise<string> {
    await mkdir(join(tmp, folder), { recursive: true });
    await writeFile(join(tmp, folder, "SKILL.md"), text);
    return join(tmp, folder);
  }

  it("names the bundled skills for an unknown bare name", async () => {
    const err = await skillError("no-such-skill");
    expect(err.name).toBe("SkillError");
    expect(err.message).toContain('"no-such-skill"');
    for (const name of BUNDLED_SKILLS) expect(err.message).toContain(name);
  });

  it("reports a path that does not exist", async () => {
    const missing = join(tmp, "does-not-exist");
    expect((await skillError(missing)).message).toContain(missing);
    const missingMd = join(tmp, "does-not-exist/SKILL.md");
    expect((await skillError(missingMd)).message).toContain(missingMd);
  });

  it("reports a folder without a SKILL.md", async () => {
    const empty = join(tmp, "empty-folder");
    await mkdir(empty, { recursive: true });
    const err = await skillError(empty);
    expect(err.message).toContain(empty);
    expect(err.message).toContain("No SKILL.md");
  });

  it.each([
    ["no-frontmatter", "# A skill\n\nname: x\nversion: 1.0.0\n", /no YAML frontmatter/],
    ["unclosed-frontmatter", "---\nname: x\nversion: 1.0.0\n\n# Body\n", /no YAML frontmatter/],
    [
      "bad-yaml",
      '---\nname: x\nversion: 1.0.0\nmetadata: {"openclaw": {"emoji": "x"\n---\n',
      /not valid YAML.*line 4/,
    ],
    ["duplicate-key", "---\nname: one\nname: two\nversion: 1.0.0\n---\n", /not valid YAML.*unique/i],
    ["empty-frontmatter", "---\n---\nBody only.\n", /frontmatter is empty/],
    ["list-frontmatter", "---\n- name\n- version\n---\n", /must be a YAML mapping/],
    ["missing-name", "---\nversion: 1.0.0\ndescription: No name.\n---\n", /name is required/],
    ["empty-name", '---\nname: "  "\nversion: 1.0.0\n---\n', /name must not be empty/],
    ["missing-version", "---\nname: x\n---\n", /version is required/],
    ["bad-version", "---\nname: x\nversion: v1.2\n---\n", /version must be semver/],
    ["numeric-version", "---\nname: x\nversion: 1.0\n---\n", /version must be a string such as "1.0.0"/],
    [
      "bad-description",
      "---\nname: x\nversion: 1.0.0\ndescription: [a, b]\n---\n",
      /description must be a string/,
    ],
    ["non-ascii-name", "---\nname: vidéo\nversion: 1.0.0\n---\n", /name must be printable ASCII/],
  ])("rejects %s", async (folder, text, pattern) => {
    const dir = await skillFolder(folder, text);
    const err = await skillError(dir);
    expect(err.message).toContain(join(dir, "SKILL.md"));
    expect(err.message).toMatch(pattern);
  });

  it("keeps the YAML parser's error as the cause", async () => {
    const err = await skillError(await skillFolder("cause", "---\nname: [x\n---\n"));
    expect(err.cause).toBeInstanceOf(Error);
  });

  it("accepts CRLF line endings and a byte-order mark", async () => {
    const dir = await skillFolder("crlf", "\uFEFF---\r\nname: crlf\r\nversion: 0.1.0\r\n---\r\nBody\r\n");
    const skill = await resolveSkill(dir);
    expect(skill).toMatchObject({ name: "crlf", version: "0.1.0", body: "Body\n" });
  });
});
