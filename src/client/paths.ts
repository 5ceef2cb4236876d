import { isAbsolute, relative, sep } from "node:path";

/** True when `child` is `parent` or inside it (both absolute, already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!isAbsolute(rel) && rel.split(sep)[0] !== "..");
}

/** "120/480 MB" for progress lines of every face; KB when the whole is under 1 MB (the demo's and the CLI's too). */
export function sizeOf(done: number, total: number): string {
  if (total >= 1024 * 1024) return `${mb(done)}/${mb(total)} MB`;
  return `${Math.round(done / 1024)}/${Math.max(1, Math.round(total / 1024))} KB`;
}

/** Bytes as MB with one decimal under 10 MB: 1572864 → "1.5". */
export function mb(bytes: number): string {
  const value = bytes / (1024 * 1024);
  return value >= 10 ? value.toFixed(0) : value.toFixed(1);
}
