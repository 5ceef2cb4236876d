#!/usr/bin/env node
// Adds lockfile entries for platform-specific optional packages that the registry mirror on our
// machines does not serve (e.g. @rollup/rollup-darwin-arm64). Without them `npm ci` refuses the
// lockfile as out of sync. The entries carry os/cpu/libc, so npm skips them on other platforms, as
// it does with a lockfile written against the full registry. Run after `npm install` changes the lock.
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const packages = lock.packages;

const OS = [
  "android",
  "darwin",
  "freebsd",
  "openbsd",
  "netbsd",
  "sunos",
  "aix",
  "linux",
  "win32",
  "openharmony",
];
const CPU = ["arm64", "x64", "ia32", "arm", "loong64", "ppc64", "riscv64", "s390x", "mips64el"];

function platformOf(name) {
  const parts = name.split("/").pop().split("-");
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  const libc = parts.some((p) => p.startsWith("musl")) ? "musl" : parts.includes("gnu") ? "glibc" : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] || packages[`${path}/${key}`]) continue;
    const { os, cpu, libc } = platformOf(name);
    if (!os || !/^\d+\.\d+\.\d+/.test(spec)) continue; // not a platform binary pinned to a version
    // Keys in npm's own order (version first, the rest alphabetical), so `npm install` keeps them as they are.
    const entry = { version: spec.replace(/^[=^~]/, "") };
    if (cpu) entry.cpu = [cpu];
    if (meta.dev) entry.dev = true;
    if (libc) entry.libc = [libc];
    entry.optional = true;
    entry.os = [os];
    packages[key] = entry;
    added++;
  }
}
// Keep the usual order (npm sorts package paths).
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b, "en"))),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
process.stderr.write(`complete-lockfile: added ${added} platform entries\n`);
