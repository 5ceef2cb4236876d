import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import busboy from "busboy";
import { draftEnd, ensureTrack, TRACK_AUDIO, TRACK_VIDEO, trackEnd } from "./draft.js";
import { fail, ok, parseJson, type RequestContext, readBody, sendJson } from "./http.js";
import { fileTypeOf, isProbed, type Probe, probeImage, probeMp4 } from "./media.js";
import { randomId, type SandboxState, type SessionRecord, type UploadedFile } from "./state.js";

/** Bytes of each file kept for probing (duration, frame size); the rest only flows through the hash. */
const PROBE_BYTES = 1024 * 1024;
const MAX_JSON_BYTES = 1024 * 1024;

interface UploadDeps {
  state: SandboxState;
  session: SessionRecord;
  baseUrl: string;
  maxUploadBytes: number;
}

/** `POST /api/upload-video/nemo_agent/me/<sid>`: multipart `files` parts, or JSON `{"urls":[...]}`. */
export async function handleUpload(ctx: RequestContext, deps: UploadDeps): Promise<void> {
  const type = (ctx.req.headers["content-type"] ?? "").toLowerCase();
  if (type.startsWith("multipart/form-data")) return uploadMultipart(ctx, deps);
  if (type.startsWith("application/json")) return uploadUrls(ctx, deps);
  sendJson(ctx, 400, fail(400, "expected multipart/form-data or application/json"));
}

async function uploadUrls(ctx: RequestContext, deps: UploadDeps): Promise<void> {
  const body = await readBody(ctx.req, MAX_JSON_BYTES);
  if (!body.ok) {
    if (body.reason === "too_large") sendJson(ctx, 413, fail(413, "body too large"));
    return;
  }
  const parsed = parseJson(body.raw);
  if (!parsed.ok) {
    sendJson(ctx, 400, fail(400, "invalid JSON body"));
    return;
  }
  ctx.record.body = parsed.value;
  const urls =
    typeof parsed.value === "object" && parsed.value !== null
      ? (parsed.value as { urls?: unknown }).urls
      : [];
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === "string")) {
    sendJson(ctx, 400, fail(400, "urls must be a non-empty array of strings"));
    return;
  }
  const files: UploadedFile[] = [];
  for (const url of urls as string[]) {
    const filename = filenameFromUrl(url);
    const fileType = filename ? fileTypeOf(filename) : undefined;
    if (!filename || !fileType) {
      sendJson(ctx, 200, fail(4001));
      return;
    }
    const hash = createHash("sha256").update(url).digest("hex");
    files.push(describe(filename, fileType, {}, hash, undefined, deps.baseUrl));
  }
  applyUploads(deps.state, deps.session, files);
  sendJson(ctx, 200, ok({ files, session_state_applied: true }));
}

/** The last path segment of a URL, decoded; undefined for a URL that is not one. */
function filenameFromUrl(url: string): string | undefined {
  try {
    const segment = new URL(url).pathname.split("/").pop() ?? "";
    const name = decodeURIComponent(segment).trim();
    return name || undefined;
  } catch {
    return undefined;
  }
}

function uploadMultipart(ctx: RequestContext, deps: UploadDeps): Promise<void> {
  const { req } = ctx;
  return new Promise<void>((resolve) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, defParamCharset: "utf8" });
    } catch {
      sendJson(ctx, 400, fail(400, "malformed multipart request"));
      resolve();
      return;
    }
    let finished = false;
    const pending: Promise<UploadedFile>[] = [];

    // answers at once and stops parsing; the rest of the body is discarded (or the socket dropped)
    const reject = (status: number, body: unknown) => {
      if (finished) return;
      finished = true;
      req.unpipe(parser);
      sendJson(ctx, status, body);
      discardRest(req, Math.max(64 * 1024 * 1024, deps.maxUploadBytes));
      resolve();
    };

    parser.on("file", (name, stream, info) => {
      stream.on("error", () => {});
      if (finished || name !== "files") {
        stream.resume();
        return;
      }
      const filename = (info.filename ?? "").trim();
      const fileType = fileTypeOf(filename);
      if (!fileType) {
        stream.resume();
        reject(200, fail(4001));
        return;
      }
      const hash = createHash("sha256");
      const probe = isProbed(filename);
      const head: Buffer[] = [];
      let headBytes = 0;
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        if (finished) return;
        size += chunk.length;
        if (size > deps.maxUploadBytes) {
          reject(200, fail(4002, `file too large (limit ${deps.maxUploadBytes} bytes)`));
          return;
        }
        hash.update(chunk);
        if (probe && headBytes < PROBE_BYTES) {
          const part = chunk.subarray(0, PROBE_BYTES - headBytes);
          head.push(part);
          headBytes += part.length;
        }
      });
      pending.push(
        new Promise<UploadedFile>((done) => {
          stream.on("end", () => {
            const bytes = Buffer.concat(head);
            const found: Probe = !probe ? {} : fileType === "image" ? probeImage(bytes) : probeMp4(bytes);
            done(describe(filename, fileType, found, hash.digest("hex"), size, deps.baseUrl));
          });
        }),
      );
    });
    parser.on("field", () => {});
    parser.on("error", () => reject(400, fail(400, "malformed multipart body")));
    parser.on("close", () => {
      if (finished) return;
      void Promise.all(pending).then((files) => {
        if (finished) return;
        finished = true;
        if (files.length === 0) {
          sendJson(ctx, 400, fail(400, "no parts named files"));
        } else {
          applyUploads(deps.state, deps.session, files);
          sendJson(ctx, 200, ok({ files, session_state_applied: true }));
        }
        resolve();
      });
    });
    // a client that goes away mid-upload leaves nothing behind
    req.on("close", () => {
      if (!req.complete && !finished) {
        finished = true;
        resolve();
      }
    });
    req.pipe(parser);
  });
}

/** Reads and drops what is left of a request body, dropping the connection past `limit` bytes. */
function discardRest(req: IncomingMessage, limit: number): void {
  let dropped = 0;
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > limit) req.socket.destroy();
  });
  req.resume();
}

function describe(
  filename: string,
  fileType: UploadedFile["file_type"],
  probe: Probe,
  hash: string,
  size: number | undefined,
  baseUrl: string,
): UploadedFile {
  const file: UploadedFile = {
    filename,
    file_type: fileType,
    cdn_url: `${baseUrl}/files/uploads/up_${randomId(6)}/${encodeURIComponent(filename)}`,
    hash,
  };
  if (fileType === "video") {
    file.duration = probe.duration ?? 30;
    file.width = probe.width ?? 1920;
    file.height = probe.height ?? 1080;
    file.fps = probe.fps ?? 30;
  } else if (fileType === "image") {
    file.duration = 5;
    file.width = probe.width ?? 1920;
    file.height = probe.height ?? 1080;
  } else if (fileType === "audio") {
    file.duration = probe.duration ?? 30;
  }
  if (size !== undefined) file.size = size;
  return file;
}

/** Puts uploaded media on the timeline, like the real backend's `session_state_applied`. */
function applyUploads(state: SandboxState, session: SessionRecord, files: UploadedFile[]): void {
  const draft = state.editableDraft(session);
  for (const file of files) {
    if (file.file_type === "document") continue;
    const audio = file.file_type === "audio";
    const track = audio ? ensureTrack(draft, TRACK_AUDIO, "Audio") : ensureTrack(draft, TRACK_VIDEO, "Video");
    const m: Record<string, unknown> = { name: file.filename, src: file.cdn_url };
    if (audio) m.volume = 1;
    track.sg.push({
      id: `seg_${session.segmentSeq}`,
      st: trackEnd(track),
      d: Math.round((file.duration ?? 30) * 1000),
      m,
    });
    session.segmentSeq += 1;
    if (file.file_type === "video") {
      session.videoInfos.push({
        filename: file.filename,
        url: file.cdn_url,
        duration: file.duration,
        width: file.width,
        height: file.height,
        fps: file.fps,
      });
    }
  }
  draft.d = Math.max(draft.d, draftEnd(draft));
  session.draft = draft;
  session.uploads.push(...files);
}
