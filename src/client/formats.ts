/** The media kinds NemoVideo accepts, by file extension (the contract's list plus the generator's scripts). */
export const MEDIA_TYPES = {
  mp4: "video",
  mov: "video",
  avi: "video",
  webm: "video",
  mkv: "video",
  jpg: "image",
  jpeg: "image",
  png: "image",
  gif: "image",
  webp: "image",
  mp3: "audio",
  wav: "audio",
  m4a: "audio",
  aac: "audio",
  txt: "document",
  docx: "document",
} as const;

export type MediaType = (typeof MEDIA_TYPES)[keyof typeof MEDIA_TYPES];

/** Accepted file extensions, lower case, without the dot. */
export const ACCEPTED_FORMATS = Object.keys(MEDIA_TYPES) as Array<keyof typeof MEDIA_TYPES>;

/** The backend's upload limit. */
export const MAX_UPLOAD_BYTES = 500 * 1024 * 1024;

/** The media kind of a file name by its extension, or undefined when NemoVideo refuses it (4001). */
export function mediaTypeOf(fileName: string): MediaType | undefined {
  const dot = fileName.lastIndexOf(".");
  if (dot < 0) return undefined;
  const ext = fileName.slice(dot + 1).toLowerCase();
  return Object.hasOwn(MEDIA_TYPES, ext) ? MEDIA_TYPES[ext as keyof typeof MEDIA_TYPES] : undefined;
}
