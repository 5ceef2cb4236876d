import { Readable } from "node:stream";
import busboy from "busboy";
import { describe, expect, it } from "vitest";
import { ACCEPTED_FORMATS } from "../../src/client/errors.js";
import {
  ACCEPTED_EXTENSIONS,
  contentTypeFor,
  escapeFileName,
  multipartLayout,
  parseUploadedFiles,
} from "../../src/client/upload.js";

interface Part {
  name: string;
  filename: string;
  mimeType: string;
  bytes: Buffer;
}

/** Parses a multipart body with busboy (the parser the sandbox uses). */
function parseMultipart(contentType: string, body: Buffer): Promise<Part[]> {
  return new Promise((resolve, reject) => {
    const parts: Part[] = [];
    const parser = busboy({ headers: { "content-type": contentType }, defParamCharset: "utf8" });
    parser.on("file", (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () =>
        parts.push({
          name,
          filename: info.filename ?? "",
          mimeType: info.mimeType,
          bytes: Buffer.concat(chunks),
        }),
      );
    });
    parser.on("error", reject);
    parser.on("close", () => resolve(parts));
    Readable.from([body]).pipe(parser);
  });
}

describe("multipartLayout", () => {
  const files = [
    { name: "clip.mp4", extension: "mp4", bytes: Buffer.from("first file\r\n--not-a-boundary\r\n") },
    { name: 'Üñí 😀 "quoted".JPG', extension: "jpg", bytes: Buffer.alloc(1000, 0xff) },
    { name: "line\r\nbreak.wav", extension: "wav", bytes: Buffer.from([0]) },
  ];

  it("announces the exact length of the body it frames", () => {
    const layout = multipartLayout(files.map((f) => ({ ...f, size: f.bytes.length })));
    const body = Buffer.concat([
      ...files.flatMap((f, i) => [layout.partHeaders[i]!, f.bytes]),
      layout.closing,
    ]);
    expect(body.length).toBe(layout.contentLength);
    expect(layout.contentType).toBe(`multipart/form-data; boundary=${layout.boundary}`);
  });

  it("produces parts named files that busboy reads back byte for byte", async () => {
    const layout = multipartLayout(files.map((f) => ({ ...f, size: f.bytes.length })));
    const body = Buffer.concat([
      ...files.flatMap((f, i) => [layout.partHeaders[i]!, f.bytes]),
      layout.closing,
    ]);
    const parts = await parseMultipart(layout.contentType, body);
    expect(parts.map((p) => p.name)).toEqual(["files", "files", "files"]);
    expect(parts.map((p) => p.filename)).toEqual([
      "clip.mp4",
      "Üñí 😀 %22quoted%22.JPG",
      "line%0D%0Abreak.wav",
    ]);
    expect(parts.map((p) => p.mimeType)).toEqual(["video/mp4", "image/jpeg", "audio/wav"]);
    parts.forEach((p, i) => {
      expect(p.bytes.equals(files[i]!.bytes)).toBe(true);
    });
  });

  it("uses a fresh random boundary each time", () => {
    const one = multipartLayout([{ name: "a.mp4", extension: "mp4", size: 1 }]);
    const two = multipartLayout([{ name: "a.mp4", extension: "mp4", size: 1 }]);
    expect(one.boundary).not.toBe(two.boundary);
    expect(one.boundary.length).toBeGreaterThan(30);
  });
});

describe("file names and types", () => {
  it("escapes quotes and line breaks like browsers do", () => {
    expect(escapeFileName('a "b"\r\n.mp4')).toBe("a %22b%22%0D%0A.mp4");
  });

  it("has a content type for every accepted extension", () => {
    expect(ACCEPTED_EXTENSIONS).toEqual(ACCEPTED_FORMATS);
    for (const ext of ACCEPTED_EXTENSIONS) expect(contentTypeFor(ext)).not.toBe("application/octet-stream");
    expect(contentTypeFor("MOV")).toBe("video/quicktime");
    expect(contentTypeFor("xyz")).toBe("application/octet-stream");
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
