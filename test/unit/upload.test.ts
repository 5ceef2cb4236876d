import { describe, expect, it } from "vitest";
import { httpUrl, parseUploadedFiles } from "../../src/client/upload.js";

describe("httpUrl", () => {
  it("accepts http and https URLs only", () => {
    expect(httpUrl("https://example.com/a.mp4")?.hostname).toBe("example.com");
    expect(httpUrl("HTTP://EXAMPLE.com/x")?.protocol).toBe("http:");
    for (const text of [
      "ftp://example.com/a.mp4",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "clip.mp4",
      "",
    ]) {
      expect(httpUrl(text)).toBeUndefined();
    }
  });
});

describe("parseUploadedFiles", () => {
  it("maps fields, converts seconds to ms and skips entries it cannot read", () => {
    const files = parseUploadedFiles([
      {
        filename: "a.mp4",
        file_type: "video",
        cdn_url: "https://cdn.example/a.mp4",
        duration: 6.04,
        width: "640",
        height: 360,
        fps: 25,
        hash: "abc",
        extra: true,
      },
      { filename: "song.mp3" },
      { filename: "pic.webp", file_type: "image/webp", duration: "n/a" },
      { filename: "script.docx", file_type: "document" },
      { filename: "weird.bin", file_type: "blob" },
      null,
      "garbage",
      { file_type: "video" },
    ]);
    expect(files).toEqual([
      {
        name: "a.mp4",
        type: "video",
        url: "https://cdn.example/a.mp4",
        durationMs: 6040,
        width: 640,
        height: 360,
        fps: 25,
        hash: "abc",
      },
      { name: "song.mp3", type: "audio" },
      { name: "pic.webp", type: "image" },
      { name: "script.docx", type: "document" },
      { name: "weird.bin", type: "other" },
    ]);
  });
});
