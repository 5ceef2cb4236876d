import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { bearerToken, isLoopbackHost, ownerOf } from "../../src/http/auth.js";

const request = (authorization?: string) =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

describe("bearerToken", () => {
  it("reads the token of a bearer header, in any case of the scheme", () => {
    expect(bearerToken(request("Bearer nmv_usr_abc"))).toBe("nmv_usr_abc");
    expect(bearerToken(request("bearer  tok-123 "))).toBe("tok-123");
  });
  it("refuses missing, empty, other-scheme and multi-word headers", () => {
    expect(bearerToken(request())).toBeUndefined();
    expect(bearerToken(request("Bearer "))).toBeUndefined();
    expect(bearerToken(request("Basic dXNlcjpwYXNz"))).toBeUndefined();
    expect(bearerToken(request("Bearer a b"))).toBeUndefined();
  });
});

describe("ownerOf", () => {
  it("names one token with one owner for one secret, and says nothing of the token", () => {
    const owner = ownerOf("nmv_usr_secret_token", "k1");
    expect(owner).toMatch(/^[0-9a-f]{32}$/);
    expect(ownerOf("nmv_usr_secret_token", "k1")).toBe(owner);
    expect(ownerOf("nmv_usr_secret_token", "k2")).not.toBe(owner);
    expect(ownerOf("nmv_usr_other_token", "k1")).not.toBe(owner);
    expect(owner).not.toContain("secret");
  });
});

describe("isLoopbackHost", () => {
  it.each(["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "app.localhost"])(
    "%s is loopback",
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );
  it.each(["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example.com", "128.0.0.1", "localhost.example.com"])(
    "%s is not",
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});
