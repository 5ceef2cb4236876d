import { describe, expect, it } from "vitest";
import {
  isPrivateAddress,
  isPrivateHost,
  PrivateAddressError,
  publicLookupWith,
} from "../../src/client/ssrf.js";

describe("private addresses", () => {
  it("loopback, private, link-local, metadata, CGNAT and mapped forms are private; public ones are not", () => {
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
    ]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "172.32.0.1"]) {
      expect(isPrivateAddress(ip), ip).toBe(false);
    }
    expect(isPrivateHost("localhost")).toBe(true);
    expect(isPrivateHost("[::1]")).toBe(true);
    expect(isPrivateHost("cdn.nemovideo.ai")).toBe(false);
  });

  it("the connect lookup refuses a name that resolves to a private address (the address connected to)", async () => {
    const table: Record<string, string> = {
      "cdn.example": "203.0.113.5",
      "rebind.example": "169.254.169.254",
    };
    const lookup = publicLookupWith((host, _options, callback) =>
      callback(null, [{ address: table[host] ?? "8.8.8.8", family: 4 }]),
    );
    const run = (host: string, all: boolean) =>
      new Promise<{ err: unknown; address: unknown }>((resolve) =>
        lookup(host, { all }, (err, address) => resolve({ err, address })),
      );
    const ok = await run("cdn.example", false);
    expect(ok.err).toBeNull();
    expect(ok.address).toBe("203.0.113.5");
    const okAll = await run("cdn.example", true);
    expect(okAll.address).toEqual([{ address: "203.0.113.5", family: 4 }]);
    const bad = await run("rebind.example", true);
    expect(bad.err).toBeInstanceOf(PrivateAddressError);
    expect(String((bad.err as Error).message)).toContain("169.254.169.254");
  });
});
