import { type MediaType, mediaTypeOf } from "../client/formats.js";
type FileType = MediaType;

/** The kind of an accepted file by its extension, or undefined when the backend refuses it (4001). */
export function fileTypeOf(filename: string): FileType | undefined {
  return mediaTypeOf(filename);
}

/** True for files whose head the sandbox probes for duration and size. */
export function isProbed(filename: string): boolean {
  const type = fileTypeOf(filename);
  return type === "image" || /\.(mp4|mov|m4a)$/i.test(filename);
}

/** What can be read from the first bytes of a file. */
export interface Probe {
  duration?: number;
  width?: number;
  height?: number;
  fps?: number;
}

/** Reads duration, frame size and frame rate from an ISO-BMFF head (`moov` within the bytes given). */
export function probeMp4(head: Buffer): Probe {
  const probe: Probe = {};
  const moov = children(head, 0, head.length).find((b) => b.type === "moov");
  if (!moov) return probe;
  for (const box of children(head, moov.body, moov.end)) {
    if (box.type === "mvhd") {
      const v = head[box.body];
      const at = box.body + 4 + (v === 1 ? 16 : 8);
      if (at + (v === 1 ? 12 : 8) <= box.end) {
        const timescale = head.readUInt32BE(at);
        const duration = v === 1 ? Number(head.readBigUInt64BE(at + 4)) : head.readUInt32BE(at + 4);
        if (timescale > 0) probe.duration = Math.round((duration / timescale) * 1000) / 1000;
      }
    } else if (box.type === "trak") {
      const video = probeVideoTrack(head, box.body, box.end);
      if (video && probe.width === undefined) Object.assign(probe, video);
    }
  }
  return probe;
}

interface Box {
  type: string;
  body: number;
  end: number;
}

/** The boxes between `start` and `end`, stopping at the first one that runs past the buffer. */
function children(buf: Buffer, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString("latin1", at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) break;
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) {
      // a box cut off by the end of the head still yields its beginning
      boxes.push({ type, body: at + header, end });
      break;
    }
    boxes.push({ type, body: at + header, end: at + size });
    at += size;
  }
  return boxes;
}

function find(buf: Buffer, box: Box | undefined, type: string): Box | undefined {
  return box ? children(buf, box.body, box.end).find((b) => b.type === type) : undefined;
}

function probeVideoTrack(buf: Buffer, start: number, end: number): Probe | undefined {
  const trak: Box = { type: "trak", body: start, end };
  const mdia = find(buf, trak, "mdia");
  const hdlr = find(buf, mdia, "hdlr");
  if (
    !hdlr ||
    hdlr.body + 12 > hdlr.end ||
    buf.toString("latin1", hdlr.body + 8, hdlr.body + 12) !== "vide"
  ) {
    return undefined;
  }
  const probe: Probe = {};
  const tkhd = find(buf, trak, "tkhd");
  if (tkhd) {
    const at = tkhd.body + (buf[tkhd.body] === 1 ? 88 : 76);
    if (at + 8 <= tkhd.end) {
      probe.width = Math.round(buf.readUInt32BE(at) / 65536);
      probe.height = Math.round(buf.readUInt32BE(at + 4) / 65536);
    }
  }
  const mdhd = find(buf, mdia, "mdhd");
  const stts = find(buf, find(buf, find(buf, mdia, "minf"), "stbl"), "stts");
  if (mdhd && stts && stts.body + 16 <= stts.end) {
    const tsAt = mdhd.body + (buf[mdhd.body] === 1 ? 20 : 12);
    const timescale = tsAt + 4 <= mdhd.end ? buf.readUInt32BE(tsAt) : 0;
    const delta = buf.readUInt32BE(stts.body + 12);
    if (timescale > 0 && delta > 0) probe.fps = Math.round((timescale / delta) * 100) / 100;
  }
  return probe;
}

/** Reads the pixel size of a PNG, GIF or JPEG from its first bytes. */
export function probeImage(head: Buffer): Probe {
  if (head.length >= 24 && head.readUInt32BE(0) === 0x89504e47) {
    return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
  }
  if (head.length >= 10 && head.toString("latin1", 0, 3) === "GIF") {
    return { width: head.readUInt16LE(6), height: head.readUInt16LE(8) };
  }
  if (head.length >= 4 && head[0] === 0xff && head[1] === 0xd8) {
    let at = 2;
    while (at + 9 < head.length && head[at] === 0xff) {
      const marker = head[at + 1] ?? 0;
      const length = head.readUInt16BE(at + 2);
      // SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc) carry the frame size
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: head.readUInt16BE(at + 5), width: head.readUInt16BE(at + 7) };
      }
      at += 2 + length;
    }
  }
  return {};
}
