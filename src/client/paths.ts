import { isAbsolute, relative, sep } from "node:path";

/** True when `child` is `parent` or inside it (both absolute, already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!isAbsolute(rel) && rel.split(sep)[0] !== "..");
}

/** Bytes as MB with one decimal under 10 MB: 1572864 → "1.5". */
export function mb(bytes: number): string {
  const value = bytes / (1024 * 1024);
  return value >= 10 ? value.toFixed(0) : value.toFixed(1);
}
