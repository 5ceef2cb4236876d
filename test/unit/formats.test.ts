import { describe, expect, it } from "vitest";
import {
  ACCEPTED_FORMATS,
  contentTypeFor,
  isAcceptedExtension,
  mediaTypeOf,
} from "../../src/client/formats.js";

describe("the formats table", () => {
  it("lists the contract's formats plus the generator's scripts", () => {
    expect([...ACCEPTED_FORMATS].sort()).toEqual(
      [
        "aac",
        "avi",
        "docx",
        "gif",
        "jpeg",
        "jpg",
        "m4a",
        "mkv",
        "mov",
        "mp3",
        "mp4",
        "png",
        "txt",
        "wav",
        "webm",
        "webp",
      ].sort(),
    );
  });

  it("gives every accepted extension a kind and a MIME type of that kind", () => {
    for (const ext of ACCEPTED_FORMATS) {
      const kind = mediaTypeOf(`file.${ext}`);
      const mime = contentTypeFor(ext);
      expect(kind).toBeDefined();
      expect(mime).not.toBe("application/octet-stream");
      if (kind === "video" || kind === "image" || kind === "audio")
        expect(mime.startsWith(`${kind}/`)).toBe(true);
    }
  });

  it("reads extensions in any case and refuses the rest", () => {
    expect(contentTypeFor("MOV")).toBe("video/quicktime");
    expect(contentTypeFor("xyz")).toBe("application/octet-stream");
    expect(mediaTypeOf("Holiday.JPEG")).toBe("image");
    expect(mediaTypeOf("song.tar.mp3")).toBe("audio");
    expect(mediaTypeOf("no-extension")).toBeUndefined();
    expect(mediaTypeOf("notes.pdf")).toBeUndefined();
    expect(isAcceptedExtension("Docx")).toBe(true);
    // names of Object.prototype are not formats
    for (const ext of ["constructor", "toString", "__proto__", ""])
      expect(isAcceptedExtension(ext)).toBe(false);
  });
});
