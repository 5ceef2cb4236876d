/** Where things are in the repository, for every test: the root, the built CLI, the fixtures. */
import { join, resolve } from "node:path";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "../..");
/** The built CLI (`npm run build` first). */
export const CLI = join(ROOT, "dist", "cli.js");
/** The repository's `fixtures/` folder. */
export const FIXTURES = join(ROOT, "fixtures");
/** A short real MP4 (fixtures/sample.mp4). */
export const SAMPLE = join(FIXTURES, "sample.mp4");
