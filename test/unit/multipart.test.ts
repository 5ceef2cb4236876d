import { Readable } from "node:stream";
import busboy from "busboy";
import { describe, expect, it } from "vitest";
import {
  escapeFileName,
  multipartLayout,
  ProgressMeter,
  type UploadProgress,
} from "../../src/client/multipart.js";

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

describe("escapeFileName", () => {
  it("escapes quotes and line breaks like browsers do", () => {
    expect(escapeFileName('a "b"\r\n.mp4')).toBe("a %22b%22%0D%0A.mp4");
    expect(escapeFileName("plain ünïcode.mp4")).toBe("plain ünïcode.mp4");
  });
});

describe("ProgressMeter", () => {
  it("reports in 64 KiB steps, only growth, forced points at once, and the end", () => {
    const seen: UploadProgress[] = [];
    const meter = new ProgressMeter(
      1_000_000,
      2,
      (p) => seen.push(p),
      () => {},
    );
    meter.update(0, "a.mp4", 0, true);
    meter.update(10_000, "a.mp4", 0, false); // under a step
    meter.update(70_000, "a.mp4", 0, false);
    meter.update(20_000, "a.mp4", 0, true); // a retried body starts over: never backwards
    meter.update(80_000, "a.mp4", 0, true);
    meter.update(500_000, "b.mp4", 1, false);
    meter.finish();
    expect(seen.map((p) => [p.sentBytes, p.file, p.fileIndex])).toEqual([
      [0, "a.mp4", 0],
      [70_000, "a.mp4", 0],
      [80_000, "a.mp4", 0],
      [500_000, "b.mp4", 1],
      [1_000_000, "b.mp4", 1],
    ]);
    expect(seen.every((p) => p.totalBytes === 1_000_000 && p.fileCount === 2)).toBe(true);
  });

  it("hands a throwing callback's error to onError and keeps going", () => {
    const errors: unknown[] = [];
    let calls = 0;
    const meter = new ProgressMeter(
      10,
      1,
      () => {
        calls += 1;
        throw new Error("boom");
      },
      (err) => errors.push(err),
    );
    meter.update(1, "a.mp4", 0, true);
    meter.finish();
    expect(calls).toBe(2);
    expect(errors.map(String)).toEqual(["Error: boom", "Error: boom"]);
  });
});
