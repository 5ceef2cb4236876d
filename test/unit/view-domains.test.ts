import { describe, expect, it } from "vitest";
import { onDomains, viewCsp } from "../../src/server/views/apps.js";

describe("viewCsp", () => {
  it("lists the API origin first, then the media origins, once each", () => {
    const csp = viewCsp({
      apiUrl: "https://mega-api-prod.nemovideo.ai/api",
      mediaOrigins: ["https://*.nemovideo.ai", "https://mega-api-prod.nemovideo.ai"],
    });
    expect(csp.resourceDomains).toEqual(["https://mega-api-prod.nemovideo.ai", "https://*.nemovideo.ai"]);
    expect(csp.connectDomains).toEqual(csp.resourceDomains);
  });
});

describe("onDomains", () => {
  const domains = ["http://127.0.0.1:8787", "https://*.nemovideo.com"];
  it("accepts an exact origin and subdomains of a wildcard", () => {
    expect(onDomains("http://127.0.0.1:8787/files/renders/r.mp4", domains)).toBe(true);
    expect(onDomains("https://cdn.nemovideo.com/r.mp4?sig=1", domains)).toBe(true);
    expect(onDomains("https://a.b.nemovideo.com/r.mp4", domains)).toBe(true);
  });
  it("refuses other ports, schemes, look-alike hosts and non-URLs", () => {
    expect(onDomains("http://127.0.0.1:9999/r.mp4", domains)).toBe(false);
    expect(onDomains("http://cdn.nemovideo.com/r.mp4", domains)).toBe(false);
    expect(onDomains("https://nemovideo.com.evil.test/r.mp4", domains)).toBe(false);
    expect(onDomains("https://evilnemovideo.com/r.mp4", domains)).toBe(false);
    expect(onDomains("file:///etc/passwd", domains)).toBe(false);
    expect(onDomains("not a url", domains)).toBe(false);
  });
});
