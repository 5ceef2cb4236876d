/**
 * The file formats NemoVideo accepts (the contract's list plus the generator's scripts): by extension, the media
 * kind the backend files it under and the Content-Type an upload sends. The one table of formats.
 */
const FORMATS = {
  mp4: { kind: "video", mime: "video/mp4" },
  mov: { kind: "video", mime: "video/quicktime" },
  avi: { kind: "video", mime: "video/x-msvideo" },
  webm: { kind: "video", mime: "video/webm" },
  mkv: { kind: "video", mime: "video/x-matroska" },
  jpg: { kind: "image", mime: "image/jpeg" },
  jpeg: { kind: "image", mime: "image/jpeg" },
  png: { kind: "image", mime: "image/png" },
  gif: { kind: "image", mime: "image/gif" },
  webp: { kind: "image", mime: "image/webp" },
  mp3: { kind: "audio", mime: "audio/mpeg" },
  wav: { kind: "audio", mime: "audio/wav" },
  m4a: { kind: "audio", mime: "audio/mp4" },
  aac: { kind: "audio", mime: "audio/aac" },
  txt: { kind: "document", mime: "text/plain" },
  docx: {
    kind: "document",
    mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  },
} as const;

type Extension = keyof typeof FORMATS;

/** The media kind NemoVideo files an accepted file under. */
export type MediaType = (typeof FORMATS)[Extension]["kind"];

/** Accepted file extensions, lower case, without the dot. */
export const ACCEPTED_FORMATS = Object.keys(FORMATS) as Extension[];

/** The backend's upload limit. */
export const MAX_UPLOAD_BYTES = 500 * 1024 * 1024;

function formatOf(extension: string): (typeof FORMATS)[Extension] | undefined {
  const ext = extension.toLowerCase();
  return Object.hasOwn(FORMATS, ext) ? FORMATS[ext as Extension] : undefined;
}

/** True when NemoVideo accepts files with this extension (any case, without the dot). */
export function isAcceptedExtension(extension: string): boolean {
  return formatOf(extension) !== undefined;
}

/** The media kind of a file name by its extension, or undefined when NemoVideo refuses it (4001). */
export function mediaTypeOf(fileName: string): MediaType | undefined {
  const dot = fileName.lastIndexOf(".");
  return dot < 0 ? undefined : formatOf(fileName.slice(dot + 1))?.kind;
}

/** The Content-Type sent for a file with this extension; octet-stream for one outside the table. */
export function contentTypeFor(extension: string): string {
  return formatOf(extension)?.mime ?? "application/octet-stream";
}
