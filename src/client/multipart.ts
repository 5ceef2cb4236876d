/** multipart/form-data framing for uploads: the layout with its exact length, the streamed body and its progress. */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { contentTypeFor } from "./formats.js";
import { type CheckedFile, changedFileError, type LocalFileCheck, openChecked } from "./local-files.js";

/** Upload progress: file bytes handed to the connection so far, over all files of the call. */
export interface UploadProgress {
  sentBytes: number;
  totalBytes: number;
  /** Base name of the file being sent. */
  file: string;
  fileIndex: number;
  fileCount: number;
}

const CHUNK_BYTES = 1024 * 1024;
const PROGRESS_STEP_BYTES = 64 * 1024;
const CRLF = "\r\n";

/** Quotes a file name for a multipart header the way browsers do (HTML spec form-data encoding). */
export function escapeFileName(name: string): string {
  return name.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** The framing of a multipart/form-data body: one header per file, then the closing boundary. */
interface MultipartLayout {
  boundary: string;
  contentType: string;
  partHeaders: Buffer[];
  closing: Buffer;
  /** Exact body length: framing plus file sizes. */
  contentLength: number;
}

/** Computes the multipart framing for files named `files`, so the body length is known up front. */
export function multipartLayout(
  files: ReadonlyArray<Pick<LocalFileCheck, "name" | "size" | "extension">>,
  boundary = `----NemoVideoBoundary${randomBytes(16).toString("hex")}`,
): MultipartLayout {
  const partHeaders = files.map((file, i) =>
    Buffer.from(
      `${i === 0 ? "" : CRLF}--${boundary}${CRLF}` +
        `Content-Disposition: form-data; name="files"; filename="${escapeFileName(file.name)}"${CRLF}` +
        `Content-Type: ${contentTypeFor(file.extension)}${CRLF}${CRLF}`,
      "utf8",
    ),
  );
  const closing = Buffer.from(`${CRLF}--${boundary}--${CRLF}`, "utf8");
  const contentLength =
    partHeaders.reduce((sum, header) => sum + header.length, 0) +
    files.reduce((sum, file) => sum + file.size, 0) +
    closing.length;
  return {
    boundary,
    contentType: `multipart/form-data; boundary=${boundary}`,
    partHeaders,
    closing,
    contentLength,
  };
}

/** Tracks progress over every attempt, reporting only growth so a retried body never goes backwards. */
export class ProgressMeter {
  private reported = -1;
  private lastFile = "";

  constructor(
    readonly totalBytes: number,
    readonly fileCount: number,
    private readonly onProgress: ((progress: UploadProgress) => void) | undefined,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Reports `sentBytes` when it grew by a step since the last report, or at once when `force`. */
  update(sentBytes: number, file: string, fileIndex: number, force: boolean): void {
    if (!this.onProgress || sentBytes <= this.reported) return;
    if (!force && sentBytes - this.reported < PROGRESS_STEP_BYTES) return;
    this.reported = sentBytes;
    this.lastFile = file;
    try {
      this.onProgress({ sentBytes, totalBytes: this.totalBytes, file, fileIndex, fileCount: this.fileCount });
    } catch (err) {
      this.onError(err);
    }
  }

  /** Makes sure the last report says everything was sent. */
  finish(): void {
    this.update(this.totalBytes, this.lastFile, this.fileCount - 1, true);
  }
}

/** A fresh multipart body stream: part headers and file bytes, read with backpressure, never buffered whole. */
export function multipartBody(files: CheckedFile[], layout: MultipartLayout, meter: ProgressMeter): Readable {
  async function* parts(): AsyncGenerator<Buffer> {
    let sent = 0;
    for (const [index, file] of files.entries()) {
      yield layout.partHeaders[index] as Buffer;
      meter.update(sent, file.name, index, index === 0);
      let fileSent = 0;
      const handle = await openChecked(file);
      // the stream owns the handle and closes it when it ends or is destroyed
      const stream = createReadStream("", {
        fd: handle,
        start: 0,
        end: file.size - 1,
        highWaterMark: CHUNK_BYTES,
      });
      try {
        for await (const chunk of stream) {
          const buf = chunk as Buffer;
          fileSent += buf.length;
          sent += buf.length;
          yield buf;
          meter.update(sent, file.name, index, false);
        }
      } finally {
        stream.destroy();
      }
      if (fileSent !== file.size) throw changedFileError(file);
      meter.update(sent, file.name, index, true);
    }
    yield layout.closing;
  }
  return Readable.from(parts(), { objectMode: false, highWaterMark: CHUNK_BYTES });
}
