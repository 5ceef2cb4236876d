import type { Vocabulary } from "../client/actions.js";

/** The MCP face's words for every next action: the tool that does it. */
export const TOOL_WORDS: Vocabulary = {
  check_state: "get_state",
  new_session: "create_session",
  send: "send_message",
  upload: "upload_media",
  export: "export_video",
  resume_export: "get_export",
  stop_export: "cancel_export",
  resume_turn: "get_turn",
  stop_turn: "cancel_turn",
  credits: "get_credits",
  choose_folder: "output_dir",
};
