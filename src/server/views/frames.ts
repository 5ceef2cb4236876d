import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Config } from "../../config.js";
import type { Logger } from "../../log.js";
import { contactSheet, findFfmpeg } from "../../media/frames.js";
import { onDomains, viewCsp } from "./apps.js";
import type { ExportView } from "../../jobs/views.js";

const CACHE_SIZE = 32;

/** Contact sheets of finished exports, made once per file with the configured or found ffmpeg. */
class ContactSheets {
  private ffmpeg: Promise<string | undefined> | undefined;
  private readonly sheets = new Map<string, Promise<Buffer | undefined>>();

  constructor(
    private readonly config: Pick<Config, "ffmpeg" | "searchPath">,
    private readonly logger: Logger,
  ) {}

  /** The JPEG sheet of `source` (a file path or an http(s) URL); undefined without ffmpeg or on failure. */
  async of(source: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    this.ffmpeg ??= findFfmpeg(this.config.ffmpeg, this.config.searchPath);
    const ffmpeg = await this.ffmpeg;
    if (ffmpeg === undefined) return undefined;
    let sheet = this.sheets.get(source);
    if (!sheet) {
      sheet = contactSheet(ffmpeg, source, { signal }).catch((error: unknown) => {
        this.sheets.delete(source);
        this.logger.debug("No contact sheet for the export", { error: String(error) });
        return undefined;
      });
      this.sheets.set(source, sheet);
      const oldest = this.sheets.keys().next().value;
      if (this.sheets.size > CACHE_SIZE && oldest !== undefined) this.sheets.delete(oldest);
    }
    return sheet;
  }
}

const byConfig = new WeakMap<Config, ContactSheets>();

/** The contact-sheet maker of one server configuration. */
function contactSheetsFor(config: Config, logger: Logger): ContactSheets {
  let sheets = byConfig.get(config);
  if (!sheets) {
    sheets = new ContactSheets(config, logger);
    byConfig.set(config, sheets);
  }
  return sheets;
}

/** Adds a JPEG contact sheet of a completed export as an image block; the result is unchanged otherwise. */
export async function withContactSheet(
  deps: { config: Config; logger: Logger },
  result: CallToolResult,
  view: ExportView,
  signal?: AbortSignal,
): Promise<CallToolResult> {
  if (view.status !== "completed" || result.isError) return result;
  // Without a local file, ffmpeg reads the link itself, but only from the origins the player may load.
  const remote = view.url && onDomains(view.url, viewCsp(deps.config).resourceDomains) ? view.url : undefined;
  const source = view.file ?? remote;
  if (source === undefined) return result;
  const sheet = await contactSheetsFor(deps.config, deps.logger).of(source, signal);
  if (!sheet) return result;
  return {
    ...result,
    content: [...result.content, { type: "image", data: sheet.toString("base64"), mimeType: "image/jpeg" }],
  };
}
